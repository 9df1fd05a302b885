import Crypto
import Foundation

/// One line of a capture file: a webhook delivery exactly as our receiver got it.
public struct CapturedDelivery: Sendable {
    /// The job's provider entry the delivery is for.
    public var provider: String
    public var receivedAt: Date
    public var method: String
    public var url: String
    /// Header names lower-cased (names are case-insensitive); values as received.
    public var headers: [String: String]
    /// The raw body bytes.
    public var body: Data

    /// The value of header `name`, matched case-insensitively.
    public func header(_ name: String) -> String? { headers[name.lowercased()] }
}

/// Why a capture line could not even be read as a delivery.
public struct MalformedCapture: Error, Sendable {
    /// What was wrong, naming the field (never a secret: capture lines hold none).
    public var detail: String
    /// The provider named by the line, when it could be read.
    public var provider: String?
    /// The time of receipt, when it could be read.
    public var receivedAt: Date?
}

extension CapturedDelivery {
    /// The provider a broken line names at its start (`{"provider":"crezco",…`), so that its
    /// `invalid_signature` finding lands with that provider; nil when the start is not that shape.
    static func salvageProvider(_ line: Data) -> String? {
        let head = String(decoding: line.prefix(200), as: UTF8.self).filter { !$0.isWhitespace }
        let opening = "{\"provider\":\""
        guard head.hasPrefix(opening) else { return nil }
        let name = head.dropFirst(opening.count).prefix { $0 != "\"" && $0 != "\\" }
        guard !name.isEmpty, name.count < 64, head.dropFirst(opening.count + name.count).hasPrefix("\"") else {
            return nil
        }
        return String(name)
    }

    /// Parses one NDJSON capture line, or throws `MalformedCapture` naming what was wrong.
    ///
    /// The line is read with the strict parser (`JSONValue.parsing`): duplicate keys, invalid
    /// UTF-8, raw control characters and nesting deeper than 128 are malformed. Every known field
    /// must be a string (or null, meaning absent) and contain no NUL; `headers` must map names to
    /// strings, and two names that differ only in case are refused as ambiguous.
    public static func parse(line: Data) throws(MalformedCapture) -> CapturedDelivery {
        let value: JSONValue
        do throws(JSONParseError) {
            value = try JSONValue.parsing(line)
        } catch {
            throw MalformedCapture(detail: "not JSON: \(error)", provider: salvageProvider(line), receivedAt: nil)
        }
        guard let fields = value.objectValue else {
            throw MalformedCapture(detail: "the line is not a JSON object", provider: nil, receivedAt: nil)
        }
        let provider = try string(fields, "provider", provider: nil)
        guard let provider, !provider.isEmpty else {
            throw MalformedCapture(detail: "missing provider", provider: nil, receivedAt: nil)
        }
        guard let receivedText = try string(fields, "received_at", provider: provider) else {
            throw MalformedCapture(detail: "missing received_at", provider: provider, receivedAt: nil)
        }
        guard let receivedAt = RFC3339.parse(receivedText) else {
            throw MalformedCapture(
                detail: "received_at '\(printable(receivedText, 40))' is not an RFC 3339 time",
                provider: provider,
                receivedAt: nil
            )
        }
        let fail = { (detail: String) in MalformedCapture(detail: detail, provider: provider, receivedAt: receivedAt) }
        let body: Data
        if let text = try string(fields, "body", provider: provider, receivedAt: receivedAt) {
            body = Data(text.utf8)
        } else if let encoded = try string(fields, "body_base64", provider: provider, receivedAt: receivedAt) {
            guard let bytes = Data(base64Encoded: encoded) else { throw fail("body_base64 is not base64") }
            body = bytes
        } else {
            throw fail("neither body nor body_base64")
        }
        let method = try string(fields, "method", provider: provider, receivedAt: receivedAt)
        let url = try string(fields, "url", provider: provider, receivedAt: receivedAt)
        return CapturedDelivery(
            provider: provider,
            receivedAt: receivedAt,
            method: method ?? "POST",
            url: url ?? "",
            headers: try headers(fields["headers"], fail: fail),
            body: body
        )
    }

    /// The string field `name`: nil when absent or null; malformed when another type or holding NUL.
    static func string(
        _ fields: [String: JSONValue],
        _ name: String,
        provider: String?,
        receivedAt: Date? = nil
    ) throws(MalformedCapture) -> String? {
        switch fields[name] {
        case nil, .null?: return nil
        case .string(let value)?:
            guard !value.utf8.contains(0) else {
                throw MalformedCapture(
                    detail: "\(name) contains a NUL character",
                    provider: provider,
                    receivedAt: receivedAt
                )
            }
            return value
        default:
            throw MalformedCapture(detail: "\(name) must be a string", provider: provider, receivedAt: receivedAt)
        }
    }

    /// Header names lower-cased; refuses non-string values, NUL and names that differ only in case.
    static func headers(
        _ value: JSONValue?,
        fail: (String) -> MalformedCapture
    ) throws(MalformedCapture) -> [String: String] {
        let fields: [String: JSONValue]
        switch value {
        case nil, .null?: return [:]
        case .object(let object)?: fields = object
        default: throw fail("headers must be an object mapping names to strings")
        }
        var headers: [String: String] = [:]
        // Sorted, so that which of two clashing names is quoted does not depend on dictionary order.
        for name in fields.keys.sorted() {
            guard case .string(let text)? = fields[name] else {
                throw fail("header '\(printable(name, 60))' must be a string")
            }
            guard !name.utf8.contains(0), !text.utf8.contains(0) else {
                throw fail("header '\(printable(name, 60))' contains a NUL character")
            }
            let lowered = name.lowercased()
            guard headers.updateValue(text, forKey: lowered) == nil else {
                throw fail("ambiguous header '\(printable(lowered, 60))': given more than once with different case")
            }
        }
        return headers
    }

    /// At most `limit` characters of `text` for a message, control characters shown as `?`.
    ///
    /// Names and values quoted in a detail come from the line; an escaped ESC or newline must not
    /// reach a terminal or split the printed `rejected …` line.
    static func printable(_ text: String, _ limit: Int) -> String {
        String(
            String.UnicodeScalarView(
                text.prefix(limit).unicodeScalars.map { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) ? "?" : $0 }
            )
        )
    }

    /// A stable identity of a capture line: the SHA-256 of its bytes, so re-ingesting a file adds nothing.
    public static func fingerprint(of line: Data) -> String {
        Hex.lowercase(SHA256.hash(data: line))
    }
}
