import Foundation
import GhostNumPy
import GhostInterpreter
import GhostIR
import Testing
import TestSupport

// MARK: - Resize reference

/// One Resize configuration for the sweep.
struct ResizeCase: CustomTestStringConvertible, Sendable {
    var mode: String
    var coordinates: String
    var nearest = "round_prefer_floor"
    var scales: [Double]? = nil
    var sizes: [Int]? = nil
    var cubicA = -0.75
    var excludeOutside = false
    var antialias = false
    var testDescription: String {
        "\(mode) \(coordinates)\(mode == "nearest" ? " " + nearest : "") \(scales.map { "scales \($0)" } ?? "sizes \(sizes ?? [])")"
            + (excludeOutside ? " exclude_outside" : "") + (antialias ? " antialias" : "") + (cubicA != -0.75 ? " A=\(cubicA)" : "")
    }
}

/// Keys' kernel.
private func keys(_ t: Double, _ a: Double) -> Double {
    let t = abs(t)
    if t <= 1 { return (a + 2) * t * t * t - (a + 3) * t * t + 1 }
    if t < 2 { return a * t * t * t - 5 * a * t * t + 8 * a * t - 4 * a }
    return 0
}

/// The taps of output index `o` on one axis, written from the ONNX spec (ONNX Runtime's reading
/// of it: integer `length_resized`), one coordinate at a time; nil when it extrapolates.
private func referenceTaps(_ o: Int, input: Int, output: Int, scale: Double, exact: Double, _ c: ResizeCase,
                           roi: (Double, Double) = (0, 1)) -> [(Int, Double)]? {
    // ONNX Runtime copies an axis of scale 1 unchanged, whatever the mode.
    if scale == 1, input == output { return [(o, 1)] }
    let xr = Double(o), lin = Double(input), lout = Double(output)
    var x: Double
    switch c.coordinates {
    case "half_pixel": x = (xr + 0.5) / scale - 0.5
    case "half_pixel_symmetric": x = lin / 2 * (1 - lout / exact) + (xr + 0.5) / scale - 0.5
    case "pytorch_half_pixel": x = output > 1 ? (xr + 0.5) / scale - 0.5 : 0
    case "align_corners": x = output == 1 ? 0 : xr * (lin - 1) / (lout - 1)
    case "asymmetric": x = xr / scale
    case "tf_half_pixel_for_nn": x = (xr + 0.5) / scale
    case "tf_crop_and_resize":
        x = output > 1 ? roi.0 * (lin - 1) + xr * (roi.1 - roi.0) * (lin - 1) / (lout - 1) : 0.5 * (roi.0 + roi.1) * (lin - 1)
        if x < 0 || x > lin - 1 { return nil }
    default: fatalError("unknown mode \(c.coordinates)")
    }
    func clamp(_ i: Int) -> Int { max(0, min(input - 1, i)) }
    switch c.mode {
    case "nearest":
        let f = floor(x), frac = x - f
        let i: Double = switch c.nearest {
        case "round_prefer_floor": frac <= 0.5 ? f : f + 1
        case "round_prefer_ceil": frac < 0.5 ? f : f + 1
        case "floor": f
        default: ceil(x)
        }
        return [(clamp(Int(i)), 1)]
    case "linear" where !(c.antialias && scale < 1):
        let xc = max(0, min(lin - 1, x))
        let i = Int(floor(xc))
        return [(i, 1 - (xc - Double(i))), (clamp(i + 1), xc - Double(i))]
    default:
        // Cubic, or an antialiased kernel: every input index within the (stretched) support.
        let s = c.antialias ? min(scale, 1) : 1
        let support = c.mode == "linear" ? 1.0 : 2.0
        var taps: [(Int, Double)] = []
        let first = Int(floor(x - support / s)) - 1, last = Int(ceil(x + support / s)) + 1
        for i in first...last {
            let t = (Double(i) - x) * s
            let w = c.mode == "linear" ? max(0, 1 - abs(t)) : keys(t, c.cubicA)
            if w == 0 || (c.excludeOutside && (i < 0 || i >= input)) { continue }
            taps.append((clamp(i), w))
        }
        let sum = taps.reduce(0) { $0 + $1.1 }
        return (c.antialias && scale < 1) || c.excludeOutside ? taps.map { ($0.0, $0.1 / sum) } : taps
    }
}

