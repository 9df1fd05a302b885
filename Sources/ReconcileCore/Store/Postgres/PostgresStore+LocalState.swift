import Foundation
import PostgresNIO

extension PostgresStore: LocalStateStore {
    /// The columns of a ``LocalEvent`` for events `e`; the first receipt is the event's own, kept
    /// at ingest (as SQLite's), so it stays when retention prunes the delivery.
    private static let localEventColumns = """
        e.event_id, e.event_type, e.resource_type, e.resource_id, e.occurred_at, e.source, e.payload,
            e.first_received_at
        """

    private typealias EventRow = (String, String, String, String, Date, String, String, Date?)

    private static func localEvent(_ row: EventRow) -> LocalEvent {
        let (id, type, resourceType, resourceID, occurredAt, source, payload, firstReceipt) = row
        return LocalEvent(
            eventID: id,
            eventType: type,
            resourceType: resourceType,
            resourceID: resourceID,
            occurredAt: instant(occurredAt),
            source: source,
            firstReceipt: firstReceipt.map(instant),
            payloadSource: .text(payload)
        )
    }

    public func events(provider: String, ids: [String]) async throws(StoreFailure) -> [LocalEvent] {
        guard !ids.isEmpty else { return [] }
        return try await rows(
            "read local events by id",
            """
            SELECT \(unescaped: Self.localEventColumns)
            FROM event e
            WHERE e.provider = \(provider) AND e.event_id = ANY(\(ids))
            """,
            as: EventRow.self
        ).map(Self.localEvent)
    }

    /// Every event of the resources `keys`: the keys as two arrays, then each one's events by `event_resource`.
    public func events(provider: String, ofResources keys: [ResourceKey]) async throws(StoreFailure) -> [LocalEvent] {
        guard !keys.isEmpty else { return [] }
        return try await rows(
            "read local events",
            """
            SELECT \(unescaped: Self.localEventColumns)
            FROM unnest(\(keys.map(\.type))::text[], \(keys.map(\.id))::text[]) AS k (resource_type, resource_id)
            JOIN event e ON e.provider = \(provider) AND e.resource_type = k.resource_type
                AND e.resource_id = k.resource_id
            """,
            as: EventRow.self
        ).map(Self.localEvent)
    }

    /// One statement for the ids (`occurred` is not needed: the server looks them up by its index).
    public func recordedEventIDs(provider: String, among ids: [String], occurred: ClosedRange<Date>?)
        async throws(StoreFailure) -> Set<ExactID>
    {
        guard !ids.isEmpty else { return [] }
        return Set(
            try await rows(
                "look up recorded events",
                "SELECT event_id FROM event WHERE provider = \(provider) AND event_id = ANY(\(ids))",
                as: String.self
            ).map { ExactID($0) }
        )
    }

    public func resourcesWithEvents(provider: String, since: Date, until: Date) async throws(StoreFailure) -> [(
        key: ResourceKey, webhook: Bool
    )] {
        try await rows(
            "read the window's local events",
            """
            SELECT resource_type, resource_id, bool_or(source = 'webhook') FROM event
            WHERE provider = \(provider) AND occurred_at >= \(Self.instant(since)) AND occurred_at < \(Self.instant(until))
            GROUP BY resource_type, resource_id
            """,
            as: (String, String, Bool).self
        ).map { (ResourceKey($0.0, $0.1), $0.2) }
    }

    public func resourceKeys(provider: String, asOfSince since: Date, until: Date) async throws(StoreFailure)
        -> [ResourceKey]
    {
        try await rows(
            "read local state",
            """
            SELECT resource_type, resource_id FROM resource_state
            WHERE provider = \(provider) AND as_of >= \(Self.instant(since)) AND as_of < \(Self.instant(until))
            """,
            as: (String, String).self
        ).map { ResourceKey($0.0, $0.1) }
    }

    public func resources(provider: String, keys: [ResourceKey]) async throws(StoreFailure)
        -> [ResourceKey: LocalResource]
    {
        let logger = self.logger
        do {
            return try await client.withConnection { connection in
                try await Self.resources(provider: provider, keys: keys, locking: false, on: connection, logger: logger)
            }
        } catch {
            throw Self.failure("read local state", error)
        }
    }

    /// Rejected deliveries received (or, unreadable ones, recorded) in `[since, until)`, in the order recorded.
    public func rejectedDeliveries(provider: String?, since: Date, until: Date) async throws(StoreFailure)
        -> [RejectedDelivery]
    {
        let since = Self.instant(since)
        let until = Self.instant(until)
        return try await rows(
            "read rejected deliveries",
            """
            SELECT id, provider, received_at, reason, detail, event_id, resource_type, resource_id, source_name,
                line_number
            FROM delivery WHERE verdict = 'rejected' AND (
                (received_at IS NOT NULL AND received_at >= \(since) AND received_at < \(until))
                OR (received_at IS NULL AND recorded_at >= \(since) AND recorded_at <= \(until)))
                AND (\(provider)::text IS NULL OR provider = \(provider))
            ORDER BY id
            """,
            as: (Int64, String?, Date?, String, String?, String?, String?, String?, String?, Int?).self
        ).map { row in
            RejectedDelivery(
                id: row.0,
                provider: row.1,
                receivedAt: row.2.map(Self.instant),
                reason: row.3,
                detail: row.4,
                eventID: row.5,
                resourceType: row.6,
                resourceID: row.7,
                sourceName: row.8,
                lineNumber: row.9
            )
        }
    }

    /// Events with more than one valid delivery received before `until`, one of them in `[since,
    /// until)`: the events delivered in the window first, then all their deliveries.
    public func duplicatedEvents(provider: String, since: Date, until: Date) async throws(StoreFailure)
        -> [DuplicatedEvent]
    {
        let until = Self.instant(until)
        return try await rows(
            "read duplicate deliveries",
            """
            SELECT de.event_id, count(*)
            FROM (
                SELECT DISTINCT event_id FROM delivery_event
                WHERE provider = \(provider) AND received_at >= \(Self.instant(since)) AND received_at < \(until)
            ) AS active
            JOIN delivery_event de ON de.provider = \(provider) AND de.event_id = active.event_id
            WHERE de.received_at < \(until)
            GROUP BY de.event_id HAVING count(*) > 1
            ORDER BY de.event_id COLLATE "C"
            """,
            as: (String, Int).self
        ).map { DuplicatedEvent(eventID: $0.0, deliveries: $0.1) }
    }
}
