import GhostIR

/// Why a node with constant inputs was not evaluated.
struct FoldFailure: Error {
    let code: SkipCode
    let reason: String

    init(_ code: SkipCode, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    var skip: Skip { Skip(code, reason) }
}

/// GhostPasses' own evaluator for the integer and shape operators exporters leave around static
/// shapes: pure functions from constant tensors to a constant tensor (never the interpreter,
/// which is the referee).
///
/// Data movement (Gather, Concat, Slice, Reshape, Unsqueeze, Squeeze, Expand, Transpose, Identity) copies element
/// bytes, so it is exact for every storable type; integer arithmetic (Add, Sub, Mul, Div on
/// int32 and int64) is overflow-checked, with Div truncating toward zero as ONNX Runtime's integer
/// Div does; float32/float64 Add, Sub, Mul, Div and Sqrt are one IEEE operation per element in
/// the operands' own type (ConstantFloatArithmetic.swift); Cast converts between int64, int32, int16, int8, uint8, bool, float32 and float64
/// (a float that is NaN or out of the target's range is refused rather than guessed). No result
/// may exceed `maximumElements`, so Range or ConstantOfShape cannot blow up memory.
enum ConstantEvaluator {
    static let maximumElements = 1 << 20

    /// The operators `fold-constants` evaluates. Identity is evaluated (as its input) but not
    /// folded: `eliminate-identity` rewires its readers instead of copying a shared weight under
    /// a second name.
    static let operators: Set<String> = [
        "Shape", "Size", "Gather", "Unsqueeze", "Squeeze", "Concat", "Slice", "Cast", "Reshape", "Range",
        "ConstantOfShape", "Add", "Sub", "Mul", "Div", "Sqrt", "Expand", "Transpose", "Equal", "Where",
    ]

    /// The single output of `node` for these inputs (nil where an optional input is absent).
    static func evaluate(_ node: Node, _ inputs: [Tensor?]) throws(FoldFailure) -> Tensor {
        func input(_ position: Int) throws(FoldFailure) -> Tensor {
            guard position < inputs.count, let tensor = inputs[position] else {
                throw FoldFailure(.foldMalformed, "input \(position) is missing")
            }
            return tensor
        }
        let constant: (String) -> Tensor? = { name in
            guard let position = node.inputs.firstIndex(of: name), position < inputs.count else { return nil }
            return inputs[position]
        }
        let result: Tensor
        switch node.opType {
        case "Identity":
            result = try input(0)
        case "Shape":
            let data = try input(0)
            let range = ShapeOps.shapeRange(rank: data.rank, node: node)
            result = try make(int64: data.shape[range].map(Int64.init), shape: [range.count])
        case "Size":
            result = try make(int64: [Int64(try input(0).elementCount)], shape: [])
        case "Gather":
            result = try gather(try input(0), indices: try input(1), axis: node.attribute("axis")?.intValue ?? 0)
        case "Concat":
            result = try concat(try (0..<node.inputs.count).filter { !node.inputs[$0].isEmpty }.map { (p) throws(FoldFailure) in try input(p) },
                                axis: node.attribute("axis")?.intValue ?? 0)
        case "Unsqueeze", "Squeeze":
            let data = try input(0)
            guard let axes = ShapeOps.axesOperand(node, constant: constant) else {
                throw FoldFailure(.foldMalformed, "axes are not an integer constant")
            }
            var shape: [Int]?
            if node.opType == "Unsqueeze" {
                shape = axes.flatMap { ShapeOps.unsqueezed(data.shape, axes: $0, one: 1) }
            } else if let axes {
                shape = ShapeOps.squeezed(data.shape.map(Dim.fixed), axes: axes)?.compactMap(\.fixedValue)
            } else {
                shape = data.shape.filter { $0 != 1 }
            }
            guard let shape else { throw FoldFailure(.foldMalformed, "axes \(String(describing: axes)) do not fit shape \(data.shape)") }
            result = try reshape(data, to: shape)
        case "Reshape":
            result = try reshape(try input(0), target: try input(1), allowZero: node.attribute("allowzero")?.intValue == 1)
        case "Slice":
            let data = try input(0)
            guard let ranges = ShapeOps.sliceParameters(node, rank: data.rank, constant: constant) else {
                throw FoldFailure(.foldMalformed, "starts/ends/axes/steps are not consistent integer constants")
            }
            result = try slice(data, ranges)
        case "Cast":
            guard let code = node.attribute("to")?.intValue, let target = ElementType(rawValue: Int32(truncatingIfNeeded: code)) else {
                throw FoldFailure(.foldMalformed, "'to' is missing or not a known type")
            }
            result = try cast(try input(0), to: target)
        case "Add", "Sub", "Mul", "Div":
            let a = try input(0), b = try input(1)
            if a.elementType == b.elementType, a.elementType == .float32 || a.elementType == .float64 {
                result = try floatArithmetic(node.opType, a, b)
            } else {
                result = try arithmetic(node.opType, a, b)
            }
        case "Sqrt":
            result = try squareRoot(try input(0))
        case "Expand":
            let target = try input(1)
            guard !target.elementType.isFloatingPoint, target.rank == 1 else {
                throw FoldFailure(.foldMalformed, "the shape is not a 1-D integer tensor")
            }
            let sizes = target.int64Values()
            guard sizes.allSatisfy({ $0 >= 0 && $0 <= Int64(Int32.max) }) else { throw FoldFailure(.foldMalformed, "shape \(sizes) is invalid") }
            result = try expand(try input(0), to: sizes.map(Int.init))
        case "Transpose":
            let data = try input(0)
            let perm = node.attribute("perm")?.intsValue.map { $0.map(Int.init) } ?? Array((0..<data.rank).reversed())
            guard perm.sorted() == Array(0..<data.rank) else { throw FoldFailure(.foldMalformed, "perm \(perm) is not a permutation of the axes") }
            result = try transpose(data, perm: perm)
        case "Equal":
            result = try equal(try input(0), try input(1))
        case "Where":
            result = try select(try input(0), try input(1), try input(2))
        case "Range":
            result = try range(try input(0), try input(1), try input(2))
        case "ConstantOfShape":
            result = try constantOfShape(try input(0), value: node.attribute("value")?.tensorValue)
        default:
            throw FoldFailure(.foldTypeUnsupported, "\(node.opType) is not one of the operators the constant evaluator computes")
        }
        return result
    }

