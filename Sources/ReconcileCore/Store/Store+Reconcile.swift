import Foundation
import GRDB

/// What the store knows of one event: when it happened and how it reached us.
public struct LocalEvent: Sendable, Equatable {
    public var eventID: String
    public var eventType: String
    public var resourceType: String
    public var resourceID: String
    public var occurredAt: Date
    /// `webhook` or `reconciliation`: how the event was first recorded.
    public var source: String
    /// When the earliest validly signed webhook delivery of the event was received, if one was.
    ///
    /// It stays when retention prunes that delivery: the event was received then all the same.
    public var firstReceipt: Date?
    /// Where the event's JSON is: a run holds every event of a chunk, while few of them (those a
    /// finding names with its money) need it, so a payload kept in a delivery's body is read only
    /// when asked for.
    var payloadSource: PayloadSource

    /// Where an event's JSON is kept.
    enum PayloadSource: Sendable, Equatable {
        /// Its text: events a repair recorded, and those whose delivery retention removed.
        case text(String)
        /// A place in a delivery's raw body (schema v5), read through `bodies` when asked for.
        case place(delivery: Int64, pointer: String, bodies: DeliveryBodyReader)
        /// Nowhere: the store holds nothing for it.
        case none
    }

    /// The delivery whose body holds the payload; -1 when the payload is not in a body.
    var payloadDelivery: Int64 {
        if case .place(let delivery, _, _) = payloadSource { return delivery }
        return -1
    }

    /// The event's JSON (`null` when the store holds none that parses).
    public func payload() throws(StoreFailure) -> JSONValue {
        switch payloadSource {
        case .text(let text): JSONValue.parse(Data(text.utf8)) ?? .null
        case .place(let delivery, let pointer, let bodies):
            try bodies.value(delivery: delivery, pointer: pointer, eventID: eventID)
        case .none: .null
        }
    }

    /// Lets go of the parsed body its payload was read from (kept for the next event of the same batch).
    func releaseBody() {
        if case .place(_, _, let bodies) = payloadSource { bodies.forget() }
    }
}

/// Reads event payloads from their deliveries' bodies, for the events of one read of the store.
///
/// The last body read stays parsed until ``forget()``, so the events of one batch (a Crezco line
/// can carry a hundred thousand) parse its body once when several of them are asked for in a row.
/// Two readers are equal only when they are the same one.
final class DeliveryBodyReader: Equatable, @unchecked Sendable {
    private let store: Store
    private let provider: String
    private let lock = NSLock()
    private var bodies = DeliveryBodies()

    init(store: Store, provider: String) {
        self.store = store
        self.provider = provider
    }

    /// The value at `pointer` in delivery `delivery`'s body, or `null` when the store holds none.
    ///
    /// The value is what the store's canonical text of it reads back as, as for a payload kept as
    /// text: a whole decimal (`1250.0`) is the integer 1250, which money needs. When the delivery is
    /// gone since the event was read (retention copies a payload into its event's row before it
    /// removes the delivery), the row's text is read instead.
    func value(delivery: Int64, pointer: String, eventID: String) throws(StoreFailure) -> JSONValue {
        lock.lock()
        defer { lock.unlock() }
        let body = try bodies.json(delivery) { (id) throws(StoreFailure) -> Data? in
            try store.read("read an event's payload from its delivery") { db in try DeliveryBodies.body(id, db: db) }
        }
        var text = body?.at(pointer: pointer)?.canonicalText
        if text == nil {
            text = try store.read("read an event's payload") { db in
                try String.fetchOne(
                    db.cachedStatement(sql: "SELECT payload FROM event WHERE provider = ? AND eventID = ?"),
                    arguments: [provider, eventID]
                )
            }
        }
        return text.flatMap { JSONValue.parse(Data($0.utf8)) } ?? .null
    }

    /// Lets go of the last body parsed.
    func forget() {
        lock.lock()
        defer { lock.unlock() }
        bodies.forget()
    }

    static func == (left: DeliveryBodyReader, right: DeliveryBodyReader) -> Bool { left === right }
}

/// A rejected delivery, as `invalid_signature` reports it.
public struct RejectedDelivery: Sendable {
    public var id: Int64
    public var provider: String?
    public var receivedAt: Date?
    public var reason: String
    public var detail: String?
    public var eventID: String?
    public var resourceType: String?
    public var resourceID: String?
    public var sourceName: String?
    public var lineNumber: Int?
}

