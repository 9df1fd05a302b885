import Foundation
import NIOCore
import PostgresNIO

extension PostgresStore: BackfillStore {
    public func beginBackfill(
        id: String,
        job: String,
        provider: String,
        since: Date,
        until: Date,
        restart: Bool,
        at time: Date
    ) async throws(StoreFailure) -> BackfillState {
        let logger = self.logger
        return try await transaction("begin a backfill") { connection in
            if restart {
                try await connection.query("DELETE FROM backfill_page WHERE backfill_id = \(id)", logger: logger)
            }
            try await connection.query(
                """
                INSERT INTO backfill (id, job, provider, since, until, status, started_at, updated_at)
                VALUES (\(id), \(job), \(provider), \(Self.instant(since)), \(Self.instant(until)), 'running', \(Self.instant(time)), \(Self.instant(time)))
                ON CONFLICT (id) DO UPDATE SET status = 'running', updated_at = excluded.updated_at
                """,
                logger: logger
            )
            var pages = 0
            let counted = try await connection.query(
                "SELECT count(*) FROM backfill_page WHERE backfill_id = \(id)",
                logger: logger
            )
            for try await count in counted.decode(Int.self) { pages = count }
            return BackfillState(id: id, status: "running", pages: pages)
        }
    }

    /// Marks a backfill complete and drops its kept answers: a later backfill of the window reads afresh.
    public func completeBackfill(id: String, at time: Date) async throws(StoreFailure) {
        let logger = self.logger
        try await transaction("complete a backfill") { connection in
            try await connection.query("DELETE FROM backfill_page WHERE backfill_id = \(id)", logger: logger)
            try await connection.query(
                "UPDATE backfill SET status = 'complete', updated_at = \(Self.instant(time)) WHERE id = \(id)",
                logger: logger
            )
        }
    }

    /// The `until` of an unfinished backfill of `provider` from `since`, the newest if several.
    public func unfinishedBackfillUntil(job: String, provider: String, since: Date) async throws(StoreFailure)
        -> Date?
    {
        try await rows(
            "read an unfinished backfill",
            """
            SELECT until FROM backfill
            WHERE job = \(job) AND provider = \(provider) AND since = \(Self.instant(since)) AND status = 'running'
            ORDER BY updated_at DESC LIMIT 1
            """,
            as: Date.self
        ).first.map(Self.instant)
    }

    public func checkpoint(backfillID: String, requestKey: String) async throws(StoreFailure) -> HTTPResponse? {
        let found = try await rows(
            "read a checkpoint",
            "SELECT status, body FROM backfill_page WHERE backfill_id = \(backfillID) AND request_key = \(requestKey)",
            as: (Int, ByteBuffer).self
        )
        guard let (status, body) = found.first else { return nil }
        return HTTPResponse(status: status, headers: [:], body: Data(buffer: body))
    }

    public func saveCheckpoint(_ response: HTTPResponse, backfillID: String, requestKey: String, at time: Date)
        async throws(StoreFailure)
    {
        _ = try await query(
            "keep a checkpoint",
            """
            INSERT INTO backfill_page (backfill_id, request_key, status, body, saved_at)
            VALUES (\(backfillID), \(requestKey), \(response.status), \(ByteBuffer(data: response.body)), \(Self.instant(time)))
            ON CONFLICT (backfill_id, request_key) DO UPDATE SET
                status = excluded.status, body = excluded.body, saved_at = excluded.saved_at
            """
        )
    }
}
