import CKernels
import Foundation
import GhostIR

/// Runs a graph on concrete inputs: the reference against which fused graphs are verified.
///
/// NCHW, any batch size; symbolic dimensions take their sizes from the inputs. `.float32` computes
/// as a deployment would; `.float64` widens every weight and input and computes in Double.
/// Convolutions and matrix products go through OpenBLAS; depthwise convolutions through a direct
/// loop. Operators outside docs/operators.md are typed errors naming the node — found when the
/// interpreter is created, before anything runs.
///
/// ```swift
/// let interpreter = try Interpreter(graph: graph, precision: .float64)
/// let outputs = try interpreter.run(["input": image])                          // graph outputs
/// let everything = try interpreter.run(["input": image], keepingIntermediates: true)
/// ```
public struct Interpreter: Sendable {
    /// The most elements any tensor computed from the graph's data may have (Reshape targets,
    /// ConstantOfShape, Pad): a malformed graph gets `tensor-too-large`, not an allocation failure.
    /// GHOST_MAX_ELEMENTS may lower it (never raise it): the attribute fuzzer does, so that sizes
    /// which are legal but large do not look like runaway allocations.
    public static let maximumElementCount: Int = {
        let ceiling = 1 << 31
        guard let text = ProcessInfo.processInfo.environment["GHOST_MAX_ELEMENTS"], let value = Int(text), value > 0 else { return ceiling }
        return min(value, ceiling)
    }()

    public let graph: Graph
    public let precision: Precision
    private let plan: ExecutionPlan

    /// How many nodes an ordinary run computes inside a Conv's epilogue (a BatchNormalization or
    /// activation that only that Conv feeds) instead of as nodes of their own.
    public var nodesFusedIntoConvs: Int { plan.nodesFusedIntoConvs }
    /// How many nodes read only constants and were computed once, when the interpreter was made.
    public var nodesComputedAhead: Int { plan.nodesComputedAhead }
    /// Nodes run inside a fused exported GELU chain (Div → Erf → Add → Mul → Mul as one step).
    public var nodesFusedIntoGelus: Int { plan.nodesFusedIntoGelus }

    /// - Parameter threads: threads for convolutions and matrix products: the packed float32 GEMM
    ///   splits its work this many ways, and OpenBLAS (float64) gets this many (a process-wide
    ///   setting; 1 by default, for reproducible timings and numbers).
    /// - Throws: `unsupportedOperator` for an op outside the supported set (or domain), `graph`
    ///   (code `invalid-graph`) for a cycle.
    public init(graph: Graph, precision: Precision = .float32, threads: Int = 1) throws(InterpreterError) {
        self.graph = graph
        self.precision = precision
        guard gk_blas_load(Int32(clamping: max(1, threads))) else {
            throw .blasUnavailable(reason: String(cString: gk_blas_error()))
        }
        Interpreter.keepFreedMemoryInTheHeap()
        plan = try ExecutionPlan(graph: graph, precision: precision, threads: max(1, threads))
    }

    /// The graph outputs for `inputs` (one tensor per runtime input, by name).
    public func run(_ inputs: [String: Tensor]) throws(InterpreterError) -> [String: Tensor] {
        try run(inputs, keepingIntermediates: false)
    }

    /// With `keepingIntermediates`, every value the run saw — graph inputs and every node output,
    /// by value name — not only the graph outputs; the verifier compares these to localize where
    /// two graphs diverge. Floating-point values are float32 or float64 by the run's precision;
    /// integer values keep their ONNX integer type.
    public func run(_ inputs: [String: Tensor], keepingIntermediates: Bool) throws(InterpreterError) -> [String: Tensor] {
        try run(inputs, keepingIntermediates: keepingIntermediates, observing: false) { _, _ in }
    }

