import Foundation
import GhostIR
import Testing

@Test func tensorRefusesWrongByteCount() {
    #expect(throws: TensorError.byteCountMismatch(expected: 16, actual: 12)) {
        try Tensor(elementType: .float32, shape: [4], storage: TensorStorage(values: [Float](repeating: 0, count: 3)))
    }
}

@Test func elementCountRefusesNegativeAndOverflowingShapes() {
    #expect(throws: TensorError.negativeDimension(shape: [2, -1])) { try Tensor.elementCount(of: [2, -1]) }
    #expect(throws: TensorError.sizeOverflow(shape: [1 << 40, 1 << 40])) { try Tensor.elementCount(of: [1 << 40, 1 << 40]) }
    #expect((try? Tensor.elementCount(of: [])) == 1)
    #expect((try? Tensor.elementCount(of: [3, 0, 5])) == 0)
}

@Test func typedAccessRoundTrips() throws {
    let tensor = try Tensor(float32: [1.5, -2, 3.25], shape: [3])
    #expect(tensor.elements(as: Float.self) == [1.5, -2, 3.25])
    #expect(tensor.doubleValues() == [1.5, -2, 3.25])
    #expect(tensor.byteCount == 12)
    let integers = try Tensor(int64: [7, -1], shape: [2, 1])
    #expect(integers.int64Values() == [7, -1])
    #expect(integers.rank == 2)
}

@Test func equalityComparesBytesNotIdentity() throws {
    let a = try Tensor(float32: [1, 2], shape: [2])
    let b = try Tensor(float32: [1, 2], shape: [2])
    let c = try Tensor(float32: [1, 2], shape: [1, 2])
    let d = try Tensor(float32: [1, 3], shape: [2])
    #expect(a == b)
    #expect(a != c)
    #expect(a != d)
}

@Test func viewKeepsItsOwnerAlive() throws {
    final class Buffer {
        var values: [Float] = [4, 5, 6]
    }
    var tensor: Tensor?
    do {
        let buffer = Buffer()
        let bytes = buffer.values.withUnsafeBytes { UnsafeRawBufferPointer(start: $0.baseAddress, count: $0.count) }
        tensor = try Tensor(elementType: .float32, shape: [3], storage: TensorStorage(viewing: bytes, owner: buffer))
    }
    #expect(tensor?.elements(as: Float.self) == [4, 5, 6])
    #expect(tensor?.storage.isView == true)
}

@Test func initializerTableKeepsInsertionOrder() throws {
    var table = InitializerTable()
    table["b"] = try Tensor(float32: [1], shape: [1])
    table["a"] = try Tensor(float32: [2], shape: [1])
    table["c"] = try Tensor(float32: [3], shape: [1])
    table["a"] = try Tensor(float32: [9], shape: [1])  // replacing keeps the position
    #expect(table.names == ["b", "a", "c"])
    table["b"] = nil
    #expect(table.names == ["a", "c"])
    #expect(table["a"]?.elements(as: Float.self) == [9])
    #expect(Array(table).map(\.name) == ["a", "c"])
}

/// Deferred storage: its size is known without computing it, its recipe is readable until the
/// bytes are made, and the bytes are made exactly once even when many threads read at once.
@Test func deferredStorageIsComputedOnceOnFirstRead() async throws {
    final class Counter: @unchecked Sendable {
        let lock = NSLock()
        var calls = 0
    }
    let counter = Counter()
    let storage = TensorStorage(deferredByteCount: 16, recipe: "recipe") { raw in
        counter.lock.withLock { counter.calls += 1 }
        let floats = raw.bindMemory(to: Float.self)
        for index in floats.indices { floats[index] = Float(index) + 0.5 }
    }
    let tensor = try Tensor(elementType: .float32, shape: [2, 2], storage: storage)
    #expect(tensor.byteCount == 16 && tensor.elementCount == 4)
    #expect(!storage.isComputed)
    #expect(storage.recipe as? String == "recipe")
    #expect(counter.calls == 0)
    let addresses = await withTaskGroup(of: Int.self) { group in
        for _ in 0..<8 { group.addTask { Int(bitPattern: storage.bytes.baseAddress) } }
        return await group.reduce(into: Set<Int>()) { $0.insert($1) }
    }
    #expect(addresses.count == 1)
    #expect(counter.calls == 1)
    #expect(storage.isComputed && storage.recipe == nil)
    #expect(tensor.elements(as: Float.self) == [0.5, 1.5, 2.5, 3.5])
    // A deferred size that disagrees with the shape is refused without computing anything.
    let wrong = TensorStorage(deferredByteCount: 12, recipe: 0) { _ in Issue.record("computed") }
    #expect(throws: TensorError.byteCountMismatch(expected: 16, actual: 12)) {
        try Tensor(elementType: .float32, shape: [4], storage: wrong)
    }
}

/// Path splitting never traps (NSString's does on one-character paths) and agrees with POSIX
/// dirname/basename on the forms the tool meets.
@Test func pathTextSplitsEveryForm() {
    let cases: [(String, String, String)] = [
        ("r", "", "r"), ("model.onnx", "", "model.onnx"), ("a/b", "a", "b"), ("/x", "/", "x"), ("/", "/", "/"),
        ("dir/", "", "dir"), ("a/b/c.gwt", "a/b", "c.gwt"), ("./r", ".", "r"), ("a//b", "a", "b"),
    ]
    for (path, directory, name) in cases {
        #expect(PathText.directory(of: path) == directory, "\(path)")
        #expect(PathText.name(of: path) == name, "\(path)")
    }
    #expect(PathText.join("", "x") == "x")
    #expect(PathText.join("a", "x") == "a/x")
    #expect(PathText.join("/", "x") == "/x")
}
