import Foundation
import GRDB
import Testing

@testable import ReconcileCore

/// A full disk names the folder of SQLite's temporary files, which a read of the store fills too,
/// as SQLite's unix VFS picks it.
@Suite struct SQLiteTemporaryFolderTests {
    @Test func theFolderIsTheFirstWritableFolderOfSQLiteTmpdirTmpdirAndTheDefaults() async throws {
        try await withTemporaryDirectory { folder in
            let chosen = folder.appendingPathComponent("chosen").path
            let other = folder.appendingPathComponent("other").path
            let file = folder.appendingPathComponent("a-file").path
            try FileManager.default.createDirectory(atPath: chosen, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: true)
            try Data("x".utf8).write(to: URL(fileURLWithPath: file))

            let both = SQLiteTemporaryFolder.current(environment: ["SQLITE_TMPDIR": chosen, "TMPDIR": other])
            #expect(both.path == chosen && both.source == "from SQLITE_TMPDIR")
            // Missing, a file, empty: passed over, as SQLite passes them over.
            for skipped in [folder.appendingPathComponent("missing").path, file, ""] {
                let next = SQLiteTemporaryFolder.current(environment: ["SQLITE_TMPDIR": skipped, "TMPDIR": other])
                #expect(next.path == other && next.source == "from TMPDIR", "\(skipped)")
            }
            let defaults = SQLiteTemporaryFolder.current(environment: [:])
            #expect(["/var/tmp", "/usr/tmp", "/tmp", "."].contains(defaults.path))
            #expect(defaults.source == "neither SQLITE_TMPDIR nor TMPDIR names a folder to write in")
        }
    }

    @Test func aFullDiskNamesTheStoreAndTheTemporaryFolder() async throws {
        try await withTemporaryDirectory { folder in
            let store = try Store(path: folder.appendingPathComponent("reconcile.sqlite").path)
            // A real SQLITE_FULL: the file may not grow past a few more pages.
            let failure = try #require(
                throws: StoreFailure.self,
                performing: {
                    try store.write("fill the store") { db in
                        let pages = try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0
                        try db.execute(sql: "PRAGMA max_page_count = \(pages + 4)")
                        try db.execute(sql: "CREATE TABLE filler (bytes BLOB)")
                        for _ in 0..<64 { try db.execute(sql: "INSERT INTO filler VALUES (randomblob(4000))") }
                    }
                }
            )
            let temporary = SQLiteTemporaryFolder.current()
            #expect(failure.description.contains("database or disk is full"), "\(failure)")
            #expect(
                failure.description.contains(
                    "the disk of the store file, or of SQLite's temporary folder \(temporary.path) (\(temporary.source)), is full"
                ),
                "\(failure)"
            )
            // Another failure says nothing of disks.
            let other = StoreFailure("read", DatabaseError(resultCode: .SQLITE_CORRUPT, message: "damaged"))
            #expect(!other.description.contains("temporary folder"), "\(other)")
        }
    }
}
