import Foundation
import Logging
import PostgresNIO
import Testing

@testable import ReconcileCore

/// The engines a contract test runs on: SQLite always, PostgreSQL where the tests have a server
/// (``TestPostgres/enabled``: always in CI).
enum TestStore: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite
    case postgres

    static var engines: [TestStore] { TestPostgres.enabled ? allCases : [.sqlite] }

    var testDescription: String { rawValue }

    /// The store contract, every part of it.
    typealias Parts = ReconcileStore

    /// Runs `body` with an empty store of this engine, removed after.
    ///
    /// PostgreSQL's is a schema of its own (`t_` and a UUID) on the test server, made by
    /// ``PostgresStore/open(_:password:schema:logger:)``'s migrations and dropped after.
    func with<T>(_ body: (any Parts) async throws -> T) async throws -> T {
        switch self {
        case .sqlite:
            return try await withTemporaryDirectory { folder in
                try await body(Store(path: folder.appendingPathComponent("contract.sqlite").path))
            }
        case .postgres:
            let (location, password) = try TestPostgres.server()
            var logger = Logger(label: "test.store")
            logger.logLevel = .warning
            return try await TestPostgres.withSchema { schema in
                let store = try await PostgresStore.open(location, password: password, schema: schema, logger: logger)
                do {
                    let result = try await body(store)
                    await store.close()
                    return result
                } catch {
                    await store.close()
                    throw error
                }
            }
        }
    }
}

extension LocalStateStore {
    /// How many validly signed deliveries carry each of the events `ids` of `provider`, read through
    /// the store's inspection (both engines have one).
    func validDeliveryCounts(provider: String, ids: [String]) async throws -> [String: Int] {
        try await #require(self as? any StoreInspection).validDeliveries(provider: provider, ids: ids)
    }
}

extension TestStore {
    /// The variable a job's PostgreSQL store password is in, in ``withJobStore(in:_:)``.
    static let passwordVariable = "RECONCILE_TEST_STORE_PASSWORD"

    /// Runs `body` with a job's `store` on this engine, and the job file's lines and the
    /// variables it needs besides: a file in `folder`, or a new database of the test server,
    /// dropped after (a job names a database, not a schema).
    func withJobStore<T>(
        in folder: URL,
        _ body: (_ store: String, _ extra: String, _ environment: [String: String]) async throws -> T
    ) async throws -> T {
        switch self {
        case .sqlite:
            return try await body(folder.appendingPathComponent("job.sqlite").path, "", [:])
        case .postgres:
            let (location, password) = try TestPostgres.server()
            let name = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
            try await TestPostgres.execute("CREATE DATABASE \(name)")
            do {
                let result = try await body(
                    "postgres://\(location.user)@\(location.host):\(location.port)/\(name)",
                    "store_password_env: \(Self.passwordVariable)",
                    [Self.passwordVariable: password]
                )
                try await TestPostgres.execute("DROP DATABASE \(name) WITH (FORCE)")
                return result
            } catch {
                try? await TestPostgres.execute("DROP DATABASE \(name) WITH (FORCE)")
                throw error
            }
        }
    }
}

extension TestPostgres {
    /// Runs `body` with the name of a fresh schema (`t_` and a UUID), dropped after.
    static func withSchema<T>(_ body: (String) async throws -> T) async throws -> T {
        let schema = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try await execute("CREATE SCHEMA \(schema)")
        do {
            let result = try await body(schema)
            try await execute("DROP SCHEMA \(schema) CASCADE")
            return result
        } catch {
            try? await execute("DROP SCHEMA \(schema) CASCADE")
            throw error
        }
    }

    /// Runs `sql` on a session of its own (schemas made and dropped around a test).
    static func execute(_ sql: String) async throws {
        let (location, password) = try server()
        let logger = Logger(label: "test.postgres")
        let connection = try await PostgresConnection.connect(
            configuration: try location.sessionConfiguration(password: password),
            id: 1,
            logger: logger
        )
        do {
            try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
        } catch {
            try? await connection.close()
            throw error
        }
        try await connection.close()
    }
}

/// What every engine's store must do alike, checked on each.
///
/// docs/postgres.md, "One store contract, two engines". Instants are compared to the
/// millisecond, which is what both keep.
@Suite struct StoreContractTests {
    static let start = Date(timeIntervalSince1970: 1_783_674_000.123)

    static func millis(_ date: Date?) -> Int64? { date.map(RFC3339.epochMillis) }

    @Test(arguments: TestStore.engines)
    func aProvidersKeyIsKeptOnceAndA404IsRememberedUntilTheKeyIsPublished(engine: TestStore) async throws {
        try await engine.with { store in
            #expect(try await store.providerKey(provider: "credify", keyID: "k1") == nil)
            #expect(try await store.providerKeyNotFound(provider: "credify", keyID: "k1") == nil)

            try await store.saveProviderKeyNotFound(provider: "credify", keyID: "k1", at: Self.start)
            #expect(
                try await Self.millis(store.providerKeyNotFound(provider: "credify", keyID: "k1"))
                    == Self.millis(Self.start)
            )
            #expect(try await store.providerKey(provider: "credify", keyID: "k1") == nil, "a 404 is no key")
            let later = Self.start.addingTimeInterval(86_400.5)
            try await store.saveProviderKeyNotFound(provider: "credify", keyID: "k1", at: later)
            #expect(
                try await Self.millis(store.providerKeyNotFound(provider: "credify", keyID: "k1"))
                    == Self.millis(later),
                "asked again, the newer answer is kept"
            )

