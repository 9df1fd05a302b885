import Foundation
import Logging

/// Crezco: batched deliveries signed with ECDSA P-256 under published keys, and the `/v1` read API.
public struct CrezcoAdapter: ProviderAdapter {
    public let config: ProviderConfig
    let httpConfiguration: HTTPClient.Configuration

    /// How far the `Date` of a delivery attempt may be from the time of receipt.
    static let tolerance: TimeInterval = 300

    public init(config: ProviderConfig, httpConfiguration: HTTPClient.Configuration = .init()) {
        self.config = config
        self.httpConfiguration = httpConfiguration
    }

    public var hasEventLog: Bool { true }
    public var hasEventByIDRoute: Bool { false }
    public var eventLogRetention: TimeInterval { 30 * 86_400 }
    public var resourceTypes: [String] { CrezcoEventMapping.kinds.map(\.resourceType) }
    public var readListCount: Int { 1 + CrezcoEventMapping.lists.count }
    public var paymentResourceTypes: Set<String> { ["payable"] }
    /// A newer event's snapshot replaces the row (the default ``applying(_:to:)``).
    public var replacesStateWithSnapshots: Bool { true }

    public func resourceType(ofEventType type: String) -> String? {
        CrezcoEventMapping.resourceType(ofEventType: type)
    }

    public func money(inEventPayload payload: JSONValue) -> Money? {
        payload["payload"].flatMap(Money.init(object:))
    }

    public func verify(_ delivery: CapturedDelivery, keys: PublicKeyRing) async throws -> DeliveryVerdict {
        // Read only for a rejection: an accepted line names its resource through its events.
        let hint = { CrezcoEventMapping.hint(body: delivery.body) }
        guard let signature = delivery.header("crezco-signature"), !signature.isEmpty,
            let keyID = delivery.header("crezco-public-key-id"), !keyID.isEmpty
        else {
            return .rejected(
                .missingSignature,
                detail: "Crezco-Signature or Crezco-Public-Key-Id header missing",
                hint: hint()
            )
        }
        guard let published = try await keys.key(keyID, for: self) else {
            return .rejected(
                .unknownKeyID,
                detail: "Crezco does not know public key id \(keyID.prefix(80))",
                hint: hint()
            )
        }
        guard let key = CrezcoECDSA.publicKey(pem: published.publicKey) else {
            return .rejected(.unknownKeyID, detail: "the kept key \(keyID.prefix(80)) is not a P-256 key", hint: hint())
        }
        guard CrezcoECDSA.verify(body: delivery.body, signature: signature, key: key) else {
            return .rejected(.badSignature, detail: "the signature does not match the body under its key", hint: hint())
        }
        guard let dateText = delivery.header("date"), let date = HTTPDate.parse(dateText) else {
            return .rejected(.staleTimestamp, detail: "no RFC 7231 Date header", hint: hint())
        }
        let skew = date.timeIntervalSince(delivery.receivedAt)
        guard abs(skew) <= Self.tolerance else {
            return .rejected(.staleTimestamp, detail: "Date is \(Int(skew.rounded()))s from received_at", hint: hint())
        }
        guard let events = CrezcoEventMapping.events(body: delivery.body) else {
            return .rejected(
                .malformed,
                detail: "the signed body is not {\"events\":[…]} of Crezco events",
                hint: hint()
            )
        }
        return .accepted(events)
    }

    public func makeReader(logger: Logger) -> any ProviderReader {
        let client = HTTPClient(
            config: config,
            credentials: [("X-Crezco-Key", config.apiKey)],
            configuration: httpConfiguration,
            logger: logger
        )
        return CrezcoReader(json: JSONReader(provider: config.name, client: client, maxRows: config.maxRows))
    }
}
