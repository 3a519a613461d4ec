import Foundation
import GhostIR

/// Writes .gwt files (docs/gwt-format.md): deterministic, atomic, in one pass over the weights,
/// which are streamed from their storage (never gathered into one copy of the model), and the
/// graph section streamed from the graph (never built as records or as one text).
public enum GWTWriter {
    public static func write(_ graph: Graph, metadata: GWTMetadata, to path: String) throws(GWTFormatError) {
        let layout = DataSectionLayout(graph)
        // The data section's crc32 is computed on another core while the JSON and the file are
        // written; reading each tensor's bytes there also computes the deferred weights of the
        // passes before the writer below needs them (a weight is computed once, by whichever
        // side reads it first). The header and section table, which hold the checksums, are
        // written over their placeholder last.
        let dataChecksum = BackgroundWork {
            var checksum = StreamingCRC32()
            var position = 0
            for (tensor, offset) in zip(layout.tensors, layout.offsets) {
                checksum.update(zeros: offset - position)
                checksum.update(tensor.storage.bytes)
                position = offset + tensor.byteCount
            }
            return checksum.value
        }
        defer { _ = try? dataChecksum.value() }
        let metadataJSON = metadata.json()

        // Layout: header, table, then the sections, each at a multiple of 64. The graph section
        // is streamed, so its length (and the data section's offset) is known once it is written.
        let tableOffset = GWTLayout.headerSize
        let metadataOffset = GWTLayout.aligned(tableOffset + 3 * GWTLayout.sectionEntrySize)
        let graphOffset = GWTLayout.aligned(metadataOffset + metadataJSON.count)
        let dataLength = layout.length
        // Sections are appended through buffers that a queue writes to the file while the
        // JSON is made; small tensors are gathered into them, large ones written in place.
        do {
            let file = try PendingFile(destination: path)
            let output = QueuedFileWriter(file: file)
            output.append(zeros: metadataOffset)
            metadataJSON.withUnsafeBytes { output.append($0) }
            output.append(zeros: graphOffset - output.position)
            var graphCRC = StreamingCRC32()
            GraphSectionWriter(graph: graph, layout: layout).write { (piece: UnsafeRawBufferPointer) in
                graphCRC.update(piece)
                output.append(piece)
            }
            let graphLength = output.position - graphOffset
            let dataOffset = GWTLayout.aligned(output.position)
            let fileLength = dataOffset + dataLength
            output.append(zeros: dataOffset - output.position)
            for (tensor, offset) in zip(layout.tensors, layout.offsets) {
                output.append(zeros: dataOffset + offset - output.position)
                // The graph, which holds every tensor, outlives the writes (`finish` waits).
                output.append(stable: tensor.storage.bytes)
            }
            try output.finish()
            let dataCRC = (try? dataChecksum.value()) ?? 0

            var table = LittleEndianWriter()
            for (kind, offset, length, crc) in [
                (GWTLayout.Kind.metadata, metadataOffset, metadataJSON.count, GWTLayout.crc32(metadataJSON)),
                (.graph, graphOffset, graphLength, graphCRC.value),
                (.tensorData, dataOffset, dataLength, dataCRC),
            ] {
                table.append(kind.rawValue)
                table.append(UInt32(0))
                table.append(UInt64(offset))
                table.append(UInt64(length))
                table.append(crc)
                table.append(UInt32(0))
            }
            var header = LittleEndianWriter()
            header.append(GWTLayout.magic)
            header.append(GWTLayout.majorVersion)
            header.append(GWTLayout.minorVersion)
            header.append(UInt32(3))
            header.append(UInt64(tableOffset))
            header.append(UInt64(fileLength))
            header.append(GWTLayout.crc32(table.bytes))
            header.append(GWTLayout.crc32(header.bytes))
            header.pad(to: GWTLayout.headerSize)
            try file.write(header.bytes + table.bytes, at: 0)
            try file.commit()
        } catch {
            throw .output(error)
        }
    }
}

/// crc32 over pieces, for data that is never contiguous in memory.
struct StreamingCRC32 {
    private(set) var value: UInt32 = 0
    private static let zeros = [UInt8](repeating: 0, count: 64)

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        value = GWTLayout.crc32(continuing: value, bytes)
    }

    mutating func update(zeros count: Int) {
        guard count > 0 else { return }
        Self.zeros.withUnsafeBytes { update(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
    }
}
