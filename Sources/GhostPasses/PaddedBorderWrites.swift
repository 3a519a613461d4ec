import GhostIR

/// Follows every element of a padded tensor through a chain of Transposes and ScatterNDs with
/// constant operands (the exported form of slice assignments such as DBB's
/// `out[:, :, 0:p, :] = v`), without the tensor's data: each element is either "the padded
/// tensor's element at offset i" or "the constant written there".
///
/// A ScatterND `out = data; out[indices[j]] = updates[j]` writes whole trailing slices; a
/// Transpose moves elements. At the end the tensor must be back in the padded layout for
/// `PaddedBorderWrites.borderValue` to read it.
struct PaddedBorderWrites {
    private(set) var shape: [Int]
    /// ≥ 0: the padded tensor's element at this offset; < 0: `written[-1 - code]`.
    private var source: [Int32]
    private var written: [Double] = []

    /// Elements a simulation may hold: four bytes each, so 64 MiB at most.
    static let elementLimit = 1 << 24

    /// The padded tensor itself; `count` (the product of `shape`) must be at most `elementLimit`.
    init(shape: [Int], count: Int) {
        self.shape = shape
        source = (0..<Int32(count)).map { $0 }
    }

    /// `y = Transpose(x, perm)`: y[i₀, …] = x[i_{perm⁻¹}…], i.e. axis a of y is axis perm[a] of x.
    mutating func transpose(_ perm: [Int]) throws(Skip) {
        let rank = shape.count
        guard perm.count == rank, perm.sorted() == Array(0..<rank) else {
            throw Skip(.padBorderWriteMalformed, "a Transpose's perm \(perm) is not a permutation of \(rank) axes")
        }
        var strides = [Int](repeating: 1, count: rank)
        for axis in stride(from: rank - 2, through: 0, by: -1) { strides[axis] = strides[axis + 1] * shape[axis + 1] }
        let outShape = perm.map { shape[$0] }, outStrides = perm.map { strides[$0] }
        var result = [Int32](repeating: 0, count: source.count)
        var coordinate = [Int](repeating: 0, count: rank), offset = 0
        for position in result.indices {
            result[position] = source[offset]
            var axis = rank - 1
            while axis >= 0 {
                coordinate[axis] += 1
                offset += outStrides[axis]
                if coordinate[axis] < outShape[axis] { break }
                offset -= outStrides[axis] * coordinate[axis]
                coordinate[axis] = 0
                axis -= 1
            }
        }
        source = result
        shape = outShape
    }

    /// `y = ScatterND(x, indices, updates)` with `reduction = none`: for every index tuple j
    /// (the last axis of `indices`, of length k ≤ rank), y[indices[j], …] = updates[j, …]. Later
    /// tuples win, as ONNX Runtime applies them in order.
    mutating func scatter(indices: Tensor, updates: Tensor) throws(Skip) {
        let rank = shape.count
        guard indices.elementType == .int64 || indices.elementType == .int32, let k = indices.shape.last, k >= 1, k <= rank else {
            throw Skip(.padBorderWriteMalformed, "ScatterND indices of shape \(indices.shape) do not address a rank-\(rank) tensor")
        }
        let tuples = Array(indices.shape.dropLast())
        guard updates.elementType == .float32 || updates.elementType == .float64,
              updates.shape == tuples + Array(shape[k...]) else {
            throw Skip(.padBorderWriteMalformed, "ScatterND updates of shape \(updates.shape) do not fit indices \(indices.shape) on \(shape)")
        }
        let slice = shape[k...].reduce(1, *)
        var strides = [Int](repeating: 1, count: rank)
        for axis in stride(from: rank - 2, through: 0, by: -1) { strides[axis] = strides[axis + 1] * shape[axis + 1] }
        let values = updates.doubleValues(), addresses = indices.int64Values()
        let (total, overflow) = written.count.addingReportingOverflow(values.count)
        guard !overflow, total < Int(Int32.max) else {
            throw Skip(.padTooLarge, "the border writes hold more than 2³¹ values")
        }
        let base = written.count
        written.append(contentsOf: values)
        for tuple in 0..<(addresses.count / k) {
            var offset = 0
            for axis in 0..<k {
                var at = addresses[tuple * k + axis]
                let size = Int64(shape[axis])
                if at < 0 { at += size }
                guard at >= 0, at < size else {
                    throw Skip(.padBorderWriteMalformed, "ScatterND index \(addresses[tuple * k + axis]) is outside axis \(axis) of size \(size)")
                }
                offset += Int(at) * strides[axis]
            }
            for element in 0..<slice {
                source[offset + element] = Int32(-1 - (base + tuple * slice + element))
            }
        }
    }

    /// What the chain left at `offset` of the padded layout: the padded tensor's own element
    /// (`nil` value, with the offset it came from) or a written constant.
    func element(at offset: Int) -> (from: Int?, value: Double?) {
        let code = Int(source[offset])
        return code >= 0 ? (code, nil) : (nil, written[-1 - code])
    }
}
