import Foundation
import Testing

@testable import ReconcileSandbox

/// The sandbox's bodies are signed, so what `serialized` writes is what a test double sends and a
/// signature covers: compact, members in order, strings escaped the one way.
@Suite struct JSONValueTests {
    @Test func writesCompactTextWithMembersInTheirGivenOrder() {
        let value = JSONValue.object([
            JSONField("z", .int(-9_223_372_036_854_775_808)),
            JSONField("a", .array([.null, .bool(true), .bool(false), .int(0), .array([]), .object([])])),
            JSONField("m", .object([JSONField("k", .string(""))])),
        ])
        #expect(
            value.serialized
                == #"{"z":-9223372036854775808,"a":[null,true,false,0,[],{}],"m":{"k":""}}"#
        )
    }

    @Test func escapesQuotesBackslashesAndControlCharactersOnly() {
        let text = "q\"b\\n\nr\rt\tnul\u{0}us\u{1F}del\u{7F}/é\u{0065}\u{0301}中😀"
        let written = JSONValue.string(text).serialized
        // Compared as bytes: `String`'s `==` would take a precomposed é for e and a combining accent.
        #expect(
            Array(written.utf8)
                == Array("\"q\\\"b\\\\n\\nr\\rt\\tnul\\u0000us\\u001fdel\u{7F}/é\u{0065}\u{0301}中😀\"".utf8)
        )
        // What a JSON parser reads back is the same string, scalar for scalar.
        let parsed = try? JSONSerialization.jsonObject(with: Data(written.utf8), options: .fragmentsAllowed)
        #expect((parsed as? String).map { Array($0.unicodeScalars) } == Array(text.unicodeScalars))
    }

    /// The bytes the writer wrote before it wrote bytes (a scalar at a time into a `String`), for
    /// random strings of every control character, DEL, combining marks and characters beyond the BMP.
    @Test func writesTheBytesTheScalarWriterWrote() {
        func scalarWriter(_ value: String) -> String {
            var out = "\""
            for scalar in value.unicodeScalars {
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                case "\r": out += "\\r"
                case "\t": out += "\\t"
                case _ where scalar.value < 0x20:
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                default: out.unicodeScalars.append(scalar)
                }
            }
            return out + "\""
        }
        let alphabet =
            (0..<0x20).compactMap(Unicode.Scalar.init) + [
                "\u{7F}", "\"", "\\", "/", "a", "é", "\u{301}", "中", "😀", "\u{FEFF}",
            ]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            var text = String.UnicodeScalarView()
            for _ in 0..<Int.random(in: 0..<24, using: &generator) {
                text.append(alphabet.randomElement(using: &generator)!)
            }
            let value = String(text)
            #expect(
                Array(JSONValue.string(value).serialized.utf8) == Array(scalarWriter(value).utf8),
                "\(value.debugDescription)"
            )
        }
    }

    @Test func escapesMemberNamesAsStrings() {
        let value = JSONValue.object([JSONField("a\"b\u{8}", .int(1))])
        #expect(value.serialized == #"{"a\"b\u0008":1}"#)
    }
}
