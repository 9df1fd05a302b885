import Foundation
import GRDB

/// How many rows of a list a ``RemoteRows`` kept: rows never seen before, and rows that replaced an older version.
public struct KeptRows: Sendable, Equatable {
    public var new = 0
    public var newer = 0

    /// Whether any row added something: a new id, or a newer version of one.
    var addedAny: Bool { new + newer > 0 }

    /// Counts a row with provider time `time` against the version kept, of time `stored`.
    ///
    /// - Returns: Whether the row replaces the kept version: false when that one is newer.
    mutating func admit<Time: Comparable>(_ time: Time, over stored: Time?) -> Bool {
        guard let stored else {
            new += 1
            return true
        }
        if stored < time { newer += 1 }
        return stored <= time
    }
}

/// Where a reader puts the rows of its lists as it reads them, page by page.
///
/// One version is kept per event id and per resource (type and id): the newest by provider time,
/// and at an equal time the one read last, so a row updated while the list was read counts once.
public protocol RemoteRows: Sendable {
    func keep(events: [ProviderEvent]) async throws -> KeptRows
    func keep(resources: [ResourceSnapshot]) throws -> KeptRows
}

/// What the classification of a chunk needs of an event the provider listed: who, what, when, and
/// the state it carries.
///
/// The whole event stays in the temporary file when the store lacks it: a repair that records it
/// copies it from there (``RunScratch/plan(events:resources:)``), so the events of a chunk are not
/// parsed again.
struct ListedEvent: Sendable, Equatable {
    var eventID: String
    var eventType: String
    var resourceType: String
    var resourceID: String
    var occurredAt: Date
    var status: String?
    var money: Money?

    /// What `event` gives a chunk: the columns ``RunScratch/keep(events:)`` writes.
    init(_ event: ProviderEvent) {
        eventID = event.eventID
        eventType = event.eventType
        resourceType = event.resourceType
        resourceID = event.resourceID
        occurredAt = event.occurredAt
        status = event.snapshot.status
        money = event.snapshot.money
    }

    /// An event read back by ``RunScratch/events(from:through:)``, whose columns come in this order.
    ///
    /// Read straight from SQLite by position: GRDB's rows (each copied into boxed values, each
    /// column found by its lowercased name) were most of reading a chunk's events back.
    init(_ row: DirectStatement.Columns) throws {
        func required(_ column: Int32) throws -> String {
            guard let text = try row.text(column) else {
                throw DatabaseError(resultCode: .SQLITE_CORRUPT, message: "a listed event without column \(column)")
            }
            return text
        }
        eventID = try required(0)
        eventType = try required(1)
        resourceType = try required(2)
        resourceID = try required(3)
        occurredAt = Date(timeIntervalSinceReferenceDate: row.double(4))
        status = try row.text(5)
        money = try row.integer(6).flatMap { amount in try row.text(7).map { Money(minorUnits: amount, currency: $0) } }
    }
}

/// One provider's read-API answers for one run: in memory while they fit, then in a private
/// temporary SQLite database.
///
/// A nightly window at scale (200,000 resources, a million events) does not fit in memory as
/// parsed objects. The answers are held in memory up to ``heldBytes`` (``HeldAnswers``), which a
/// window of about 150,000 events fits; past that, they move to the file and every later one is
/// written there as it is read, and the reconciler reads them back one chunk of resources at a
/// time. Either way each question gets the same answer. The repairs it plans wait in the file,
/// until they are applied.
///
/// SQLite makes a private database for an empty path and removes its file as soon as it is open,
/// so nothing is left behind, even by a killed run; the file lives in SQLite's temporary folder
/// (``SQLiteTemporaryFolder``: `SQLITE_TMPDIR`, else `TMPDIR`, else the first of `/var/tmp`,
/// `/usr/tmp` and `/tmp` that can be written in).
final class RunScratch: RemoteRows {
    /// Which of a page's event ids the store already records, given where their provider times lie.
    typealias RecordedEvents = @Sendable (_ ids: [String], _ occurred: ClosedRange<Date>?) async throws -> Set<ExactID>

    private let queue: DatabaseQueue
    private let recorded: RecordedEvents
    /// The answers while they fit in memory (``HeldAnswers``); the file takes them past that.
    private let held: HeldAnswers
    /// Why a page could not be kept, once one could not: the pages since the last commit went with it.
    private let lostPages = LostPages()

