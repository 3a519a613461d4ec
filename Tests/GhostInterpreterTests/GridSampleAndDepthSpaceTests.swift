import Foundation
import GhostNumPy
import GhostInterpreter
import GhostIR
import Testing
import TestSupport

// MARK: - GridSample

private func gsCubic(_ t: Double) -> [Double] { [keys(t + 1, -0.75), keys(t, -0.75), keys(1 - t, -0.75), keys(2 - t, -0.75)] }

/// GridSample on (N, C, H, W) by its definition (ONNX's GridSample, PyTorch's grid_sample).
private func referenceGridSample(_ x: [Double], _ shape: [Int], _ grid: [Double], _ gridShape: [Int],
                                 mode: String, padding: String, align: Bool) -> [Double] {
    let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
    let (oh, ow) = (gridShape[1], gridShape[2])
    func bounds(_ size: Int) -> (Double, Double) { align ? (0, Double(size - 1)) : (-0.5, Double(size) - 0.5) }
    func reflect(_ v: Double, _ lo: Double, _ hi: Double) -> Double {
        var v = v
        let range = hi - lo
        while v < lo || v > hi { v = v < lo ? 2 * lo - v : 2 * hi - v }
        _ = range
        return v
    }
    func pixel(_ plane: Int, _ iy: Int, _ ix: Int) -> Double {
        var (iy, ix) = (iy, ix)
        switch padding {
        case "zeros": if iy < 0 || iy >= h || ix < 0 || ix >= w { return 0 }
        case "border": iy = max(0, min(h - 1, iy)); ix = max(0, min(w - 1, ix))
        default:
            iy = Int(reflect(Double(iy), bounds(h).0, bounds(h).1)); ix = Int(reflect(Double(ix), bounds(w).0, bounds(w).1))
            iy = max(0, min(h - 1, iy)); ix = max(0, min(w - 1, ix))
        }
        return x[(plane * h + iy) * w + ix]
    }
    var out = [Double](repeating: 0, count: n * c * oh * ow)
    for b in 0..<n {
        for oy in 0..<oh {
            for ox in 0..<ow {
                let g = (((b * oh + oy) * ow) + ox) * 2
                func denormalize(_ v: Double, _ size: Int) -> Double {
                    let length = Double(size)
                    return align ? (v + 1) / 2 * (length - 1) : ((v + 1) * length - 1) / 2
                }
                var coords: [Double] = [denormalize(grid[g + 1], h), denormalize(grid[g], w)]
                if mode == "nearest" { coords = coords.map { (v: Double) -> Double in v.rounded(.toNearestOrEven) } }
                for (k, size) in [h, w].enumerated() {
                    let (lo, hi) = bounds(size)
                    if coords[k] < lo || coords[k] > hi {
                        if padding == "border" { coords[k] = max(0, min(Double(size - 1), coords[k])) }
                        if padding == "reflection" { coords[k] = reflect(coords[k], lo, hi) }
                    }
                }
                for ch in 0..<c {
                    let plane = b * c + ch
                    var value = 0.0
                    switch mode {
                    case "nearest": value = pixel(plane, Int(coords[0]), Int(coords[1]))
                    case "bilinear":
                        let (y0, x0) = (floor(coords[0]), floor(coords[1]))
                        let (ty, tx) = (coords[0] - y0, coords[1] - x0)
                        let wys: [Double] = [1 - ty, ty], wxs: [Double] = [1 - tx, tx]
                        for dy in 0..<2 {
                            for dx in 0..<2 { value += wys[dy] * wxs[dx] * pixel(plane, Int(y0) + dy, Int(x0) + dx) }
                        }
                    default:
                        let (y0, x0) = (floor(coords[0]), floor(coords[1]))
                        let (wy, wx) = (gsCubic(coords[0] - y0), gsCubic(coords[1] - x0))
                        for i in 0..<4 { for j in 0..<4 { value += wy[i] * wx[j] * pixel(plane, Int(y0) - 1 + i, Int(x0) - 1 + j) } }
                    }
                    out[((plane * oh) + oy) * ow + ox] = value
                }
            }
        }
    }
    return out
}

