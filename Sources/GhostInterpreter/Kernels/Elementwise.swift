import CKernels
import Foundation
import GhostIR

/// `f` over every element into a fresh array: a plain loop over buffer pointers that the
/// compiler inlines and vectorizes (`Array.map` appends one element at a time).
@inline(__always)
func elementwise<T, R>(_ values: [T], _ f: (T) -> R) -> [R] {
    [R](filling: values.count) { out in
        values.withUnsafeBufferPointer { source in
            for i in 0..<source.count { out.initializeElement(at: i, to: f(source[i])) }
        }
    }
}

/// Unary activations, elementwise in the run's precision.
enum UnaryOperator {
    case relu, sigmoid, tanh, erf, sqrt, identity
    /// x·Sigmoid(x): a Conv's epilogue for the Sigmoid and Mul of SiLU (ExecutionPlan), never a node.
    case silu
    case leakyRelu(alpha: Double)
    case hardSigmoid(alpha: Double, beta: Double)
    case hardSwish
    case gelu(tanhApproximation: Bool)
    case clip(min: Double, max: Double)

    /// Hands the element function of an activation without a C loop (see `kernel`), in the run's
    /// precision, to `body`: `apply` maps it over a fresh array, `applyInPlace` over a buffer a
    /// fused step owns — one definition, so both compute the same bits.
    @inline(__always)
    private func withFunction<T: InterpreterScalar, R>(_: T.Type, _ body: ((T) -> T) -> R) -> R {
        switch self {
        case .tanh: return body { T.hyperbolicTangent($0) }
        case .erf: return body { T.errorFunction($0) }
        case .sqrt: return body { $0.squareRoot() }
        case .relu, .identity, .leakyRelu, .hardSigmoid, .hardSwish, .clip, .sigmoid, .silu:
            preconditionFailure("\(self) is computed by its C loop (kernel)")
        case .gelu(let approximate):
            if approximate {
                let c = T((2 / Double.pi).squareRoot())
                return body { T(0.5) * $0 * (1 + T.hyperbolicTangent(c * ($0 + T(0.044715) * $0 * $0 * $0))) }
            }
            let c = T(1 / 2.0.squareRoot())
            return body { T(0.5) * $0 * (1 + T.errorFunction($0 * c)) }
        }
    }