    /// The most estimated bytes of answers held in memory: the issue's world (97,000 events, 19,000
    /// resources) takes about 40 MB here, a window of a million events goes on in the file.
    static let heldBytes = 64 << 20

    /// Rows the lists' pages write in one transaction before it is committed.
    ///
    /// A transaction per page committed every page's changed file pages (the ids' index is touched
    /// all over), about a third of keeping them; nothing else reads this file while the lists are
    /// read, and a failure fails the run, so pages need not be committed one by one.
    static let rowsPerCommit = 5_000

    /// A keep that failed, for every later use of the file to refuse.
    private final class LostPages: @unchecked Sendable {
        private let lock = NSLock()
        private var reason: String?

        var failure: String? { lock.withLock { reason } }

        func record(_ failure: String) { lock.withLock { reason = reason ?? failure } }
    }

    /// - Parameters:
    ///   - recorded: which events the store records. Their whole text is not kept: a repair only
    ///     ever records an event the store lacks (a dropped event), and writing the text of every
    ///     listed event was a third of keeping them. Nothing removes an event from the store
    ///     (retention prunes deliveries, after copying their payloads into their events), so an
    ///     event recorded now still is when the repairs are planned.
    ///   - pageLimit: the most pages of 4 KiB the file may grow to; nil: no limit but the disk's.
    ///     Tests use it for a full temporary folder.
    ///   - memoryLimit: the most estimated bytes of answers held in memory before they move to the
    ///     file (``heldBytes``); 0 keeps every answer in the file.
    ///   - budget: the estimated bytes every scratch of the process may hold together.
    /// - Throws: ``StoreFailure`` when the temporary file cannot be made.
    init(
        recorded: @escaping RecordedEvents = { _, _ in [] },
        pageLimit: Int? = nil,
        memoryLimit: Int = RunScratch.heldBytes,
        budget: HeldBudget = .shared
    ) throws(StoreFailure) {
        self.recorded = recorded
        held = HeldAnswers(limit: memoryLimit, budget: budget)
        do {
            var configuration = Configuration()
            configuration.label = "scratch"
            // The lists' pages share a transaction across accesses (`keepPage`), which GRDB
            // refuses unless told; every other access commits it first (`settle`).
            configuration.allowsUnsafeTransactions = true
            queue = try DatabaseQueue(path: "", configuration: configuration)
            // The rollback journal in memory: a temporary file's journal stays in memory only up to
            // 64 KiB, then spills to a file of its own, and keeping a page of 100 events changes more
            // than that (a dry run at CHAINS=20000 made 355,160 `pwrite`s; 62,684 with this). Rollback
            // still works; a killed run loses only this throwaway file. Set outside a transaction:
            // inside one, SQLite keeps the mode it had.
            try queue.writeWithoutTransaction { db in _ = try String.fetchOne(db, sql: "PRAGMA journal_mode = MEMORY") }
            try queue.write { db in
                try db.execute(
                    sql: """
                        PRAGMA cache_size = -8192;
                        \(pageLimit.map { "PRAGMA max_page_count = \($0);" } ?? "")
                        CREATE TABLE remoteEvent (
                            eventID TEXT PRIMARY KEY, eventType TEXT NOT NULL, resourceType TEXT NOT NULL,
                            resourceID TEXT NOT NULL, occurredAt REAL NOT NULL, status TEXT, amount INTEGER,
                            currency TEXT, body TEXT);
                        CREATE TABLE remoteResource (
                            resourceType TEXT NOT NULL, resourceID TEXT NOT NULL, updatedAt REAL NOT NULL,
                            listed INTEGER NOT NULL, body TEXT NOT NULL);
                        CREATE UNIQUE INDEX remoteResource_key ON remoteResource(resourceType, resourceID);
                        CREATE TABLE resourceKey (
                            resourceType TEXT NOT NULL, resourceID TEXT NOT NULL, classified INTEGER NOT NULL,
                            PRIMARY KEY (resourceType, resourceID)) WITHOUT ROWID;
                        CREATE TABLE plannedRepair (
                            seq INTEGER PRIMARY KEY, findingKey TEXT NOT NULL, kind TEXT NOT NULL,
                            rank INTEGER NOT NULL, body TEXT NOT NULL);
                        """
                )
            }
        } catch {
            throw StoreFailure(
                "open a temporary file for the provider's answers" + Self.place,
                error,
                temporaryFile: true
            )
        }
    }

