import GhostIR

extension ConstantEvaluator {
    /// Integer Add/Sub/Mul/Div with numpy broadcasting. Every result is checked: an int64 overflow
    /// or an int32 result outside int32 is refused (ONNX Runtime would wrap), as is a zero divisor.
    /// Div truncates toward zero.
    static func arithmetic(_ op: String, _ a: Tensor, _ b: Tensor) throws(FoldFailure) -> Tensor {
        guard a.elementType == b.elementType, a.elementType == .int64 || a.elementType == .int32 else {
            throw FoldFailure(.foldTypeUnsupported, "\(op) is folded for int32/int64 operands of one type, not \(a.elementType) and \(b.elementType)")
        }
        let shape = try broadcastShape(a.shape, b.shape)
        let count = try checkedCount(shape)
        let left = a.int64Values(), right = b.int64Values()
        let leftOffsets = offsets(from: a.shape, to: shape, count: count)
        let rightOffsets = offsets(from: b.shape, to: shape, count: count)
        var values: [Int64] = []
        values.reserveCapacity(count)
        for position in 0..<count {
            let x = left[leftOffsets[position]], y = right[rightOffsets[position]]
            let (value, overflow): (Int64, Bool)
            switch op {
            case "Add": (value, overflow) = x.addingReportingOverflow(y)
            case "Sub": (value, overflow) = x.subtractingReportingOverflow(y)
            case "Mul": (value, overflow) = x.multipliedReportingOverflow(by: y)
            default:
                guard y != 0 else { throw FoldFailure(.foldDivisionByZero, "integer division by zero") }
                (value, overflow) = x.dividedReportingOverflow(by: y)
            }
            guard !overflow, a.elementType == .int64 || Int32(exactly: value) != nil else {
                throw FoldFailure(.foldIntegerOverflow, "\(x) \(op) \(y) overflows \(a.elementType)")
            }
            values.append(value)
        }
        if a.elementType == .int32 {
            return try make(.int32, shape: shape, bytes: values.map { Int32(truncatingIfNeeded: $0) }.withUnsafeBytes { Array($0) })
        }
        return try make(int64: values, shape: shape)
    }

    /// Steps a C-order index `position` (last axis fastest) to the next element of `shape`;
    /// after the last element it wraps to all zeros.
    static func advance(_ position: inout [Int], within shape: [Int]) {
        var axis = shape.count - 1
        while axis >= 0 {
            position[axis] += 1
            if position[axis] < shape[axis] { return }
            position[axis] = 0
            axis -= 1
        }
    }

    static func broadcastShape(_ a: [Int], _ b: [Int]) throws(FoldFailure) -> [Int] {
        let rank = max(a.count, b.count)
        var shape: [Int] = []
        for axis in 0..<rank {
            let x = axis >= rank - a.count ? a[axis - (rank - a.count)] : 1
            let y = axis >= rank - b.count ? b[axis - (rank - b.count)] : 1
            guard x == y || x == 1 || y == 1 else { throw FoldFailure(.foldMalformed, "shapes \(a) and \(b) do not broadcast") }
            shape.append(x == 1 ? y : x)
        }
        return shape
    }

