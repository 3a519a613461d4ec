/// An einsum equation with every axis named by an integer label: letters A–Z, a–z are 0–51
/// (so label order is ASCII order), the axes an ellipsis stands for are 52, 53, … aligned from
/// the right across operands, as numpy broadcasts them.
struct EinsumEquation: Equatable {
    var operands: [[Int]]
    var output: [Int]

    static let ellipsisBase = 52

    /// Parses `equation` for operands of the given ranks. Implicit output (no `->`): the
    /// ellipsis axes, then the letters used exactly once, in ASCII order. Returns the reason when
    /// the text is not an equation or does not fit the operands.
    static func parse(_ equation: String, ranks: [Int]) -> Result<EinsumEquation, EinsumProblem> {
        let text = equation.filter { $0 != " " }
        let sides = text.components(separatedBy: "->")
        guard sides.count <= 2 else { return .failure(.syntax("more than one '->'")) }
        let terms = sides[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard terms.count == ranks.count else {
            return .failure(.operands("names \(terms.count) operand(s) but the node has \(ranks.count)"))
        }
        var parsed: [Term] = []
        for term in terms {
            guard let value = Term(term) else { return .failure(.syntax("cannot read the term '\(term)'")) }
            parsed.append(value)
        }
        var ellipsisRanks: [Int] = []
        for (index, (term, rank)) in zip(parsed, ranks).enumerated() {
            let named = term.before.count + term.after.count
            guard term.ellipsis ? rank >= named : rank == named else {
                return .failure(.operands("operand \(index) has rank \(rank) but its term '\(terms[index])' names \(named) axes"))
            }
            ellipsisRanks.append(term.ellipsis ? rank - named : 0)
        }
        let broadcastRank = ellipsisRanks.max() ?? 0
        let operands = zip(parsed, ellipsisRanks).map { term, rank in
            term.before + (broadcastRank - rank ..< broadcastRank).map { ellipsisBase + $0 } + term.after
        }
        let ellipsis = (0..<broadcastRank).map { ellipsisBase + $0 }
        let output: [Int]
        if sides.count == 2 {
            guard let term = Term(sides[1]) else { return .failure(.syntax("cannot read the output '\(sides[1])'")) }
            guard term.ellipsis || broadcastRank == 0 else {
                return .failure(.operands("the operands' ellipsis stands for \(broadcastRank) axes but the output has no '...'"))
            }
            output = term.before + (term.ellipsis ? ellipsis : []) + term.after
            let used = Set(operands.joined())
            for label in output where !used.contains(label) {
                return .failure(.syntax("the output names an axis no operand has"))
            }
            guard Set(output).count == output.count else { return .failure(.syntax("the output repeats an axis")) }
        } else {
            var uses: [Int: Int] = [:]
            for label in parsed.flatMap({ $0.before + $0.after }) { uses[label, default: 0] += 1 }
            output = ellipsis + uses.filter { $0.value == 1 }.map(\.key).sorted()
        }
        return .success(EinsumEquation(operands: operands, output: output))
    }

    /// One operand's term: letters, optionally one `...` among them.
    private struct Term {
        var before: [Int] = []
        var after: [Int] = []
        var ellipsis = false

        init?(_ text: String) {
            var characters = Array(text.utf8)[...]
            while let first = characters.first {
                if first == UInt8(ascii: ".") {
                    guard !ellipsis, characters.starts(with: Array("...".utf8)) else { return nil }
                    ellipsis = true
                    characters = characters.dropFirst(3)
                    continue
                }
                let label: Int
                switch first {
                case UInt8(ascii: "A")...UInt8(ascii: "Z"): label = Int(first - UInt8(ascii: "A"))
                case UInt8(ascii: "a")...UInt8(ascii: "z"): label = 26 + Int(first - UInt8(ascii: "a"))
                default: return nil
                }
                if ellipsis { after.append(label) } else { before.append(label) }
                characters = characters.dropFirst()
            }
        }
    }
}

/// Why an equation cannot be evaluated.
enum EinsumProblem: Error, Equatable {
    /// Not an einsum equation.
    case syntax(String)
    /// An equation that does not fit the node's operands.
    case operands(String)
}