    private func write<T>(_ operation: String, _ updates: (Database) throws -> T) throws(StoreFailure) -> T {
        try access(operation) { db in
            try settle(db)
            try db.beginTransaction()
            do {
                let result = try updates(db)
                try db.commit()
                return result
            } catch {
                if db.isInsideTransaction { try? db.rollback() }
                throw error
            }
        }
    }

    /// Runs `body` on the file's connection, outside GRDB's transactions (the callers make their
    /// own); a failure that is not already a ``StoreFailure`` becomes one naming `operation`.
    private func access<T>(_ operation: String, _ body: (Database) throws -> T) throws(StoreFailure) -> T {
        do {
            return try queue.writeWithoutTransaction(body)
        } catch let failure as StoreFailure {
            throw failure
        } catch {
            throw StoreFailure(operation + Self.place, error, temporaryFile: true)
        }
    }

    /// Runs `updates` for a page of a list, in the transaction the pages share (``rowsPerCommit``).
    ///
    /// A page that fails rolls back the pages since the last commit, and the file is not used again.
    private func keepPage<T>(_ operation: String, _ updates: (Database) throws -> T) throws(StoreFailure) -> T {
        try access(operation) { db in
            if let failure = lostPages.failure { throw StoreFailure(operation + Self.place, reason: failure) }
            if !db.isInsideTransaction { try db.beginTransaction() }
            let before = db.totalChangesCount
            do {
                let result = try updates(db)
                if db.totalChangesCount / Self.rowsPerCommit != before / Self.rowsPerCommit { try db.commit() }
                return result
            } catch {
                throw lose(db, "an earlier page of the provider's answers could not be kept", error)
            }
        }
    }

    /// Commits the pages kept since the last commit, before anything else uses the file; throws
    /// once a page could not be kept.
    private func settle(_ db: Database) throws {
        if let failure = lostPages.failure {
            throw StoreFailure("use the provider's answers" + Self.place, reason: failure)
        }
        guard db.isInsideTransaction else { return }
        do {
            try db.commit()
        } catch {
            // A commit that fails (a full folder while the pages are written out) loses them too.
            throw lose(db, "the last pages of the provider's answers could not be kept", error)
        }
    }

    /// Rolls back the pages since the last commit after `error`, and records why, so that every
    /// later use of the file fails; returns `error` to throw.
    private func lose(_ db: Database, _ what: String, _ error: any Error) -> any Error {
        lostPages.record("\(what) (\(error))")
        if db.isInsideTransaction { try? db.rollback() }
        return error
    }

    /// Where the file is, for errors: a full or read-only temporary folder fails a run.
    private static var place: String {
        let folder = SQLiteTemporaryFolder.current()
        return " (a temporary file in \(folder.path): \(folder.source))"
    }

    private func read<T>(_ operation: String, _ value: (Database) throws -> T) throws(StoreFailure) -> T {
        do {
            try queue.writeWithoutTransaction(settle)
            return try queue.read(value)
        } catch let failure as StoreFailure {
            throw failure
        } catch {
            throw StoreFailure(operation + Self.place, error, temporaryFile: true)
        }
    }

    // MARK: Keeping the lists

