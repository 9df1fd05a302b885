import Foundation
import GRDB
import GRDBSQLite

/// A statement run through SQLite's C API, with each value bound straight into it.
///
/// For the few statements the ingest runs once per line: GRDB's `execute(arguments:)` builds an
/// array of boxed values and looks the statement up by its SQL text on every run, which was about a
/// fifth of the writing thread's time (docs/performance.md). Values are bound in the order of the
/// statement's `?`s and copied by SQLite (`SQLITE_TRANSIENT`), as GRDB binds them; a run whose binds
/// failed, or did not bind every parameter, throws instead of storing NULL. Failures are thrown as
/// GRDB's `DatabaseError`, so callers see the same errors either way.
///
/// Made inside one transaction and finalized when released: never kept past the `Database` it came from.
final class DirectStatement {
    private let connection: OpaquePointer
    private let handle: OpaquePointer
    private let sql: String
    private var next: Int32 = 1
    private var failedBind: Int32?
    /// GRDB's statement, when the handle is the connection's cached one (``init(cached:_:)``): kept
    /// alive by this reference, and left to GRDB to finalize.
    private let cached: Statement?

    init(_ db: Database, _ sql: String) throws {
        guard let connection = db.sqliteConnection else {
            throw DatabaseError(resultCode: .SQLITE_MISUSE, message: "the connection is closed", sql: sql)
        }
        var handle: OpaquePointer?
        let code = sqlite3_prepare_v3(connection, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &handle, nil)
        guard code == SQLITE_OK, let handle else {
            throw Self.error(connection, sql)
        }
        self.connection = connection
        self.handle = handle
        self.sql = sql
        cached = nil
    }

