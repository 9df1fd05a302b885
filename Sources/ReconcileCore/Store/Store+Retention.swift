import Foundation
import GRDB

/// What one pruning removed.
public struct PruneSummary: Sendable, Equatable {
    public var runs = 0
    public var findings = 0
    public var deliveries = 0
    public var backfills = 0
}

extension Store {
    /// Removes what is older than `cutoff`, after a complete run, keeping what is still needed.
    ///
    /// - Runs of `job` whose `now` is before `cutoff`, and their findings and repairs, except the
    ///   findings in `openKeys` (reported by the current run: their first report decides `new` and
    ///   their age) and the runs that still hold one.
    /// - Delivery lines received before `cutoff`, except those a kept finding names, and except
    ///   any received since the start of an unfinished backfill's window (it will need them).
    /// - Backfills last touched before `cutoff`, complete or abandoned, with their checkpoints.
    public func prune(job: String, before cutoff: Date, openKeys: [String]) throws(StoreFailure) -> PruneSummary {
        try write("prune by retention") { db in
            var summary = PruneSummary()
            let limit = Store.text(cutoff)
            try db.execute(sql: "CREATE TEMP TABLE IF NOT EXISTS keepKey (key TEXT PRIMARY KEY)")
            try db.execute(sql: "DELETE FROM keepKey")
            for key in openKeys {
                try db.execute(sql: "INSERT OR IGNORE INTO keepKey (key) VALUES (?)", arguments: [key])
            }
            try db.execute(
                sql: """
                    DELETE FROM finding WHERE runID IN (
                        SELECT id FROM run WHERE job = ? AND now < ? AND status != 'running'
                    ) AND findingKey NOT IN (SELECT key FROM keepKey)
                    """,
                arguments: [job, limit]
            )
            summary.findings = db.changesCount
            try db.execute(
                sql: """
                    DELETE FROM run WHERE job = ? AND now < ? AND status != 'running'
                    AND id NOT IN (SELECT DISTINCT runID FROM finding)
                    """,
                arguments: [job, limit]
            )
            summary.runs = db.changesCount
            // A backfill left unfinished for longer than the retention is abandoned: it stops holding data.
            try db.execute(sql: "DELETE FROM backfill WHERE updatedAt < ?", arguments: [limit])
            summary.backfills = db.changesCount
            let backfillStart = try String.fetchOne(
                db,
                sql: "SELECT MIN(since) FROM backfill WHERE status = 'running'"
            )
            let deliveryLimit = backfillStart.map { min($0, limit) } ?? limit
            try db.execute(
                sql: """
                    DELETE FROM delivery WHERE COALESCE(receivedAt, recordedAt) < ?
                    AND id NOT IN (SELECT deliveryID FROM finding WHERE deliveryID IS NOT NULL)
                    """,
                arguments: [deliveryLimit]
            )
            summary.deliveries = db.changesCount
            try db.execute(sql: "DELETE FROM keepKey")
            return summary
        }
    }
}
