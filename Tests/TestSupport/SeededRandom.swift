/// Deterministic pseudo-random numbers (SplitMix64), so test data and failures reproduce.
public struct SeededRandom: RandomNumberGenerator {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [low, high).
    public mutating func uniform(_ low: Double, _ high: Double) -> Double {
        low + (high - low) * Double(next() >> 11) / Double(1 << 53)
    }

    /// Values in [low, high) with few significant bits (a grid of 1/4096), so float32 and float64
    /// hold them exactly.
    public mutating func floats(_ count: Int, _ low: Double = -1, _ high: Double = 1) -> [Float] {
        (0..<count).map { _ in Float((uniform(low, high) * 4096).rounded() / 4096) }
    }

    /// Uniform in [-1, 1) on a grid of 2⁻²⁰, so float32 holds every value exactly.
    public mutating func value() -> Double {
        Double(Int64(next() >> 43) - (1 << 20)) / Double(1 << 20)
    }

    public mutating func values(_ count: Int) -> [Double] { (0..<count).map { _ in value() } }
}
