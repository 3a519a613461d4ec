/// TopK: the k largest (or smallest) elements along `axis` and their int64 indices, best first.
///
/// Order as ONNX Runtime gives it: NaN ranks above every number (first when largest, last when
/// smallest), equal values keep their index order. With `sorted = 0` the same sorted order is
/// returned (the spec leaves the order open then).
enum TopK {
    static func evaluate(_ context: NodeContext) throws(InterpreterError) -> [Buffer] {
        let x = try context.input(0)
        let rank = x.shape.count
        guard rank > 0 else { throw context.fail("expects an input of rank ≥ 1, got a scalar") }
        let axis = try context.axis(try context.int("axis", -1), rank: rank)
        let k: Int
        if context.opset >= 10 {
            let given = try context.input(1)
            guard case .int64 = given.storage, given.count == 1, given.shape.count <= 1 else {
                throw context.fail("K must be a 1-element int64 tensor, got \(given.typeName) \(given.shape)")
            }
            k = Int(clamping: given.int64Values[0])
        } else {
            guard context.node.attribute("k") != nil else { throw context.fail("attribute k is missing") }
            k = try context.int("k", 0)
        }
        let largest = context.opset >= 11 ? try context.int("largest", 1) != 0 : true
        let (outer, count, inner) = Reduction.split(x.shape, at: axis)
        guard k >= 0, k <= count else {
            throw context.fail("k = \(k) is outside 0...\(count), the size of axis \(axis) of \(x.shape)")
        }
        var outShape = x.shape
        outShape[axis] = k
        let total = try context.elementCount(of: outShape)
        let order: [Int]
        switch x.storage {
        case .float(let v): order = select(v, outer, count, inner, k, largest: largest)
        case .double(let v): order = select(v, outer, count, inner, k, largest: largest)
        case .int64(let v): order = select(Reduction.orderKeys(v, x.integerType), outer, count, inner, k, largest: largest)
        case .bool: throw context.fail("expects a numeric input, got bool")
        }
        // order[i] is the flat source of output element i; its index along the axis follows.
        var indices = [Int64](repeating: 0, count: total)
        for (i, source) in order.enumerated() { indices[i] = Int64((source / inner) % max(count, 1)) }
        let values = Buffer(shape: outShape, storage: x.storage.picking(order), integerType: x.integerType)
        return [values, Buffer(shape: outShape, storage: .int64(indices))]
    }

    /// For each output element in C order, the flat index of the input element it takes.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    @_specialize(where T == Int64)
    static func select<T: ReducibleScalar>(_ x: [T], _ outer: Int, _ count: Int, _ inner: Int, _ k: Int, largest: Bool) -> [Int] {
        // a ranks above b: NaN above numbers (a value unequal to itself is NaN).
        @inline(__always) func above(_ a: T, _ b: T) -> Bool { (a != a && b == b) || T.isGreater(a, b) }
        var order = [Int](repeating: 0, count: outer * k * inner)
        // No slices to rank: skip the scratch, which is as long as the axis (up to the limit).
        guard outer > 0, inner > 0 else { return order }
        var slice = [T](repeating: T.zero, count: count)
        var positions = [Int](repeating: 0, count: count)
        for block in 0..<outer {
            for j in 0..<inner {
                let base = block * count * inner + j
                for i in 0..<count {
                    slice[i] = x[base + i * inner]
                    positions[i] = i
                }
                positions.sort { a, b in
                    let (va, vb) = (slice[a], slice[b])
                    if largest ? above(va, vb) : above(vb, va) { return true }
                    if largest ? above(vb, va) : above(va, vb) { return false }
                    return a < b
                }
                for r in 0..<k { order[(block * k + r) * inner + j] = base + positions[r] * inner }
            }
        }
        return order
    }
}
