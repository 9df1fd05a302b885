import Foundation
import PostgresNIO

extension PostgresStore: StoreInspection {
    public func stateSnapshot() async throws(StoreFailure) -> [String] {
        try await rows(
            "read local state",
            """
            SELECT provider, resource_type, resource_id, status, as_of, object, amount_minor, currency
            FROM resource_state ORDER BY provider COLLATE "C", resource_type COLLATE "C", resource_id COLLATE "C"
            """,
            as: (String, String, String, String?, Date, String, Int64?, String?).self
        ).map { provider, type, id, status, asOf, object, amount, currency in
            let fields: [String?] = [
                provider, type, id, status, Store.text(Self.instant(asOf)), object, amount.map(String.init), currency,
            ]
            return fields.map { $0 ?? "∅" }.joined(separator: "|")
        }
    }

    public func eventSnapshot() async throws(StoreFailure) -> [String] {
        try await rows(
            "read events",
            """
            SELECT provider || '|' || event_id || '|' || source FROM event
            ORDER BY provider COLLATE "C", event_id COLLATE "C"
            """,
            as: String.self
        )
    }

    public func tableCounts() async throws(StoreFailure) -> [String: Int] {
        let tables = [
            "delivery": "delivery", "deliveryEvent": "delivery_event", "event": "event",
            "resourceState": "resource_state", "run": "run", "finding": "finding", "repair": "repair",
        ]
        var counts: [String: Int] = [:]
        for (name, table) in tables {
            counts[name] =
                try await rows("count rows", "SELECT count(*) FROM \(unescaped: table)", as: Int.self)
                .first ?? 0
        }
        return counts
    }

    public func repairCounts() async throws(StoreFailure) -> [String: Int] {
        let counted = try await rows(
            "count repairs",
            "SELECT run_id, count(*) FROM repair GROUP BY run_id",
            as: (String, Int).self
        )
        return Dictionary(uniqueKeysWithValues: counted)
    }

    public func unfinishedBackfills() async throws(StoreFailure) -> [String] {
        try await rows(
            "read unfinished backfills",
            "SELECT id FROM backfill WHERE status = 'running' ORDER BY id COLLATE \"C\"",
            as: String.self
        )
    }

    public func eventCounts(source: String) async throws(StoreFailure) -> Int {
        try await rows("count events", "SELECT count(*) FROM event WHERE source = \(source)", as: Int.self).first ?? 0
    }

    public func acceptedDeliveriesWithoutEvents() async throws(StoreFailure) -> Int {
        try await rows(
            "check deliveries",
            """
            SELECT count(*) FROM delivery d WHERE d.verdict = 'accepted'
            AND NOT EXISTS (SELECT 1 FROM delivery_event de WHERE de.delivery_id = d.id)
            """,
            as: Int.self
        ).first ?? 0
    }

    public func validDeliveries(provider: String, ids: [String]) async throws(StoreFailure) -> [String: Int] {
        // `delivery_event` links accepted deliveries only.
        var counts = Dictionary(ids.map { ($0, 0) }, uniquingKeysWith: { first, _ in first })
        for (id, count) in try await rows(
            "count deliveries",
            """
            SELECT event_id, count(*) FROM delivery_event
            WHERE provider = \(provider) AND event_id = ANY(\(ids)) GROUP BY event_id
            """,
            as: (String, Int).self
        ) {
            counts[id] = count
        }
        return counts
    }
}
