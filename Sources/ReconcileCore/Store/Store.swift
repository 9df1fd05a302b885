import Foundation
import GRDB

/// The job's SQLite file: deliveries, events, local state, runs, findings and repairs.
///
/// One `Store` owns a WAL-mode `DatabasePool` and the migrator; every method that changes
/// anything runs in one transaction, so a failure or a kill never leaves half a change behind.
public final class Store: Sendable {
    let pool: DatabasePool
    /// The SQLite file's path.
    public let path: String

    /// Opens (creating if needed) the store at `path` and brings its schema up to date.
    ///
    /// The folder must exist: commands check the path first (`StoreLocation`), and nothing here
    /// creates folders, so a mistyped path never silently becomes a new store somewhere else.
    public init(path: String) throws(StoreFailure) {
        self.path = path
        do {
            var configuration = Configuration()
            // Writers take turns (two ingests, an ingest during a run's repair): wait for the other's
            // transaction rather than fail, up to a minute (a slow disk, a large repair).
            configuration.busyMode = .timeout(60)
            configuration.prepareDatabase { db in
                try db.execute(sql: "PRAGMA synchronous = NORMAL")
            }
            pool = try DatabasePool(path: path, configuration: configuration)
            // A newer build may store things this one cannot read (since v5, payloads as places in
            // delivery bodies), and its retention would not keep them: refuse rather than guess.
            if try pool.read(Store.migrator.hasBeenSuperseded) {
                throw StoreFailure(
                    "open \(path)",
                    reason: "its schema was written by a newer version of reconcile; this build leaves it as "
                        + "it is: run that version or a later one"
                )
            }
            try Store.migrator.migrate(pool)
        } catch let error as DatabaseError
            where [.SQLITE_CORRUPT, .SQLITE_NOTADB].contains(error.resultCode)
        {
            throw StoreFailure(
                "open \(path)",
                reason: "the file is damaged (\(error.message ?? "database disk image is malformed")); it was left "
                    + "as it is: restore it from a backup, or move it away to start an empty store"
            )
        } catch {
            throw StoreFailure("open \(path)", error)
        }
    }

    /// Fits the writing connection to a long series of batch transactions (an ingest).
    ///
    /// A 16 MiB page cache instead of SQLite's 2 MiB, and a checkpoint every 8,000 pages of WAL
    /// (32 MiB) instead of every 1,000: a batch's lines land on pages all over the store's indexes
    /// (fingerprints and event ids are random), and each commit wrote those pages to the WAL and,
    /// soon after, to the file again. Neither setting changes what a commit guarantees: a committed
    /// batch is in the WAL, and a killed process's WAL is replayed when the store is next opened.
    /// Both stay for the rest of this `Store`'s life (the demo goes on to run with it); the WAL is
    /// checkpointed and removed when the last connection to the file, of any process, closes.
    func tuneForIngest() throws(StoreFailure) {
        do {
            try pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA cache_size = -16384")
                try db.execute(sql: "PRAGMA wal_autocheckpoint = 8000")
            }
        } catch {
            throw StoreFailure("prepare \(path) for ingest", error)
        }
    }

    func write<T>(_ operation: String, _ updates: (Database) throws -> T) throws(StoreFailure) -> T {
        do {
            return try pool.write(updates)
        } catch let failure as StoreFailure {
            throw failure
        } catch {
            throw StoreFailure(operation, error)
        }
    }

    func read<T>(_ operation: String, _ value: (Database) throws -> T) throws(StoreFailure) -> T {
        do {
            return try pool.read(value)
        } catch {
            throw StoreFailure(operation, error)
        }
    }

    static func text(_ date: Date) -> String { RFC3339.formatMillis(date) }

    static func date(_ text: String?) -> Date? { text.flatMap(RFC3339.parse) }
}

extension Database {
    /// Runs `sql` through a statement compiled once per connection and kept (GRDB's statement
    /// cache): statements run once per line or finding would else be parsed, authorised and
    /// planned anew every time, which was a quarter of ingest's time.
    func executeCached(sql: String, arguments: StatementArguments) throws {
        try cachedStatement(sql: sql).execute(arguments: arguments)
    }
}
