import Crypto
import Foundation

/// Builds capture lines (the NDJSON `ingest` format of job.md) for Credify deliveries.
public enum CredifyCapture {
    /// The capture line of one delivery of `event`, signed as Credify would.
    ///
    /// - Parameters:
    ///   - event: The event delivered; its body is signed.
    ///   - receivedAt: The `received_at`, written with milliseconds.
    ///   - key: The signing key; `nil` omits `Signature`.
    ///   - url: The webhook URL the delivery was posted to (the capture line's `url`).
    ///   - signedURL: The URL in the signing message; `url` unless a wrong URL is wanted.
    ///   - provider: The capture line's `provider`.
    ///   - sentBody: A body to send instead of the signed one (a tampered delivery).
    /// - Returns: One NDJSON line without a trailing newline.
    public static func line(
        event: CredifyEvent,
        receivedAt: Date,
        key: Curve25519.Signing.PrivateKey?,
        url: String,
        signedURL: String? = nil,
        provider: String = "credify",
        sentBody: String? = nil
    ) -> String {
        let timestamp = RFC3339.format(event.timestamp)
        var headers = [
            JSONField("Content-Type", .string("application/json")),
            JSONField("X-Event-Id", .string(event.id)),
            JSONField("X-Event-Timestamp", .string(timestamp)),
            JSONField("X-Signature-Algorithm", .string("EdDSA")),
        ]
        if let key {
            let signature = CredifySigner.sign(
                url: signedURL ?? url,
                eventID: event.id,
                timestamp: timestamp,
                body: event.body,
                key: key
            )
            headers.append(JSONField("Signature", .string(signature)))
        }
        return CredicorpCapture.line(
            provider: provider,
            url: url,
            receivedAt: receivedAt,
            headers: headers,
            body: sentBody ?? event.body
        )
    }
}
