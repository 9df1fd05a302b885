import Foundation
import GRDB
import Testing

@testable import ReconcileCore

/// A webhook event's payload is kept once, as a place in its delivery's raw body (migration v5),
/// and reads back the same whether it was written so, by an earlier version, or copied out by retention.
@Suite struct StorePayloadTests {
    static let received = Date(timeIntervalSince1970: 1_783_156_525)  // 2026-07-04T09:15:25Z

    /// A Crezco-like batch body of `events`, and the record a verified line of it makes.
    static func batch(
        _ events: [(id: String, resource: String, amount: Int64)],
        line: Int,
        receivedAt: Date = received,
        currency: String? = nil
    ) -> IngestRecord {
        let items: [JSONValue] = events.map { event in
            var payload: [String: JSONValue] = ["amount": .integer(event.amount)]
            if let currency { payload["currency"] = .string(currency) }
            return .object([
                "eventId": .string(event.id), "type": "Payable", "id": .string(event.resource), "status": "Paid",
                "timestamp": "2026-07-04T09:15:22.164Z", "payload": .object(payload),
            ])
        }
        // Raw bytes as a provider sends them: spaced, keys in its own order, an escaped slash.
        let body = Data(
            ("{ \"note\": \"a\\/b\", \"events\": ["
                + items.map { $0.canonicalText }.joined(separator: " , ") + "] }").utf8
        )
        let provided = items.enumerated().map { index, item in
            var event = ProviderEvent(
                eventID: item["eventId"]?.stringValue ?? "",
                eventType: "Payable",
                snapshot: ResourceSnapshot(
                    resourceType: "payable",
                    resourceID: item["id"]?.stringValue ?? "",
                    status: "Paid",
                    updatedAt: received,
                    object: .object(["id": item["id"] ?? .null]),
                    money: nil
                ),
                payload: item
            )
            event.bodyPointer = "/events/\(index)"
            return event
        }
        return IngestRecord(
            fingerprint: "line-\(line)",
            sourceName: "capture.ndjson",
            lineNumber: line,
            provider: "crezco",
            receivedAt: receivedAt,
            method: "POST",
            url: "https://hooks.example.com/crezco",
            headersJSON: "{}",
            body: body,
            verdict: .accepted(provided)
        )
    }

    static func payloads(_ store: Store, ids: [String]) throws -> [String: JSONValue] {
        Dictionary(
            uniqueKeysWithValues: try store.events(provider: "crezco", ids: ids).map { ($0.eventID, try $0.payload()) }
        )
    }

    @Test func aBatchsEventsAreKeptAsPlacesInTheBodyAndReadBackWhole() async throws {
        try await withTemporaryDirectory { folder in
            let store = try Store(path: folder.appendingPathComponent("p.sqlite").path)
            var first = Self.batch([("e-1", "p-1", 100), ("e-2", "p-2", 250)], line: 1)
            first.prepare()
            let second = Self.batch([("e-2", "p-2", 250), ("e-3", "p-3", 999)], line: 2)
            _ = try store.ingest([first, second], recordedAt: Self.received) { _, _, _ in nil }

            let read = try Self.payloads(store, ids: ["e-1", "e-2", "e-3"])
            #expect(read["e-1"]?["payload"]?["amount"] == .integer(100))
            #expect(read["e-2"]?["payload"]?["amount"] == .integer(250))
            #expect(read["e-3"]?["payload"]?["amount"] == .integer(999))
            #expect(read["e-3"]?["eventId"] == "e-3")

            let rows = try store.pool.read { db in
                try Row.fetchAll(db, sql: "SELECT eventID, payload, payloadPointer FROM event ORDER BY eventID")
            }
            #expect(rows.map { $0["payload"] as String? } == [nil, nil, nil], "no payload is stored twice")
            #expect(rows.map { $0["payloadPointer"] as String? } == ["/events/0", "/events/1", "/events/1"])
        }
    }

