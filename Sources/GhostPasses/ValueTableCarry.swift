import GhostIR

extension ValueTable {
    /// What one table hands the build of the next graph state, so that the names a pass left
    /// alone are not hashed again: its names and their ids (a `NameSet`, moved, not copied), and
    /// hints of the id each name of the edited graph had — per kept node, its old input and
    /// output ids; per initializer slot, the id of the weight that moved there.
    ///
    /// A build tries each hint by comparing the name it stands for with the name at hand (most
    /// are one string, so equal at a glance) and hashes the name only when they differ, so a hint
    /// that is wrong costs a hash, never a wrong id. Names the graph no longer holds keep their
    /// ids and answer as absent (`isLive`); once they outnumber the live ones about twice over,
    /// the carry is declined and the next build starts afresh.
    struct Carry {
        var ids: NameSet
        let hints: Hints
        /// The node and initializer-slot counts of the graph the hints are for.
        let nodeCount: Int
        let slotCount: Int

        /// Whether the hints were made for a graph of this size and the carried names have not
        /// outgrown it.
        func fits(_ graph: Graph) -> Bool {
            guard graph.nodes.count == nodeCount, graph.initializers.slotCount == slotCount else { return false }
            let live = graph.initializers.count + graph.nodes.count * 2 + graph.inputs.count
            return ids.count <= 3 * live + 1024
        }

        struct Hints {
            /// Per node of the new list, its position in the old one; −1: unknown; −2 − k: a
            /// node the edit placed, replacing the old positions of `groups[k]`.
            var origins: [Int32] = []
            var groups: [[Int32]] = []
            var inputIDs: [Int32] = []
            var inputStart: [Int32] = []
            var outputIDs: [Int32] = []
            var outputStart: [Int32] = []
            /// Per slot of the new initializer table, the id of the name it holds (-1: unknown).
            var slotIDs: [Int32] = []

            func slot(_ slot: Int) -> Int32 { slot < slotIDs.count ? slotIDs[slot] : -1 }

            func inputs(ofNode position: Int) -> IndexingIterator<ArraySlice<Int32>> {
                ids(inputIDs, inputStart, ofNode: position)
            }

            func outputs(ofNode position: Int) -> IndexingIterator<ArraySlice<Int32>> {
                ids(outputIDs, outputStart, ofNode: position)
            }

            /// The old positions a placed node's group replaced (empty for a kept node).
            func replaced(byNode position: Int) -> [Int32] {
                guard position < origins.count, origins[position] <= -2 else { return [] }
                let group = Int(-2 - origins[position])
                return group < groups.count ? groups[group] : []
            }

            /// The ids of the old node at `old`'s inputs, then outputs.
            func names(ofOldNode old: Int) -> (ArraySlice<Int32>, ArraySlice<Int32>) {
                guard old >= 0, old + 1 < inputStart.count, old + 1 < outputStart.count else { return ([], []) }
                return (inputIDs[Int(inputStart[old])..<Int(inputStart[old + 1])],
                        outputIDs[Int(outputStart[old])..<Int(outputStart[old + 1])])
            }

            private func ids(_ flat: [Int32], _ start: [Int32], ofNode position: Int) -> IndexingIterator<ArraySlice<Int32>> {
                guard position < origins.count, origins[position] >= 0 else { return ArraySlice<Int32>().makeIterator() }
                let old = Int(origins[position])
                return flat[Int(start[old])..<Int(start[old + 1])].makeIterator()
            }
        }
    }
}