            try await store.saveProviderKey(
                provider: "credify",
                keyID: "k1",
                algorithm: "ed25519",
                publicKey: "AAA=",
                at: later
            )
            #expect(
                try await store.providerKey(provider: "credify", keyID: "k1") == "AAA=",
                "a published key replaces the 404"
            )
            #expect(try await store.providerKeyNotFound(provider: "credify", keyID: "k1") == nil)

            try await store.saveProviderKeyNotFound(provider: "credify", keyID: "k1", at: later)
            try await store.saveProviderKey(
                provider: "credify",
                keyID: "k1",
                algorithm: "ed25519",
                publicKey: "BBB=",
                at: later
            )
            #expect(
                try await store.providerKey(provider: "credify", keyID: "k1") == "AAA=",
                "a kept key is never replaced"
            )
            #expect(try await store.providerKeyNotFound(provider: "credify", keyID: "k1") == nil)

            #expect(try await store.providerKey(provider: "crezco", keyID: "k1") == nil, "keys are per provider")
        }
    }

    @Test(arguments: TestStore.engines)
    func aBackfillKeepsItsAnswersUntilItCompletesAndARestartForgetsThem(engine: TestStore) async throws {
        try await engine.with { store in
            let since = Self.start
            let until = since.addingTimeInterval(6 * 3600)
            let id = Store.backfillID(job: "nightly", provider: "crezco", since: since, until: until)
            func begin(restart: Bool = false) async throws -> BackfillState {
                try await store.beginBackfill(
                    id: id,
                    job: "nightly",
                    provider: "crezco",
                    since: since,
                    until: until,
                    restart: restart,
                    at: Self.start
                )
            }
            #expect(try await store.unfinishedBackfillUntil(job: "nightly", provider: "crezco", since: since) == nil)
            #expect(try await begin() == BackfillState(id: id, status: "running", pages: 0))
            #expect(
                try await Self.millis(store.unfinishedBackfillUntil(job: "nightly", provider: "crezco", since: since))
                    == Self.millis(until)
            )
            #expect(try await store.unfinishedBackfillUntil(job: "nightly", provider: "crezco", since: until) == nil)
            #expect(try await store.unfinishedBackfillUntil(job: "other", provider: "crezco", since: since) == nil)

            // Bodies are bytes as they came, not text.
            let first = HTTPResponse(status: 200, headers: [:], body: Data([0x7B, 0x00, 0xFF, 0xFE, 0x7D]))
            let second = HTTPResponse(status: 404, headers: [:], body: Data())
            try await store.saveCheckpoint(first, backfillID: id, requestKey: "GET /events?page=1", at: Self.start)
            try await store.saveCheckpoint(second, backfillID: id, requestKey: "GET /events?page=2", at: Self.start)
            let kept = try #require(await store.checkpoint(backfillID: id, requestKey: "GET /events?page=1"))
            #expect(kept.status == 200 && kept.body == first.body && kept.headers.isEmpty)
            #expect(try await store.checkpoint(backfillID: id, requestKey: "GET /events?page=2")?.status == 404)
            #expect(try await store.checkpoint(backfillID: id, requestKey: "GET /events?page=3") == nil)

            let replaced = HTTPResponse(status: 200, headers: [:], body: Data("{}".utf8))
            try await store.saveCheckpoint(replaced, backfillID: id, requestKey: "GET /events?page=2", at: Self.start)
            #expect(try await store.checkpoint(backfillID: id, requestKey: "GET /events?page=2")?.body == replaced.body)

            #expect(try await begin().pages == 2, "resumed: the answers kept so far")
            #expect(try await begin(restart: true).pages == 0, "restarted: every answer forgotten")
            #expect(try await store.checkpoint(backfillID: id, requestKey: "GET /events?page=1") == nil)

            try await store.saveCheckpoint(first, backfillID: id, requestKey: "GET /events?page=1", at: Self.start)
            try await store.completeBackfill(id: id, at: until)
            #expect(try await store.checkpoint(backfillID: id, requestKey: "GET /events?page=1") == nil)
            #expect(try await store.unfinishedBackfillUntil(job: "nightly", provider: "crezco", since: since) == nil)
            #expect(try await begin().pages == 0, "a later backfill of the window reads afresh")
        }
    }

    /// One accepted Credicorp line carrying `event` of payment `payment`, received at `received`.
    static func line(
        _ number: Int,
        event: String,
        payment: String,
        status: String,
        occurred: TimeInterval,
        received: TimeInterval,
        fingerprint: String? = nil,
        prepared: Bool = true
    ) -> IngestRecord {
        let object: JSONValue = .object([
            "id": .string(payment), "status": .string(status), "amount": .integer(1_050), "rate": .number(12.5),
        ])
        let snapshot = ResourceSnapshot(
            resourceType: "payment",
            resourceID: payment,
            status: status,
            updatedAt: start.addingTimeInterval(occurred),
            object: object,
            money: Money(minorUnits: 1_050, currency: "GBP")
        )
        let payload: JSONValue = .object(["id": .string(event), "data": .object(["object": object])])
        var record = IngestRecord(
            fingerprint: fingerprint ?? "line-\(number)",
            sourceName: "capture.ndjson",
            lineNumber: number,
            provider: "credicorp",
            receivedAt: start.addingTimeInterval(received),
            method: "POST",
            url: "https://hooks.example.com/credicorp",
            headersJSON: "{}",
            body: Data(payload.canonicalText.utf8),
            verdict: .accepted([
                ProviderEvent(eventID: event, eventType: "payment.\(status)", snapshot: snapshot, payload: payload)
            ])
        )
        if prepared { record.prepare(replacingStateWhole: true) }
        return record
    }

    @Test(arguments: TestStore.engines)
    func anIngestedHistoryReadsBackTheSameOnEveryEngine(engine: TestStore) async throws {
        try await engine.with { store in
            var rejected = Self.line(5, event: "evt_9", payment: "pay_9", status: "failed", occurred: 0, received: 30)
            rejected.verdict = .rejected(
                .badSignature,
                detail: "no signature matches",
                hint: ResourceHint(eventID: "evt_9", resourceType: "payment", resourceID: "pay_9")
            )
            let batch = [
                Self.line(1, event: "evt_1", payment: "pay_1", status: "pending", occurred: 0, received: 10),
                Self.line(2, event: "evt_2", payment: "pay_1", status: "succeeded", occurred: 5, received: 20),
                Self.line(
                    3,
                    event: "evt_1",
                    payment: "pay_1",
                    status: "pending",
                    occurred: 0,
                    received: 10,
                    fingerprint: "line-1"
                ),
                // Another copy of evt_1 (other bytes, received earlier): its payload is not kept.
                Self.line(4, event: "evt_1", payment: "pay_1", status: "processing", occurred: 0, received: 5),
                rejected,
                Self.line(
                    6,
                    event: "evt_3",
                    payment: "pay_2",
                    status: "pending",
                    occurred: -100,
                    received: 12,
                    prepared: false
                ),
                Self.line(7, event: "evt_4", payment: "pay_1", status: "processing", occurred: 1, received: 25),
            ]
            let outcomes = try await store.record(batch, recordedAt: Self.start.addingTimeInterval(40)) {
                _,
                event,
                current in
                current.map { event.occurredAt > $0.asOf } ?? true ? LocalResource(snapshot: event.snapshot) : nil
            }
            #expect(
                outcomes == [
                    .accepted, .accepted, .duplicate, .duplicate,
                    .rejected(.badSignature, detail: "no signature matches"),
                    .accepted, .accepted,
                ]
            )

            let ids = ["evt_1", "evt_2", "evt_3", "evt_4", "evt_9"]
            let events = try await store.events(provider: "credicorp", ids: ids).sorted { $0.eventID < $1.eventID }
            #expect(events.map(\.eventID) == ["evt_1", "evt_2", "evt_3", "evt_4"], "a rejected line records no event")
            #expect(
                try await store.validDeliveryCounts(provider: "credicorp", ids: ids)
                    == ["evt_1": 2, "evt_2": 1, "evt_3": 1, "evt_4": 1, "evt_9": 0],
                "the same bytes twice are one delivery"
            )
            #expect(
                events.map { Self.millis($0.firstReceipt) }
                    == [5, 20, 12, 25].map { Self.millis(Self.start.addingTimeInterval($0)) }
            )
            #expect(events.map(\.source) == Array(repeating: "webhook", count: 4))
            #expect(
                events.map { Self.millis($0.occurredAt) }
                    == [0, 5, -100, 1].map { Self.millis(Self.start.addingTimeInterval($0)) }
            )
            for (event, line) in zip(events, [batch[0], batch[1], batch[5], batch[6]]) {
                guard case .accepted(let sent) = line.verdict else { continue }
                #expect(try event.payload() == sent[0].payload, "\(event.eventID)'s payload, numbers as they were")
            }
            #expect(try await store.events(provider: "crezco", ids: ids).isEmpty, "events are per provider")
            // The same answer whether the page's times are given, cover some of them, none or all.
            let at = { (seconds: Double) in Self.start.addingTimeInterval(seconds) }
            for occurred in [nil, at(0)...at(1), at(1000)...at(2000), at(-100)...at(5), at(5)...at(5)] {
                #expect(
                    try await store.recordedEventIDs(
                        provider: "credicorp",
                        among: ["evt_1", "evt_9", "evt_4", "evt_2"],
                        occurred: occurred
                    ) == ["evt_1", "evt_4", "evt_2"],
                    "\(String(describing: occurred))"
                )
            }
            #expect(
                try await store.recordedEventIDs(provider: "crezco", among: ["evt_1"], occurred: at(-100)...at(5)) == []
            )

            let payment = { (id: String) in ResourceKey("payment", id) }
            let ofResources = try await store.events(
                provider: "credicorp",
                ofResources: [payment("pay_1"), payment("pay_2"), payment("pay_404")]
            )
            #expect(ofResources.map(\.eventID).sorted() == ["evt_1", "evt_2", "evt_3", "evt_4"])

            let rows = try await store.resources(
                provider: "credicorp",
                keys: [payment("pay_1"), payment("pay_2"), payment("pay_404")]
            )
            #expect(rows.keys.sorted() == [payment("pay_1"), payment("pay_2")])
            #expect(rows[payment("pay_1")]?.status == "succeeded", "an older event arriving later moves nothing back")
            #expect(Self.millis(rows[payment("pay_1")]?.asOf) == Self.millis(Self.start.addingTimeInterval(5)))
            #expect(rows[payment("pay_1")]?.money == Money(minorUnits: 1_050, currency: "GBP"))
            #expect(rows[payment("pay_1")]?.object["rate"] == .number(12.5))
            #expect(rows[payment("pay_2")]?.status == "pending", "applied by the provider's own rule")

            let window = (since: Self.start.addingTimeInterval(-50), until: Self.start.addingTimeInterval(60))
            let active = try await store.resourcesWithEvents(
                provider: "credicorp",
                since: window.since,
                until: window.until
            )
            #expect(active.map(\.key) == [payment("pay_1")] && active.map(\.webhook) == [true])
            #expect(
                try await store.resourceKeys(provider: "credicorp", asOfSince: window.since, until: window.until) == [
                    payment("pay_1")
                ]
            )
            #expect(
                try await store.resourceKeys(
                    provider: "credicorp",
                    asOfSince: Self.start.addingTimeInterval(-200),
                    until: window.until
                ).sorted()
                    == [payment("pay_1"), payment("pay_2")]
            )

            let refused = try await store.rejectedDeliveries(
                provider: "credicorp",
                since: Self.start,
                until: window.until
            )
            #expect(refused.map(\.reason) == ["bad_signature"] && refused.map(\.lineNumber) == [5])
            #expect(refused.map(\.eventID) == ["evt_9"] && refused.map(\.resourceID) == ["pay_9"])
            #expect(
                try await store.rejectedDeliveries(provider: nil, since: Self.start, until: window.until).count == 1
            )
            #expect(
                try await store.rejectedDeliveries(provider: "crezco", since: Self.start, until: window.until).isEmpty
            )
            #expect(
                try await store.rejectedDeliveries(
                    provider: nil,
                    since: window.until,
                    until: window.until.addingTimeInterval(60)
                ).isEmpty
            )

            let duplicates = try await store.duplicatedEvents(
                provider: "credicorp",
                since: Self.start,
                until: window.until
            )
            #expect(duplicates.map(\.eventID) == ["evt_1"] && duplicates.map(\.deliveries) == [2])
            #expect(
                try await store.duplicatedEvents(
                    provider: "credicorp",
                    since: Self.start,
                    until: Self.start.addingTimeInterval(8)
                ).isEmpty,
                "one of its deliveries came after the window"
            )

            #expect(
                try await store.deliveryCounts() == [
                    DeliveryCount(provider: "credicorp", verdict: "accepted", count: 5),
                    DeliveryCount(provider: "credicorp", verdict: "rejected", count: 1),
                ]
            )
            #expect(try await Self.millis(store.newestReceipt()) == Self.millis(Self.start.addingTimeInterval(30)))

            // A later batch: evt_1 once more, received earliest of all, and a line seen before.
            let later = try await store.record(
                [
                    Self.line(8, event: "evt_1", payment: "pay_1", status: "failed", occurred: 0, received: 2),
                    batch[1],
                ],
                recordedAt: Self.start.addingTimeInterval(50)
            ) { _, _, _ in nil }
            #expect(later == [.duplicate, .duplicate])
            let evt1 = try #require(try await store.events(provider: "credicorp", ids: ["evt_1"]).first)
            #expect(Self.millis(evt1.firstReceipt) == Self.millis(Self.start.addingTimeInterval(2)))
            #expect(try await store.validDeliveryCounts(provider: "credicorp", ids: ["evt_1"]) == ["evt_1": 3])
            guard case .accepted(let first) = batch[0].verdict else { return }
            #expect(try evt1.payload() == first[0].payload, "the first line's payload stays")

            // A receipt time of year 0 (RFC 3339 allows it; a wrapper may say so) is kept, not refused.
            var ancient = Self.line(9, event: "evt_0", payment: "pay_0", status: "failed", occurred: 0, received: 0)
            ancient.receivedAt = try #require(RFC3339.parse("0000-01-01T00:00:00Z"))
            ancient.verdict = .rejected(.malformed, detail: "received_at out of range", hint: nil)
            #expect(
                try await store.record([ancient], recordedAt: Self.start.addingTimeInterval(60)) { _, _, _ in nil }
                    == [.rejected(.malformed, detail: "received_at out of range")]
            )
        }
    }

    /// Two ids that differ only in how an accented letter is spelled are two resources, as the
    /// stores compare text byte by byte, though Swift's `String` takes them for one.
    @Test(arguments: TestStore.engines)
    func idsSpelledApartByteByByteAreTwoResources(engine: TestStore) async throws {
        let composed = "pay_caf\u{E9}"
        let decomposed = "pay_cafe\u{301}"
        #expect(composed == decomposed, "Swift's String equality: canonical equivalence")
        #expect(ResourceKey("payment", composed) != ResourceKey("payment", decomposed))
        try await engine.with { store in
            let batch = [
                Self.line(1, event: "evt_c", payment: composed, status: "succeeded", occurred: 0, received: 10),
                Self.line(2, event: "evt_d", payment: decomposed, status: "failed", occurred: 0, received: 10),
                Self.line(3, event: "evt_d2", payment: decomposed, status: "refunded", occurred: 5, received: 10),
            ]
            let outcomes = try await store.record(batch, recordedAt: Self.start.addingTimeInterval(20)) {
                _,
                event,
                current in
                current.map { event.occurredAt > $0.asOf } ?? true ? LocalResource(snapshot: event.snapshot) : nil
            }
            #expect(outcomes == [.accepted, .accepted, .accepted])
            let keys = [ResourceKey("payment", composed), ResourceKey("payment", decomposed)]
            let rows = try await store.resources(provider: "credicorp", keys: keys)
            #expect(rows.count == 2)
            #expect(rows[keys[0]]?.status == "succeeded")
            #expect(rows[keys[1]]?.status == "refunded")
            #expect(Array(rows[keys[1]]?.resourceID.utf8 ?? "".utf8) == Array(decomposed.utf8))

            // Event ids too: of two spellings in one page, only the one stored is recorded, found by
            // time or by id.
            let stored = "evt_caf\u{E9}"
            let other = "evt_cafe\u{301}"
            _ = try await store.record(
                [Self.line(4, event: stored, payment: "pay_x", status: "pending", occurred: 7, received: 11)],
                recordedAt: Self.start.addingTimeInterval(21)
            ) { _, _, _ in nil }
            let at = { (seconds: Double) in Self.start.addingTimeInterval(seconds) }
            for occurred in [nil, at(7)...at(7), at(100)...at(200)] {
                let recorded = try await store.recordedEventIDs(
                    provider: "credicorp",
                    among: [other, stored],
                    occurred: occurred
                )
                #expect(recorded == [ExactID(stored)], "\(String(describing: occurred))")
                #expect(!recorded.contains(ExactID(other)))
            }
        }
    }

    @Test(arguments: TestStore.engines)
    func aBatchThatFailsLeavesNothingOfItBehind(engine: TestStore) async throws {
        try await engine.with { store in
            let good = Self.line(1, event: "evt_1", payment: "pay_1", status: "pending", occurred: 0, received: 10)
            // A currency the store's check refuses, met only when the second line's row is written.
            var bad = Self.line(2, event: "evt_2", payment: "pay_2", status: "pending", occurred: 0, received: 11)
            if case .accepted(var events) = bad.verdict {
                events[0].snapshot.money = Money(minorUnits: 1, currency: "POUNDS")
                bad.verdict = .accepted(events)
            }
            let failure = await #expect(throws: StoreFailure.self) {
                _ = try await store.record([good, bad], recordedAt: Self.start) { _, event, _ in
                    LocalResource(snapshot: event.snapshot)
                }
            }
            #expect(failure?.operation == "record a batch of deliveries")
            #expect(try await store.deliveryCounts().isEmpty, "not even the first line")
            #expect(try await store.events(provider: "credicorp", ids: ["evt_1", "evt_2"]).isEmpty)
            #expect(try await store.resources(provider: "credicorp", keys: [ResourceKey("payment", "pay_1")]).isEmpty)
            let again = try await store.record([good], recordedAt: Self.start) { _, event, _ in
                LocalResource(snapshot: event.snapshot)
            }
            #expect(again == [.accepted], "the same line goes in afterwards")
        }
    }

    /// The repairs of one finding each: `events` to record, `resources` to set.
    static func plan(events: [ProviderEvent], resources: [(key: String, target: LocalResource)]) async throws
        -> RepairPlan
    {
        let scratch = try RunScratch()
        _ = try await scratch.keep(events: events)
        try scratch.plan(
            events: events.map { (findingKey: "drop-" + $0.eventID, eventID: $0.eventID) },
            resources: resources.map { (findingKey: $0.key, rank: 0, target: $0.target) }
        )
        return RepairPlan(scratch: scratch, count: try scratch.plannedCount())
    }

    static func finding(_ kind: FindingKind, _ resource: String, event: String? = nil) -> Finding {
        Finding(
            kind: kind,
            provider: "credicorp",
            resourceType: "payment",
            resourceID: resource,
            eventID: event,
            details: ["local": "pending", "amount": .integer(1_050)]
        )
    }

    @Test(arguments: TestStore.engines)
    func runsRepairsAndFindingsAcrossNightsReadTheSameOnEveryEngine(engine: TestStore) async throws {
        try await engine.with { store in
            let at = { (seconds: TimeInterval) in Self.start.addingTimeInterval(seconds) }
            _ = try await store.record(
                [Self.line(1, event: "evt_1", payment: "pay_1", status: "pending", occurred: 0, received: 10)],
                recordedAt: at(10)
            ) { _, event, _ in LocalResource(snapshot: event.snapshot) }
            func begin(_ id: String, at seconds: TimeInterval, dryRun: Bool = false) async throws -> [(
                id: String, repairs: Int
            )] {
                try await store.beginRun(
                    id: id,
                    job: "nightly",
                    command: "run",
                    round: nil,
                    startedAt: at(seconds),
                    now: at(seconds),
                    since: at(-1_000),
                    until: at(seconds),
                    dryRun: dryRun
                )
            }
            #expect(try await begin("r1", at: 100).isEmpty)

            // A dropped event, a row the provider has moved on, a row we lack, a row to move back.
            let dropped = Self.line(2, event: "evt_2", payment: "pay_1", status: "succeeded", occurred: 50, received: 0)
            guard case .accepted(let droppedEvents) = dropped.verdict else { return }
            let moved = LocalResource(
                resourceType: "payment",
                resourceID: "pay_1",
                status: "succeeded",
                asOf: at(50),
                object: .object(["id": "pay_1", "status": "succeeded"]),
                money: Money(minorUnits: 1_050, currency: "GBP")
            )
            var missing = moved
            missing.resourceID = "pay_3"
            let plan = try await Self.plan(
                events: droppedEvents,
                resources: [("set-pay_1", moved), ("insert-pay_3", missing)]
            )
            #expect(
                try await store.applyRepairs(plan, provider: "credicorp", runID: "r1", at: at(101)) == [
                    "drop-evt_2", "set-pay_1", "insert-pay_3",
                ]
            )
            #expect(
                try await store.applyRepairs(plan, provider: "credicorp", runID: "r1", at: at(102)).isEmpty,
                "applied again, nothing to do"
            )
            var older = moved
            older.status = "pending"
            older.asOf = at(20)
            let back = try await Self.plan(events: [], resources: [("back-pay_1", older)])
            #expect(
                try await store.applyRepairs(back, provider: "credicorp", runID: "r1", at: at(103)).isEmpty,
                "a row never moves back"
            )

            let recorded = try await store.events(provider: "credicorp", ids: ["evt_2"])
            #expect(recorded.map(\.source) == ["reconciliation"] && recorded.map { $0.firstReceipt == nil } == [true])
            #expect(try await store.validDeliveryCounts(provider: "credicorp", ids: ["evt_2"]) == ["evt_2": 0])
            #expect(try recorded.first?.payload() == droppedEvents[0].payload)
            let rows = try await store.resources(
                provider: "credicorp",
                keys: [ResourceKey("payment", "pay_1"), ResourceKey("payment", "pay_3")]
            )
            #expect(rows[ResourceKey("payment", "pay_1")]?.status == "succeeded")
            #expect(rows[ResourceKey("payment", "pay_3")]?.money == Money(minorUnits: 1_050, currency: "GBP"))

            var first = [
                Self.finding(.stateMismatch, "pay_1"), Self.finding(.droppedEvent, "pay_1", event: "evt_2"),
                Self.finding(.missingLocally, "pay_9"),
            ]
            first[0].repaired = true
            first[1].repaired = true
            try await store.finishRun(
                id: "r1",
                status: "complete",
                exitStatus: 1,
                finishedAt: at(110),
                entries: [],
                findings: first,
                report: Array(#"{"run":"r1"}"#.utf8)
            )

            let listed = try await store.runs(job: "nightly", limit: 5)
            #expect(
                listed.map(\.id) == ["r1"] && listed.map(\.exitStatus) == [1]
                    && listed.map(\.report) == [#"{"run":"r1"}"#]
            )
            #expect(
                listed.map(\.kind) == ["nightly"] && listed.map { Self.millis($0.finishedAt) } == [Self.millis(at(110))]
            )
            #expect(try await store.run(job: "nightly", id: nil)?.id == "r1")
            #expect(try await store.run(job: "nightly", id: "r404") == nil)
            #expect(try await Self.millis(store.lastSuccess(job: "nightly", command: "run")) == Self.millis(at(110)))
            #expect(try await store.lastSuccess(job: "nightly", command: "backfill") == nil)

            #expect(try await begin("r2", at: 200).isEmpty)
            let keys = first.map(\.key) + ["never-reported"]
            let firstSeen = try await store.firstReported(job: "nightly", keys: keys, excludingRun: "r2")
            #expect(Set(firstSeen.keys) == Set(first.map { ExactID($0.key) }))
            #expect(firstSeen.values.map(Self.millis).allSatisfy { $0 == Self.millis(at(100)) })
            let previous = try await store.previousRunFindings(
                job: "nightly",
                command: "run",
                sameWindow: nil,
                excludingRun: "r2"
            )
            #expect(previous.map(\.key) == first.map(\.key), "in the order stored")
            #expect(
                try await store.previousRunFindings(
                    job: "nightly",
                    command: "backfill",
                    sameWindow: nil,
                    excludingRun: "r2"
                ).isEmpty
            )

            // r2 dies without finishing: the next run finds it.
            let crashed = try await begin("r3", at: 300)
            #expect(crashed.map(\.id) == ["r2"] && crashed.map(\.repairs) == [0])
            #expect(try await store.runs(job: "nightly", limit: 5).map(\.status) == ["running", "crashed", "complete"])
            #expect(try await store.runIDs(job: "nightly") == ["r1", "r2", "r3"])
            try await store.finishRun(
                id: "r3",
                status: "complete",
                exitStatus: 1,
                finishedAt: at(310),
                entries: [],
                findings: [first[2]],
                report: Array("{}".utf8)
            )

            let histories = try await store.findingHistories(job: "nightly", providers: ["credicorp", "a", "b"])
            #expect(histories.map(\.kind) == [.stateMismatch, .droppedEvent, .missingLocally])
            #expect(histories.map(\.isOpen) == [false, false, true], "repaired, repaired, reported again")
            #expect(histories[2].occurrences.map(\.runID) == ["r1", "r3"])
            #expect(histories[0].details["amount"] == .integer(1_050))
            let setState = try await store.repairs(of: histories[0])
            #expect(setState.map(\.action) == ["set_state"] && setState.map(\.runID) == ["r1"])
            #expect(setState.first?.at == RFC3339.formatMillis(at(101)))
            #expect(
                setState.first?.before?.contains("pending") == true
                    && setState.first?.after?.contains("succeeded") == true
            )
            #expect(try await store.repairs(of: histories[1]).map(\.action) == ["record_event"])
            let delivered = try await store.deliveries(
                of: FindingHistory(
                    id: "x",
                    kind: .duplicateDelivery,
                    provider: "credicorp",
                    resourceType: "payment",
                    resourceID: "pay_1",
                    eventID: "evt_1",
                    deliveryID: nil,
                    occurrences: [],
                    isOpen: true
                )
            )
            #expect(
                delivered.map(\.verdict) == ["accepted"]
                    && delivered.map(\.receivedAt) == [RFC3339.formatMillis(at(10))]
            )

            // Retention: r1 keeps its repairs' audit, r3 its open finding; the rest goes.
            var cutoffs = RetentionCutoffs(now: at(1_000), wallClock: at(1_000), newestReceipt: nil, retention: 0)
            cutoffs.audit = at(-1)
            let pruned = try await store.prune(job: "nightly", cutoffs: cutoffs, openKeys: [first[2].key])
            #expect(pruned == PruneSummary(runs: 1, findings: 2, deliveries: 1, backfills: 0))
            #expect(try await store.runIDs(job: "nightly") == ["r1", "r3"])
            #expect(try await store.deliveryCounts().isEmpty)
            let kept = try #require(try await store.events(provider: "credicorp", ids: ["evt_1"]).first)
            #expect(try kept.payload() != .null, "events stay readable")
            #expect(
                Self.millis(kept.firstReceipt) == Self.millis(at(10)),
                "the event was first received then, though its delivery is pruned"
            )
        }
    }

    /// Retention chooses the deliveries to prune by their receipt time, or their recording time when
    /// they have none, whichever provider they name or none: the same on every engine.
    @Test(arguments: TestStore.engines)
    func retentionPrunesDeliveriesOfEveryProviderAndOfNoneByTheirTime(engine: TestStore) async throws {
        try await engine.with { store in
            let at = { (seconds: TimeInterval) in Self.start.addingTimeInterval(seconds) }
            func rejected(_ number: Int, provider: String?, received: TimeInterval?) -> IngestRecord {
                var line = Self.line(
                    number,
                    event: "evt_r\(number)",
                    payment: "pay_r",
                    status: "failed",
                    occurred: 0,
                    received: 0
                )
                line.provider = provider
                line.receivedAt = received.map(at)
                line.verdict = .rejected(.malformed, detail: "line \(number)", hint: nil)
                return line
            }
            // Recorded early (at 30): the lines without a receipt time count from then.
            _ = try await store.record(
                [
                    Self.line(1, event: "evt_1", payment: "pay_1", status: "pending", occurred: 0, received: 10),
                    Self.line(2, event: "evt_2", payment: "pay_1", status: "succeeded", occurred: 5, received: 500),
                    rejected(3, provider: "zeta", received: 20),
                    rejected(4, provider: nil, received: nil),
                    rejected(5, provider: nil, received: 40),
                    rejected(6, provider: "alpha", received: nil),
                    rejected(7, provider: "", received: 50),
                ],
                recordedAt: at(30)
            ) { _, _, _ in nil }
            // Recorded late (at 600), with no receipt time: kept.
            _ = try await store.record([rejected(8, provider: nil, received: nil)], recordedAt: at(600)) { _, _, _ in
                nil
            }
            // Received late, recorded early: kept by its receipt.
            _ = try await store.record([rejected(9, provider: "alpha", received: 700)], recordedAt: at(30)) { _, _, _ in
                nil
            }

            var cutoffs = RetentionCutoffs(now: at(1_000), wallClock: at(1_000), newestReceipt: nil, retention: 0)
            cutoffs.runs = at(-1_000)
            cutoffs.audit = at(-1_000)
            cutoffs.deliveries = at(100)
            let pruned = try await store.prune(job: "nightly", cutoffs: cutoffs, openKeys: [])
            #expect(pruned.deliveries == 6)
            #expect(
                try await store.deliveryCounts() == [
                    DeliveryCount(provider: "", verdict: "rejected", count: 1),
                    DeliveryCount(provider: "alpha", verdict: "rejected", count: 1),
                    DeliveryCount(provider: "credicorp", verdict: "accepted", count: 1),
                ]
            )
        }
    }

    /// `count` rows to insert, `pay_0000` on; the one at `bad` (if any) with a currency the store refuses.
    static func inserts(_ count: Int, bad: Int? = nil) -> [(key: String, target: LocalResource)] {
        (0..<count).map { index in
            let id = "pay_" + String(repeating: "0", count: 4 - String(index).count) + String(index)
            let target = LocalResource(
                resourceType: "payment",
                resourceID: id,
                status: "succeeded",
                asOf: start,
                object: .object(["id": .string(id)]),
                money: Money(minorUnits: Int64(index), currency: index == bad ? "POUNDS" : "GBP")
            )
            return ("insert-" + id, target)
        }
    }

    @Test(arguments: TestStore.engines)
    func sharedRunsRecordEntriesAsTheyGoAndEachEntryIsComparedWithItsLastReading(engine: TestStore) async throws {
        try await engine.with { store in
            let at = { (seconds: TimeInterval) in Self.start.addingTimeInterval(seconds) }
            func begin(_ id: String, at seconds: TimeInterval, round: String?, command: String = RunEntry.sharedCommand)
                async throws -> [String]
            {
                try await store.beginRun(
                    id: id,
                    job: "nightly",
                    command: command,
                    round: round,
                    startedAt: at(seconds),
                    now: at(seconds),
                    since: at(-1_000),
                    until: at(seconds),
                    dryRun: false
                ).map(\.id)
            }
            func finding(_ provider: String?, _ resource: String) -> Finding {
                var finding = Self.finding(.missingLocally, resource)
                finding.provider = provider
                return finding
            }
            func finish(_ id: String, at seconds: TimeInterval) async throws {
                try await store.finishRun(
                    id: id,
                    status: "complete",
                    exitStatus: 1,
                    finishedAt: at(seconds),
                    entries: [],
                    findings: [],
                    report: Array("{}".utf8)
                )
            }
            let providers: Set<String> = ["a", "b"]
            #expect(try await store.round(job: "nightly", named: nil) == nil)

            // Round 1: two hosts; neither marks the other's live run crashed.
            #expect(try await begin("h1", at: 100, round: "round-1").isEmpty)
            #expect(try await begin("h2", at: 101, round: "round-1").isEmpty)
            #expect(try await store.entryRead(job: "nightly", round: "round-1", entry: "a") == false)
            #expect(
                try await store.recordEntry(
                    RunEntry(provider: "a", status: "complete", report: #"{"part":"a"}"#),
                    runID: "h1",
                    findings: [finding("a", "pay_1"), finding("a", "pay_2")]
                )
            )
            #expect(
                try await store.recordEntry(
                    RunEntry(provider: "a", status: "complete", report: #"{"part":"a again"}"#),
                    runID: "h2",
                    findings: [finding("a", "pay_7")]
                ) == false,
                "an entry is recorded once a round: the second host's record, findings and all, is refused"
            )
            #expect(
                try await store.recordEntry(
                    RunEntry(provider: "b", status: "failed", report: #"{"part":"b"}"#),
                    runID: "h2",
                    findings: []
                )
            )
            #expect(
                try await store.recordEntry(
                    RunEntry(provider: RunEntry.otherLines, status: "complete", report: #"{"part":"*"}"#),
                    runID: "h2",
                    findings: [finding(nil, "line_3"), finding("gone", "line_4")]
                )
            )
            #expect(
                try await store.recordEntry(RunEntry(provider: "c", status: "interrupted"), runID: "h2", findings: [])
            )
            #expect(try await store.entryRead(job: "nightly", round: "round-1", entry: "a"))
            #expect(try await store.entryRead(job: "nightly", round: "round-1", entry: "b"), "a failed reading is one")
            #expect(try await store.entryRead(job: "nightly", round: "round-1", entry: "c") == false)
            #expect(try await store.entryRead(job: "nightly", round: "round-2", entry: "a") == false)
            try await finish("h1", at: 110)
            // h2 dies without finishing.

            let first = try #require(try await store.round(job: "nightly", named: nil))
            #expect(first.round == "round-1" && first.runs.map(\.id) == ["h1", "h2"])
            #expect(first.runs.map(\.kind) == ["nightly (shared)", "nightly (shared)"])
            #expect(first.runs.map(\.round) == ["round-1", "round-1"])
            #expect(first.parts.map(\.entry) == ["a", "b", RunEntry.otherLines])
            #expect(first.parts.map(\.report) == [#"{"part":"a"}"#, #"{"part":"b"}"#, #"{"part":"*"}"#])
            #expect(try await store.round(job: "nightly", named: "round-9") == nil)

            // A run of round 2: h2 of round 1, left running and holding no key, is found crashed.
            #expect(try await begin("h3", at: 200, round: "round-2") == ["h2"])
            let previous = try await store.previousEntryFindings(
                job: "nightly",
                entries: ["a", "b", RunEntry.otherLines],
                providers: providers,
                excludingRun: "h3"
            )
            #expect(
                previous.map(\.resourceID) == ["pay_1", "pay_2", "line_3", "line_4"],
                "a's from h1, none for b (it failed), the other lines' from h2 (recorded before it died)"
            )
            #expect(
                try await store.recordEntry(
                    RunEntry(provider: "a", status: "complete"),
                    runID: "h3",
                    findings: [finding("a", "pay_2")]
                )
            )
            try await finish("h3", at: 210)
            // h4 is left running (its host died): the next whole run finds it crashed.
            #expect(try await begin("h4", at: 250, round: "round-3").isEmpty)
            let histories = try await store.findingHistories(job: "nightly", providers: ["credicorp", "a", "b"])
            let open = Dictionary(histories.map { ($0.resourceID ?? "", $0.isOpen) }, uniquingKeysWith: { $1 })
            #expect(
                open == ["pay_1": false, "pay_2": true, "line_3": true, "line_4": true],
                "a's were read again (pay_1 gone); the other lines were not"
            )

            // A whole run that completes reads every entry: it settles the other lines too.
            #expect(try await begin("w1", at: 300, round: nil, command: "run") == ["h4"])
            try await store.finishRun(
                id: "w1",
                status: "complete",
                exitStatus: 1,
                finishedAt: at(310),
                entries: [
                    RunEntry(provider: "a", status: "complete"), RunEntry(provider: "b", status: "complete"),
                    RunEntry(provider: RunEntry.otherLines, status: "complete"),
                ],
                findings: [finding("b", "pay_9")],
                report: Array("{}".utf8)
            )
            #expect(
                try await store.findingHistories(job: "nightly", providers: ["credicorp", "a", "b"]).filter(\.isOpen)
                    .map(\.resourceID) == ["pay_9"]
            )
            let afterWhole = try await store.previousEntryFindings(
                job: "nightly",
                entries: ["a", "b"],
                providers: providers,
                excludingRun: "x"
            )
            #expect(afterWhole.map(\.resourceID) == ["pay_9"], "the whole run is every entry's last reading")
            #expect(try await store.round(job: "nightly", named: nil)?.round == "round-3")
            #expect(try await store.round(job: "nightly", named: "round-2")?.runs.map(\.id) == ["h3"])
        }
    }

    /// ``inserts(_:bad:)`` as rows of type `decision`: other resources than the payments of the same ids.
    static func decisions(_ count: Int, bad: Int) -> [(key: String, target: LocalResource)] {
        inserts(count, bad: bad).map { item in
            var target = item.target
            target.resourceType = "decision"
            return (key: "decision-" + item.key, target: target)
        }
    }

    /// Begins a nightly run `id` whose window is the instant ``start``, for repairs to be recorded under.
    static func beginRepairRun(_ store: any TestStore.Parts, id: String) async throws {
        _ = try await store.beginRun(
            id: id,
            job: "nightly",
            command: "run",
            round: nil,
            startedAt: start,
            now: start,
            since: start,
            until: start,
            dryRun: false
        )
    }

    @Test(arguments: TestStore.engines)
    func repairsBeyondOneBatchAreAllAppliedAndAFailedOneSaysWhatStands(engine: TestStore) async throws {
        try await engine.with { store in
            let many = Self.inserts(1_001)
            try await Self.beginRepairRun(store, id: "r1")
            let plan = try await Self.plan(events: [], resources: many)
            #expect(
                try await store.applyRepairs(plan, provider: "credicorp", runID: "r1", at: Self.start).count == 1_001
            )
            #expect(try await store.applyRepairs(plan, provider: "credicorp", runID: "r1", at: Self.start).isEmpty)
            let keys = many.map { ResourceKey("payment", $0.target.resourceID) }
            #expect(try await store.resources(provider: "credicorp", keys: keys).count == 1_001)

            // The 551st of 600 cannot be written: the second batch of a server's store fails.
            let broken = Self.decisions(600, bad: 550)
            let failure = await #expect(throws: StoreFailure.self) {
                _ = try await store.applyRepairs(
                    try await Self.plan(events: [], resources: broken),
                    provider: "credicorp",
                    runID: "r1",
                    at: Self.start
                )
            }
            let written = try await store.resources(
                provider: "credicorp",
                keys: broken.map { ResourceKey("decision", $0.target.resourceID) }
            )
            switch engine {
            case .sqlite:
                #expect(failure?.committedRepairs.isEmpty == true, "one transaction: nothing stands")
                #expect(written.isEmpty)
            case .postgres:
                #expect(
                    failure?.committedRepairs == Set(broken.prefix(500).map { ExactID($0.key) }),
                    "the first batch stands"
                )
                #expect(written.count == 500)
            }
        }
    }

    /// A plan of up to one batch is all applied or none on every engine, whatever kinds of repair it mixes: a
    /// run killed or failing in the middle of it never leaves its events recorded without its rows.
    @Test(arguments: TestStore.engines)
    func oneBatchOfEventsAndRowsIsAllAppliedOrNone(engine: TestStore) async throws {
        try await engine.with { store in
            try await Self.beginRepairRun(store, id: "r1")
            let events = (0..<200).map { index in
                Self.line(
                    index,
                    event: "evt_\(index)",
                    payment: "pay_\(index)",
                    status: "failed",
                    occurred: 0,
                    received: 0
                )
            }
            .flatMap { record -> [ProviderEvent] in
                guard case .accepted(let events) = record.verdict else { return [] }
                return events
            }
            let inspection = try #require(store as? any StoreInspection)
            // The last of 300 rows cannot be written: with 200 events before it, 500 repairs in all.
            let failure = await #expect(throws: StoreFailure.self) {
                _ = try await store.applyRepairs(
                    try await Self.plan(events: events, resources: Self.inserts(300, bad: 299)),
                    provider: "credicorp",
                    runID: "r1",
                    at: Self.start
                )
            }
            #expect(failure?.committedRepairs.isEmpty == true)
            #expect(try await inspection.eventSnapshot().isEmpty, "no event stands without the rows of its batch")
            #expect(try await inspection.repairCounts().isEmpty)

            let whole = try await store.applyRepairs(
                try await Self.plan(events: events, resources: Self.inserts(300)),
                provider: "credicorp",
                runID: "r1",
                at: Self.start
            )
            #expect(whole.count == 500)
            #expect(try await inspection.eventSnapshot().count == 200)
            #expect(try await inspection.repairCounts() == ["r1": 500])

            // Beyond one batch, a batch fills with rows after the events: 300 events and 300 rows, the 251st
            // row bad, fail in the second batch. PostgreSQL keeps the first (the events and 200 rows).
            func renamed(_ events: some Sequence<ProviderEvent>, _ prefix: String) -> [ProviderEvent] {
                events.map { event in
                    var event = event
                    event.eventID = prefix + event.eventID
                    return event
                }
            }
            let more = renamed(events.prefix(100), "evt_more_") + renamed(events, "evt_next_")
            try await Self.beginRepairRun(store, id: "r2")
            let rows = Self.decisions(300, bad: 250)
            let failed = await #expect(throws: StoreFailure.self) {
                _ = try await store.applyRepairs(
                    try await Self.plan(events: more, resources: rows),
                    provider: "credicorp",
                    runID: "r2",
                    at: Self.start
                )
            }
            let committed = Set((more.map { "drop-" + $0.eventID } + rows.prefix(200).map(\.key)).map { ExactID($0) })
            switch engine {
            case .sqlite:
                #expect(failed?.committedRepairs.isEmpty == true)
                #expect(try await inspection.repairCounts()["r2"] == nil)
            case .postgres:
                #expect(failed?.committedRepairs == committed)
                #expect(try await inspection.repairCounts()["r2"] == 500)
            }
        }
    }
}