/// Resize of the last two axes of an (N, C, H, W) tensor, each output element the sum over
/// the product of its H and W taps.
private func referenceResize(_ x: [Double], _ shape: [Int], _ c: ResizeCase, extrapolation: Double = 0,
                             roi: [(Double, Double)] = [(0, 1), (0, 1)]) -> (values: [Double], shape: [Int]) {
    var outShape = shape, scale = [1.0, 1.0], exact = [0.0, 0.0]
    for k in 0..<2 {
        let size = shape[2 + k]
        if let scales = c.scales {
            let s = Double(Float(scales[k]))
            outShape[2 + k] = Int(Float(size) * Float(s))
            scale[k] = s
            exact[k] = Double(size) * s
        } else if let sizes = c.sizes {
            outShape[2 + k] = sizes[k]
            scale[k] = Double(sizes[k]) / Double(size)
            exact[k] = Double(sizes[k])
        }
    }
    let (h, w, oh, ow) = (shape[2], shape[3], outShape[2], outShape[3])
    let rows = (0..<oh).map { referenceTaps($0, input: h, output: oh, scale: scale[0], exact: exact[0], c, roi: roi[0]) }
    let columns = (0..<ow).map { referenceTaps($0, input: w, output: ow, scale: scale[1], exact: exact[1], c, roi: roi[1]) }
    var out: [Double] = []
    for plane in 0..<(shape[0] * shape[1]) {
        for oy in 0..<oh {
            for ox in 0..<ow {
                guard let ry = rows[oy], let rx = columns[ox] else { out.append(extrapolation); continue }
                var sum = 0.0
                for (iy, wy) in ry { for (ix, wx) in rx { sum += wy * wx * x[(plane * h + iy) * w + ix] } }
                out.append(sum)
            }
        }
    }
    return (out, outShape)
}

private var resizeCases: [ResizeCase] {
    let scales: [[Double]] = [[2, 2], [0.5, 0.6], [1.5, 2.5], [0.8, 1.7], [3, 0.25]]
    let sizes: [[Int]] = [[9, 4], [3, 11], [1, 7]]
    var cases: [ResizeCase] = []
    let coordinates = ["half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners", "asymmetric"]
    for coordinate in coordinates + ["tf_half_pixel_for_nn"] {
        for nearest in ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"] {
            for s in scales { cases.append(ResizeCase(mode: "nearest", coordinates: coordinate, nearest: nearest, scales: s)) }
            for s in sizes { cases.append(ResizeCase(mode: "nearest", coordinates: coordinate, nearest: nearest, sizes: s)) }
        }
    }
    for mode in ["linear", "cubic"] {
        for coordinate in coordinates {
            for s in scales { cases.append(ResizeCase(mode: mode, coordinates: coordinate, scales: s)) }
            for s in sizes { cases.append(ResizeCase(mode: mode, coordinates: coordinate, sizes: s)) }
        }
        for s in scales + [[0.3, 0.45]] { cases.append(ResizeCase(mode: mode, coordinates: "half_pixel", scales: s, antialias: true)) }
        cases.append(ResizeCase(mode: mode, coordinates: "pytorch_half_pixel", sizes: [2, 3], antialias: true))
    }
    for s in scales { cases.append(ResizeCase(mode: "cubic", coordinates: "half_pixel", scales: s, cubicA: -0.5, excludeOutside: true)) }
    cases.append(ResizeCase(mode: "cubic", coordinates: "asymmetric", scales: [0.5, 0.6], cubicA: -0.5, excludeOutside: true, antialias: true))
    return cases
}

