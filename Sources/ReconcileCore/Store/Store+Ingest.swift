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
    /// The text the store writes for this record, made by ``prepare(replacingStateWhole:)``
    /// before the batch's transaction, so that the one writing thread does only what needs the store.
    var prepared: Prepared?

    /// Text of `receivedAt` and of each accepted event, as the store writes them.
    struct Prepared {
        var receivedAt: String?
        var events: [PreparedEvent]
    }

    /// One accepted event's text.
    struct PreparedEvent {
        /// The payload's text; nil when the store keeps it as a place in the body (``ProviderEvent/bodyPointer``).
        var payload: String?
        var occurredAt: String
        /// The local row the event's snapshot becomes, when its provider replaces rows whole
        /// (``ProviderAdapter/replacesStateWithSnapshots``); nil when the store must ask `apply`.
        var state: PreparedState?
    }

    /// A local row as the store writes it (``Store/saveResourceSQL``).
    struct PreparedState {
        var resourceType: String
        var resourceID: String
        var status: String?
        var asOf: String
        var object: String
        var amountMinor: Int64?
        var currency: String?

        init(_ resource: LocalResource) {
            resourceType = resource.resourceType
            resourceID = resource.resourceID
            status = resource.status
            asOf = Store.text(resource.asOf)
            object = resource.object.canonicalText
            amountMinor = resource.money?.minorUnits
            currency = resource.money?.currency
        }
    }

    /// Computes the text the store writes for this record (see `prepared`).
    ///
    /// `replacingStateWhole` says that the provider's events replace a local row with their
    /// snapshot when newer (the default ``ProviderAdapter/applying(_:to:)``): the row's text is then
    /// made here, and the store reads only the row's `asOf` to decide.
    mutating func prepare(replacingStateWhole: Bool = false) {
        var events: [PreparedEvent] = []
        if case .accepted(let accepted) = verdict {
            events = accepted.map { event in
                PreparedEvent(
                    payload: event.bodyPointer == nil ? event.payload.canonicalText : nil,
                    occurredAt: Store.text(event.occurredAt),
                    state: replacingStateWhole ? PreparedState(LocalResource(snapshot: event.snapshot)) : nil
                )
            }
        }
        prepared = Prepared(receivedAt: receivedAt.map(Store.text), events: events)
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
    /// leads to, or nil when it must not change the row (it is not newer than the row's `asOf`); it
    /// is not asked for an event whose record was prepared with its row (``IngestRecord/PreparedEvent/state``).
    public func ingest(
        _ batch: [IngestRecord],
        recordedAt: Date,
        apply: (String, ProviderEvent, LocalResource?) -> LocalResource?
    ) throws(StoreFailure) -> [IngestOutcome] {
        try write("record a batch of deliveries") { db in
            let writer = try IngestWriter(store: self, db: db, now: Store.text(recordedAt))
            return try batch.map { record in try writer.ingest(record, apply: apply) }
        }
    }

    /// The statements a batch runs for every line, prepared once per batch transaction.
    private struct IngestWriter {
        let store: Store
        let db: Database
        let now: String
        let insertDelivery: DirectStatement
        let linkEvent: DirectStatement
        let insertEvent: DirectStatement
        let updateFirstReceived: DirectStatement
        let readAsOf: DirectStatement
        let saveState: DirectStatement

        init(store: Store, db: Database, now: String) throws {
            self.store = store
            self.db = db
            self.now = now
            // A fingerprint seen before changes nothing: the line is a duplicate (or a rejection kept already).
            insertDelivery = try DirectStatement(
                db,
                """
                INSERT INTO delivery (fingerprint, provider, receivedAt, recordedAt, method, url, headers, body, verdict,
                    reason, detail, eventID, resourceType, resourceID, sourceName, lineNumber)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (fingerprint) DO NOTHING
                """
            )
            linkEvent = try DirectStatement(
                db,
                "INSERT OR IGNORE INTO deliveryEvent (deliveryID, provider, eventID) VALUES (?, ?, ?)"
            )
            insertEvent = try DirectStatement(db, Store.insertEventSQL)
            updateFirstReceived = try DirectStatement(
                db,
                """
                UPDATE event SET firstReceivedAt = ? WHERE provider = ? AND eventID = ?
                AND (firstReceivedAt IS NULL OR firstReceivedAt > ?)
                """
            )
            readAsOf = try DirectStatement(
                db,
                "SELECT asOf FROM resourceState WHERE provider = ? AND resourceType = ? AND resourceID = ?"
            )
            saveState = try DirectStatement(db, Store.saveResourceSQL)
        }

        func ingest(
            _ record: IngestRecord,
            apply: (String, ProviderEvent, LocalResource?) -> LocalResource?
        ) throws -> IngestOutcome {
            switch record.verdict {
            case .rejected(let reason, let detail, let hint):
                try recordDelivery(record, verdict: "rejected", reason: reason.rawValue, detail: detail, hint: hint)
                return .rejected(reason, detail: detail)
            case .accepted(let events):
                guard let provider = record.provider, let receivedAt = record.receivedAt else {
                    return .rejected(.malformed, detail: "no provider or received_at")
                }
                // What an accepted line carries is in `deliveryEvent` and `event`; the resource
                // columns of `delivery` are a rejected line's hint only, not a third copy.
                guard try recordDelivery(record, verdict: "accepted", reason: nil, detail: nil, hint: nil) else {
                    return .duplicate
                }
                let deliveryID = insertDelivery.lastInsertedRowID
                let receivedText = record.prepared?.receivedAt ?? Store.text(receivedAt)
                let prepared = record.prepared?.events.count == events.count ? record.prepared?.events : nil
                var anyNew = false
                for (index, event) in events.enumerated() {
                    let text = prepared?[index]
                    linkEvent.bind(deliveryID)
                    linkEvent.bind(provider)
                    linkEvent.bind(event.eventID)
                    try linkEvent.run()
                    if try recordEvent(
                        event,
                        provider: provider,
                        deliveryID: deliveryID,
                        text: text,
                        received: receivedText
                    ) {
                        anyNew = true
                    } else {
                        updateFirstReceived.bind(receivedText)
                        updateFirstReceived.bind(provider)
                        updateFirstReceived.bind(event.eventID)
                        updateFirstReceived.bind(receivedText)
                        try updateFirstReceived.run()
                    }
                    if let state = text?.state {
                        try replaceState(with: event, state: state, provider: provider)
                    } else {
                        let current = try store.localResource(
                            provider: provider,
                            type: event.resourceType,
                            id: event.resourceID,
                            db: db
                        )
                        if let next = apply(provider, event, current) {
                            try store.saveResource(next, provider: provider, updatedBy: "ingest", now: now, db: db)
                        }
                    }
                }
                return anyNew || events.isEmpty ? .accepted : .duplicate
            }
        }

        /// Inserts the line's delivery row; false when its fingerprint was recorded before.
        @discardableResult
        private func recordDelivery(
            _ record: IngestRecord,
            verdict: String,
            reason: String?,
            detail: String?,
            hint: ResourceHint?
        ) throws -> Bool {
            let statement = insertDelivery
            statement.bind(record.fingerprint)
            statement.bind(record.provider)
            statement.bind(record.prepared?.receivedAt ?? record.receivedAt.map(Store.text))
            statement.bind(now)
            statement.bind(record.method)
            statement.bind(record.url)
            statement.bind(record.headersJSON)
            statement.bind(record.body)
            statement.bind(verdict)
            statement.bind(reason)
            statement.bind(detail)
            statement.bind(hint?.eventID)
            statement.bind(hint?.resourceType)
            statement.bind(hint?.resourceID)
            statement.bind(record.sourceName)
            statement.bind(Int64(record.lineNumber))
            return try statement.run() > 0
        }

        /// Inserts a webhook event unless its id is known; returns whether it was new.
        private func recordEvent(
            _ event: ProviderEvent,
            provider: String,
            deliveryID: Int64,
            text: IngestRecord.PreparedEvent?,
            received: String
        ) throws -> Bool {
            let pointer = event.bodyPointer
            let statement = insertEvent
            statement.bind(provider)
            statement.bind(event.eventID)
            statement.bind(event.eventType)
            statement.bind(event.resourceType)
            statement.bind(event.resourceID)
            statement.bind(text?.occurredAt ?? Store.text(event.occurredAt))
            statement.bind(pointer == nil ? text?.payload ?? event.payload.canonicalText : nil)
            statement.bind(pointer == nil ? nil : deliveryID)
            statement.bind(pointer)
            statement.bind("webhook")
            statement.bind(received)
            statement.bind(now)
            statement.bind(nil as String?)
            return try statement.run() > 0
        }

        /// The default rule of ``ProviderAdapter/applying(_:to:)``, with the row's text made before
        /// the transaction: a row whose `asOf` is not older than the event stays as it is.
        private func replaceState(with event: ProviderEvent, state: IngestRecord.PreparedState, provider: String) throws
        {
            readAsOf.bind(provider)
            readAsOf.bind(event.resourceType)
            readAsOf.bind(event.resourceID)
            if let asOf = try readAsOf.firstText(), event.occurredAt <= Store.date(asOf) ?? .distantPast {
                return
            }
            let statement = saveState
            statement.bind(provider)
            statement.bind(state.resourceType)
            statement.bind(state.resourceID)
            statement.bind(state.status)
            statement.bind(state.asOf)
            statement.bind(state.object)
            statement.bind(state.amountMinor)
            statement.bind(state.currency)
            statement.bind("ingest")
            statement.bind(now)
            try statement.run()
        }
    }

    /// Inserts an event (any source); a known `(provider, eventID)` changes nothing.
    static let insertEventSQL = """
        INSERT OR IGNORE INTO event (provider, eventID, eventType, resourceType, resourceID, occurredAt, payload,
            payloadDelivery, payloadPointer, source, firstReceivedAt, recordedAt, runID)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """

    /// Inserts or replaces a local row.
    static let saveResourceSQL = """
        INSERT INTO resourceState (provider, resourceType, resourceID, status, asOf, object, amountMinor, currency,
            updatedBy, updatedAt)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (provider, resourceType, resourceID) DO UPDATE SET
            status = excluded.status, asOf = excluded.asOf, object = excluded.object,
            amountMinor = excluded.amountMinor, currency = excluded.currency, updatedBy = excluded.updatedBy,
            updatedAt = excluded.updatedAt
        """

    /// Inserts a repair's event unless its id is known; returns whether it was new.
    ///
    /// Such an event keeps its payload's text, `payload` (the caller's, which its audit row keeps
    /// too): it came from the read API, not in a delivery's body.
    func recordEvent(
        _ event: ProviderEvent,
        payload: String,
        provider: String,
        source: String,
        receivedAt: Date?,
        now: String,
        runID: String?,
        db: Database
    ) throws -> Bool {
        try db.executeCached(
            sql: Store.insertEventSQL,
            arguments: [
                provider, event.eventID, event.eventType, event.resourceType, event.resourceID,
                Store.text(event.occurredAt), payload, nil, nil, source,
                receivedAt.map(Store.text), now, runID,
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
            sql: Store.saveResourceSQL,
            arguments: [
                provider, resource.resourceType, resource.resourceID, resource.status, Store.text(resource.asOf),
                resource.object.canonicalText, resource.money?.minorUnits, resource.money?.currency, updatedBy, now,
            ]
        )
    }
}
