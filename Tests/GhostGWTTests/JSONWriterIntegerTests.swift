@testable import GhostGWT
import Testing

// The writer spells integers digit by digit instead of through `String(value)`; the .gwt bytes
// must not change, so every width and sign must give exactly what `String` gives.
@Test(arguments: [
    Int64.min, Int64.min + 1, -1_000_000_007, -10, -9, -1, 0, 1, 9, 10, 11, 99, 100, 64, 4096,
    1_234_567_890_123, Int64(Int32.max), Int64.max - 1, Int64.max,
])
func integersAreSpelledAsStringSpellsThem(value: Int64) {
    var json = JSONWriter()
    json.array { json in
        json.integer(value)
        json.integer(Int32(truncatingIfNeeded: value))
    }
    let text = String(decoding: json.bytes, as: UTF8.self)
    #expect(text == "[\(value),\(Int32(truncatingIfNeeded: value))]")
}

@Test func unsignedIntegersBeyondInt64AreSpelledInFull() {
    var json = JSONWriter()
    json.array { json in
        json.integer(UInt64.max)
        json.integer(UInt64(Int64.max) + 1)
    }
    #expect(String(decoding: json.bytes, as: UTF8.self) == "[18446744073709551615,9223372036854775808]")
}

@Test func plainAndEscapedStringsAreQuotedAlike() {
    var json = JSONWriter()
    json.object { json in
        json.field("conv1.weight", "Conv_12/out:0")
        json.field("a\"b", "c\\d")
        json.field("", "")
        json.field("ünï", "tab\there")
    }
    #expect(String(decoding: json.bytes, as: UTF8.self)
        == #"{"conv1.weight":"Conv_12/out:0","a\"b":"c\\d","":"","ünï":"tab\there"}"#)
}
