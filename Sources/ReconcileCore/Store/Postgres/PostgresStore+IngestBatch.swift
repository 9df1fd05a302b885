import Foundation
import PostgresNIO

extension PostgresStore {
    /// One batch of capture lines, written by sets of rows inside the batch's transaction.
    ///
    /// Each step is one statement for all of the batch's rows of a table, passed as a JSON array
    /// (`json_to_recordset`) because nullable columns do not go in PostgreSQL arrays from here;
    /// rows beyond 32 MiB of JSON go in further statements of the same transaction, in order (a
    /// line may be 16 MiB, a value at most 1 GB). Instants go as epoch milliseconds, exact for any
    /// year. Event ids and resources (``ResourceKey``) are compared as PostgreSQL compares text,
    /// byte by byte (Swift's `==` would take two spellings of one accented letter for one id).
    /// What the lines of a batch do to each other is what they would do one after the other:
    /// - the first line of a fingerprint is recorded, a later one is a duplicate;
    /// - an event is recorded from the first new line that carries it (its payload), and its first
    ///   receipt is the earliest of the batch's and what the store had;
    /// - the local rows of the batch's resources are read once, locked in key order, the events
    ///   applied to them in line order in memory, and each row written once, never to an older
    ///   `as_of` than the store holds by then.
    struct IngestBatch {
        let records: [IngestRecord]
        let now: Date
        /// What each line did; nil until the step that decides it.
        private var decided: [IngestOutcome?]
        /// The lines recorded as new accepted deliveries, in line order, with their delivery ids.
        private var delivered: [(line: Int, id: Int64)] = []
        /// Events (provider, id) this batch inserted, attributed to the first new line carrying each.
        private var inserted: Set<EventKey> = []

        /// An event by its provider and id, compared byte by byte.
        struct EventKey: Hashable {
            var provider: [UInt8]
            var eventID: [UInt8]

            init(_ provider: String, _ eventID: String) {
                self.provider = Array(provider.utf8)
                self.eventID = Array(eventID.utf8)
            }
        }

        init(_ records: [IngestRecord], now: Date) {
            self.records = records
            self.now = now
            decided = Array(repeating: nil, count: records.count)
        }

        /// The outcome of each line, in the batch's order.
        var outcomes: [IngestOutcome] {
            var attributed = Set<EventKey>()
            return decided.enumerated().map { line, outcome in
                if let outcome { return outcome }
                // A new accepted delivery: accepted when it carries no event, or an event this batch
                // inserted that no earlier line carried.
                guard case .accepted(let events) = records[line].verdict, let provider = records[line].provider,
                    !events.isEmpty
                else { return .accepted }
                var anyNew = false
                for event in events {
                    let key = EventKey(provider, event.eventID)
                    if inserted.contains(key), attributed.insert(key).inserted { anyNew = true }
                }
                return anyNew ? .accepted : .duplicate
            }
        }

        /// Inserts the delivery rows of the lines not seen before, and decides rejected and duplicate lines.
        mutating func recordDeliveries(on connection: PostgresConnection, logger: Logger) async throws {
            var rows: [JSONValue] = []
            var recorded: [Int] = []
            for (line, record) in records.enumerated() {
                var verdict = "accepted"
                var reason: String?
                var detail: String?
                var hint: ResourceHint?
                switch record.verdict {
                case .rejected(let rejection, let text, let resource):
                    decided[line] = .rejected(rejection, detail: text)
                    (verdict, reason, detail, hint) = ("rejected", rejection.rawValue, text, resource)
                case .accepted:
                    guard record.provider != nil, record.receivedAt != nil else {
                        decided[line] = .rejected(.malformed, detail: "no provider or received_at")
                        continue
                    }
                }
                recorded.append(line)
                rows.append(
                    .object([
                        "line": .integer(Int64(line)), "fingerprint": .string(record.fingerprint),
                        "provider": text(record.provider), "received_at": instant(record.receivedAt),
                        "method": text(record.method), "url": text(record.url), "headers": text(record.headersJSON),
                        "body": text(record.body?.base64EncodedString()), "verdict": .string(verdict),
                        "reason": text(reason), "detail": text(detail), "event_id": text(hint?.eventID),
                        "resource_type": text(hint?.resourceType), "resource_id": text(hint?.resourceID),
                        "source_name": .string(record.sourceName), "line_number": .integer(Int64(record.lineNumber)),
                    ])
                )
            }
            var ids: [String: Int64] = [:]
            for chunk in Self.arrays(rows) {
                let answer = try await connection.query(
                    """
                    INSERT INTO delivery (fingerprint, provider, received_at, recorded_at, method, url, headers,
                        body, verdict, reason, detail, event_id, resource_type, resource_id, source_name,
                        line_number)
                    SELECT fingerprint, provider, timestamptz 'epoch' + received_at * interval '1 millisecond',
                        \(now), method, url, headers, decode(body, 'base64'), verdict, reason, detail, event_id,
                        resource_type, resource_id, source_name, line_number
                    FROM json_to_recordset(\(chunk)::json) AS r (line integer, fingerprint text, provider text,
                        received_at bigint, method text, url text, headers text, body text, verdict text,
                        reason text, detail text, event_id text, resource_type text, resource_id text,
                        source_name text, line_number integer)
                    ORDER BY line
                    ON CONFLICT (fingerprint) DO NOTHING
                    RETURNING fingerprint, id
                    """,
                    logger: logger
                )
                for try await (fingerprint, id) in answer.decode((String, Int64).self) { ids[fingerprint] = id }
            }
            // The first line of each fingerprint holds the row it inserted; a later one is a duplicate.
            for line in recorded {
                let id = ids.removeValue(forKey: records[line].fingerprint)
                guard decided[line] == nil else { continue }
                if let id { delivered.append((line, id)) } else { decided[line] = .duplicate }
            }
        }

