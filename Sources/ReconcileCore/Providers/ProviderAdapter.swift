import Foundation
import Logging

/// Why a delivery was not accepted: the contract's reason codes.
public enum RejectionReason: String, Sendable, Codable {
    case malformed
    case unknownProvider = "unknown_provider"
    case missingSignature = "missing_signature"
    case badSignature = "bad_signature"
    case staleTimestamp = "stale_timestamp"
    case unknownKeyID = "unknown_key_id"
}

/// The verdict on one captured delivery.
public enum DeliveryVerdict: Sendable {
    /// Signature verified; the events it carries (one, or several for batched deliveries).
    case accepted([ProviderEvent])
    /// Not verified: the reason, a human detail, and what the unverified body names, if it parses.
    case rejected(RejectionReason, detail: String, hint: ResourceHint?)
}

/// What an unverified body seems to be about; shown on `invalid_signature` findings, never applied.
public struct ResourceHint: Sendable, Equatable {
    public var eventID: String?
    public var resourceType: String?
    public var resourceID: String?
}

/// A provider as the job sees it: how it signs deliveries, what its events mean, how its read API is read.
///
/// The ingestor, reconciler, store and reports work only through this protocol, so a provider is
/// added by writing an adapter, never by special cases elsewhere.
public protocol ProviderAdapter: Sendable {
    var config: ProviderConfig { get }
    /// Whether the provider keeps an event log that can be listed (Credify has none).
    var hasEventLog: Bool { get }
    /// How far back the event log reaches, when there is one.
    var eventLogRetention: TimeInterval { get }
    /// Whether one event can be read by id (Crezco and Credify cannot: their resource answers 404 instead).
    var hasEventByIDRoute: Bool { get }
    /// The resource types this provider has, as the contract names them.
    var resourceTypes: [String] { get }
    /// How many lists a reconciliation reads (the event log, if any, and each listable resource type).
    var readListCount: Int { get }
    /// The resource types with money that `payments.csv` lists.
    var paymentResourceTypes: Set<String> { get }

    /// Verifies one delivery as at its receipt and decodes its events.
    ///
    /// Throws only when the delivery cannot be judged now (a signing key that the provider must
    /// supply could not be fetched); a delivery that fails verification is a `.rejected` verdict.
    func verify(_ delivery: CapturedDelivery, keys: PublicKeyRing) async throws -> DeliveryVerdict

    /// The amount and currency an event's stored JSON carries, if any.
    func money(inEventPayload payload: JSONValue) -> Money?

    /// The resource state after `event`, or nil when it does not change `current` (older or equal provider time).
    func applying(_ event: ProviderEvent, to current: LocalResource?) -> LocalResource?

    /// Whether ``applying(_:to:)`` is the default rule: an event newer than the row replaces it with
    /// the event's snapshot. An adapter that merges instead (Credify) says false. No default: an
    /// adapter with its own `applying` that said true would have that rule skipped at ingest.
    ///
    /// Ingest then makes the row's text before its transaction and reads only the row's `asOf`.
    var replacesStateWithSnapshots: Bool { get }

    /// The resource type an event type belongs to, or nil when it is not this provider's.
    func resourceType(ofEventType type: String) -> String?

    /// A reader of the provider's read API, counting its requests.
    func makeReader(logger: Logger) -> any ProviderReader
}

extension ProviderAdapter {
    public func applying(_ event: ProviderEvent, to current: LocalResource?) -> LocalResource? {
        if let current, event.occurredAt <= current.asOf { return nil }
        return LocalResource(snapshot: event.snapshot)
    }
}

extension ProviderReader {
    public func publicKey(id: String) async throws -> PublishedKey? { nil }

    /// Every event with provider time in `[since, until)`, one version per id (byte by byte),
    /// ascending by (time, id's bytes).
    public func events(since: Date, until: Date) async throws -> [ProviderEvent] {
        let rows = RowsInMemory()
        try await readEvents(since: since, until: until, into: rows)
        return rows.events.values.sorted {
            $0.occurredAt != $1.occurredAt ? $0.occurredAt < $1.occurredAt : ByteOrder.precedes($0.eventID, $1.eventID)
        }
    }

    /// The listable resources updated in `[since, until)`, one version per resource, ascending by (time, type, id).
    public func resources(since: Date, until: Date) async throws -> [ResourceSnapshot] {
        let rows = RowsInMemory()
        try await readResources(since: since, until: until, into: rows)
        return rows.resources.values.sorted {
            ($0.updatedAt, $0.resourceType, $0.resourceID) < ($1.updatedAt, $1.resourceType, $1.resourceID)
        }
    }
}

/// A ``RemoteRows`` that holds everything in memory: for a small list (a test, a lookup).
final class RowsInMemory: RemoteRows, @unchecked Sendable {
    private let lock = NSLock()
    private var keptEvents: [ExactID: ProviderEvent] = [:]
    private var keptResources: [ResourceKey: ResourceSnapshot] = [:]

    var events: [ExactID: ProviderEvent] { lock.withLock { keptEvents } }
    var resources: [ResourceKey: ResourceSnapshot] { lock.withLock { keptResources } }

    func keep(events: [ProviderEvent]) async throws -> KeptRows {
        lock.withLock {
            var kept = KeptRows()
            for event in events {
                guard kept.admit(event.occurredAt, over: keptEvents[ExactID(event.eventID)]?.occurredAt) else {
                    continue
                }
                keptEvents[ExactID(event.eventID)] = event
            }
            return kept
        }
    }

    func keep(resources: [ResourceSnapshot]) throws -> KeptRows {
        lock.withLock {
            var kept = KeptRows()
            for snapshot in resources {
                let key = ResourceKey(snapshot.resourceType, snapshot.resourceID)
                guard kept.admit(snapshot.updatedAt, over: keptResources[key]?.updatedAt) else { continue }
                keptResources[key] = snapshot
            }
            return kept
        }
    }
}

/// The read side of a provider: its current truth.
public protocol ProviderReader: Sendable {
    /// The webhook endpoint, when the job names one (nil otherwise).
    func endpoint() async throws -> EndpointStatus?
    /// Reads every event with provider time in `[since, until)` into `rows`, page by page.
    func readEvents(since: Date, until: Date, into rows: any RemoteRows) async throws
    /// One event by id; nil on 404.
    func event(id: String) async throws -> ProviderEvent?
    /// Reads the listable resources updated in `[since, until)` into `rows`, page by page.
    func readResources(since: Date, until: Date, into rows: any RemoteRows) async throws
    /// One resource; nil on 404.
    func resource(type: String, id: String) async throws -> ResourceSnapshot?
    /// A signing key the provider publishes; nil on 404 (an unknown key id).
    func publicKey(id: String) async throws -> PublishedKey?
    /// How many HTTP requests the reader has sent so far.
    func requestCount() async -> Int
    /// Those requests by outcome (`ok`, `not_found`, `rate_limited`, `server_error`, …).
    func requestOutcomes() async -> [String: Int]
    /// Answers served from a backfill's checkpoints instead of the network.
    func cachedAnswerCount() async -> Int
}
