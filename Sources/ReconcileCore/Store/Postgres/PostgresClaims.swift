import Crypto
import Foundation
import Logging
import PostgresNIO

/// The advisory-lock keys of a job and of its provider entries: the same on every host and build.
///
/// The first 8 bytes of SHA-256 over the length-prefixed names, as PostgreSQL's signed `bigint`.
/// Two builds that disagreed would read one entry at once, so `PostgresClaimsTests` pins them.
public enum ClaimKey {
    /// The key of provider entry `entry` of job `job`.
    public static func entry(job: String, entry: String) -> Int64 { key(["entry", job, entry]) }

    /// The key of job `job` as a whole.
    public static func job(_ job: String) -> Int64 { key(["job", job]) }

    /// The key under which the hosts of job `job` decide, one at a time, which round they join.
    public static func round(_ job: String) -> Int64 { key(["round", job]) }

    /// The key that store migrations are applied under, one host at a time.
    public static let migrations = key(["migrations"])

    private static func key(_ parts: [String]) -> Int64 {
        var bytes = Array("reconcile".utf8)
        for part in parts {
            let utf8 = Array(part.utf8)
            bytes += Array("\(utf8.count):".utf8) + utf8
        }
        let value = SHA256.hash(data: bytes).prefix(8).reduce(UInt64(0)) { ($0 << 8) | UInt64($1) }
        return Int64(bitPattern: value)
    }
}

