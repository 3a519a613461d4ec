import CBLAS
import GhostIR

/// Runs a graph on concrete inputs: the reference against which fused graphs are verified.
///
/// NCHW, any batch size; symbolic dimensions take their sizes from the inputs. `.float32` computes
/// as a deployment would; `.float64` widens every weight and input and computes in Double.
/// Convolutions and matrix products go through OpenBLAS; depthwise convolutions through a direct
/// loop. Operators outside docs/operators.md are typed errors naming the node.
public struct Interpreter: Sendable {
    public let graph: Graph
    public let precision: Precision
    private let order: [Node]
    private let constants: [String: Buffer]
    private let opset: Int64
    /// For each step, the values whose last reader it is (freed after it, unless kept).
    private let releases: [[String]]

    public init(graph: Graph, precision: Precision = .float32, threads: Int = 1) throws(InterpreterError) {
        self.graph = graph
        self.precision = precision
        openblas_set_num_threads(Int32(max(1, threads)))
        Interpreter.keepFreedMemoryInTheHeap()
        do {
            order = try graph.topologicallySortedNodes()
        } catch {
            throw .graph(problem: "\(error)")
        }
        var constants: [String: Buffer] = [:]
        for entry in graph.initializers { constants[entry.name] = Buffer(entry.tensor, precision: precision) }
        self.constants = constants
        opset = graph.onnxOpsetVersion ?? 17
        let outputs = Set(graph.outputs.map(\.name))
        var lastUse: [String: Int] = [:]
        for (step, node) in order.enumerated() {
            for input in node.inputs where !input.isEmpty && constants[input] == nil { lastUse[input] = step }
        }
        var releases = [[String]](repeating: [], count: order.count)
        for (value, step) in lastUse where !outputs.contains(value) { releases[step].append(value) }
        self.releases = releases
    }

    /// The graph outputs for `inputs` (one tensor per runtime input, by name).
    public func run(_ inputs: [String: Tensor]) throws(InterpreterError) -> [String: Tensor] {
        try run(inputs, keepingIntermediates: false)
    }

    /// With `keepingIntermediates`, every value computed (node outputs and inputs), not only outputs.
    public func run(_ inputs: [String: Tensor], keepingIntermediates: Bool) throws(InterpreterError) -> [String: Tensor] {
        var values = try bind(inputs)
        for (step, node) in order.enumerated() {
            let name = node.name.isEmpty ? "\(node.opType) #\(step)" : node.name
            var operands: [Buffer?] = []
            for input in node.inputs {
                if input.isEmpty {
                    operands.append(nil)
                } else if let value = values[input] ?? constants[input] {
                    operands.append(value)
                } else {
                    throw .graph(problem: "node '\(name)' reads '\(input)', which has no value")
                }
            }
            let context = NodeContext(node: node, name: name, inputs: operands, opset: opset, precision: precision)
            let results = try Operators.evaluate(context)
            for (output, result) in zip(node.outputs, results) where !output.isEmpty {
                values[output] = result
            }
            if !keepingIntermediates {
                for value in releases[step] { values[value] = nil }
            }
        }
        var tensors: [String: Tensor] = [:]
        let wanted = keepingIntermediates ? Array(values.keys) : graph.outputs.map(\.name)
        for name in wanted {
            guard let buffer = values[name] ?? constants[name], let tensor = buffer.tensor() else {
                throw .graph(problem: "output '\(name)' was not computed")
            }
            tensors[name] = tensor
        }
        return tensors
    }

    /// Every node allocates its outputs afresh. glibc serves large blocks with mmap and returns
    /// them on free, so each allocation would cost page faults and zeroing; raising the
    /// thresholds keeps freed blocks in the heap for the next node to reuse.
    private static func keepFreedMemoryInTheHeap() {
        #if os(Linux)
        // glibc's <malloc.h> parameter numbers; Swift's Glibc module does not export mallopt.
        let trimThreshold: Int32 = -1, mmapThreshold: Int32 = -3
        _ = glibcMallopt(mmapThreshold, 1 << 30)
        _ = glibcMallopt(trimThreshold, 1 << 30)
        #endif
    }

    /// Checks inputs against the graph's declarations and converts them to the run's precision.
    private func bind(_ inputs: [String: Tensor]) throws(InterpreterError) -> [String: Buffer] {
        let declared = graph.runtimeInputs
        for name in inputs.keys where !declared.contains(where: { $0.name == name }) {
            throw .unknownInput(name: name, known: declared.map(\.name))
        }
        var values: [String: Buffer] = [:]
        var symbols: [String: Int] = [:]
        for value in declared {
            guard let tensor = inputs[value.name] else { throw .missingInput(name: value.name) }
            if let type = value.elementType, type.isStorable, type != tensor.elementType,
               !(type.isFloatingPoint && tensor.elementType.isFloatingPoint) {
                throw .inputTypeMismatch(name: value.name, expected: type.onnxName, actual: tensor.elementType.onnxName)
            }
            if let shape = value.shape {
                var matches = shape.count == tensor.rank
                if matches {
                    for (dimension, size) in zip(shape, tensor.shape) {
                        switch dimension {
                        case .fixed(let expected): matches = matches && expected == size
                        case .symbolic(let symbol):
                            if let bound = symbols[symbol] { matches = matches && bound == size } else { symbols[symbol] = size }
                        case .unknown: break
                        }
                    }
                }
                guard matches else {
                    throw .inputShapeMismatch(name: value.name, expected: value.typeDescription, actual: tensor.shape)
                }
            }
            values[value.name] = Buffer(tensor, precision: precision)
        }
        return values
    }
}

#if os(Linux)
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
#endif
