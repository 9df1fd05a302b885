import Crypto
import Foundation
import Logging

/// Credify: Ed25519-signed deliveries of one event each, no event log, and the `/v1` read API.
public struct CredifyAdapter: ProviderAdapter {
    public let config: ProviderConfig
    let key: Curve25519.Signing.PublicKey?
    let httpConfiguration: HTTPClient.Configuration

    public init(config: ProviderConfig, httpConfiguration: HTTPClient.Configuration = .init()) {
        self.config = config
        self.key = config.publicKey.flatMap { CredifyEd25519.publicKey(base64: $0.value) }
        self.httpConfiguration = httpConfiguration
    }

    public var hasEventLog: Bool { false }
    public var hasEventByIDRoute: Bool { false }
    public var eventLogRetention: TimeInterval { 0 }
    public var resourceTypes: [String] { CredifyEventMapping.lists.map(\.resourceType) }
    public var readListCount: Int { CredifyEventMapping.lists.count }
    public var paymentResourceTypes: Set<String> { ["bnpl_order"] }

    public func resourceType(ofEventType type: String) -> String? {
        CredifyEventMapping.eventTypes[type]
    }

    /// Credify events carry no amount; the order's amount comes from the read API.
    public func money(inEventPayload payload: JSONValue) -> Money? { nil }

    public func verify(_ delivery: CapturedDelivery, keys: PublicKeyRing) async throws -> DeliveryVerdict {
        let eventID = delivery.header("x-event-id")
        // Read only for a rejection: an accepted line names its resource through its events.
        let hint = { CredifyEventMapping.hint(body: delivery.body, eventID: eventID) }
        guard let eventID, !eventID.isEmpty, let timestamp = delivery.header("x-event-timestamp"),
            let signature = delivery.header("signature"), !signature.isEmpty
        else {
            return .rejected(
                .missingSignature,
                detail: "X-Event-Id, X-Event-Timestamp or Signature missing",
                hint: hint()
            )
        }
        if let algorithm = delivery.header("x-signature-algorithm"), algorithm != "EdDSA" {
            return .rejected(.badSignature, detail: "X-Signature-Algorithm is not EdDSA", hint: hint())
        }
        guard let key, let url = config.webhookURL else {
            return .rejected(.badSignature, detail: "no public key or webhook_url configured", hint: hint())
        }
        let message = CredifyEd25519.message(
            verb: delivery.method.uppercased(),
            url: url,
            eventID: eventID,
            timestamp: timestamp,
            body: delivery.body
        )
        guard CredifyEd25519.verify(message: message, signature: signature, key: key) else {
            return .rejected(
                .badSignature,
                detail: "the signature does not match (method, webhook_url, event id, timestamp, body)",
                hint: hint()
            )
        }
        guard let time = RFC3339.parse(timestamp), let body = JSONValue.parse(delivery.body),
            var event = CredifyEventMapping.event(body: body, eventID: eventID, timestamp: time)
        else {
            return .rejected(.malformed, detail: "the signed delivery is not a Credify event", hint: hint())
        }
        event.bodyPointer = ""
        return .accepted([event])
    }

    /// Credify's events merge into the row (``applying(_:to:)``) instead of replacing it.
    public var replacesStateWithSnapshots: Bool { false }

    /// Applies an event in provider order, merging what it carries into the row.
    ///
    /// A disbursement event sets only `object.disbursement[requirement]`; `status` stays as it was
    /// (nil when no status-carrying event has arrived yet).
    public func applying(_ event: ProviderEvent, to current: LocalResource?) -> LocalResource? {
        if let current, event.occurredAt <= current.asOf { return nil }
        var object = current?.object.objectValue ?? [:]
        for (key, value) in event.snapshot.object.objectValue ?? [:] {
            if key == "disbursement", let merged = object[key]?.objectValue, let added = value.objectValue {
                object[key] = .object(merged.merging(added) { _, new in new })
            } else {
                object[key] = value
            }
        }
        return LocalResource(
            resourceType: event.resourceType,
            resourceID: event.resourceID,
            status: event.snapshot.status ?? current?.status,
            asOf: event.occurredAt,
            object: .object(object),
            money: current?.money
        )
    }

    public func makeReader(logger: Logger) -> any ProviderReader {
        let client = HTTPClient(
            config: config,
            credentials: [HTTPClient.bearer(config.apiKey)],
            configuration: httpConfiguration,
            logger: logger
        )
        return CredifyReader(json: JSONReader(provider: config.name, client: client, maxRows: config.maxRows))
    }
}
