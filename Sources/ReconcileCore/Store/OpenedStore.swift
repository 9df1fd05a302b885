import Foundation
import Logging

/// A job's store, opened for one command on whichever engine its `store` names.
///
/// A path is a SQLite file (checked by ``StoreLocation`` first); a `postgres://` or
/// `postgresql://` URL is a PostgreSQL database, whose password is the job's `store_password_env`.
/// A run or backfill also holds the job's run lock while the store is open: an `flock` beside
/// the file, or an advisory lock on the job's key held by a session of its own (released with the
/// session, so a killed run never leaves it behind). ``close()`` lets go of both.
public struct OpenedStore: Sendable {
    public let store: any ReconcileStore
    /// Where the store is, for logs and reports: the file's absolute path, or the URL (which holds no secret).
    public let location: String
    /// Whether a store was there before this command.
    public let existed: Bool
    /// The round a shared run (`run --shard`) joined, and its claims on entries; nil for a run
    /// that holds the whole job, and for commands that hold no lock.
    public let shared: SharedRound?
    private let release: @Sendable () async -> Void
    private let verify: @Sendable () async throws(StoreFailure) -> Void

    /// Closes the store and lets go of the run lock.
    public func close() async { await release() }

    /// Checks that the run lock is still held; a run calls it before it writes (repairs, its end).
    ///
    /// A file's `flock` lasts as long as the process. A PostgreSQL advisory lock lasts as long as
    /// its session: if that connection dropped (a network cut, a server restart, an operator's
    /// `pg_terminate_backend`), another run may have started since, so the run must stop writing.
    ///
    /// - Throws: ``StoreFailure`` (exit 3) when the lock is gone.
    public func checkLock() async throws(StoreFailure) { try await verify() }

    /// Opens the store `target` names.
    ///
    /// - Parameters:
    ///   - target: the job's `store`, or `--store`.
    ///   - origin: where `target` came from, for errors (`Jobs/nightly.yml:3: store`, `--store`).
    ///   - password: the job's store password; needed for a URL only.
    ///   - creation: what the command may do where there is no store yet.
    ///   - job: the job whose run lock to hold while the store is open (`run`, `backfill`); nil for none.
    ///   - round: the round to join to share the job with the runs of other hosts
    ///     (`run --shard`), instead of holding the whole job; nil for none. A PostgreSQL store only.
    ///   - logger: where a server store's connection pool logs.
    /// - Returns: the store, open, with the lock held when asked for.
    /// - Throws: ``StorePathError`` (exit 2) for a target that cannot be a store, or no store where
    ///   one must be; ``StoreFileError`` for a file that is not one; ``LockFailure`` (exit 4) when
    ///   another run holds the job's lock; ``StoreFailure`` (exit 3) when the store cannot be opened.
    public static func open(
        _ target: String,
        origin: String,
        password: Secret?,
        creation: StoreLocation.Creation,
        lockingJob job: String? = nil,
        sharing round: String? = nil,
        logger: Logger
    ) async throws -> OpenedStore {
        guard PostgresLocation.isURL(target) else {
            if round != nil {
                throw UsageFailure(
                    "--shard: the store \(target) (\(origin)) is a SQLite file, which serves one host; "
                        + "runs share a job across hosts on a PostgreSQL store (store: postgres://…)"
                )
            }
            let location = try StoreLocation.check(target, origin: origin, creation: creation)
            let lock = LockHolder(try job.map { _ in try StoreLock(storePath: location.path) })
            let store = try Store(path: location.path)
            return OpenedStore(
                store: store,
                location: location.path,
                existed: location.existed,
                shared: nil,
                release: { lock.release() },
                verify: {}
            )
        }
        let location: PostgresLocation
        do {
            location = try PostgresLocation(url: target)
        } catch {
            throw StorePathError(origin: origin, path: PostgresLocation.shown(target), problem: "\(error)")
        }
        guard let password else {
            throw StorePathError(
                origin: origin,
                path: location.description,
                problem:
                    "a PostgreSQL store needs its password: name its variable with store_password_env in the job file"
            )
        }
        var claims: PostgresClaims?
        let lockPath = "pg_advisory_lock(\(ClaimKey.job(job ?? ""))) of job \(job ?? "") on \(location.description)"
        do {
            if let job, round == nil {
                let session = try await PostgresClaims.connect(to: location, password: password.value, logger: logger)
                claims = session
                guard try await session.claim(job: job) else { throw LockFailure(lockPath: lockPath) }
            }
            let store = try await PostgresStore.open(
                location,
                password: password.value,
                creation: creation,
                logger: logger
            )
            var shared: SharedRound?
            if let job, let round {
                // After the store is open: the round is recorded in its schema.
                do {
                    let session = try await PostgresClaims.connect(
                        to: location,
                        password: password.value,
                        logger: logger
                    )
                    claims = session
                    guard let started = try await session.joinRound(job: job, round: round, at: Date()) else {
                        throw LockFailure(lockPath: lockPath + " (a whole run of the job)")
                    }
                    shared = SharedRound(
                        round: round,
                        started: started,
                        claim: { entry in try await session.claim(job: job, entry: entry) },
                        release: { entry in
                            // A claim that cannot be given back goes with the session at the end.
                            try? await session.release(job: job, entry: entry)
                        },
                        holdRun: { id in try await session.holdRun(id) }
                    )
                } catch {
                    await store.close()
                    throw error
                }
            }
            let name = location.description
            return OpenedStore(
                store: store,
                location: name,
                existed: store.existed,
                shared: shared,
                release: { [claims] in
                    await store.close()
                    try? await claims?.close()
                },
                verify: { [claims] () throws(StoreFailure) in
                    guard let claims else { return }
                    do {
                        try await claims.check()
                    } catch {
                        throw StoreFailure(
                            "keep the run lock on \(name)",
                            reason: "the session holding it is gone (\(PostgresStore.failure("", error).reason)); "
                                + "another run may have started, so this one stops before writing more"
                        )
                    }
                }
            )
        } catch let refused as PostgresStore.NoStoreYet {
            try? await claims?.close()
            throw StorePathError(
                origin: origin,
                path: location.description,
                problem: refused.creation == .refusedForRun
                    ? "holds no reconcile store yet; ingest first, or pass --create-store to start an empty one"
                    : "holds no reconcile store"
            )
        } catch let failure as ReconcileFailure {
            try? await claims?.close()
            throw failure
        } catch {
            try? await claims?.close()
            throw PostgresStore.failure("open \(location.description)", error)
        }
    }
}

/// The round of shared runs (`run --shard`) a run joined, and its claims on the job's entries.
public struct SharedRound: Sendable {
    /// The round's id: the same for every host that shares the night's work.
    public let round: String
    /// Whether this run started the round (the first of its hosts).
    public let started: Bool
    /// Claims an entry for this run; false while another host holds it.
    public let claim: @Sendable (String) async throws -> Bool
    /// Gives back the claim on an entry (all go when the store is closed).
    public let release: @Sendable (String) async -> Void
    /// Holds run `id`'s key for as long as the session lives, which tells other rounds' hosts the
    /// run is live (``PostgresClaims/holdRun(_:)``).
    public let holdRun: @Sendable (String) async throws -> Void
}

/// A SQLite store's run lock until ``release()``: the `flock` goes when the lock is let go of.
private final class LockHolder: @unchecked Sendable {
    private let guardian = NSLock()
    private var lock: StoreLock?

    init(_ lock: StoreLock?) { self.lock = lock }

    func release() {
        guardian.lock()
        defer { guardian.unlock() }
        lock = nil
    }
}