/// An event delivered validly more than once.
public struct DuplicatedEvent: Sendable {
    public var eventID: String
    public var deliveries: Int
}

extension Store {
    /// The columns of ``LocalEvent`` for the events `e` of `source` that satisfy `condition`, in no
    /// particular order; `localEvent(_:bodies:)` reads them by position.
    ///
    /// The first receipt is the event's own `firstReceivedAt`, which ingest keeps at the earliest
    /// validly signed delivery: reading it from the deliveries instead (a join to `deliveryEvent`
    /// and to each delivery row, all over the file) was about half of a chunk's local events, and
    /// lost the receipt once retention pruned the delivery.
    static func localEventsSQL(from source: String, where condition: String) -> String {
        """
        SELECT e.eventID, e.eventType, e.resourceType, e.resourceID, e.occurredAt, e.source, e.payload,
            e.payloadDelivery, e.payloadPointer, e.firstReceivedAt AS firstReceipt
        FROM \(source)
        WHERE \(condition)
        """
    }

    /// Every event of `count` resources, named by `(type, id)` pairs, then the provider.
    ///
    /// The resources first, then their events by `event_resource` (CROSS JOIN keeps that order),
    /// so the work grows with the resources asked for, not with the store.
    static func eventsOfResourcesSQL(count: Int) -> String {
        resourceKeysSQL(count: count)
            + localEventsSQL(
                from: """
                    k CROSS JOIN event e ON e.provider = ? AND e.resourceType = k.resourceType
                        AND e.resourceID = k.resourceID
                    """,
                where: "1"
            )
    }

    /// The resources with an event in the window, by `event_occurred`, and whether one of those
    /// events came by webhook.
    ///
    /// Arguments: provider, since, until.
    static let activeResourcesSQL = """
        SELECT resourceType, resourceID, MAX(source = 'webhook') FROM event
        WHERE provider = ? AND occurredAt >= ? AND occurredAt < ?
        GROUP BY resourceType, resourceID
        """

    /// Events with more than one valid delivery before `until`, one of them in the window.
    ///
    /// The events delivered in the window first, kept only when `deliveryEvent_event` links them to
    /// more than one delivery (the index alone answers that), then all their deliveries: only
    /// those few read a delivery row again for its verdict and time, where every event of the window
    /// did before (about a third of this statement). The work grows with the window, not with every
    /// delivery the retention keeps. Arguments: provider, since, until, provider, provider, until.
    ///
    /// The verdict of a delivery in the window is asked for in a subquery after the count of links,
    /// so that `delivery_received` alone finds the window's deliveries: a `w.verdict` term read
    /// every delivery row of the window (bodies included) before any link was counted
    /// (`sqlite3`: 0.19-0.26 s, then 0.15 s, on the #10 world).
    static let duplicatedEventsSQL = """
        SELECT de.eventID, COUNT(*) AS deliveries
        FROM (
            SELECT DISTINCT inWindow.eventID FROM delivery w
            JOIN deliveryEvent inWindow ON inWindow.deliveryID = w.id
            WHERE w.provider = ? AND w.receivedAt >= ? AND w.receivedAt < ?
            AND (SELECT COUNT(*) FROM deliveryEvent links WHERE links.provider = ? AND links.eventID = inWindow.eventID) > 1
            AND (SELECT accepted.verdict FROM delivery accepted WHERE accepted.id = inWindow.deliveryID) = 'accepted'
        ) AS shared
        CROSS JOIN deliveryEvent de ON de.provider = ? AND de.eventID = shared.eventID
        JOIN delivery d ON d.id = de.deliveryID
        WHERE d.verdict = 'accepted' AND d.receivedAt < ?
        GROUP BY de.eventID HAVING COUNT(*) > 1
        ORDER BY de.eventID
        """

    /// The keys of the local rows whose `asOf` is in the window, by the `resourceState_asOf` index (schema v6).
    ///
    /// Arguments: provider, since, until.
    static let rowKeysAsOfSQL = """
        SELECT resourceType, resourceID FROM resourceState WHERE provider = ?
        AND julianday(asOf) >= julianday(?) AND julianday(asOf) < julianday(?)
        """

