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
func keys(_ t: Double, _ a: Double) -> Double {
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