    /// For each element of the broadcast result, the flat index of the source element it reads.
    static func offsets(from source: [Int], to shape: [Int], count: Int) -> [Int] {
        let padded = Array(repeating: 1, count: shape.count - source.count) + source
        var strides = Array(repeating: 0, count: shape.count)
        var step = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[axis] = padded[axis] == 1 ? 0 : step
            step *= padded[axis]
        }
        var result: [Int] = []
        result.reserveCapacity(count)
        var position = Array(repeating: 0, count: shape.count)
        for _ in 0..<count {
            var offset = 0
            for axis in shape.indices { offset += position[axis] * strides[axis] }
            result.append(offset)
            advance(&position, within: shape)
        }
        return result
    }

    private static let castable: Set<ElementType> = [.int64, .int32, .int16, .int8, .uint8, .bool, .float32, .float64]

    /// Cast: integers to narrower integers wrap (C's conversion, as ONNX Runtime does); floats to
    /// integers truncate toward zero and are refused when NaN or out of range; anything to bool
    /// is `x ≠ 0` (NaN is true); float64 to float32 rounds to nearest.
    static func cast(_ data: Tensor, to target: ElementType) throws(FoldFailure) -> Tensor {
        guard castable.contains(data.elementType), castable.contains(target) else {
            throw FoldFailure(.foldTypeUnsupported, "Cast from \(data.elementType) to \(target) is not folded")
        }
        if data.elementType == target { return data }
        let bytes: [UInt8]
        if data.elementType.isFloatingPoint {
            let values = data.doubleValues()
            switch target {
            case .float32: bytes = values.map { Float($0) }.withUnsafeBytes { Array($0) }
            case .float64: bytes = values.withUnsafeBytes { Array($0) }
            case .bool: bytes = values.map { $0 != 0 ? 1 : 0 }
            default:
                var integers: [Int64] = []
                for value in values {
                    guard value.isFinite, let integer = Int64(exactly: value.rounded(.towardZero)), fits(integer, target) else {
                        throw FoldFailure(.foldIntegerOverflow, "\(value) does not convert to \(target)")
                    }
                    integers.append(integer)
                }
                bytes = integerBytes(integers, target)
            }
        } else {
            let values = data.int64Values()
            switch target {
            case .float32: bytes = values.map { Float($0) }.withUnsafeBytes { Array($0) }
            case .float64: bytes = values.map { Double($0) }.withUnsafeBytes { Array($0) }
            case .bool: bytes = values.map { $0 != 0 ? 1 : 0 }
            default: bytes = integerBytes(values, target)
            }
        }
        return try make(target, shape: data.shape, bytes: bytes)
    }

    private static func fits(_ value: Int64, _ type: ElementType) -> Bool {
        switch type {
        case .int32: Int32(exactly: value) != nil
        case .int16: Int16(exactly: value) != nil
        case .int8: Int8(exactly: value) != nil
        case .uint8: UInt8(exactly: value) != nil
        default: true
        }
    }

    private static func integerBytes(_ values: [Int64], _ type: ElementType) -> [UInt8] {
        switch type {
        case .int32: values.map { Int32(truncatingIfNeeded: $0) }.withUnsafeBytes { Array($0) }
        case .int16: values.map { Int16(truncatingIfNeeded: $0) }.withUnsafeBytes { Array($0) }
        case .int8: values.map { Int8(truncatingIfNeeded: $0) }.withUnsafeBytes { Array($0) }
        case .uint8: values.map { UInt8(truncatingIfNeeded: $0) }
        default: values.withUnsafeBytes { Array($0) }
        }
    }

    /// Range(start, limit, delta) = start + i·delta for i < max(⌈(limit − start)/delta⌉, 0);
    /// integer scalars only.
    static func range(_ start: Tensor, _ limit: Tensor, _ delta: Tensor) throws(FoldFailure) -> Tensor {
        guard start.elementType == limit.elementType, start.elementType == delta.elementType,
              start.elementType == .int64 || start.elementType == .int32 else {
            throw FoldFailure(.foldTypeUnsupported, "Range is folded for int32/int64 scalars of one type")
        }
        guard start.elementCount == 1, limit.elementCount == 1, delta.elementCount == 1,
              let first = start.int64Values().first, let end = limit.int64Values().first, let step = delta.int64Values().first else {
            throw FoldFailure(.foldMalformed, "Range needs scalar start, limit and delta")
        }
        guard step != 0 else { throw FoldFailure(.foldMalformed, "Range with delta 0") }
        let (span, overflow) = step > 0 ? end.subtractingReportingOverflow(first) : first.subtractingReportingOverflow(end)
        guard !overflow else { throw FoldFailure(.foldIntegerOverflow, "Range from \(first) to \(end) overflows") }
        let magnitude = step.magnitude
        let count = span <= 0 ? 0 : (UInt64(span) - 1) / magnitude + 1
        guard count <= UInt64(maximumElements) else {
            throw FoldFailure(.foldTooLarge, "Range would have \(count) elements (more than \(maximumElements))")
        }
        let values = (0..<Int64(count)).map { first &+ $0 &* step }
        if start.elementType == .int32 {
            return try make(.int32, shape: [values.count], bytes: integerBytes(values, .int32))
        }
        return try make(int64: values, shape: [values.count])
    }

    /// A tensor of the given shape filled with `value`'s single element (float32 0 by default).
    static func constantOfShape(_ shape: Tensor, value: Tensor?) throws(FoldFailure) -> Tensor {
        guard shape.elementType == .int64, shape.rank == 1 else {
            throw FoldFailure(.foldMalformed, "the shape input is not a 1-D int64 tensor")
        }
        let sizes = shape.int64Values()
        guard sizes.allSatisfy({ $0 >= 0 && $0 <= Int64(Int32.max) }) else {
            throw FoldFailure(.foldMalformed, "shape \(sizes) has a negative or huge dimension")
        }
        let dims = sizes.map(Int.init)
        let count = try checkedCount(dims)
        let fill: Tensor
        if let value { fill = value } else { fill = try make(.float32, shape: [1], bytes: [0, 0, 0, 0]) }
        guard fill.elementCount == 1 else { throw FoldFailure(.foldMalformed, "'value' must hold one element") }
        let element = bytes(fill)
        var out: [UInt8] = []
        out.reserveCapacity(count * element.count)
        for _ in 0..<count { out.append(contentsOf: element) }
        return try make(fill.elementType, shape: dims, bytes: out)
    }
}
