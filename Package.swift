// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "ghost-convert",
    products: [
        .library(name: "GhostIR", targets: ["GhostIR"]),
        .library(name: "GhostONNX", targets: ["GhostONNX"]),
        .library(name: "GhostPasses", targets: ["GhostPasses"]),
        .library(name: "GhostGWT", targets: ["GhostGWT"]),
        .library(name: "GhostInterpreter", targets: ["GhostInterpreter"]),
        .library(name: "GhostVerify", targets: ["GhostVerify"]),
        .library(name: "GhostNumPy", targets: ["GhostNumPy"]),
        .library(name: "GhostGate", targets: ["GhostGate"]),
        .library(name: "GhostMutation", targets: ["GhostMutation"]),
        .executable(name: "ghost-convert", targets: ["ghost-convert"]),
    ],
    traits: [
        .trait(
            name: "Jemalloc",
            description: "Link jemalloc (Debian: libjemalloc-dev) statically into ghost-convert in place of glibc's malloc: fuse on large graphs allocates and frees millions of small objects, which glibc's allocator serves more slowly (RepVGG at 200k nodes: 14%, docs/performance.md). Off: `swift build --disable-default-traits`."
        ),
        .default(enabledTraits: ["Jemalloc"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // Graph IR: the one data structure every other module speaks. Foundation only.
        .target(name: "GhostIR"),

        // libprotobuf-c from the system (Debian: libprotobuf-c-dev).
        .systemLibrary(
            name: "CProtobufC",
            pkgConfig: "libprotobuf-c",
            providers: [.apt(["libprotobuf-c-dev"])]
        ),
        // Our ONNX schema subset and its committed protoc-c output (scripts/regenerate-proto.sh).
        .target(
            name: "CONNXProto",
            dependencies: ["CProtobufC"],
            exclude: ["proto"]
        ),

        // ONNX <-> GhostIR.
        .target(name: "GhostONNX", dependencies: ["GhostIR", "CONNXProto", "CProtobufC"]),

        // Every graph rewrite, and the ordered pipeline that runs them.
        .target(name: "GhostPasses", dependencies: ["GhostIR"]),

        // zlib (crc32) and OpenSSL's libcrypto (SHA-256) from the system.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        // The .gwt deployable weight file (docs/gwt-format.md).
        .target(name: "GhostGWT", dependencies: ["GhostIR", "CZlib", "CCrypto"]),

        // Reference execution of a graph in float32 or float64.
        // Vectorized inner loops compiled per x86 vector width, chosen at load time, and
        // OpenBLAS (Debian: libopenblas0), loaded on first use rather than linked.
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-O3"])]),
        .target(name: "GhostInterpreter", dependencies: ["GhostIR", "CKernels"]),
        // Equivalence checking: run both graphs, compare, localize the first divergence.
        .target(name: "GhostVerify", dependencies: ["GhostIR", "GhostInterpreter"]),
        // Graphviz drawings of graphs (`ghost-convert graph`).
        .target(name: "GhostDot", dependencies: ["GhostIR"]),
        // .npy files <-> GhostIR tensors (inputs, goldens, `run` outputs).
        .target(name: "GhostNumPy", dependencies: ["GhostIR"]),

        // Signal handlers of the command-line tool: temporary files removed on SIGINT/SIGTERM/SIGHUP,
        // a fault on a file that shrank while mapped reported as [file-changed].
        .target(name: "CProcessGuard"),

        // Deliberate defects planted in fused graphs, to test the gate itself (`mutate-check`).
        // GhostIR only: it must not share code with the passes it is used to check.
        .target(name: "GhostMutation", dependencies: ["GhostIR"]),

        // The CI gate over a model zoo: discovery, sharding, one worker process per model, reports.
        .target(name: "GhostGate",
                dependencies: ["GhostIR", "GhostONNX", "GhostPasses", "GhostGWT", "GhostVerify", "GhostInterpreter", "GhostMutation"]),

        // jemalloc's settings for the tool's process (the Jemalloc trait links jemalloc itself).
        .target(name: "CAllocator"),

        // The command-line tool: argument parsing, progress and exit codes only.
        .executableTarget(
            name: "ghost-convert",
            dependencies: [
                "GhostIR", "GhostONNX", "GhostPasses", "GhostGWT", "GhostInterpreter", "GhostVerify", "GhostNumPy", "GhostDot", "GhostGate", "GhostMutation",
                "CProcessGuard", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .target(name: "CAllocator", condition: .when(traits: ["Jemalloc"])),
            ],
            // The archive's malloc, free and friends are defined in the executable, so they take
            // the place of glibc's for the whole process (the Swift runtime's allocations too).
            // `-l:` names the PIC archive, not libjemalloc.so: the installed tool needs no
            // libjemalloc at run time.
            linkerSettings: [
                .unsafeFlags(["-Xlinker", "-l:libjemalloc_pic.a"], .when(platforms: [.linux], traits: ["Jemalloc"])),
            ]
        ),

        // Fuzzing harness for the file readers (scripts/fuzz.sh); without the fuzzer it replays files.
        .executableTarget(name: "ghost-fuzz", dependencies: ["GhostIR", "GhostONNX", "GhostGWT", "GhostNumPy", "GhostInterpreter"]),

        // What every test target shares: NaN-aware comparisons, seeded random numbers, temporary
        // directories, the repository root.
        .target(name: "TestSupport", dependencies: ["GhostIR"], path: "Tests/TestSupport"),

        .testTarget(name: "GhostIRTests", dependencies: ["TestSupport", "GhostIR"]),
        .testTarget(name: "GhostONNXTests", dependencies: ["TestSupport", "GhostONNX", "GhostIR"]),
        .testTarget(name: "GhostInterpreterTests",
                    dependencies: ["TestSupport", "GhostInterpreter", "GhostNumPy", "GhostONNX", "GhostIR", "CKernels"]),
        .testTarget(name: "GhostPassesTests",
                    dependencies: ["TestSupport", "GhostPasses", "GhostInterpreter", "GhostONNX", "GhostNumPy", "GhostIR"]),
        .testTarget(name: "GhostGWTTests", dependencies: ["TestSupport", "GhostGWT", "GhostIR"]),
        .testTarget(name: "GhostVerifyTests", dependencies: ["GhostVerify", "GhostPasses", "GhostIR"]),
        .testTarget(name: "GhostNumPyTests", dependencies: ["TestSupport", "GhostNumPy", "GhostIR"]),
        .testTarget(name: "GhostGateTests", dependencies: ["TestSupport", "GhostGate", "GhostMutation", "GhostONNX", "GhostPasses", "GhostGWT", "GhostIR"]),
        .testTarget(name: "GhostMutationTests", dependencies: ["TestSupport", "GhostMutation", "GhostIR"]),
        .testTarget(name: "GhostConvertCLITests", dependencies: ["TestSupport", "ghost-convert", "GhostONNX", "GhostGWT", "GhostIR", "GhostNumPy"]),
    ],
    swiftLanguageModes: [.v6]
)
