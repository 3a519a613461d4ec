extension Graph {
    /// Indices of `nodes` in a stable topological order: Kahn's algorithm, always taking the
    /// ready node that comes first in file order, so a graph already in order keeps its order.
    ///
    /// Inputs that no node produces (graph inputs, initializers, undefined names) impose no
    /// constraint here; `GraphVerifier` reports undefined ones.
    /// - Throws: `GraphValidationError.cycle` naming the nodes on one cycle.
    public func topologicalOrder() throws(GraphValidationError) -> [Int] {
        let producer = producerIndex()
        var waitingOn = [Int](repeating: 0, count: nodes.count)
        var consumers = [[Int]](repeating: [], count: nodes.count)
        var seen = Set<Int>()
        var steps = 0
        for (index, node) in nodes.enumerated() {
            // A node reading the same value twice depends on its producer once.
            seen.removeAll(keepingCapacity: true)
            steps += node.inputs.count
            for input in node.inputs where !input.isEmpty {
                if let source = producer[input], seen.insert(source).inserted {
                    waitingOn[index] += 1
                    consumers[source].append(index)
                }
            }
        }
        GraphScanCounter.current?.record(steps)
        var ready = MinHeap(nodes.indices.filter { waitingOn[$0] == 0 })
        var order: [Int] = []
        order.reserveCapacity(nodes.count)
        while let next = ready.popMin() {
            order.append(next)
            for consumer in consumers[next] {
                waitingOn[consumer] -= 1
                if waitingOn[consumer] == 0 { ready.insert(consumer) }
            }
        }
        guard order.count == nodes.count else {
            throw .cycle(nodes: cycleNames(blocked: waitingOn, producer: producer))
        }
        return order
    }

    /// Nodes in topological order.
    public func topologicallySortedNodes() throws(GraphValidationError) -> [Node] {
        try topologicalOrder().map { nodes[$0] }
    }

    /// Which node index produces each value (the first, if a graph wrongly has several).
    public func producerIndex() -> [String: Int] {
        var producer: [String: Int] = [:]
        producer.reserveCapacity(nodes.count + nodes.count / 2)
        var steps = 0
        for (index, node) in nodes.enumerated() {
            steps += node.outputs.count
            for output in node.outputs where !output.isEmpty && producer[output] == nil {
                producer[output] = index
            }
        }
        GraphScanCounter.current?.record(steps)
        return producer
    }

    /// For every value, the indices of the nodes that read it (once per node, ascending).
    ///
    /// Linear in the number of inputs: a node with many inputs (a Concat or Sum of thousands of
    /// branches) finds repeated names with a set rather than by rescanning its earlier inputs.
    public func consumerIndex() -> [String: [Int]] {
        var consumers: [String: [Int]] = [:]
        consumers.reserveCapacity(nodes.count * 2)
        var seen = Set<String>()
        var steps = 0
        for (index, node) in nodes.enumerated() {
            let inputs = node.inputs
            if inputs.count <= Self.smallInputCount {
                for (position, input) in inputs.enumerated() where !input.isEmpty {
                    steps += position + 1
                    if !inputs[..<position].contains(input) { consumers[input, default: []].append(index) }
                }
            } else {
                seen.removeAll(keepingCapacity: true)
                for input in inputs where !input.isEmpty {
                    steps += 1
                    if seen.insert(input).inserted { consumers[input, default: []].append(index) }
                }
            }
        }
        GraphScanCounter.current?.record(steps)
        return consumers
    }

    /// Up to this many inputs, comparing with the earlier ones is cheaper than hashing.
    private static let smallInputCount = 8

    /// Walks back from a blocked node through blocked producers until a node repeats: the
    /// repeated stretch is a cycle. (Every blocked node has a blocked producer, so this ends.)
    private func cycleNames(blocked waitingOn: [Int], producer: [String: Int]) -> [String] {
        guard var current = waitingOn.firstIndex(where: { $0 > 0 }) else { return [] }
        var path: [Int] = []
        var position: [Int: Int] = [:]
        while position[current] == nil {
            position[current] = path.count
            path.append(current)
            let blockedProducer = nodes[current].inputs.lazy
                .compactMap { producer[$0] }
                .first { waitingOn[$0] > 0 }
            guard let next = blockedProducer else { break }
            current = next
        }
        let start = position[current] ?? 0
        return path[start...].reversed().map { nodes[$0].displayName(index: $0) }
    }
}

/// A binary min-heap of node indices, for Kahn's "first ready node in file order".
struct MinHeap {
    private var items: [Int]

    init(_ values: [Int]) {
        items = values.sorted()  // a sorted array is already a valid heap
    }

    mutating func insert(_ value: Int) {
        items.append(value)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child] < items[parent] else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func popMin() -> Int? {
        guard let first = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1, right = left + 1
                var smallest = parent
                if left < items.count, items[left] < items[smallest] { smallest = left }
                if right < items.count, items[right] < items[smallest] { smallest = right }
                if smallest == parent { break }
                items.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return first
    }
}
