import Foundation
import GRDB

/// One capture line, read and verified, ready to be recorded.
public struct IngestRecord: Sendable {
    public var fingerprint: String
    public var sourceName: String
    public var lineNumber: Int
    public var provider: String?
    public var receivedAt: Date?
    public var method: String?
    public var url: String?
    /// The headers as received, as canonical JSON.
    public var headersJSON: String?
    public var body: Data?
    public var verdict: DeliveryVerdict {
        didSet { prepared = nil }
    }
    /// Text of each accepted event's payload and time, and of `receivedAt`.
    ///
    /// Made by ``prepare()`` before the batch's transaction, so that the one writing thread does
    /// only what needs the store. A payload is nil when the store keeps it as a place in the body
    /// (``ProviderEvent/bodyPointer``).
    var prepared: (receivedAt: String?, events: [(payload: String?, occurredAt: String)])?

    /// Computes the text the store writes for this record (see `prepared`).
    mutating func prepare() {
        var events: [(payload: String?, occurredAt: String)] = []
        if case .accepted(let accepted) = verdict {
            events = accepted.map { event in
                (event.bodyPointer == nil ? event.payload.canonicalText : nil, Store.text(event.occurredAt))
            }
        }
        prepared = (receivedAt.map(Store.text), events)
    }
}

/// What recording one line did.
public enum IngestOutcome: Sendable, Equatable {
    /// At least one of its events was new.
    case accepted
    /// Verified, but every event it carries had been received before.
    case duplicate
    case rejected(RejectionReason, detail: String)
}

extension Store {
    /// Records a batch of lines in one transaction and applies accepted events to local state.
    ///
    /// A line seen before (same bytes) is not recorded again. `apply` returns the state an event
    /// leads to, or nil when it must not change the row (it is not newer than the row's `asOf`).
    public func ingest(
        _ batch: [IngestRecord],
        recordedAt: Date,
        apply: (String, ProviderEvent, LocalResource?) -> LocalResource?
    ) throws(StoreFailure) -> [IngestOutcome] {
        try write("record a batch of deliveries") { db in
            let now = Store.text(recordedAt)
            return try batch.map { record in
                try ingest(record, now: now, db: db, apply: apply)
            }
        }
    }

    private func ingest(
        _ record: IngestRecord,
        now: String,
        db: Database,
        apply: (String, ProviderEvent, LocalResource?) -> LocalResource?
    ) throws -> IngestOutcome {
        let known =
            try Bool.fetchOne(
                db.cachedStatement(sql: "SELECT 1 FROM delivery WHERE fingerprint = ?"),
                arguments: [record.fingerprint]
            ) ?? false
        switch record.verdict {
        case .rejected(let reason, let detail, let hint):
            if !known {
                try insertDelivery(
                    record,
                    verdict: "rejected",
                    reason: reason.rawValue,
                    detail: detail,
                    hint: hint,
                    now: now,
                    db: db
                )
            }
            return .rejected(reason, detail: detail)
        case .accepted(let events):
            guard let provider = record.provider, let receivedAt = record.receivedAt else {
                return .rejected(.malformed, detail: "no provider or received_at")
            }
            if known { return .duplicate }
            // What an accepted line carries is in `deliveryEvent` and `event`; the resource
            // columns of `delivery` are a rejected line's hint only, not a third copy.
            let deliveryID = try insertDelivery(
                record,
                verdict: "accepted",
                reason: nil,
                detail: nil,
                hint: nil,
                now: now,
                db: db
            )
            var anyNew = false
            let receivedText = record.prepared?.receivedAt ?? Store.text(receivedAt)
            let prepared = record.prepared?.events.count == events.count ? record.prepared?.events : nil
            for (index, event) in events.enumerated() {
                try db.executeCached(
                    sql: "INSERT OR IGNORE INTO deliveryEvent (deliveryID, provider, eventID) VALUES (?, ?, ?)",
                    arguments: [deliveryID, provider, event.eventID]
                )
                if try recordEvent(
                    event,
                    provider: provider,
                    source: "webhook",
                    receivedAt: receivedAt,
                    now: now,
                    runID: nil,
                    db: db,
                    deliveryID: deliveryID,
                    text: prepared.map { ($0[index].payload, $0[index].occurredAt, receivedText) }
                ) {
                    anyNew = true
                } else {
                    try db.executeCached(
                        sql: """
                            UPDATE event SET firstReceivedAt = ? WHERE provider = ? AND eventID = ?
                            AND (firstReceivedAt IS NULL OR firstReceivedAt > ?)
                            """,
                        arguments: [receivedText, provider, event.eventID, receivedText]
                    )
                }
                let current = try localResource(
                    provider: provider,
                    type: event.resourceType,
                    id: event.resourceID,
                    db: db
                )
                if let next = apply(provider, event, current) {
                    try saveResource(next, provider: provider, updatedBy: "ingest", now: now, db: db)
                }
            }
            return anyNew || events.isEmpty ? .accepted : .duplicate
        }
    }

