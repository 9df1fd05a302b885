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

    /// Base64url without padding.
    ///
    /// Both directions map bytes directly: Foundation's string search (`replacingOccurrences`) cost
    /// 34 µs a line in the ingest (docs/performance.md).
    static func base64URL(_ data: Data) -> String {
        let standard = data.base64EncodedData()
        var bytes: [UInt8] = []
        bytes.reserveCapacity(standard.count)
        for byte in standard {
            switch byte {
            case UInt8(ascii: "+"): bytes.append(UInt8(ascii: "-"))
            case UInt8(ascii: "/"): bytes.append(UInt8(ascii: "_"))
            case UInt8(ascii: "="): continue
            default: bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The bytes of base64url text, padded or not (standard base64 is read too); nil when not base64.
    static func decodeBase64URL(_ text: String) -> Data? {
        let isSpace = { (scalar: Unicode.Scalar?) in scalar.map(CharacterSet.whitespaces.contains) ?? false }
        // Trimming goes through Foundation only when there is something to trim.
        let trimmed =
            isSpace(text.unicodeScalars.first) || isSpace(text.unicodeScalars.last)
            ? text.trimmingCharacters(in: .whitespaces) : text
        var bytes: [UInt8] = []
        bytes.reserveCapacity(trimmed.utf8.count + 3)
        for byte in trimmed.utf8 {
            switch byte {
            case UInt8(ascii: "-"): bytes.append(UInt8(ascii: "+"))
            case UInt8(ascii: "_"): bytes.append(UInt8(ascii: "/"))
            default: bytes.append(byte)
            }
        }
        if !bytes.contains(UInt8(ascii: "=")), bytes.count % 4 != 1 {
            bytes += repeatElement(UInt8(ascii: "="), count: (4 - bytes.count % 4) % 4)
        }
        return Data(base64Encoded: Data(bytes))
    }
}