    // MARK: - helpers

    static func checkedCount(_ shape: [Int]) throws(FoldFailure) -> Int {
        guard let count = try? Tensor.elementCount(of: shape) else {
            throw FoldFailure(.foldMalformed, "shape \(shape) has a negative dimension or overflows")
        }
        guard count <= maximumElements else {
            throw FoldFailure(.foldTooLarge, "the result would have \(count) elements (more than \(maximumElements))")
        }
        return count
    }

    static func make(_ type: ElementType, shape: [Int], bytes: [UInt8]) throws(FoldFailure) -> Tensor {
        _ = try checkedCount(shape)
        do {
            return try Tensor(elementType: type, shape: shape, storage: TensorStorage(values: bytes))
        } catch {
            throw FoldFailure(.foldMalformed, "\(error)")
        }
    }

    static func make(int64 values: [Int64], shape: [Int]) throws(FoldFailure) -> Tensor {
        try make(.int64, shape: shape, bytes: values.withUnsafeBytes { Array($0) })
    }

    static func bytes(_ tensor: Tensor) -> [UInt8] { Array(tensor.storage.bytes) }

    private static func product(_ sizes: ArraySlice<Int>) -> Int { sizes.reduce(1, *) }

    // MARK: - data movement

    /// out[o, i…, r] = data[o, indices[i…], r], negative indices counting from the end.
    static func gather(_ data: Tensor, indices: Tensor, axis: Int64) throws(FoldFailure) -> Tensor {
        guard !indices.elementType.isFloatingPoint, let axis = ShapeOps.axis(axis, rank: data.rank) else {
            throw FoldFailure(.foldMalformed, "axis \(axis) is out of range for rank \(data.rank), or the indices are not integers")
        }
        let size = data.shape[axis]
        let outer = product(data.shape[..<axis]), inner = product(data.shape[(axis + 1)...]) * data.elementType.byteSize
        let shape = Array(data.shape[..<axis]) + indices.shape + Array(data.shape[(axis + 1)...])
        _ = try checkedCount(shape)
        var positions: [Int] = []
        for index in indices.int64Values() {
            guard index >= -Int64(size), index < Int64(size) else {
                throw FoldFailure(.foldMalformed, "index \(index) is out of range for a dimension of \(size)")
            }
            positions.append(Int(index < 0 ? index + Int64(size) : index))
        }
        let source = bytes(data)
        var out: [UInt8] = []
        out.reserveCapacity(outer * positions.count * inner)
        for o in 0..<outer {
            for position in positions {
                let start = (o * size + position) * inner
                out.append(contentsOf: source[start..<(start + inner)])
            }
        }
        return try make(data.elementType, shape: shape, bytes: out)
    }

