import ArgumentParser
import Foundation
import GhostGate
import GhostMutation

struct MutateCheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mutate-check",
        abstract: "Test the gate itself: plant defects in each fused model and check that the gate catches every one.",
        discussion: """
            For every .onnx model under PATH… (found as `gate` finds them): fuse it with the default \
            pipeline, check that the gate passes the correct fusion (same verifier, tolerance, \
            samples and f64 default as `gate`), then plant mutants in the fused graph, one kind at \
            a time, and verify each against the original:

              scale-weight     a Conv's whole weight × (1 + 1e-4)
              zero-bias        a Conv's non-zero bias set to 0
              swap-kernels     two differing output kernels exchanged
              permute-channel  two differing input channels exchanged
              swap-activation  Relu → Relu6 or LeakyRelu, Sigmoid ↔ HardSigmoid,
                               HardSwish → x·Sigmoid(x)
              change-epsilon   a normalization's epsilon 1e-5 ↔ 1e-3

            Sites are picked from a seed (--mutation-seed) among live nodes, avoiding mutants \
            that change nothing (identical kernels, a zero bias, Relu6 where no input exceeds 6 \
            on the samples); when a kind has only such sites, one is run and reported as \
            equivalent with the reason. A kind with no site at all (no normalization left after \
            folding) is reported as "no site".

            Each mutant is: caught (the gate exits 3; the first divergence is named and said to be \
            the mutated node, downstream of it, or elsewhere), equivalent, or MISSED (the gate \
            passed a graph that computes something else; the line gives how far the mutated \
            node's own output moved).

            --intermediates tests `gate --intermediates` (every value both graphs name alike \
            compared too), which catches defects the outputs damp below the tolerance; \
            Benchmarks/gate/mutation.sh runs with it.

            Exit codes: 0 every mutant caught or equivalent and every correct fusion passed; 3 a \
            mutant was missed or a correct fusion failed; 2 a model or mutant could not be checked, \
            or bad usage; 1 internal error.

            Examples:
              ghost-convert mutate-check Models/
              ghost-convert mutate-check Models/ --per-kind 3 --markdown m.md --json m.json
              ghost-convert mutate-check Models/tiny_external --kinds zero-bias
            """
    )

    @Argument(help: "Model files or directories to search for .onnx files.")
    var paths: [String]

    @Option(name: .customLong("exclude"), help: "Leave out paths matching this glob (relative path or file name; repeatable).")
    var excludes: [String] = []

    @Option(help: "Mutation kinds to plant, comma-separated (default: all six).")
    var kinds: String?

    @Option(help: "Mutants per kind and model, at distinct nodes.")
    var perKind = 1

    @Option(help: "Seed of the site picker.")
    var mutationSeed: UInt64 = 0

    @OptionGroup var check: GateCheckOptions

    @Option(help: "Models checked at once, in this process (default 1).")
    var jobs = 1

    @Option(help: "Write the models × kinds table (Markdown) here.")
    var markdown: String?

    @Option(help: "Write every record as JSON here.")
    var json: String?

    func validate() throws {
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
        let configuration = try mutationConfiguration()
        do { try configuration.validate() } catch { throw ValidationError(error.description) }
    }

    func mutationConfiguration() throws -> MutationConfiguration {
        var configuration = MutationConfiguration()
        configuration.gate = try check.configuration()
        configuration.perKind = perKind
        configuration.mutationSeed = mutationSeed
        if let kinds {
            configuration.kinds = try kinds.split(separator: ",").map { name in
                guard let kind = Mutant.Kind(rawValue: name.trimmingCharacters(in: .whitespaces)) else {
                    throw ValidationError("--kinds: unknown kind '\(name)'; known: \(Mutant.Kind.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                return kind
            }
        }
        return configuration
    }

    func run() throws {
        let configuration = try mutationConfiguration()
        let entries: [ModelEntry]
        do {
            entries = try ModelDiscovery.discover(paths, excluding: excludes)
        } catch {
            throw ValidationError(error.description)
        }
        guard !entries.isEmpty else { throw ValidationError(GateUsageError.noModels(paths: paths).description) }
        let records = MutationCheck.run(entries, configuration: configuration, jobs: jobs) { record, done, total in
            var lines = ["mutate-check: [\(done)/\(total)] \(record.path): correct fusion \(record.baseline.headline(criterion: GateSettings(configuration.gate).criterion))"]
            if let notRun = record.notRun { lines.append("  mutants not run: \(notRun)") }
            for result in record.kinds {
                if let noSite = result.noSite { lines.append("  no site    \(result.kind.rawValue): \(noSite)") }
                lines += result.mutants.map { "  " + MutationReport.line($0) }
            }
            lines.append(String(format: "  (%.1f s)", record.seconds))
            FileHandle.standardError.write(Data((lines.joined(separator: "\n") + "\n").utf8))
        }
        let table = MutationReport.markdown(records, configuration: configuration)
        if let markdown { try MutationReport.write(table, to: markdown) }
        if let json { try MutationReport.writeJSON(records, to: json) }
        var all = MutationTally()
        for record in records { all.add(contentsOf: record.kinds) }
        let failing = records.filter { $0.baseline.outcome != .equivalent }.count
        FileHandle.standardError.write(Data(("mutate-check: \(records.count) model\(records.count == 1 ? "" : "s") (\(failing) correct fusion\(failing == 1 ? "" : "s") not passing): "
            + "\(all.caught) caught (\(all.caughtAtMutatedNode) named at the mutated node), \(all.equivalent) equivalent, "
            + "\(all.missed) missed, \(all.errors) errors, \(all.noSite) kind\(all.noSite == 1 ? "" : "s") with no site\n").utf8))
        let code = MutationExitCode.of(records)
        if code != ExitStatus.Code.success.rawValue { throw CommandVerdict.mutation(code) }
    }
}