    func keep(events: [ProviderEvent]) async throws -> KeptRows {
        let times = events.lazy.map(\.occurredAt)
        let occurred = times.min().flatMap { earliest in times.max().map { earliest...$0 } }
        let recorded = try await recorded(events.map(\.eventID), occurred)
        if let kept = try held.ifHeld({ $0.keep(events: events, recorded: recorded) }) {
            try moveIfFull()
            return kept
        }
        return try keepPage("keep the provider's events") { db in
            var kept = KeptRows()
            // A new id is inserted at once; only an id kept before is looked up, to keep the newer version.
            let add = try DirectStatement(
                cached: db,
                "INSERT OR IGNORE INTO remoteEvent \(Self.eventColumns) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            )
            var replace: DirectStatement?
            var find: DirectStatement?
            for event in events {
                let time = event.occurredAt.timeIntervalSinceReferenceDate
                // The columns a chunk reads back (`ListedEvent.init(_: Row)`), then the whole event
                // unless the store records it.
                let listed = ListedEvent(event)
                let body = recorded.contains(ExactID(listed.eventID)) ? nil : ScratchCodec.encode(event).exactText
                func bind(_ statement: DirectStatement) { Self.bind(listed, body: body, to: statement) }
                bind(add)
                if try add.run() == 1 {
                    _ = kept.admit(time, over: nil as Double?)
                    continue
                }
                let lookup =
                    try find ?? DirectStatement(cached: db, "SELECT occurredAt FROM remoteEvent WHERE eventID = ?")
                find = lookup
                lookup.bind(listed.eventID)
                guard kept.admit(time, over: try lookup.firstDouble()) else { continue }
                let statement =
                    try replace
                    ?? DirectStatement(
                        cached: db,
                        "REPLACE INTO remoteEvent \(Self.eventColumns) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    )
                replace = statement
                bind(statement)
                try statement.run()
            }
            return kept
        }
    }

    /// The columns of `remoteEvent` that ``bind(_:body:to:)`` binds, in its order.
    private static let eventColumns =
        "(eventID, eventType, resourceType, resourceID, occurredAt, status, amount, currency, body)"

    /// Binds an event's columns (those a chunk reads back, `ListedEvent.init(_: Row)`), then its whole text.
    private static func bind(_ listed: ListedEvent, body: String?, to statement: DirectStatement) {
        statement.bind(listed.eventID)
        statement.bind(listed.eventType)
        statement.bind(listed.resourceType)
        statement.bind(listed.resourceID)
        statement.bind(listed.occurredAt.timeIntervalSinceReferenceDate)
        statement.bind(listed.status)
        statement.bind(listed.money?.minorUnits)
        statement.bind(listed.money?.currency)
        statement.bind(body)
    }

    /// Moves the answers held in memory to the file once they are past their limit.
    ///
    /// The file takes every later one. A move that fails loses them: every later use of the file fails.
    private func moveIfFull() throws(StoreFailure) {
        var moved = false
        do {
            try held.moveIfFull { state in
                moved = true
                try write("move the provider's answers to the temporary file") { db in
                    let add = try DirectStatement(
                        cached: db,
                        "INSERT INTO remoteEvent \(Self.eventColumns) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    )
                    for listed in state.events {
                        let whole = state.wholes[ExactID(listed.eventID)]
                        Self.bind(listed, body: whole.map { ScratchCodec.encode($0).exactText }, to: add)
                        try add.run()
                    }
                    let save = try Self.saveResource(db)
                    for resource in state.resources.values {
                        try Self.save(resource.snapshot, listed: resource.listed, with: save)
                    }
                    try Self.add(keys: state.keys.lazy.map { ($0.key, $0.value) }, db)
                    if state.remoteKeysAdded { try db.execute(sql: Self.eventsByResourceSQL) }
                }
            }
        } catch {
            // `write` throws only `StoreFailure`s.
            let failure =
                error as? StoreFailure
                ?? StoreFailure("move the provider's answers" + Self.place, error, temporaryFile: true)
            lostPages.record("the provider's answers held in memory could not be moved to the file (\(failure))")
            throw failure
        }
        // What was held is let go by now: its pages go back to the system.
        if moved { FreedMemory.release() }
    }

    /// Lets go of the answers held in memory, once the window is classified.
    ///
    /// Asking any of them afterwards throws. The planned repairs stay (they are in the file).
    func letGoOfAnswers() { held.letGo() }

    /// Whether the answers are still held in memory (false once they moved to the file, or when
    /// none were to be held).
    var holdsAnswers: Bool { (try? held.ifHeld { _ in () }) != nil }

    func keep(resources: [ResourceSnapshot]) throws -> KeptRows {
        if let kept = try held.ifHeld({ $0.keep(resources: resources) }) {
            try moveIfFull()
            return kept
        }
        return try keepPage("keep the provider's resources") { db in
            var kept = KeptRows()
            let find = try DirectStatement(
                cached: db,
                "SELECT updatedAt FROM remoteResource WHERE resourceType = ? AND resourceID = ?"
            )
            let save = try Self.saveResource(db)
            for snapshot in resources {
                find.bind(snapshot.resourceType)
                find.bind(snapshot.resourceID)
                guard kept.admit(snapshot.updatedAt.timeIntervalSinceReferenceDate, over: try find.firstDouble())
                else { continue }
                try Self.save(snapshot, listed: true, with: save)
            }
            return kept
        }
    }

    private static func saveResource(_ db: Database) throws -> DirectStatement {
        try DirectStatement(
            cached: db,
            "INSERT OR REPLACE INTO remoteResource (resourceType, resourceID, updatedAt, listed, body) VALUES (?, ?, ?, ?, ?)"
        )
    }

    private static func save(_ snapshot: ResourceSnapshot, listed: Bool, with statement: DirectStatement) throws {
        statement.bind(snapshot.resourceType)
        statement.bind(snapshot.resourceID)
        statement.bind(snapshot.updatedAt.timeIntervalSinceReferenceDate)
        statement.bind(Int64(listed ? 1 : 0))
        statement.bind(ScratchCodec.encode(snapshot).exactText)
        try statement.run()
    }

    /// Keeps a resource read by id (not listed), so that later lookups of its money find it.
    func keep(fetched snapshot: ResourceSnapshot) throws(StoreFailure) {
        if try held.ifHeld({ $0.keep(fetched: snapshot) }) != nil { return try moveIfFull() }
        try write("keep a resource read by id") { db in
            let listed = try Bool.fetchOne(
                db,
                sql: "SELECT listed FROM remoteResource WHERE resourceType = ? AND resourceID = ?",
                arguments: [snapshot.resourceType, snapshot.resourceID]
            )
            if listed != true { try Self.save(snapshot, listed: false, with: Self.saveResource(db)) }
        }
    }

    /// How many events and listed resources are kept.
    func counts() throws(StoreFailure) -> (events: Int, resources: Int) {
        if let counts = try held.ifHeld({ $0.counts() }) { return counts }
        return try read("count the provider's answers") { db in
            (
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM remoteEvent") ?? 0,
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM remoteResource WHERE listed") ?? 0
            )
        }
    }

    // MARK: The resources a window touches

    /// Adds the resources of every kept event and listed resource to the window's resources, classified.
    ///
    /// Called once the lists are read: it indexes the kept events by resource, for reading them back
    /// a chunk at a time. Built in one sorted pass, not kept up to date while a quarter of a million
    /// events arrive in random order (a third of the time spent keeping them).
    func addRemoteKeys() throws(StoreFailure) {
        if try held.ifHeld({ $0.addRemoteKeys() }) != nil { return try moveIfFull() }
        try write("list the resources the provider named") { db in
            try db.execute(
                sql: Self.eventsByResourceSQL + """
                    INSERT INTO resourceKey SELECT resourceType, resourceID, 1 FROM remoteEvent WHERE 1
                        ON CONFLICT(resourceType, resourceID) DO UPDATE SET classified = 1;
                    INSERT INTO resourceKey SELECT resourceType, resourceID, 1 FROM remoteResource WHERE listed
                        ON CONFLICT(resourceType, resourceID) DO UPDATE SET classified = 1;
                    """
            )
        }
    }

    /// The index of the kept events by resource, for reading them back a chunk at a time.
    private static let eventsByResourceSQL =
        "CREATE INDEX IF NOT EXISTS remoteEvent_resource ON remoteEvent(resourceType, resourceID);\n"

    /// Adds `keys` to the window's resources.
    ///
    /// A resource added with `classified` false has only its events looked at (``outOfOrder``),
    /// unless it is also added classified, which it then stays.
    func add(keys: [ResourceKey], classified: Bool) throws(StoreFailure) {
        if try held.ifHeld({ $0.add(keys: keys, classified: classified) }) != nil { return try moveIfFull() }
        try write("list the resources the store names") { db in
            try Self.add(keys: keys.lazy.map { ($0, classified) }, db)
        }
    }

    /// Adds each key to the window's resources, with whether it is classified; a resource once
    /// classified stays so.
    ///
    /// Bound straight into SQLite: GRDB's argument arrays were a third of adding the window's keys.
    private static func add(keys: some Sequence<(key: ResourceKey, classified: Bool)>, _ db: Database) throws {
        let insert = try DirectStatement(
            db,
            """
            INSERT INTO resourceKey VALUES (?, ?, ?)
            ON CONFLICT(resourceType, resourceID) DO UPDATE SET classified = max(classified, excluded.classified)
            """
        )
        for (key, classified) in keys {
            insert.bind(key.type)
            insert.bind(key.id)
            insert.bind(Int64(classified ? 1 : 0))
            try insert.run()
        }
    }

    /// Up to `limit` of the window's resources after `key`, in SQLite's order of (type, id), each
    /// with whether its state is classified.
    func keys(after key: ResourceKey?, limit: Int) throws(StoreFailure) -> [(key: ResourceKey, classified: Bool)] {
        if let keys = try held.ifHeld({ $0.keys(after: key, limit: limit) }) { return keys }
        return try read("list the window's resources") { db in
            let start = key ?? ResourceKey("", "")
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT resourceType, resourceID, classified FROM resourceKey
                    WHERE (resourceType, resourceID) > (?, ?) ORDER BY resourceType, resourceID LIMIT ?
                    """,
                arguments: [start.type, start.id, limit]
            ).map { (ResourceKey($0[0], $0[1]), $0[2]) }
        }
    }

    // MARK: Reading back

    /// The kept events of the resources from `first` through `last`, ascending by (time, id).
    func events(from first: ResourceKey, through last: ResourceKey) throws(StoreFailure) -> [ListedEvent] {
        if let events = try held.ifHeld({ $0.events(from: first, through: last) }) { return events }
        return try read("read back the provider's events") { db in
            let select = try DirectStatement(
                cached: db,
                """
                SELECT eventID, eventType, resourceType, resourceID, occurredAt, status, amount, currency
                FROM remoteEvent
                WHERE (resourceType, resourceID) >= (?, ?) AND (resourceType, resourceID) <= (?, ?)
                ORDER BY occurredAt, eventID
                """
            )
            select.bind(first.type)
            select.bind(first.id)
            select.bind(last.type)
            select.bind(last.id)
            var events: [ListedEvent] = []
            try select.forEachRow { events.append(try ListedEvent($0)) }
            return events
        }
    }

    /// The listed resources from `first` through `last`.
    func resources(from first: ResourceKey, through last: ResourceKey) throws(StoreFailure) -> [ResourceKey:
        ResourceSnapshot]
    {
        if let resources = try held.ifHeld({ $0.resources(from: first, through: last) }) { return resources }
        return try read("read back the provider's resources") { db in
            var found: [ResourceKey: ResourceSnapshot] = [:]
            let rows = try String.fetchCursor(
                db.cachedStatement(
                    sql: """
                        SELECT body FROM remoteResource
                        WHERE (resourceType, resourceID) >= (?, ?) AND (resourceType, resourceID) <= (?, ?) AND listed
                        """
                ),
                arguments: [first.type, first.id, last.type, last.id]
            )
            while let text = try rows.next() {
                let snapshot = try ScratchCodec.snapshot(text)
                found[ResourceKey(snapshot.resourceType, snapshot.resourceID)] = snapshot
            }
            return found
        }
    }

    /// Which of `ids` are kept events.
    func knownEvents(_ ids: [String]) throws(StoreFailure) -> Set<ExactID> {
        if let known = try held.ifHeld({ $0.knownEvents(ids) }) { return known }
        return try read("look up the provider's events") { db in
            var known = Set<ExactID>()
            for id in ids where try Self.holds(event: id, db) { known.insert(ExactID(id)) }
            return known
        }
    }

    /// Whether the file holds a listed event `id`, with its text or without.
    private static func holds(event id: String, _ db: Database) throws -> Bool {
        try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM remoteEvent WHERE eventID = ?"), arguments: [id])
            != nil
    }

    /// The money of each of `keys` the provider answered for (listed or read by id).
    func money(of keys: [ResourceKey]) throws(StoreFailure) -> [ResourceKey: Money] {
        if let money = try held.ifHeld({ $0.money(of: keys) }) { return money }
        return try read("read the provider's amounts") { db in
            var found: [ResourceKey: Money] = [:]
            for key in keys {
                guard
                    let text = try String.fetchOne(
                        db.cachedStatement(
                            sql: "SELECT body FROM remoteResource WHERE resourceType = ? AND resourceID = ?"
                        ),
                        arguments: [key.type, key.id]
                    ),
                    let money = try ScratchCodec.snapshot(text).money
                else { continue }
                found[key] = money
            }
            return found
        }
    }

    // MARK: Planned repairs

    /// Keeps the repairs of one chunk until they are applied, each with the rank of its finding's kind.
    ///
    /// An event to record is named by its id: its whole text is copied from the kept list. One the
    /// list holds without its text (the store had it when it was listed) fails the plan, whole.
    func plan(
        events: [(findingKey: String, eventID: String)],
        resources: [(findingKey: String, rank: Int, target: LocalResource)]
    ) throws(StoreFailure) {
        // Held in memory: each event's whole text is worked out (or found missing) before anything is planned.
        if let found = try held.ifHeld({ state in events.map { state.event($0.eventID) } }) {
            var bodies: [(findingKey: String, body: String)] = []
            for ((key, eventID), event) in zip(events, found) where event.kept {
                guard let whole = event.whole else { throw Self.recordedAlready(eventID) }
                bodies.append((key, ScratchCodec.encode(whole).exactText))
            }
            return try write("keep the planned repairs") { db in
                for (key, body) in bodies {
                    try db.executeCached(
                        sql: "INSERT INTO plannedRepair (findingKey, kind, rank, body) VALUES (?, 'event', 0, ?)",
                        arguments: [key, body]
                    )
                }
                try Self.plan(resources: resources, db)
            }
        }
        try write("keep the planned repairs") { db in
            for (key, eventID) in events {
                try db.executeCached(
                    sql: """
                        INSERT INTO plannedRepair (findingKey, kind, rank, body)
                        SELECT ?, 'event', 0, body FROM remoteEvent WHERE eventID = ? AND body IS NOT NULL
                        """,
                    arguments: [key, eventID]
                )
                if db.changesCount == 0, try Self.holds(event: eventID, db) { throw Self.recordedAlready(eventID) }
            }
            try Self.plan(resources: resources, db)
        }
    }

    private static func plan(resources: [(findingKey: String, rank: Int, target: LocalResource)], _ db: Database)
        throws
    {
        for (key, rank, target) in resources {
            try db.executeCached(
                sql: "INSERT INTO plannedRepair (findingKey, kind, rank, body) VALUES (?, 'resource', ?, ?)",
                arguments: [key, rank, ScratchCodec.encode(target).exactText]
            )
        }
    }

    /// An event planned for recording that the store had when the provider listed it.
    private static func recordedAlready(_ eventID: String) -> StoreFailure {
        StoreFailure(
            "plan the repairs",
            reason: "event \(eventID) is to be recorded, but the store had it when the provider listed it"
        )
    }

    /// How many repairs are planned.
    func plannedCount() throws(StoreFailure) -> Int {
        try read("count the planned repairs") { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM plannedRepair") ?? 0
        }
    }

    /// The planned repairs of `kind` (`event` or `resource`), `batch` at a time: by rank, then in
    /// the order they were planned (which, chunk after chunk, is the report's order of resources).
    ///
    /// Errors of `body` are thrown as they are; a failure to read the file is a ``StoreFailure``.
    func plannedRepairs(kind: String, batch: Int, _ body: ([(findingKey: String, body: String)]) throws -> Void)
        throws
    {
        var position: PlannedPosition?
        while let next = try plannedRepairs(kind: kind, after: position, limit: batch) {
            position = next.position
            try body(next.repairs)
        }
    }

    /// Where a reading of the planned repairs stands: the rank, and the last repair read in it.
    struct PlannedPosition: Sendable {
        var rank: Int
        var seq: Int64
    }

    /// Up to `limit` planned repairs of `kind` after `position` (from the first when nil), in the
    /// order of ``plannedRepairs(kind:batch:_:)``, with the position to go on from; nil when none are left.
    ///
    /// For a caller that must await between batches (a server's store).
    func plannedRepairs(kind: String, after position: PlannedPosition?, limit: Int) throws(StoreFailure) -> (
        repairs: [(findingKey: String, body: String)], position: PlannedPosition
    )? {
        try read("read the planned repairs") { db in
            var rank = position?.rank ?? .min
            var after = position?.seq ?? 0
            while true {
                let rows = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT seq, findingKey, body FROM plannedRepair
                        WHERE kind = ? AND rank = ? AND seq > ? ORDER BY seq LIMIT ?
                        """,
                    arguments: [kind, rank, after, limit]
                )
                if let last = rows.last {
                    return (
                        rows.map { (findingKey: $0["findingKey"], body: $0["body"]) },
                        PlannedPosition(rank: rank, seq: last["seq"])
                    )
                }
                guard
                    let next = try Int.fetchOne(
                        db,
                        sql: "SELECT MIN(rank) FROM plannedRepair WHERE kind = ? AND rank > ?",
                        arguments: [kind, rank]
                    )
                else { return nil }
                rank = next
                after = 0
            }
        }
    }
}

/// The scratch file's text form of events, snapshots and local rows: JSON with exact times.
///
/// Times are kept as the text of `Date`'s own value, seconds since 2001 (Swift writes the shortest
/// text that reads back as the same `Double`), so an event read back compares equal to the one read
/// from the provider. Seconds since 1970 would not: converting there and back can change the last
/// bit. A JSON number would go through the JSON parser's decimal conversion instead.
enum ScratchCodec {
    struct Malformed: Error, CustomStringConvertible {
        var description: String { "a row of the temporary file does not decode" }
    }