@Test(arguments: ["nearest", "bilinear", "bicubic"], ["zeros", "border", "reflection"])
func gridSampleMatchesItsDefinition(_ mode: String, _ padding: String) throws {
    let shape = [2, 3, 4, 5], gridShape = [2, 3, 6, 2]
    var random = SeededRandom(seed: 3)
    let x = random.values(shape.reduce(1, *))
    // Coordinates in [−1.5, 1.5) (exact in float32): some outside the image, reflected more than once at the borders.
    let grid = random.values(gridShape.reduce(1, *)).map { $0 * 1.5 }
    for align in [false, true] {
        let expected = referenceGridSample(x, shape, grid, gridShape, mode: mode, padding: padding, align: align)
        let attributes = [attribute("mode", mode), attribute("padding_mode", padding), attribute("align_corners", align ? 1 : 0)]
        try expectBothPrecisions("GridSample", inputs: [("x", x, shape), ("grid", grid, gridShape)], attributes: attributes, opset: 16,
                                 expected: expected, shape: [2, 3, 3, 6], float32Tolerance: mode == "nearest" ? 0 : 1e-5)
        let renamed = mode == "bilinear" ? "linear" : mode == "bicubic" ? "cubic" : mode
        try expectBothPrecisions("GridSample", inputs: [("x", x, shape), ("grid", grid, gridShape)],
                                 attributes: [attribute("mode", renamed)] + attributes.dropFirst(), opset: 22,
                                 expected: expected, shape: [2, 3, 3, 6], float32Tolerance: mode == "nearest" ? 0 : 1e-5)
    }
}

@Test func gridSampleByHandAndErrors() throws {
    // 2×2 image, align_corners: (−1, −1) is pixel (0, 0), (0, 0) the mean, (1, −1) the top right.
    let x = try f32([1, 2, 3, 4], [1, 1, 2, 2])
    let grid = try f32([-1, -1, 0, 0, 1, -1], [1, 1, 3, 2])
    let out = try runSingle("GridSample", inputs: [("x", x), ("grid", grid)], attributes: [attribute("align_corners", 1)], opset: 16)
    #expect(out.shape == [1, 1, 1, 3])
    #expect(out.floats == [1, 2.5, 2])
    // A NaN coordinate gives NaN (ONNX Runtime 1.32 answers 1 here, from casting NaN to an integer,
    // which C++ leaves undefined; the interpreter does not imitate that).
    let nan = try runSingle("GridSample", inputs: [("x", x), ("grid", try f32([.nan, 0], [1, 1, 1, 2]))], opset: 16)
    #expect(nan.floats[0].isNaN)
    // 5-D (opset 20): trilinear at the centre of a 2×2×2 cube is the mean.
    let cube = try f32((1...8).map(Float.init), [1, 1, 2, 2, 2])
    let centre = try runSingle("GridSample", inputs: [("x", cube), ("grid", try f32([0, 0, 0], [1, 1, 1, 1, 3]))], opset: 20)
    #expect(centre.shape == [1, 1, 1, 1, 1])
    #expect(centre.floats == [4.5])
    expectInterpreterError("unsupported-attribute") {
        _ = try runSingle("GridSample", inputs: [("x", cube), ("grid", try f32([0, 0, 0], [1, 1, 1, 1, 3]))], opset: 16)
    }
    expectInterpreterError("unsupported-attribute") {
        _ = try runSingle("GridSample", inputs: [("x", try f32([1, 2], [1, 1, 2])), ("grid", try f32([0], [1, 1, 1]))], opset: 20)
    }
    expectInterpreterError("invalid-node") {  // last grid axis must be 2
        _ = try runSingle("GridSample", inputs: [("x", x), ("grid", try f32([0, 0, 0], [1, 1, 1, 3]))], opset: 16)
    }
    expectInterpreterError("invalid-node") {  // grid rank must match
        _ = try runSingle("GridSample", inputs: [("x", x), ("grid", try f32([0, 0], [1, 1, 2]))], opset: 16)
    }
    expectInterpreterError("invalid-node") {  // batch must match
        _ = try runSingle("GridSample", inputs: [("x", x), ("grid", try f32([0, 0, 0, 0], [2, 1, 1, 2]))], opset: 16)
    }
    expectInterpreterError("unsupported-attribute") {
        _ = try runSingle("GridSample", inputs: [("x", x), ("grid", grid)], attributes: [attribute("mode", "linear")], opset: 16)
    }
    expectInterpreterError("unsupported-attribute") {
        _ = try runSingle("GridSample", inputs: [("x", x), ("grid", grid)], attributes: [attribute("padding_mode", "wrap")], opset: 16)
    }
}

