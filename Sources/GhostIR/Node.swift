/// One operator application.
public struct Node: Equatable, Sendable {
    public var name: String
    public var opType: String
    /// The operator set domain, "" for the default ONNX domain (files may also spell it "ai.onnx";
    /// the loader normalizes that to "").
    public var domain: String
    /// Input value names in operator order; "" marks an omitted optional input.
    public var inputs: [String]
    /// Output value names; "" marks an output the producer does not want.
    public var outputs: [String]
    public var attributes: [Attribute]
    public var docString: String
    /// Provenance: the names of the source nodes this node replaces (empty for source nodes).
    public var fusedFrom: [String]

    public init(
        name: String, opType: String, domain: String = "", inputs: [String], outputs: [String],
        attributes: [Attribute] = [], docString: String = "", fusedFrom: [String] = []
    ) {
        self.name = name
        self.opType = opType
        self.domain = domain
        self.inputs = inputs
        self.outputs = outputs
        self.attributes = attributes
        self.docString = docString
        self.fusedFrom = fusedFrom
    }

    public func attribute(_ name: String) -> AttributeValue? {
        attributes.first { $0.name == name }?.value
    }

    /// Sets (replacing) or, with nil, removes the attribute `name`.
    public mutating func setAttribute(_ name: String, _ value: AttributeValue?) {
        attributes.removeAll { $0.name == name }
        if let value { attributes.append(Attribute(name: name, value: value)) }
    }

    /// Whether this node is in the default ONNX domain and has op type `opType`.
    public func isONNX(_ opType: String) -> Bool {
        domain.isEmpty && self.opType == opType
    }
}

extension Node {
    /// A name for messages: the node's own name, or its op type and position when unnamed.
    public func displayName(index: Int) -> String {
        Self.displayName(name: name, opType: opType, index: index)
    }

    /// `displayName` of a node with this name and op type at `index`, for a caller that reads
    /// the fields in place (copying a node from an array retains every field).
    public static func displayName(name: String, opType: @autoclosure () -> String, index: Int) -> String {
        name.isEmpty ? "\(opType()) #\(index)" : name
    }
}
