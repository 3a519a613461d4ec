import Foundation
import GhostIR

/// Writes .gwt files (docs/gwt-format.md): deterministic, atomic, weights streamed from their
/// storage without an intermediate copy.
public enum GWTWriter {
    public static func write(_ graph: Graph, metadata: GWTMetadata, to path: String) throws(GWTFormatError) {
        var encoder = GraphDocumentEncoder()
        let document = encoder.encode(graph)
        let metadataJSON = metadata.json()
        let graphJSON = document.json()

        // Layout: header, table, then the sections, each at a multiple of 64.
        let tableOffset = GWTLayout.headerSize
        let metadataOffset = GWTLayout.aligned(tableOffset + 3 * GWTLayout.sectionEntrySize)
        let graphOffset = GWTLayout.aligned(metadataOffset + metadataJSON.count)
        let dataOffset = GWTLayout.aligned(graphOffset + graphJSON.count)
        let dataLength = encoder.dataSectionLength
        let fileLength = dataOffset + dataLength

        var table = LittleEndianWriter()
        for (kind, offset, length, crc) in [
            (GWTLayout.Kind.metadata, metadataOffset, metadataJSON.count, GWTLayout.crc32(metadataJSON)),
            (.graph, graphOffset, graphJSON.count, GWTLayout.crc32(graphJSON)),
            (.tensorData, dataOffset, dataLength, dataChecksum(encoder.dataTensors, document: document)),
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

        do {
            let file = try PendingFile(destination: path)
            var position = 0
            func emit(_ bytes: [UInt8], at offset: Int) throws(FileOutputError) {
                try file.writeZeros(offset - position)
                try file.write(bytes)
                position = offset + bytes.count
            }
            try emit(header.bytes, at: 0)
            try emit(table.bytes, at: tableOffset)
            try emit(metadataJSON, at: metadataOffset)
            try emit(graphJSON, at: graphOffset)
            let records = document.initializers + document.attributeTensors
            for (tensor, record) in zip(encoder.dataTensors, records) {
                try file.writeZeros(dataOffset + Int(record.offset) - position)
                try file.write(tensor.storage.bytes)
                position = dataOffset + Int(record.offset) + tensor.byteCount
            }
            try file.commit()
        } catch {
            throw .output(error)
        }
    }

    /// crc32 of the data section as it will be written (tensor bytes with zero padding between).
    private static func dataChecksum(_ tensors: [Tensor], document: GraphDocument) -> UInt32 {
        var checksum = StreamingCRC32()
        var position = 0
        for (tensor, record) in zip(tensors, document.initializers + document.attributeTensors) {
            checksum.update(zeros: Int(record.offset) - position)
            checksum.update(tensor.storage.bytes)
            position = Int(record.offset) + tensor.byteCount
        }
        return checksum.value
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