    @discardableResult
    private func insertDelivery(
        _ record: IngestRecord,
        verdict: String,
        reason: String?,
        detail: String?,
        hint: ResourceHint?,
        now: String,
        db: Database
    ) throws -> Int64 {
        try db.executeCached(
            sql: """
                INSERT INTO delivery (fingerprint, provider, receivedAt, recordedAt, method, url, headers, body, verdict,
                    reason, detail, eventID, resourceType, resourceID, sourceName, lineNumber)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                record.fingerprint, record.provider, record.prepared?.receivedAt ?? record.receivedAt.map(Store.text),
                now,
                record.method, record.url,
                record.headersJSON, record.body, verdict, reason, detail, hint?.eventID, hint?.resourceType,
                hint?.resourceID, record.sourceName, record.lineNumber,
            ]
        )
        return db.lastInsertedRowID
    }

    /// Inserts an event unless its id is known; returns whether it was new.
    ///
    /// An event that came in the body of delivery `deliveryID` (it has a ``ProviderEvent/bodyPointer``)
    /// keeps its payload as that place in the body; any other keeps the payload's text.
    /// `text`, when given, is the event's payload (nil for a place in the body), time and
    /// `receivedAt` as the store writes them, made before the transaction (``IngestRecord/prepare()``).
    func recordEvent(
        _ event: ProviderEvent,
        provider: String,
        source: String,
        receivedAt: Date?,
        now: String,
        runID: String?,
        db: Database,
        deliveryID: Int64? = nil,
        text: (payload: String?, occurredAt: String, receivedAt: String)? = nil
    ) throws -> Bool {
        let pointer = deliveryID == nil ? nil : event.bodyPointer
        let payload = pointer == nil ? text?.payload ?? event.payload.canonicalText : nil
        try db.executeCached(
            sql: """
                INSERT OR IGNORE INTO event (provider, eventID, eventType, resourceType, resourceID, occurredAt, payload,
                    payloadDelivery, payloadPointer, source, firstReceivedAt, recordedAt, runID)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                provider, event.eventID, event.eventType, event.resourceType, event.resourceID,
                text?.occurredAt ?? Store.text(event.occurredAt), payload, pointer == nil ? nil : deliveryID, pointer,
                source, text?.receivedAt ?? receivedAt.map(Store.text), now, runID,
            ]
        )
        return db.changesCount > 0
    }

    func localResource(provider: String, type: String, id: String, db: Database) throws -> LocalResource? {
        guard
            let row = try Row.fetchOne(
                db.cachedStatement(
                    sql: "SELECT * FROM resourceState WHERE provider = ? AND resourceType = ? AND resourceID = ?"
                ),
                arguments: [provider, type, id]
            )
        else { return nil }
        return Store.localResource(row)
    }

    static func localResource(_ row: Row) -> LocalResource {
        let object = JSONValue.parse(Data((row["object"] as String? ?? "{}").utf8)) ?? .object([:])
        let money: Money? = {
            guard let amount = row["amountMinor"] as Int64?, let currency = row["currency"] as String? else {
                return nil
            }
            return Money(minorUnits: amount, currency: currency)
        }()
        return LocalResource(
            resourceType: row["resourceType"],
            resourceID: row["resourceID"],
            status: row["status"],
            asOf: date(row["asOf"]) ?? .distantPast,
            object: object,
            money: money
        )
    }

    func saveResource(_ resource: LocalResource, provider: String, updatedBy: String, now: String, db: Database) throws
    {
        try db.executeCached(
            sql: """
                INSERT INTO resourceState (provider, resourceType, resourceID, status, asOf, object, amountMinor, currency,
                    updatedBy, updatedAt)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (provider, resourceType, resourceID) DO UPDATE SET
                    status = excluded.status, asOf = excluded.asOf, object = excluded.object,
                    amountMinor = excluded.amountMinor, currency = excluded.currency, updatedBy = excluded.updatedBy,
                    updatedAt = excluded.updatedAt
                """,
            arguments: [
                provider, resource.resourceType, resource.resourceID, resource.status, Store.text(resource.asOf),
                resource.object.canonicalText, resource.money?.minorUnits, resource.money?.currency, updatedBy, now,
            ]
        )
    }
}