    @Test func retentionCopiesAPayloadOutBeforeItsDeliveryGoes() async throws {
        try await withTemporaryDirectory { folder in
            let store = try Store(path: folder.appendingPathComponent("p.sqlite").path)
            let events = (1...1_203).map { ("e-\($0)", "p-\($0 % 50)", Int64($0)) }
            // Batches of three, then one of 801 events: more than a slice of the copy (500).
            var records = stride(from: 0, to: 402, by: 3).enumerated().map { index, start in
                Self.batch(Array(events[start..<start + 3]), line: index + 1)
            }
            records.append(Self.batch(Array(events[402...]), line: records.count + 1))
            _ = try store.ingest(records, recordedAt: Self.received) { _, _, _ in nil }
            let before = try Self.payloads(store, ids: events.map(\.0))

            let later = Self.received.addingTimeInterval(400 * 86_400)
            let pruned = try store.prune(
                job: "test",
                cutoffs: RetentionCutoffs(now: later, wallClock: later, newestReceipt: later, retention: 90 * 86_400),
                openKeys: []
            )
            #expect(pruned.deliveries == records.count)
            let after = try Self.payloads(store, ids: events.map(\.0))
            #expect(after.count == events.count)
            #expect(after == before)
            #expect(after["e-1000"]?["payload"]?["amount"] == .integer(1000))
            let referring = try store.pool.read { db in
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM event WHERE payloadDelivery IS NOT NULL")
            }
            #expect(referring == 0)
        }
    }

    @Test func anEventWhoseFirstDeliveryGoesKeepsItsPayloadWhileALaterOneStays() async throws {
        try await withTemporaryDirectory { folder in
            let store = try Store(path: folder.appendingPathComponent("p.sqlite").path)
            let later = Self.received.addingTimeInterval(200 * 86_400)
            _ = try store.ingest(
                [
                    Self.batch([("e-1", "p-1", 100), ("e-2", "p-2", 200)], line: 1),
                    Self.batch([("e-2", "p-2", 200), ("e-3", "p-3", 300)], line: 2, receivedAt: later),
                ],
                recordedAt: later
            ) { _, _, _ in nil }
            let pruned = try store.prune(
                job: "test",
                cutoffs: RetentionCutoffs(now: later, wallClock: later, newestReceipt: later, retention: 90 * 86_400),
                openKeys: []
            )
            #expect(pruned.deliveries == 1)
            let read = try Self.payloads(store, ids: ["e-1", "e-2", "e-3"])
            let amounts: [String: JSONValue?] = read.mapValues { $0["payload"]?["amount"] }
            let expected: [String: JSONValue?] = ["e-1": .integer(100), "e-2": .integer(200), "e-3": .integer(300)]
            #expect(amounts == expected)
            let inline = try store.pool.read { db in
                try String.fetchAll(db, sql: "SELECT eventID FROM event WHERE payload IS NOT NULL ORDER BY eventID")
            }
            #expect(inline == ["e-1", "e-2"], "the events that pointed into the pruned delivery, and only they")
        }
    }

