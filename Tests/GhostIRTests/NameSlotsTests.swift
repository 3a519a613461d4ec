@testable import GhostIR
import Testing

// `InitializerTable` and the verifier's sweep find names through `NameSlots`, an open-addressing
// index of hashes and positions. These check it against a plain dictionary kept beside it.

private func scalar(_ value: Float) throws -> Tensor {
    try Tensor(float32: [value], shape: [1])
}

@Test func tableAgreesWithADictionaryThroughGrowthRemovalAndCompaction() throws {
    var table = InitializerTable()
    var reference: [String: Float] = [:]
    var order: [String] = []
    // Deterministic pseudo-random operations over 3000 names: inserts, replacements, removals.
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    for step in 0..<40_000 {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        let name = "n\(Int(state >> 33) % 3000)"
        if (state >> 20) % 3 == 0 {
            table[name] = nil
            reference[name] = nil
            order.removeAll { $0 == name }
        } else {
            table[name] = try scalar(Float(step))
            if reference[name] == nil { order.append(name) }
            reference[name] = Float(step)
        }
    }
    #expect(table.count == reference.count)
    #expect(table.names == order)
    for index in 0..<3000 {
        let name = "n\(index)"
        #expect(table.contains(name) == (reference[name] != nil))
        #expect(table[name]?.elements(as: Float.self).first == reference[name])
    }
}

@Test func oneSizeOfInsertsAndRemovalsKeepsFindingEveryName() throws {
    // Removing one name and adding another, many times, at a constant size: tombstones pile up
    // and the index must be cleared of them without losing a name.
    var table = InitializerTable()
    for index in 0..<100 { table["w\(index)"] = try scalar(Float(index)) }
    for index in 100..<20_100 {
        table["w\(index - 100)"] = nil
        table["w\(index)"] = try scalar(Float(index))
    }
    #expect(table.count == 100)
    #expect(table.names == (20_000..<20_100).map { "w\($0)" })
    for index in 20_000..<20_100 { #expect(table["w\(index)"]?.elements(as: Float.self).first == Float(index)) }
    #expect(!table.contains("w19999") && !table.contains("w0"))
}

@Test func aCopyKeepsItsIndexWhenTheOriginalChanges() throws {
    var original = InitializerTable()
    for index in 0..<200 { original["w\(index)"] = try scalar(Float(index)) }
    let copy = original
    for index in 0..<150 { original["w\(index)"] = nil }
    for index in 200..<400 { original["w\(index)"] = try scalar(Float(index)) }
    #expect(copy.count == 200 && original.count == 250)
    for index in 0..<200 { #expect(copy.contains("w\(index)")) }
    for index in 200..<400 { #expect(!copy.contains("w\(index)") && original.contains("w\(index)")) }
    for index in 0..<150 { #expect(!original.contains("w\(index)")) }
}

@Test func aPrecomputedHashFindsTheSameNames() throws {
    var table = InitializerTable()
    table.reserveCapacity(1000)
    for index in 0..<1000 { #expect(table.insertNew(try scalar(Float(index)), named: "weight.\(index)")) }
    for index in 0..<1000 {
        let name = "weight.\(index)"
        #expect(table.contains(name, hash: NameSlots.hash(name)))
        let absent = "weight.\(index + 1000)"
        #expect(!table.contains(absent, hash: NameSlots.hash(absent)))
    }
    // A name longer than a small string (stored on the heap) compares by its text.
    let long = String(repeating: "layer.", count: 10) + "weight"
    #expect(table.insertNew(try scalar(1), named: long))
    #expect(table.contains(String(repeating: "layer.", count: 10) + "weight"))
    #expect(!table.insertNew(try scalar(2), named: long))
}
