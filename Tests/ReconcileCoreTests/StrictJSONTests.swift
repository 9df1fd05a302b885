import Foundation
import Testing

@testable import ReconcileCore

@Suite struct StrictJSONTests {
    func parse(_ text: String) throws(JSONParseError) -> JSONValue { try JSONValue.parsing(Data(text.utf8)) }

    func parse(bytes: [UInt8]) throws(JSONParseError) -> JSONValue { try JSONValue.parsing(Data(bytes)) }

    @Test(arguments: [
        ("{}", JSONValue.object([:])), ("[]", .array([])), (#""a""#, .string("a")), ("0", .integer(0)),
        ("-0", .integer(0)), ("true", .bool(true)), ("false", .bool(false)), ("null", .null),
        (" \t\r\n[1 , 2]\n", .array([.integer(1), .integer(2)])), ("1.5e-3", .number(0.0015)), ("2E+2", .number(200)),
        ("-12.25", .number(-12.25)), ("1.0", .number(1)),
        (#"{"a":{"b":[null]}}"#, .object(["a": .object(["b": .array([.null])])])),
        (#""\"\\\/\b\f\n\r\t""#, .string("\"\\/\u{8}\u{c}\n\r\t")), (#""\u00e9\u20AC""#, .string("é€")),
        (#""\ud83d\ude00""#, .string("😀")), ("\"é😀\"", .string("é😀")), (#""\u0000""#, .string("\u{0}")),
    ])
    func acceptsWhatRFC8259Allows(text: String, expected: JSONValue) throws {
        #expect(try parse(text) == expected)
    }

    @Test(arguments: [
        "", " ", "[1,]", #"{"a":1,}"#, "01", "-01", "+1", ".5", "1.", "1e", "1e+", "-", "NaN", "Infinity", "'a'",
        #""abc"#, #""\x""#, #""\u12""#, #""\u12G4""#, "[1 2]", #"{"a" 1}"#, "{1:2}", "{} x", "[", "]", "tru", "nul",
        "truex", #"{"a":}"#, "[,1]", "\u{FEFF}{}", #"{"a":1 "b":2}"#, "1e400", "-1e400",
    ])
    func refusesWhatRFC8259DoesNot(text: String) {
        #expect(throws: JSONParseError.self) { try parse(text) }
    }

    @Test(
        arguments: [
            [0x22, 0x0A, 0x22], [0x22, 0x00, 0x22], [0x22, 0x1F, 0x22],  // raw control characters
            [0x22, 0xC0, 0xAF, 0x22], [0x22, 0xE0, 0x80, 0xAF, 0x22],  // overlong
            [0x22, 0xED, 0xA0, 0x80, 0x22],  // an encoded surrogate
            [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], [0x22, 0xF5, 0x80, 0x80, 0x80, 0x22],  // beyond U+10FFFF
            [0x22, 0xC3, 0x22], [0x22, 0xE2, 0x82], [0x22, 0x80, 0x22], [0x22, 0xFF, 0x22],  // truncated, stray
        ] as [[UInt8]]
    )
    func refusesInvalidUTF8AndControlCharacters(bytes: [UInt8]) {
        #expect(throws: JSONParseError.self) { try parse(bytes: bytes) }
    }

    @Test func refusesDuplicateKeysNamingTheOffset() throws {
        #expect(throws: JSONParseError(offset: 7, reason: "duplicate object key")) {
            try parse(#"{"a":1,"a":2}"#)
        }
        #expect(throws: JSONParseError.self) { try parse(#"{"x":{"b":1,"b":1}}"#) }
        #expect(throws: JSONParseError.self, "escapes decode before comparing") { try parse(#"{"a":1,"\u0061":2}"#) }
        #expect(throws: JSONParseError.self, "canonically equal keys") { try parse("{\"\u{E9}\":1,\"e\u{301}\":2}") }
        #expect(try parse(#"{"a":1,"A":2}"#).objectValue?.count == 2)
    }

    @Test func errorsSayWhatAndWhere() throws {
        let error = try #require(throws: JSONParseError.self) { try parse(#"{"a": [1, 2,, 3]}"#) }
        #expect(error.offset == 12)
        #expect(error.description == "unexpected byte 0x2c, expected a value at byte 12")
    }

    @Test func integersAreExactAndBigNumbersAreDoubles() throws {
        #expect(try parse("9223372036854775807") == .integer(.max))
        #expect(try parse("-9223372036854775808") == .integer(.min))
        #expect(try parse("9223372036854775808") == .number(9_223_372_036_854_775_808))
        #expect(try parse("-9223372036854775809") == .number(-9_223_372_036_854_775_809))
        #expect(try parse("123456789012345678901234567890") == .number(1.2345678901234568e29))
        #expect(try parse("9007199254740993").integerValue == 9_007_199_254_740_993)
        #expect(try parse("1e2").integerValue == nil, "an exponent makes a number, not an integer")
    }

    @Test func loneSurrogateEscapesBecomeReplacementCharacters() throws {
        #expect(try parse(#""\ud800""#) == .string("\u{FFFD}"))
        #expect(try parse(#""\udc00x""#) == .string("\u{FFFD}x"))
        #expect(try parse(#""\ud800\u0041""#) == .string("\u{FFFD}A"))
        #expect(try parse(#""\ud800\ud800\udc00""#) == .string("\u{FFFD}𐀀"))
    }

    @Test func nestingIsLimitedWithoutRecursingDeeply() throws {
        let ok = String(repeating: "[", count: 128) + String(repeating: "]", count: 128)
        #expect(throws: Never.self) { try parse(ok) }
        let deep = String(repeating: "[", count: 129) + String(repeating: "]", count: 129)
        let error = try #require(throws: JSONParseError.self) { try parse(deep) }
        #expect(error.reason == "nesting deeper than 128" && error.offset == 128)
        #expect(JSONValue.parse(Data(String(repeating: #"{"a":["#, count: 200_000).utf8)) == nil)
        #expect(JSONValue.parse(Data(String(repeating: "[", count: 1_000_000).utf8)) == nil)
    }

    /// The hand-written canonical text is byte for byte what `JSONEncoder` wrote before it, so
    /// stores written by either read the same; every escape, number and key order included.
    @Test func canonicalTextIsWhatJSONEncoderWrites() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var random = SplitMix64(seed: 20_261_205)
        var values: [JSONValue] = [
            .object([
                "b": .integer(1), "a10": .integer(2), "a9": .integer(3), "B": .integer(4), "_x": .integer(5),
                "a_b": .integer(6), "ab": .integer(7), "Ab": .integer(8), "é": .integer(9), "z": .integer(10),
            ]),
            .array([.number(1.0), .number(-0.0), .number(1e300), .number(1e-7), .number(0.1), .number(5e-324)]),
            .string("a\"b\\c/\u{0}\u{1}\u{1f}\n\t\r\u{8}\u{c}\u{7f}\u{2028}é😀"),
            .integer(.min), .integer(.max), .null, .bool(false),
        ]
        for _ in 0..<400 { values.append(RandomJSON.value(depth: 0, random: &random)) }
        for (index, value) in values.enumerated() {
            let expected = String(decoding: try encoder.encode(value), as: UTF8.self)
            #expect(value.canonicalText == expected, "value \(index)")
        }
    }

    @Test func randomValidDocumentsParseAsFoundationParsesThem() throws {
        var random = SplitMix64(seed: 20_260_704)
        for round in 0..<400 {
            let value = RandomJSON.value(depth: 0, random: &random)
            let text = RandomJSON.text(value, random: &random)
            let data = Data(text.utf8)
            let parsed = try #require(try JSONValue.parsing(data), "round \(round): \(text.prefix(200))")
            #expect(parsed == value, "round \(round)")
            let foundation = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
            #expect(RandomJSON.matches(parsed, foundation), "round \(round): \(text.prefix(200))")
        }
    }
}

/// A small seeded generator, so a failing random document can be reproduced.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