    /// A row of ``localEventsSQL(from:where:)``, read by position in the order it selects (by name,
    /// each column's name was lowercased for every row).
    private static func localEvent(_ row: Row, bodies: DeliveryBodyReader) -> LocalEvent {
        let source: LocalEvent.PayloadSource
        if let text = row[6] as String? {
            source = .text(text)
        } else if let delivery = row[7] as Int64?, let pointer = row[8] as String? {
            source = .place(delivery: delivery, pointer: pointer, bodies: bodies)
        } else {
            source = .none
        }
        return LocalEvent(
            eventID: row[0],
            eventType: row[1],
            resourceType: row[2],
            resourceID: row[3],
            occurredAt: date(row[4]) ?? .distantPast,
            source: row[5],
            firstReceipt: date(row[9]),
            payloadSource: source
        )
    }

    /// Reads ``localEventsSQL(from:where:)`` rows into local events, whose payloads `bodies` reads when asked for.
    private static func localEvents(_ rows: RowCursor, bodies: DeliveryBodyReader) throws -> [LocalEvent] {
        var events: [LocalEvent] = []
        while let row = try rows.next() { events.append(localEvent(row, bodies: bodies)) }
        return events
    }

    /// The stored events among `ids`.
    public func events(provider: String, ids: [String]) throws(StoreFailure) -> [LocalEvent] {
        let bodies = DeliveryBodyReader(store: self, provider: provider)
        return try read("read local events by id") { db in
            var found: [LocalEvent] = []
            for chunk in stride(from: 0, to: ids.count, by: 500).map({ Array(ids[$0..<min($0 + 500, ids.count)]) }) {
                let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
                found += try Self.localEvents(
                    Row.fetchCursor(
                        db,
                        sql: Self.localEventsSQL(from: "event e", where: "e.provider = ? AND e.eventID IN (\(marks))"),
                        arguments: StatementArguments([provider] + chunk)
                    ),
                    bodies: bodies
                )
            }
            return found
        }
    }

    /// Which of `ids` (a page of the provider's events) the store records: first those in the
    /// page's time (`occurred`) by `event_occurred`, then the rest by primary key, each bound
    /// directly (an `IN` list of a hundred cost more than the text it spares).
    public func recordedEventIDs(provider: String, among ids: [String], occurred: ClosedRange<Date>? = nil)
        throws(StoreFailure) -> Set<ExactID>
    {
        guard !ids.isEmpty else { return [] }
        return try read("look up recorded events") { db in
            var found = Set<ExactID>()
            var wanted = Set(ids.map { ExactID($0) })
            if let occurred {
                // A page's events lie together in `event_occurred`: a few of its pages, read in order,
                // where a lookup by id lands on a page of its own (and a read from the file) for each.
                // Bounded, should the store hold many more events than the page in that time.
                let near = try DirectStatement(
                    cached: db,
                    "SELECT eventID FROM event WHERE provider = ? AND occurredAt >= ? AND occurredAt <= ? LIMIT ?"
                )
                near.bind(provider)
                near.bind(Store.text(occurred.lowerBound))
                near.bind(Store.text(occurred.upperBound))
                near.bind(Int64(4 * ids.count))
                try near.forEachRow { row in
                    if let text = try row.text(0), case let id = ExactID(text), wanted.remove(id) != nil {
                        found.insert(id)
                    }
                }
            }
            // The rest by id: stored under another time, or not stored.
            let find = try DirectStatement(cached: db, "SELECT 1 FROM event WHERE provider = ? AND eventID = ?")
            for id in wanted {
                find.bind(provider)
                find.bind(id.text)
                if try find.firstDouble() != nil { found.insert(id) }
            }
            return found
        }
    }

    /// The statement for `count` resources: a full run's (``resourcesPerStatement``) from the
    /// connection's cache (made again on every chunk otherwise), any other count prepared for this
    /// use only, so that the cache holds one statement of each kind, not one per count a call had.
    private static func statement(_ db: Database, _ sql: String, count: Int) throws -> Statement {
        count == resourcesPerStatement ? try db.cachedStatement(sql: sql) : try db.makeStatement(sql: sql)
    }

    /// Resources per statement of ``byResources(_:provider:_:)``.
    private static let resourcesPerStatement = 400

