import GRDB

/// An error the job reports to its user and turns into an exit status.
///
/// Descriptions name the file, key, line or provider that was wrong and what was expected; they
/// never contain a key, a secret or a signature.
public protocol ReconcileFailure: Error, CustomStringConvertible, Sendable {
    /// The process exit status this failure maps to (see job.md: 2 usage, 3 could not finish, 4 locked).
    var exitStatus: Int32 { get }
}

/// A failure of the local store: the SQLite file could not be opened, read or written.
public struct StoreFailure: ReconcileFailure {
    /// What the store was doing when it failed.
    public var operation: String
    /// The underlying error, described without any stored content.
    public var reason: String
    /// Repairs committed before a repair failed, by finding key: they stand.
    ///
    /// Always empty on
    /// SQLite, whose repairs of a provider are one transaction; a PostgreSQL store commits them
    /// 500 at a time.
    public var committedRepairs: Set<ExactID> = []

    public var exitStatus: Int32 { 3 }
    public var description: String { "store: \(operation) failed: \(reason)" }

    /// `error` described; SQLite's "database or disk is full" also names the folder of SQLite's
    /// temporary files (``SQLiteTemporaryFolder``), which a read of the store fills too, and only
    /// that folder for a file that lives there alone (`temporaryFile`: a run's ``RunScratch``).
    init(_ operation: String, _ error: any Error, temporaryFile: Bool = false) {
        self.operation = operation
        self.reason = String(describing: error)
        if let error = error as? DatabaseError, error.resultCode == .SQLITE_FULL {
            reason += " (\(SQLiteTemporaryFolder.fullDiskHint(storeToo: !temporaryFile)))"
        }
    }

    init(_ operation: String, reason: String) {
        self.operation = operation
        self.reason = reason
    }
}

/// Bad usage of a command that argument parsing could not catch (a bad time, an unknown provider name).
public struct UsageFailure: ReconcileFailure {
    /// The message shown to the user.
    public var message: String

    public init(_ message: String) { self.message = message }
    public var exitStatus: Int32 { 2 }
    public var description: String { message }
}
