import Foundation
import GhostIR

/// Deterministic N(0, 1) inputs of a graph's declared shapes (SplitMix64 + Box–Muller), so the
/// same seed gives the same samples on every machine.
public struct RandomInputs {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    private mutating func nextUnit() -> Double {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return (Double(z >> 11) + 0.5) / Double(1 << 53)  // in (0, 1): log is finite
    }

    public mutating func normal(count: Int) -> [Double] {
        var values: [Double] = []
        values.reserveCapacity(count + 1)
        while values.count < count {
            let radius = (-2 * Foundation.log(nextUnit())).squareRoot()
            let angle = 2 * Double.pi * nextUnit()
            values.append(radius * Foundation.cos(angle))
            values.append(radius * Foundation.sin(angle))
        }
        return Array(values.prefix(count))
    }

    /// The most bytes one sample's inputs may take by default: a quarter of the machine's memory.
    public static var defaultMemoryBudget: Int { Int(clamping: ProcessInfo.processInfo.physicalMemory / 4) }

    /// The bytes drawing one sample for `graph` takes (the float64 draws and the tensor), checked
    /// before anything is allocated: a declared [2³², 2³²] input is an error, not a trap or a
    /// 100 GB allocation.
    public static func sampleBytes(for graph: Graph, shapes: [String: [Int]] = [:], memoryBudget: Int = defaultMemoryBudget,
                                   maximumElements: Int = 1 << 31) throws(VerifyError) -> Int {
        var total = 0
        for value in graph.runtimeInputs {
            let shape = try concreteShape(of: value, override: shapes[value.name])
            var count = 1
            for size in shape {
                let (product, overflow) = count.multipliedReportingOverflow(by: max(size, 0))
                guard !overflow, product <= maximumElements else {
                    throw .inputTooLarge(input: value.name, shape: shape, reason: "more than \(maximumElements) elements")
                }
                count = product
            }
            // Draws in Double, then the tensor (Float or Double).
            total += count * (8 + (value.elementType == .float64 ? 8 : 4))
            guard total <= memoryBudget else {
                throw .inputTooLarge(input: value.name, shape: shape,
                                     reason: "its samples need \(total) bytes, more than the memory budget of \(memoryBudget) (--max-memory)")
            }
        }
        return total
    }

    /// One random tensor per runtime input of `graph`, with symbolic dimensions bound by `shapes`
    /// (a full shape per input name). Sizes are checked first (`sampleBytes`).
    public mutating func sample(for graph: Graph, shapes: [String: [Int]] = [:],
                                memoryBudget: Int = defaultMemoryBudget) throws(VerifyError) -> [String: Tensor] {
        _ = try Self.sampleBytes(for: graph, shapes: shapes, memoryBudget: memoryBudget)
        var inputs: [String: Tensor] = [:]
        for value in graph.runtimeInputs {
            let shape = try Self.concreteShape(of: value, override: shapes[value.name])
            let count = shape.reduce(1, *)
            let values = normal(count: count)
            do {
                switch value.elementType ?? .float32 {
                case .float64: inputs[value.name] = try Tensor(float64: values, shape: shape)
                case .float32: inputs[value.name] = try Tensor(float32: values.map { Float($0) }, shape: shape)
                default: throw VerifyError.unsupportedInputType(input: value.name, type: value.elementType?.onnxName ?? "?")
                }
            } catch let error as VerifyError {
                throw error
            } catch {
                throw VerifyError.unsupportedInputType(input: value.name, type: "\(error)")
            }
        }
        return inputs
    }

    static func concreteShape(of value: Value, override: [Int]?) throws(VerifyError) -> [Int] {
        if let override { return override }
        guard let declared = value.shape else { throw .unboundShape(input: value.name, dimension: "its rank is unknown") }
        var shape: [Int] = []
        for dimension in declared {
            switch dimension {
            case .fixed(let size): shape.append(size)
            case .symbolic(let name): throw .unboundShape(input: value.name, dimension: "'\(name)'")
            case .unknown: throw .unboundShape(input: value.name, dimension: "an unnamed dimension")
            }
        }
        return shape
    }
}