    /// Every event of the resources `keys`, by `event_resource`, a statement per 400 resources.
    public func events(provider: String, ofResources keys: [ResourceKey]) throws(StoreFailure) -> [LocalEvent] {
        let bodies = DeliveryBodyReader(store: self, provider: provider)
        return try read("read local events") { db in
            var found: [LocalEvent] = []
            try Self.byResources(keys, provider: provider) { count, arguments in
                found += try Self.localEvents(
                    Row.fetchCursor(
                        Self.statement(db, Self.eventsOfResourcesSQL(count: count), count: count),
                        arguments: arguments
                    ),
                    bodies: bodies
                )
            }
            return found
        }
    }

    /// Calls `body` for each run of up to 400 of `keys`, with the run's size and the arguments of
    /// a statement that names its keys as `(type, id)` pairs (``resourceKeysSQL(count:)``), then the provider.
    private static func byResources(
        _ keys: [ResourceKey],
        provider: String,
        _ body: (_ count: Int, _ arguments: StatementArguments) throws -> Void
    ) rethrows {
        for start in stride(from: 0, to: keys.count, by: resourcesPerStatement) {
            let chunk = keys[start..<min(start + resourcesPerStatement, keys.count)]
            var arguments: [String] = []
            arguments.reserveCapacity(chunk.count * 2 + 1)
            for key in chunk { arguments += [key.type, key.id] }
            arguments.append(provider)
            try body(chunk.count, StatementArguments(arguments))
        }
    }

    /// A `WITH k(resourceType, resourceID)` of `count` keys, each bound as two arguments.
    static func resourceKeysSQL(count: Int) -> String {
        "WITH k(resourceType, resourceID) AS (VALUES "
            + Array(repeating: "(?, ?)", count: count).joined(separator: ", ") + ") "
    }

    /// The resources with an event with provider time in `[since, until)`, and whether one came by webhook.
    public func resourcesWithEvents(provider: String, since: Date, until: Date) throws(StoreFailure) -> [(
        key: ResourceKey, webhook: Bool
    )] {
        try read("read the window's local events") { db in
            try Row.fetchAll(
                db,
                sql: Self.activeResourcesSQL,
                arguments: [provider, Store.text(since), Store.text(until)]
            ).map { (ResourceKey($0[0], $0[1]), $0[2]) }
        }
    }

    /// The resources whose local row has its `asOf` in `[since, until)`.
    public func resourceKeys(provider: String, asOfSince since: Date, until: Date) throws(StoreFailure) -> [ResourceKey]
    {
        try read("read local state") { db in
            try Row.fetchAll(
                db,
                sql: Self.rowKeysAsOfSQL,
                arguments: [provider, Store.text(since), Store.text(until)]
            ).map { ResourceKey($0[0], $0[1]) }
        }
    }

    /// The local row of one resource.
    public func resource(provider: String, type: String, id: String) throws(StoreFailure) -> LocalResource? {
        try read("read local state") { db in try localResource(provider: provider, type: type, id: id, db: db) }
    }

    /// The local rows of `keys`, in one transaction, a statement per 400 resources.
    ///
    /// A transaction per resource was a fifth of a nightly run's CPU; then a lookup per resource
    /// through GRDB's statement cache and argument arrays was 4 % of a dry run's.
    public func resources(provider: String, keys: [ResourceKey]) throws(StoreFailure) -> [ResourceKey: LocalResource] {
        try read("read local state") { db in
            var found: [ResourceKey: LocalResource] = [:]
            found.reserveCapacity(keys.count)
            try Self.byResources(keys, provider: provider) { count, arguments in
                let rows = try Row.fetchCursor(
                    Self.statement(db, Self.rowsOfResourcesSQL(count: count), count: count),
                    arguments: arguments
                )
                while let row = try rows.next() {
                    let resource = Store.localResource(row)
                    found[ResourceKey(resource.resourceType, resource.resourceID)] = resource
                }
            }
            return found
        }
    }

    /// The local rows of `count` resources, named by `(type, id)` pairs, then the provider: the
    /// keys first, then each row by primary key (CROSS JOIN keeps that order).
    static func rowsOfResourcesSQL(count: Int) -> String {
        resourceKeysSQL(count: count)
            + """
            SELECT r.* FROM k CROSS JOIN resourceState r ON r.provider = ? AND r.resourceType = k.resourceType
                AND r.resourceID = k.resourceID
            """
    }

