import Foundation
import Logging
import Testing

@testable import ReconcileCore

/// Ingest through the real `Ingestor`, on every engine (`TestStore.engines`).
@Suite struct IngestorTests {
    /// Ingests `lines` into `store` for a Credicorp job of one entry: `config`, else the fixture's
    /// with `secrets`.
    func ingest(
        _ lines: [String],
        store: any ReconcileStore,
        secrets: [String] = [Fixture.secret],
        config: ProviderConfig? = nil,
        batchSize: Int = 2
    ) async throws -> IngestSummary {
        let config = config ?? Fixture.credicorpConfig(secrets: secrets)
        let job = Fixture.job(store: store.location, providers: [config])
        let ingestor = Ingestor(
            job: job,
            adapters: [config.name: CredicorpAdapter(config: config)],
            store: store,
            clock: JobClock(now: Date(timeIntervalSince1970: 1_790_000_000)),
            logger: Logger(label: "test"),
            batchSize: batchSize
        )
        let pipe = Pipe()
        let writer = pipe.fileHandleForWriting
        let data = Data((lines.joined(separator: "\n") + "\n").utf8)
        Thread.detachNewThread {
            writer.write(data)
            try? writer.close()
        }
        var summary = IngestSummary()
        try await ingestor.ingest(handle: pipe.fileHandleForReading, source: "capture.ndjson", into: &summary)
        return summary
    }

    /// Payment `id`'s local row.
    static func row(_ store: any ReconcileStore, _ id: String) async throws -> LocalResource? {
        try await store.resources(provider: "credicorp", keys: [ResourceKey("payment", id)])[ResourceKey("payment", id)]
    }

    /// What a second ingest must leave as it is: deliveries by verdict, the event, the row.
    struct Snapshot: Equatable {
        var deliveries: [DeliveryCount]
        var events: [String]
        var row: LocalResource?
    }

    static func snapshot(_ store: any ReconcileStore) async throws -> Snapshot {
        let events = try await store.events(provider: "credicorp", ids: ["evt_1"])
        let valid = try await store.validDeliveryCounts(provider: "credicorp", ids: ["evt_1"])
        return Snapshot(
            deliveries: try await store.deliveryCounts(),
            events: events.map { "\($0.eventID) \(valid[$0.eventID] ?? 0)" },
            row: try await row(store, "pay_1")
        )
    }

    @Test(arguments: TestStore.engines)
    func eventsApplyInProviderOrderWhateverTheArrivalOrder(engine: TestStore) async throws {
        try await engine.with { store in
            let newer = Fixture.paymentEvent(
                id: "evt_2",
                payment: "pay_1",
                status: "succeeded",
                created: "2026-07-04T09:15:22Z"
            )
            let older = Fixture.paymentEvent(
                id: "evt_1",
                payment: "pay_1",
                status: "pending",
                created: "2026-07-04T09:00:00Z"
            )
            let summary = try await ingest(
                [
                    Fixture.captureLine(id: "evt_2", body: newer, receivedAt: "2026-07-04T09:15:25Z"),
                    Fixture.captureLine(id: "evt_1", body: older, receivedAt: "2026-07-04T09:20:00Z"),
                ],
                store: store
            )
            #expect(summary.accepted == 2)
            let row = try #require(try await Self.row(store, "pay_1"))
            #expect(row.status == "succeeded")
            #expect(row.money == Money(minorUnits: 125_000, currency: "GBP"))
        }
    }

