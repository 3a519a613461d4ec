/// Pad, any element type, modes constant, edge, reflect and wrap. Negative pads crop.
///
/// Output index `o` along an axis reads input index `i = o − begin`; outside `0..<size` the mode
/// decides: constant → the fill value, edge → the nearest end, reflect → mirrored about the end
/// elements (period 2·(size−1)), wrap → `i mod size`.
enum Padding {
    enum Mode: String { case constant, edge, reflect, wrap }

    static func pad(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        let x = try context.input(0)
        let modeName = try context.string("mode", "constant")
        guard let mode = Mode(rawValue: modeName) else { throw context.unsupported("mode", modeName) }
        let rank = x.shape.count
        let pads = try requestedPads(context, rank: rank)
        var shape: [Int] = []
        for axis in 0..<rank {
            let (size, overflow) = x.shape[axis].addingReportingOverflow(pads[axis])
            let (total, overflow2) = size.addingReportingOverflow(pads[axis + rank])
            guard !overflow, !overflow2, total >= 0 else { throw context.fail("pads \(pads) make axis \(axis) of size \(x.shape[axis]) negative") }
            if mode != .constant, x.shape[axis] == 0, total > 0 { throw context.fail("\(modeName) padding of an empty axis \(axis)") }
            shape.append(total)
        }
        let count = try context.elementCount(of: shape)
        // No elements: an axis may still be huge (a zero beside 2⁴⁰), so build no per-axis table.
        if count == 0 { return Buffer(shape: shape, storage: x.storage.picking([]), integerType: x.integerType) }
        // Output index o reads input index o − begin: a begin pad near −2⁶³ (cropping far more
        // than the axis holds, with an end pad as large) puts that past a 64-bit index. The ends
        // of 0..<shape[axis] bound it, so two checks an axis cover every o.
        for axis in 0..<rank where shape[axis] > 0 {
            guard !0.subtractingReportingOverflow(pads[axis]).overflow,
                  !(shape[axis] - 1).subtractingReportingOverflow(pads[axis]).overflow else {
                throw context.fail("pads \(pads) make axis \(axis) read input indices beyond 64 bits")
            }
        }
        // Per axis, the input index each output index reads, or −1 for the fill value.
        let sources: [[Int]] = (0..<rank).map { axis in
            let size = x.shape[axis]
            return (0..<shape[axis]).map { o in source(o - pads[axis], size: size, mode: mode) }
        }
        let strides = ShapeOperators.contiguousStrides(x.shape)
        var indices: [Int] = []
        indices.reserveCapacity(count)
        var index = [Int](repeating: 0, count: rank)
        for _ in 0..<count {
            var offset = 0
            for axis in 0..<rank {
                let i = sources[axis][index[axis]]
                if i < 0 { offset = x.count; break }  // the fill value, appended after the data
                offset += i * strides[axis]
            }
            indices.append(offset)
            var axis = rank - 1
            while axis >= 0 {
                index[axis] += 1
                if index[axis] < shape[axis] { break }
                index[axis] = 0
                axis -= 1
            }
        }
        let fill = try fillValue(context, like: x)
        let extended: Buffer.Storage
        switch (x.storage, fill) {
        case (.float(let v), .float(let f)): extended = .float(v + f)
        case (.double(let v), .double(let f)): extended = .double(v + f)
        case (.int64(let v), .int64(let f)): extended = .int64(v + f)
        case (.bool(let v), .bool(let f)): extended = .bool(v + f)
        default: throw context.fail("constant_value does not match the input's type \(x.typeName)")
        }
        return Buffer(shape: shape, storage: extended.picking(indices), integerType: x.integerType)
    }

    /// [begin₀, begin₁, …, end₀, end₁, …] for every axis: from the attribute (before opset 11)
    /// or the input, spread over the optional `axes` input (opset 18).
    private static func requestedPads(_ context: NodeContext, rank: Int) throws(InterpreterError) -> [Int] {
        var pads = try context.ints("pads") ?? context.optionalInput(1)?.int64Values.map { Int(clamping: $0) } ?? []
        if context.opset >= 18, let axesInput = context.optionalInput(3) {
            let axes = axesInput.int64Values.map { Int(clamping: $0) }
            guard pads.count == 2 * axes.count else { throw context.fail("pads has \(pads.count) values for \(axes.count) axes") }
            var full = [Int](repeating: 0, count: 2 * rank)
            var seen = Set<Int>()
            for (i, raw) in axes.enumerated() {
                let axis = try context.axis(raw, rank: rank)
                guard seen.insert(axis).inserted else { throw context.fail("axes \(axes) repeat axis \(axis)") }
                full[axis] = pads[i]
                full[axis + rank] = pads[i + axes.count]
            }
            pads = full
        }
        guard pads.count == 2 * rank else { throw context.fail("pads has \(pads.count) values for rank \(rank)") }
        return pads
    }

    /// The input index read for input position `i` (possibly outside 0..<size), or −1 to fill.
    private static func source(_ i: Int, size: Int, mode: Mode) -> Int {
        if i >= 0, i < size { return i }
        switch mode {
        case .constant: return -1
        case .edge: return i < 0 ? 0 : size - 1
        case .wrap: return ((i % size) + size) % size
        case .reflect:
            guard size > 1 else { return 0 }
            let period = 2 * (size - 1)
            let folded = ((i % period) + period) % period
            return folded < size ? folded : period - folded
        }
    }

    /// The fill value as one element of the input's storage kind: the `value` attribute (before
    /// opset 11) or the optional `constant_value` input, 0 by default.
    private static func fillValue(_ context: NodeContext, like x: Buffer) throws(InterpreterError) -> Buffer.Storage {
        if let given = context.optionalInput(2) {
            guard given.count == 1 else { throw context.fail("constant_value must hold one element, got shape \(given.shape)") }
            switch (x.storage, given.storage) {
            case (.int64, .int64(let v)): return .int64(v)
            case (.bool, .bool(let v)): return .bool(v)
            case (.float, _): return .float([Float(given.doubleValues[0])])
            case (.double, _): return .double(given.doubleValues)
            default: throw context.fail("constant_value of type \(given.typeName) does not match the input's type \(x.typeName)")
            }
        }
        let value = Double(try context.float("value", 0))
        switch x.storage {
        case .float: return .float([Float(value)])
        case .double: return .double([value])
        case .int64: return .int64([Buffer.truncated(value)])
        case .bool: return .bool([value != 0])
        }
    }
}
