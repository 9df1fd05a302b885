import Crypto
import Foundation

/// Signs deliveries the way Crezco does: ECDSA P-256 with SHA-256 over the raw body bytes.
public enum CrezcoSigner {
    /// The `Crezco-Signature` header: standard padded base64 of the DER signature of `body` under `key`.
    ///
    /// ECDSA signatures are randomized: signing the same body twice gives different, equally valid values.
    public static func sign(body: String, key: P256.Signing.PrivateKey) -> String {
        do {
            return try key.signature(for: Data(body.utf8)).derRepresentation.base64EncodedString()
        } catch {
            // Signing with a valid key does not fail; an empty signature is rejected as bad.
            return ""
        }
    }

    /// A P-256 signing key drawn from `rng`: 32 random bytes, drawn again while they are not a valid scalar.
    static func key(from rng: inout SplitMix64) -> P256.Signing.PrivateKey {
        while true {
            if let key = try? P256.Signing.PrivateKey(rawRepresentation: rng.bytes(32)) { return key }
        }
    }
}
