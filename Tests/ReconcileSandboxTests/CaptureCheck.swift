import Crypto
import Foundation

@testable import ReconcileSandbox

/// An independent Standard Webhooks receiver for checking generated capture lines.
enum CaptureCheck {
    struct Line {
        var id: String
        var timestamp: Int64
        var signature: String
        var body: String
        var receivedAt: Date
    }

    struct Unparsable: Error {}

    static func parse(_ text: String) throws -> Line {
        guard let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
            let headers = object["headers"] as? [String: String],
            let body = object["body"] as? String,
            let received = (object["received_at"] as? String).flatMap(RFC3339.parse),
            let id = headers["webhook-id"],
            let timestamp = headers["webhook-timestamp"].flatMap({ Int64($0) })
        else { throw Unparsable() }
        return Line(
            id: id,
            timestamp: timestamp,
            signature: headers["webhook-signature"] ?? "",
            body: body,
            receivedAt: received
        )
    }

    /// `valid`, or the rejection reason a correct receiver gives.
    static func verdict(of text: String, secrets: [String]) -> String {
        guard let line = try? parse(text) else { return "malformed" }
        guard !line.signature.isEmpty else { return "missing_signature" }
        if abs(Double(line.timestamp) - line.receivedAt.timeIntervalSince1970) > 300 { return "stale_timestamp" }
        let content = Data("\(line.id).\(line.timestamp).\(line.body)".utf8)
        for candidate in line.signature.split(separator: " ") where candidate.hasPrefix("v1,") {
            guard let given = Data(base64Encoded: String(candidate.dropFirst(3))) else { continue }
            for secret in secrets {
                guard let key = Data(base64Encoded: String(secret.dropFirst(6))) else { continue }
                if HMAC<SHA256>.isValidAuthenticationCode(
                    given,
                    authenticating: content,
                    using: SymmetricKey(data: key)
                ) {
                    return "valid"
                }
            }
        }
        return "bad_signature"
    }
}