    /// Where in an event's payload its snapshot's object may sit whole (Credicorp: `/data/object`).
    static let objectPlaces = ["/data/object", ""]

    static func encode(_ event: ProviderEvent) -> JSONValue {
        var snapshot = encode(event.snapshot)
        // An object that is part of the payload is written once, as its place in it: half the text
        // to write and to parse again.
        if let place = objectPlaces.first(where: { event.payload.at(pointer: $0) == event.snapshot.object }) {
            snapshot = snapshot.removingObject(place: place)
        }
        var fields: [String: JSONValue] = [
            "id": .string(event.eventID), "type": .string(event.eventType),
            "resource_type": .string(event.resourceType), "resource_id": .string(event.resourceID),
            "at": .string(event.occurredAt.timeIntervalSinceReferenceDate.description),
            "snapshot": snapshot, "payload": event.payload,
        ]
        if let pointer = event.bodyPointer { fields["pointer"] = .string(pointer) }
        return .object(fields)
    }

    static func encode(_ snapshot: ResourceSnapshot) -> JSONValue {
        .object([
            "resource_type": .string(snapshot.resourceType), "resource_id": .string(snapshot.resourceID),
            "status": snapshot.status.map(JSONValue.string) ?? .null,
            "at": .string(snapshot.updatedAt.timeIntervalSinceReferenceDate.description), "object": snapshot.object,
            "amount": snapshot.money.map { .integer($0.minorUnits) } ?? .null,
            "currency": snapshot.money.map { .string($0.currency) } ?? .null,
        ])
    }

