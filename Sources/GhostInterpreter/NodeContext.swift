import GhostIR

/// One node being evaluated: its inputs and typed access to its attributes, with errors that
/// name the node.
struct NodeContext {
    /// The node and its display name, shared by reference: a context is made for every node on
    /// every run, and copying a `Node` would retain each of its strings and arrays.
    let source: NodeSource
    let inputs: [Buffer?]
    let opset: Int64
    let precision: Precision
    /// What was worked out about this node before the run (constant coefficients, a fused
    /// epilogue), if anything.
    var prepared: PreparedNode? = nil

    init(source: NodeSource, inputs: [Buffer?], opset: Int64, precision: Precision, prepared: PreparedNode? = nil) {
        self.source = source
        self.inputs = inputs
        self.opset = opset
        self.precision = precision
        self.prepared = prepared
    }

    init(node: Node, name: String, inputs: [Buffer?], opset: Int64, precision: Precision) {
        self.init(source: NodeSource(node: node, name: name), inputs: inputs, opset: opset, precision: precision)
    }

    var node: Node { source.node }
    var name: String { source.name }
    var op: String { source.node.opType }

    func fail(_ problem: String) -> InterpreterError {
        .invalidNode(node: name, op: op, problem: problem)
    }

    func unsupported(_ attribute: String, _ value: String) -> InterpreterError {
        .unsupportedAttribute(node: name, op: op, attribute: attribute, value: value)
    }

    /// Input `index`, which must be present.
    func input(_ index: Int) throws(InterpreterError) -> Buffer {
        guard index < inputs.count, let buffer = inputs[index] else { throw fail("input \(index) is missing") }
        return buffer
    }

    /// Input `index` when given (optional inputs may be absent or "").
    func optionalInput(_ index: Int) -> Buffer? {
        index < inputs.count ? inputs[index] : nil
    }

    func int(_ name: String, _ fallback: Int) throws(InterpreterError) -> Int {
        guard let attribute = source.node.attribute(name) else { return fallback }
        guard let value = attribute.intValue else { throw fail("attribute \(name) is not an INT") }
        return Int(clamping: value)
    }

    func ints(_ name: String) throws(InterpreterError) -> [Int]? {
        guard let attribute = source.node.attribute(name) else { return nil }
        guard let values = attribute.intsValue else { throw fail("attribute \(name) is not INTS") }
        return values.map { Int(clamping: $0) }
    }

    func float(_ name: String, _ fallback: Float) throws(InterpreterError) -> Float {
        guard let attribute = source.node.attribute(name) else { return fallback }
        if let value = attribute.floatValue { return value }
        if let value = attribute.intValue { return Float(value) }
        throw fail("attribute \(name) is not a FLOAT")
    }

    func string(_ name: String, _ fallback: String) throws(InterpreterError) -> String {
        guard let attribute = source.node.attribute(name) else { return fallback }
        guard let value = attribute.stringValue else { throw fail("attribute \(name) is not a STRING") }
        return value
    }

    /// An axis in -rank..<rank, normalized to 0..<rank (a scalar has no axes).
    func axis(_ value: Int, rank: Int, _ what: String = "axis") throws(InterpreterError) -> Int {
        let normalized = value < 0 ? value + rank : value
        guard normalized >= 0, normalized < rank else { throw fail("\(what) \(value) is out of range for rank \(rank)") }
        return normalized
    }

    /// The number of elements of a shape computed from the graph's data (Reshape targets,
    /// ConstantOfShape, padded sizes), refusing negative sizes, overflow and tensors beyond
    /// `Interpreter.maximumElementCount`, so that no such shape can trap or exhaust memory. A
    /// single axis past the limit is refused even when another is 0: kernels size per-axis
    /// tables and loops by it.
    func elementCount(of shape: [Int]) throws(InterpreterError) -> Int {
        var count = 1
        for size in shape {
            guard size >= 0 else { throw fail("shape \(shape) has a negative dimension") }
            let (product, overflow) = count.multipliedReportingOverflow(by: size)
            guard !overflow, product <= Interpreter.maximumElementCount, size <= Interpreter.maximumElementCount else {
                throw .tensorTooLarge(node: name, op: op, shape: shape, limit: Interpreter.maximumElementCount)
            }
            count = product
        }
        return count
    }
}

/// A node and its display name (the name, or "OpType #index").
final class NodeSource: Sendable {
    let node: Node
    let name: String
    /// The element type each input is declared with in the graph (graph inputs, value_info,
    /// outputs), where declared: it tells float16 and bfloat16 apart, which buffers hold as float
    /// (CastLike reads it).
    let inputTypes: [ElementType?]

    init(node: Node, name: String, inputTypes: [ElementType?] = []) {
        self.node = node
        self.name = name
        self.inputTypes = inputTypes
    }
}

/// What the interpreter works out about a node once, when it is created.
final class PreparedNode: Sendable {
    /// A BatchNormalization's coefficients, when its parameters are constants.
    let batchNorm: BatchNormCoefficients?
    /// For a Conv: the nodes after it that it computes on its own output (see `ConvEpilogue`).
    let epilogue: ConvEpilogue?
    /// For a float32 Conv with a constant weight: the weight packed for the GEMM kernel.
    let packedWeights: PackedWeights?

    init(batchNorm: BatchNormCoefficients? = nil, epilogue: ConvEpilogue? = nil, packedWeights: PackedWeights? = nil) {
        self.batchNorm = batchNorm
        self.epilogue = epilogue
        self.packedWeights = packedWeights
    }
}

/// Elementwise nodes a Conv applies to its own output, plane by plane while it is in cache,
/// instead of as separate nodes: a BatchNormalization with constant parameters, then a unary
/// activation. The Conv's bias, the BatchNormalization and an activation with a C loop run as one
/// `gk_epilogue` call per plane — the loop those nodes run on their own too — and any other
/// activation as `UnaryOperator.applyInPlace`; in the same order, so the result is bit-identical;
/// only the intermediate tensors are never materialized (runs that keep intermediates do not fuse).
struct ConvEpilogue: Sendable {
    var batchNorm: BatchNormCoefficients?
    var activation: UnaryOperator?
}

extension NodeContext {
    /// Σ terms, for sizes computed from attributes and shapes: an overflow is a typed error
    /// naming the node, never a trap (pads near Int64.max, strides of 2⁶²).
    func sum(_ terms: Int...) throws(InterpreterError) -> Int {
        var total = 0
        for term in terms {
            let (next, overflow) = total.addingReportingOverflow(term)
            guard !overflow else { throw fail("size arithmetic on the attributes overflows (terms \(terms))") }
            total = next
        }
        return total
    }

    /// a · b for sizes computed from attributes and shapes, overflow-checked like `sum`.
    func product(_ a: Int, _ b: Int) throws(InterpreterError) -> Int {
        let (result, overflow) = a.multipliedReportingOverflow(by: b)
        guard !overflow else { throw fail("size arithmetic on the attributes overflows (\(a) × \(b))") }
        return result
    }
}
