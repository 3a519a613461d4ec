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
        // Sections are appended through a buffer that coalesces small tensors into large writes.
        do {
            let file = try PendingFile(destination: path)
            var output = CoalescingWriter(file: file)
            try output.append(zeros: metadataOffset)
            try output.append(metadataJSON)
            try output.append(zeros: graphOffset - output.position)
            var graphCRC = StreamingCRC32()
            try GraphSectionWriter(graph: graph, layout: layout).write { (piece: UnsafeRawBufferPointer) throws(FileOutputError) in
                graphCRC.update(piece)
                try output.append(piece)
            }
            let graphLength = output.position - graphOffset
            let dataOffset = GWTLayout.aligned(output.position)
            let fileLength = dataOffset + dataLength
            try output.append(zeros: dataOffset - output.position)
            for (tensor, offset) in zip(layout.tensors, layout.offsets) {
                try output.append(zeros: dataOffset + offset - output.position)
                try output.append(tensor.storage.bytes)
            }
            try output.flush()
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

/// Appends to a pending file through a 1 MiB buffer: small pieces are gathered into large
/// writes, pieces larger than the buffer go straight to the file.
private struct CoalescingWriter {
    let file: PendingFile
    private(set) var position = 0
    private var buffer: [UInt8] = []
    private static let capacity = 1 << 20
    private static let zeros = [UInt8](repeating: 0, count: 4096)

    init(file: PendingFile) {
        self.file = file
        buffer.reserveCapacity(Self.capacity)
    }

    mutating func append(_ bytes: UnsafeRawBufferPointer) throws(FileOutputError) {
        position += bytes.count
        if buffer.count + bytes.count <= Self.capacity {
            buffer.append(contentsOf: bytes)
            return
        }
        try flush()
        if bytes.count >= Self.capacity {
            try file.write(bytes)
        } else {
            buffer.append(contentsOf: bytes)
        }
    }

    mutating func append(_ bytes: [UInt8]) throws(FileOutputError) {
        let result: Result<Void, FileOutputError> = bytes.withUnsafeBytes { buffer in
            do throws(FileOutputError) { try append(buffer) } catch { return .failure(error) }
            return .success(())
        }
        try result.get()
    }

    mutating func append(zeros count: Int) throws(FileOutputError) {
        var remaining = count
        while remaining > 0 {
            let piece = min(remaining, Self.zeros.count)
            let result: Result<Void, FileOutputError> = Self.zeros.withUnsafeBytes { zeros in
                do throws(FileOutputError) { try append(UnsafeRawBufferPointer(rebasing: zeros[0..<piece])) } catch { return .failure(error) }
                return .success(())
            }
            try result.get()
            remaining -= piece
        }
    }

    mutating func flush() throws(FileOutputError) {
        guard !buffer.isEmpty else { return }
        try file.write(buffer)
        buffer.removeAll(keepingCapacity: true)
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