    /// The C loop (CKernels' ghost_activation.h, which defines these activations: vectorized per
    /// CPU, same bits on every one) for the activations that have one.
    var kernel: ActivationKernel? {
        switch self {
        case .identity: return ActivationKernel(code: Int32(GK_ACT_NONE))
        case .relu: return ActivationKernel(code: Int32(GK_ACT_RELU))
        case .leakyRelu(let alpha): return ActivationKernel(code: Int32(GK_ACT_LEAKY_RELU), p0: alpha)
        case .hardSigmoid(let alpha, let beta): return ActivationKernel(code: Int32(GK_ACT_HARD_SIGMOID), p0: alpha, p1: beta)
        case .hardSwish: return ActivationKernel(code: Int32(GK_ACT_HARD_SWISH))
        case .clip(let low, let high): return ActivationKernel(code: Int32(GK_ACT_CLIP), p0: low, p1: high)
        case .sigmoid: return ActivationKernel(code: Int32(GK_ACT_SIGMOID))
        case .silu: return ActivationKernel(code: Int32(GK_ACT_SILU))
        case .tanh, .erf, .sqrt, .gelu: return nil
        }
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func apply<T: InterpreterScalar>(_ values: [T]) -> [T] {
        if case .identity = self { return values }
        if let kernel {
            return [T](filling: values.count) { out in
                values.withUnsafeBufferPointer { source in
                    T.epilogue(out.baseAddress!, source.baseAddress!, source.count, bias: nil, affine: nil, kernel)
                }
            }
        }
        if let function = mathFunction, T.hasVectorMath {
            return [T](filling: values.count) { out in
                values.withUnsafeBufferPointer { _ = T.vectorMath(function, out.baseAddress!, $0.baseAddress!, $0.count) }
            }
        }
        return withFunction(T.self) { f in elementwise(values, f) }
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func applyInPlace<T: InterpreterScalar>(_ values: UnsafeMutableBufferPointer<T>) {
        guard !values.isEmpty else { return }
        if let kernel {
            T.epilogue(values.baseAddress!, values.baseAddress!, values.count, bias: nil, affine: nil, kernel)
            return
        }
        if let function = mathFunction, T.vectorMath(function, values.baseAddress!, values.baseAddress!, values.count) { return }
        withFunction(T.self) { f in
            for i in values.indices { values[i] = f(values[i]) }
        }
    }

    func evaluate(_ x: Buffer, _ context: NodeContext) throws(InterpreterError) -> Buffer {
        switch x.storage {
        case .float(let values): return Buffer(shape: x.shape, storage: .float(apply(values)))
        case .double(let values): return Buffer(shape: x.shape, storage: .double(apply(values)))
        case .int64(let values):
            // Shape arithmetic only meets Relu/Clip on integers; compute those exactly.
            switch self {
            case .relu: return Buffer(shape: x.shape, storage: .int64(values.map { Swift.max($0, 0) }), integerType: x.integerType)
            case .identity: return x
            case .clip(let low, let high):
                return Buffer(shape: x.shape, storage: .int64(values.map { Swift.min(Int64(high.clamped), Swift.max(Int64(low.clamped), $0)) }),
                              integerType: x.integerType)
            default: throw context.fail("expects floating-point input, got \(x.typeName)")
            }
        case .bool: throw context.fail("expects a numeric input, got bool")
        }
    }
}

/// An activation as CKernels' `gk_activation_*` and `gk_epilogue_*` take it.
struct ActivationKernel: Sendable {
    var code: Int32
    var p0 = 0.0, p1 = 0.0
}

private extension Double {
    /// Within Int64's range (Clip bounds of ±infinity become the extremes).
    var clamped: Double { Swift.min(Swift.max(self, -9.2e18), 9.2e18) }
}

/// Add, Sub, Mul, Div, Pow and PRelu with numpy broadcasting.
enum BinaryOperator: String {
    case add = "Add", sub = "Sub", mul = "Mul", div = "Div", pow = "Pow", prelu = "PRelu"

    func evaluate(_ a: Buffer, _ b: Buffer, _ context: NodeContext) throws(InterpreterError) -> Buffer {
        guard let shape = Broadcast.shape(a.shape, b.shape) else {
            throw context.fail("shapes \(a.shape) and \(b.shape) do not broadcast")
        }
        // PRelu's slope broadcasts to X, never the other way.
        if self == .prelu, shape != a.shape { throw context.fail("slope \(b.shape) does not broadcast to X \(a.shape)") }
        _ = try context.elementCount(of: shape)
        switch (a.storage, b.storage) {
        case (.float(let x), .float(let y)): return Buffer(shape: shape, storage: .float(combine(x, a.shape, y, b.shape, shape)))
        case (.double(let x), .double(let y)): return Buffer(shape: shape, storage: .double(combine(x, a.shape, y, b.shape, shape)))
        // Pow alone allows an exponent of another type; the result has the base's type.
        case (.float(let x), .int64(let y)) where self == .pow:
            return Buffer(shape: shape, storage: .float(combine(x, a.shape, y.map { Float($0) }, b.shape, shape)))
        case (.double(let x), .int64(let y)) where self == .pow:
            return Buffer(shape: shape, storage: .double(combine(x, a.shape, y.map { Double($0) }, b.shape, shape)))
        case (.int64(let x), .float(let y)) where self == .pow:
            return Buffer(shape: shape, storage: .int64(integerPower(x, a.shape, y.map(Double.init), b.shape, shape)), integerType: a.integerType)
        case (.int64(let x), .double(let y)) where self == .pow:
            return Buffer(shape: shape, storage: .int64(integerPower(x, a.shape, y, b.shape, shape)), integerType: a.integerType)
        case (.int64(let x), .int64(let y)):
            let values = try integers(x, a.shape, y, b.shape, shape, context)
            return Buffer(shape: shape, storage: .int64(values.map { Constants.wrap($0, to: a.integerType) }), integerType: a.integerType)
        default:
            throw context.fail("cannot combine \(a.typeName) and \(b.typeName)")
        }
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    private func combine<T: InterpreterScalar>(_ x: [T], _ xs: [Int], _ y: [T], _ ys: [Int], _ shape: [Int]) -> [T] {
        switch self {
        case .add: Broadcast.arithmetic(x, xs, y, ys, into: shape, Int32(GK_BIN_ADD))
        case .sub: Broadcast.arithmetic(x, xs, y, ys, into: shape, Int32(GK_BIN_SUB))
        case .mul: Broadcast.arithmetic(x, xs, y, ys, into: shape, Int32(GK_BIN_MUL))
        case .div: Broadcast.arithmetic(x, xs, y, ys, into: shape, Int32(GK_BIN_DIV))
        case .pow: Broadcast.apply(x, xs, y, ys, into: shape, Power<T>.self)
        case .prelu: Broadcast.apply(x, xs, y, ys, into: shape, LeakyRectifier<T>.self)
        }
    }

    private func integers(_ x: [Int64], _ xs: [Int], _ y: [Int64], _ ys: [Int], _ shape: [Int], _ context: NodeContext) throws(InterpreterError) -> [Int64] {
        switch self {
        case .add: return Broadcast.apply(x, xs, y, ys, into: shape, &+)
        case .sub: return Broadcast.apply(x, xs, y, ys, into: shape, &-)
        case .mul: return Broadcast.apply(x, xs, y, ys, into: shape, &*)
        case .div:
            guard !y.contains(0) else { throw context.fail("integer division by zero") }
            // Truncating division, as C and ONNX Runtime do; Int64.min / −1 wraps.
            return Broadcast.apply(x, xs, y, ys, into: shape) { $0.dividedReportingOverflow(by: $1).partialValue }
        case .pow: return integerPower(x, xs, y.map { Double($0) }, ys, shape)
        case .prelu: return Broadcast.apply(x, xs, y, ys, into: shape) { $0 >= 0 ? $0 : $0 &* $1 }
        }
    }

    /// Integer base, any exponent: computed in Double, truncated back to the base's type.
    private func integerPower(_ x: [Int64], _ xs: [Int], _ y: [Double], _ ys: [Int], _ shape: [Int]) -> [Int64] {
        Broadcast.apply(x, xs, y, ys, into: shape) { Buffer.truncated(Foundation.pow(Double($0), $1)) }
    }
}

private enum Power<T: InterpreterScalar>: Combination {
    static func combine(_ a: T, _ b: T) -> T { T.power(a, b) }
}

/// PRelu: x where x ≥ 0, else x · slope.
private enum LeakyRectifier<T: InterpreterScalar>: Combination {
    static func combine(_ a: T, _ b: T) -> T { a >= 0 ? a : a * b }
}
