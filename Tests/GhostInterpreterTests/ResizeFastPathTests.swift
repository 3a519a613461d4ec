import GhostInterpreter
import GhostIR
import Testing
import TestSupport

/// Nearest Resize by integer factors writes each input column as a run instead of gathering
/// it. Checked against a plain loop written here: output (n, c, y, x) reads input
/// (n, c, ⌊y / fy⌋, ⌊x / fx⌋) for asymmetric coordinates with floor rounding, and half-pixel
/// coordinates with round_prefer_floor pick the same columns for an integer factor.
private func nearestByLoop(_ x: [Double], channels: Int, height: Int, width: Int, fy: Int, fx: Int) -> [Double] {
    var out: [Double] = []
    for c in 0..<channels {
        for y in 0..<(height * fy) {
            for j in 0..<(width * fx) { out.append(x[(c * height + y / fy) * width + j / fx]) }
        }
    }
    return out
}

@Test(arguments: [(2, 2, "asymmetric", "floor"), (3, 2, "asymmetric", "floor"), (2, 4, "half_pixel", "round_prefer_floor"),
                  (1, 3, "asymmetric", "floor")])
func nearestIntegerUpscaleWritesRuns(fy: Int, fx: Int, coordinates: String, rounding: String) throws {
    let (channels, height, width) = (3, 5, 7)
    var random = SeededRandom(seed: 21)
    var x = random.values(channels * height * width)
    x[4] = .nan
    x[9] = .infinity
    x[10] = -.infinity
    let expected = nearestByLoop(x, channels: channels, height: height, width: width, fy: fy, fx: fx)
    let scales = try f32([1, 1, Float(fy), Float(fx)], [4])
    for precision in Precision.allCases {
        let out = try runSingle("Resize", inputs: [("x", try f32(x.map(Float.init), [1, channels, height, width]))],
                                constants: [("scales", scales)],
                                attributes: [attribute("mode", "nearest"), attribute("coordinate_transformation_mode", coordinates),
                                             attribute("nearest_mode", rounding)],
                                nodeInputs: ["x", "", "scales"], precision: precision)
        #expect(out.shape == [1, channels, height * fy, width * fx])
        let actual = precision == .float64 ? out.doubles : out.floats.map(Double.init)
        let reference = expected.map { Double(Float($0)) }
        #expect(actual.count == reference.count)
        for (index, (a, e)) in zip(actual, reference).enumerated() where !(a.isNaN && e.isNaN) {
            #expect(a == e, "\(precision) element \(index): \(a), expected \(e)")
        }
        #expect(actual.filter(\.isNaN).count == fy * fx)
    }
}

@Test func nearestUpscaleThatIsNotARunOfEqualColumnsStillGathers() throws {
    // 3 → 5 columns (scale 5/3, asymmetric, floor): columns 0, 0, 1, 1, 2 — not a repetition by
    // an integer factor, so the gather writes them.
    let out = try runSingle("Resize", inputs: [("x", try f32([10, 20, 30], [1, 1, 1, 3]))],
                            constants: [("sizes", try i64([1, 1, 1, 5]))],
                            attributes: [attribute("mode", "nearest"), attribute("coordinate_transformation_mode", "asymmetric"),
                                         attribute("nearest_mode", "floor")],
                            nodeInputs: ["x", "", "", "sizes"])
    #expect(out.floats == [10, 10, 20, 20, 30])
}

@Test func integerInputsTakeTheRunPathToo() throws {
    let out = try runSingle("Resize", inputs: [("x", try i64([1, -2, 3, -4], [1, 1, 2, 2]))],
                            constants: [("scales", try f32([1, 1, 2, 3], [4]))],
                            attributes: [attribute("mode", "nearest"), attribute("coordinate_transformation_mode", "asymmetric"),
                                         attribute("nearest_mode", "floor")],
                            nodeInputs: ["x", "", "scales"])
    #expect(out.shape == [1, 1, 4, 6])
    #expect(out.int64s == [1, 1, 1, -2, -2, -2, 1, 1, 1, -2, -2, -2, 3, 3, 3, -4, -4, -4, 3, 3, 3, -4, -4, -4])
}
