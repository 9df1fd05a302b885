import Foundation

/// Where SQLite writes its temporary files: a sort or `GROUP BY` too large for memory, a run's
/// file of the provider's answers (``RunScratch``).
///
/// A full disk there fails a read of the store with SQLite's "database or disk is full", which
/// named neither that folder nor its variable: the operator looked at the store's own disk.
enum SQLiteTemporaryFolder {
    /// The folder SQLite's unix VFS picks, and what chose it: the first of `SQLITE_TMPDIR`,
    /// `TMPDIR`, `/var/tmp`, `/usr/tmp`, `/tmp` and `.` that is a folder this process may write in.
    static func current(
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> (path: String, source: String) {
        let candidates: [(String?, String)] = [
            (environment["SQLITE_TMPDIR"], "from SQLITE_TMPDIR"), (environment["TMPDIR"], "from TMPDIR"),
            ("/var/tmp", unset), ("/usr/tmp", unset), ("/tmp", unset),
        ]
        for case let (path?, source) in candidates where !path.isEmpty {
            var info = stat()
            if stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR, access(path, W_OK | X_OK) == 0 {
                return (path, source)
            }
        }
        return (".", unset)
    }

    /// Why a default folder was taken.
    private static let unset = "neither SQLITE_TMPDIR nor TMPDIR names a folder to write in"

    /// What a full disk may be, for an error: the store's, or this folder's (named); with
    /// `storeToo` false, the error is of a file in this folder, whose name it already gives.
    static func fullDiskHint(
        storeToo: Bool = true,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> String {
        guard storeToo else { return "the disk of that temporary folder is full" }
        let folder = current(environment: environment)
        return "the disk of the store file, or of SQLite's temporary folder \(folder.path) (\(folder.source)), is full"
    }
}
