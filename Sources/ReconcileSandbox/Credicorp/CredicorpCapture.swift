import Foundation

/// Builds capture lines (the NDJSON `ingest` format of job.md) for Credicorp deliveries.
public enum CredicorpCapture {
    /// The capture line of one delivery of `event`, signed with `secrets` as Credicorp would.
    ///
    /// - Parameters:
    ///   - event: The event delivered; its envelope is the signed body.
    ///   - receivedAt: The `received_at`, written with milliseconds.
    ///   - secrets: One `v1,` signature per secret; empty omits `webhook-signature`.
    ///   - provider: The capture line's `provider`.
    ///   - url: The endpoint URL the delivery was posted to.
    ///   - timestamp: The `webhook-timestamp` (Unix seconds); defaults to `receivedAt` rounded down.
    ///   - sentBody: A body to send instead of the signed one (a tampered delivery).
    /// - Returns: One NDJSON line without a trailing newline.
    public static func line(
        event: CredicorpEvent,
        receivedAt: Date,
        secrets: [String],
        provider: String = "credicorp",
        url: String = "https://hooks.example.com/credicorp",
        timestamp: Int64? = nil,
        sentBody: String? = nil
    ) -> String {
        let signedAt = timestamp ?? Int64(receivedAt.timeIntervalSince1970.rounded(.down))
        var headers = [
            JSONField("webhook-id", .string(event.id)),
            JSONField("webhook-timestamp", .string(String(signedAt))),
        ]
        if !secrets.isEmpty {
            let signature = StandardWebhooksSigner.header(
                id: event.id,
                timestamp: signedAt,
                body: event.body,
                secrets: secrets
            )
            headers.append(JSONField("webhook-signature", .string(signature)))
        }
        headers.append(JSONField("content-type", .string("application/json")))
        return line(
            provider: provider,
            url: url,
            receivedAt: receivedAt,
            headers: headers,
            body: sentBody ?? event.body
        )
    }

    /// A capture line from its parts, headers in the given order.
    public static func line(
        provider: String,
        url: String,
        receivedAt: Date,
        headers: [JSONField],
        body: String
    ) -> String {
        JSONValue.object([
            JSONField("provider", .string(provider)),
            JSONField("received_at", .string(RFC3339.format(receivedAt, milliseconds: true))),
            JSONField("method", .string("POST")),
            JSONField("url", .string(url)),
            JSONField("headers", .object(headers)),
            JSONField("body", .string(body)),
        ]).serialized
    }
}