    static func encode(_ row: LocalResource) -> JSONValue {
        encode(
            ResourceSnapshot(
                resourceType: row.resourceType,
                resourceID: row.resourceID,
                status: row.status,
                updatedAt: row.asOf,
                object: row.object,
                money: row.money
            )
        )
    }

    static func event(_ text: String) throws -> ProviderEvent {
        guard let value = JSONValue.parse(Data(text.utf8)), let id = value["id"]?.stringValue,
            let type = value["type"]?.stringValue, let resourceType = value["resource_type"]?.stringValue,
            let resourceID = value["resource_id"]?.stringValue, let at = time(value["at"]),
            var snapshotValue = value["snapshot"], let payload = value["payload"]
        else { throw Malformed() }
        if let place = snapshotValue["object_at"]?.stringValue {
            guard let object = payload.at(pointer: place) else { throw Malformed() }
            snapshotValue = snapshotValue.settingObject(object)
        }
        var event = ProviderEvent(
            eventID: id,
            eventType: type,
            resourceType: resourceType,
            resourceID: resourceID,
            occurredAt: at,
            snapshot: try snapshot(snapshotValue),
            payload: payload
        )
        event.bodyPointer = value["pointer"]?.stringValue
        return event
    }

    static func snapshot(_ text: String) throws -> ResourceSnapshot {
        guard let value = JSONValue.parse(Data(text.utf8)) else { throw Malformed() }
        return try snapshot(value)
    }

