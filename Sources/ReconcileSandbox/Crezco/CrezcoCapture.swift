import Crypto
import Foundation

/// Builds capture lines (the NDJSON `ingest` format of job.md) for Crezco deliveries.
public enum CrezcoCapture {
    /// The capture line of one delivery of `events` (one body, possibly a batch), signed as Crezco would.
    ///
    /// - Parameters:
    ///   - events: The events of the body `{"events":[…]}`, in this order.
    ///   - receivedAt: The `received_at`, written with milliseconds.
    ///   - key: The signing key; `nil` omits `Crezco-Signature`.
    ///   - keyID: The `Crezco-Public-Key-Id`.
    ///   - attemptedAt: The `Date` header (the delivery attempt), whole seconds.
    ///   - provider: The capture line's `provider`.
    ///   - url: The callback URL the delivery was posted to.
    ///   - sentBody: A body to send instead of the signed one (a tampered delivery).
    /// - Returns: One NDJSON line without a trailing newline.
    public static func line(
        events: [CrezcoEvent],
        receivedAt: Date,
        key: P256.Signing.PrivateKey?,
        keyID: String,
        attemptedAt: Date,
        provider: String = "crezco",
        url: String = "https://hooks.example.com/crezco",
        sentBody: String? = nil
    ) -> String {
        let body = CrezcoEvent.body(events)
        var headers = [JSONField("Content-Type", .string("application/json"))]
        if let key {
            headers.append(JSONField("Crezco-Signature", .string(CrezcoSigner.sign(body: body, key: key))))
        }
        headers.append(JSONField("Crezco-Public-Key-Id", .string(keyID)))
        headers.append(JSONField("Date", .string(HTTPDate.format(attemptedAt))))
        return CredicorpCapture.line(
            provider: provider,
            url: url,
            receivedAt: receivedAt,
            headers: headers,
            body: sentBody ?? body
        )
    }
}