        /// Links each new delivery to its events, inserts the events not recorded yet, and keeps
        /// each event's earliest receipt.
        mutating func recordEvents(on connection: PostgresConnection, logger: Logger) async throws {
            var links: [JSONValue] = []
            var events: [JSONValue] = []
            for (line, id) in delivered {
                let record = records[line]
                guard case .accepted(let accepted) = record.verdict, let provider = record.provider else { continue }
                for event in accepted {
                    links.append(
                        .object([
                            "delivery_id": .integer(id), "provider": .string(provider),
                            "event_id": .string(event.eventID), "received_at": instant(record.receivedAt),
                        ])
                    )
                    events.append(
                        .object([
                            "line": .integer(Int64(events.count)), "provider": .string(provider),
                            "event_id": .string(event.eventID), "event_type": .string(event.eventType),
                            "resource_type": .string(event.resourceType), "resource_id": .string(event.resourceID),
                            "occurred_at": instant(event.occurredAt), "payload": .string(event.payload.canonicalText),
                            "first_received_at": instant(record.receivedAt),
                        ])
                    )
                }
            }
            guard !links.isEmpty else { return }
            let linked = Self.arrays(links)
            for chunk in linked {
                try await connection.query(
                    """
                    INSERT INTO delivery_event (delivery_id, provider, event_id, received_at)
                    SELECT delivery_id, provider, event_id, timestamptz 'epoch' + received_at * interval '1 millisecond'
                    FROM json_to_recordset(\(chunk)::json) AS r (delivery_id bigint, provider text, event_id text,
                        received_at bigint)
                    ON CONFLICT DO NOTHING
                    """,
                    logger: logger
                )
            }
            // In key order, so that two writers inserting the same events wait rather than deadlock;
            // of an event carried twice, the first line's.
            for chunk in Self.arrays(events) {
                let answer = try await connection.query(
                    """
                    INSERT INTO event (provider, event_id, event_type, resource_type, resource_id, occurred_at,
                        payload, source, first_received_at, recorded_at, run_id)
                    SELECT DISTINCT ON (provider COLLATE "C", event_id COLLATE "C") provider, event_id, event_type,
                        resource_type, resource_id, timestamptz 'epoch' + occurred_at * interval '1 millisecond',
                        payload, 'webhook', timestamptz 'epoch' + first_received_at * interval '1 millisecond',
                        \(now), NULL
                    FROM json_to_recordset(\(chunk)::json) AS r (line integer, provider text, event_id text,
                        event_type text, resource_type text, resource_id text, occurred_at bigint, payload text,
                        first_received_at bigint)
                    ORDER BY provider COLLATE "C", event_id COLLATE "C", line
                    ON CONFLICT DO NOTHING
                    RETURNING provider, event_id
                    """,
                    logger: logger
                )
                for try await (provider, eventID) in answer.decode((String, String).self) {
                    inserted.insert(EventKey(provider, eventID))
                }
            }
            // An event recorded before, or carried by several lines: its earliest receipt. The rows
            // to change are locked in key order first.
            for chunk in linked {
                try await connection.query(
                    """
                    WITH r AS (
                        SELECT provider, event_id,
                            min(timestamptz 'epoch' + received_at * interval '1 millisecond') AS received_at
                        FROM json_to_recordset(\(chunk)::json) AS l (provider text, event_id text, received_at bigint)
                        GROUP BY provider, event_id
                    ), later AS (
                        SELECT e.provider, e.event_id, r.received_at FROM event e
                        JOIN r ON e.provider = r.provider AND e.event_id = r.event_id
                        WHERE e.first_received_at IS NULL OR e.first_received_at > r.received_at
                        ORDER BY e.provider COLLATE "C", e.event_id COLLATE "C"
                        FOR UPDATE OF e
                    )
                    UPDATE event e SET first_received_at = later.received_at FROM later
                    WHERE e.provider = later.provider AND e.event_id = later.event_id
                    AND (e.first_received_at IS NULL OR e.first_received_at > later.received_at)
                    """,
                    logger: logger
                )
            }
        }

