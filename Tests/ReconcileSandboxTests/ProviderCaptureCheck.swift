import Crypto
import Foundation

@testable import ReconcileSandbox

/// Independent Crezco and Credify receivers for checking generated capture lines.
enum ProviderCaptureCheck {
    struct Line {
        var headers: [String: String]
        var body: String
        var url: String
        var receivedAt: Date

        func header(_ name: String) -> String? {
            headers.first { $0.key.lowercased() == name.lowercased() }?.value
        }
    }

    static func parse(_ text: String) -> Line? {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any],
            let headers = object["headers"] as? [String: String],
            let body = object["body"] as? String,
            let url = object["url"] as? String,
            let received = (object["received_at"] as? String).flatMap(RFC3339.parse)
        else { return nil }
        return Line(headers: headers, body: body, url: url, receivedAt: received)
    }

    /// `valid`, or the rejection reason a correct Crezco receiver gives; `publicKeys` maps key id to PEM.
    static func crezcoVerdict(of text: String, publicKeys: [String: String]) -> String {
        guard let line = parse(text) else { return "malformed" }
        guard let signature = line.header("crezco-signature") else { return "missing_signature" }
        guard let keyID = line.header("crezco-public-key-id"), let pem = publicKeys[keyID],
            let key = try? P256.Signing.PublicKey(pemRepresentation: pem)
        else { return "unknown_key_id" }
        guard let date = line.header("date").flatMap(HTTPDate.parse),
            abs(date.timeIntervalSince(line.receivedAt)) <= 300
        else { return "stale_timestamp" }
        guard let der = Data(base64Encoded: signature),
            let ecdsa = try? P256.Signing.ECDSASignature(derRepresentation: der),
            key.isValidSignature(ecdsa, for: Data(line.body.utf8))
        else { return "bad_signature" }
        return "valid"
    }

    /// `valid`, or the rejection reason a correct Credify receiver gives for the registered `url`.
    static func credifyVerdict(of text: String, publicKeyBase64: String, url: String) -> String {
        guard let line = parse(text), let eventID = line.header("x-event-id"),
            let timestamp = line.header("x-event-timestamp")
        else { return "malformed" }
        guard let signature = line.header("signature") else { return "missing_signature" }
        let hash = Data(SHA256.hash(data: Data(line.body.utf8))).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        let message = Data("POST\n\(url)\n\(eventID)\n\(timestamp)\n\(hash)".utf8)
        var padded = signature.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        padded += String(repeating: "=", count: (4 - padded.count % 4) % 4)
        guard line.header("x-signature-algorithm") == "EdDSA",
            let raw = Data(base64Encoded: publicKeyBase64),
            let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw),
            let bytes = Data(base64Encoded: padded),
            key.isValidSignature(bytes, for: message)
        else { return "bad_signature" }
        return "valid"
    }

    /// `text` without the value of its `Crezco-Signature` header (ECDSA signatures are randomized).
    static func withoutCrezcoSignature(_ text: String) -> String {
        text.replacingOccurrences(
            of: #""Crezco-Signature":"[^"]*""#,
            with: #""Crezco-Signature":"…""#,
            options: .regularExpression
        )
    }
}
