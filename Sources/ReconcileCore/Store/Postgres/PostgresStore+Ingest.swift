import Foundation
import NIOCore
import PostgresNIO

extension PostgresStore: IngestStore {
    /// Nothing to fit: the server's settings are its operator's.
    public func prepareForIngest() async throws(StoreFailure) {}

    /// Runs `ANALYZE` on the tables an ingest writes when it accepted more new lines than
    /// autovacuum's own rule would wait for: 50 plus a tenth of the deliveries as of the last analysis.
    ///
    /// Autovacuum gets there too, but only at its next round (a minute by default, longer on a
    /// busy server). A run started right after a large ingest would otherwise be planned with the
    /// statistics of a much smaller store: measured on the #10 world (docs/postgres.md), the dry
    /// run right after the ingest took 11–12 s without it and 7–8 s with it. A failure is logged
    /// and left: the lines are recorded.
    public func finishIngest(acceptedLines: Int) async {
        guard acceptedLines > 50 else { return }
        do {
            let known =
                try await rows(
                    "read the deliveries' statistics",
                    "SELECT greatest(reltuples, 0)::float8 FROM pg_class WHERE oid = 'delivery'::regclass",
                    as: Double.self
                ).first ?? 0
            guard Double(acceptedLines) > 50 + 0.1 * known else { return }
            _ = try await query(
                "analyze the ingested tables",
                "ANALYZE delivery, delivery_event, event, resource_state"
            )
            logger.debug("store.analyzed", metadata: ["lines": "\(acceptedLines)", "known": "\(Int(known))"])
        } catch {
            logger.warning("store.analyze_failed", metadata: ["error": "\(error)"])
        }
    }

    /// Records a batch of lines in one transaction, as SQLite's ``Store/ingest(_:recordedAt:apply:)`` does.
    ///
    /// A line seen before (same fingerprint) changes nothing. An accepted line's events are linked
    /// to its delivery with the delivery's receipt time; an event seen before keeps its first
    /// record and takes the earlier first receipt; the local row moves only to a newer state. An
    /// event's payload is kept as its text.
    ///
    /// The batch is written by sets of rows, a statement for each table (``IngestBatch``), not a
    /// statement for each line: each statement is a round trip to the server.
    public func record(
        _ batch: [IngestRecord],
        recordedAt: Date,
        apply: @escaping @Sendable (String, ProviderEvent, LocalResource?) -> LocalResource?
    ) async throws(StoreFailure) -> [IngestOutcome] {
        let now = Self.instant(recordedAt)
        let logger = self.logger
        return try await transaction("record a batch of deliveries") { connection in
            var ingest = IngestBatch(batch, now: now)
            try await ingest.recordDeliveries(on: connection, logger: logger)
            try await ingest.recordEvents(on: connection, logger: logger)
            try await ingest.applyToLocalState(apply, on: connection, logger: logger)
            return ingest.outcomes
        }
    }

    /// Inserts an event (any source) unless `(provider, event_id)` is known.
    ///
    /// Returns whether it was new. Its payload is kept as its text.
    static func recordEvent(
        _ event: ProviderEvent,
        provider: String,
        source: String,
        receivedAt: Date?,
        runID: String?,
        now: Date,
        on connection: PostgresConnection,
        logger: Logger
    ) async throws -> Bool {
        let inserted = try await connection.query(
            """
            INSERT INTO event (provider, event_id, event_type, resource_type, resource_id, occurred_at, payload,
                source, first_received_at, recorded_at, run_id)
            VALUES (\(provider), \(event.eventID), \(event.eventType), \(event.resourceType), \(event.resourceID),
                \(instant(event.occurredAt)), \(event.payload.canonicalText), \(source), \(receivedAt), \(now),
                \(runID))
            ON CONFLICT DO NOTHING RETURNING 1
            """,
            logger: logger
        )
        return try await !inserted.collect().isEmpty
    }

    /// The columns of `resource_state` a ``ResourceRow`` reads, in its order.
    static let resourceColumns = "resource_type, resource_id, status, as_of, object, amount_minor, currency"