    /// Rejected deliveries received (or, unreadable ones, recorded) in `[since, until)`.
    ///
    /// `provider` nil selects every provider, including lines that named none of the job's. Read
    /// from `delivery_rejected` (schema v8), which holds the rejected rows alone; without its name
    /// SQLite's planner chose to read the whole table for `provider` nil.
    public func rejectedDeliveries(provider: String?, since: Date, until: Date) throws(StoreFailure)
        -> [RejectedDelivery]
    {
        try read("read rejected deliveries") { db in
            var sql = """
                SELECT id, provider, receivedAt, reason, detail, eventID, resourceType, resourceID, sourceName, lineNumber
                FROM delivery INDEXED BY delivery_rejected WHERE verdict = 'rejected' AND (
                    (receivedAt IS NOT NULL AND receivedAt >= ? AND receivedAt < ?)
                    OR (receivedAt IS NULL AND recordedAt >= ? AND recordedAt <= ?))
                """
            var arguments: [(any DatabaseValueConvertible)?] = [
                Store.text(since), Store.text(until), Store.text(since), Store.text(until),
            ]
            if let provider {
                sql += " AND provider = ?"
                arguments.append(provider)
            }
            return try Row.fetchAll(db, sql: sql + " ORDER BY id", arguments: StatementArguments(arguments)).map {
                row in
                RejectedDelivery(
                    id: row["id"],
                    provider: row["provider"],
                    receivedAt: Store.date(row["receivedAt"]),
                    reason: row["reason"],
                    detail: row["detail"],
                    eventID: row["eventID"],
                    resourceType: row["resourceType"],
                    resourceID: row["resourceID"],
                    sourceName: row["sourceName"],
                    lineNumber: row["lineNumber"]
                )
            }
        }
    }

    /// Events with more than one valid delivery received before `until`, one of them in `[since, until)`.
    public func duplicatedEvents(provider: String, since: Date, until: Date) throws(StoreFailure) -> [DuplicatedEvent] {
        try read("read duplicate deliveries") { db in
            try Row.fetchAll(
                db,
                sql: Self.duplicatedEventsSQL,
                arguments: [provider, Store.text(since), Store.text(until), provider, provider, Store.text(until)]
            ).map { DuplicatedEvent(eventID: $0["eventID"], deliveries: $0["deliveries"]) }
        }
    }

    /// For each of `keys` that an earlier complete, non-dry run of `job` reported: the `now` of the first such run.
    public func firstReported(job: String, keys: [String], excludingRun runID: String) throws(StoreFailure)
        -> [ExactID: Date]
    {
        try read("read earlier findings") { db in
            var found: [ExactID: Date] = [:]
            for chunk in stride(from: 0, to: keys.count, by: 500).map({ Array(keys[$0..<min($0 + 500, keys.count)]) }) {
                let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
                let rows = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT f.findingKey AS findingKey, MIN(r.now) AS firstNow FROM finding f JOIN run r ON r.id = f.runID
                        WHERE r.job = ? AND r.status = 'complete' AND r.dryRun = 0 AND r.id != ?
                        AND f.findingKey IN (\(marks)) GROUP BY f.findingKey
                        """,
                    arguments: StatementArguments([job, runID] + chunk)
                )
                for row in rows {
                    if let date = Store.date(row["firstNow"]) { found[ExactID(row["findingKey"])] = date }
                }
            }
            return found
        }
    }

    /// The findings of the latest complete, non-dry run of `job` like this one, as they were reported.
    ///
    /// "Like this one": a nightly `run` is compared with the previous `run`; a `backfill` with the
    /// previous backfill of the same window (`sameWindow`), never with the nightly runs.
    public func previousRunFindings(
        job: String,
        command: String,
        sameWindow: (since: Date, until: Date)?,
        excludingRun runID: String
    ) throws(StoreFailure) -> [ReportedFinding] {
        try read("read the previous run's findings") { db in
            let window = sameWindow.map { [Store.text($0.since), Store.text($0.until)] } ?? ["", ""]
            guard
                let previous = try String.fetchOne(
                    db,
                    sql: """
                        SELECT id FROM run WHERE job = ? AND command = ? AND status = 'complete' AND dryRun = 0
                        AND id != ? AND (? = 0 OR (since = ? AND until = ?))
                        ORDER BY startedAt DESC, id DESC LIMIT 1
                        """,
                    arguments: [job, command, runID, sameWindow == nil ? 0 : 1, window[0], window[1]]
                )
            else { return [] }
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT findingKey, kind, provider, resourceType, resourceID, eventID FROM finding
                    WHERE runID = ? ORDER BY id
                    """,
                arguments: [previous]
            ).map(Self.reportedFinding)
        }
    }
}

