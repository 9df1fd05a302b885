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
    private struct Line: Decodable {
        var provider: String?
        var received_at: String?
        var method: String?
        var url: String?
        var headers: [String: String]?
        var body: String?
        var body_base64: String?
    }

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
    public static func parse(line: Data) throws(MalformedCapture) -> CapturedDelivery {
        let decoded: Line
        do {
            decoded = try JSONDecoder().decode(Line.self, from: line)
        } catch {
            let partial = JSONValue.parse(line)
            let detail =
                partial?.objectValue == nil
                ? "the line is not a JSON object" : "a field has the wrong type (headers must map names to strings)"
            let provider = partial?["provider"]?.stringValue ?? salvageProvider(line)
            throw MalformedCapture(detail: detail, provider: provider, receivedAt: nil)
        }
        guard let provider = decoded.provider, !provider.isEmpty else {
            throw MalformedCapture(detail: "missing provider", provider: nil, receivedAt: nil)
        }
        guard let receivedText = decoded.received_at else {
            throw MalformedCapture(detail: "missing received_at", provider: provider, receivedAt: nil)
        }
        guard let receivedAt = RFC3339.parse(receivedText) else {
            throw MalformedCapture(
                detail: "received_at '\(receivedText.prefix(40))' is not an RFC 3339 time",
                provider: provider,
                receivedAt: nil
            )
        }
        let body: Data
        if let text = decoded.body {
            body = Data(text.utf8)
        } else if let encoded = decoded.body_base64 {
            guard let bytes = Data(base64Encoded: encoded) else {
                throw MalformedCapture(detail: "body_base64 is not base64", provider: provider, receivedAt: receivedAt)
            }
            body = bytes
        } else {
            throw MalformedCapture(detail: "neither body nor body_base64", provider: provider, receivedAt: receivedAt)
        }
        var headers: [String: String] = [:]
        for (name, value) in decoded.headers ?? [:] { headers[name.lowercased()] = value }
        return CapturedDelivery(
            provider: provider,
            receivedAt: receivedAt,
            method: decoded.method ?? "POST",
            url: decoded.url ?? "",
            headers: headers,
            body: body
        )
    }

    /// A stable identity of a capture line: the SHA-256 of its bytes, so re-ingesting a file adds nothing.
    public static func fingerprint(of line: Data) -> String {
        SHA256.hash(data: line).map { String(format: "%02x", $0) }.joined()
    }
}