    static func snapshot(_ value: JSONValue) throws -> ResourceSnapshot {
        guard let type = value["resource_type"]?.stringValue, let id = value["resource_id"]?.stringValue,
            let at = time(value["at"]), let object = value["object"]
        else { throw Malformed() }
        var money: Money?
        if let amount = value["amount"]?.integerValue, let currency = value["currency"]?.stringValue {
            money = Money(minorUnits: amount, currency: currency)
        }
        return ResourceSnapshot(
            resourceType: type,
            resourceID: id,
            status: value["status"]?.stringValue,
            updatedAt: at,
            object: object,
            money: money
        )
    }

    static func localResource(_ text: String) throws -> LocalResource {
        LocalResource(snapshot: try snapshot(text))
    }

    private static func time(_ value: JSONValue?) -> Date? {
        value?.stringValue.flatMap(Double.init).map(Date.init(timeIntervalSinceReferenceDate:))
    }
}

extension JSONValue {
    /// A scratch snapshot whose `object` is replaced by the place it has in its event's payload.
    fileprivate func removingObject(place: String) -> JSONValue {
        guard case .object(var fields) = self else { return self }
        fields["object"] = nil
        fields["object_at"] = .string(place)
        return .object(fields)
    }

    /// A scratch snapshot with its `object` put back.
    fileprivate func settingObject(_ object: JSONValue) -> JSONValue {
        guard case .object(var fields) = self else { return self }
        fields["object_at"] = nil
        fields["object"] = object
        return .object(fields)
    }
}