    @Test(arguments: TestStore.engines)
    func rejectedLinesAreRecordedWithReasonAndLineAndNeverApplied(engine: TestStore) async throws {
        try await engine.with { store in
            let body = Fixture.paymentEvent(
                id: "evt_1",
                payment: "pay_1",
                status: "succeeded",
                created: "2026-07-04T09:15:22Z"
            )
            let summary = try await ingest(
                [
                    "this is not json",
                    Fixture.captureLine(id: "evt_1", body: body, receivedAt: "2026-07-04T09:15:25Z", tamper: true),
                    Fixture.captureLine(id: "evt_1", body: body, receivedAt: "2026-07-04T09:15:25Z", skew: 301),
                    Fixture.captureLine(
                        id: "evt_1",
                        body: body,
                        receivedAt: "2026-07-04T09:15:25Z",
                        secrets: [Fixture.otherSecret]
                    ),
                    Fixture.captureLine(id: "evt_1", body: body, receivedAt: "2026-07-04T09:15:25Z", secrets: []),
                    Fixture.captureLine(id: "evt_1", body: body, receivedAt: "2026-07-04T09:15:25Z")
                        .replacingOccurrences(
                            of: "\"credicorp\"",
                            with: "\"acme\""
                        ),
                ],
                store: store
            )
            #expect(summary.accepted == 0)
            #expect(summary.rejections.map(\.lineNumber) == [1, 2, 3, 4, 5, 6])
            #expect(
                summary.rejections.map(\.reason) == [
                    .malformed, .badSignature, .staleTimestamp, .badSignature, .missingSignature, .unknownProvider,
                ]
            )
            #expect(summary.exitStatus == 1)
            #expect(try await Self.row(store, "pay_1") == nil)
            #expect(try await store.deliveryCounts().map(\.count).reduce(0, +) == 6)
            #expect(try await store.deliveryCounts().allSatisfy { $0.verdict == "rejected" })
            #expect(try await store.events(provider: "credicorp", ids: ["evt_1"]).isEmpty)
        }
    }

    @Test(arguments: TestStore.engines)
    func aStaleTimestampWithinFiveMinutesIsAccepted(engine: TestStore) async throws {
        try await engine.with { store in
            let body = Fixture.paymentEvent(
                id: "evt_1",
                payment: "pay_1",
                status: "succeeded",
                created: "2026-07-04T09:15:22Z"
            )
            let summary = try await ingest(
                [Fixture.captureLine(id: "evt_1", body: body, receivedAt: "2026-07-04T09:15:25Z", skew: -300)],
                store: store
            )
            #expect(summary.accepted == 1)
        }
    }

    /// On PostgreSQL, an ingest of more new lines than 50 plus a tenth of the deliveries known to
    /// the planner leaves the planner's statistics current (`ANALYZE`), as autovacuum would a minute later.
    @Test(.enabled(if: TestPostgres.enabled)) func aLargeIngestBringsThePlannersStatisticsUpToDate() async throws {
        try await TestStore.postgres.with { store in
            let postgres = try #require(store as? PostgresStore)
            func deliveriesKnown() async throws -> Double {
                try #require(
                    try await postgres.rows(
                        "test",
                        "SELECT reltuples::float8 FROM pg_class WHERE oid = 'delivery'::regclass",
                        as: Double.self
                    ).first
                )
            }
            var next = 0
            func lines(_ count: Int) -> [String] {
                defer { next += count }
                return (next..<next + count).map { number in
                    Fixture.captureLine(
                        id: "evt_\(number)",
                        body: Fixture.paymentEvent(
                            id: "evt_\(number)",
                            payment: "pay_\(number % 7)",
                            status: "pending",
                            created: "2026-07-04T09:30:00Z"
                        ),
                        receivedAt: "2026-07-04T10:00:00Z"
                    )
                }
            }
            // Autovacuum off, so that only the ingest analyzes the tables.
            for table in ["delivery", "delivery_event", "event", "resource_state"] {
                _ = try await postgres.query("test", "ALTER TABLE \(unescaped: table) SET (autovacuum_enabled = false)")
            }
            #expect(try await deliveriesKnown() < 0, "a new table the planner has never measured")
            _ = try await ingest(lines(40), store: store, batchSize: 100)
            #expect(try await deliveriesKnown() < 0, "40 lines: left to autovacuum")
            _ = try await ingest(lines(120), store: store, batchSize: 100)
            #expect(try await deliveriesKnown() == 160, "120 lines into a store the planner knew nothing of")
            _ = try await ingest(lines(60), store: store, batchSize: 100)
            #expect(try await deliveriesKnown() == 160, "60 lines are not more than 50 + 16")
            let seventy = lines(70)
            _ = try await ingest(seventy, store: store, batchSize: 100)
            #expect(try await deliveriesKnown() == 290, "70 lines are")
            _ = try await ingest(seventy + lines(10), store: store, batchSize: 100)
            #expect(try await deliveriesKnown() == 290, "70 lines again are duplicates: 10 new lines")
        }
    }

    /// Batches of 100 lines are verified on two tasks (from 64 lines on): the outcome must be the
    /// same as line by line, rejections named by their own line, and the latest event of each payment applied.
    @Test(arguments: TestStore.engines)
    func linesVerifiedOnTwoTasksGoInInFileOrder(engine: TestStore) async throws {
        try await engine.with { store in
            var random = IngestStateTests.Generator(state: 5)
            var lines: [String] = []
            var tampered: [Int] = []
            var latest: [String: (minute: Int, status: String)] = [:]
            let statuses = ["pending", "processing", "succeeded", "failed"]
            for number in 0..<350 {
                let payment = "pay_\(Int.random(in: 0..<25, using: &random))"
                let minute = Int.random(in: 10..<59, using: &random)
                let status = statuses.randomElement(using: &random) ?? "pending"
                let created = "2026-07-04T09:\(minute):00Z"
                let body = Fixture.paymentEvent(id: "evt_\(number)", payment: payment, status: status, created: created)
                let tamper = number % 37 == 5
                lines.append(
                    Fixture.captureLine(
                        id: "evt_\(number)",
                        body: body,
                        receivedAt: "2026-07-04T10:00:00Z",
                        tamper: tamper
                    )
                )
                if tamper {
                    tampered.append(lines.count)
                } else if (latest[payment]?.minute ?? -1) < minute {
                    latest[payment] = (minute, status)
                }
            }
            let summary = try await ingest(lines, store: store, batchSize: 100)
            #expect(summary.accepted == lines.count - tampered.count)
            #expect(summary.rejections.map(\.lineNumber) == tampered, "in file order, each with its own line")
            #expect(summary.rejections.allSatisfy { $0.reason == .badSignature })
            for (payment, expected) in latest {
                let row = try #require(try await Self.row(store, payment))
                #expect(row.status == expected.status, "\(payment)")
            }
            let again = try await ingest(lines, store: store, batchSize: 100)
            #expect((again.accepted, again.duplicates) == (0, lines.count - tampered.count))
        }
    }

    @Test(arguments: TestStore.engines)
    func reingestingAFileChangesNothingButTheDuplicateCount(engine: TestStore) async throws {
        try await engine.with { store in
            let body = Fixture.paymentEvent(
                id: "evt_1",
                payment: "pay_1",
                status: "succeeded",
                created: "2026-07-04T09:15:22Z"
            )
            let lines = [
                Fixture.captureLine(id: "evt_1", body: body, receivedAt: "2026-07-04T09:15:25Z"),
                Fixture.captureLine(id: "evt_1", body: body, receivedAt: "2026-07-04T09:45:25Z"),
                "garbage",
            ]
            let first = try await ingest(lines, store: store)
            #expect((first.accepted, first.duplicates, first.rejections.count) == (1, 1, 1))
            let counts = try await Self.snapshot(store)
            let second = try await ingest(lines, store: store)
            #expect((second.accepted, second.duplicates, second.rejections.count) == (0, 2, 1))
            let after = try await Self.snapshot(store)
            #expect(after == counts, "\(counts)\n\(after)")
        }
    }

    @Test(arguments: TestStore.engines)
    func rotationAcceptsEitherSecret(engine: TestStore) async throws {
        try await engine.with { store in
            let one = Fixture.paymentEvent(
                id: "evt_1",
                payment: "pay_1",
                status: "pending",
                created: "2026-07-04T09:15:22Z"
            )
            let two = Fixture.paymentEvent(
                id: "evt_2",
                payment: "pay_2",
                status: "pending",
                created: "2026-07-04T09:15:22Z"
            )
            let summary = try await ingest(
                [
                    Fixture.captureLine(
                        id: "evt_1",
                        body: one,
                        receivedAt: "2026-07-04T09:15:25Z",
                        secrets: [Fixture.otherSecret]
                    ),
                    Fixture.captureLine(
                        id: "evt_2",
                        body: two,
                        receivedAt: "2026-07-04T09:15:25Z",
                        secrets: [Fixture.secret, Fixture.otherSecret]
                    ),
                ],
                store: store,
                secrets: [Fixture.otherSecret, Fixture.secret]
            )
            #expect(summary.accepted == 2)
        }
    }
}
