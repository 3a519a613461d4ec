@testable import GhostIR
import Testing

/// A one-element tensor whose value tells the entries apart.
private func scalar(_ value: Float) throws -> Tensor {
    try Tensor(float32: [value], shape: [1])
}

private func value(_ tensor: Tensor?) -> Float? {
    tensor?.elements(as: Float.self).first
}

@Test func tableKeepsInsertionOrderThroughReplacementAndRemoval() throws {
    var table = InitializerTable()
    for (index, name) in ["a", "b", "c", "d"].enumerated() { table[name] = try scalar(Float(index)) }
    table["b"] = try scalar(10)  // replaced in place: keeps its position
    table["c"] = nil
    table["e"] = try scalar(4)
    #expect(table.names == ["a", "b", "d", "e"])
    #expect(table.map(\.name) == ["a", "b", "d", "e"])
    #expect(table.map { value($0.tensor) } == [0, 10, 3, 4])
    #expect(table.count == 4)
    #expect(table.contains("d") && !table.contains("c"))
    #expect(value(table["b"]) == 10)
    #expect(table["c"] == nil)
    table["c"] = try scalar(5)  // a removed name comes back at the end
    #expect(table.names == ["a", "b", "d", "e", "c"])
}

@Test func removingMostEntriesCompactsWithoutLosingOrderOrLookups() throws {
    var table = InitializerTable()
    for index in 0..<1_000 { table["w\(index)"] = try scalar(Float(index)) }
    // Keep every seventh: removal passes the half-gaps threshold several times.
    for index in 0..<1_000 where index % 7 != 0 { table["w\(index)"] = nil }
    let kept = (0..<1_000).filter { $0 % 7 == 0 }
    #expect(table.count == kept.count)
    #expect(table.names == kept.map { "w\($0)" })
    for index in kept { #expect(value(table["w\(index)"]) == Float(index)) }
    table["w7"] = try scalar(-7)
    table["new"] = try scalar(1)
    #expect(table.names.suffix(2) == ["w994", "new"])
    #expect(value(table["w7"]) == -7)
}

@Test func insertNewRefusesATakenNameAndKeepsTheFirstTensor() throws {
    var table = InitializerTable()
    let first = table.insertNew(try scalar(1), named: "w")
    let again = table.insertNew(try scalar(2), named: "w")
    let other = table.insertNew(try scalar(3), named: "b")
    #expect(first && !again && other)
    #expect(table.names == ["w", "b"])
    #expect(value(table["w"]) == 1)
    table["w"] = nil
    let back = table.insertNew(try scalar(4), named: "w")
    #expect(back)
    #expect(table.names == ["b", "w"])
}

@Test func copiesAreIndependentAndEqualityFollowsOrderAndBytes() throws {
    var original = InitializerTable()
    original["a"] = try scalar(1)
    original["b"] = try scalar(2)
    var copy = original
    #expect(copy == original)
    copy["a"] = nil
    copy["c"] = try scalar(3)
    #expect(original.names == ["a", "b"])
    #expect(value(original["a"]) == 1)
    #expect(copy.names == ["b", "c"])
    #expect(copy != original)

    var reordered = InitializerTable()
    reordered["b"] = try scalar(2)
    reordered["a"] = try scalar(1)
    #expect(reordered != original)  // same entries, another order
    var changed = original
    changed["b"] = try scalar(2.5)
    #expect(changed != original)
    var rebuilt = InitializerTable()
    rebuilt["a"] = try scalar(1)
    rebuilt["b"] = try scalar(2)
    #expect(rebuilt == original)
}

@Test func removingBySlotLeavesLookupsOrderAndReinsertionRight() throws {
    var table = InitializerTable()
    for position in 0..<200 { table["w\(position)"] = try scalar(Float(position)) }
    // Every third slot goes, without hashing a name; slots out of range and empty ones are ignored.
    let gone = Array(stride(from: 0, to: 200, by: 3))
    table.removeSlots(gone + [0, -1, 500])
    #expect(table.count == 200 - gone.count)
    for position in 0..<200 {
        #expect(value(table["w\(position)"]) == (position % 3 == 0 ? nil : Float(position)))
        #expect(table.contains("w\(position)") == (position % 3 != 0))
    }
    #expect(table.names == (0..<200).filter { $0 % 3 != 0 }.map { "w\($0)" })
    // A removed name comes back at the end; its old slot no longer answers for it.
    table["w3"] = try scalar(-3)
    #expect(value(table["w3"]) == -3)
    #expect(table.names.last == "w3")
    #expect(table.slotCount == 201)
    // Removing more than half compacts once, after all of them: every slot given goes, and the
    // ones after keep their order and lookups.
    table.removeSlots(0..<191)
    let kept = (191..<200).filter { $0 % 3 != 0 }.map { "w\($0)" } + ["w3"]
    #expect(table.names == kept)
    #expect(table.count == kept.count)
    #expect(table.slotCount == kept.count)
    for name in kept { #expect(table.contains(name)) }
    #expect(value(table["w199"]) == 199)
    #expect(table["w1"] == nil)
}
