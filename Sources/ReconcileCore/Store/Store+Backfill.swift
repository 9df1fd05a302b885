import Foundation
import GRDB

/// Where a backfill of one window stands, as the store keeps it.
public struct BackfillState: Sendable, Equatable {
    public var id: String
    /// `running` (started, not finished: resumable) or `complete`.
    public var status: String
    /// Answers kept so far.
    public var pages: Int
}

extension Store {
    /// The id of the backfill of `provider` over `[since, until)` for `job`.
    public static func backfillID(job: String, provider: String, since: Date, until: Date) -> String {
        "\(job)|\(provider)|\(text(since))|\(text(until))"
    }

    /// Starts or resumes a backfill; `restart` first forgets every answer kept for it.
    public func beginBackfill(
        id: String,
        job: String,
        provider: String,
        since: Date,
        until: Date,
        restart: Bool,
        at time: Date
    ) throws(StoreFailure) -> BackfillState {
        try write("begin a backfill") { db in
            let now = Store.text(time)
            if restart { try db.execute(sql: "DELETE FROM backfillPage WHERE backfillID = ?", arguments: [id]) }
            try db.execute(
                sql: """
                    INSERT INTO backfill (id, job, provider, since, until, status, startedAt, updatedAt)
                    VALUES (?, ?, ?, ?, ?, 'running', ?, ?)
                    ON CONFLICT(id) DO UPDATE SET status = 'running', updatedAt = excluded.updatedAt
                    """,
                arguments: [id, job, provider, Store.text(since), Store.text(until), now, now]
            )
            let pages =
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM backfillPage WHERE backfillID = ?", arguments: [id])
                ?? 0
            return BackfillState(id: id, status: "running", pages: pages)
        }
    }

    /// Marks a backfill complete and drops its kept answers: a later backfill of the window reads afresh.
    public func completeBackfill(id: String, at time: Date) throws(StoreFailure) {
        try write("complete a backfill") { db in
            try db.execute(sql: "DELETE FROM backfillPage WHERE backfillID = ?", arguments: [id])
            try db.execute(
                sql: "UPDATE backfill SET status = 'complete', updatedAt = ? WHERE id = ?",
                arguments: [Store.text(time), id]
            )
        }
    }

    /// The `until` of an unfinished backfill of `provider` from `since`, the newest if several.
    public func unfinishedBackfillUntil(job: String, provider: String, since: Date) throws(StoreFailure) -> Date? {
        try read("read an unfinished backfill") { db in
            Store.date(
                try String.fetchOne(
                    db,
                    sql: """
                        SELECT until FROM backfill WHERE job = ? AND provider = ? AND since = ? AND status = 'running'
                        ORDER BY updatedAt DESC LIMIT 1
                        """,
                    arguments: [job, provider, Store.text(since)]
                )
            )
        }
    }

    /// Backfills that started and did not finish (their answers are kept for a resume).
    public func unfinishedBackfills() throws(StoreFailure) -> [String] {
        try read("read unfinished backfills") { db in
            try String.fetchAll(db, sql: "SELECT id FROM backfill WHERE status = 'running' ORDER BY id")
        }
    }

    /// The provider's answer kept for `requestKey` of backfill `backfillID`, if any.
    public func checkpoint(backfillID: String, requestKey: String) throws(StoreFailure) -> HTTPResponse? {
        let row = try read("read a checkpoint") { db in
            try Row.fetchOne(
                db,
                sql: "SELECT status, body FROM backfillPage WHERE backfillID = ? AND requestKey = ?",
                arguments: [backfillID, requestKey]
            )
        }
        guard let row else { return nil }
        return HTTPResponse(status: row["status"], headers: [:], body: row["body"])
    }

    /// Keeps the provider's answer to `requestKey` of backfill `backfillID`.
    public func saveCheckpoint(_ response: HTTPResponse, backfillID: String, requestKey: String, at time: Date)
        throws(StoreFailure)
    {
        try write("keep a checkpoint") { db in
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO backfillPage (backfillID, requestKey, status, body, savedAt)
                    VALUES (?, ?, ?, ?, ?)
                    """,
                arguments: [backfillID, requestKey, response.status, response.body, Store.text(time)]
            )
        }
    }
}

/// A backfill's checkpoints: every read-API answer of the window, kept in the store as it arrives.
///
/// A resumed backfill asks the same questions (its paging depends only on the answers: a long
/// Credicorp list's slices too), so the answers kept before the interruption are served from here,
/// by question, and reading goes on from the questions that had no answer yet.
public struct BackfillCheckpoints: ResponseCache {
    let store: any ReconcileStore
    let backfillID: String

    public init(store: any ReconcileStore, backfillID: String) {
        self.store = store
        self.backfillID = backfillID
    }

    /// A checkpoint the store cannot read is asked of the provider again.
    public func response(for key: String) async -> HTTPResponse? {
        try? await store.checkpoint(backfillID: backfillID, requestKey: key)
    }

    public func save(_ response: HTTPResponse, for key: String) async throws {
        try await store.saveCheckpoint(response, backfillID: backfillID, requestKey: key, at: Date())
    }
}
