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
@main
struct Replay {
    static func main() {
        let harness = FuzzHarness.fromEnvironment()
        for path in CommandLine.arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else {
                print("\(path): unreadable")
                continue
            }
            let outcome = data.withUnsafeBytes { harness.run($0) }
            print("\(path): \(outcome)")
        }
    }
}
#endif