/// Whether some size·scale (the float32 scale) is not a whole number.
private func hasFractionalLength(_ sizes: [Int], _ scales: [Double]) -> Bool {
    for (size, scale) in zip(sizes, scales) {
        let length = Double(size) * Double(Float(scale))
        if length != length.rounded(.down) { return true }
    }
    return false
}

@Test(arguments: resizeCases)
func resizeMatchesItsDefinition(_ c: ResizeCase) throws {
    let shape = [1, 2, 5, 7]
    var random = SeededRandom(seed: 11)
    let x = random.values(shape.reduce(1, *))
    var attributes = [attribute("mode", c.mode), attribute("coordinate_transformation_mode", c.coordinates),
                      attribute("nearest_mode", c.nearest), floatAttribute("cubic_coeff_a", Float(c.cubicA)),
                      attribute("exclude_outside", c.excludeOutside ? 1 : 0), attribute("antialias", c.antialias ? 1 : 0)]
    let opset: Int64 = c.coordinates == "tf_half_pixel_for_nn" ? 13 : 19
    if opset == 13 { attributes.removeLast() }
    let expected = referenceResize(x, shape, c)
    for precision in Precision.allCases {
        var constants: [(String, Tensor)] = [("roi", try f32([], [0]))]
        var names = ["x", "roi"]
        if let scales = c.scales {
            constants.append(("scales", try f32([1, 1] + scales.map { Float($0) }, [4])))
            names.append("scales")
        } else if let sizes = c.sizes {
            constants.append(("sizes", try i64([1, 2] + sizes.map(Int64.init))))
            names += ["", "sizes"]
        }
        let feed = precision == .float32 ? try f32(x.map { Float($0) }, shape) : try f64(x, shape)
        let run = {
            try runSingle("Resize", inputs: [("x", feed)], constants: constants, attributes: attributes,
                          nodeInputs: names, opset: opset, precision: precision)
        }
        // Where ONNX Runtime and the ONNX reference read length_resized differently, a refusal.
        if c.coordinates == "align_corners", let scales = c.scales, hasFractionalLength(Array(shape[2...]), scales) {
            expectInterpreterError("unsupported-attribute") { _ = try run() }
            continue
        }
        let out = try run()
        #expect(out.shape == expected.shape, "\(precision)")
        let actual = precision == .float64 ? out.doubles : out.floats.map(Double.init)
        let tolerance = c.mode == "nearest" ? 0 : precision == .float64 ? 1e-12 : 2e-6
        let difference = relativeDifference(actual, expected.values)
        #expect(difference <= tolerance, "\(precision): relative difference \(difference)")
    }
}

@Test func resizeCropAndResizeExtrapolatesOutsideTheRoi() throws {
    let shape = [1, 1, 4, 5]
    var random = SeededRandom(seed: 5)
    let x = random.values(20)
    let roi: [Double] = [0, 0, -0.25, 0.125, 1, 1, 0.75, 1.375]  // exact in float32
    for mode in ["nearest", "linear", "cubic"] {
        let c = ResizeCase(mode: mode, coordinates: "tf_crop_and_resize", sizes: [6, 7])
        let expected = referenceResize(x, shape, c, extrapolation: 7.5, roi: [(roi[2], roi[6]), (roi[3], roi[7])])
        #expect(expected.values.contains { $0 == 7.5 })
        for precision in Precision.allCases {
            let feed = precision == .float32 ? try f32(x.map { Float($0) }, shape) : try f64(x, shape)
            let out = try resizeRun(feed, sizes: [1, 1, 6, 7], roi: roi.map { Float($0) },
                                    attributes: [attribute("mode", mode), attribute("coordinate_transformation_mode", "tf_crop_and_resize"),
                                                 floatAttribute("extrapolation_value", 7.5)], precision: precision)
            #expect(out.shape == expected.shape)
            let actual = precision == .float64 ? out.doubles : out.floats.map(Double.init)
            let difference = relativeDifference(actual, expected.values)
            #expect(difference <= (precision == .float64 ? 1e-12 : 2e-6), "\(mode) \(precision): \(difference)")
        }
    }
}

