import CKernels
import Foundation
import GhostInterpreter
import GhostIR
import Testing
import TestSupport

/// x[1,2,3,5] → Conv 1×1 (2→2, bias) → `c` → BatchNormalization → `b` → Sigmoid → `s` →
/// Mul(b, s) (or Mul(s, b)) → `y`: SiLU as PyTorch exports it, plus what each case adds.
private struct SiLUCase {
    var sigmoidFirst = false
    var sigmoidOutputIsGraphOutput = false
    var mulReadsAnotherValue = false
    var input: [Float]? = nil

    static let weights: [Float] = [1.5, -0.5, 0.25, 2]
    static let bias: [Float] = [0.1, -0.2]
    static let gamma: [Float] = [1.2, 0.7], beta: [Float] = [0.3, -0.1], mean: [Float] = [0.05, -0.02], variance: [Float] = [0.8, 1.3]

    func graph() throws -> Graph {
        var initializers = InitializerTable()
        initializers["w"] = try f32(Self.weights, [2, 2, 1, 1])
        initializers["bias"] = try f32(Self.bias, [2])
        initializers["gamma"] = try f32(Self.gamma, [2])
        initializers["beta"] = try f32(Self.beta, [2])
        initializers["mean"] = try f32(Self.mean, [2])
        initializers["var"] = try f32(Self.variance, [2])
        initializers["other"] = try f32([Float](repeating: 2, count: 30), [1, 2, 3, 5])
        let inputs = [Value(name: "x", elementType: .float32, shape: [1, 2, 3, 5].map(ShapeDimension.fixed))]
        let product = mulReadsAnotherValue ? ["other", "s"] : sigmoidFirst ? ["s", "b"] : ["b", "s"]
        let nodes = [
            Node(name: "conv", opType: "Conv", inputs: ["x", "w", "bias"], outputs: ["c"]),
            Node(name: "bn", opType: "BatchNormalization", inputs: ["c", "gamma", "beta", "mean", "var"], outputs: ["b"]),
            Node(name: "sigmoid", opType: "Sigmoid", inputs: ["b"], outputs: ["s"]),
            Node(name: "mul", opType: "Mul", inputs: product, outputs: ["y"]),
        ]
        var outputs = [Value(name: "y")]
        if sigmoidOutputIsGraphOutput { outputs.append(Value(name: "s")) }
        return Graph(inputs: inputs, outputs: outputs, initializers: initializers, nodes: nodes,
                     opsetImports: [OpsetImport(domain: "", version: 17)])
    }

    var x: [Float] {
        if let input { return input }
        var random = SeededRandom(seed: 5)
        return random.values(30).map { Float($0 * 6) }
    }

    /// y by the definition, in Double: BN(conv(x)) = b, y = b·σ(b).
    var reference: [Double] {
        var y = [Double](repeating: 0, count: 30)
        for m in 0..<2 {
            let scale = Double(Self.gamma[m]) / (Double(Self.variance[m]) + 1e-5).squareRoot()
            for i in 0..<15 {
                let c = Double(Self.weights[2 * m]) * Double(x[i]) + Double(Self.weights[2 * m + 1]) * Double(x[15 + i]) + Double(Self.bias[m])
                let b = (c - Double(Self.mean[m])) * scale + Double(Self.beta[m])
                y[m * 15 + i] = b / (1 + exp(-b))
            }
        }
        return y
    }
}

/// The case's outputs fused and node by node (a run keeping intermediates does not fuse), which
/// must be bit-identical up to the sign of a NaN (the C compiler may commute x·σ(x), and σ(NaN)
/// carries −x's NaN; the verifier treats every NaN alike), and how many nodes the Conv absorbed.
private func runBothWays(_ example: SiLUCase, precision: Precision) throws -> (y: [Double], fusedNodes: Int) {
    let interpreter = try Interpreter(graph: try example.graph(), precision: precision)
    let feeds = ["x": try f32(example.x, [1, 2, 3, 5])]
    let fused = try interpreter.run(feeds)
    let separate = try interpreter.run(feeds, keepingIntermediates: true)
    for output in try example.graph().outputs {
        let a = try #require(fused[output.name]), b = try #require(separate[output.name])
        let (x, y) = (a.doubleValues(), b.doubleValues())
        #expect(x.count == y.count)
        for (u, v) in zip(x, y) where !(u.isNaN && v.isNaN) {
            #expect(u.bitPattern == v.bitPattern, "\(precision): output \(output.name) differs fused and unfused: \(u) vs \(v)")
        }
    }
    let y = try #require(fused["y"])
    return (precision == .float64 ? y.doubles : y.floats.map(Double.init), interpreter.nodesFusedIntoConvs)
}

