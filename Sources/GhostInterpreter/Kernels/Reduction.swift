import Foundation
import GhostIR

/// The Reduce* operators: a per-element map, a combination over the reduced axes, a final map.
enum ReductionKind: Sendable {
    /// Σx
    case sum
    /// Σx / n (0 over no elements, as ONNX Runtime gives; integer division for integers)
    case mean
    /// Πx
    case product
    /// max x, min x (see `ReductionCombine` for NaN)
    case maximum, minimum
    /// Σ|x|
    case l1
    /// √Σx²
    case l2
    /// Σx²
    case sumSquare
    /// log Σx
    case logSum
    /// m + log Σ exp(x − m), m the maximum when finite (else 0), so large values do not overflow
    case logSumExp
}

/// Floats the reductions take logarithms of.
protocol ReductionFloat: InterpreterScalar, ReducibleScalar {
    static func logarithm(_ x: Self) -> Self
}

extension Float: ReductionFloat {
    static func logarithm(_ x: Float) -> Float { Foundation.log(x) }
}

extension Double: ReductionFloat {
    static func logarithm(_ x: Double) -> Double { Foundation.log(x) }
}

enum Reduction {
    /// The axes a Reduce* node reduces and its output shape.
    struct Plan {
        var shape: [Int]
        /// Reduced axes; empty for `noop_with_empty_axes` without axes (each element reduced alone).
        var axes: Set<Int>
        /// The input shape with reduced axes of size 1.
        var keptShape: [Int]
        var outputShape: [Int]
        /// Elements per reduction.
        var count: Int
    }

    /// `axes` is an attribute before opset 18 (ReduceSum: 13) and an optional input from then on;
    /// no axes means all of them, or none with `noop_with_empty_axes`; repeated axes count once.
    static func plan(_ context: NodeContext, shape: [Int]) throws(InterpreterError) -> Plan {
        let rank = shape.count
        let inputFrom: Int64 = context.op == "ReduceSum" ? 13 : 18
        var axes: [Int]?
        if context.opset >= inputFrom {
            if let given = context.optionalInput(1) {
                guard given.shape.count <= 1, case .int64 = given.storage else {
                    throw context.fail("axes must be a 1-D int64 tensor, got \(given.typeName) \(given.shape)")
                }
                axes = given.int64Values.map { Int(clamping: $0) }
            }
        } else {
            axes = try context.ints("axes")
        }
        var reduced = Set<Int>()
        if let axes, !axes.isEmpty {
            for axis in axes { reduced.insert(try context.axis(axis, rank: rank)) }
        } else if try context.int("noop_with_empty_axes", 0) == 0 {
            reduced = Set(0..<rank)
        }
        let keep = try context.int("keepdims", 1) != 0
        let keptShape = shape.enumerated().map { reduced.contains($0.offset) ? 1 : $0.element }
        let outputShape = keep ? keptShape : shape.enumerated().filter { !reduced.contains($0.offset) }.map(\.element)
        // Reducing over an empty axis makes an output larger than the input ([2³¹, 0, 2³¹] →
        // [2³¹, 1, 2³¹]): it is bounded like any shape computed from data.
        _ = try context.elementCount(of: keptShape)
        var count = 1
        for axis in reduced {
            let (product, overflow) = count.multipliedReportingOverflow(by: shape[axis])
            guard !overflow else { throw .tensorTooLarge(node: context.name, op: context.op, shape: shape, limit: Interpreter.maximumElementCount) }
            count = product
        }
        return Plan(shape: shape, axes: reduced, keptShape: keptShape, outputShape: outputShape, count: count)
    }

    static func evaluate(_ context: NodeContext, _ kind: ReductionKind) throws(InterpreterError) -> Buffer {
        let x = try context.input(0)
        let plan = try plan(context, shape: x.shape)
        switch x.storage {
        case .float(let v): return Buffer(shape: plan.outputShape, storage: .float(floating(v, plan, kind)))
        case .double(let v): return Buffer(shape: plan.outputShape, storage: .double(floating(v, plan, kind)))
        case .int64(let v):
            return Buffer(shape: plan.outputShape, storage: .int64(integer(v, x.integerType, plan, kind)), integerType: x.integerType)
        case .bool(let v):
            guard kind == .maximum || kind == .minimum, context.opset >= 20 else {
                throw context.fail("bool input is defined for ReduceMax and ReduceMin from opset 20")
            }
            // max is any, min is all; over no elements false and true.
            let result = reduce(v.map { Int64($0 ? 1 : 0) }, shape: plan.shape, axes: plan.axes,
                                kind == .maximum ? .maximum : .minimum, identity: kind == .maximum ? 0 : 1)
            return Buffer(shape: plan.outputShape, storage: .bool(result.map { $0 != 0 }))
        }
    }

