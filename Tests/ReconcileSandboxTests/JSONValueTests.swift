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
        #expect(
            written
                == "\"q\\\"b\\\\n\\nr\\rt\\tnul\\u0000us\\u001fdel\u{7F}/é\u{0065}\u{0301}中😀\""
        )
        // What a JSON parser reads back is the same string, scalar for scalar.
        let parsed = try? JSONSerialization.jsonObject(with: Data(written.utf8), options: .fragmentsAllowed)
        #expect((parsed as? String).map { Array($0.unicodeScalars) } == Array(text.unicodeScalars))
    }

    @Test func escapesMemberNamesAsStrings() {
        let value = JSONValue.object([JSONField("a\"b\u{8}", .int(1))])
        #expect(value.serialized == #"{"a\"b\u0008":1}"#)
    }
}
