import Foundation

@testable import ReconcileCore

/// Random valid JSON documents, written with random white space and escapes, for comparing parsers.
enum RandomJSON {
    static let alphabet: [Character] = [
        "a", "Z", "0", " ", "\"", "\\", "/", "\n", "\t", "\u{1}", "é", "€", "😀", "\u{7F}",
    ]

    static func value(depth: Int, random: inout SplitMix64) -> JSONValue {
        let pick = depth > 4 ? Int.random(in: 0..<5, using: &random) : Int.random(in: 0..<7, using: &random)
        switch pick {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &random))
        case 2:
            let magnitude = [Int64(9), 999_999, 9_007_199_254_740_993, .max].randomElement(using: &random) ?? 9
            return .integer(Int64.random(in: -magnitude...magnitude, using: &random))
        case 3:
            let double = Double.random(in: -1e6...1e6, using: &random)
            return .number(double == double.rounded() ? double + 0.5 : double)
        case 4: return .string(string(random: &random))
        case 5:
            return .array(
                (0..<Int.random(in: 0..<5, using: &random)).map { _ in value(depth: depth + 1, random: &random) }
            )
        default:
            var fields: [String: JSONValue] = [:]
            for _ in 0..<Int.random(in: 0..<5, using: &random) {
                fields[string(random: &random)] = value(depth: depth + 1, random: &random)
            }
            return .object(fields)
        }
    }

    static func string(random: inout SplitMix64) -> String {
        String((0..<Int.random(in: 0..<8, using: &random)).map { _ in alphabet.randomElement(using: &random) ?? "a" })
    }

    static func space(random: inout SplitMix64) -> String {
        ["", "", " ", "\n", "\t ", "\r\n"].randomElement(using: &random) ?? ""
    }

    /// JSON text of `value`: keys in any order, strings escaped in one of several valid ways.
    static func text(_ value: JSONValue, random: inout SplitMix64) -> String {
        let pad = space(random: &random)
        switch value {
        case .null: return pad + "null"
        case .bool(let flag): return pad + (flag ? "true" : "false")
        case .integer(let number): return pad + String(number)
        case .number(let number): return pad + "\(number)"
        case .string(let text): return pad + quoted(text, random: &random)
        case .array(let items):
            return pad + "[" + items.map { text($0, random: &random) + space(random: &random) }.joined(separator: ",")
                + "]"
        case .object(let fields):
            let parts = fields.shuffled(using: &random).map { key, item in
                quoted(key, random: &random) + space(random: &random) + ":" + text(item, random: &random)
            }
            return pad + "{" + parts.joined(separator: ",") + space(random: &random) + "}"
        }
    }

    static func quoted(_ text: String, random: inout SplitMix64) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            let escapeAnyway = Int.random(in: 0..<4, using: &random) == 0
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += escapeAnyway ? "\\u000a" : "\\n"
            case "\t": out += "\\t"
            case "/" where escapeAnyway: out += "\\/"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            case _ where escapeAnyway && scalar.value > 0xFFFF:
                let offset = scalar.value - 0x10000
                out += String(format: "\\u%04x\\u%04X", 0xD800 + (offset >> 10), 0xDC00 + (offset & 0x3FF))
            case _ where escapeAnyway: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// Whether `value` is what `JSONSerialization` made of the same text.
    static func matches(_ value: JSONValue, _ foundation: Any) -> Bool {
        switch value {
        case .null: return foundation is NSNull
        case .bool(let flag): return (foundation as? NSNumber)?.boolValue == flag
        case .integer(let number): return (foundation as? NSNumber)?.int64Value == number
        case .number(let number):
            // Foundation reads decimals as NSDecimalNumber, whose doubleValue can be an ulp off the correctly
            // rounded Double that Swift's Double(String) (and so the strict parser) gives.
            guard let other = (foundation as? NSNumber)?.doubleValue else { return false }
            return abs(other - number) <= abs(number) * 4 * Double.ulpOfOne
        case .string(let text): return (foundation as? String) == text
        case .array(let items):
            guard let other = foundation as? [Any], other.count == items.count else { return false }
            return zip(items, other).allSatisfy { matches($0, $1) }
        case .object(let fields):
            guard let other = foundation as? [String: Any], other.count == fields.count else { return false }
            return fields.allSatisfy { key, item in other[key].map { matches(item, $0) } ?? false }
        }
    }
}
