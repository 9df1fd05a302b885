import Foundation
import Testing

@testable import ReconcileCore

/// Ingest writes a provider's local rows from text made before its transaction when the provider's
/// events replace rows whole (``ProviderAdapter/replacesStateWithSnapshots``); the rows must be exactly
/// what the adapter's own `applying` gives, whatever the arrival order.
///
/// Ingest also keeps each event's first receipt, which a run reads instead of its deliveries: the
/// earliest of them, in any order.
@Suite struct IngestStateTests {
    static let received = Date(timeIntervalSince1970: 1_783_156_525)  // 2026-07-04T09:15:25Z

    /// A deterministic generator, so that a failure can be replayed.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state ^ (state >> 29)
        }
    }

    struct Sent {
        var event: ProviderEvent
        var arrival: Int
    }

    /// Events on a few resources with many equal provider times, in shuffled lines of one to three
    /// events; some events come again in a later line.
    static func history(seed: UInt64) -> (lines: [[ProviderEvent]], events: [Sent]) {
        var random = Generator(state: seed)
        let statuses = ["pending", "processing", "succeeded", "failed", "refunded"]
        var events: [ProviderEvent] = []
        for number in 0..<600 {
            let resource = "pay_\(Int.random(in: 0..<40, using: &random))"
            // Whole milliseconds from a small range: ties between events of one resource are common.
            let time = received.addingTimeInterval(Double(Int.random(in: 0..<30, using: &random)) * 0.25)
            let status = statuses.randomElement(using: &random) ?? "pending"
            let amount = Int64.random(in: 1...99_999, using: &random)
            let object: JSONValue = .object([
                "id": .string(resource), "status": .string(status), "amount": .integer(amount), "currency": "GBP",
                "note": .string("event \(number)"),
            ])
            events.append(
                ProviderEvent(
                    eventID: "evt_\(number)",
                    eventType: "payment.updated",
                    snapshot: ResourceSnapshot(
                        resourceType: "payment",
                        resourceID: resource,
                        status: status,
                        updatedAt: time,
                        object: object,
                        money: Money(minorUnits: amount, currency: "GBP")
                    ),
                    payload: object
                )
            )
        }
        var queue = events.shuffled(using: &random)
        queue += (0..<60).compactMap { _ in events.randomElement(using: &random) }
        var lines: [[ProviderEvent]] = []
        while !queue.isEmpty {
            let count = min(queue.count, Int.random(in: 1...3, using: &random))
            lines.append(Array(queue.prefix(count)))
            queue.removeFirst(count)
        }
        var sent: [Sent] = []
        for (arrival, line) in lines.enumerated() {
            sent += line.map { Sent(event: $0, arrival: arrival) }
        }
        return (lines, sent)
    }

    static func record(_ events: [ProviderEvent], line: Int) -> IngestRecord {
        IngestRecord(
            fingerprint: "line-\(line)",
            sourceName: "capture.ndjson",
            lineNumber: line,
            provider: "credicorp",
            receivedAt: received,
            method: "POST",
            url: "https://hooks.example.com/credicorp",
            headersJSON: "{}",
            body: Data("{}".utf8),
            verdict: .accepted(events)
        )
    }

    /// Every resource's local row, by id: id, status, as-of, object, amount, currency.
    static func rows(_ store: any ReconcileStore, ids: Set<String>) async throws -> [[String?]] {
        let keys = ids.sorted().map { ResourceKey("payment", $0) }
        let found = try await store.resources(provider: "credicorp", keys: keys)
        return keys.compactMap { found[$0] }.map { row in
            [
                row.resourceID, row.status, Store.text(row.asOf), row.object.canonicalText,
                row.money.map { String($0.minorUnits) }, row.money?.currency,
            ]
        }
    }

    /// How often `apply` was asked, from the store's writing thread.
    final class Asked: @unchecked Sendable {
        private let lock = NSLock()
        private var count = 0
        func add() { lock.withLock { count += 1 } }
        var value: Int { lock.withLock { count } }
    }

    @Test(arguments: TestStore.engines, [UInt64(1), 2, 3])
    func rowsWrittenFromPreparedTextAreWhatApplyingGives(engine: TestStore, seed: UInt64) async throws {
        try await engine.with { prepared in
            try await engine.with { applied in
                try await Self.compare(prepared: prepared, applied: applied, seed: seed)
            }
        }
    }

    /// An event's first receipt, as a run reads it, is the earliest of its deliveries however they
    /// come: in any order, in one batch or in several, a later line received earlier, equal times.
    @Test(arguments: TestStore.engines, [UInt64(4), 5])
    func anEventsFirstReceiptIsItsEarliestDelivery(engine: TestStore, seed: UInt64) async throws {
        try await engine.with { store in
            var random = Generator(state: seed &* 31)
            let (lines, _) = Self.history(seed: seed)
            var earliest: [String: Date] = [:]
            var records: [IngestRecord] = []
            var receivedEarlierLater = 0
            for (index, events) in lines.enumerated() {
                // Half-seconds out of line order: many lines share a receipt time.
                let receivedAt = Self.received.addingTimeInterval(Double(Int.random(in: 0..<400, using: &random)) / 2)
                var record = Self.record(events, line: index + 1)
                record.receivedAt = receivedAt
                records.append(record)
                for event in events {
                    if let known = earliest[event.eventID], receivedAt < known { receivedEarlierLater += 1 }
                    earliest[event.eventID] = min(earliest[event.eventID] ?? receivedAt, receivedAt)
                }
            }
            #expect(receivedEarlierLater > 5, "the history must deliver some events again, received earlier")
            for start in stride(from: 0, to: records.count, by: 50) {
                let batch = Array(records[start..<min(start + 50, records.count)])
                _ = try await store.record(batch, recordedAt: Self.received) { _, _, _ in nil }
            }
            let found = try await store.events(provider: "credicorp", ids: Array(earliest.keys))
            #expect(found.count == earliest.count)
            for event in found {
                #expect(
                    event.firstReceipt.map(RFC3339.epochMillis) == earliest[event.eventID].map(RFC3339.epochMillis),
                    "\(event.eventID)"
                )
            }
        }
    }

    static func compare(prepared: any ReconcileStore, applied: any ReconcileStore, seed: UInt64) async throws {
        let adapter = CredicorpAdapter(config: Fixture.credicorpConfig(secrets: [Fixture.secret]))
        #expect(adapter.replacesStateWithSnapshots)
        let (lines, sent) = Self.history(seed: seed)
        let asked = Asked()
        for start in stride(from: 0, to: lines.count, by: 50) {
            let records = lines[start..<min(start + 50, lines.count)].enumerated().map { offset, events in
                Self.record(events, line: start + offset + 1)
            }
            let whole = records.map { record in
                var record = record
                record.prepare(replacingStateWhole: true)
                return record
            }
            _ = try await prepared.record(whole, recordedAt: Self.received) { _, _, _ in
                asked.add()
                return nil
            }
            _ = try await applied.record(records, recordedAt: Self.received) { _, event, current in
                adapter.applying(event, to: current)
            }
        }
        #expect(asked.value == 0, "rows prepared whole never go through apply")

        // The row of each resource is its event with the latest provider time; of equal times, the first to arrive.
        var expected: [String: Sent] = [:]
        for item in sent {
            let id = item.event.resourceID
            if let kept = expected[id], item.event.occurredAt <= kept.event.occurredAt { continue }
            expected[id] = item
        }
        let ids = Set(sent.map(\.event.resourceID))
        let rows = try await Self.rows(prepared, ids: ids)
        #expect(rows == (try await Self.rows(applied, ids: ids)))
        #expect(rows.count == expected.count)
        for row in rows {
            let winner = try #require(expected[row[0] ?? ""]).event
            #expect(row[1] == winner.snapshot.status)
            #expect(row[2] == Store.text(winner.occurredAt))
            #expect(row[3] == winner.snapshot.object.canonicalText)
            #expect(row[4] == winner.snapshot.money.map { String($0.minorUnits) })
        }
        let lastArrivals = Dictionary(sent.map { ($0.event.resourceID, $0.event.eventID) }) { _, last in last }
        let outOfOrder = expected.values.filter { lastArrivals[$0.event.resourceID] != $0.event.eventID }
        #expect(outOfOrder.count > 5, "the history must make older events arrive last")
    }
}
