import GhostIR

/// Equal, Less, LessOrEqual, Greater, GreaterOrEqual with numpy broadcasting; bool results.
/// IEEE comparisons: anything against NaN is false (Equal too), −0 equals +0, as in ONNX Runtime.
/// Both inputs have one type; integers compare exactly (uint64 unsigned); Equal also takes bools.
enum Comparison: String {
    case equal = "Equal", less = "Less", lessOrEqual = "LessOrEqual", greater = "Greater", greaterOrEqual = "GreaterOrEqual"

    func evaluate(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        let a = try context.input(0), b = try context.input(1)
        guard let shape = Broadcast.shape(a.shape, b.shape) else {
            throw context.fail("shapes \(a.shape) and \(b.shape) do not broadcast")
        }
        _ = try context.elementCount(of: shape)
        guard a.typeName == b.typeName else { throw context.fail("cannot compare \(a.typeName) with \(b.typeName)") }
        let result: [Bool]
        switch (a.storage, b.storage) {
        case (.float(let x), .float(let y)): result = compare(x, a.shape, y, b.shape, shape)
        case (.double(let x), .double(let y)): result = compare(x, a.shape, y, b.shape, shape)
        case (.int64(let x), .int64(let y)):
            if a.integerType == .uint64 {
                result = compare(elementwise(x) { UInt64(bitPattern: $0) }, a.shape, elementwise(y) { UInt64(bitPattern: $0) }, b.shape, shape)
            } else {
                result = compare(x, a.shape, y, b.shape, shape)
            }
        case (.bool(let x), .bool(let y)) where self == .equal:
            result = Broadcast.apply(x, a.shape, y, b.shape, into: shape, IsEqual<Bool>.self)
        default:
            throw context.fail("\(rawValue) is not defined on \(a.typeName)")
        }
        return Buffer(shape: shape, storage: .bool(result))
    }

    private func compare<T: Comparable>(_ x: [T], _ xs: [Int], _ y: [T], _ ys: [Int], _ shape: [Int]) -> [Bool] {
        switch self {
        case .equal: Broadcast.apply(x, xs, y, ys, into: shape, IsEqual<T>.self)
        case .less: Broadcast.apply(x, xs, y, ys, into: shape, IsLess<T>.self)
        case .lessOrEqual: Broadcast.apply(x, xs, y, ys, into: shape, IsLessOrEqual<T>.self)
        case .greater: Broadcast.apply(x, xs, y, ys, into: shape, IsLess<T>.Swapped.self)
        case .greaterOrEqual: Broadcast.apply(x, xs, y, ys, into: shape, IsLessOrEqual<T>.Swapped.self)
        }
    }
}

private enum IsEqual<T: Equatable>: Combination {
    static func combine(_ a: T, _ b: T) -> Bool { a == b }
}

private enum IsLess<T: Comparable>: Combination {
    static func combine(_ a: T, _ b: T) -> Bool { a < b }
    /// a > b, written b < a so NaN gives false through the same comparison.
    enum Swapped: Combination {
        static func combine(_ a: T, _ b: T) -> Bool { b < a }
    }
}

private enum IsLessOrEqual<T: Comparable>: Combination {
    static func combine(_ a: T, _ b: T) -> Bool { a <= b }
    enum Swapped: Combination {
        static func combine(_ a: T, _ b: T) -> Bool { b <= a }
    }
}

/// And, Or, Xor of two bool tensors with numpy broadcasting, and Not.
enum Logic: String {
    case and = "And", or = "Or", xor = "Xor"

    func evaluate(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        let a = try context.input(0), b = try context.input(1)
        guard case .bool(let x) = a.storage, case .bool(let y) = b.storage else {
            throw context.fail("expects bool inputs, got \(a.typeName) and \(b.typeName)")
        }
        guard let shape = Broadcast.shape(a.shape, b.shape) else {
            throw context.fail("shapes \(a.shape) and \(b.shape) do not broadcast")
        }
        _ = try context.elementCount(of: shape)
        let result = switch self {
        case .and: Broadcast.apply(x, a.shape, y, b.shape, into: shape, Conjunction.self)
        case .or: Broadcast.apply(x, a.shape, y, b.shape, into: shape, Disjunction.self)
        case .xor: Broadcast.apply(x, a.shape, y, b.shape, into: shape, IsEqual<Bool>.Negated.self)
        }
        return Buffer(shape: shape, storage: .bool(result))
    }

    static func not(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        let x = try context.input(0)
        guard case .bool(let v) = x.storage else { throw context.fail("expects a bool input, got \(x.typeName)") }
        return Buffer(shape: x.shape, storage: .bool(elementwise(v) { !$0 }))
    }
}

private enum Conjunction: Combination {
    static func combine(_ a: Bool, _ b: Bool) -> Bool { a && b }
}

private enum Disjunction: Combination {
    static func combine(_ a: Bool, _ b: Bool) -> Bool { a || b }
}

private extension IsEqual {
    enum Negated: Combination {
        static func combine(_ a: T, _ b: T) -> Bool { a != b }
    }
}

/// IsNaN and IsInf (`detect_positive`, `detect_negative`, both 1 by default) of a floating-point
/// tensor; bool results.
enum FloatClass {
    static func isNaN(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        let x = try context.input(0)
        switch x.storage {
        case .float(let v): return Buffer(shape: x.shape, storage: .bool(elementwise(v) { $0.isNaN }))
        case .double(let v): return Buffer(shape: x.shape, storage: .bool(elementwise(v) { $0.isNaN }))
        default: throw context.fail("expects floating-point input, got \(x.typeName)")
        }
    }

    static func isInf(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        let x = try context.input(0)
        let positive = try context.int("detect_positive", 1) != 0, negative = try context.int("detect_negative", 1) != 0
        func detect<T: BinaryFloatingPoint>(_ v: [T]) -> [Bool] {
            elementwise(v) { $0.isInfinite && ($0 > 0 ? positive : negative) }
        }
        switch x.storage {
        case .float(let v): return Buffer(shape: x.shape, storage: .bool(detect(v)))
        case .double(let v): return Buffer(shape: x.shape, storage: .bool(detect(v)))
        default: throw context.fail("expects floating-point input, got \(x.typeName)")
        }
    }
}
