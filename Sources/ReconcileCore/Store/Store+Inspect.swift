import Foundation
import GRDB

extension Store {
    /// Stored delivery lines by provider and verdict (a line naming no provider counts under `""`).
    public func deliveryCounts() throws(StoreFailure) -> [DeliveryCount] {
        try read("count deliveries") { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT COALESCE(provider, '') AS provider, verdict, COUNT(*) AS n FROM delivery
                    GROUP BY COALESCE(provider, ''), verdict ORDER BY 1, 2
                    """
            ).map { DeliveryCount(provider: $0["provider"], verdict: $0["verdict"], count: $0["n"]) }
        }
    }

    /// When the last non-dry run of `job` and `command` with status `complete` finished.
    public func lastSuccess(job: String, command: String) throws(StoreFailure) -> Date? {
        try read("read the last complete run") { db in
            Store.date(
                try String.fetchOne(
                    db,
                    sql: """
                        SELECT MAX(finishedAt) FROM run WHERE job = ? AND command = ? AND dryRun = 0
                        AND status = 'complete'
                        """,
                    arguments: [job, command]
                )
            )
        }
    }
}

extension Store {
    /// Every local-state row, ordered by provider, type and id: for comparing two stores' state.
    public func stateSnapshot() throws(StoreFailure) -> [String] {
        try read("read local state") { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT provider, resourceType, resourceID, status, asOf, object, amountMinor, currency
                    FROM resourceState ORDER BY provider, resourceType, resourceID
                    """
            ).map { row in
                let fields: [String?] = [
                    row["provider"], row["resourceType"], row["resourceID"], row["status"], row["asOf"], row["object"],
                    (row["amountMinor"] as Int64?).map(String.init), row["currency"],
                ]
                return fields.map { $0 ?? "∅" }.joined(separator: "|")
            }
        }
    }

    /// SQLite's own consistency check: `ok`, or what is wrong.
    public func integrityCheck() throws(StoreFailure) -> String {
        try read("check integrity") { db in
            try String.fetchAll(db, sql: "PRAGMA integrity_check").joined(separator: "; ")
        }
    }

    /// How many repair rows each run wrote, by run id.
    public func repairCounts() throws(StoreFailure) -> [String: Int] {
        try read("count repairs") { db in
            var counts: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT runID, COUNT(*) AS n FROM repair GROUP BY runID") {
                counts[row["runID"]] = row["n"]
            }
            return counts
        }
    }
}

extension Store {
    /// How many events were first recorded from `source` (`webhook` or `reconciliation`).
    public func eventCounts(source: String) throws(StoreFailure) -> Int {
        try read("count events") { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM event WHERE source = ?", arguments: [source]) ?? 0
        }
    }

    /// Accepted delivery lines that carry no recorded event: always 0 unless a batch was half-written.
    public func acceptedDeliveriesWithoutEvents() throws(StoreFailure) -> Int {
        try read("check deliveries") { db in
            try Int.fetchOne(
                db,
                sql: """
                    SELECT COUNT(*) FROM delivery d WHERE d.verdict = 'accepted'
                    AND NOT EXISTS (SELECT 1 FROM deliveryEvent de WHERE de.deliveryID = d.id)
                    """
            ) ?? 0
        }
    }

    public func validDeliveries(provider: String, ids: [String]) throws(StoreFailure) -> [String: Int] {
        try read("count deliveries") { db in
            var counts: [String: Int] = [:]
            for id in ids {
                counts[id] =
                    try Int.fetchOne(
                        db,
                        sql: """
                            SELECT COUNT(*) FROM deliveryEvent de JOIN delivery d ON d.id = de.deliveryID
                            WHERE de.provider = ? AND de.eventID = ? AND d.verdict = 'accepted'
                            """,
                        arguments: [provider, id]
                    ) ?? 0
            }
            return counts
        }
    }
}
