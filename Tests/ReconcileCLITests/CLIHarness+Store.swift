import Foundation
import Logging
import ReconcileCore
import Testing

/// The test's stores on the suite's engine, and what they hold, read the same way on both.
extension CLIHarness {
    /// A store opened for a test to read: what the commands read, and the engine-neutral inspection.
    typealias InspectedStore = ReconcileStore & StoreInspection

    /// The job's name in every job file the harness writes.
    static let jobName = "cli"

    /// Store `name` of the test, as `--store` takes it: the file `name` in the test's folder, or on
    /// PostgreSQL a database of its own (`reconcile.sqlite` is the job's; any other is created
    /// empty the first time it is asked for, beside the job's and dropped with it).
    func store(_ name: String = "reconcile.sqlite") async throws -> String {
        guard let storeURL else { return path(name).path }
        if name == "reconcile.sqlite" { return storeURL }
        let database = try Self.database(storeURL, name)
        let found = try await CLIPostgres.strings("SELECT datname::text FROM pg_database WHERE datname = '\(database)'")
        if found.isEmpty { try await CLIPostgres.execute("CREATE DATABASE \(database)") }
        return try CLIPostgres.url(database: database)
    }

    /// The database of store `name` beside the job's database of `url`: the job's name, `_`, and
    /// the store's name up to its first dot, in lower case.
    private static func database(_ url: String, _ name: String) throws -> String {
        let job = try #require(url.split(separator: "/").last)
        let suffix = name.prefix { $0 != "." }.lowercased()
        try #require(!suffix.isEmpty && suffix.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" })
        return "\(job)_\(suffix)"
    }

    /// Makes store `name` empty again: no file, or a new empty database (no store in it yet).
    func emptyStore(_ name: String) async throws { try await replaceStore(name, by: nil) }

    /// Replaces store `destination` by a copy of store `source`; no process may be using `source`.
    func copyStore(_ source: String, to destination: String) async throws {
        try await replaceStore(destination, by: source)
    }

    /// Replaces store `name` by a copy of store `source`, or by none.
    ///
    /// A file goes with the write-ahead log a kill may have left, and its copy comes with its
    /// source's; a database is dropped and made again, from `source` as its template.
    private func replaceStore(_ name: String, by source: String?) async throws {
        guard storeURL != nil else {
            for suffix in ["", "-wal", "-shm", ".lock"] {
                let target = path(name).path + suffix
                try? FileManager.default.removeItem(atPath: target)
                if let source, suffix != ".lock", FileManager.default.fileExists(atPath: path(source).path + suffix) {
                    try FileManager.default.copyItem(atPath: path(source).path + suffix, toPath: target)
                }
            }
            return
        }
        let database = try await databaseName(name)
        try await CLIPostgres.execute("DROP DATABASE \(database) WITH (FORCE)")
        if let source {
            try await CLIPostgres.execute("CREATE DATABASE \(database) TEMPLATE \(try await databaseName(source))")
        } else {
            try await CLIPostgres.execute("CREATE DATABASE \(database)")
        }
    }

    /// The name of store `name`'s database, which ``store(_:)`` creates if needed.
    private func databaseName(_ name: String) async throws -> String {
        String(try #require(try await store(name).split(separator: "/").last))
    }

    /// Opens store `name` as the commands do, without its lock, for `body` to read what it holds;
    /// nil when there is no store there yet.
    func inspect<T>(_ name: String = "reconcile.sqlite", _ body: (any InspectedStore) async throws -> T)
        async throws -> T?
    {
        let opened: OpenedStore
        do {
            opened = try await open(name, locking: false)
        } catch is StorePathError {
            return nil
        }
        do {
            let inspected = try #require(opened.store as? any InspectedStore)
            let result = try await body(inspected)
            await opened.close()
            return result
        } catch {
            await opened.close()
            throw error
        }
    }

    /// Whether store `name` holds a reconcile store: a file, or the tables in the database.
    func storeExists(_ name: String = "reconcile.sqlite") async throws -> Bool {
        try await inspect(name) { _ in true } != nil
    }

    /// Whether a run could take the job's lock on store `name` now.
    ///
    /// On PostgreSQL a killed process's session, and the advisory lock with it, ends once the
    /// server sees the connection closed, so this waits up to 5 s for the lock.
    func lockIsFree(_ name: String = "reconcile.sqlite") async throws -> Bool {
        for attempt in 0..<50 {
            do {
                try await open(name, locking: true).close()
                return true
            } catch is LockFailure {
                guard storeURL != nil, attempt < 49 else { return false }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        return false
    }

    private func open(_ name: String, locking: Bool) async throws -> OpenedStore {
        let password =
            storeURL == nil
            ? nil
            : environment[Self.passwordVariable].map {
                Secret(variable: Self.passwordVariable, value: $0)
            }
        var logger = Logger(label: "test.store")
        logger.logLevel = .critical
        return try await OpenedStore.open(
            try await store(name),
            origin: "test",
            password: password,
            creation: .refusedForReading,
            lockingJob: locking ? Self.jobName : nil,
            logger: logger
        )
    }
}
