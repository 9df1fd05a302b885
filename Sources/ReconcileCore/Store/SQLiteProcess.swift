import CSQLiteSettings

/// Settings SQLite takes once per process, before its first connection.
public enum SQLiteProcess {
    /// Turns off SQLite's memory statistics; true when SQLite took the setting.
    ///
    /// With them on (the default), every allocation and free inside SQLite takes one
    /// process-wide mutex to keep the counts behind `sqlite3_memory_used`, which nothing here
    /// reads: 12 % of SQLite's time for an ingest's writes (`benchmarks/engine-floor.c`, 100,000
    /// lines). SQLite refuses the setting once a connection has been opened, so the executable calls
    /// this first, before any other thread runs; `sqlite3_config` is not safe to call while
    /// another thread uses SQLite, which is why nothing calls it later on its own.
    @discardableResult
    public static func disableMemoryStatistics() -> Bool {
        reconcile_sqlite_disable_memory_statistics() == 0
    }
}
