import Crypto
import Foundation

/// Crezco's delivery signature: ECDSA P-256 with SHA-256 over the raw body bytes.
///
/// `Crezco-Signature` is the standard, padded base64 of the DER-encoded signature; the public key
/// (SPKI PEM) is the one Crezco publishes for `Crezco-Public-Key-Id`.
public enum CrezcoECDSA {
    /// The public key of a PEM text, or nil when it is not a P-256 SPKI key.
    public static func publicKey(pem: String) -> P256.Signing.PublicKey? {
        try? P256.Signing.PublicKey(pemRepresentation: pem)
    }

    /// Whether `signature` (base64 of DER) is a valid signature of `body` under `key`.
    public static func verify(body: Data, signature: String, key: P256.Signing.PublicKey) -> Bool {
        guard let der = Data(base64Encoded: signature.trimmingCharacters(in: .whitespaces)),
            let parsed = try? P256.Signing.ECDSASignature(derRepresentation: der)
        else { return false }
        return key.isValidSignature(parsed, for: body)
    }
}