// MARK: - DepthToSpace, SpaceToDepth

/// DepthToSpace as ONNX defines it: reshape, transpose, reshape, with explicit index arithmetic.
private func referenceDepthToSpace(_ x: [Double], _ shape: [Int], block b: Int, crd: Bool) -> [Double] {
    let (c, h, w) = (shape[1], shape[2], shape[3])
    let oc = c / (b * b)
    var out = [Double](repeating: 0, count: x.count)
    for i in 0..<x.count {
        // Decompose the input index as the reshaped tensor (N, b, b, C', H, W) or (N, C', b, b, H, W).
        var r = i
        let xw = r % w; r /= w
        let xh = r % h; r /= h
        let depth = r % c; let nb = r / c
        let (by, bx, ch) = crd ? ((depth / b) % b, depth % b, depth / (b * b)) : (depth / (b * oc), (depth / oc) % b, depth % oc)
        out[((nb * oc + ch) * h * b + xh * b + by) * w * b + xw * b + bx] = x[i]
    }
    return out
}

@Test func depthToSpaceAndSpaceToDepth() throws {
    let shape = [2, 8, 2, 3]
    let x = (0..<96).map(Double.init)
    for crd in [false, true] {
        let expected = referenceDepthToSpace(x, shape, block: 2, crd: crd)
        let mode = attribute("mode", crd ? "CRD" : "DCR")
        try expectBothPrecisions("DepthToSpace", inputs: [("x", x, shape)], attributes: [attribute("blocksize", 2), mode], opset: 13,
                                 expected: expected, shape: [2, 2, 4, 6], float32Tolerance: 0)
        // SpaceToDepth in the same order undoes it.
        try expectBothPrecisions("SpaceToDepth", inputs: [("x", expected, [2, 2, 4, 6])], attributes: [attribute("blocksize", 2), mode],
                                 opset: 13, expected: x, shape: shape, float32Tolerance: 0)
    }
    // The example of the ONNX spec (DCR, blocksize 2, 1×8×2×3): the first output row.
    let spec = try runSingle("DepthToSpace", inputs: [("x", try f32((0..<48).map(Float.init), [1, 8, 2, 3]))],
                             attributes: [attribute("blocksize", 2)], opset: 13)
    #expect(Array(spec.floats[0..<6]) == [0, 12, 1, 13, 2, 14])
    // Integers keep their type.
    let ints = try runSingle("SpaceToDepth", inputs: [("x", try i64([1, 2, 3, 4], [1, 1, 2, 2]))], attributes: [attribute("blocksize", 2)])
    #expect(ints.shape == [1, 4, 1, 1] && ints.int64s == [1, 2, 3, 4])
    let four = try f32((0..<16).map(Float.init), [1, 4, 2, 2])
    for block: Int64 in [0, -1] {
        expectInterpreterError("invalid-node") { _ = try runSingle("DepthToSpace", inputs: [("x", four)], attributes: [attribute("blocksize", block)]) }
        expectInterpreterError("invalid-node") { _ = try runSingle("SpaceToDepth", inputs: [("x", four)], attributes: [attribute("blocksize", block)]) }
    }
    expectInterpreterError("invalid-node") { _ = try runSingle("DepthToSpace", inputs: [("x", four)], attributes: [attribute("blocksize", 3)]) }
    expectInterpreterError("invalid-node") { _ = try runSingle("SpaceToDepth", inputs: [("x", four)], attributes: [attribute("blocksize", 3)]) }
    expectInterpreterError("invalid-node") { _ = try runSingle("DepthToSpace", inputs: [("x", four)], attributes: [attribute("blocksize", 1 << 40)]) }
    expectInterpreterError("invalid-node") { _ = try runSingle("DepthToSpace", inputs: [("x", four)]) }
    expectInterpreterError("invalid-node") {
        _ = try runSingle("DepthToSpace", inputs: [("x", try f32([1, 2], [1, 2]))], attributes: [attribute("blocksize", 1)])
    }
    expectInterpreterError("unsupported-attribute") {
        _ = try runSingle("DepthToSpace", inputs: [("x", four)], attributes: [attribute("blocksize", 2), attribute("mode", "RCD")])
    }
}
