import Crypto
import Foundation

/// Crezco's delivery signature: ECDSA P-256 with SHA-256 over the raw body bytes.
///
/// `Crezco-Signature` is the standard, padded base64 of the DER-encoded signature; the public key
/// (SPKI PEM) is the one Crezco publishes for `Crezco-Public-Key-Id`.
public enum CrezcoECDSA {
    /// Keys parsed, by their PEM text.
    ///
    /// Every line of a capture names one of a few keys, and parsing the PEM for each took about a
    /// sixth of the time of verifying its signature. Emptied when it holds ``parsedLimit`` keys,
    /// so a capture naming many keys cannot grow it.
    private static let parsed = ParsedKeys()
    static let parsedLimit = 64

    /// The public key of a PEM text, or nil when it is not a P-256 SPKI key.
    public static func publicKey(pem: String) -> P256.Signing.PublicKey? {
        if let key = parsed.key(pem) { return key }
        guard let key = try? P256.Signing.PublicKey(pemRepresentation: pem) else { return nil }
        parsed.keep(key, pem: pem)
        return key
    }

    /// Whether `signature` (base64 of DER) is a valid signature of `body` under `key`.
    public static func verify(body: Data, signature: String, key: P256.Signing.PublicKey) -> Bool {
        guard let der = Data(base64Encoded: signature.trimmingCharacters(in: .whitespaces)),
            let parsed = try? P256.Signing.ECDSASignature(derRepresentation: der)
        else { return false }
        return key.isValidSignature(parsed, for: body)
    }
}

/// The keys ``CrezcoECDSA`` parsed, by PEM text, shared by the verifying threads.
private final class ParsedKeys: @unchecked Sendable {
    private let lock = NSLock()
    private var keys: [String: P256.Signing.PublicKey] = [:]

    func key(_ pem: String) -> P256.Signing.PublicKey? {
        lock.lock()
        defer { lock.unlock() }
        return keys[pem]
    }

    func keep(_ key: P256.Signing.PublicKey, pem: String) {
        lock.lock()
        defer { lock.unlock() }
        if keys.count >= CrezcoECDSA.parsedLimit { keys.removeAll() }
        keys[pem] = key
    }
}
