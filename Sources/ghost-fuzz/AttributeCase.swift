import GhostIR
import GhostInterpreter

/// A one-node graph assembled from fuzz decisions: the node's runtime inputs (fed with small
/// tensors), its constant inputs (initializers, so the interpreter may fold them ahead) and its
/// attributes. Each helper takes the valid value and lets the bytes keep it, bend it or drop it.
struct AttributeCase {
    var bytes: FuzzBytes
    let op: String
    let opset: Int64
    private(set) var attributes: [Attribute] = []
    private(set) var nodeInputs: [String] = []
    private(set) var feeds: [(name: String, tensor: Tensor)] = []
    private(set) var constants: [(name: String, tensor: Tensor)] = []
    var outputCount = 1

    init(op: String, opset: Int64, bytes: FuzzBytes) {
        self.op = op
        self.opset = opset
        self.bytes = bytes
    }

    // MARK: inputs

    /// A runtime input of about `shape` (float32 unless the bytes pick float64 or int64), with
    /// values a small ramp, sometimes sprinkled with NaN and ±inf.
    mutating func data(_ shape: [Int], type: ElementType = .float32) {
        let shape = bytes.shape(shape)
        let chosenType: ElementType = switch bytes.choose(10) {
        case 8: .float64
        case 9: .int64
        default: type
        }
        let name = "x\(nodeInputs.count)"
        nodeInputs.append(name)
        feeds.append((name, tensor(chosenType, shape: shape, special: bytes.choose(4) == 3)))
    }

    /// A constant int64 input holding `valid` (1-D unless `shape` says otherwise), or a mutation of
    /// it: other values, another length, a scalar or a matrix, float elements, or no input at all.
    mutating func constantIntegers(_ valid: [Int64], shape: [Int]? = nil) {
        switch bytes.choose(16) {
        case 13: absent()
        case 14: constant(floatTensor(bytes.floats(valid.map { Float($0) }), shape: nil))
        case 15: constant(intTensor(valid, shape: [1, valid.count]))
        default:
            let values = bytes.integers(valid)
            constant(intTensor(values, shape: values.count == valid.count ? shape : nil))
        }
    }

    /// A constant float input holding `valid`, or a mutation of it (as `constantIntegers`).
    mutating func constantFloats(_ valid: [Float], shape: [Int]? = nil) {
        switch bytes.choose(16) {
        case 14: absent()
        case 15: constant(intTensor(valid.map { $0.isFinite ? Int64($0) : 0 }, shape: nil))
        default:
            let values = bytes.floats(valid)
            constant(floatTensor(values, shape: values.count == valid.count ? shape : nil))
        }
    }

    /// A constant float tensor of about `shape` (weights, a grid), values a ramp with, sometimes,
    /// NaN and ±inf.
    mutating func constantWeights(_ shape: [Int]) {
        let shape = bytes.shape(shape)
        constant(tensor(.float32, shape: shape, special: bytes.choose(6) == 5))
    }

    /// An omitted optional input ("").
    mutating func absent() {
        nodeInputs.append("")
    }

    private mutating func constant(_ tensor: Tensor) {
        let name = "c\(nodeInputs.count)"
        nodeInputs.append(name)
        constants.append((name, tensor))
    }

    // MARK: attributes

    /// Whether to write an attribute: by default when it has a valid value; a byte flips that.
    private mutating func present(_ hasValid: Bool) -> Bool {
        bytes.choose(10) == 9 ? !hasValid : hasValid
    }

    mutating func ints(_ name: String, _ valid: [Int64]?) {
        guard present(valid != nil) else { return }
        let values = bytes.integers(valid ?? [1])
        // Rarely the wrong attribute type, which must be a typed error too.
        attributes.append(Attribute(name: name, value: bytes.choose(24) == 23 ? .float(1) : .ints(values)))
    }

    mutating func int(_ name: String, _ valid: Int64?) {
        guard present(valid != nil) else { return }
        let value = bytes.integer(valid ?? 1)
        attributes.append(Attribute(name: name, value: bytes.choose(24) == 23 ? .ints([value, value]) : .int(value)))
    }

    mutating func float(_ name: String, _ valid: Float?) {
        guard present(valid != nil) else { return }
        attributes.append(Attribute(name: name, value: .float(bytes.float(valid ?? 1))))
    }

    mutating func floats(_ name: String, _ valid: [Float]?) {
        guard present(valid != nil) else { return }
        attributes.append(Attribute(name: name, value: .floats(bytes.floats(valid ?? [1]))))
    }

    /// A string attribute: `options[0]` is the valid default (written unless a byte drops it).
    mutating func string(_ name: String, _ options: [String]) {
        guard present(true) else { return }
        attributes.append(Attribute(name: name, value: .string(Array(bytes.string(options).utf8))))
    }

    mutating func tensor(_ name: String, _ value: Tensor) {
        guard present(true) else { return }
        attributes.append(Attribute(name: name, value: .tensor(value)))
    }

    // MARK: the graph

    var graph: Graph {
        var initializers = InitializerTable()
        for (name, tensor) in constants { initializers[name] = tensor }
        let outputs = (0..<outputCount).map { "y\($0)" }
        return Graph(
            name: "attribute-fuzz",
            inputs: feeds.map { Value(name: $0.name, elementType: $0.tensor.elementType, shape: $0.tensor.shape.map(ShapeDimension.fixed)) },
            outputs: outputs.map { Value(name: $0) }, initializers: initializers,
            nodes: [Node(name: "fuzzed", opType: op, inputs: nodeInputs, outputs: outputs, attributes: attributes)],
            opsetImports: [OpsetImport(domain: "", version: opset)])
    }

    var feedTable: [String: Tensor] {
        var table: [String: Tensor] = [:]
        for (name, tensor) in feeds { table[name] = tensor }
        return table
    }

    // MARK: tensors

    private func tensor(_ type: ElementType, shape: [Int], special: Bool) -> Tensor {
        var count = 1
        for size in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: max(size, 0))
            count = overflow ? 0 : product
        }
        let ramp = (0..<count).map { index -> Double in
            if special {
                switch index % 5 {
                case 1: return .nan
                case 3: return index % 2 == 0 ? .infinity : -.infinity
                default: break
                }
            }
            return Double(index % 7) - 3 + 0.25
        }
        let made: Tensor? = switch type {
        case .float64: try? Tensor(float64: ramp, shape: shape)
        case .int64: try? Tensor(int64: ramp.map { $0.isFinite ? Int64($0.rounded(.down)) : 0 }, shape: shape)
        default: try? Tensor(float32: ramp.map(Float.init), shape: shape)
        }
        return made ?? Self.scalar
    }

    private func intTensor(_ values: [Int64], shape: [Int]?) -> Tensor {
        (try? Tensor(int64: values, shape: shape ?? [values.count])) ?? Self.scalar
    }

    private func floatTensor(_ values: [Float], shape: [Int]?) -> Tensor {
        (try? Tensor(float32: values, shape: shape ?? [values.count])) ?? Self.scalar
    }

    // A one-element float scalar; its initializer cannot fail.
    private static let scalar: Tensor = {
        guard let one = try? Tensor(float32: [1], shape: []) else { preconditionFailure("a scalar tensor") }
        return one
    }()
}
