/// Facts about a graph for people and tools: what `ghost-convert inspect` prints.
/// The JSON keys are part of the CLI's documented interface (docs/cli.md).
public struct GraphSummary: Codable, Equatable, Sendable {
    public struct Opset: Codable, Equatable, Sendable {
        public var domain: String
        public var version: Int64
    }

    public struct ValueSummary: Codable, Equatable, Sendable {
        public var name: String
        /// ONNX type name ("float"), or null when the file does not say.
        public var elementType: String?
        /// Dimensions as strings: sizes ("224"), symbolic names ("batch") or "?"; null if unknown.
        public var shape: [String]?
    }

    public var irVersion: Int64
    public var producer: String
    public var opsets: [Opset]
    public var inputs: [ValueSummary]
    public var outputs: [ValueSummary]
    public var nodeCount: Int
    /// Node count per op type ("Conv": 53); custom domains are written "domain::OpType".
    public var opHistogram: [String: Int]
    public var initializerCount: Int
    public var parameterCount: Int
    public var parameterBytes: Int

    public init(_ graph: Graph) {
        irVersion = graph.metadata.irVersion
        producer = [graph.metadata.producerName, graph.metadata.producerVersion]
            .filter { !$0.isEmpty }.joined(separator: " ")
        opsets = graph.opsetImports.map { Opset(domain: $0.domain, version: $0.version) }
        inputs = graph.runtimeInputs.map(ValueSummary.init)
        outputs = graph.outputs.map(ValueSummary.init)
        nodeCount = graph.nodes.count
        opHistogram = graph.nodes.reduce(into: [:]) { counts, node in
            counts[node.domain.isEmpty ? node.opType : "\(node.domain)::\(node.opType)", default: 0] += 1
        }
        initializerCount = graph.initializers.count
        (parameterCount, parameterBytes) = graph.parameterTotals
    }
}

extension GraphSummary.ValueSummary {
    init(_ value: Value) {
        name = value.name
        elementType = value.elementType?.onnxName
        shape = value.shape?.map(\.description)
    }
}
