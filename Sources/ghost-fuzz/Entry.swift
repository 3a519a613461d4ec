import Foundation

#if GHOST_FUZZING
// Built by scripts/fuzz.sh with -sanitize=fuzzer,address. SwiftPM gives executables their own
// entry point, so instead of libFuzzer's main() this one hands control to libFuzzer's driver.
nonisolated(unsafe) private var harness: FuzzHarness?

@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

/// libFuzzer's own main() (which the linker may choose) calls this directly.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    if harness == nil { harness = FuzzHarness.fromEnvironment() }
    harness?.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

@main
struct FuzzMain {
    static func main() {
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzOneInput(data, size) })
    }
}
#else
/// Without the fuzzer: replays files (a corpus, or crashes found earlier) through the harness and
/// prints each outcome, so regressions run in an ordinary build.
///     GHOST_FUZZ_TARGET=onnx ghost-fuzz Tests/Fixtures/malformed-onnx/*.onnx
///     GHOST_FUZZ_TARGET=attributes ghost-fuzz --describe crash-1234   (the case in words)
///     GHOST_FUZZ_TARGET=attributes ghost-fuzz --random 100000 7 [FIRST] (count, seed, first index)
/// `--random` feeds seeded random inputs without coverage guidance, writing each to
/// ghost-fuzz-last.bin (or $GHOST_FUZZ_LAST) and its index to that path + ".index" first, so a
/// trap leaves its reproducer behind and the campaign can resume after it; it ends with the
/// outcomes counted per operator.
@main
struct Replay {
    static func main() {
        let harness = FuzzHarness.fromEnvironment()
        var arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.first == "--random" {
            let count = arguments.count > 1 ? Int(arguments[1]) ?? 1000 : 1000
            let seed = arguments.count > 2 ? UInt64(arguments[2]) ?? 1 : 1
            let first = arguments.count > 3 ? Int(arguments[3]) ?? 0 : 0
            RandomCampaign(harness: harness, seed: seed).run(from: first, count: count)
            return
        }
        let describe = arguments.first == "--describe"
        if describe { arguments.removeFirst() }
        for path in arguments {
            guard let data = FileManager.default.contents(atPath: path) else {
                print("\(path): unreadable")
                continue
            }
            if describe, harness.target == .attributes {
                // On stderr, unbuffered: the case must be on screen before a crash.
                FileHandle.standardError.write(Data((data.withUnsafeBytes { AttributeFuzzing.describe($0) } + "\n").utf8))
            }
            let outcome = data.withUnsafeBytes { harness.run($0) }
            print("\(path): \(outcome)")
        }
    }
}

/// Seeded random inputs, half their bytes zero (so most decisions keep the valid value and the
/// rest reach deep into a template).
struct RandomCampaign {
    let harness: FuzzHarness
    let seed: UInt64

    /// Input `index` of the campaign: its own SplitMix64 stream, so a campaign resumes anywhere.
    func input(_ index: Int) -> [UInt8] {
        var state = seed &* 0x2545_F491_4F6C_DD1D ^ UInt64(index)
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        let length = Int(next() % 96)
        // The first byte picks the template: always drawn, so every operator gets its share.
        return (0..<length).map { position -> UInt8 in
            let draw = next()
            return draw & 1 == 0 && position > 0 ? 0 : UInt8(truncatingIfNeeded: draw >> 8)
        }
    }

    func run(from first: Int, count: Int) {
        let last = ProcessInfo.processInfo.environment["GHOST_FUZZ_LAST"] ?? "ghost-fuzz-last.bin"
        var tally: [String: Int] = [:]
        let start = ContinuousClock.now
        for index in first..<(first + count) {
            let input = input(index)
            _ = FileManager.default.createFile(atPath: last, contents: Data(input))
            _ = FileManager.default.createFile(atPath: last + ".index", contents: Data("\(index)\n".utf8))
            let began = ContinuousClock.now
            let outcome = input.withUnsafeBytes { harness.run($0) }
            if ContinuousClock.now - began > .seconds(2) {
                print("slow (\(ContinuousClock.now - began)): \(input.map { String($0, radix: 16) }.joined(separator: " "))")
            }
            let label = harness.target == .attributes ? input.withUnsafeBytes { AttributeFuzzing.build($0).0.op } + " " : ""
            tally[label + outcome, default: 0] += 1
        }
        for (key, number) in tally.sorted(by: { $0.key < $1.key }) { print("\(number)\t\(key)") }
        print("\(count) inputs in \(ContinuousClock.now - start)")
    }
}
#endif
