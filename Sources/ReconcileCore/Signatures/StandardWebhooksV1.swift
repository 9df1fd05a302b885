import Crypto
import Foundation

/// Standard Webhooks v1 signatures (HMAC-SHA256), as Credicorp signs its deliveries.
///
/// The signed content is `<webhook-id>.<webhook-timestamp>.<raw body>`; the key is the
/// base64-decoded part of a `whsec_` secret. A delivery may carry several space-separated
/// `v1,<base64>` signatures (secret rotation); it verifies when any of them matches any secret.
public enum StandardWebhooksV1 {
    /// The HMAC key of a `whsec_…` secret, or nil when the secret is not base64 after the prefix.
    public static func key(fromSecret secret: String) -> SymmetricKey? {
        let encoded = secret.hasPrefix("whsec_") ? String(secret.dropFirst(6)) : secret
        guard let bytes = Data(base64Encoded: encoded), !bytes.isEmpty else { return nil }
        return SymmetricKey(data: bytes)
    }

    /// The `v1,<base64>` signature of a message under `secret`.
    public static func sign(id: String, timestamp: String, body: Data, secret: String) -> String? {
        guard let key = key(fromSecret: secret) else { return nil }
        let mac = HMAC<SHA256>.authenticationCode(
            for: signedContent(id: id, timestamp: timestamp, body: body),
            using: key
        )
        return "v1," + Data(mac).base64EncodedString()
    }

    /// Whether any `v1` signature of `header` authenticates the message under any of `keys`.
    ///
    /// The comparison is constant-time (swift-crypto's `isValidAuthenticationCode`).
    public static func verify(id: String, timestamp: String, body: Data, header: String, keys: [SymmetricKey])
        -> Bool
    {
        let content = signedContent(id: id, timestamp: timestamp, body: body)
        let candidates = header.split(separator: " ").compactMap { part -> Data? in
            let pieces = part.split(separator: ",", maxSplits: 1)
            guard pieces.count == 2, pieces[0] == "v1" else { return nil }
            return Data(base64Encoded: String(pieces[1]))
        }
        for signature in candidates where signature.count == SHA256.byteCount {
            for key in keys where HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: content, using: key)
            {
                return true
            }
        }
        return false
    }

    static func signedContent(id: String, timestamp: String, body: Data) -> Data {
        var content = Data("\(id).\(timestamp).".utf8)
        content.append(body)
        return content
    }
}
