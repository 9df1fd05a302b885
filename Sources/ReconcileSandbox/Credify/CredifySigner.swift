import Crypto
import Foundation

/// Signs deliveries the way Credify does: Ed25519 over `POST\n<url>\n<event id>\n<timestamp>\n<body hash>`.
public enum CredifySigner {
    /// `base64url-no-pad(sha256(body))`, the last line of the signing message.
    public static func bodyHash(_ body: String) -> String {
        Base64URL.encode(SHA256.hash(data: Data(body.utf8)))
    }

    /// The signing message for a `POST` of `body` to `url`.
    public static func message(url: String, eventID: String, timestamp: String, body: String) -> String {
        "POST\n\(url)\n\(eventID)\n\(timestamp)\n\(bodyHash(body))"
    }

    /// The `Signature` header: base64url (no padding) of the Ed25519 signature of the message.
    public static func sign(
        url: String,
        eventID: String,
        timestamp: String,
        body: String,
        key: Curve25519.Signing.PrivateKey
    ) -> String {
        let message = Data(message(url: url, eventID: eventID, timestamp: timestamp, body: body).utf8)
        do {
            return Base64URL.encode(try key.signature(for: message))
        } catch {
            // Ed25519 signing with a valid key does not fail; an empty signature is rejected as bad.
            return ""
        }
    }
}