// MARK: - Resize by hand

private func resizeRun(_ x: Tensor, opset: Int64 = 19, scales: [Float]? = nil, sizes: [Int64]? = nil, roi: [Float] = [],
                       attributes: [Attribute], precision: Precision = .float32) throws -> Tensor {
    var constants: [(String, Tensor)] = [("roi", try f32(roi, [roi.count]))]
    var names = ["x", "roi"]
    if let scales { constants.append(("scales", try f32(scales, [scales.count]))); names.append("scales") }
    if let sizes {
        if scales == nil { names.append("") }
        constants.append(("sizes", try i64(sizes)))
        names.append("sizes")
    }
    return try runSingle("Resize", inputs: [("x", x)], constants: constants, attributes: attributes, nodeInputs: names,
                         opset: opset, precision: precision)
}

@Test func resizeSmallCasesByHand() throws {
    // Nearest 2×: each element repeated in a 2×2 block.
    let nearest = try resizeRun(try f32([1, 2, 3, 4], [1, 1, 2, 2]), scales: [1, 1, 2, 2], attributes: [attribute("mode", "nearest")])
    #expect(nearest.shape == [1, 1, 4, 4])
    #expect(nearest.floats == [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4])
    // Linear half_pixel 2× of [1, 2]: x = (o + 0.5)/2 − 0.5 = −0.25, 0.25, 0.75, 1.25 → clamped.
    let linear = try resizeRun(try f32([1, 2], [1, 2]), scales: [1, 2], attributes: [attribute("mode", "linear")])
    #expect(linear.floats == [1, 1.25, 1.75, 2])
    // align_corners 3 → 5: x = o/2.
    let corners = try resizeRun(try f64([1, 2, 3], [3]), sizes: [5],
                                attributes: [attribute("mode", "linear"), attribute("coordinate_transformation_mode", "align_corners")],
                                precision: .float64)
    #expect(corners.doubles == [1, 1.5, 2, 2.5, 3])
    // Cubic asymmetric 2× of [0, 1, 2, 3] at x = 0.5: A = −0.75 weights (−0.09375, 0.59375, 0.59375, −0.09375)
    // over indices (−1→0, 0, 1, 2): −0.09375·0 + 0.59375·0 + 0.59375·1 − 0.09375·2 = 0.40625.
    let cubic = try resizeRun(try f64([0, 1, 2, 3], [4]), scales: [2],
                              attributes: [attribute("mode", "cubic"), attribute("coordinate_transformation_mode", "asymmetric")],
                              precision: .float64)
    #expect(cubic.doubles[1] == 0.40625)
    #expect(cubic.doubles[0] == 0 && cubic.doubles[2] == 1)
    // Resize-10 (ONNX Runtime): asymmetric, nearest rounded up when shrinking, down when enlarging.
    let ten = (0..<10).map(Float.init)
    let down = try runSingle("Resize", inputs: [("x", try f32(ten, [10]))], constants: [("s", try f32([0.6], [1]))], opset: 10)
    #expect(down.floats == [0, 2, 4, 5, 7, 9])
    let up = try runSingle("Resize", inputs: [("x", try f32([0, 1, 2], [3]))], constants: [("s", try f32([2.5], [1]))], opset: 10)
    #expect(up.floats == [0, 0, 0, 1, 1, 2, 2])
    // ⌊10 · 0.7⌋ in float32 is 7 (ONNX Runtime), not the 6 of the float64 product.
    let seven = try resizeRun(try f32(ten, [10]), scales: [0.7], attributes: [attribute("mode", "nearest")])
    #expect(seven.shape == [7])
    // keep_aspect_ratio_policy: scale min(4/2, 4/3) = 4/3 → round(2.67) = 3, round(4) = 4; not_smaller: 2 → 4, 6.
    let box = try f32((0..<6).map(Float.init), [1, 2, 3])
    let notLarger = try resizeRun(box, sizes: [4, 4], attributes: [attribute("mode", "nearest"), attribute("axes", [1, 2]),
                                                                   attribute("keep_aspect_ratio_policy", "not_larger")])
    #expect(notLarger.shape == [1, 3, 4])
    let notSmaller = try resizeRun(box, sizes: [4, 4], attributes: [attribute("mode", "nearest"), attribute("axes", [-2, -1]),
                                                                    attribute("keep_aspect_ratio_policy", "not_smaller")])
    #expect(notSmaller.shape == [1, 4, 6])
    // axes: only the last axis resized; integers by nearest keep their type.
    let integers = try runSingle("Resize", inputs: [("x", try i64([1, 2, 3, 4], [2, 2]))],
                                 constants: [("roi", try f32([], [0])), ("scales", try f32([2], [1]))],
                                 attributes: [attribute("axes", [1])], nodeInputs: ["x", "roi", "scales"], opset: 19)
    #expect(integers.shape == [2, 4])
    #expect(integers.int64s == [1, 1, 2, 2, 3, 3, 4, 4])
}

