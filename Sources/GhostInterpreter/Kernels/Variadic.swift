import GhostIR

/// Min, Max, Mean and Sum of 1…N inputs, all broadcast together (numpy rules).
///
/// The result starts as input 0 broadcast to the output shape and takes in each further input in
/// order, one run of the innermost axis at a time, as ONNX Runtime folds them. Max and Min
/// propagate NaN (either operand) like ONNX Runtime; between equal values (±0) they keep the
/// earlier input. Mean is the sum times 1/N in the run's precision (ONNX Runtime's order). Min and
/// Max also take integers (uint64 compared unsigned); Sum and Mean are floating-point only, as the
/// spec types them.
enum Variadic {
    enum Operation { case min, max, mean, sum }

    static func evaluate(_ operation: Operation, _ context: NodeContext) throws(InterpreterError) -> Buffer {
        guard !context.inputs.isEmpty else { throw context.fail("needs at least one input") }
        var inputs: [Buffer] = []
        for index in context.inputs.indices { inputs.append(try context.input(index)) }
        var shape = inputs[0].shape
        for input in inputs.dropFirst() {
            guard let next = Broadcast.shape(shape, input.shape) else {
                throw context.fail("shapes \(inputs.map(\.shape)) do not broadcast")
            }
            shape = next
        }
        _ = try context.elementCount(of: shape)
        let first = inputs[0]
        for (index, input) in inputs.enumerated() where input.typeName != first.typeName {
            throw context.fail("input \(index) is \(input.typeName), input 0 is \(first.typeName)")
        }
        let shapes = inputs.map(\.shape)
        switch first.storage {
        case .float:
            let values = inputs.compactMap { if case .float(let v) = $0.storage { v } else { nil } }
            return Buffer(shape: shape, storage: .float(floating(operation, values, shapes, shape)))
        case .double:
            let values = inputs.compactMap { if case .double(let v) = $0.storage { v } else { nil } }
            return Buffer(shape: shape, storage: .double(floating(operation, values, shapes, shape)))
        case .int64:
            let values = inputs.compactMap { if case .int64(let v) = $0.storage { v } else { nil } }
            let unsigned = first.integerType == .uint64
            let result: [Int64]
            switch operation {
            case .max: result = unsigned ? fold(values, shapes, into: shape, UnsignedMaximum.self) : fold(values, shapes, into: shape, SignedMaximum.self)
            case .min: result = unsigned ? fold(values, shapes, into: shape, UnsignedMinimum.self) : fold(values, shapes, into: shape, SignedMinimum.self)
            case .mean, .sum: throw context.fail("expects floating-point inputs, got \(first.typeName)")
            }
            return Buffer(shape: shape, storage: .int64(result), integerType: first.integerType)
        case .bool:
            throw context.fail("expects numeric inputs, got bool")
        }
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func floating<T: InterpreterScalar>(_ operation: Operation, _ values: [[T]], _ shapes: [[Int]], _ shape: [Int]) -> [T] {
        switch operation {
        case .max: return fold(values, shapes, into: shape, FloatingMaximum<T>.self)
        case .min: return fold(values, shapes, into: shape, FloatingMinimum<T>.self)
        case .sum: return fold(values, shapes, into: shape, Plus<T>.self)
        case .mean:
            var result = fold(values, shapes, into: shape, Plus<T>.self)
            let scale = 1 / T(values.count)
            result.withUnsafeMutableBufferPointer { out in
                for i in out.indices { out[i] *= scale }
            }
            return result
        }
    }

    /// `A.combine` folded over the inputs (each broadcast to `shape`) from the left.
    static func fold<A: Accumulation>(_ values: [[A.Element]], _ shapes: [[Int]], into shape: [Int], _: A.Type) -> [A.Element] {
        let count = shape.reduce(1, *)
        guard let firstValues = values.first, let firstShape = shapes.first else { return [] }
        var result = [A.Element](filling: count) { out in
            firstValues.withUnsafeBufferPointer { source in
                Broadcast.forEachRun(shape, firstShape, into: shape) { outOffset, sourceOffset, _, run in
                    for i in 0..<run.size { out.initializeElement(at: outOffset + i, to: source[sourceOffset + i * run.b]) }
                }
            }
        }
        result.withUnsafeMutableBufferPointer { out in
            for (next, nextShape) in zip(values.dropFirst(), shapes.dropFirst()) {
                next.withUnsafeBufferPointer { source in
                    Broadcast.forEachRun(shape, nextShape, into: shape) { outOffset, sourceOffset, _, run in
                        let o = out.baseAddress! + outOffset, x = source.baseAddress! + sourceOffset
                        if run.b == 1 {
                            for i in 0..<run.size { o[i] = A.combine(o[i], x[i]) }
                        } else {
                            for i in 0..<run.size { o[i] = A.combine(o[i], x[i * run.b]) }
                        }
                    }
                }
            }
        }
        return result
    }
}

/// An associative step of a variadic fold, as a type so each (operation, element type) pair
/// compiles to its own loop.
protocol Accumulation {
    associatedtype Element
    static func combine(_ a: Element, _ b: Element) -> Element
}

/// max(a, b), NaN if either is; a on ties.
private enum FloatingMaximum<T: BinaryFloatingPoint>: Accumulation {
    @inline(__always) static func combine(_ a: T, _ b: T) -> T { b > a || b.isNaN ? b : a }
}

/// min(a, b), NaN if either is; a on ties.
private enum FloatingMinimum<T: BinaryFloatingPoint>: Accumulation {
    @inline(__always) static func combine(_ a: T, _ b: T) -> T { b < a || b.isNaN ? b : a }
}

private enum Plus<T: BinaryFloatingPoint>: Accumulation {
    @inline(__always) static func combine(_ a: T, _ b: T) -> T { a + b }
}

private enum SignedMaximum: Accumulation {
    static func combine(_ a: Int64, _ b: Int64) -> Int64 { Swift.max(a, b) }
}

private enum SignedMinimum: Accumulation {
    static func combine(_ a: Int64, _ b: Int64) -> Int64 { Swift.min(a, b) }
}

/// uint64 data is stored as its bit pattern in Int64: compare the patterns unsigned.
private enum UnsignedMaximum: Accumulation {
    static func combine(_ a: Int64, _ b: Int64) -> Int64 { UInt64(bitPattern: b) > UInt64(bitPattern: a) ? b : a }
}

private enum UnsignedMinimum: Accumulation {
    static func combine(_ a: Int64, _ b: Int64) -> Int64 { UInt64(bitPattern: b) < UInt64(bitPattern: a) ? b : a }
}
