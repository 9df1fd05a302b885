import Crypto
import Foundation

/// Signs deliveries the way Credicorp does: Standard Webhooks v1 (HMAC-SHA256).
public enum StandardWebhooksSigner {
    /// The `v1,<base64>` signature of `id.timestamp.body` under `secret`.
    ///
    /// The key is the base64-decoded part of `secret` after `whsec_`. A secret whose remainder is
    /// not valid base64 is used as its UTF-8 bytes, so a deliberately wrong secret still signs.
    public static func sign(id: String, timestamp: Int64, body: String, secret: String) -> String {
        let encoded = secret.hasPrefix("whsec_") ? String(secret.dropFirst(6)) : secret
        let key = Data(base64Encoded: encoded) ?? Data(encoded.utf8)
        let content = Data("\(id).\(timestamp).\(body)".utf8)
        let mac = HMAC<SHA256>.authenticationCode(for: content, using: SymmetricKey(data: key))
        return "v1," + Data(mac).base64EncodedString()
    }

    /// The `webhook-signature` header: one `v1,` signature per secret, space-separated.
    public static func header(id: String, timestamp: Int64, body: String, secrets: [String]) -> String {
        secrets.map { sign(id: id, timestamp: timestamp, body: body, secret: $0) }.joined(separator: " ")
    }
}
