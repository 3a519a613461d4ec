import CKernels
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
    public static let maximumElementCount = 1 << 31

    public let graph: Graph
    public let precision: Precision
    /// Every node, in topological order: what runs when intermediates are kept.
    private let steps: [Step]
    /// The same with each Conv absorbing the BatchNormalization and activation that only it
    /// feeds (`ConvEpilogue`): what runs otherwise. Bit-identical results, fewer passes.
    private let fusedSteps: [Step]
    /// Every value name has a slot; a run keeps its values in an array indexed by slot.
    private let slotNames: [String]
    private let slots: [String: Int]
    /// Constants in their slots (nil elsewhere): the starting state of every run that keeps
    /// intermediates.
    private let constantSlots: [Buffer?]
    /// The same plus the outputs of nodes that read only constants (Constant nodes, shape
    /// arithmetic on them), computed once: the starting state of `fusedSteps`.
    private let foldedConstantSlots: [Buffer?]
    private let opset: Int64

    /// One node to evaluate, resolved once.
    private struct Step: Sendable {
        /// The node, and its name or "OpType #index" (its position in the file) when it has none.
        let source: NodeSource
        let kind: OperatorKind
        var node: Node { source.node }
        var name: String { source.name }
        /// Slots of the inputs and outputs; -1 for an omitted optional one.
        let inputs: [Int]
        var outputs: [Int]
        var prepared: PreparedNode?
        /// Slots whose last reader this step is: freed after it unless intermediates are kept.
        var releases: [Int] = []
    }

    /// How many nodes an ordinary run computes inside a Conv's epilogue (a BatchNormalization or
    /// activation that only that Conv feeds) instead of as nodes of their own.
    public let nodesFusedIntoConvs: Int
    /// How many nodes read only constants and were computed once, when the interpreter was made.
    public let nodesComputedAhead: Int

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
        let opset = graph.onnxOpsetVersion ?? 17
        self.opset = opset
        let order: [Int]
        do {
            order = try graph.topologicalOrder()
        } catch {
            throw .graph(problem: "\(error)")
        }

        var slots: [String: Int] = [:]
        var slotNames: [String] = []
        func slot(_ name: String) -> Int {
            if name.isEmpty { return -1 }
            if let existing = slots[name] { return existing }
            slots[name] = slotNames.count
            slotNames.append(name)
            return slotNames.count - 1
        }
        var constants: [Int: Buffer] = [:]
        for entry in graph.initializers { constants[slot(entry.name)] = Buffer(entry.tensor, precision: precision) }
        for value in graph.inputs { _ = slot(value.name) }

        var steps: [Step] = []
        steps.reserveCapacity(order.count)
        for index in order {
            let node = graph.nodes[index]
            let name = node.displayName(index: index)
            guard node.domain.isEmpty || node.domain == "ai.onnx", let kind = OperatorKind(rawValue: node.opType) else {
                throw .unsupportedOperator(node: name, op: node.opType, domain: node.domain)
            }
            let inputs = node.inputs.map(slot)
            let outputs = node.outputs.map(slot)
            // Work that depends only on constants is done once, here; if it fails, the run
            // reports the same error from the node itself.
            var prepared: PreparedNode?
            let context = NodeContext(node: node, name: name, inputs: inputs.map { constants[$0] }, opset: opset, precision: precision)
            switch kind {
            case .batchNormalization where inputs.count == 5 && inputs[1...].allSatisfy({ constants[$0] != nil }):
                if let coefficients = try? Normalization.batchNormCoefficients(context) {
                    prepared = PreparedNode(batchNorm: coefficients)
                }
            // float32 convolutions, and a Gemm's constant B (a classifier's weights, packed
            // transposed), multiply by weights packed here, with CKernels' GEMM.
            case .conv where precision == .float32:
                if let weight = context.optionalInput(1), case .float(let values) = weight.storage,
                   let groups = try? context.int("group", 1),
                   let packed = PackedWeights(weight: values, shape: weight.shape, groups: groups, threads: threads) {
                    prepared = PreparedNode(packedWeights: packed)
                }
            case .gemm where precision == .float32:
                if let matrix = context.optionalInput(1), case .float(let values) = matrix.storage,
                   let transB = try? context.int("transB", 0),
                   let packed = PackedWeights(matrix: values, shape: matrix.shape, transposed: transB != 0, threads: threads) {
                    prepared = PreparedNode(packedWeights: packed)
                }
            default: break
            }
            steps.append(Step(source: NodeSource(node: node, name: name), kind: kind, inputs: inputs, outputs: outputs, prepared: prepared))
        }
        let graphOutputs = Set(graph.outputs.compactMap { slots[$0.name] })
        self.slots = slots
        self.slotNames = slotNames
        var template = [Buffer?](repeating: nil, count: slotNames.count)
        for (index, buffer) in constants { template[index] = buffer }
        constantSlots = template
        self.steps = Self.withReleases(steps, constants: constants, graphOutputs: graphOutputs)
        let (remaining, folded) = Self.computingConstantNodes(steps, constants: constants, opset: opset, precision: precision)
        for (index, buffer) in folded { template[index] = buffer }
        foldedConstantSlots = template
        let allConstants = constants.merging(folded) { first, _ in first }
        let fused = Self.fusingConvEpilogues(remaining, constants: allConstants, graphOutputs: graphOutputs, opset: opset, precision: precision)
        fusedSteps = Self.withReleases(fused, constants: allConstants, graphOutputs: graphOutputs)
        nodesComputedAhead = steps.count - remaining.count
        nodesFusedIntoConvs = remaining.count - fused.count
    }

    /// Evaluates, in order, every node whose inputs are all constants (or computed here before
    /// it) and whose outputs are small: their values are the same on every run. A node that
    /// fails is left in place, so the run reports its error as usual.
    private static func computingConstantNodes(
        _ steps: [Step], constants: [Int: Buffer], opset: Int64, precision: Precision
    ) -> (remaining: [Step], computed: [Int: Buffer]) {
        var known = constants
        var computed: [Int: Buffer] = [:]
        var remaining: [Step] = []
        for step in steps {
            guard step.inputs.allSatisfy({ $0 < 0 || known[$0] != nil }), step.outputs.allSatisfy({ $0 >= 0 }) else {
                remaining.append(step)
                continue
            }
            let context = NodeContext(source: step.source, inputs: step.inputs.map { $0 < 0 ? nil : known[$0] },
                                      opset: opset, precision: precision, prepared: step.prepared)
            guard let results = try? Operators.evaluate(step.kind, context), results.count >= step.outputs.count,
                  results.allSatisfy({ $0.count <= 1 << 16 }) else {
                remaining.append(step)
                continue
            }
            for (slot, value) in zip(step.outputs, results) {
                known[slot] = value
                computed[slot] = value
            }
        }
        return (remaining, computed)
    }

    /// Marks, on each step, the values it reads last (never constants or graph outputs).
    private static func withReleases(_ steps: [Step], constants: [Int: Buffer], graphOutputs: Set<Int>) -> [Step] {
        var steps = steps
        var lastUse: [Int: Int] = [:]
        for (position, step) in steps.enumerated() {
            for input in step.inputs where input >= 0 && constants[input] == nil { lastUse[input] = position }
        }
        for (value, position) in lastUse.sorted(by: { $0.key < $1.key }) where !graphOutputs.contains(value) {
            steps[position].releases.append(value)
        }
        return steps
    }

    /// Each Conv whose output only a BatchNormalization with constant parameters reads, and/or
    /// whose (or whose BatchNormalization's) output only a unary activation reads, takes those
    /// nodes over as its epilogue and produces the last one's output itself. A value that is a
    /// graph output is never skipped.
    private static func fusingConvEpilogues(
        _ steps: [Step], constants: [Int: Buffer], graphOutputs: Set<Int>, opset: Int64, precision: Precision
    ) -> [Step] {
        var readers: [Int: [Int]] = [:]
        for (position, step) in steps.enumerated() {
            for input in Set(step.inputs) where input >= 0 { readers[input, default: []].append(position) }
        }
        /// The step that alone reads `value`, if `value` is not a graph output.
        func soleReader(of value: Int) -> Int? {
            guard !graphOutputs.contains(value), let list = readers[value], list.count == 1 else { return nil }
            return list[0]
        }
        var absorbed = Set<Int>()
        var result: [Step] = []
        result.reserveCapacity(steps.count)
        for (position, step) in steps.enumerated() where !absorbed.contains(position) {
            guard step.kind == .conv, step.outputs.count == 1, step.outputs[0] >= 0 else {
                result.append(step)
                continue
            }
            var epilogue = ConvEpilogue()
            var output = step.outputs[0]
            var taken: [Int] = []
            if let next = soleReader(of: output), steps[next].kind == .batchNormalization, steps[next].inputs.first == output,
               let coefficients = steps[next].prepared?.batchNorm,
               steps[next].outputs.dropFirst().allSatisfy({ $0 < 0 || (readers[$0] == nil && !graphOutputs.contains($0)) }) {
                epilogue.batchNorm = coefficients
                output = steps[next].outputs[0]
                taken.append(next)
            }
            if output >= 0, let next = soleReader(of: output), steps[next].inputs.first == output, steps[next].outputs.count == 1,
               steps[next].inputs.dropFirst().allSatisfy({ $0 < 0 || constants[$0] != nil }) {
                let candidate = steps[next]
                let context = NodeContext(source: candidate.source, inputs: candidate.inputs.map { constants[$0] },
                                          opset: opset, precision: precision)
                if let activation = try? Operators.activation(candidate.kind, context) {
                    epilogue.activation = activation
                    output = candidate.outputs[0]
                    taken.append(next)
                }
            }
            guard !taken.isEmpty, output >= 0 else {
                result.append(step)
                continue
            }
            var fused = step
            fused.outputs = [output]
            fused.prepared = PreparedNode(epilogue: epilogue, packedWeights: step.prepared?.packedWeights)
            absorbed.formUnion(taken)
            result.append(fused)
        }
        return result
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
        var values = keepingIntermediates ? constantSlots : foldedConstantSlots
        for (name, buffer) in try bind(inputs) {
            guard let index = slots[name] else { continue }
            values[index] = buffer
        }
        var operands: [Buffer?] = []
        for step in keepingIntermediates ? steps : fusedSteps {
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
            let context = NodeContext(source: step.source, inputs: operands, opset: opset, precision: precision, prepared: step.prepared)
            let results = try Operators.evaluate(step.kind, context)
            for (position, output) in step.outputs.enumerated() where output >= 0 {
                guard position < results.count else {
                    throw .invalidNode(node: step.name, op: step.node.opType,
                                       problem: "output \(position) ('\(slotNames[output])') is requested but the operator produces only \(results.count)")
                }
                values[output] = results[position]
            }
            if !keepingIntermediates {
                for value in step.releases { values[value] = nil }
            }
        }
        var tensors: [String: Tensor] = [:]
        var wanted = graph.outputs.map(\.name)
        if keepingIntermediates {
            wanted += values.indices.compactMap { values[$0] != nil && constantSlots[$0] == nil ? slotNames[$0] : nil }
        }
        for name in wanted where tensors[name] == nil {
            guard let index = slots[name], let buffer = values[index], let tensor = buffer.tensor() else {
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
            values[value.name] = Buffer(tensor, precision: precision)
        }
        return values
    }
}

#if os(Linux)
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
#endif
