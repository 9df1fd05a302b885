import Foundation
import GRDB
import Testing

@testable import ReconcileCore

/// A nightly run's store reads use an index that bounds them by the window, never a pass over
/// every event, delivery or local row the store has kept (checked with `EXPLAIN QUERY PLAN`).
@Suite struct StoreQueryPlanTests {
    static func plan(_ sql: String, arguments: StatementArguments, store: Store) throws -> [String] {
        try store.pool.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: arguments).map { $0["detail"] as String }
        }
    }

    @Test func windowReadsSearchByIndexInsteadOfScanningTheStore() async throws {
        try await withTemporaryDirectory { folder in
            let store = try Store(path: folder.appendingPathComponent("q.sqlite").path)
            let window: StatementArguments = ["crezco", "2026-07-01T00:00:00.000Z", "2026-07-02T00:00:00.000Z"]

            let active = try Self.plan(Store.activeResourcesSQL, arguments: window, store: store)
            #expect(active.contains { $0.contains("event USING INDEX event_occurred") }, "\(active)")
            // As many resources as a statement of a run names: with 2, SQLite's plan was right even
            // before the index was named; with 400 it built an automatic index on every run.
            let keys = (0..<400).flatMap { ["payable", "p-\($0)"] }
            let events = try Self.plan(
                Store.eventsOfResourcesSQL(count: 400),
                arguments: StatementArguments(keys + ["crezco"]),
                store: store
            )
            #expect(events.contains { $0.contains("e USING INDEX event_resource") }, "\(events)")

            let duplicates = try Self.plan(
                Store.duplicatedEventsSQL,
                arguments: window + ["crezco", "crezco", "2026-07-02T00:00:00.000Z"],
                store: store
            )
            // The window's deliveries are found from the index alone: no delivery row (body and all)
            // is read for an event delivered once.
            #expect(duplicates.contains { $0.contains("w USING COVERING INDEX delivery_received") }, "\(duplicates)")
            // An event's deliveries are counted from the index alone before any delivery row is read again.
            #expect(
                duplicates.contains { $0.contains("links USING COVERING INDEX deliveryEvent_event") },
                "\(duplicates)"
            )
            #expect(duplicates.contains { $0.contains("de USING INDEX deliveryEvent_event") }, "\(duplicates)")

            let rows = try Self.plan(Store.rowKeysAsOfSQL, arguments: window, store: store)
            #expect(rows.contains { $0.contains("USING INDEX resourceState_asOf") }, "\(rows)")

            let local = try Self.plan(
                Store.rowsOfResourcesSQL(count: 400),
                arguments: StatementArguments(keys + ["crezco"]),
                store: store
            )
            #expect(
                local.contains { $0.contains("r USING INDEX sqlite_autoindex_resourceState_1") },
                "\(local)"
            )

            for detail in active + events + duplicates + rows + local {
                #expect(!detail.hasPrefix("SCAN event"), "\(detail)")
                #expect(!detail.hasPrefix("SCAN e "), "\(detail)")
                #expect(!detail.hasPrefix("SCAN d"), "\(detail)")
                #expect(!detail.hasPrefix("SCAN resourceState"), "\(detail)")
                #expect(!detail.hasPrefix("SCAN r"), "\(detail)")
                #expect(!detail.contains("AUTOMATIC"), "an index built for one statement: \(detail)")
            }
        }
    }
}
