import Foundation
import GRDB

/// A stored run, as `reconcile runs` lists it.
public struct RunSummary: Sendable {
    public var id: String
    public var job: String
    public var command: String
    public var startedAt: Date
    public var finishedAt: Date?
    public var dryRun: Bool
    public var status: String
    public var exitStatus: Int?
    public var report: String?
    /// The round of a shared run (`run --shard`), nil for a run that had the job to itself.
    ///
    /// A round is the runs of many hosts that shared one night's work.
    public var round: String? = nil

    /// What kind of run this was: `nightly` (a `run` of every provider), `nightly (shared)` (one
    /// host's part of a `run --shard` round), `manual` (a `run` of some providers), `dry run` or
    /// `backfill`.
    public var kind: String {
        if command == "backfill" { return dryRun ? "backfill (dry run)" : "backfill" }
        if dryRun { return "dry run" }
        if command == RunEntry.sharedCommand { return "nightly (shared)" }
        return command == "run" ? "nightly" : "manual"
    }
}

/// A round of a job's shared runs, as the store keeps it.
public struct StoredRound: Sendable {
    public var round: String
    /// Its runs, oldest first, finished or not (a host that died leaves its run `running`).
    public var runs: [RunSummary]
    /// The entries its runs recorded, with their report parts, in the order recorded.
    public var parts: [(entry: String, report: String)]
}

/// One provider entry a run read, and how its reading ended (`complete`, `failed`, `interrupted`).
public struct RunEntry: Sendable, Hashable {
    public var provider: String
    public var status: String
    /// A shared run's part of the report for this entry (report JSON of its section, findings and
    /// resolved findings), kept so that the round's report includes it whatever becomes of the host.
    public var report: String?

    public init(provider: String, status: String, report: String? = nil) {
        self.provider = provider
        self.status = status
        self.report = report
    }

    /// The command recorded for one host's part of a shared nightly run (`run --shard I/N`).
    public static let sharedCommand = "run --shard"

    /// The commands whose runs read the job's entries for the night: the nightly run, whole or shared.
    static let nightlyCommands = ["run", sharedCommand]

    /// The entry of the lines that name none of the job's providers.
    ///
    /// Those are rejected deliveries of an unknown or missing provider, read by the whole run,
    /// and by one host of a round (it comes first in shard 1's order). Never a provider's name,
    /// which starts with a letter or digit.
    public static let otherLines = "*"

    /// The entry a finding naming `provider` belongs to, among the job's `providers`.
    static func entry(of provider: String?, providers: Set<String>) -> String {
        guard let provider, providers.contains(provider) else { return otherLines }
        return provider
    }
}

/// The changes a run makes to local state, each tied to the key of the finding it resolves.
///
/// Dropped events to record as received by reconciliation, and resources to set to the
/// provider's state. They wait in the provider's ``RunScratch`` (a large window plans too many to
/// hold in memory) and are read back in batches while they are applied.
public struct RepairPlan: Sendable {
    let scratch: RunScratch?
    /// How many repairs are planned.
    public let count: Int

    init(scratch: RunScratch? = nil, count: Int = 0) {
        self.scratch = scratch
        self.count = count
    }

    public var isEmpty: Bool { count == 0 }
}

extension Store {
    /// Records the start of a run; runs left `running` by a crashed process are marked `crashed`.
    ///
    /// - Returns: Each run marked crashed now, with how many repair rows it committed before it
    ///   died (they stand: a repair is one transaction, and the next run does not redo it).
    @discardableResult
    public func beginRun(
        id: String,
        job: String,
        command: String,
        round: String?,
        startedAt: Date,
        now: Date,
        since: Date,
        until: Date,
        dryRun: Bool
    ) throws(StoreFailure) -> [(id: String, repairs: Int)] {
        try write("record the start of run \(id)") { db in
            let crashed = try Row.fetchAll(
                db,
                sql: """
                    SELECT r.id AS id, (SELECT COUNT(*) FROM repair WHERE runID = r.id) AS repairs
                    FROM run r WHERE r.job = ? AND r.status = 'running' AND NOT coalesce(r.round = ?, 0)
                    ORDER BY r.startedAt
                    """,
                arguments: [job, round]
            ).map { (id: $0["id"] as String, repairs: $0["repairs"] as Int) }
            try db.execute(
                sql:
                    "UPDATE run SET status = 'crashed' WHERE job = ? AND status = 'running' AND NOT coalesce(round = ?, 0)",
                arguments: [job, round]
            )
            try db.execute(
                sql: """
                    INSERT INTO run (id, job, command, round, startedAt, now, since, until, dryRun, status)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'running')
                    """,
                arguments: [
                    id, job, command, round, Store.text(startedAt), Store.text(now), Store.text(since),
                    Store.text(until), dryRun,
                ]
            )
            return crashed
        }
    }

