import ArgumentParser
import GhostGate

/// What `verify` and `gate` compare: the graph outputs and every value both graphs compute under
/// the same name (`--intermediates`), or the outputs alone (`--outputs-only`, the default).
enum ComparedValues: String, EnumerableFlag {
    case outputsOnly
    case intermediates

    static func help(for value: ComparedValues) -> ArgumentHelp? {
        switch value {
        case .outputsOnly: "Compare the graph outputs only (the default)."
        case .intermediates:
            "Also compare every value both graphs compute under the same name (not downstream of a TopK, ArgMax, NonZero or Hardmax), through a bounded summary of each: a defect the outputs damp below the tolerance fails too, at its node."
        }
    }
}

/// The check every model gets, shared by `gate` and `mutate-check` (which tests exactly that check).
struct GateCheckOptions: ParsableArguments {
    @Option(help: "Largest allowed max|a − b| / max|a| per output (and compared value) and sample.")
    var tolerance: Double = 1e-5

    @Option(help: "Random N(0,1) samples per model.")
    var samples = 4

    @Option(help: "Seed of the random samples.")
    var seed: UInt64 = 0

    @Option(name: .customLong("shape"), help: "Shape of an input by name, for every model that has it: NAME=1x3x224x224 (repeatable). Other symbolic dimensions are 1.")
    var shapes: [String] = []

    @Flag var compared: ComparedValues = .outputsOnly

    @OptionGroup var interpreter: InterpreterOptions

    /// These settings on a fresh configuration.
    func configuration() throws -> GateConfiguration {
        var configuration = GateConfiguration()
        configuration.tolerance = tolerance
        configuration.samples = samples
        configuration.seed = seed
        configuration.arithmetic = interpreter.precision == .f64 ? .f64 : .f32
        configuration.threads = interpreter.threads
        configuration.intermediates = compared == .intermediates
        for argument in shapes {
            let (name, shape) = try InputArrays.parseShape(argument)
            configuration.shapes[name] = shape
        }
        return configuration
    }
}