    private static func floating<T: ReductionFloat>(_ x: [T], _ plan: Plan, _ kind: ReductionKind) -> [T] {
        func run(_ values: [T], _ combine: ReductionCombine = .sum, identity: T = 0) -> [T] {
            reduce(values, shape: plan.shape, axes: plan.axes, combine, identity: identity)
        }
        switch kind {
        case .sum: return run(x)
        case .mean:
            let count = T(plan.count)
            return plan.count == 0 ? run(x) : run(x).map { $0 / count }
        case .product: return run(x, .product, identity: 1)
        case .maximum: return run(x, .maximum, identity: -.infinity)
        case .minimum: return run(x, .minimum, identity: .infinity)
        case .l1: return run(x.map { Swift.abs($0) })
        case .l2: return run(x.map { $0 * $0 }).map { $0.squareRoot() }
        case .sumSquare: return run(x.map { $0 * $0 })
        case .logSum: return run(x).map(T.logarithm)
        case .logSumExp:
            let shift = run(x, .maximum, identity: -.infinity).map { $0.isFinite ? $0 : 0 }
            let spread = gather(shift, shape: plan.shape, strides: Broadcast.strides(of: plan.keptShape, in: plan.shape))
            let sums = run([T](filling: x.count) { out in
                for i in 0..<x.count { out.initializeElement(at: i, to: T.exponential(x[i] - spread[i])) }
            })
            return zip(sums, shift).map { T.logarithm($0) + $1 }
        }
    }

    /// Integers reduce in wrapping Int64 arithmetic; roots and logarithms are taken in Double
    /// and truncated toward zero, as ONNX Runtime's integer kernels cast them.
    private static func integer(_ x: [Int64], _ type: ElementType, _ plan: Plan, _ kind: ReductionKind) -> [Int64] {
        func run(_ values: [Int64], _ combine: ReductionCombine = .sum, identity: Int64 = 0) -> [Int64] {
            reduce(values, shape: plan.shape, axes: plan.axes, combine, identity: identity)
        }
        let unsigned = type == .uint64
        func real(_ value: Int64) -> Double { unsigned ? Double(UInt64(bitPattern: value)) : Double(value) }
        let range = integerRange(type)
        switch kind {
        case .sum: return run(x)
        case .mean:
            let sums = run(x), count = Int64(plan.count)
            guard count > 0 else { return sums }
            return unsigned ? sums.map { Int64(bitPattern: UInt64(bitPattern: $0) / UInt64(count)) } : sums.map { $0 / count }
        case .product: return run(x, .product, identity: 1)
        case .maximum: return orderKeys(run(orderKeys(x, type), .maximum, identity: range.lowest), type)
        case .minimum: return orderKeys(run(orderKeys(x, type), .minimum, identity: range.highest), type)
        case .l1: return run(x.map(Int64.absolute))
        case .l2: return run(x.map { $0 &* $0 }).map { Buffer.truncated(real($0).squareRoot()) }
        case .sumSquare: return run(x.map { $0 &* $0 })
        case .logSum: return run(x).map { Buffer.truncated(Foundation.log(real($0))) }
        case .logSumExp: return floating(x.map(real), plan, kind).map(Buffer.truncated)
        }
    }

    /// The mean of each consecutive `block` elements (block ≥ 1), summed in four interleaved
    /// partial sums so the loop vectorizes (the order differs from a serial sum only in rounding).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func blockMeans<T: InterpreterScalar>(_ values: [T], block: Int) -> [T] {
        let blocks = values.count / block
        return [T](filling: blocks) { out in
            values.withUnsafeBufferPointer { v in
                for b in 0..<blocks {
                    let start = v.baseAddress! + b * block
                    var (s0, s1, s2, s3): (T, T, T, T) = (0, 0, 0, 0)
                    var i = 0
                    while i + 4 <= block {
                        s0 += start[i]; s1 += start[i + 1]; s2 += start[i + 2]; s3 += start[i + 3]
                        i += 4
                    }
                    while i < block { s0 += start[i]; i += 1 }
                    out.initializeElement(at: b, to: ((s0 + s1) + (s2 + s3)) / T(block))
                }
            }
        }
    }
}
