import Foundation
import GRDB

/// What one pruning removed.
public struct PruneSummary: Sendable, Equatable {
    public var runs = 0
    public var findings = 0
    public var deliveries = 0
    public var backfills = 0
}

/// How far back retention may prune, from clocks that can be wrong.
///
/// A run replayed with `--now` far ahead (or a machine whose clock jumped) must not prune what a
/// run with the right clock still needs: every cutoff counts back from the earliest of the job's
/// now, the wall clock and the newest delivery received. So data goes only once newer traffic
/// has come in: a receiver silent for months, or a clock a year ahead, prunes nothing that the
/// next correct run needs. The repair audit trail is kept at least `auditAge` (400 days),
/// however short the retention.
public struct RetentionCutoffs: Sendable, Equatable {
    /// The repair audit trail is kept at least this long.
    public static let auditAge: TimeInterval = 400 * 86_400

    /// Runs and findings whose run's `now` is before this may go.
    public var runs: Date
    /// Delivery lines received before this may go.
    public var deliveries: Date
    /// Runs that made repairs (and their audit rows) may go only before this.
    public var audit: Date

    public init(now: Date, wallClock: Date, newestReceipt: Date?, retention: TimeInterval) {
        let reference = min(now, wallClock, newestReceipt ?? now)
        runs = reference.addingTimeInterval(-retention)
        deliveries = runs
        audit = reference.addingTimeInterval(-max(retention, Self.auditAge))
    }
}

extension Store {
    /// The latest `receivedAt` of any delivery line, or nil when there is none.
    public func newestReceipt() throws(StoreFailure) -> Date? {
        try read("read the newest delivery") { db in
            Store.date(try String.fetchOne(db, sql: "SELECT MAX(receivedAt) FROM delivery"))
        }
    }

    /// Removes what is older than the cutoffs, after a complete run, keeping what is still needed.
    ///
    /// - Runs of `job` whose `now` is before `cutoffs.runs`, and their findings and repairs, except the
    ///   findings in `openKeys` (reported by the current run: their first report decides `new` and
    ///   their age) and the runs that still hold one; a run that made repairs is kept (with its
    ///   audit rows) until `cutoffs.audit`.
    /// - Delivery lines received before `cutoffs.deliveries`, except those a kept finding names, and except
    ///   any received since the start of an unfinished backfill's window (it will need them).
    /// - Backfills last touched before `cutoffs.runs`, complete or abandoned, with their checkpoints.
    public func prune(job: String, cutoffs: RetentionCutoffs, openKeys: [String]) throws(StoreFailure)
        -> PruneSummary
    {
        try write("prune by retention") { db in
            var summary = PruneSummary()
            let limit = Store.text(cutoffs.runs)
            let auditLimit = Store.text(cutoffs.audit)
            // The runs old enough to be pruned, of `job` before `limit`: findings and runs go only
            // with one of them. Without one (a young store), the open keys, one row each (6,931 for
            // the #10 world), are not written at all.
            let oldRun = "job = ? AND now < ? AND status != 'running'"
            let oldRuns =
                try Bool.fetchOne(
                    db,
                    sql: "SELECT EXISTS (SELECT 1 FROM run WHERE \(oldRun))",
                    arguments: [job, limit]
                ) ?? true
            if oldRuns {
                try db.execute(sql: "CREATE TEMP TABLE IF NOT EXISTS keepKey (key TEXT PRIMARY KEY)")
                try db.execute(sql: "DELETE FROM keepKey")
                // One statement for every key (compiled anew for each, it was most of a prune).
                let keep = try db.cachedStatement(sql: "INSERT OR IGNORE INTO keepKey (key) VALUES (?)")
                for key in openKeys { try keep.execute(arguments: [key]) }
                try db.execute(
                    sql: """
                        DELETE FROM finding WHERE runID IN (SELECT id FROM run WHERE \(oldRun))
                        AND findingKey NOT IN (SELECT key FROM keepKey)
                        """,
                    arguments: [job, limit]
                )
                summary.findings = db.changesCount
                try db.execute(
                    sql: """
                        DELETE FROM run WHERE \(oldRun)
                        AND id NOT IN (SELECT DISTINCT runID FROM finding)
                        AND (now < ? OR id NOT IN (SELECT DISTINCT runID FROM repair))
                        """,
                    arguments: [job, limit, auditLimit]
                )
                summary.runs = db.changesCount
                try db.execute(sql: "DELETE FROM keepKey")
            }
            // A backfill left unfinished for longer than the retention is abandoned: it stops holding data.
            try db.execute(sql: "DELETE FROM backfill WHERE updatedAt < ?", arguments: [limit])
            summary.backfills = db.changesCount
            let backfillStart = try String.fetchOne(
                db,
                sql: "SELECT MIN(since) FROM backfill WHERE status = 'running'"
            )
            let receiptLimit = Store.text(cutoffs.deliveries)
            let deliveryLimit = backfillStart.map { min($0, receiptLimit) } ?? receiptLimit
            // The deliveries that go, chosen once (by `delivery_received`, then one pass over
            // `finding`); their events' payloads are copied out, then they are deleted.
            try db.execute(sql: "CREATE TEMP TABLE IF NOT EXISTS leavingDelivery (id INTEGER PRIMARY KEY)")
            try db.execute(sql: "DELETE FROM leavingDelivery")
            try Self.chooseLeavingDeliveries(before: deliveryLimit, db: db)
            try keepPayloadsOfLeavingDeliveries(db: db)
            try db.execute(sql: "DELETE FROM delivery WHERE id IN (SELECT id FROM leavingDelivery)")
            summary.deliveries = db.changesCount
            try db.execute(sql: "DELETE FROM leavingDelivery")
            return summary
        }
    }