    /// The graph outputs, with `observer` shown every node output (by value name) as it is
    /// computed. Every node runs on its own (no Conv epilogues), so each value a node names is seen,
    /// and values are still freed after their last reader: the observer must not keep the tensors
    /// if memory is to stay bounded (the verifier keeps a summary of each).
    public func run(_ inputs: [String: Tensor], observing observer: (String, Tensor) -> Void) throws(InterpreterError) -> [String: Tensor] {
        try run(inputs, keepingIntermediates: false, observing: true, observer: observer)
    }

    private func run(_ inputs: [String: Tensor], keepingIntermediates: Bool, observing: Bool,
                     observer: (String, Tensor) -> Void) throws(InterpreterError) -> [String: Tensor] {
        let everyNode = keepingIntermediates || observing
        var values = everyNode ? plan.constantSlots : plan.foldedConstantSlots
        for (name, buffer) in try bind(inputs) {
            guard let index = plan.slots[name] else { continue }
            values[index] = buffer
        }
        var operands: [Buffer?] = []
        for step in everyNode ? plan.steps : plan.fusedSteps {
            operands.removeAll(keepingCapacity: true)
            for (position, input) in step.inputs.enumerated() {
                if input < 0 {
                    operands.append(nil)
                } else if let value = values[input] {
                    operands.append(value)
                } else {
                    throw .graph(problem: "node '\(step.name)' reads '\(step.node.inputs[position])', which has no value")
                }
            }
            let context = NodeContext(source: step.source, inputs: operands, opset: plan.opset, precision: precision, prepared: step.prepared)
            let results = try step.operation.evaluate(context)
            for (position, output) in step.outputs.enumerated() where output >= 0 {
                guard position < results.count else {
                    throw .invalidNode(node: step.name, op: step.node.opType,
                                       problem: "output \(position) ('\(plan.slotNames[output])') is requested but the operator produces only \(results.count)")
                }
                values[output] = results[position]
                if observing, let tensor = results[position].tensor() { observer(plan.slotNames[output], tensor) }
            }
            if !keepingIntermediates {
                for value in step.releases { values[value] = nil }
            }
        }
        var tensors: [String: Tensor] = [:]
        var wanted = graph.outputs.map(\.name)
        if keepingIntermediates {
            wanted += values.indices.compactMap { values[$0] != nil && plan.constantSlots[$0] == nil ? plan.slotNames[$0] : nil }
        }
        for name in wanted where tensors[name] == nil {
            guard let index = plan.slots[name], let buffer = values[index], let tensor = buffer.tensor() else {
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
        // The mmap threshold cannot exceed 32 MiB on 64-bit glibc (a larger value is refused and
        // changes nothing); activations above it are rare and large enough to amortize a fault.
        let trimThreshold: Int32 = -1, mmapThreshold: Int32 = -3
        _ = glibcMallopt(mmapThreshold, 32 << 20)
        _ = glibcMallopt(trimThreshold, 1 << 30)
        #endif
    }

    /// Checks inputs against the graph's declarations and converts them to the run's precision.
    /// A floating-point input may be given in either float type (a float64 run is fed float64
    /// arrays); every other type must match the declaration.
    private func bind(_ inputs: [String: Tensor]) throws(InterpreterError) -> [String: Buffer] {
        let declared = graph.runtimeInputs
        for name in inputs.keys.sorted() where !declared.contains(where: { $0.name == name }) {
            throw .unknownInput(name: name, known: declared.map(\.name))
        }
        var values: [String: Buffer] = [:]
        var symbols: [String: Int] = [:]
        for value in declared {
            guard let tensor = inputs[value.name] else { throw .missingInput(name: value.name) }
            if let type = value.elementType, type != tensor.elementType,
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
            // An axis past the element limit beside a zero ([0, 2⁴⁰]) holds nothing, but kernels
            // size per-axis tables and loops by it: refused like any tensor too large.
            guard tensor.shape.allSatisfy({ $0 <= Interpreter.maximumElementCount }) else {
                throw .tensorTooLarge(node: value.name, op: "graph input", shape: tensor.shape, limit: Interpreter.maximumElementCount)
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