@Test func resizeNaNAndInfinity() throws {
    // As ONNX Runtime 1.32: linear reads the taps ⌊x⌋ and ⌊x⌋ + 1 of the clamped coordinate, so
    // a NaN weighted by 0 still makes a NaN; nearest copies NaN and ±inf.
    let x = try f32([1, .nan, .infinity, 4], [1, 4])
    for precision in Precision.allCases {
        let linear = try resizeRun(x, scales: [1, 2], attributes: [attribute("mode", "linear")], precision: precision)
        let values = precision == .float32 ? linear.floats.map(Double.init) : linear.doubles
        #expect(values[0..<5].allSatisfy { $0.isNaN }, "\(values)")
        #expect(Array(values[5...]) == [.infinity, .infinity, 4])
        let nearest = try resizeRun(x, scales: [1, 2], attributes: [attribute("mode", "nearest")], precision: precision)
        let picked = precision == .float32 ? nearest.floats.map(Double.init) : nearest.doubles
        #expect(picked[0] == 1 && picked[1] == 1 && picked[2].isNaN && picked[3].isNaN && picked[4] == .infinity && picked[7] == 4)
    }
}

@Test func resizeErrors() throws {
    let x = try f32([1, 2, 3, 4], [1, 1, 2, 2])
    let nearest = [attribute("mode", "nearest")]
    let both = expectInterpreterError("invalid-node") { _ = try resizeRun(x, scales: [1, 1, 2, 2], sizes: [1, 1, 4, 4], attributes: nearest) }
    let message = both?.localizedDescription ?? ""
    #expect(message.contains("both scales and sizes"))
    expectInterpreterError("invalid-node") { _ = try resizeRun(x, attributes: nearest) }
    expectInterpreterError("invalid-node") { _ = try resizeRun(x, scales: [2, 2], attributes: nearest) }
    expectInterpreterError("invalid-node") { _ = try resizeRun(x, scales: [1, 1, 0, 2], attributes: nearest) }
    expectInterpreterError("invalid-node") { _ = try resizeRun(x, scales: [1, 1, -2, 2], attributes: nearest) }
    expectInterpreterError("invalid-node") { _ = try resizeRun(x, sizes: [1, 1, -4, 4], attributes: nearest) }
    expectInterpreterError("invalid-node") { _ = try resizeRun(x, sizes: [4, 4, 4], attributes: nearest) }
    expectInterpreterError("tensor-too-large") { _ = try resizeRun(x, sizes: [1, 1, 1 << 20, 1 << 20], attributes: nearest) }
    expectInterpreterError("tensor-too-large") { _ = try resizeRun(x, scales: [1, 1, 1e30, 1e30], attributes: nearest) }
    expectInterpreterError("tensor-too-large") { _ = try resizeRun(x, sizes: [1, 1, .max, .max], attributes: nearest) }
    expectInterpreterError("unsupported-attribute") { _ = try resizeRun(x, scales: [1, 1, 2, 2], attributes: [attribute("mode", "area")]) }
    expectInterpreterError("unsupported-attribute") {
        _ = try resizeRun(x, scales: [1, 1, 2, 2], attributes: [attribute("mode", "linear"), attribute("coordinate_transformation_mode", "corner")])
    }
    expectInterpreterError("unsupported-attribute") {
        _ = try resizeRun(x, scales: [1, 1, 2, 2], attributes: [attribute("mode", "nearest"), attribute("nearest_mode", "simple")])
    }
    expectInterpreterError("unsupported-attribute") {
        _ = try resizeRun(x, scales: [1, 1, 0.5, 0.5], attributes: [attribute("mode", "nearest"), attribute("antialias", 1)])
    }
    expectInterpreterError("unsupported-attribute") {
        _ = try resizeRun(x, sizes: [3, 3], attributes: [attribute("mode", "nearest"), attribute("axes", [2, 3]),
                                                          attribute("keep_aspect_ratio_policy", "fit")])
    }
    expectInterpreterError("invalid-node") { _ = try resizeRun(x, sizes: [3, 3], attributes: nearest + [attribute("axes", [2, 2])]) }
    expectInterpreterError("invalid-node") { _ = try resizeRun(x, sizes: [3, 3], attributes: nearest + [attribute("axes", [2, 4])]) }
    // tf_crop_and_resize needs a roi of 2 values per axis.
    let crop = [attribute("mode", "linear"), attribute("coordinate_transformation_mode", "tf_crop_and_resize")]
    expectInterpreterError("invalid-node") { _ = try resizeRun(x, sizes: [1, 1, 3, 3], attributes: crop) }
    expectInterpreterError("invalid-node") { _ = try resizeRun(x, sizes: [1, 1, 3, 3], roi: [0, 0, 1, 1], attributes: crop) }
    // Linear and cubic need floating-point data.
    expectInterpreterError("unsupported-attribute") {
        _ = try runSingle("Resize", inputs: [("x", try i64([1, 2], [2]))], constants: [("roi", try f32([], [0])), ("scales", try f32([2], [1]))],
                          attributes: [attribute("mode", "linear")], nodeInputs: ["x", "roi", "scales"], opset: 19)
    }
}

