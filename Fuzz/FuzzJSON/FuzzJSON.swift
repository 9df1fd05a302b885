import Foundation

@testable import ReconcileCore

/// libFuzzer entry: `JSONValue.parsing` on the input, checked against Foundation and against itself.
///
/// What the strict parser accepts, `JSONSerialization` must accept too (it is more lenient: it takes
/// duplicate keys), and the canonical text of the value must parse back to an equal value. A failed
/// check traps, which libFuzzer reports as a crash with the input that caused it.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let data = Data(bytes: start, count: count)
    guard let value = try? JSONValue.parsing(data) else { return 0 }
    if (try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])) == nil {
        // Foundation refuses some documents the RFC allows (numbers it cannot represent); only
        // objects and arrays of plain values are compared.
        if containsNumber(value) { return 0 }
        // A lone surrogate escape is U+FFFD here (a decision); Foundation refuses it.
        let text = String(decoding: data, as: UTF8.self).lowercased()
        if text.contains("\\ud") { return 0 }
        fatalError("strict parser accepted what JSONSerialization refused")
    }
    let again = JSONValue.parse(Data(value.canonicalText.utf8))
    guard let again, sameValue(value, again) else { fatalError("canonical text does not parse back to the value") }
    return 0
}

/// Whether `value` holds a `.number` anywhere.
func containsNumber(_ value: JSONValue) -> Bool {
    switch value {
    case .number: true
    case .array(let items): items.contains(where: containsNumber)
    case .object(let fields): fields.values.contains(where: containsNumber)
    default: false
    }
}

/// Equality where an integer and a number with the same value are the same (canonical text writes `1.0` as `1`).
func sameValue(_ left: JSONValue, _ right: JSONValue) -> Bool {
    switch (left, right) {
    case (.integer(let a), .number(let b)), (.number(let b), .integer(let a)): Double(a) == b
    case (.number(let a), .number(let b)): a == b || (a.isNaN && b.isNaN)
    case (.array(let a), .array(let b)): a.count == b.count && zip(a, b).allSatisfy { sameValue($0, $1) }
    case (.object(let a), .object(let b)):
        a.count == b.count && a.allSatisfy { key, item in b[key].map { sameValue(item, $0) } ?? false }
    default: left == right
    }
}
