import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Why a store path was refused before anything was opened (exit 2: nothing ran).
public struct StorePathError: ReconcileFailure {
    /// Where the path came from: `Jobs/nightly.yml:3: store` or `--store`.
    public var origin: String
    public var path: String
    /// What is wrong and what to do, in a phrase.
    public var problem: String

    public var exitStatus: Int32 { 2 }
    public var description: String { "\(origin) is '\(path)': \(problem)" }
}

/// A store file that exists but cannot be used as one (exit 3, naming the store; never replaced).
public struct StoreFileError: ReconcileFailure {
    public var path: String
    public var problem: String

    public var exitStatus: Int32 { 3 }
    public var description: String { "store \(path): \(problem); it was left as it is" }
}

/// Where the job's SQLite store is, checked before it is opened or locked.
///
/// Relative paths are taken from the working directory (job.md) and resolved once, so the log
/// and the report can say which file was used. Nothing here creates a folder: a store in a
/// folder that does not exist is a mistake to name, not a path to build.
public struct StoreLocation: Sendable, Equatable {
    /// The absolute path of the store file.
    public var path: String
    /// Whether the file existed (non-empty) before this command.
    public var existed: Bool

    /// What a command may do when the store does not exist yet.
    public enum Creation: Sendable {
        /// `ingest`, `demo`, `run --create-store`: start an empty store.
        case allowed
        /// `run` and `backfill`: a missing store is most likely the wrong folder, so refuse.
        case refusedForRun
        /// `report`, `runs`: only read an existing store.
        case refusedForReading
    }

    /// Checks `path` (from `origin`, such as `job.yml:3: store`) and resolves it against `directory`.
    ///
    /// - Throws: `StorePathError` (exit 2) for a path that cannot be a store here; `StoreFileError`
    ///   (exit 3) for an existing file that is not a SQLite database or was cut short.
    public static func check(
        _ path: String,
        origin: String,
        creation: Creation,
        directory: String = FileManager.default.currentDirectoryPath
    ) throws -> StoreLocation {
        func refuse(_ problem: String) -> StorePathError {
            StorePathError(origin: origin, path: String(path.prefix(300)), problem: problem)
        }
        guard !path.isEmpty, !path.hasSuffix("/") else { throw refuse("expected the path of a file") }
        guard !path.contains("\0"), path.utf8.count < 4096 else { throw refuse("not a usable file path") }
        guard !path.hasPrefix("~") else {
            throw refuse("'~' is not expanded here; write the full path (for example /home/reconcile/var/…)")
        }
        let absolute =
            path.hasPrefix("/")
            ? path : URL(fileURLWithPath: directory).appendingPathComponent(path).standardizedFileURL.path
        let folder = URL(fileURLWithPath: absolute).deletingLastPathComponent().path
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) else {
            throw refuse("its folder \(folder) does not exist; create it first (mkdir -p \(folder))")
        }
        guard isFolder.boolValue else { throw refuse("\(folder) is not a folder") }
        var info = stat()
        let exists = lstat(absolute, &info) == 0
        if exists {
            guard (info.st_mode & S_IFMT) == S_IFREG else {
                throw refuse("it exists and is not a regular file")
            }
            guard access(absolute, R_OK | W_OK) == 0 else {
                throw refuse("it cannot be read and written here (another user's file, or a read-only file system)")
            }
        }
        // SQLite writes a journal, WAL and shared-memory file beside the store, and we the lock.
        // Try it rather than ask access(2), which says yes to root on a read-only file system.
        guard canCreateFiles(in: folder) else {
            throw refuse("its folder \(folder) cannot be written (SQLite needs its -wal and -shm files there)")
        }
        let existed = exists && info.st_size > 0
        if !existed {
            switch creation {
            case .allowed: break
            case .refusedForRun:
                throw refuse(
                    "no store there yet (relative paths are taken from the working directory, \(directory)); "
                        + "ingest first, or pass --create-store to start an empty one"
                )
            case .refusedForReading:
                throw refuse("no store there (relative paths are taken from the working directory, \(directory))")
            }
        } else {
            try checkHeader(absolute, size: Int64(info.st_size))
        }
        return StoreLocation(path: absolute, existed: existed)
    }

    /// Whether a file can be created (and removed) in `folder` by this process.
    static func canCreateFiles(in folder: String) -> Bool {
        let probe = folder + "/.reconcile-write-check-\(getpid())"
        let fd = open(probe, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return errno == EEXIST }
        close(fd)
        unlink(probe)
        return true
    }

    /// Refuses a file that does not start like a SQLite database, or is shorter than its header says.
    ///
    /// Reads 100 bytes: cheap on a store of any size, unlike `PRAGMA integrity_check`.
    static func checkHeader(_ path: String, size: Int64) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw StoreFileError(path: path, problem: "cannot be read")
        }
        defer { try? handle.close() }
        let header = [UInt8]((try? handle.read(upToCount: 100)) ?? Data())
        guard header.count == 100, Array(header[0..<16]) == Array("SQLite format 3\0".utf8) else {
            throw StoreFileError(path: path, problem: "is not a SQLite database (wrong header); is it the right file?")
        }
        func bigEndian(_ range: Range<Int>) -> Int64 { header[range].reduce(0) { $0 << 8 | Int64($1) } }
        let rawPageSize = bigEndian(16..<18)
        let pageSize = rawPageSize == 1 ? 65_536 : rawPageSize
        let pages = bigEndian(28..<32)
        // The header's page count is valid when its "version-valid-for" equals the change counter;
        // with a write-ahead log beside the file, the log holds pages a checkpoint has not yet
        // copied (a disk that filled up mid-checkpoint), and SQLite recovers from it.
        var wal = stat()
        let hasLog = stat(path + "-wal", &wal) == 0 && wal.st_size > 0
        if !hasLog, bigEndian(92..<96) == bigEndian(24..<28), pages > 0, size < pages * pageSize {
            throw StoreFileError(
                path: path,
                problem:
                    "is truncated: \(size) bytes where its header says \(pages * pageSize); restore it from a backup"
            )
        }
    }
}
