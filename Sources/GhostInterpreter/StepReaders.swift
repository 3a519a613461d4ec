/// Which steps of a plan read each value slot, for the fusions that let one step take over a
/// chain of steps (Conv epilogues, SiLU, the GELU chain, attention): a value read outside the
/// chain, or a graph output, must still be produced, so only a sole reader can absorb it.
struct StepReaders {
    private var readers: [Int: [Int]] = [:]
    private let graphOutputs: Set<Int>

    init(_ steps: [ExecutionPlan.Step], graphOutputs: Set<Int>) {
        for (position, step) in steps.enumerated() {
            for input in Set(step.inputs) where input >= 0 { readers[input, default: []].append(position) }
        }
        self.graphOutputs = graphOutputs
    }

    /// The positions of the steps that read `value`, ascending, each once; nil when none does.
    subscript(value: Int) -> [Int]? { readers[value] }

    /// The step that alone reads `value`, if `value` is not a graph output.
    func soleReader(of value: Int) -> Int? {
        guard value >= 0, !graphOutputs.contains(value), let list = readers[value], list.count == 1 else { return nil }
        return list[0]
    }
}

extension ExecutionPlan.Step {
    /// `steps` evaluated in turn, as the unfused plan runs them, from `known` values (constants
    /// and the chain's inputs): a fused step's fallback when its fast path does not apply, so the
    /// nodes give their own results and errors. Returns the last step's first output.
    static func evaluateInTurn(_ steps: [ExecutionPlan.Step], known values: [Int: Buffer], opset: Int64,
                               precision: Precision, chain: String) throws(InterpreterError) -> Buffer {
        var known = values
        var last: Buffer?
        for step in steps {
            let context = NodeContext(source: step.source, inputs: step.inputs.map { $0 < 0 ? nil : known[$0] },
                                      opset: opset, precision: precision, prepared: step.prepared)
            let results = try step.operation.evaluate(context)
            guard let first = results.first else { throw context.fail("produced no output") }
            known[step.outputs[0]] = first
            last = first
        }
        guard let last else { throw .graph(problem: "the \(chain) did not produce its output") }
        return last
    }
}