/// What only the PostgreSQL engine has: a shared server, migrations and logins.
@Suite(.enabled(if: TestPostgres.enabled)) struct PostgresStoreTests {
    static let logger: Logger = {
        var logger = Logger(label: "test.postgres-store")
        logger.logLevel = .warning
        return logger
    }()

    /// A shared run of another round that is still reading is live, not crashed.
    ///
    /// Its session holds its run's key; once the session is gone, the next run finds it crashed.
    @Test func aRunOfAnotherRoundWhoseSessionHoldsItsKeyIsNotCrashed() async throws {
        try await TestStore.postgres.with { store in
            func begin(_ id: String, round: String) async throws -> [String] {
                try await store.beginRun(
                    id: id,
                    job: "nightly",
                    command: RunEntry.sharedCommand,
                    round: round,
                    startedAt: StoreContractTests.start,
                    now: StoreContractTests.start,
                    since: StoreContractTests.start,
                    until: StoreContractTests.start,
                    dryRun: false
                ).map(\.id)
            }
            let (location, password) = try TestPostgres.server()
            let straggler = try await PostgresClaims.connect(to: location, password: password, logger: Self.logger)
            let id = "straggler-\(UUID().uuidString)"
            try await straggler.holdRun(id)
            #expect(try await begin(id, round: "2026-12-06").isEmpty)
            #expect(try await begin("tonight-\(UUID().uuidString)", round: "2026-12-07").isEmpty, "still reading")
            try await straggler.close()
            #expect(try await begin("later-\(UUID().uuidString)", round: "2026-12-08").contains(id), "its host died")
        }
    }

    @Test func hostsStartingAtOnceMigrateOnceAndANewerSchemaIsLeftAlone() async throws {
        let (location, password) = try TestPostgres.server()
        try await TestPostgres.withSchema { schema in
            // Four processes' worth of stores opening one empty schema at once.
            let stores = try await withThrowingTaskGroup(of: PostgresStore.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        try await PostgresStore.open(location, password: password, schema: schema, logger: Self.logger)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(stores.count == 4)
            for store in stores { await store.close() }
            try await TestPostgres.execute(
                "INSERT INTO \(schema).reconcile_migration (name) VALUES ('v99 from a newer build')"
            )
            let failure = await #expect(throws: StoreFailure.self) {
                let store = try await PostgresStore.open(
                    location,
                    password: password,
                    schema: schema,
                    logger: Self.logger
                )
                await store.close()
            }
            #expect(failure?.description.contains("newer version of reconcile") == true)
            #expect(failure?.description.contains("v99 from a newer build") == true)
            #expect(failure?.description.contains(location.description) == true, "the store is named")
        }
    }

    @Test func aRefusedLoginSaysWhatTheServerSaidAndNeverThePassword() async throws {
        let (location, password) = try TestPostgres.server()
        let wrong = password + "-not-it"
        let failure = await #expect(throws: StoreFailure.self) {
            let store = try await PostgresStore.open(location, password: wrong, logger: Self.logger)
            await store.close()
        }
        let text = failure?.description ?? ""
        #expect(text.contains("password authentication failed"), "the server's message: \(text)")
        #expect(text.contains("28P01"), "and its SQLSTATE")
        #expect(!text.contains(wrong) && !text.contains(password))
    }

    @Test func aRunLockWhoseSessionIsGoneIsNoticedBeforeTheRunWritesMore() async throws {
        let (location, password) = try TestPostgres.server()
        let job = "lock-\(UUID().uuidString.prefix(8))"
        let opened = try await OpenedStore.open(
            location.description,
            origin: "test",
            password: Secret(variable: "RECONCILE_TEST_POSTGRES_PASSWORD", value: password),
            creation: .allowed,
            lockingJob: job,
            logger: Self.logger
        )
        try await opened.checkLock()
        // An operator (or a network cut) ends the session that holds the job's advisory lock.
        let key = ClaimKey.job(job)
        try await TestPostgres.execute(
            """
            SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory'
            AND classid::bigint = ((\(key) >> 32) & 4294967295) AND objid::bigint = (\(key) & 4294967295)
            """
        )
        let failure = await #expect(throws: StoreFailure.self) { try await opened.checkLock() }
        #expect(
            failure?.description.contains("the session holding it is gone") == true,
            "\(String(describing: failure))"
        )
        #expect(failure?.description.contains(password) == false)
        await opened.close()
    }
}