extension Store {
    /// For each of `entries`, its findings from the last nightly run of `job` that read it whole.
    ///
    /// That is the latest non-dry nightly run (`run` or `run --shard`) that was complete, or that
    /// recorded the entry `complete`. ``RunEntry/otherLines`` stands for the findings naming none
    /// of `providers`, the job's entries.
    ///
    /// What a nightly run compares with to say what is `resolved`: with shared runs, the hosts
    /// read different entries each night, so the previous reading of each entry may be a
    /// different run.
    public func previousEntryFindings(
        job: String,
        entries: [String],
        providers: Set<String>,
        excludingRun runID: String
    ) throws(StoreFailure) -> [ReportedFinding] {
        let known = JSONValue.array(providers.sorted().map(JSONValue.string)).canonicalText
        return try read("read the previous findings of each entry") { db in
            var found: [ReportedFinding] = []
            for entry in entries {
                guard
                    let previous = try String.fetchOne(
                        db,
                        sql: """
                            SELECT r.id FROM run r WHERE r.job = ? AND r.dryRun = 0 AND r.id != ?
                            AND r.command IN ('run', ?)
                            AND ((r.command = 'run' AND r.status = 'complete')
                                OR EXISTS (SELECT 1 FROM runEntry e
                                    WHERE e.runID = r.id AND e.provider = ? AND e.status = 'complete'))
                            ORDER BY r.startedAt DESC, r.rowid DESC LIMIT 1
                            """,
                        arguments: [job, runID, RunEntry.sharedCommand, entry]
                    )
                else { continue }
                found += try Row.fetchAll(
                    db,
                    sql: """
                        SELECT findingKey, kind, provider, resourceType, resourceID, eventID FROM finding
                        WHERE runID = ? AND (provider = ?
                            OR (? = '*' AND (provider IS NULL OR provider NOT IN (SELECT value FROM json_each(?)))))
                        ORDER BY id
                        """,
                    arguments: [previous, entry, entry, known]
                ).map(Self.reportedFinding)
            }
            return found
        }
    }

    /// A finding row (`findingKey, kind, provider, resourceType, resourceID, eventID`) as reported.
    static func reportedFinding(_ row: Row) -> ReportedFinding {
        ReportedFinding(
            id: Finding.id(ofKey: row["findingKey"]),
            key: row["findingKey"],
            kind: row["kind"],
            provider: row["provider"],
            resourceType: row["resourceType"],
            resourceID: row["resourceID"],
            eventID: row["eventID"]
        )
    }

    /// Whether a run of `job` in `round` has read `entry` (recorded it `complete` or `failed`).
    public func entryRead(job: String, round: String, entry: String) throws(StoreFailure) -> Bool {
        try read("read the entries of round \(round)") { db in
            try Bool.fetchOne(
                db,
                sql: """
                    SELECT EXISTS (SELECT 1 FROM runEntry
                        WHERE job = ? AND round = ? AND provider = ? AND status != 'interrupted')
                    """,
                arguments: [job, round, entry]
            ) ?? false
        }
    }

    /// Round `named` of `job`'s shared runs (the newest when nil): its runs, and the entries they
    /// recorded with their report parts, in the order recorded; nil when there is no such round.
    public func round(job: String, named: String?) throws(StoreFailure) -> StoredRound? {
        try read("read a round") { db in
            guard
                let round = try named
                    ?? String.fetchOne(
                        db,
                        sql: """
                            SELECT round FROM run WHERE job = ? AND round IS NOT NULL
                            ORDER BY startedAt DESC, rowid DESC LIMIT 1
                            """,
                        arguments: [job]
                    )
            else { return nil }
            let runs = try Row.fetchAll(
                db,
                sql: "SELECT * FROM run WHERE job = ? AND round = ? ORDER BY startedAt, rowid",
                arguments: [job, round]
            ).map(Self.runSummary)
            guard !runs.isEmpty else { return nil }
            let parts = try Row.fetchAll(
                db,
                sql: """
                    SELECT provider, report FROM runEntry
                    WHERE job = ? AND round = ? AND report IS NOT NULL ORDER BY rowid
                    """,
                arguments: [job, round]
            ).map { (entry: $0["provider"] as String, report: $0["report"] as String) }
            return StoredRound(round: round, runs: runs, parts: parts)
        }
    }
}

