import Foundation
import GhostInterpreter

/// How every model of a gate run is checked. Codable: the parent hands it to each worker process.
public struct GateConfiguration: Codable, Equatable, Sendable {
    public enum Format: String, Codable, Sendable, CaseIterable {
        case gwt, onnx
    }

    public enum Arithmetic: String, Codable, Sendable, CaseIterable {
        case f32, f64
        public var precision: Precision { self == .f64 ? .float64 : .float32 }
    }

    /// Largest allowed max|a − b| / max|a| per output and sample.
    public var tolerance: Double = 1e-5
    /// Random N(0, 1) samples per model.
    public var samples = 4
    public var seed: UInt64 = 0
    /// f64 by default, like `verify`: float32 rounding noise of two correct graphs reaches 1e-5
    /// on deep nets (docs/verify.md).
    public var arithmetic: Arithmetic = .f64
    /// Interpreter threads per model (the workers already run side by side).
    public var threads = 1
    /// Full shapes for inputs by name (any model with that input); other symbolic dimensions are 1.
    public var shapes: [String: [Int]] = [:]
    /// Where equivalent fused models are written, keeping the layout relative to their root.
    public var outputDirectory: String?
    public var formats: [Format] = []
    /// Also compare every value both graphs compute under the same name, not only the outputs
    /// (`Verifier.checksIntermediates`, docs/verify.md).
    public var intermediates = false
    /// Recorded as the `tool` of written .gwt files.
    public var tool = "ghost-convert"

    public init() {}

    public func validate() throws(GateUsageError) {
        guard tolerance >= 0, !tolerance.isNaN else { throw .invalidOption("--tolerance must not be negative") }
        guard samples >= 1 else { throw .invalidOption("--samples must be at least 1") }
        guard threads >= 1 else { throw .invalidOption("--threads must be at least 1") }
        if outputDirectory != nil, formats.isEmpty { throw .invalidOption("--output-dir needs at least one --format") }
        if outputDirectory == nil, !formats.isEmpty { throw .invalidOption("--format needs --output-dir") }
    }
}
