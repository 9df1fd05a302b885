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

    /// The most signatures of one header that are considered; a header listing more is refused.
    public static let maxSignatures = 16

    /// How many space-separated entries `header` lists (of any version).
    public static func signatureCount(_ header: String) -> Int {
        header.utf8.split(separator: UInt8(ascii: " ")).count
    }

    /// Whether any `v1` signature of `header` authenticates the message under any of `keys`.
    ///
    /// The MAC is computed once per key, however many signatures the header lists; each listed
    /// signature is then compared with each MAC in constant time. A header listing more than
    /// ``maxSignatures`` entries never verifies (it would let one line buy many comparisons).
    public static func verify(id: String, timestamp: String, body: Data, header: String, keys: [SymmetricKey])
        -> Bool
    {
        let parts = header.utf8.split(separator: UInt8(ascii: " "))
        guard parts.count <= maxSignatures else { return false }
        let candidates = parts.compactMap { part -> Data? in
            guard part.starts(with: "v1,".utf8) else { return nil }
            return Data(base64Encoded: String(decoding: part.dropFirst(3), as: UTF8.self))
        }.filter { $0.count == SHA256.byteCount }
        guard !candidates.isEmpty else { return false }
        var matched = false
        for key in keys {
            let mac = Data(authenticationCode(id: id, timestamp: timestamp, body: body, key: key))
            for signature in candidates where constantTimeEqual(signature, mac) { matched = true }
        }
        return matched
    }

    /// The HMAC-SHA256 of `<id>.<timestamp>.<body>`, without copying the body.
    static func authenticationCode(id: String, timestamp: String, body: Data, key: SymmetricKey)
        -> HMAC<SHA256>.MAC
    {
        var hmac = HMAC<SHA256>(key: key)
        hmac.update(data: Data("\(id).\(timestamp).".utf8))
        hmac.update(data: body)
        return hmac.finalize()
    }

    /// Whether two byte strings of equal length are equal, in time that depends only on the length.
    static func constantTimeEqual(_ left: Data, _ right: Data) -> Bool {
        guard left.count == right.count else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(left, right) { difference |= a ^ b }
        return difference == 0
    }

    static func signedContent(id: String, timestamp: String, body: Data) -> Data {
        var content = Data("\(id).\(timestamp).".utf8)
        content.append(body)
        return content
    }
}