        /// Applies the new deliveries' events to the local rows, in line order, and writes each
        /// changed row once.
        func applyToLocalState(
            _ apply: (String, ProviderEvent, LocalResource?) -> LocalResource?,
            on connection: PostgresConnection,
            logger: Logger
        ) async throws {
            var keys: [String: [ResourceKey]] = [:]
            for (line, _) in delivered {
                guard case .accepted(let events) = records[line].verdict, let provider = records[line].provider
                else { continue }
                for event in events {
                    keys[provider, default: []].append(ResourceKey(event.resourceType, event.resourceID))
                }
            }
            guard !keys.isEmpty else { return }
            // The rows there are now, each locked until the batch commits (in key order, byte by byte).
            let providers = keys.keys.sorted(by: ByteOrder.precedes)
            var rows: [String: [ResourceKey: LocalResource]] = [:]
            for provider in providers {
                rows[provider] = try await PostgresStore.resources(
                    provider: provider,
                    keys: keys[provider, default: []],
                    locking: true,
                    on: connection,
                    logger: logger
                )
            }
            var changed: [String: Set<ResourceKey>] = [:]
            for (line, _) in delivered {
                let record = records[line]
                guard case .accepted(let events) = record.verdict, let provider = record.provider else { continue }
                // Events whose local row the record made before the transaction, by the default rule.
                let prepared = record.prepared?.events.count == events.count ? record.prepared?.events : nil
                for (index, event) in events.enumerated() {
                    let current = rows[provider]?[ResourceKey(event.resourceType, event.resourceID)]
                    // The default rule of `ProviderAdapter.applying(_:to:)` for a record prepared with
                    // its rows: a row whose `asOf` is not older than the event stays as it is.
                    let next: LocalResource?
                    if prepared?[index].state != nil {
                        next =
                            current.map { event.occurredAt <= $0.asOf } == true
                            ? nil : LocalResource(snapshot: event.snapshot)
                    } else {
                        next = apply(provider, event, current)
                    }
                    guard let next else { continue }
                    let key = ResourceKey(next.resourceType, next.resourceID)
                    // As the row's write would: never to an older `as_of`.
                    if let held = rows[provider]?[key], held.asOf > next.asOf { continue }
                    rows[provider, default: [:]][key] = next
                    changed[provider, default: []].insert(key)
                }
            }
            var written: [JSONValue] = []
            for provider in providers {
                for key in changed[provider, default: []].sorted() {
                    guard let row = rows[provider]?[key] else { continue }
                    written.append(
                        .object([
                            "line": .integer(Int64(written.count)), "provider": .string(provider),
                            "resource_type": .string(row.resourceType), "resource_id": .string(row.resourceID),
                            "status": text(row.status), "as_of": instant(row.asOf),
                            "object": .string(row.object.canonicalText),
                            "amount_minor": row.money.map { .integer($0.minorUnits) } ?? .null,
                            "currency": text(row.money?.currency),
                        ])
                    )
                }
            }
            for chunk in Self.arrays(written) {
                try await connection.query(
                    """
                    INSERT INTO resource_state (provider, resource_type, resource_id, status, as_of, object,
                        amount_minor, currency, updated_by, updated_at)
                    SELECT provider, resource_type, resource_id, status,
                        timestamptz 'epoch' + as_of * interval '1 millisecond', object, amount_minor, currency,
                        'ingest', \(now)
                    FROM json_to_recordset(\(chunk)::json) AS r (line integer, provider text, resource_type text,
                        resource_id text, status text, as_of bigint, object text, amount_minor bigint, currency text)
                    ORDER BY line
                    ON CONFLICT (provider, resource_type, resource_id) DO UPDATE SET
                        status = excluded.status, as_of = excluded.as_of, object = excluded.object,
                        amount_minor = excluded.amount_minor, currency = excluded.currency,
                        updated_by = excluded.updated_by, updated_at = excluded.updated_at
                    WHERE resource_state.as_of <= excluded.as_of
                    """,
                    logger: logger
                )
            }
        }

        /// `rows` as JSON arrays of at most `limit` bytes each (a row longer than that alone), in order.
        static func arrays(_ rows: [JSONValue], limit: Int = 32 << 20) -> [String] {
            var arrays: [String] = []
            var current = ""
            for row in rows {
                let text = row.canonicalText
                if !current.isEmpty, current.utf8.count + text.utf8.count + 2 > limit {
                    arrays.append("[" + current + "]")
                    current = ""
                }
                if !current.isEmpty { current += "," }
                current += text
            }
            if !current.isEmpty { arrays.append("[" + current + "]") }
            return arrays
        }

        private func text(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }

        /// An instant as epoch milliseconds, as both engines keep it.
        private func instant(_ date: Date?) -> JSONValue { date.map { .integer(RFC3339.epochMillis($0)) } ?? .null }
    }
}