    static func concat(_ parts: [Tensor], axis: Int64) throws(FoldFailure) -> Tensor {
        guard let first = parts.first, let axis = ShapeOps.axis(axis, rank: first.rank) else {
            throw FoldFailure(.foldMalformed, "no inputs, or axis \(axis) out of range")
        }
        var total = 0
        for part in parts {
            guard part.elementType == first.elementType, part.rank == first.rank,
                  part.shape.indices.allSatisfy({ $0 == axis || part.shape[$0] == first.shape[$0] }) else {
                throw FoldFailure(.foldMalformed, "inputs of shapes \(parts.map(\.shape)) and types do not concatenate on axis \(axis)")
            }
            total += part.shape[axis]
        }
        var shape = first.shape
        shape[axis] = total
        _ = try checkedCount(shape)
        let outer = product(first.shape[..<axis])
        let sources = parts.map { (bytes($0), product($0.shape[axis...]) * $0.elementType.byteSize) }
        var out: [UInt8] = []
        for o in 0..<outer {
            for (source, block) in sources { out.append(contentsOf: source[(o * block)..<((o + 1) * block)]) }
        }
        return try make(first.elementType, shape: shape, bytes: out)
    }

    static func reshape(_ data: Tensor, to shape: [Int]) throws(FoldFailure) -> Tensor {
        guard try checkedCount(shape) == data.elementCount else {
            throw FoldFailure(.foldMalformed, "cannot reshape \(data.shape) to \(shape)")
        }
        return try make(data.elementType, shape: shape, bytes: bytes(data))
    }

    /// Reshape's target: 0 copies the input's dimension (unless `allowzero`), one −1 takes what
    /// is left.
    static func reshape(_ data: Tensor, target: Tensor, allowZero: Bool) throws(FoldFailure) -> Tensor {
        guard !target.elementType.isFloatingPoint, target.rank == 1 else {
            throw FoldFailure(.foldMalformed, "the target shape is not a 1-D integer tensor")
        }
        var shape: [Int] = []
        var inferred: Int?
        for (position, entry) in target.int64Values().enumerated() {
            if entry == 0, !allowZero {
                guard position < data.rank else { throw FoldFailure(.foldMalformed, "0 at position \(position) has no input dimension to copy") }
                shape.append(data.shape[position])
            } else if entry == -1, inferred == nil {
                inferred = position
                shape.append(1)
            } else if entry >= 0, entry <= Int64(Int32.max) {
                shape.append(Int(entry))
            } else {
                throw FoldFailure(.foldMalformed, "target entry \(entry) is invalid")
            }
        }
        if let inferred {
            let known = shape.reduce(1, *)
            guard known > 0, data.elementCount % known == 0 else {
                throw FoldFailure(.foldMalformed, "cannot infer the −1 of \(target.int64Values()) for \(data.shape)")
            }
            shape[inferred] = data.elementCount / known
        }
        return try reshape(data, to: shape)
    }

    static func slice(_ data: Tensor, _ ranges: [ShapeOps.SliceAxis]) throws(FoldFailure) -> Tensor {
        var first = Array(repeating: 0, count: data.rank)
        var steps = Array(repeating: 1, count: data.rank)
        var shape = data.shape
        for range in ranges {
            let (start, count) = ShapeOps.sliceRange(size: data.shape[range.axis], start: range.start, end: range.end, step: range.step)
            guard range.step >= Int64(Int32.min), range.step <= Int64(Int32.max) else {
                throw FoldFailure(.foldMalformed, "step \(range.step) is out of range")
            }
            first[range.axis] = start
            steps[range.axis] = Int(range.step)
            shape[range.axis] = count
        }
        let count = try checkedCount(shape)
        let width = data.elementType.byteSize
        var strides = Array(repeating: 1, count: data.rank)
        for axis in stride(from: data.rank - 2, through: 0, by: -1) { strides[axis] = strides[axis + 1] * data.shape[axis + 1] }
        let source = bytes(data)
        var out: [UInt8] = []
        out.reserveCapacity(count * width)
        var position = Array(repeating: 0, count: data.rank)
        for _ in 0..<count {
            var offset = 0
            for axis in 0..<data.rank { offset += (first[axis] + position[axis] * steps[axis]) * strides[axis] }
            out.append(contentsOf: source[(offset * width)..<((offset + 1) * width)])
            advance(&position, within: shape)
        }
        return try make(data.elementType, shape: shape, bytes: out)
    }