    /// Records how a run ended, its findings and its report, in one transaction.
    public func finishRun(
        id: String,
        status: String,
        exitStatus: Int32,
        finishedAt: Date,
        entries: [RunEntry],
        findings: [Finding],
        report: [UInt8]
    ) throws(StoreFailure) {
        try write("record the end of run \(id)") { db in
            guard try Self.insert(entries, findings: findings, runID: id, db: db) else {
                throw StoreFailure("record the end of run \(id)", reason: "an entry of it was recorded before")
            }
            // The report is bound where it lies: a large run's report is tens of megabytes (GRDB's
            // binding would copy it once more).
            let update = try DirectStatement(
                db,
                "UPDATE run SET status = ?, exitStatus = ?, finishedAt = ?, report = ? WHERE id = ?"
            )
            try report.withUnsafeBufferPointer { text in
                update.bind(status)
                update.bind(Int64(exitStatus))
                update.bind(Store.text(finishedAt))
                update.bind(inPlace: text)
                update.bind(id)
                try update.run()
            }
        }
    }

    /// Records one entry a shared run has read, with its findings, in one transaction: from then
    /// on no host of the round reads it again, whatever becomes of this one.
    ///
    /// - Returns: false, recording nothing, when a run of the same round recorded the entry first.
    public func recordEntry(_ entry: RunEntry, runID: String, findings: [Finding]) throws(StoreFailure) -> Bool {
        try write("record entry \(entry.provider) of run \(runID)") { db in
            try Self.insert([entry], findings: findings, runID: runID, db: db)
        }
    }

