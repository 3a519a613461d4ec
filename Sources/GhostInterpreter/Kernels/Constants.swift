import GhostIR

/// Constant, ConstantOfShape and Cast: operators that make or retype values.
enum Constants {
    /// Constant in each of its value forms; string and sparse constants are refused.
    static func constant(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        let node = context.node
        if let tensor = node.attribute("value")?.tensorValue { return Buffer(tensor, precision: context.precision) }
        let precision = context.precision
        func floats(_ values: [Float], _ shape: [Int]) -> Buffer {
            Buffer(shape: shape, storage: precision == .float64 ? .double(values.map(Double.init)) : .float(values))
        }
        if let value = node.attribute("value_float")?.floatValue { return floats([value], []) }
        if let values = node.attribute("value_floats")?.floatsValue { return floats(values, [values.count]) }
        if let value = node.attribute("value_int")?.intValue { return Buffer(shape: [], storage: .int64([value])) }
        if let values = node.attribute("value_ints")?.intsValue { return Buffer(shape: [values.count], storage: .int64(values)) }
        for form in ["value_string", "value_strings", "sparse_value"] where node.attribute(form) != nil {
            throw context.unsupported(form, "(string and sparse constants)")
        }
        throw context.fail("no value attribute (value, value_float(s) or value_int(s))")
    }

    /// A tensor of the shape given by input 0, every element the one-element `value` attribute
    /// (float32 0 by default).
    static func constantOfShape(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        let input = try context.input(0)
        guard input.shape.count == 1, !input.isFloatingPoint else {
            throw context.fail("the shape must be a 1-D integer tensor, got \(input.typeName) \(input.shape)")
        }
        let shape = input.int64Values.map { Int(clamping: $0) }
        let count = try context.elementCount(of: shape)
        let value = context.node.attribute("value")?.tensorValue.map { Buffer($0, precision: context.precision) }
            ?? Buffer(shape: [1], storage: context.precision == .float64 ? .double([0]) : .float([0]))
        guard value.count == 1 else { throw context.fail("value must hold one element, got shape \(value.shape)") }
        return Buffer(shape: shape, storage: value.storage.repeating(count), integerType: value.integerType)
    }

    /// Cast. Every floating-point target computes in the run's precision; in a float32 run, a
    /// cast to float16 or bfloat16 rounds to that type (as a deployment storing it would) and
    /// is then held as float. Integer targets truncate toward zero and wrap to the target's width.
    static func cast(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        let x = try context.input(0)
        let code = try context.int("to", 0)
        guard let raw = Int32(exactly: code), let type = ElementType(rawValue: raw) else {
            throw context.unsupported("to", "\(code) (not a numeric or bool ONNX type the interpreter holds)")
        }
        switch type {
        case .float32, .float16, .bfloat16, .float64:
            var values: [Float]
            switch x.storage {
            case .double(let v) where context.precision == .float64:
                return Buffer(shape: x.shape, storage: .double(v))
            case .float(let v): values = v
            case .double(let v): values = v.map { Float($0) }
            case .int64(let v) where context.precision == .float64:
                return Buffer(shape: x.shape, storage: .double(v.map { Double($0) }))
            case .int64(let v): values = v.map { Float($0) }
            case .bool(let v): values = v.map { $0 ? 1 : 0 }
            }
            if context.precision == .float64 {
                return Buffer(shape: x.shape, storage: .double(values.map(Double.init)))
            }
            if type == .float16 { values = values.map(roundedToHalf) }
            if type == .bfloat16 { values = values.map(roundedToBFloat16) }
            return Buffer(shape: x.shape, storage: .float(values))
        case .bool:
            let truth: [Bool] = switch x.storage {
            case .bool(let v): v
            case .int64(let v): v.map { $0 != 0 }
            case .float(let v): v.map { $0 != 0 }
            case .double(let v): v.map { $0 != 0 }
            }
            return Buffer(shape: x.shape, storage: .bool(truth))
        default:
            let wrapped = x.int64Values.map { wrap($0, to: type) }
            return Buffer(shape: x.shape, storage: .int64(wrapped), integerType: type)
        }
    }

    /// `value` reduced to the width of the integer type `type` (two's complement), as Int64.
    static func wrap(_ value: Int64, to type: ElementType) -> Int64 {
        switch type {
        case .int8: Int64(Int8(truncatingIfNeeded: value))
        case .int16: Int64(Int16(truncatingIfNeeded: value))
        case .int32: Int64(Int32(truncatingIfNeeded: value))
        case .uint8: Int64(UInt8(truncatingIfNeeded: value))
        case .uint16: Int64(UInt16(truncatingIfNeeded: value))
        case .uint32: Int64(UInt32(truncatingIfNeeded: value))
        default: value
        }
    }

    /// The nearest IEEE half-precision value (ties to even), as Float.
    static func roundedToHalf(_ value: Float) -> Float {
        #if arch(x86_64) || arch(arm64)
        return Float(Float16(value))
        #else
        return value
        #endif
    }

    /// The nearest bfloat16 value (the top 16 bits of a float, ties to even); NaN stays NaN.
    static func roundedToBFloat16(_ value: Float) -> Float {
        guard !value.isNaN else { return value }
        let bits = value.bitPattern
        let rounding = UInt32(0x7FFF) + ((bits >> 16) & 1)
        return Float(bitPattern: (bits &+ rounding) & 0xFFFF_0000)
    }
}