    /// The connection's cached statement for `sql` (GRDB's statement cache), for a statement made
    /// again for every page or chunk: preparing it each time was 4 % of a dry run.
    ///
    /// One cached statement per SQL text and connection: never make two of the same text at once
    /// on one connection. It is reset and its bindings cleared before and after use.
    init(cached db: Database, _ sql: String) throws {
        guard let connection = db.sqliteConnection else {
            throw DatabaseError(resultCode: .SQLITE_MISUSE, message: "the connection is closed", sql: sql)
        }
        let statement = try db.cachedStatement(sql: sql)
        self.connection = connection
        handle = statement.sqliteStatement
        self.sql = sql
        cached = statement
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    deinit {
        if cached == nil {
            sqlite3_finalize(handle)
        } else {
            sqlite3_reset(handle)
            sqlite3_clear_bindings(handle)
        }
    }

    /// Binds the next parameter: text, or NULL for nil.
    ///
    /// Text ends at its first NUL, as GRDB binds it (with length -1), so that rows written here are
    /// found by the statements that look them up through GRDB.
    func bind(_ text: String?) {
        guard var text else { return bound(sqlite3_bind_null(handle, next)) }
        let code = text.withUTF8 { bytes in
            guard let start = bytes.baseAddress else {
                // An empty buffer may have no address, and a null address would bind NULL, not ''.
                return sqlite3_bind_text(handle, next, "", 0, Self.transient)
            }
            let length = bytes.firstIndex(of: 0) ?? bytes.count
            let characters = UnsafeRawPointer(start).assumingMemoryBound(to: CChar.self)
            return sqlite3_bind_text(handle, next, characters, Int32(clamping: length), Self.transient)
        }
        bound(code)
    }

    /// Binds the next parameter: UTF-8 text that SQLite reads where it lies, without a copy.
    ///
    /// The bytes must stay valid until the next ``run()`` returns (which clears the bindings).
    func bind(inPlace text: UnsafeBufferPointer<UInt8>) {
        guard let start = text.baseAddress else {
            // An empty buffer may have no address, and a null address would bind NULL, not ''.
            return bound(sqlite3_bind_text(handle, next, "", 0, Self.transient))
        }
        guard let length = Int32(exactly: text.count) else { return bound(SQLITE_TOOBIG) }
        let characters = UnsafeRawPointer(start).assumingMemoryBound(to: CChar.self)
        // A nil destructor is SQLITE_STATIC: SQLite reads the bytes where they are.
        bound(sqlite3_bind_text(handle, next, characters, length, nil))
    }

    /// Binds the next parameter: an integer, or NULL for nil.
    func bind(_ value: Int64?) {
        guard let value else { return bound(sqlite3_bind_null(handle, next)) }
        bound(sqlite3_bind_int64(handle, next, value))
    }

    /// Binds the next parameter: a floating-point number.
    func bind(_ value: Double) {
        bound(sqlite3_bind_double(handle, next, value))
    }

    /// Binds the next parameter: a blob, or NULL for nil (an empty blob binds NULL too, as GRDB binds it).
    func bind(_ bytes: Data?) {
        guard let bytes else { return bound(sqlite3_bind_null(handle, next)) }
        bound(
            bytes.withUnsafeBytes { buffer in
                sqlite3_bind_blob(handle, next, buffer.baseAddress, Int32(clamping: buffer.count), Self.transient)
            }
        )
    }

    /// Counts a bind; the first that failed (a value too big, no memory) fails the next run.
    private func bound(_ code: Int32) {
        if code != SQLITE_OK, failedBind == nil { failedBind = code }
        next += 1
    }

    /// Throws when a bind failed or not every parameter was bound: a run must never store NULL in their place.
    private func checkBindings() throws {
        if let failedBind {
            throw DatabaseError(
                resultCode: ResultCode(rawValue: failedBind),
                message: "binding parameter \(next - 1) failed: \(String(cString: sqlite3_errstr(failedBind)))",
                sql: sql
            )
        }
        guard next - 1 == sqlite3_bind_parameter_count(handle) else {
            throw DatabaseError(
                resultCode: .SQLITE_MISUSE,
                message: "\(next - 1) values bound for \(sqlite3_bind_parameter_count(handle)) parameters",
                sql: sql
            )
        }
    }

    /// Runs the statement with the values bound since the last run; returns how many rows it changed.
    @discardableResult
    func run() throws -> Int {
        defer { reset() }
        try checkBindings()
        let code = sqlite3_step(handle)
        guard code == SQLITE_DONE || code == SQLITE_ROW else { throw Self.error(connection, sql) }
        return Int(sqlite3_changes(connection))
    }

    /// Runs a query with the values bound since the last run; returns the first column of its first
    /// row, or nil when there is no row or the value is NULL.
    func firstText() throws -> String? { try firstRow { try $0.text(0) } }

    /// Runs a query with the values bound since the last run; returns the first column of its first
    /// row as a number, or nil when there is no row or the value is NULL.
    func firstDouble() throws -> Double? { try firstRow { $0.isNull(0) ? nil : $0.double(0) } }

    /// Runs a query with the values bound since the last run and reads its first row with `read`;
    /// nil when there is no row.
    private func firstRow<T>(_ read: (Columns) throws -> T?) throws -> T? {
        defer { reset() }
        try checkBindings()
        switch sqlite3_step(handle) {
        case SQLITE_ROW: return try read(columns)
        case SQLITE_DONE: return nil
        default: throw Self.error(connection, sql)
        }
    }

    /// Runs a query with the values bound since the last run, handing each of its rows to `body`.
    ///
    /// The ``Columns`` are read straight from SQLite, and only during the call: for reading many rows
    /// back, where GRDB copies each row into boxed values first.
    func forEachRow(_ body: (Columns) throws -> Void) throws {
        defer { reset() }
        try checkBindings()
        let columns = self.columns
        while true {
            switch sqlite3_step(handle) {
            case SQLITE_ROW: try body(columns)
            case SQLITE_DONE: return
            default: throw Self.error(connection, sql)
            }
        }
    }

    /// The current row of the statement's query, read by column position (from 0).
    private var columns: Columns { Columns(statement: self) }

    /// A row of a query run by ``forEachRow(_:)``, read by column position (from 0).
    struct Columns {
        fileprivate let statement: DirectStatement
        private var handle: OpaquePointer { statement.handle }

        func isNull(_ column: Int32) -> Bool { sqlite3_column_type(handle, column) == SQLITE_NULL }

        /// The column as text, or nil for NULL (text ends at its first NUL, as it was bound).
        ///
        /// Throws when SQLite had no memory to convert the value: never read as a NULL.
        func text(_ column: Int32) throws -> String? {
            guard let text = sqlite3_column_text(handle, column) else {
                guard isNull(column) else { throw DirectStatement.error(statement.connection, statement.sql) }
                return nil
            }
            return String(cString: text)
        }

        func double(_ column: Int32) -> Double { sqlite3_column_double(handle, column) }

        /// The column as an integer; nil for NULL.
        func integer(_ column: Int32) -> Int64? { isNull(column) ? nil : sqlite3_column_int64(handle, column) }
    }

    /// The rowid of the last row this connection inserted.
    var lastInsertedRowID: Int64 { sqlite3_last_insert_rowid(connection) }

    private func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
        next = 1
        failedBind = nil
    }

    private static func error(_ connection: OpaquePointer, _ sql: String) -> DatabaseError {
        DatabaseError(
            resultCode: ResultCode(rawValue: sqlite3_extended_errcode(connection)),
            message: String(cString: sqlite3_errmsg(connection)),
            sql: sql
        )
    }

    /// SQLite's `SQLITE_TRANSIENT`: SQLite copies the value before the bind returns.
    private static let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)
}
