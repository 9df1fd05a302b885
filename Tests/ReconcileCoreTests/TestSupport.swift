import Foundation

@testable import ReconcileCore

/// Runs `body` with a fresh temporary folder, removed afterwards.
func withTemporaryDirectory<T>(_ body: (URL) async throws -> T) async throws -> T {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("reconcile-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    return try await body(folder)
}

enum Fixture {
    static let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    static let otherSecret = "whsec_" + Data("another secret of twenty-four".utf8).base64EncodedString()

    static func credicorpConfig(secrets: [String] = [secret], baseURL: String = "http://127.0.0.1:9") -> ProviderConfig
    {
        ProviderConfig(
            name: "credicorp",
            kind: .credicorp,
            baseURL: baseURL,
            apiKey: Secret(variable: "KEY", value: "sk_test"),
            signingSecrets: secrets.enumerated().map { Secret(variable: "S\($0.offset)", value: $0.element) },
            endpointID: nil,
            publicKey: nil,
            webhookURL: nil,
            retryWindow: 72 * 3600,
            rateLimit: 1000
        )
    }

    static func crezcoConfig(baseURL: String, apiKey: String) -> ProviderConfig {
        ProviderConfig(
            name: "crezco",
            kind: .crezco,
            baseURL: baseURL,
            apiKey: Secret(variable: "CREZCO_KEY", value: apiKey),
            signingSecrets: [],
            endpointID: nil,
            publicKey: nil,
            webhookURL: nil,
            retryWindow: 48 * 3600,
            rateLimit: 1000
        )
    }

    static func credifyConfig(baseURL: String, apiKey: String, publicKey: String, webhookURL: String) -> ProviderConfig
    {
        ProviderConfig(
            name: "credify",
            kind: .credify,
            baseURL: baseURL,
            apiKey: Secret(variable: "CREDIFY_KEY", value: apiKey),
            signingSecrets: [],
            endpointID: nil,
            publicKey: Secret(variable: "CREDIFY_PUBLIC_KEY", value: publicKey),
            webhookURL: webhookURL,
            retryWindow: 72 * 3600,
            rateLimit: 1000
        )
    }

    static func job(store: String, providers: [ProviderConfig]) -> JobConfig {
        JobConfig(
            file: "test.yml",
            name: "test",
            store: store,
            lookback: 8 * 86_400,
            reports: store + ".reports",
            metrics: nil,
            repair: true,
            retention: 90 * 86_400,
            providers: providers
        )
    }

    /// A Credicorp payment event envelope as raw JSON text.
    static func paymentEvent(id: String, payment: String, status: String, created: String, amount: Int = 125_000)
        -> String
    {
        """
        {"id":"\(id)","type":"payment.\(status)","created":"\(created)","livemode":false,"api_version":"2026-07-01",\
        "data":{"object":{"id":"\(payment)","object":"payment","amount":\(amount),"currency":"GBP","status":"\(status)",\
        "decision":"dec_1","created":"2026-07-01T00:00:00Z","updated":"\(created)"}}}
        """
    }

    /// One signed capture line for `body`, received at `receivedAt`, signed `skew` seconds later.
    static func captureLine(
        id: String,
        body: String,
        receivedAt: String,
        secrets: [String] = [secret],
        skew: Int = 0,
        tamper: Bool = false
    ) -> String {
        let received = RFC3339.parse(receivedAt) ?? Date()
        let timestamp = String(Int(received.timeIntervalSince1970) + skew)
        let signatures = secrets.compactMap {
            StandardWebhooksV1.sign(id: id, timestamp: timestamp, body: Data(body.utf8), secret: $0)
        }.joined(separator: " ")
        let sent = tamper ? body.replacingOccurrences(of: "125000", with: "925000") : body
        let line: JSONValue = .object([
            "provider": "credicorp", "received_at": .string(receivedAt), "method": "POST",
            "url": "https://hooks.example.com/credicorp",
            "headers": .object([
                "Webhook-Id": .string(id), "webhook-timestamp": .string(timestamp),
                "webhook-signature": .string(signatures),
            ]),
            "body": .string(sent),
        ])
        return line.canonicalText
    }
}