// MARK: - Upsample

@Test func upsampleAttributeAndInputForms() throws {
    let x = try f32([1, 2, 3, 4], [1, 1, 2, 2])
    let seven = try runSingle("Upsample", inputs: [("x", x)],
                              attributes: [attribute("mode", "nearest"), Attribute(name: "scales", value: .floats([1, 1, 1, 3]))], opset: 7)
    #expect(seven.shape == [1, 1, 2, 6])
    #expect(seven.floats == [1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4])
    // Linear, asymmetric: x = o / 2 → [1, 1.5, 2, 2] per row.
    for precision in Precision.allCases {
        let nine = try runSingle("Upsample", inputs: [("x", x)], constants: [("s", try f32([1, 1, 1, 2], [4]))],
                                 attributes: [attribute("mode", "linear")], opset: 9, precision: precision)
        let values = precision == .float32 ? nine.floats.map(Double.init) : nine.doubles
        #expect(values == [1, 1.5, 2, 2, 3, 3.5, 4, 4])
    }
    // 2.5×: asymmetric nearest truncates, o / 2.5 = 0, 0.4, 0.8, 1.2, 1.6 → 0, 0, 0, 1, 1.
    let fractional = try runSingle("Upsample", inputs: [("x", try f32([5, 6], [2]))], constants: [("s", try f32([2.5], [1]))], opset: 9)
    #expect(fractional.floats == [5, 5, 5, 6, 6])
    expectInterpreterError("invalid-node") {
        _ = try runSingle("Upsample", inputs: [("x", x)], constants: [("s", try f32([1, 1, 0.5, 2], [4]))], opset: 9)
    }
    expectInterpreterError("invalid-node") {
        _ = try runSingle("Upsample", inputs: [("x", x)], constants: [("s", try f32([2, 2], [2]))], opset: 9)
    }
    expectInterpreterError("invalid-node") { _ = try runSingle("Upsample", inputs: [("x", x)], opset: 7) }
    expectInterpreterError("unsupported-attribute") {
        _ = try runSingle("Upsample", inputs: [("x", x)], constants: [("s", try f32([1, 1, 2, 2], [4]))],
                          attributes: [attribute("mode", "bilinear")], opset: 9)
    }
}

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

