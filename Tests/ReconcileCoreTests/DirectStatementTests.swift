import Foundation
import GRDB
import GRDBSQLite
import Testing

@testable import ReconcileCore

/// Rows read straight from SQLite (``DirectStatement/forEachRow(_:)``) read as GRDB reads them.
@Suite struct DirectStatementTests {
    @Test func rowsReadByPositionMatchGRDBsAndNullsStayNil() throws {
        let queue = try DatabaseQueue()
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE t (k INTEGER, name TEXT, amount INTEGER, at REAL)")
            let rows: [(Int, String?, Int64?, Double)] = [
                (1, "é e\u{301} 日本", 125_000, 1.5), (2, nil, nil, -0.25), (3, "", Int64.min, 0),
                (4, "pay_4", Int64.max, 1e300),
            ]
            for (k, name, amount, at) in rows {
                try db.execute(sql: "INSERT INTO t VALUES (?, ?, ?, ?)", arguments: [k, name, amount, at])
            }
        }
        try queue.read { db in
            let expected = try Row.fetchAll(
                db,
                sql: "SELECT name, amount, at FROM t WHERE k >= ? ORDER BY k",
                arguments: [1]
            )
            .map { row in "\(row[0] as String?)|\(row[1] as Int64?)|\(row[2] as Double)" }
            let select = try DirectStatement(db, "SELECT name, amount, at FROM t WHERE k >= ? ORDER BY k")
            for _ in 0..<2 {  // The statement is reset after each run: the second reads the same.
                select.bind(Int64(1))
                var read: [String] = []
                try select.forEachRow { row in
                    #expect(row.isNull(0) == (try row.text(0) == nil))
                    read.append("\(try row.text(0))|\(row.integer(1))|\(row.double(2))")
                }
                #expect(read == expected)
                #expect(read.count == 4)
            }
        }
    }

    /// A step that fails (here an integer overflow in the middle of the rows) throws SQLite's error,
    /// after the rows before it, and leaves the statement ready to run again.
    @Test func aFailingStepThrowsAfterTheRowsBeforeIt() throws {
        let queue = try DatabaseQueue()
        try queue.read { db in
            let select = try DirectStatement(
                db,
                "SELECT abs(value) FROM (SELECT 1 AS value UNION ALL SELECT -9223372036854775808)"
            )
            var read: [Int64?] = []
            let error = #expect(throws: DatabaseError.self) {
                try select.forEachRow { read.append($0.integer(0)) }
            }
            #expect(read == [1])
            #expect(error?.message?.contains("integer overflow") == true, "\(String(describing: error))")
            // Reset after the failure: run again, it reads the first row again and fails the same way.
            #expect(throws: DatabaseError.self) { try select.forEachRow { read.append($0.integer(0)) } }
            #expect(read == [1, 1])
            let unbound = try DirectStatement(db, "SELECT ?")
            #expect(throws: DatabaseError.self, "a parameter left unbound is an error, never NULL") {
                try unbound.forEachRow { _ in }
            }
        }
    }

    /// A cached statement is the connection's, made again for every page: whatever one use left
    /// (values bound and not run, rows left unread, a body that threw), the next starts clean.
    @Test func aCachedStatementStartsCleanWhateverTheLastUseLeft() throws {
        let queue = try DatabaseQueue()
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE t (k INTEGER)")
            for k in 1...3 { try db.execute(sql: "INSERT INTO t VALUES (?)", arguments: [k]) }
        }
        let sql = "SELECT k FROM t WHERE k >= ? ORDER BY k"
        try queue.read { db in
            // SQLite's own handle, which GRDB caches and every use below shares.
            let handle = try db.cachedStatement(sql: sql).sqliteStatement
            do {
                let first = try DirectStatement(cached: db, sql)
                first.bind(Int64(2))  // bound, never run
            }
            // Released with its value cleared: `k >= NULL` has no row, where a 2 left bound has two.
            #expect(sqlite3_step(handle) == SQLITE_DONE)
            sqlite3_reset(handle)
            let unbound = try DirectStatement(cached: db, sql)
            #expect(throws: DatabaseError.self, "no value is left over from the last use") {
                try unbound.forEachRow { _ in }
            }
            struct Stop: Error {}
            do {
                let interrupted = try DirectStatement(cached: db, sql)
                interrupted.bind(Int64(1))
                var seen = 0
                #expect(throws: Stop.self) {
                    try interrupted.forEachRow { _ in
                        seen += 1
                        throw Stop()
                    }
                }
                #expect(seen == 1)
            }
            #expect(sqlite3_stmt_busy(handle) == 0, "reset, not left in the middle of its rows")
            let again = try DirectStatement(cached: db, sql)
            again.bind(Int64(1))
            var read: [Int64?] = []
            try again.forEachRow { read.append($0.integer(0)) }
            #expect(read == [1, 2, 3], "from the first row, not where the last use stopped")
            // GRDB, which owns the cached statement, still reads with it.
            #expect(try Int64.fetchAll(db.cachedStatement(sql: sql), arguments: [2]) == [2, 3])
        }
    }
}