@Test(arguments: [false, true])
func convAbsorbsBatchNormAndSiLU(sigmoidFirst: Bool) throws {
    let example = SiLUCase(sigmoidFirst: sigmoidFirst)
    for precision in Precision.allCases {
        let (y, fusedNodes) = try runBothWays(example, precision: precision)
        #expect(fusedNodes == 3)
        let difference = relativeDifference(y, example.reference)
        #expect(difference <= (precision == .float64 ? 1e-12 : 1e-6), "\(precision): relative difference \(difference)")
    }
}

@Test func siluIsNotAbsorbedWhenTheSigmoidIsAGraphOutputOrTheMulReadsSomethingElse() throws {
    // Only the BatchNormalization joins the Conv; Sigmoid and Mul stay nodes.
    #expect(try runBothWays(SiLUCase(sigmoidOutputIsGraphOutput: true), precision: .float32).fusedNodes == 1)
    // The Sigmoid alone reads the BatchNormalization's output: it joins as a plain activation.
    #expect(try runBothWays(SiLUCase(mulReadsAnotherValue: true), precision: .float32).fusedNodes == 2)
}

@Test func fusedSiLUKeepsNaNAndInfinitiesAsMulOfSigmoidDoes() throws {
    // ±inf and NaN in channel 0, zeros beside them in channel 1: both output channels weight
    // channel 0 positively (1.5, 0.25) and both BN scales are positive, so b is ±inf or NaN there.
    var x = [Float](repeating: 0, count: 30)
    x[0] = .infinity; x[1] = -.infinity; x[2] = .nan
    x[15] = 0; x[16] = 0; x[17] = 0
    let example = SiLUCase(input: x)
    for precision in Precision.allCases {
        let (y, _) = try runBothWays(example, precision: precision)
        // Channel 0: 1.5·x → +inf · σ(+inf) = +inf; −inf · σ(−inf) = −inf · 0 = NaN; NaN.
        #expect(y[0] == .infinity)
        #expect(y[1].isNaN)
        #expect(y[2].isNaN)
        // Channel 1: 0.25·x → the same signs.
        #expect(y[15] == .infinity)
        #expect(y[16].isNaN)
        #expect(y[17].isNaN)
    }
}

@Test func sigmoidOnItsOwnMatchesTheDefinitionAtTheEnds() throws {
    let x = [-200, -104, -88.8, -88.7, -87.5, -30, -17, -1e-3, 0, 1e-3, 0.5, 3, 17, 30, 88.8, 200].map { Double(Float($0)) }
    let expected = x.map { 1 / (1 + exp(-$0)) }
    for precision in Precision.allCases {
        let out = try runSingle("Sigmoid", inputs: [("x", try f32(x.map(Float.init), [x.count]))], precision: precision)
        let actual = precision == .float64 ? out.doubles : out.floats.map(Double.init)
        for (index, (a, e)) in zip(actual, expected).enumerated() {
            // float32: a few ulp relative, or below the smallest normal (subnormal results).
            let tolerance = precision == .float64 ? 1e-15 * e : max(4e-7 * e, 1.2e-38)
            #expect(abs(a - e) <= tolerance, "\(precision) σ(\(x[index])) = \(a), expected \(e)")
        }
    }
    let special = try runSingle("Sigmoid", inputs: [("x", try f32([.infinity, -.infinity, .nan], [3]))])
    #expect(special.floats[0] == 1)
    #expect(special.floats[1] == 0)
    #expect(special.floats[2].isNaN)
}

@Test func float32ExponentialIsWithinTwoUlpsOverItsRange() {
    // 4·10⁶ points from −104 to 89, against Double's exp, in units of the float result's ulp.
    var worst = 0.0, worstAt: Float = 0
    let count = 4_000_000
    for i in 0...count {
        let x = Float(-104 + 193 * Double(i) / Double(count))
        let e = exp(Double(x))
        guard e >= Double(Float.leastNormalMagnitude), e <= Double(Float.greatestFiniteMagnitude) else { continue }
        let error = abs(Double(gk_exp_f32(x)) - e) / Double(Float(e).ulp)
        if error > worst { (worst, worstAt) = (error, x) }
    }
    #expect(worst <= 2, "worst error \(worst) ulp at \(worstAt)")
    #expect(gk_exp_f32(0) == 1)
    #expect(gk_exp_f32(88.72).isFinite)
    #expect(gk_exp_f32(88.73) == .infinity)
    #expect(gk_exp_f32(.infinity) == .infinity)
    #expect(gk_exp_f32(-.infinity) == 0)
    #expect(gk_exp_f32(-200) == 0)
    #expect(gk_exp_f32(.nan).isNaN)
}