// MARK: - ONNX Runtime references

/// Cases ONNX Runtime 1.32 computed (Samples/checks/resampling_references.py wrote them, with its
/// versions and seed, into Tests/Fixtures/resampling/cases.json): the interpreter must give
/// the same numbers in float32 (nearest exactly) and in float64 within float32's rounding.
@Test func resamplingMatchesONNXRuntimeReferences() throws {
    let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/resampling")
    let json = try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("cases.json")))
    let cases = try #require((json as? [String: Any])?["cases"] as? [[String: Any]])
    #expect(cases.count >= 10)
    for entry in cases {
        let name = try #require(entry["name"] as? String), op = try #require(entry["op"] as? String)
        let opset = Int64(try #require(entry["opset"] as? Int))
        var attributes: [Attribute] = []
        for (key, value) in try #require(entry["attributes"] as? [String: Any]).sorted(by: { $0.key < $1.key }) {
            if let text = value as? String {
                attributes.append(attribute(key, text))
            } else if key == "extrapolation_value" || key == "cubic_coeff_a" {
                attributes.append(floatAttribute(key, Float(try #require(value as? Double))))
            } else {
                attributes.append(attribute(key, Int64(try #require(value as? Int))))
            }
        }
        let constantsEntry = try #require(entry["constants"] as? [String: Any])
        var constants: [(String, Tensor)] = []
        var names = ["x"]
        if op == "Resize" {
            for key in opset == 10 ? ["scales"] : ["roi", "scales", "sizes"] {
                guard let values = constantsEntry[key] as? [Any] else { names.append(""); continue }
                if key == "sizes" {
                    constants.append((key, try i64(values.map { Int64($0 as? Int ?? -1) })))
                } else {
                    let floats = values.map { Float(($0 as? Double) ?? Double($0 as? Int ?? 0)) }
                    constants.append((key, try f32(floats, [floats.count])))
                }
                names.append(key)
            }
            while names.last == "" { names.removeLast() }
        } else {
            names.append("grid")
        }
        let x = try NumPyFile.read(path: directory.appendingPathComponent("\(name).x.npy").path)
        let expected = try NumPyFile.read(path: directory.appendingPathComponent("\(name).y.npy").path)
        var inputs = [("x", x)]
        if op == "GridSample" { inputs.append(("grid", try NumPyFile.read(path: directory.appendingPathComponent("\(name).grid.npy").path))) }
        let exact = (entry["attributes"] as? [String: Any])?["mode"] as? String == "nearest"
        for precision in Precision.allCases {
            let out = try runSingle(op, inputs: inputs, constants: constants, attributes: attributes, nodeInputs: names,
                                    opset: opset, precision: precision)
            #expect(out.shape == expected.shape, "\(name) \(precision)")
            let actual = precision == .float64 ? out.doubles : out.floats.map(Double.init)
            let reference = expected.floats.map(Double.init)
            let worst = maximumDifference(actual, reference)
            #expect(worst <= (exact ? 0 : 1e-5), "\(name) \(precision): worst difference \(worst)")
        }
    }
}