    /// Inserts a run's entries and findings; false, inserting nothing more, when an entry of a
    /// round was already recorded by another run.
    @discardableResult
    private static func insert(_ entries: [RunEntry], findings: [Finding], runID: String, db: Database) throws -> Bool {
        for entry in entries {
            try db.executeCached(
                sql: """
                    INSERT INTO runEntry (runID, job, round, provider, status, report)
                    SELECT id, job, round, ?, ?, ? FROM run WHERE id = ?
                    ON CONFLICT DO NOTHING
                    """,
                arguments: [entry.provider, entry.status, entry.report, runID]
            )
            if db.changesCount == 0 { return false }
        }
        for finding in findings {
            try db.executeCached(
                sql: """
                    INSERT INTO finding (runID, findingKey, kind, provider, resourceType, resourceID, eventID,
                        deliveryID, isNew, repaired, details)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    runID, finding.key, finding.kind.rawValue, finding.provider, finding.resourceType,
                    finding.resourceID, finding.eventID, finding.deliveryID, finding.isNew, finding.repaired,
                    JSONValue.object(finding.details).canonicalText,
                ]
            )
        }
        return true
    }

    /// Applies a provider's repairs in one transaction with their audit rows; returns the keys of the findings it resolved.
    ///
    /// Idempotent: an event already recorded, or a row already equal to its target, is left alone.
    /// The plan is read back 500 repairs at a time, inside the transaction.
    public func applyRepairs(_ plan: RepairPlan, provider: String, runID: String, at time: Date) throws(StoreFailure)
        -> Set<ExactID>
    {
        guard let scratch = plan.scratch, !plan.isEmpty else { return [] }
        return try write("repair \(provider) local state") { db in
            let now = Store.text(time)
            var repaired = Set<ExactID>()
            try scratch.plannedRepairs(kind: "event", batch: 500) { batch in
                for (finding, body) in batch {
                    let event = try ScratchCodec.event(body)
                    // Written twice (the event's row and its audit row), made once.
                    let payload = event.payload.canonicalText
                    guard
                        try recordEvent(
                            event,
                            payload: payload,
                            provider: provider,
                            source: "reconciliation",
                            receivedAt: nil,
                            now: now,
                            runID: runID,
                            db: db
                        )
                    else { continue }
                    try audit(
                        runID: runID,
                        provider: provider,
                        type: event.resourceType,
                        id: event.resourceID,
                        eventID: event.eventID,
                        action: "record_event",
                        before: nil,
                        after: payload,
                        at: now,
                        db: db
                    )
                    repaired.insert(ExactID(finding))
                }
            }
            try scratch.plannedRepairs(kind: "resource", batch: 500) { batch in
                for (finding, body) in batch {
                    let target = try ScratchCodec.localResource(body)
                    let current = try localResource(
                        provider: provider,
                        type: target.resourceType,
                        id: target.resourceID,
                        db: db
                    )
                    // Never move a row back: it may have advanced (ingest) since the provider was read.
                    if let current, Store.sameState(current, target) || current.asOf > target.asOf { continue }
                    try saveResource(target, provider: provider, updatedBy: "repair", now: now, db: db)
                    try audit(
                        runID: runID,
                        provider: provider,
                        type: target.resourceType,
                        id: target.resourceID,
                        eventID: nil,
                        action: current == nil ? "insert_state" : "set_state",
                        before: current.map { Store.stateJSON($0).canonicalText },
                        after: Store.stateJSON(target).canonicalText,
                        at: now,
                        db: db
                    )
                    repaired.insert(ExactID(finding))
                }
            }
            return repaired
        }
    }

    static func sameState(_ lhs: LocalResource, _ rhs: LocalResource) -> Bool {
        lhs.status == rhs.status && RFC3339.epochMillis(lhs.asOf) == RFC3339.epochMillis(rhs.asOf)
            && lhs.object == rhs.object && lhs.money == rhs.money
    }

    static func stateJSON(_ resource: LocalResource) -> JSONValue {
        .object([
            "status": resource.status.map(JSONValue.string) ?? .null,
            "as_of": .string(RFC3339.format(resource.asOf)),
            "object": resource.object,
        ])
    }

    /// Writes the audit row of one repair: `before` and `after` are the canonical JSON texts of
    /// what the repair replaced and wrote (nil: nothing).
    private func audit(
        runID: String,
        provider: String,
        type: String,
        id: String,
        eventID: String?,
        action: String,
        before: String?,
        after: String?,
        at now: String,
        db: Database
    ) throws {
        try db.executeCached(
            sql: """
                INSERT INTO repair (runID, provider, resourceType, resourceID, eventID, action, before, after, at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [runID, provider, type, id, eventID, action, before, after, now]
        )
    }

    /// Recent runs of `job`, newest first.
    public func runs(job: String, limit: Int) throws(StoreFailure) -> [RunSummary] {
        try read("list runs") { db in
            try Row.fetchAll(
                db,
                sql: "SELECT * FROM run WHERE job = ? ORDER BY startedAt DESC, rowid DESC LIMIT ?",
                arguments: [job, limit]
            ).map(Self.runSummary)
        }
    }

    /// The ids of every run of `job` the store keeps.
    public func runIDs(job: String) throws(StoreFailure) -> Set<String> {
        try read("list run ids") { db in
            Set(try String.fetchAll(db, sql: "SELECT id FROM run WHERE job = ?", arguments: [job]))
        }
    }

    /// One run by id, or the newest finished run of `job` when `id` is nil.
    public func run(job: String, id: String?) throws(StoreFailure) -> RunSummary? {
        try read("read a run") { db in
            let row =
                if let id {
                    try Row.fetchOne(db, sql: "SELECT * FROM run WHERE id = ?", arguments: [id])
                } else {
                    try Row.fetchOne(
                        db,
                        sql: """
                            SELECT * FROM run WHERE job = ? AND report IS NOT NULL
                            ORDER BY startedAt DESC, rowid DESC LIMIT 1
                            """,
                        arguments: [job]
                    )
                }
            return row.map(Self.runSummary)
        }
    }

    static func runSummary(_ row: Row) -> RunSummary {
        RunSummary(
            id: row["id"],
            job: row["job"],
            command: row["command"],
            startedAt: date(row["startedAt"]) ?? .distantPast,
            finishedAt: date(row["finishedAt"]),
            dryRun: row["dryRun"],
            status: row["status"],
            exitStatus: row["exitStatus"],
            report: row["report"],
            round: row["round"]
        )
    }

    /// Counts of rows per table, for tests and diagnostics.
    public func tableCounts() throws(StoreFailure) -> [String: Int] {
        try read("count rows") { db in
            var counts: [String: Int] = [:]
            for table in ["delivery", "deliveryEvent", "event", "resourceState", "run", "finding", "repair"] {
                counts[table] = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table)") ?? 0
            }
            return counts
        }
    }
}
