import Crypto
import Foundation

/// Credify's delivery signature: Ed25519 over a message naming the request and the body's hash.
///
/// The message is `<verb>\n<webhook url>\n<event id>\n<timestamp>\n<base64url(sha256(body))>`, with
/// base64url the URL-safe alphabet without padding; `Signature` is the base64url (no padding) of
/// the 64-byte signature. The public key is 32 raw bytes.
public enum CredifyEd25519 {
    /// `base64url(sha256(body))` without padding.
    public static func bodyHash(_ body: Data) -> String {
        base64URL(Data(SHA256.hash(data: body)))
    }

    /// The signed message of one delivery.
    public static func message(verb: String, url: String, eventID: String, timestamp: String, body: Data) -> Data {
        Data("\(verb)\n\(url)\n\(eventID)\n\(timestamp)\n\(bodyHash(body))".utf8)
    }

    /// The public key of 32 raw bytes in standard base64, or nil.
    public static func publicKey(base64: String) -> Curve25519.Signing.PublicKey? {
        guard let raw = Data(base64Encoded: base64.trimmingCharacters(in: .whitespacesAndNewlines)), raw.count == 32
        else { return nil }
        return try? Curve25519.Signing.PublicKey(rawRepresentation: raw)
    }

    /// Whether `signature` (base64url, padding optional) signs `message` under `key`.
    public static func verify(message: Data, signature: String, key: Curve25519.Signing.PublicKey) -> Bool {
        guard let bytes = decodeBase64URL(signature), bytes.count == 64 else { return false }
        return key.isValidSignature(bytes, for: message)
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decodeBase64URL(_ text: String) -> Data? {
        var standard = text.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "-", with: "+")
            .replacingOccurrences(of: "_", with: "/")
        guard !standard.contains("="), standard.count % 4 != 1 else { return Data(base64Encoded: standard) }
        standard += String(repeating: "=", count: (4 - standard.count % 4) % 4)
        return Data(base64Encoded: standard)
    }
}
