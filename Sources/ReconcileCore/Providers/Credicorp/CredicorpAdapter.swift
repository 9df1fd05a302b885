import Crypto
import Foundation
import Logging

/// Credicorp: Standard Webhooks v1 deliveries of one event each, and the `/public/v1` read API.
public struct CredicorpAdapter: ProviderAdapter {
    public let config: ProviderConfig
    let keys: [SymmetricKey]
    let httpConfiguration: HTTPClient.Configuration

    /// How far a signature timestamp may be from the time of receipt.
    static let tolerance: TimeInterval = 300

    public init(config: ProviderConfig, httpConfiguration: HTTPClient.Configuration = .init()) {
        self.config = config
        self.keys = config.signingSecrets.compactMap { StandardWebhooksV1.key(fromSecret: $0.value) }
        self.httpConfiguration = httpConfiguration
    }

    public var hasEventLog: Bool { true }
    public var hasEventByIDRoute: Bool { true }
    public var eventLogRetention: TimeInterval { 30 * 86_400 }
    public var resourceTypes: [String] { CredicorpEventMapping.listPaths.map(\.resourceType) }
    public var readListCount: Int { 1 + CredicorpEventMapping.listPaths.count }
    public var paymentResourceTypes: Set<String> { ["payment"] }
    /// A newer event's snapshot replaces the row (the default ``applying(_:to:)``).
    public var replacesStateWithSnapshots: Bool { true }

    public func resourceType(ofEventType type: String) -> String? {
        CredicorpEventMapping.resourceType(ofEventType: type)
    }

    public func money(inEventPayload payload: JSONValue) -> Money? {
        payload["data"]?["object"].flatMap(Money.init(object:))
    }

    public func verify(_ delivery: CapturedDelivery, keys: PublicKeyRing) async throws -> DeliveryVerdict {
        // Read only for a rejection: an accepted line names its resource through its events.
        let hint = { CredicorpEventMapping.hint(body: delivery.body) }
        guard let id = delivery.header("webhook-id"), let timestamp = delivery.header("webhook-timestamp"),
            let signature = delivery.header("webhook-signature"), !signature.isEmpty
        else {
            return .rejected(
                .missingSignature,
                detail: "webhook-id, webhook-timestamp or webhook-signature header missing",
                hint: hint()
            )
        }
        guard
            StandardWebhooksV1.verify(
                id: id,
                timestamp: timestamp,
                body: delivery.body,
                header: signature,
                keys: self.keys
            )
        else {
            return .rejected(.badSignature, detail: "no signature matches a configured secret", hint: hint())
        }
        guard let seconds = Int64(timestamp) else {
            return .rejected(.staleTimestamp, detail: "webhook-timestamp is not Unix seconds", hint: hint())
        }
        let skew = Double(seconds) - delivery.receivedAt.timeIntervalSince1970
        guard abs(skew) <= Self.tolerance else {
            return .rejected(
                .staleTimestamp,
                detail: "webhook-timestamp is \(Int(skew.rounded()))s from received_at",
                hint: hint()
            )
        }
        guard let envelope = JSONValue.parse(delivery.body), var event = CredicorpEventMapping.event(envelope) else {
            return .rejected(.malformed, detail: "the signed body is not a Credicorp event envelope", hint: hint())
        }
        guard ExactID(event.eventID) == ExactID(id) else {
            return .rejected(.malformed, detail: "webhook-id does not match the body's event id", hint: hint())
        }
        event.bodyPointer = ""
        return .accepted([event])
    }

    public func makeReader(logger: Logger) -> any ProviderReader {
        let client = HTTPClient(
            config: config,
            credentials: [HTTPClient.bearer(config.apiKey)],
            configuration: httpConfiguration,
            logger: logger
        )
        return CredicorpReader(
            config: config,
            json: JSONReader(provider: config.name, client: client, maxRows: config.maxRows)
        )
    }
}
