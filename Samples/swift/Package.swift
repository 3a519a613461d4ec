// swift-tools-version: 6.1
// A Swift program using ghost-convert as a library: load an ONNX export, fuse it, write the
// deployable .gwt, read it back, run it and compare with the original and the golden. Built and
// run in CI (scripts/test.sh), where a mismatch fails the build.
import PackageDescription

let package = Package(
    name: "FuseAndRun",
    dependencies: [.package(name: "ghost-convert", path: "../..")],
    targets: [
        .executableTarget(
            name: "FuseAndRun",
            dependencies: [
                .product(name: "GhostONNX", package: "ghost-convert"),
                .product(name: "GhostPasses", package: "ghost-convert"),
                .product(name: "GhostGWT", package: "ghost-convert"),
                .product(name: "GhostInterpreter", package: "ghost-convert"),
                .product(name: "GhostIR", package: "ghost-convert"),
                .product(name: "GhostNumPy", package: "ghost-convert"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