/// Claims on a job's provider entries, held by one PostgreSQL session.
///
/// A claim is `pg_try_advisory_lock` on ``ClaimKey/entry(job:entry:)``: it never waits, and is
/// refused while another session holds it. PostgreSQL drops a session's claims with its
/// connection, so a host that is killed releases what it held as soon as the server sees the
/// connection go: at once for a closed socket while the session is idle, within 10 s while it
/// runs a query (`client_connection_check_interval`: without it the server notices only when
/// the query ends), and within about a minute for a host that fell silent (TCP keepalives: idle
/// 30 s, then 3 probes 10 s apart).
public actor PostgresClaims {
    private let connection: PostgresConnection
    private let logger: Logger
    /// The claims this session holds or is asking for, by key.
    ///
    /// A second claim of a key waits for
    /// the first's answer instead of asking again: session-level advisory locks stack, and a lock
    /// taken twice would outlive one release.
    private var claims: [Int64: Task<Bool, any Error>] = [:]

    private init(connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    /// Opens a session of its own at `location`.
    ///
    /// - Throws: PostgresNIO's errors when the server cannot be reached or refuses the login.
    public static func connect(to location: PostgresLocation, password: String, logger: Logger) async throws
        -> PostgresClaims
    {
        let connection = try await PostgresConnection.connect(
            configuration: try location.sessionConfiguration(password: password),
            id: 1,
            logger: logger
        )
        return PostgresClaims(connection: connection, logger: logger)
    }

    /// Claims entry `entry` of job `job` for this session; false when another session holds it.
    ///
    /// - Throws: PostgresNIO's errors when the query fails.
    public func claim(job: String, entry: String) async throws -> Bool {
        try await claim(ClaimKey.entry(job: job, entry: entry))
    }

    /// Claims job `job` as a whole for this session (the run lock of a job on one store); false
    /// when another session holds it.
    ///
    /// - Throws: PostgresNIO's errors when the query fails.
    public func claim(job: String) async throws -> Bool {
        try await claim(ClaimKey.job(job))
    }

    private func claim(_ key: Int64) async throws -> Bool {
        if let asked = claims[key] { return try await asked.value }
        let asking = Task { try await answer("SELECT pg_try_advisory_lock(\(key))") }
        claims[key] = asking
        do {
            let granted = try await asking.value
            if !granted, claims[key] == asking { claims[key] = nil }
            return granted
        } catch {
            if claims[key] == asking { claims[key] = nil }
            throw error
        }
    }

    /// Joins this session to round `round` of job `job`'s shared runs (`run --shard`).
    ///
    /// A shared run holds the job's key shared (`pg_advisory_lock_shared`), a whole run holds it
    /// exclusively, so the two kinds never overlap. The round itself is a row of `job_round`: the
    /// host that writes it started the round. Hosts decide one at a time (a transaction-level
    /// lock on ``ClaimKey/round(_:)``). The store's schema must be there (``PostgresStore/open``).
    ///
    /// - Returns: whether this session started the round; nil while a whole run holds the job.
    /// - Throws: PostgresNIO's errors when a query fails; the session's locks are then unknown,
    ///   and closing it gives them all back.
    public func joinRound(job: String, round: String, at time: Date) async throws -> Bool? {
        let key = ClaimKey.job(job)
        let logger = self.logger
        return try await connection.withTransaction(logger: logger) { connection in
            func answer(_ query: PostgresQuery) async throws -> Bool {
                for try await value in try await connection.query(query, logger: logger).decode(Bool.self) {
                    return value
                }
                throw NoAnswer()
            }
            try await connection.query("SELECT pg_advisory_xact_lock(\(ClaimKey.round(job)))", logger: logger)
            guard try await answer("SELECT pg_try_advisory_lock_shared(\(key))") else { return nil }
            var started = false
            for try await _ in try await connection.query(
                """
                INSERT INTO job_round (job, round, started_at) VALUES (\(job), \(round), \(time))
                ON CONFLICT DO NOTHING RETURNING 1
                """,
                logger: logger
            ).decode(Int.self) {
                started = true
            }
            return started
        }
    }

    /// Holds the key of run `id` for as long as this session lives: `beginRun` of a run of another
    /// round leaves a `running` run whose key is held alone (it is live, not crashed).
    ///
    /// The key is `hashtextextended(` ``PostgresStore/runKeyPrefix`` ` || id, 0)`, computed by the
    /// server, so that `beginRun` can look for it in `pg_locks`.
    ///
    /// - Throws: PostgresNIO's errors when the query fails.
    public func holdRun(_ id: String) async throws {
        _ = try await answer(
            "SELECT pg_try_advisory_lock(hashtextextended(\(PostgresStore.runKeyPrefix) || \(id), 0))"
        )
    }

    /// Gives back the claim on entry `entry` of job `job`, if this session holds it.
    ///
    /// - Throws: PostgresNIO's errors when the query fails; the session's claims are then
    ///   unknown, and closing it is the way to give them all back.
    public func release(job: String, entry: String) async throws {
        let key = ClaimKey.entry(job: job, entry: entry)
        guard let asked = claims.removeValue(forKey: key), try await asked.value else { return }
        _ = try await answer("SELECT pg_advisory_unlock(\(key))")
    }

    /// Whether the session is still there, and so still holds its claims (the server drops
    /// them only with the session).
    ///
    /// Bounded by `seconds`: a query on a session the server ended (`pg_terminate_backend`) was
    /// seen to wait for ever, so no answer in time counts as a session gone.
    ///
    /// - Throws: PostgresNIO's errors when the session is gone or the query fails; ``NoAnswer``
    ///   when it does not answer in time.
    public func check(within seconds: Double = 5) async throws {
        let connection = self.connection
        let logger = self.logger
        let answered = try await Self.bounded(seconds) {
            for try await value in try await connection.query("SELECT true", logger: logger).decode(Bool.self) {
                return value
            }
            return false
        }
        guard answered == true else { throw NoAnswer() }
    }

    /// Closes the session, which gives back every claim it holds; waits at most 5 s for a
    /// session that no longer answers (the server has dropped its claims then anyway).
    ///
    /// - Throws: PostgresNIO's errors when the connection cannot be closed cleanly.
    public func close() async throws {
        claims = [:]
        let connection = self.connection
        _ = try await Self.bounded(5) { try await connection.close() }
    }

    /// What `operation` gives within `seconds`, or nil when it has not finished by then (it is
    /// then cancelled and left to end on its own: the caller does not wait for it).
    static func bounded<T: Sendable>(_ seconds: Double, _ operation: @escaping @Sendable () async throws -> T)
        async throws -> T?
    {
        let outcome = Race<T>()
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T?, any Error>) in
            let work = Task {
                do {
                    let value = try await operation()
                    outcome.finish(continuation, with: .success(value))
                } catch {
                    outcome.finish(continuation, with: .failure(error))
                }
            }
            Task {
                try? await Task.sleep(for: .seconds(seconds))
                if outcome.finish(continuation, with: .success(nil)) { work.cancel() }
            }
        }
    }

    /// The first of two outcomes to come resumes the continuation; the other is dropped.
    final class Race<T: Sendable>: @unchecked Sendable {
        private let lock = NSLock()
        private var done = false

        @discardableResult
        func finish(_ continuation: CheckedContinuation<T?, any Error>, with result: Result<T?, any Error>) -> Bool {
            lock.lock()
            let first = !done
            done = true
            lock.unlock()
            if first { continuation.resume(with: result) }
            return first
        }
    }

    /// The one boolean `query` answers.
    private func answer(_ query: PostgresQuery) async throws -> Bool {
        for try await value in try await connection.query(query, logger: logger).decode(Bool.self) { return value }
        throw NoAnswer()
    }

    /// PostgreSQL answered a lock function with no row.
    struct NoAnswer: Error, CustomStringConvertible {
        var description: String { "PostgreSQL answered an advisory-lock query with no row" }
    }
}