    @Test func aStoreWrittenBeforeVersion5KeepsItsPayloads() async throws {
        try await withTemporaryDirectory { folder in
            let path = folder.appendingPathComponent("old.sqlite").path
            let payload = #"{"eventId":"e-old","payload":{"amount":4200,"currency":"EUR"}}"#
            do {
                let old = try DatabaseQueue(path: path)
                try Store.migrator.migrate(old, upTo: "v4 provider keys answered 404")
                try old.write { db in
                    try db.execute(
                        sql: """
                            INSERT INTO event (provider, eventID, eventType, resourceType, resourceID, occurredAt,
                                payload, source, firstReceivedAt, recordedAt)
                            VALUES ('crezco', 'e-old', 'Payable', 'payable', 'p-old', '2026-07-04T09:15:22.164Z', ?,
                                'webhook', '2026-07-04T09:15:25.000Z', '2026-07-04T09:16:00.000Z')
                            """,
                        arguments: [payload]
                    )
                }
                try old.close()
            }
            let store = try Store(path: path)
            let read = try Self.payloads(store, ids: ["e-old"])
            #expect(read["e-old"] == JSONValue.parse(Data(payload.utf8)))
            #expect(try store.integrityCheck() == "ok")
            // The rebuilt table still refuses a row with neither a payload nor a place for it.
            #expect(throws: DatabaseError.self) {
                try store.pool.write { db in
                    try db.execute(
                        sql: """
                            INSERT INTO event (provider, eventID, eventType, resourceType, resourceID, occurredAt,
                                source, recordedAt)
                            VALUES ('crezco', 'e-x', 'Payable', 'payable', 'p', 't', 'webhook', 't')
                            """
                    )
                }
            }
        }
    }

    @Test func aStoreFromANewerVersionIsRefusedAndLeftAsItIs() async throws {
        try await withTemporaryDirectory { folder in
            let path = folder.appendingPathComponent("newer.sqlite").path
            do {
                let store = try Store(path: path)
                try store.pool.write { db in
                    try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99 from the future')")
                }
            }
            let error = try #require(throws: StoreFailure.self) { try Store(path: path) }
            #expect(error.description.contains("newer version of reconcile"), "\(error)")
            let queue = try DatabaseQueue(path: path)
            let applied = try queue.read { db in try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations")
            }
            #expect(applied.contains("v99 from the future"))
            #expect(applied.contains("v6 local rows found by provider time"))
        }
    }

    @Test func aWindowsLocalEventsCarryTheirPayloads() async throws {
        try await withTemporaryDirectory { folder in
            let store = try Store(path: folder.appendingPathComponent("p.sqlite").path)
            let records = [
                Self.batch([("e-1", "p-1", 100), ("e-2", "p-2", 250)], line: 1),
                Self.batch([("e-3", "p-1", 300)], line: 2),
            ]
            _ = try store.ingest(records, recordedAt: Self.received) { _, _, _ in nil }
            let events = try store.events(
                provider: "crezco",
                ofResources: [ResourceKey("payable", "p-1"), ResourceKey("payable", "p-2")]
            )
            let amounts = Dictionary(
                uniqueKeysWithValues: try events.map { ($0.eventID, try $0.payload()["payload"]?["amount"]) }
            )
            #expect(amounts == ["e-1": .integer(100), "e-2": .integer(250), "e-3": .integer(300)])
        }
    }

    /// Findings in event-id order that name the events of two batches, each delivered twice, get
    /// each its own event's money: the payloads are read batch by batch, whatever the findings' order.
    @Test func duplicateFindingsTakeEachEventsMoneyFromItsOwnBatch() async throws {
        try await withTemporaryDirectory { folder in
            let store = try Store(path: folder.appendingPathComponent("p.sqlite").path)
            let first: [(id: String, resource: String, amount: Int64)] = [
                ("e-1", "p-1", 100), ("e-3", "p-3", 300), ("e-5", "p-5", 500),
            ]
            let second: [(id: String, resource: String, amount: Int64)] = [
                ("e-2", "p-2", 200), ("e-4", "p-4", 400), ("e-6", "p-6", 600),
            ]
            let records = [first, second, first, second].enumerated().map { line, events in
                Self.batch(events, line: line + 1, currency: "GBP")
            }
            _ = try store.ingest(records, recordedAt: Self.received) { _, _, _ in nil }
            let classifier = Classifier(
                adapter: CrezcoAdapter(config: Fixture.crezcoConfig(baseURL: "http://127.0.0.1:9", apiKey: "k")),
                endpoint: nil,
                now: Self.received,
                since: Self.received.addingTimeInterval(-86_400),
                until: Self.received,
                eventSince: Self.received.addingTimeInterval(-86_400)
            )
            let ids = (1...6).map { "e-\($0)" } + ["e-7"]
            let findings = try classifier.deliveryFindings(
                duplicates: ids.map { DuplicatedEvent(eventID: $0, deliveries: 2) },
                rejected: [],
                events: store.events(provider: "crezco", ids: ids)
            )
            #expect(findings.map(\.eventID) == ids)
            let amounts: [JSONValue?] = (1...6).map { .integer(Int64($0 * 100)) } + [nil]
            #expect(findings.map { $0.details["amount"] } == amounts)
            #expect(findings.map { $0.details["currency"] } == Array(repeating: "GBP", count: 6) + [nil])
        }
    }

    /// A payload read from its body is what its canonical text reads back as, as for a payload
    /// kept as text: a whole decimal amount is an integer, which money needs.
    @Test func aPayloadReadFromItsBodyReadsAWholeDecimalAsAnInteger() async throws {
        try await withTemporaryDirectory { folder in
            let store = try Store(path: folder.appendingPathComponent("p.sqlite").path)
            var record = Self.batch([("e-1", "p-1", 1250)], line: 1, currency: "GBP")
            let body = try #require(record.body.map { String(decoding: $0, as: UTF8.self) })
            #expect(body.contains(#""amount":1250,"#))
            record.body = Data(body.replacingOccurrences(of: #""amount":1250,"#, with: #""amount":1250.0,"#).utf8)
            _ = try store.ingest([record], recordedAt: Self.received) { _, _, _ in nil }
            let event = try #require(try store.events(provider: "crezco", ids: ["e-1"]).first)
            #expect(try event.payload()["payload"] == .object(["amount": .integer(1250), "currency": "GBP"]))
        }
    }

    /// An event read before retention removed its delivery still has its payload: the text
    /// retention copied into the event's row.
    @Test func aPayloadWhoseDeliveryWentSinceTheReadIsTheRowsCopy() async throws {
        try await withTemporaryDirectory { folder in
            let store = try Store(path: folder.appendingPathComponent("p.sqlite").path)
            _ = try store.ingest(
                [Self.batch([("e-1", "p-1", 100), ("e-2", "p-2", 250)], line: 1)],
                recordedAt: Self.received
            ) { _, _, _ in nil }
            let events = try store.events(provider: "crezco", ids: ["e-1", "e-2"])
            #expect(events.count == 2)
            try store.pool.write { db in
                try db.execute(
                    sql: """
                        UPDATE event SET payload = '{"copied":true}', payloadDelivery = NULL, payloadPointer = NULL
                        WHERE eventID = 'e-1';
                        UPDATE event SET payload = '{"copied":2}', payloadDelivery = NULL, payloadPointer = NULL
                        WHERE eventID = 'e-2';
                        DELETE FROM delivery;
                        """
                )
            }
            let payloads = Dictionary(uniqueKeysWithValues: try events.map { ($0.eventID, try $0.payload()) })
            #expect(payloads == ["e-1": .object(["copied": .bool(true)]), "e-2": .object(["copied": .integer(2)])])
        }
    }

    @Test func aJSONPointerNamesWhatRFC6901Says() throws {
        let document = try #require(
            JSONValue.parse(Data(#"{"events":[{"id":1},{"id":2}],"a/b":{"m~n":true},"":3}"#.utf8))
        )
        #expect(document.at(pointer: "") == document)
        #expect(document.at(pointer: "/events/1/id") == .integer(2))
        #expect(document.at(pointer: "/a~1b/m~0n") == .bool(true))
        #expect(document.at(pointer: "/") == .integer(3))
        for missing in ["/events/2", "/events/01", "/events/-1", "/events/+1", "/events/x", "events/0", "/nope"] {
            #expect(document.at(pointer: missing) == nil, "\(missing)")
        }
    }
}
