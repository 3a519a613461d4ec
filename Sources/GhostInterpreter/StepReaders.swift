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