    typealias ResourceRow = (String, String, String?, Date, String, Int64?, String?)

    static func localResource(_ row: ResourceRow) -> LocalResource {
        let (type, id, status, asOf, object, amount, currency) = row
        return LocalResource(
            resourceType: type,
            resourceID: id,
            status: status,
            asOf: instant(asOf),
            object: JSONValue.parse(Data(object.utf8)) ?? .object([:]),
            money: amount.flatMap { amount in currency.map { Money(minorUnits: amount, currency: $0) } }
        )
    }

    /// Inserts or replaces a local row, never with an older `as_of` than the row has.
    ///
    /// A row another writer inserted after it was read as absent is not moved back either. With
    /// `replacing` false, a row that is there by now is left as it is. Returns whether the row was written.
    @discardableResult
    static func save(
        _ resource: LocalResource,
        provider: String,
        updatedBy: String,
        now: Date,
        replacing: Bool = true,
        on connection: PostgresConnection,
        logger: Logger
    ) async throws -> Bool {
        let conflict =
            replacing
            ? """
            DO UPDATE SET
                status = excluded.status, as_of = excluded.as_of, object = excluded.object,
                amount_minor = excluded.amount_minor, currency = excluded.currency, updated_by = excluded.updated_by,
                updated_at = excluded.updated_at
            WHERE resource_state.as_of <= excluded.as_of
            """ : "DO NOTHING"
        let written = try await connection.query(
            """
            INSERT INTO resource_state (provider, resource_type, resource_id, status, as_of, object, amount_minor,
                currency, updated_by, updated_at)
            VALUES (\(provider), \(resource.resourceType), \(resource.resourceID), \(resource.status),
                \(instant(resource.asOf)), \(resource.object.canonicalText), \(resource.money?.minorUnits),
                \(resource.money?.currency), \(updatedBy), \(now))
            ON CONFLICT (provider, resource_type, resource_id) \(unescaped: conflict)
            RETURNING 1
            """,
            logger: logger
        )
        return try await !written.collect().isEmpty
    }

    /// The local rows of `keys` that exist.
    ///
    /// With `locking`, they stay locked until the transaction ends (`FOR UPDATE`), taken in key
    /// order (byte by byte) so that two lockers never wait on each other in a circle.
    static func resources(
        provider: String,
        keys: [ResourceKey],
        locking: Bool,
        on connection: PostgresConnection,
        logger: Logger
    ) async throws -> [ResourceKey: LocalResource] {
        guard !keys.isEmpty else { return [:] }
        let rows = try await connection.query(
            """
            SELECT r.resource_type, r.resource_id, r.status, r.as_of, r.object, r.amount_minor, r.currency
            FROM resource_state r
            WHERE r.provider = \(provider) AND (r.resource_type, r.resource_id) IN (
                SELECT * FROM unnest(\(keys.map(\.type))::text[], \(keys.map(\.id))::text[])
            )
            \(unescaped: locking ? #"ORDER BY r.resource_type COLLATE "C", r.resource_id COLLATE "C" FOR UPDATE OF r"# : "")
            """,
            logger: logger
        )
        var found: [ResourceKey: LocalResource] = [:]
        for try await row in rows.decode(ResourceRow.self) {
            let resource = localResource(row)
            found[ResourceKey(resource.resourceType, resource.resourceID)] = resource
        }
        return found
    }

    public func deliveryCounts() async throws(StoreFailure) -> [DeliveryCount] {
        try await rows(
            "count deliveries",
            """
            SELECT coalesce(provider, '') COLLATE "C", verdict COLLATE "C", count(*) FROM delivery
            GROUP BY 1, 2 ORDER BY 1, 2
            """,
            as: (String, String, Int).self
        ).map { DeliveryCount(provider: $0.0, verdict: $0.1, count: $0.2) }
    }

    public func newestReceipt() async throws(StoreFailure) -> Date? {
        try await rows("read the newest delivery", "SELECT max(received_at) FROM delivery", as: Date?.self)
            .first?.map(Self.instant)
    }
}
