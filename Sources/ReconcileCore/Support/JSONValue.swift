import Foundation

/// A JSON value that keeps integers exact (money is never decoded through `Double`).
public enum JSONValue: Sendable, Hashable, Codable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .integer(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .integer(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    /// What `JSONEncoder` writes for `value`, read back; `.null` when it cannot be encoded.
    init(encoding value: some Encodable) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        self = (try? encoder.encode(value)).flatMap(JSONValue.parse) ?? .null
    }

    /// Decodes JSON bytes strictly; nil when they are not JSON (see ``parsing(_:maxDepth:)`` for why).
    ///
    /// Integers are exact Int64; duplicate keys, nesting deeper than 128, invalid UTF-8 and raw
    /// control characters in strings are refused (the rules are on `StrictJSONParser`).
    public static func parse(_ data: Data) -> JSONValue? {
        try? StrictJSONParser.parse(data)
    }

    /// Decodes JSON bytes strictly, or throws what was wrong and at which byte offset.
    ///
    /// Integers without fraction or exponent that fit in Int64 are `.integer`; other numbers are
    /// `.number(Double)` (integers outside Int64 too); a non-finite number is refused.
    public static func parsing(_ data: Data, maxDepth: Int = 128) throws(JSONParseError) -> JSONValue {
        try StrictJSONParser.parse(data, maxDepth: maxDepth)
    }

    /// The value at `key` of an object, or nil.
    public subscript(key: String) -> JSONValue? {
        if case .object(let fields) = self { return fields[key] }
        return nil
    }

    /// The string, or nil for any other case.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The integer, or nil for any other case (a fractional number is not an integer).
    public var integerValue: Int64? {
        if case .integer(let value) = self { return value }
        return nil
    }

    /// The boolean, or nil for any other case.
    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// The fields of an object, or nil.
    public var objectValue: [String: JSONValue]? {
        if case .object(let value) = self { return value }
        return nil
    }

    /// The elements of an array, or nil.
    public var arrayValue: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    /// The value an RFC 6901 JSON Pointer names (`""` is the whole value, `/events/2` the third
    /// element of `events`; `~1` is `/` and `~0` is `~` in a key), or nil when nothing is there.
    public func at(pointer: String) -> JSONValue? {
        guard !pointer.isEmpty else { return self }
        guard pointer.hasPrefix("/") else { return nil }
        var value = self
        for token in pointer.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            // Most keys have no escape: Foundation's replacing was most of the time of a lookup.
            let key =
                token.utf8.contains(UInt8(ascii: "~"))
                ? token.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
                : String(token)
            switch value {
            case .object(let fields):
                guard let next = fields[key] else { return nil }
                value = next
            case .array(let elements):
                // Decimal digits only, no leading zero (RFC 6901 section 4).
                guard key.utf8.allSatisfy({ (0x30...0x39).contains($0) }), key == "0" || !key.hasPrefix("0"),
                    let index = Int(key), elements.indices.contains(index)
                else { return nil }
                value = elements[index]
            default:
                return nil
            }
        }
        return value
    }

    /// Canonical JSON text: keys sorted by code point, no extra white space, `/` not escaped.
    ///
    /// The same bytes as `JSONEncoder` with `[.sortedKeys, .withoutEscapingSlashes]` (a test
    /// compares them on random documents), written directly: the encoder's boxing was a seventh of
    /// ingest's time.
    public var canonicalText: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(256)
        write(into: &bytes, exactNumbers: false)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Text that ``parse(_:)`` reads back as this very value: as ``canonicalText``, but a
    /// `.number` keeps its `.0` (canonical text writes `12.0` as `12`, which reads back as `.integer`).
    var exactText: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(256)
        write(into: &bytes, exactNumbers: true)
        return String(decoding: bytes, as: UTF8.self)
    }

    private func write(into bytes: inout [UInt8], exactNumbers: Bool) {
        switch self {
        case .null: bytes.append(contentsOf: "null".utf8)
        case .bool(let value): bytes.append(contentsOf: (value ? "true" : "false").utf8)
        case .integer(let value): bytes.append(contentsOf: String(value).utf8)
        case .number(let value): Self.writeNumber(value, into: &bytes, exact: exactNumbers)
        case .string(let value): Self.writeString(value, into: &bytes)
        case .array(let values):
            bytes.append(UInt8(ascii: "["))
            for (index, value) in values.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                value.write(into: &bytes, exactNumbers: exactNumbers)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let fields):
            bytes.append(UInt8(ascii: "{"))
            let keys = fields.keys.sorted(by: ByteOrder.precedes)
            for (index, key) in keys.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                Self.writeString(key, into: &bytes)
                bytes.append(UInt8(ascii: ":"))
                fields[key]?.write(into: &bytes, exactNumbers: exactNumbers)
            }
            bytes.append(UInt8(ascii: "}"))
        }
    }

    /// Appends the text `JSONEncoder` writes with `[.prettyPrinted, .sortedKeys,
    /// .withoutEscapingSlashes]`, for a value that starts `indent` spaces in.
    ///
    /// Written directly so that a report of many findings is written one finding at a time,
    /// without the encoder's tree of the whole report (a test compares the bytes on random documents).
    func writePretty(into bytes: inout [UInt8], indent: Int) {
        switch self {
        case .array(let values):
            Self.writePrettyArray(values, into: &bytes, indent: indent) { $0 }
        case .object(let fields):
            bytes.append(UInt8(ascii: "{"))
            bytes.append(0x0A)
            let keys = fields.keys.sorted(by: ByteOrder.precedes)
            for (index, key) in keys.enumerated() {
                if index > 0 { bytes.append(contentsOf: [UInt8(ascii: ","), 0x0A]) }
                Self.writePrettyKey(key, into: &bytes, indent: indent + 2)
                fields[key]?.writePretty(into: &bytes, indent: indent + 2)
            }
            Self.closePretty(UInt8(ascii: "}"), into: &bytes, indent: indent)
        default:
            write(into: &bytes, exactNumbers: false)
        }
    }

    /// Appends `elements` as a pretty array that starts `indent` spaces in, each made a value only
    /// as it is written (report.json's findings, one at a time).
    static func writePrettyArray<Element>(
        _ elements: [Element],
        into bytes: inout [UInt8],
        indent: Int,
        value: (Element) -> JSONValue
    ) {
        bytes.append(contentsOf: [UInt8(ascii: "["), 0x0A])
        for (index, element) in elements.enumerated() {
            if index > 0 { bytes.append(contentsOf: [UInt8(ascii: ","), 0x0A]) }
            bytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: indent + 2))
            value(element).writePretty(into: &bytes, indent: indent + 2)
        }
        closePretty(UInt8(ascii: "]"), into: &bytes, indent: indent)
    }

    /// Appends `indent` spaces, the key and the encoder's `" : "`.
    static func writePrettyKey(_ key: String, into bytes: inout [UInt8], indent: Int) {
        bytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: indent))
        writeString(key, into: &bytes)
        bytes.append(contentsOf: " : ".utf8)
    }

    /// Ends a pretty array or object: a new line, `indent` spaces and `bracket` (an empty one
    /// gets the encoder's empty line, `[\n\n]`).
    static func closePretty(_ bracket: UInt8, into bytes: inout [UInt8], indent: Int) {
        bytes.append(0x0A)
        bytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: indent))
        bytes.append(bracket)
    }

    private static func writeNumber(_ value: Double, into bytes: inout [UInt8], exact: Bool) {
        guard value.isFinite else {
            bytes.append(contentsOf: "null".utf8)
            return
        }
        var text = value.description
        if !exact, text.hasSuffix(".0") { text.removeLast(2) }
        bytes.append(contentsOf: text.utf8)
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    static func writeString(_ text: String, into bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        // Most strings need no escape: copied whole, not byte by byte (a fifth of a run's JSON writing).
        let plain = text.utf8.withContiguousStorageIfAvailable { stored -> Bool in
            guard !stored.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") })
            else { return false }
            bytes.append(contentsOf: stored)
            return true
        }
        if plain == true {
            bytes.append(UInt8(ascii: "\""))
            return
        }
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x0A: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x08: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x0C: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case 0..<0x20:
                bytes.append(contentsOf: "\\u00".utf8)
                bytes.append(hexDigits[Int(byte >> 4)])
                bytes.append(hexDigits[Int(byte & 0x0F)])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}

extension JSONValue: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
}
