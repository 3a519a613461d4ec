import Foundation
import GhostIR
import Testing

/// How much of the mapping that starts at `base` is resident in this process, in bytes (its
/// "Rss:" line in Linux's /proc/self/smaps); unaffected by what other tests allocate meanwhile.
private func residentBytes(of file: MappedFile) -> Int? {
    // /proc files report size 0, so read them as a stream.
    guard let base = file.bytes.baseAddress, let handle = FileHandle(forReadingAtPath: "/proc/self/smaps"),
          let data = try? handle.readToEnd() else { return nil }
    let text = String(decoding: data, as: UTF8.self)
    let start = String(UInt(bitPattern: Int(bitPattern: base)), radix: 16)
    var inMapping = false
    for line in text.split(separator: "\n") {
        if let dash = line.firstIndex(of: "-"), line[..<dash].allSatisfy(\.isHexDigit) {
            inMapping = line[..<dash].drop { $0 == "0" } == start.drop { $0 == "0" }
        } else if inMapping, line.hasPrefix("Rss:") {
            return line.split(separator: " ").dropFirst().first.flatMap { Int($0) }.map { $0 * 1024 }
        }
    }
    return nil
}

private func checksum(_ bytes: UnsafeRawBufferPointer) -> Int {
    var sum = 0
    for (index, byte) in bytes.enumerated() { sum = sum &+ Int(byte) &* (index | 1) }
    return sum
}

@Test func releasedPagesLeaveMemoryAndReadBackUnchanged() throws {
    let size = 16 << 20
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("mapped-\(UUID().uuidString).bin")
    defer { try? FileManager.default.removeItem(at: url) }
    try Data((0..<size).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ ($0 >> 12)) }).write(to: url)
    let file = try MappedFile(path: url.path)
    let before = checksum(file.bytes)  // every page now resident
    let touched = try #require(residentBytes(of: file))
    file.releasePages(of: file.bytes)
    let released = try #require(residentBytes(of: file))
    #expect(touched - released >= size * 3 / 4, "RSS went from \(touched) to \(released)")
    // Contents come back from the file.
    #expect(checksum(file.bytes) == before)
    // A view of a part releases only whole pages inside it; a small view releases nothing.
    let part = UnsafeRawBufferPointer(rebasing: file.bytes[100..<(size / 2 + 100)])
    file.releasePages(of: part)
    #expect(checksum(file.bytes) == before)
}

@Test func droppingTheLastViewOfAMappedWeightReleasesItsPages() throws {
    let size = 8 << 20
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("weights-\(UUID().uuidString).bin")
    defer { try? FileManager.default.removeItem(at: url) }
    try Data(repeating: 0x3F, count: size).write(to: url)
    let file = try MappedFile(path: url.path)
    var tensor: Tensor? = try Tensor(elementType: .float32, shape: [size / 4],
                                     storage: TensorStorage(viewing: file.bytes, owner: file))
    let sum = tensor!.storage.bytes.reduce(0) { $0 &+ Int($1) }
    let touched = try #require(residentBytes(of: file))
    tensor = nil
    let released = try #require(residentBytes(of: file))
    #expect(touched - released >= size * 3 / 4, "RSS went from \(touched) to \(released)")
    #expect(file.bytes.reduce(0) { $0 &+ Int($1) } == sum)
}