/// A finding as an earlier run reported it; in a report, one that is no longer found.
public struct ReportedFinding: Codable, Sendable, Equatable {
    public var id: String
    var key: String
    public var kind: String
    public var provider: String?
    public var resourceType: String?
    public var resourceID: String?
    public var eventID: String?

    enum CodingKeys: String, CodingKey {
        case id, kind, provider
        case resourceType = "resource_type"
        case resourceID = "resource_id"
        case eventID = "event_id"
    }

    init(
        id: String,
        key: String,
        kind: String,
        provider: String?,
        resourceType: String?,
        resourceID: String?,
        eventID: String?
    ) {
        self.id = id
        self.key = key
        self.kind = kind
        self.provider = provider
        self.resourceType = resourceType
        self.resourceID = resourceID
        self.eventID = eventID
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        key = ""
        kind = try container.decode(String.self, forKey: .kind)
        provider = try container.decodeIfPresent(String.self, forKey: .provider)
        resourceType = try container.decodeIfPresent(String.self, forKey: .resourceType)
        resourceID = try container.decodeIfPresent(String.self, forKey: .resourceID)
        eventID = try container.decodeIfPresent(String.self, forKey: .eventID)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(kind, forKey: .kind)
        try container.encode(provider, forKey: .provider)
        try container.encode(resourceType, forKey: .resourceType)
        try container.encode(resourceID, forKey: .resourceID)
        try container.encode(eventID, forKey: .eventID)
    }

    /// The finding as report.json's `resolved` writes it: what ``encode(to:)`` encodes, as a value.
    var jsonValue: JSONValue {
        .object([
            "id": .string(id),
            "kind": .string(kind),
            "provider": provider.map(JSONValue.string) ?? .null,
            "resource_type": resourceType.map(JSONValue.string) ?? .null,
            "resource_id": resourceID.map(JSONValue.string) ?? .null,
            "event_id": eventID.map(JSONValue.string) ?? .null,
        ])
    }
}

/// Delivery bodies parsed for the event payloads they hold (migration v5), the last one kept.
///
/// Read in the order of their deliveries, the events of a batch parse its body once however many
/// of them there are (a 16 MiB line can carry a hundred thousand).
struct DeliveryBodies {
    private var last: (delivery: Int64, json: JSONValue?)?

    /// Delivery `id`'s raw body, nil when it is gone.
    static func body(_ id: Int64, db: Database) throws -> Data? {
        try Data.fetchOne(db.cachedStatement(sql: "SELECT body FROM delivery WHERE id = ?"), arguments: [id])
    }

    /// Delivery `id`'s body parsed (nil when it is gone or not JSON): the one kept when it was the
    /// last asked for, else what `fetch` reads.
    mutating func json<Failure: Error>(
        _ id: Int64,
        fetch: (Int64) throws(Failure) -> Data?
    ) throws(Failure) -> JSONValue? {
        if let last, last.delivery == id { return last.json }
        let json = try fetch(id).flatMap(JSONValue.parse)
        last = (id, json)
        return json
    }

    /// The canonical payload text of an event row with `payload`, `payloadDelivery` and
    /// `payloadPointer`; nil when the body is gone or not JSON, or the pointer names nothing.
    mutating func payloadText(_ row: Row, db: Database) throws -> String? {
        if let text = row["payload"] as String? { return text }
        guard let delivery = row["payloadDelivery"] as Int64?, let pointer = row["payloadPointer"] as String? else {
            return nil
        }
        return try json(delivery) { try Self.body($0, db: db) }?.at(pointer: pointer)?.canonicalText
    }

    /// Lets go of the body kept.
    mutating func forget() { last = nil }
}