    /// Expand: numpy broadcasting of data against the target shape.
    static func expand(_ data: Tensor, to target: [Int]) throws(FoldFailure) -> Tensor {
        let shape = try broadcastShape(data.shape, target)
        let count = try checkedCount(shape)
        let width = data.elementType.byteSize
        let source = bytes(data)
        var out: [UInt8] = []
        out.reserveCapacity(count * width)
        for offset in offsets(from: data.shape, to: shape, count: count) {
            out.append(contentsOf: source[(offset * width)..<((offset + 1) * width)])
        }
        return try make(data.elementType, shape: shape, bytes: out)
    }

    /// out[i₀, …] = data[…] with out axis k being data axis perm[k].
    static func transpose(_ data: Tensor, perm: [Int]) throws(FoldFailure) -> Tensor {
        let shape = perm.map { data.shape[$0] }
        let count = try checkedCount(shape)
        var strides = Array(repeating: 1, count: data.rank)
        for axis in stride(from: data.rank - 2, through: 0, by: -1) { strides[axis] = strides[axis + 1] * data.shape[axis + 1] }
        let width = data.elementType.byteSize
        let source = bytes(data)
        var out: [UInt8] = []
        out.reserveCapacity(count * width)
        var position = Array(repeating: 0, count: shape.count)
        for _ in 0..<count {
            var offset = 0
            for axis in shape.indices { offset += position[axis] * strides[perm[axis]] }
            out.append(contentsOf: source[(offset * width)..<((offset + 1) * width)])
            advance(&position, within: shape)
        }
        return try make(data.elementType, shape: shape, bytes: out)
    }

    /// Equal on integers or bools (exact), broadcasting; a bool tensor out.
    static func equal(_ a: Tensor, _ b: Tensor) throws(FoldFailure) -> Tensor {
        guard a.elementType == b.elementType, !a.elementType.isFloatingPoint else {
            throw FoldFailure(.foldTypeUnsupported, "Equal is folded for integer or bool operands of one type")
        }
        let shape = try broadcastShape(a.shape, b.shape)
        let count = try checkedCount(shape)
        let x = a.int64Values(), y = b.int64Values()
        let left = offsets(from: a.shape, to: shape, count: count), right = offsets(from: b.shape, to: shape, count: count)
        return try make(.bool, shape: shape, bytes: (0..<count).map { x[left[$0]] == y[right[$0]] ? 1 : 0 })
    }

    /// Where(condition, a, b): a where the bool condition holds, else b, broadcasting all three.
    static func select(_ condition: Tensor, _ a: Tensor, _ b: Tensor) throws(FoldFailure) -> Tensor {
        guard condition.elementType == .bool, a.elementType == b.elementType else {
            throw FoldFailure(.foldMalformed, "Where needs a bool condition and two operands of one type")
        }
        let shape = try broadcastShape(try broadcastShape(condition.shape, a.shape), b.shape)
        let count = try checkedCount(shape)
        let width = a.elementType.byteSize
        let flags = bytes(condition), first = bytes(a), second = bytes(b)
        let c = offsets(from: condition.shape, to: shape, count: count)
        let left = offsets(from: a.shape, to: shape, count: count), right = offsets(from: b.shape, to: shape, count: count)
        var out: [UInt8] = []
        out.reserveCapacity(count * width)
        for position in 0..<count {
            if flags[c[position]] != 0 {
                out.append(contentsOf: first[(left[position] * width)..<((left[position] + 1) * width)])
            } else {
                out.append(contentsOf: second[(right[position] * width)..<((right[position] + 1) * width)])
            }
        }
        return try make(a.elementType, shape: shape, bytes: out)
    }
}
