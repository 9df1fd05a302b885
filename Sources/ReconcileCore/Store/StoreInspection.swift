import Foundation
import GRDB

/// What a store holds, read the same way on either engine: for comparing two stores, or a store
/// before and after a command, in the tests and in an investigation.
///
/// The commands never read these; they are whole-table reads, made to be exact rather than fast.
public protocol StoreInspection: StoreEngine {
    /// Every local-state row, ordered by provider, type and id, one line each:
    /// `provider|type|id|status|asOf|object|amountMinor|currency`, with `∅` for a null and `asOf`
    /// in RFC 3339 to the millisecond.
    func stateSnapshot() async throws(StoreFailure) -> [String]
    /// Every stored event, ordered by provider and id, one line each: `provider|eventID|source`.
    func eventSnapshot() async throws(StoreFailure) -> [String]
    /// Rows in each table the ingest and runs write, by the table's SQLite name: `delivery`,
    /// `deliveryEvent`, `event`, `resourceState`, `run`, `finding` and `repair`.
    func tableCounts() async throws(StoreFailure) -> [String: Int]
    /// How many repair rows each run wrote, by run id.
    func repairCounts() async throws(StoreFailure) -> [String: Int]
    /// The ids of the backfills that started and did not finish.
    func unfinishedBackfills() async throws(StoreFailure) -> [String]
    /// How many events were first recorded from `source` (`webhook` or `reconciliation`).
    func eventCounts(source: String) async throws(StoreFailure) -> Int
    /// Accepted delivery lines that carry no recorded event: always 0 unless a batch was half-written.
    func acceptedDeliveriesWithoutEvents() async throws(StoreFailure) -> Int
    /// How many validly signed deliveries the store keeps of each of the events `ids` of
    /// `provider` (0 for an event none carries), by event id.
    func validDeliveries(provider: String, ids: [String]) async throws(StoreFailure) -> [String: Int]
}

extension Store: StoreInspection {
    public func eventSnapshot() throws(StoreFailure) -> [String] {
        try read("read events") { db in
            try String.fetchAll(
                db,
                sql: "SELECT provider || '|' || eventID || '|' || source FROM event ORDER BY provider, eventID"
            )
        }
    }
}
