import GhostIR

/// One rewrite of the graph, with a stable kebab-case name used by `--disable-pass`,
/// `--explain`, reports, the .gwt metadata and the CHANGELOG.
///
/// A pass is written in three parts (see any file under Passes/): **match** candidate sites
/// without mutating; **check** every precondition, returning a reason when one fails; **rewrite**
/// in Float64, rounding once, recording which source nodes each new node replaces.
public protocol GraphPass: Sendable {
    var name: String { get }
    /// Passes whose rewrites this one needs to find its work (`merge-parallel-convs` merges only
    /// branches that `pad-kernel-to-3x3` and `batchnorm-to-depthwise-conv` aligned). Disabling
    /// one of them while this pass runs is reported (`PassPipeline.missingPrerequisites`), and the
    /// sites that wait for it are logged with the status `waits-for`.
    var requires: [String] { get }
    func run(on graph: inout Graph, log: inout PassLog) throws(PassError)
}

extension GraphPass {
    public var requires: [String] { [] }
}

/// A site that matched a pass's pattern but was not rewritten, and why.
public struct SkippedSite: Codable, Hashable, Sendable {
    /// The node the pattern is anchored on (e.g. the BatchNormalization).
    public let node: String
    /// Stable kebab-case code (docs/passes.md lists every one).
    public let code: String
    /// `not-matched`, `condition-failed`, `waits-for` or `conflict`.
    public let status: String
    /// The pass this site waits for, when `status` is `waits-for`.
    public let waitsFor: String?
    /// Other nodes the reason is about.
    public let nodes: [String]
    public let reason: String
}

/// One rewrite: the nodes that went and the node that replaced them.
public struct RewriteRecord: Codable, Equatable, Sendable {
    public let replaced: [String]
    /// The new node's name ("" when the rewrite only removed nodes).
    public let result: String
}

/// What a pass did during one run.
public struct PassLog: Sendable {
    public private(set) var rewrites: [RewriteRecord] = []
    public private(set) var skipped: [SkippedSite] = []

    public init() {}

    public mutating func rewrote(_ replaced: [String], into result: String) {
        rewrites.append(RewriteRecord(replaced: replaced, result: result))
    }

    mutating func skipped(_ node: String, _ skip: Skip) {
        skipped.append(SkippedSite(node: node, code: skip.code.rawValue, status: skip.status.name,
                                   waitsFor: skip.status.rule, nodes: skip.nodes, reason: skip.reason))
    }
}

public enum PassError: Error, Equatable, Sendable {
    /// A pass left the graph malformed: a bug in that pass, named so it can be found.
    case brokeGraph(pass: String, defect: GraphValidationError)
    /// A pass produced a tensor that cannot exist (a bug in that pass).
    case invalidTensor(pass: String, node: String, problem: String)
    /// `--disable-pass` named no pass.
    case unknownPass(name: String, known: [String])
}

extension PassError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .brokeGraph(let pass, let defect):
            "pass '\(pass)' left the graph malformed: \(defect)"
        case .invalidTensor(let pass, let node, let problem):
            "pass '\(pass)' built an invalid tensor for '\(node)': \(problem)"
        case .unknownPass(let name, let known):
            "no pass is named '\(name)'; the passes are: \(known.joined(separator: ", "))"
        }
    }
}
