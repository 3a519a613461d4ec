import GhostInterpreter
import GhostIR

/// Runs graphs for the verifier with the reference interpreter.
public struct InterpreterExecutor: GraphExecutor {
    public let precision: Precision
    public let threads: Int

    public init(precision: Precision, threads: Int = 1) {
        self.precision = precision
        self.threads = threads
    }

    public func execute(_ graph: Graph, inputs: [String: Tensor], intermediates: Bool) throws -> [String: Tensor] {
        try Interpreter(graph: graph, precision: precision, threads: threads).run(inputs, keepingIntermediates: intermediates)
    }
}

extension InterpreterExecutor {
    public func observe(_ graph: Graph, inputs: [String: Tensor], keeping: Set<String>, summarizer: ValueSummarizer) throws -> ObservedRun {
        try Interpreter(graph: graph, precision: precision, threads: threads).observe(inputs, keeping: keeping, summarizer: summarizer)
    }
}
