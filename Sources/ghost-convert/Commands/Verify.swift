import ArgumentParser
import Foundation
import GhostGate
import GhostIR
import GhostVerify

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Prove a fused model computes what the original does: a numerical-equivalence gate.",
        discussion: """
            Runs ORIGINAL and FUSED (.onnx or .gwt) in the reference interpreter on the same inputs \
            and compares every output: rel = max|a − b| / max|a| must stay within --tolerance \
            (default 1e-5), or, with --atol/--rtol, every element must satisfy \
            |a − b| ≤ atol + rtol·|a|. Also reported: max abs error, cosine similarity and the \
            worst element's index. When an output differs, the intermediate values both graphs \
            share are compared in order and the first diverging node of the fused graph is named, \
            with the source nodes it was fused from.

            --intermediates makes those shared values part of the verdict: every value both \
            graphs compute under the same name (a fused node keeps the name of the last node it \
            replaces) is compared on every sample, through a bounded summary (max |x| and 4096 \
            stratified elements), with the same metric; one past the tolerance fails (exit 3) and \
            is named. Values downstream of a selection are skipped. --outputs-only (the default) \
            compares the outputs alone. docs/verify.md has the design and the figures.

            Selections: when the first divergence is at a TopK, ArgMax, ArgMin, NonZero or Hardmax, \
            verify says so: equivalent graphs can select differently on rounding alone (DETR-style \
            query selection, YOLOv10's end-to-end head). --compare NAME (repeatable) compares those \
            named values of both graphs instead of the outputs, e.g. the scores before the TopK.

            Inputs: --input x.npy (a graph with one input) or --input NAME=path.npy, repeatable; \
            otherwise --samples N random N(0,1) inputs (default 4, seed 0). Inputs with symbolic \
            dimensions need --shape NAME=1x3x224x224.

            Exit codes: 0 equivalent, 3 not equivalent, 2 bad input or usage (unreadable file, \
            graphs with different inputs or outputs), 1 internal error.

            Examples:
              ghost-convert verify model.onnx model.gwt --tolerance 1e-5
              ghost-convert verify model.onnx fused.onnx --samples 16 --seed 7 --report verify.json
              ghost-convert verify model.onnx model.gwt --precision f64 --tolerance 1e-10
            """
    )

    @Argument(help: "The original model.")
    var original: String

    @Argument(help: "The fused model to check against it.")
    var fused: String

    @Option(help: "Largest allowed max|a − b| / max|a| per output and sample.")
    var tolerance: Double = 1e-5

    @Option(help: "Absolute tolerance of the elementwise test (with --rtol, replaces --tolerance).")
    var atol: Double?

    @Option(help: "Relative tolerance of the elementwise test (with --atol).")
    var rtol: Double?

    @Option(name: .customLong("compare"), help: "Compare this named value of both graphs instead of the outputs (repeatable), e.g. the neck's output before a TopK.")
    var comparedValues: [String] = []

    @Flag var compared: ComparedValues = .outputsOnly

    @OptionGroup var inputs: InputOptions

    @Option(help: "Random samples when no --input is given.")
    var samples = 4

    @OptionGroup var interpreter: InterpreterOptions

    @Option(help: "Write every figure as JSON to this path (keys in docs/cli.md).")
    var report: String?

    @Option(help: "Write a JUnit XML report (one testcase) to this path.")
    var junit: String?

    @Flag(help: "No progress line, even on a terminal.")
    var quiet = false

    func validate() throws {
        guard (atol == nil) == (rtol == nil) else { throw ValidationError("--atol and --rtol go together") }
        guard samples >= 1 else { throw ValidationError("--samples must be at least 1") }
        for (name, value) in [("--tolerance", tolerance), ("--atol", atol), ("--rtol", rtol)] {
            guard let value else { continue }
            guard value.isFinite, value >= 0 else {
                throw ValidationError("\(name) must be a finite number ≥ 0, got \(value) (a NaN or infinite bound would accept any difference)")
            }
        }
    }

    func run() throws {
        let start = ContinuousClock.now
        let progress = Progress(label: "verify", quiet: quiet)
        let originalModel = try ModelFile.load(original)
        let fusedModel = try ModelFile.load(fused)
        var files = CommandFiles()
        files.reads(model: original, externalData: originalModel.externalData, as: "ORIGINAL")
        files.reads(model: fused, externalData: fusedModel.externalData, as: "FUSED")
        try inputs.record(in: &files, for: originalModel.graph)
        if let report { try files.writes(report, as: "--report") }
        if let junit { try files.writes(junit, as: "--junit") }
        progress.update("loaded both models")
        let criterion: Tolerance = if let atol, let rtol { .allclose(atol: atol, rtol: rtol) } else { .relative(tolerance) }
        let executor = InterpreterExecutor(precision: interpreter.interpreterPrecision, threads: interpreter.threads)
        let verifier = Verifier(executor: executor, tolerance: criterion, comparedValues: comparedValues,
                                checksIntermediates: compared == .intermediates)
        try verifier.checkInterfaces(original: originalModel.graph, fused: fusedModel.graph)
        // Random samples are drawn one at a time (in seed order), so --samples 10000 needs the
        // memory of one.
        let given = inputs.files.isEmpty ? nil : try inputs.loadFiles(for: originalModel.graph)
        let count = given == nil ? samples : 1
        let bindings = try inputs.shapeBindings(), budget = try inputs.memoryBudget()
        if given == nil { _ = try RandomInputs.sampleBytes(for: originalModel.graph, shapes: bindings, memoryBudget: budget) }
        var random = RandomInputs(seed: inputs.seed)
        let graph = originalModel.graph
        let result = try verifier.verify(original: originalModel.graph, fused: fusedModel.graph, sampleCount: count, sample: { _ throws(VerifyError) in
            if let given { return given }
            return try random.sample(for: graph, shapes: bindings, memoryBudget: budget)
        }) { done in
            progress.update("\(done) of \(count) samples through both graphs")
        }
        progress.finish()
        let summary = VerifyReport(original: original, fused: fused, precision: interpreter.precision.rawValue,
                                   tolerance: criterion, samples: count, result: result)
        if let report { try summary.write(to: report) }
        if let junit {
            try JUnitReport.writeVerify(original: original, fused: fused, result: result, since: start, tolerance: criterion,
                                        precision: interpreter.precision.rawValue, samples: count, to: junit)
        }
        FileHandle.standardError.write(Data((summary.text + "\n").utf8))
        if !result.equivalent {
            throw CommandVerdict.notEquivalent
        }
    }
}
