import GhostIR

/// How a graph runs, worked out once when the `Interpreter` is made: every value's slot, the steps
/// in topological order with their operator rows, what each step prepares (packed weights,
/// BatchNormalization coefficients), the nodes that read only constants (computed here), the
/// Conv epilogues, and which values each step frees.
struct ExecutionPlan: Sendable {
    /// One node to evaluate, resolved once.
    struct Step: Sendable {
        /// The node, and its name or "OpType #index" (its position in the file) when it has none.
        let source: NodeSource
        let operation: OperatorDefinition
        var node: Node { source.node }
        var name: String { source.name }
        /// Slots of the inputs and outputs; -1 for an omitted optional one.
        let inputs: [Int]
        var outputs: [Int]
        var prepared: PreparedNode?
        /// Slots whose last reader this step is: freed after it unless intermediates are kept.
        var releases: [Int] = []
    }

    let opset: Int64
    let precision: Precision
    /// Every node, in topological order: what runs when intermediates are kept.
    let steps: [Step]
    /// The same with each Conv absorbing the BatchNormalization and activation that only it
    /// feeds (`ConvEpilogue`), each exported GELU chain as one step (`GeluChain`), and without
    /// the nodes computed ahead: what runs otherwise.
    /// Bit-identical results, fewer passes.
    let fusedSteps: [Step]
    /// Every value name has a slot; a run keeps its values in an array indexed by slot.
    let slotNames: [String]
    let slots: [String: Int]
    /// Constants in their slots (nil elsewhere): the starting state of every run that keeps
    /// intermediates.
    let constantSlots: [Buffer?]
    /// The same plus the outputs of nodes that read only constants (Constant nodes, shape
    /// arithmetic on them), computed once: the starting state of `fusedSteps`.
    let foldedConstantSlots: [Buffer?]
    let nodesFusedIntoConvs: Int
    let nodesComputedAhead: Int
    /// Nodes that run inside a fused exported GELU chain (`GeluChain`): four per chain.
    let nodesFusedIntoGelus: Int

    init(graph: Graph, precision: Precision, threads: Int) throws(InterpreterError) {
        let opset = graph.onnxOpsetVersion ?? 17
        self.opset = opset
        self.precision = precision
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

        var declaredTypes: [String: ElementType] = [:]
        for value in graph.inputs + graph.valueInfo + graph.outputs { if let type = value.elementType { declaredTypes[value.name] = type } }
        let options = PlanOptions(precision: precision, threads: threads)
        var steps: [Step] = []
        steps.reserveCapacity(order.count)
        for index in order {
            let node = graph.nodes[index]
            let name = node.displayName(index: index)
            guard let operation = OperatorRegistry.definition(opType: node.opType, domain: node.domain) else {
                throw .unsupportedOperator(node: name, op: node.opType, domain: node.domain)
            }
            let inputs = node.inputs.map(slot)
            let outputs = node.outputs.map(slot)
            // Work that depends only on constants is done once, here; if it fails, the run
            // reports the same error from the node itself.
            let source = NodeSource(node: node, name: name, inputTypes: node.inputs.map { declaredTypes[$0] })
            let prepared = operation.prepare.flatMap { prepare in
                prepare(NodeContext(source: source, inputs: inputs.map { constants[$0] }, opset: opset, precision: precision), options)
            }
            steps.append(Step(source: source, operation: operation, inputs: inputs, outputs: outputs, prepared: prepared))
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
        let gelus = GeluChain.fusing(fused, constants: allConstants, graphOutputs: graphOutputs, opset: opset, precision: precision)
        let attention = AttentionChain.fusing(gelus.steps, constants: allConstants, graphOutputs: graphOutputs, opset: opset, precision: precision)
        fusedSteps = Self.withReleases(SiLUFusion.fusing(attention, graphOutputs: graphOutputs), constants: allConstants,
                                       graphOutputs: graphOutputs)
        nodesFusedIntoGelus = gelus.fused
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
            guard let results = try? step.operation.evaluate(context), results.count >= step.outputs.count,
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
    /// whose (or whose BatchNormalization's) output only a unary activation reads — or only the
    /// Sigmoid and Mul of SiLU — takes those nodes over as its epilogue and produces the last
    /// one's output itself. A value that is a
    /// graph output is never skipped.
    private static func fusingConvEpilogues(
        _ steps: [Step], constants: [Int: Buffer], graphOutputs: Set<Int>, opset: Int64, precision: Precision
    ) -> [Step] {
        let readers = StepReaders(steps, graphOutputs: graphOutputs)
        /// SiLU as exported (`Mul(x, Sigmoid(x))`, either operand order): the Sigmoid and Mul steps
        /// when they are the only readers of `value` and the Sigmoid's output feeds only the Mul.
        func siluPair(reading value: Int) -> (sigmoid: Int, product: Int)? {
            guard !graphOutputs.contains(value), let list = readers[value], list.count == 2 else { return nil }
            for (sigmoid, product) in [(list[0], list[1]), (list[1], list[0])] {
                let s = steps[sigmoid], p = steps[product]
                guard s.node.opType == "Sigmoid", s.inputs == [value], s.outputs.count == 1, s.outputs[0] >= 0,
                      readers.soleReader(of: s.outputs[0]) == product,
                      p.node.opType == "Mul", p.inputs.count == 2, Set(p.inputs) == [value, s.outputs[0]],
                      p.outputs.count == 1, p.outputs[0] >= 0 else { continue }
                return (sigmoid, product)
            }
            return nil
        }
        var absorbed = Set<Int>()
        var result: [Step] = []
        result.reserveCapacity(steps.count)
        for (position, step) in steps.enumerated() where !absorbed.contains(position) {
            guard step.operation.role == .convolution, step.outputs.count == 1, step.outputs[0] >= 0 else {
                result.append(step)
                continue
            }
            var epilogue = ConvEpilogue()
            var output = step.outputs[0]
            var taken: [Int] = []
            if let next = readers.soleReader(of: output), steps[next].operation.role == .batchNormalization, steps[next].inputs.first == output,
               let coefficients = steps[next].prepared?.batchNorm,
               steps[next].outputs.dropFirst().allSatisfy({ $0 < 0 || (readers[$0] == nil && !graphOutputs.contains($0)) }) {
                epilogue.batchNorm = coefficients
                output = steps[next].outputs[0]
                taken.append(next)
            }
            if output >= 0, let next = readers.soleReader(of: output), steps[next].inputs.first == output, steps[next].outputs.count == 1,
               steps[next].inputs.dropFirst().allSatisfy({ $0 < 0 || constants[$0] != nil }), let activation = steps[next].operation.activation {
                let candidate = steps[next]
                let context = NodeContext(source: candidate.source, inputs: candidate.inputs.map { constants[$0] },
                                          opset: opset, precision: precision)
                if let function = try? activation(context) {
                    epilogue.activation = function
                    output = candidate.outputs[0]
                    taken.append(next)
                }
            }
            if epilogue.activation == nil, output >= 0, let (sigmoid, product) = siluPair(reading: output) {
                epilogue.activation = .silu
                output = steps[product].outputs[0]
                taken += [sigmoid, product]
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
}