    /// Puts in `leavingDelivery` the deliveries received (or, without a receipt time, recorded)
    /// before `limit` that no finding names.
    ///
    /// Provider by provider through `delivery_received`, whose first column is the provider: a
    /// condition on `COALESCE(receivedAt, recordedAt)` can use no index, and read every delivery
    /// row of the store, bodies and all, on every nightly run (the largest table, and it grows with
    /// the retention). The providers are found in the same index, one seek each.
    private static func chooseLeavingDeliveries(before limit: String, db: Database) throws {
        var providers: [String?] = []
        if try Bool.fetchOne(db, sql: "SELECT 1 FROM delivery WHERE provider IS NULL LIMIT 1") == true {
            providers.append(nil)
        }
        var next = try String.fetchOne(db, sql: "SELECT MIN(provider) FROM delivery")
        while let provider = next {
            providers.append(provider)
            next = try String.fetchOne(
                db,
                sql: "SELECT provider FROM delivery WHERE provider > ? ORDER BY provider LIMIT 1",
                arguments: [provider]
            )
            // A value that does not come after the last (text with a NUL, read back shorter than
            // stored; ingest never writes one) would be found again and again: every row is then
            // looked at, as before.
            if let following = next, !ByteOrder.precedes(provider, following) {
                try db.execute(
                    sql:
                        "INSERT INTO leavingDelivery (id) SELECT id FROM delivery WHERE COALESCE(receivedAt, recordedAt) < ?",
                    arguments: [limit]
                )
                return try keepNamedDeliveries(db)
            }
        }
        for provider in providers {
            try db.execute(
                sql: "INSERT INTO leavingDelivery (id) SELECT id FROM delivery WHERE provider IS ? AND receivedAt < ?",
                arguments: [provider, limit]
            )
            try db.execute(
                sql: """
                    INSERT INTO leavingDelivery (id) SELECT id FROM delivery
                    WHERE provider IS ? AND receivedAt IS NULL AND recordedAt < ?
                    """,
                arguments: [provider, limit]
            )
        }
        try keepNamedDeliveries(db)
    }

    /// Takes out of `leavingDelivery` the deliveries a finding names (once: the `finding` table has
    /// no index on them).
    private static func keepNamedDeliveries(_ db: Database) throws {
        try db.execute(
            sql: "DELETE FROM leavingDelivery WHERE id IN (SELECT deliveryID FROM finding WHERE deliveryID IS NOT NULL)"
        )
    }

    /// Copies into their event rows the payloads kept as a place in a delivery of `leavingDelivery`:
    /// events are never pruned, and their payload stays readable.
    ///
    /// In slices of 500 in (delivery, event id) order, so a large pruning holds little in memory
    /// and visits each event once: a slice goes on just after the event where the one before
    /// stopped, by the primary keys (a batch can have many more than 500 events).
    private func keepPayloadsOfLeavingDeliveries(db: Database) throws {
        // CROSS JOIN keeps the order: leaving deliveries by id, then their events by primary key,
        // so a slice reads only its own rows and needs no sort.
        func slice(_ position: String, _ at: StatementArguments, limit: Int) throws -> [Row] {
            try Row.fetchAll(
                db,
                sql: """
                    SELECT l.id AS deliveryID, e.provider, e.eventID, e.payload, e.payloadDelivery, e.payloadPointer
                    FROM leavingDelivery l
                    CROSS JOIN deliveryEvent de ON de.deliveryID = l.id
                    CROSS JOIN event e ON e.provider = de.provider AND e.eventID = de.eventID
                        AND e.payloadDelivery = l.id
                    WHERE \(position)
                    ORDER BY l.id, de.eventID LIMIT \(limit)
                    """,
                arguments: at
            )
        }
        var bodies = DeliveryBodies()
        var after: (delivery: Int64, eventID: String)?
        while true {
            var rows: [Row] = []
            if let after {
                rows = try slice("l.id = ? AND de.eventID > ?", [after.delivery, after.eventID], limit: 500)
            }
            if rows.count < 500 {
                rows += try slice("l.id > ?", [after?.delivery ?? .min], limit: 500 - rows.count)
            }
            guard let last = rows.last else { return }
            after = (last["deliveryID"], last["eventID"])
            for row in rows {
                try db.executeCached(
                    sql: """
                        UPDATE event SET payload = ?, payloadDelivery = NULL, payloadPointer = NULL
                        WHERE provider = ? AND eventID = ?
                        """,
                    arguments: [
                        try bodies.payloadText(row, db: db) ?? "null", row["provider"] as String,
                        row["eventID"] as String,
                    ]
                )
            }
        }
    }
}
