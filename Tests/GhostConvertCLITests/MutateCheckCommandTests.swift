import Foundation
import Testing
import TestSupport

/// `mutate-check` on the smallest bundled model: every kind with a site caught, the epsilon kind
/// "no site", exit 0, and the Markdown table written.
@Test func mutateCheckCatchesEveryMutantOfTheTinyModel() throws {
    let directory = try temporaryDirectory("mutate-cli")
    defer { try? FileManager.default.removeItem(at: directory) }
    let table = directory.appendingPathComponent("mutation.md").path
    let result = try CLI.run(["mutate-check", repositoryRoot.appendingPathComponent("Models/tiny_external").path,
                              "--samples", "2", "--markdown", table])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stderr.contains("5 caught (5 named at the mutated node), 0 equivalent, 0 missed, 0 errors, 1 kind with no site"))
    let markdown = try String(contentsOfFile: table, encoding: .utf8)
    #expect(markdown.contains("| model | correct fusion | scale-weight | zero-bias | swap-kernels | permute-channel | swap-activation | change-epsilon |"))
}

@Test func mutateCheckRefusesAnUnknownKind() throws {
    let result = try CLI.run(["mutate-check", repositoryRoot.appendingPathComponent("Models/tiny_external").path, "--kinds", "scale-weight,flip-sign"])
    #expect(result.status == 2)
    #expect(result.stderr.contains("unknown kind 'flip-sign'"))
}

/// `gate --timeout`: a limit no worker can meet makes every model a [timeout] error, exit 2.
@Test func gateTimeoutStopsTheWorkerAndExitsTwo() throws {
    let directory = try temporaryDirectory("gate-timeout-cli")
    defer { try? FileManager.default.removeItem(at: directory) }
    let junit = directory.appendingPathComponent("gate.xml").path
    let result = try CLI.run(["gate", repositoryRoot.appendingPathComponent("Models/tiny_external").path,
                              "--timeout", "0.001", "--junit", junit, "--quiet"])
    #expect(result.status == 2, "\(result.stderr)")
    #expect(result.stderr.contains("[timeout]"))
    #expect(try String(contentsOfFile: junit, encoding: .utf8).contains("type=\"timeout\""))
    let bad = try CLI.run(["gate", repositoryRoot.appendingPathComponent("Models/tiny_external").path, "--timeout", "-1"])
    #expect(bad.status == 2 && bad.stderr.contains("--timeout"))
}
