/// One of N disjoint parts of a model set, chosen by a hash of each model's path relative to its
/// root, so N CI jobs given the same tree cover every model exactly once without talking to each
/// other. The hash is FNV-1a 64 over the path's UTF-8 bytes: the same on every machine and run
/// (Swift's `hashValue` is seeded per process, so it cannot be used).
public struct Shard: Equatable, Sendable, CustomStringConvertible {
    /// 1-based: shards are `1/N` … `N/N`.
    public let index: Int
    public let count: Int

    /// Every model.
    public static let all = Shard(uncheckedIndex: 1, count: 1)

    public init(index: Int, count: Int) throws(GateUsageError) {
        guard count >= 1 else { throw .invalidShard("'\(index)/\(count)': N must be at least 1") }
        guard (1...count).contains(index) else { throw .invalidShard("'\(index)/\(count)': K must be between 1 and \(count)") }
        self.init(uncheckedIndex: index, count: count)
    }

    private init(uncheckedIndex index: Int, count: Int) {
        self.index = index
        self.count = count
    }

    /// Parses `K/N`, e.g. `2/3`.
    public init(parsing text: String) throws(GateUsageError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let k = Int(parts[0]), let n = Int(parts[1]) else {
            throw .invalidShard("'\(text)': expected K/N with whole numbers, e.g. 2/3")
        }
        try self.init(index: k, count: n)
    }

    public var description: String { "\(index)/\(count)" }

    /// Whether the model at `relativePath` belongs to this shard.
    public func contains(relativePath: String) -> Bool {
        count == 1 || Int(Shard.fnv1a64(relativePath) % UInt64(count)) == index - 1
    }

    /// FNV-1a, 64-bit: offset basis 0xcbf29ce484222325, prime 0x100000001b3.
    public static func fnv1a64(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return hash
    }
}

/// A gate that cannot start: bad arguments (the CLI exits 2).
public enum GateUsageError: Error, Equatable, Sendable {
    case invalidShard(String)
    case missingPath(String)
    case noModels(paths: [String])
    case duplicateRelativePath(String, [String])
    case invalidOption(String)
}

extension GateUsageError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .invalidShard(let detail): "--shard \(detail)"
        case .missingPath(let path): "\(path): no such file or directory"
        case .noModels(let paths): "no .onnx files under \(paths.joined(separator: ", "))"
        case .duplicateRelativePath(let relative, let files):
            "\(files.joined(separator: " and ")) would both be written as '\(relative)' under --output-dir; gate them in separate runs"
        case .invalidOption(let detail): detail
        }
    }
}
