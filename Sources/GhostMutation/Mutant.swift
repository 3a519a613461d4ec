import Foundation
import GhostIR

/// One deliberate defect planted in a fused graph, to check that the equivalence gate catches it.
/// Each case models a bug a fusion pass could make:
///
/// - `scaleWeight`: W′ = W · factor for the whole weight tensor at input `input` (a fold that
///   mis-scales a kernel; 1 + 1e-4 moves the node's output by ~1e-4, ten times the gate's 1e-5);
/// - `zeroBias`: b′ = 0 (a fold that drops the bias it should have accumulated);
/// - `swapKernels`: W′[first] = W[second], W′[second] = W[first], the biases left in place (a merge
///   that writes a kernel into the wrong output slot);
/// - `permuteChannel`: W′[:, first] = W[:, second] and back, for every output kernel (a merge or
///   a channel shuffle that reads its input channels in the wrong order);
/// - `swapActivation`: the activation `from` replaced by `to` on the same input and output;
/// - `changeEpsilon`: a normalization's ε set to `to` (Keras' 1e-3 against PyTorch's 1e-5).
///
/// The node is named by its (unique) name in the fused graph; the mutated node keeps that name and
/// its output names, so the verifier's first divergence can name it.
public enum Mutant: Codable, Equatable, Hashable, Sendable {
    case scaleWeight(node: String, input: Int, factor: Double)
    case zeroBias(node: String)
    case swapKernels(node: String, first: Int, second: Int)
    case permuteChannel(node: String, first: Int, second: Int)
    case swapActivation(node: String, from: Activation, to: Activation)
    case changeEpsilon(node: String, from: Double, to: Double)

    /// The family a mutant belongs to; the rows of the mutation report.
    public enum Kind: String, Codable, CaseIterable, Sendable {
        case scaleWeight = "scale-weight"
        case zeroBias = "zero-bias"
        case swapKernels = "swap-kernels"
        case permuteChannel = "permute-channel"
        case swapActivation = "swap-activation"
        case changeEpsilon = "change-epsilon"
    }

    public var kind: Kind {
        switch self {
        case .scaleWeight: .scaleWeight
        case .zeroBias: .zeroBias
        case .swapKernels: .swapKernels
        case .permuteChannel: .permuteChannel
        case .swapActivation: .swapActivation
        case .changeEpsilon: .changeEpsilon
        }
    }

    /// The fused node the mutant changes.
    public var node: String {
        switch self {
        case .scaleWeight(let node, _, _), .zeroBias(let node), .swapKernels(let node, _, _),
             .permuteChannel(let node, _, _), .swapActivation(let node, _, _), .changeEpsilon(let node, _, _):
            node
        }
    }
}

extension Mutant: CustomStringConvertible {
    public var description: String {
        switch self {
        case .scaleWeight(let node, let input, let factor):
            "'\(node)' input \(input) scaled by 1 \(factor >= 1 ? "+" : "−") \(Self.number(abs(factor - 1)))"
        case .zeroBias(let node):
            "'\(node)' bias zeroed"
        case .swapKernels(let node, let first, let second):
            "'\(node)' output kernels \(first) and \(second) swapped"
        case .permuteChannel(let node, let first, let second):
            "'\(node)' input channels \(first) and \(second) swapped"
        case .swapActivation(let node, let from, let to):
            "'\(node)' \(from) replaced by \(to)"
        case .changeEpsilon(let node, let from, let to):
            "'\(node)' epsilon \(Self.number(from)) → \(Self.number(to))"
        }
    }

    /// Six significant digits: 1 + 1e-4 reads as 1e-4, not as its binary rounding.
    static func number(_ value: Double) -> String {
        let text = String(format: "%.6g", value)
        return text
    }
}

/// Why a mutant could not be planted (the graph does not have what it names).
public enum MutationError: Error, Equatable, Sendable, CodedError {
    case nodeNotFound(String)
    case notApplicable(node: String, reason: String)

    public var code: String {
        switch self {
        case .nodeNotFound: "mutation-node-not-found"
        case .notApplicable: "mutation-not-applicable"
        }
    }

    public var errorDescription: String? {
        switch self {
        case .nodeNotFound(let node): "no node named '\(node)' in the graph to mutate"
        case .notApplicable(let node, let reason): "node '\(node)' cannot take this mutant: \(reason)"
        }
    }
}
