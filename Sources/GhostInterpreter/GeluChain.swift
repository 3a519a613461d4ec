import CKernels
import GhostIR

/// The exact-erf GELU as the PyTorch exporter writes it, y = (x·(erf(x / a) + b))·c with scalar
/// constants (a = √2, b = 1, c = 0.5), five nodes Div → Erf → Add → Mul(x, ·) → Mul(·, c): the
/// plan runs them as one step, one pass over x instead of five, with the same operations in the
/// same order in the run's precision (float32: `gk_gelu_chain_f32`, whose erf is the Erf node's
/// loop; float64: libm's erf, as the Erf node), so the result has the same bits as the five
/// nodes. Only the intermediate tensors are never materialized (runs that keep intermediates do
/// not fuse). An input that is not floating point runs the five nodes one by one (their errors).
enum GeluChain {
    /// The positions of the five steps in the plan and the three constants.
    struct Match {
        let positions: [Int]
        let input: Int
        let output: Int
        let divisor: Buffer, offset: Buffer, scale: Buffer
    }

    /// `steps` with every matched chain replaced by one step at the Div's position. A value read by
    /// anything outside the chain, or a graph output, is never skipped.
    static func fusing(_ steps: [ExecutionPlan.Step], constants: [Int: Buffer], graphOutputs: Set<Int>,
                       opset: Int64, precision: Precision) -> (steps: [ExecutionPlan.Step], fused: Int) {
        let readers = StepReaders(steps, graphOutputs: graphOutputs)
        func scalar(_ slot: Int) -> Buffer? {
            guard slot >= 0, let buffer = constants[slot], buffer.shape.isEmpty, buffer.count == 1 else { return nil }
            switch buffer.storage {
            case .float, .double: return buffer
            default: return nil
            }
        }
        /// The single output of `position` when it is `opType` with `arity` inputs.
        func output(of position: Int, _ opType: String, arity: Int) -> Int? {
            let step = steps[position]
            guard step.operation.opType == opType, step.inputs.count == arity, step.outputs.count == 1, step.outputs[0] >= 0 else { return nil }
            return step.outputs[0]
        }
        /// For a binary step reading `value`: its other input, when it is a scalar constant.
        func constantOperand(of position: Int, besides value: Int) -> Buffer? {
            let inputs = steps[position].inputs
            guard inputs.count == 2, inputs.contains(value) else { return nil }
            return scalar(inputs[0] == value ? inputs[1] : inputs[0])
        }

        func match(at position: Int) -> Match? {
            let div = steps[position]
            guard let quotient = output(of: position, "Div", arity: 2), constants[div.inputs[0]] == nil, div.inputs[0] >= 0,
                  let divisor = scalar(div.inputs[1]) else { return nil }
            let x = div.inputs[0]
            guard let erf = readers.soleReader(of: quotient), steps[erf].inputs == [quotient], let erfValue = output(of: erf, "Erf", arity: 1),
                  let add = readers.soleReader(of: erfValue), let sum = output(of: add, "Add", arity: 2),
                  let offset = constantOperand(of: add, besides: erfValue),
                  let product = readers.soleReader(of: sum), let productValue = output(of: product, "Mul", arity: 2),
                  Set(steps[product].inputs) == [x, sum],
                  let last = readers.soleReader(of: productValue), let y = output(of: last, "Mul", arity: 2),
                  let scale = constantOperand(of: last, besides: productValue) else { return nil }
            return Match(positions: [position, erf, add, product, last], input: x, output: y,
                         divisor: divisor, offset: offset, scale: scale)
        }

        var absorbed = Set<Int>()
        var result: [ExecutionPlan.Step] = []
        result.reserveCapacity(steps.count)
        var fused = 0
        for (position, step) in steps.enumerated() where !absorbed.contains(position) {
            guard let found = match(at: position), found.positions.dropFirst().allSatisfy({ $0 > position && !absorbed.contains($0) }) else {
                result.append(step)
                continue
            }
            absorbed.formUnion(found.positions)
            fused += 4
            result.append(fusedStep(found, steps: steps, constants: constants, opset: opset, precision: precision))
        }
        return (result, fused)
    }

    private static func fusedStep(_ found: Match, steps: [ExecutionPlan.Step], constants: [Int: Buffer],
                                  opset: Int64, precision: Precision) -> ExecutionPlan.Step {
        let chain = found.positions.map { steps[$0] }
        let (divisor, offset, scale) = (found.divisor, found.offset, found.scale)
        let input = found.input, output = found.output
        let operation = OperatorDefinition("Gelu (Div → Erf → Add → Mul → Mul)", "") { context throws(InterpreterError) -> Buffer in
            let x = try context.input(0)
            switch (x.storage, divisor.storage, offset.storage, scale.storage) {
            case let (.float(v), .float(a), .float(b), .float(c)):
                return Buffer(shape: x.shape, storage: .float(float32(v, a[0], b[0], c[0])))
            case let (.double(v), .double(a), .double(b), .double(c)):
                return Buffer(shape: x.shape, storage: .double(float64(v, a[0], b[0], c[0])))
            default:
                return try oneByOne(chain, x: x, input: input, constants: constants, opset: opset, precision: precision)
            }
        }
        return ExecutionPlan.Step(source: chain[0].source, operation: operation, inputs: [input], outputs: [output])
    }

    static func float32(_ v: [Float], _ a: Float, _ b: Float, _ c: Float) -> [Float] {
        [Float](filling: v.count) { out in
            v.withUnsafeBufferPointer { gk_gelu_chain_f32(out.baseAddress!, $0.baseAddress!, $0.count, a, b, c) }
        }
    }

    static func float64(_ v: [Double], _ a: Double, _ b: Double, _ c: Double) -> [Double] {
        [Double](filling: v.count) { out in
            for i in v.indices {
                let x = v[i]
                out[i] = (x * (Double.errorFunction(x / a) + b)) * c
            }
        }
    }

    /// The five nodes evaluated in turn, as the unfused plan does.
    private static func oneByOne(_ chain: [ExecutionPlan.Step], x: Buffer, input: Int, constants: [Int: Buffer],
                                 opset: Int64, precision: Precision) throws(InterpreterError) -> Buffer {
        var known = constants
        known[input] = x
        return try ExecutionPlan.Step.evaluateInTurn(chain, known: known, opset: opset, precision: precision, chain: "GELU chain")
    }
}
