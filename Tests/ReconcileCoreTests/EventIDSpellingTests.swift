import Crypto
import Foundation
import Logging
import Testing

@testable import ReconcileCore

/// Two event ids that differ only in how an accented letter is spelled are two events: the
/// provider and both stores compare ids byte by byte, though Swift's `String` takes them for one.
@Suite struct EventIDSpellingTests {
    typealias Server = HostileHTTPServer
    static let composed = "evt_caf\u{E9}"
    static let decomposed = "evt_cafe\u{301}"
    /// Six days before the end of the window: past Credicorp's 72-hour retry window.
    static let occurred = Hostile.until.addingTimeInterval(-6 * 86_400)

    /// The provider lists `decomposed` for `pay_1`, knows nothing of `composed`, and lists the payment.
    static func provider(_ target: String) -> [Server.Step] {
        let created = RFC3339.format(occurred)
        let payment =
            #"{"id":"pay_1","object":"payment","amount":1050,"currency":"GBP","status":"succeeded","#
            + #""created":"\#(created)","updated":"\#(created)"}"#
        let event =
            #"{"id":"\#(decomposed)","object":"event","type":"payment.succeeded","created":"\#(created)","#
            + #""data":{"object":\#(payment)}}"#
        func list(_ items: [String]) -> [Server.Step] {
            [
                Server.answer(
                    200,
                    body: #"{"object":"list","data":["# + items.joined(separator: ",") + #"],"has_more":false}"#
                )
            ]
        }
        if target.hasPrefix("/public/v1/events?") { return list([event]) }
        if target.hasPrefix("/public/v1/events/") {
            return [Server.answer(404, body: #"{"error":{"type":"invalid_request_error","message":"no such event"}}"#)]
        }
        if target.hasPrefix("/public/v1/payments?") { return list([payment]) }
        return list([])
    }

    /// Our event and the provider's are two events when their ids are two spellings.
    ///
    /// The store received `composed` by webhook; the provider lists `decomposed` and answers 404
    /// for `composed`. Taken for one event, neither finding would be made and the listed event
    /// would never be recorded. With the provider's answers held in memory, and in the temporary file.
    @Test(arguments: TestStore.engines, [RunScratch.heldBytes, 0])
    func anEventListedUnderAnotherSpellingOfOurIdIsAnotherEvent(engine: TestStore, answersInMemory: Int) async throws {
        #expect(Self.composed == Self.decomposed, "Swift's String equality: canonical equivalence")
        try await engine.with { store in
            let line = StoreContractTests.line(
                1,
                event: Self.composed,
                payment: "pay_1",
                status: "succeeded",
                occurred: Self.occurred.timeIntervalSince(StoreContractTests.start),
                received: Self.occurred.timeIntervalSince(StoreContractTests.start) + 10
            )
            let outcomes = try await store.record([line], recordedAt: Self.occurred.addingTimeInterval(20)) {
                _,
                event,
                _ in LocalResource(snapshot: event.snapshot)
            }
            #expect(outcomes == [.accepted])
            try await Server.with(Self.provider) { server in
                var quiet = Logger(label: "test")
                quiet.logLevel = .critical
                let result = try await ProviderReconciler(
                    adapter: CredicorpAdapter(config: Fixture.credicorpConfig(baseURL: server.baseURL)),
                    reader: Hostile.reader(.credicorp, server.baseURL),
                    store: store,
                    now: Hostile.until,
                    since: Hostile.since,
                    until: Hostile.until,
                    logger: quiet,
                    answersInMemory: answersInMemory
                ).reconcile()
                let events = result.findings.filter { $0.eventID != nil }.map { finding in
                    "\(finding.kind.rawValue) \(Array(finding.eventID?.utf8 ?? "".utf8))"
                }
                #expect(
                    events.sorted() == [
                        "dropped_event \(Array(Self.decomposed.utf8))",
                        "unknown_to_provider \(Array(Self.composed.utf8))",
                    ],
                    "\(result.findings.map(\.key))"
                )
                let planned = try #require(result.plan.scratch).plannedCount()
                #expect(planned >= 1, "the listed event is planned for recording")
                _ = try await store.beginRun(
                    id: "run-1",
                    job: "nightly",
                    command: "run",
                    round: nil,
                    startedAt: Hostile.until,
                    now: Hostile.until,
                    since: Hostile.since,
                    until: Hostile.until,
                    dryRun: false
                )
                let repaired = try await store.applyRepairs(
                    result.plan,
                    provider: "credicorp",
                    runID: "run-1",
                    at: Hostile.until
                )
                let dropped = try #require(result.findings.first { $0.kind == .droppedEvent })
                #expect(repaired.map { Array($0.text.utf8) } == [Array(dropped.key.utf8)])
                let recorded = try await store.recordedEventIDs(
                    provider: "credicorp",
                    among: [Self.composed, Self.decomposed],
                    occurred: nil
                )
                #expect(recorded == [ExactID(Self.composed), ExactID(Self.decomposed)], "both are recorded now")
            }
        }
    }

    static func dropped(_ id: String) -> Finding {
        Finding(
            kind: .droppedEvent,
            provider: "credicorp",
            resourceType: "payment",
            resourceID: "pay_1",
            eventID: id,
            details: [:]
        )
    }

    /// What a run does with finding keys keeps the two spellings apart: the repaired one alone is
    /// marked, one resolved is not hidden by the other, and they sort the same way in every order.
    @Test func findingsOfTwoSpellingsStayTwoFindings() throws {
        let composed = Self.dropped(Self.composed)
        let decomposed = Self.dropped(Self.decomposed)
        #expect(composed.key == decomposed.key, "Swift's String equality: canonical equivalence")
        #expect(!Array(composed.key.utf8).elementsEqual(Array(decomposed.key.utf8)))

        let marked = JobRunner.marking([composed, decomposed], repaired: [ExactID(decomposed.key)])
        #expect(marked.map(\.repaired) == [false, true])

        let previous = [composed, decomposed].map { finding in
            ReportedFinding(
                id: Finding.id(ofKey: finding.key),
                key: finding.key,
                kind: finding.kind.rawValue,
                provider: finding.provider,
                resourceType: finding.resourceType,
                resourceID: finding.resourceID,
                eventID: finding.eventID
            )
        }
        let resolved = JobRunner.resolved(previous: previous, current: [decomposed], completeProviders: ["credicorp"])
        #expect(resolved.map { Array(($0.eventID ?? "").utf8) } == [Array(Self.composed.utf8)])

        // The decomposed spelling's "e" (0x65) comes before the composed "é" (0xC3 0xA9), as in the stores.
        #expect(Finding.reportOrder(decomposed, composed))
        #expect(!Finding.reportOrder(composed, decomposed))
        for order in [[composed, decomposed], [decomposed, composed]] {
            let sorted = order.sorted(by: Finding.reportOrder)
            #expect(
                sorted.map { Array(($0.eventID ?? "").utf8) }
                    == [Self.decomposed, Self.composed].map { Array($0.utf8) }
            )
        }
    }

    /// A finding's history across runs is kept per exact key: two spellings are two histories.
    @Test func historiesOfTwoSpellingsAreTwoHistories() {
        let run = FindingHistory.StoredRun(
            id: "run-1",
            command: "run",
            window: "w",
            status: "complete",
            dryRun: false,
            now: Hostile.until
        )
        let rows = [Self.composed, Self.decomposed].map { id in
            let finding = Self.dropped(id)
            return FindingHistory.Stored(
                key: finding.key,
                kind: finding.kind.rawValue,
                provider: finding.provider,
                resourceType: finding.resourceType,
                resourceID: finding.resourceID,
                eventID: finding.eventID,
                deliveryID: nil,
                isNew: true,
                repaired: false,
                details: "{}",
                run: run
            )
        }
        let histories = FindingHistory.histories(rows, job: "nightly", runsNewestFirst: [run], providers: ["credicorp"])
        #expect(
            histories.map { Array(($0.eventID ?? "").utf8) } == [Self.composed, Self.decomposed].map { Array($0.utf8) }
        )
        #expect(histories.map(\.occurrences.count) == [1, 1])
        #expect(Set(histories.map(\.id)).count == 2)
    }

    /// What the stores answer by finding key keeps the two spellings apart: both repairs are
    /// returned as applied, and only the one reported before has a first report.
    @Test(arguments: TestStore.engines)
    func repairedAndFirstReportedKeysOfTwoSpellingsAreTwo(engine: TestStore) async throws {
        try await engine.with { store in
            try await StoreContractTests.beginRepairRun(store, id: "r1")
            let events = [Self.composed, Self.decomposed].map { id in
                ChunkedReconcileTests.event(id, resource: "pay_1", at: 1, status: "succeeded", amount: 1_050)
            }
            let repaired = try await store.applyRepairs(
                try await StoreContractTests.plan(events: events, resources: []),
                provider: "credicorp",
                runID: "r1",
                at: StoreContractTests.start
            )
            #expect(repaired == [ExactID("drop-" + Self.composed), ExactID("drop-" + Self.decomposed)])
            #expect(repaired.count == 2)

            let reported = Self.dropped(Self.composed)
            try await store.finishRun(
                id: "r1",
                status: "complete",
                exitStatus: 1,
                finishedAt: StoreContractTests.start,
                entries: [],
                findings: [reported],
                report: Array(#"{"run":"r1"}"#.utf8)
            )
            let later = StoreContractTests.start.addingTimeInterval(60)
            _ = try await store.beginRun(
                id: "r2",
                job: "nightly",
                command: "run",
                round: nil,
                startedAt: later,
                now: later,
                since: later,
                until: later,
                dryRun: false
            )
            let keys = [Self.composed, Self.decomposed].map { Self.dropped($0).key }
            let first = try await store.firstReported(job: "nightly", keys: keys, excludingRun: "r2")
            #expect(Array(first.keys) == [ExactID(reported.key)], "the other spelling was never reported")
        }
    }

    /// Each provider's by-id answers, for an object whose id is the other spelling of `pay_café`.
    static let otherSpelling: [(ProviderKind, String, String)] = [
        (
            .credicorp, "payment",
            #"{"id":"pay_cafe\#u{301}","object":"payment","amount":1050,"currency":"GBP","status":"succeeded","#
                + #""created":"2026-07-05T09:00:00Z","updated":"2026-07-05T10:00:00Z"}"#
        ),
        (
            .crezco, "payable",
            #"{"id":"pay_cafe\#u{301}","status":"Paid","updatedAt":"2026-07-05T10:00:00.000Z","amount":500,"currency":"GBP"}"#
        ),
        (
            .credify, "bnpl_order",
            #"{"id":"pay_cafe\#u{301}","status":"PAID","amount":100,"currency":"USD","updated_at":"2026-07-05T10:00:00Z"}"#
        ),
    ]

    /// A provider that answers a read by id with the object of the other spelling answered for
    /// another resource: garbage, never that resource's state taken (and repaired) for ours.
    @Test(arguments: otherSpelling)
    func anAnswerByIDForTheOtherSpellingIsNotTheRequestedObject(kind: ProviderKind, type: String, body: String)
        async throws
    {
        try await Server.with({ _ in [Server.answer(200, body: body)] }) { server in
            let error = await Hostile.failure(provider: kind.rawValue) {
                _ = try await Hostile.reader(kind, server.baseURL).resource(type: type, id: "pay_caf\u{E9}")
            }
            #expect(error?.description.contains("not the requested \(type)") == true, "\(String(describing: error))")
        }
    }

    /// The same for Credicorp's event by id: the other spelling's event is not the one asked for.
    @Test func anEventByIDForTheOtherSpellingIsNotTheRequestedEvent() async throws {
        let payment =
            #"{"id":"pay_1","object":"payment","amount":5,"currency":"GBP","status":"succeeded","#
            + #""created":"2026-07-05T09:00:00Z","updated":"2026-07-05T10:00:00Z"}"#
        let event =
            #"{"id":"\#(Self.decomposed)","object":"event","type":"payment.succeeded","#
            + #""created":"2026-07-05T10:00:00Z","data":{"object":\#(payment)}}"#
        try await Server.with({ _ in [Server.answer(200, body: event)] }) { server in
            let error = await Hostile.failure {
                _ = try await Hostile.reader(.credicorp, server.baseURL).event(id: Self.composed)
            }
            #expect(error?.description.contains("not the requested event") == true, "\(String(describing: error))")
        }
    }

    /// Crezco key ids of two spellings are two keys: one the provider does not know (404, kept for
    /// this ingest) does not make the other, which it publishes, unknown too.
    @Test func aKeyIdUnknownToTheProviderLeavesItsOtherSpellingKnown() async throws {
        let pem = P256.Signing.PrivateKey().publicKey.pemRepresentation
        let published = JSONValue.object(["keyId": .string("key_e\u{301}"), "publicKey": .string(pem)]).exactText
        try await Server.with({ target in
            target.contains("key_e%CC%81")
                ? [Server.answer(200, body: published)]
                : [Server.answer(404, body: #"{"error":"not found"}"#)]
        }) { server in
            try await TestStore.sqlite.with { store in
                var config = Fixture.crezcoConfig(baseURL: server.baseURL, apiKey: Hostile.apiKey)
                config.apiKey = Secret(variable: "KEY", value: Hostile.apiKey)
                let adapter = ProviderRegistry.adapter(for: config, http: Hostile.quick())
                var quiet = Logger(label: "test")
                quiet.logLevel = .critical
                let ring = PublicKeyRing(store: store, logger: quiet, now: Hostile.until)
                #expect(try await ring.key("key_\u{E9}", for: adapter) == nil)
                let key = try await ring.key("key_e\u{301}", for: adapter)
                #expect(key?.publicKey == pem)
            }
        }
    }

    /// Metrics of lines from two unknown providers whose names are two spellings: two series.
    @Test func deliveriesOfTwoSpellingsOfAProviderAreTwoSeries() {
        let snapshot = PrometheusMetrics.Snapshot(
            job: "nightly",
            report: ReportJSONTests.emptyReport,
            exitStatus: 0,
            startedAt: Hostile.until,
            finishedAt: Hostile.until,
            lastSuccess: nil,
            deliveries: [
                DeliveryCount(provider: "caf\u{E9}", verdict: "rejected", count: 2),
                DeliveryCount(provider: "cafe\u{301}", verdict: "rejected", count: 3),
            ]
        )
        let lines = PrometheusMetrics.render(snapshot).split(separator: "\n").filter {
            $0.hasPrefix("reconcile_deliveries_stored{")
        }
        #expect(lines.count == 2, "\(lines)")
        // In byte order: "e" + U+0301 before "é".
        #expect(lines.map { $0.split(separator: " ").last } == ["3", "2"])
    }

    /// A job's provider `Kcorp` and a line naming `\u{212A}corp` (KELVIN SIGN, which Swift's
    /// `String` takes for "K"): the line names no entry of the job, and is never verified, applied
    /// or stored as `Kcorp`'s.
    @Test func aProviderNameSpelledWithAKelvinSignIsNotTheJobsEntry() async throws {
        #expect("\u{212A}corp" == "Kcorp", "Swift's String equality: canonical equivalence")
        try await TestStore.sqlite.with { store in
            var config = Fixture.credicorpConfig()
            config.name = "Kcorp"
            func line(_ id: String, payment: String, provider: String) -> String {
                let body = Fixture.paymentEvent(
                    id: id,
                    payment: payment,
                    status: "succeeded",
                    created: "2026-07-04T09:15:22Z"
                )
                return Fixture.captureLine(id: id, body: body, receivedAt: "2026-07-04T09:15:25Z")
                    .replacingOccurrences(of: #""credicorp""#, with: "\"\(provider)\"")
            }
            let summary = try await IngestorTests().ingest(
                [
                    line("evt_1", payment: "pay_1", provider: "Kcorp"),
                    line("evt_2", payment: "pay_2", provider: "\u{212A}corp"),
                ],
                store: store,
                config: config
            )
            #expect(summary.accepted == 1)
            #expect(summary.rejections.map(\.reason) == [.unknownProvider])
            let recorded = try await store.recordedEventIDs(
                provider: "Kcorp",
                among: ["evt_1", "evt_2"],
                occurred: nil
            )
            #expect(recorded == [ExactID("evt_1")])
        }
    }

    /// `ByteOrder` orders and compares as the UTF-8 bytes do, whatever the text: ASCII, accents in
    /// either spelling, other scripts, long (heap) and short (inline) strings, empty ones.
    @Test func byteOrderIsTheOrderOfTheBytes() {
        var random = SplitMix64(seed: 20_261_207)
        let pieces = [
            "", "a", "b", "K", "\u{212A}", "e", "\u{E9}", "e\u{301}", "\u{301}", "z", "\u{1F4B8}", "日本", "\u{0}",
        ]
        var texts: [String] = []
        for _ in 0..<400 {
            var text = ""
            for _ in 0..<Int(random.next() % 8) { text += pieces[Int(random.next() % UInt64(pieces.count))] }
            if random.next() % 4 == 0 { text += String(repeating: "x", count: 20) }
            texts.append(text)
        }
        for (left, right) in zip(texts, texts.shuffled(using: &random)) {
            let expected =
                left.utf8.elementsEqual(right.utf8) ? 0 : left.utf8.lexicographicallyPrecedes(right.utf8) ? -1 : 1
            #expect(ByteOrder.compare(left, right).signum() == expected, "\(Array(left.utf8)) \(Array(right.utf8))")
            #expect(ByteOrder.equal(left, right) == (expected == 0))
            #expect(ByteOrder.precedes(left, right) == (expected < 0))
        }
    }

    /// A Credicorp line signed for `webhook-id` `evt_café` whose body is the event of the other
    /// spelling: the header does not name the body's event, so the line is malformed.
    @Test func aWebhookIdOfTheOtherSpellingDoesNotNameTheBodysEvent() async throws {
        let body = Fixture.paymentEvent(
            id: Self.decomposed,
            payment: "pay_1",
            status: "succeeded",
            created: "2026-07-04T09:15:22Z"
        )
        try await TestStore.sqlite.with { store in
            let ring = PublicKeyRing(store: store, logger: Logger(label: "test"))
            let adapter = CredicorpAdapter(config: Fixture.credicorpConfig())
            let other = try await ProviderSignatureTests.verdict(
                adapter,
                line: Fixture.captureLine(id: Self.composed, body: body, receivedAt: "2026-07-04T09:15:25Z"),
                ring: ring
            )
            #expect(other.reason == "malformed")
            let same = try await ProviderSignatureTests.verdict(
                adapter,
                line: Fixture.captureLine(id: Self.decomposed, body: body, receivedAt: "2026-07-04T09:15:25Z"),
                ring: ring
            )
            #expect(same.reason == nil)
        }
    }

    /// Crezco answering a key id with the key of the other spelling: not the key asked for.
    @Test func aCrezcoKeyAnsweredForTheOtherSpellingIsGarbage() async throws {
        let pem = P256.Signing.PrivateKey().publicKey.pemRepresentation
        let answer = JSONValue.object(["keyId": .string("key_e\u{301}"), "publicKey": .string(pem)]).exactText
        try await Server.with({ _ in [Server.answer(200, body: answer)] }) { server in
            let error = await Hostile.failure(provider: "crezco") {
                _ = try await Hostile.reader(.crezco, server.baseURL).publicKey(id: "key_\u{E9}")
            }
            #expect(error?.description.contains("for the requested key id") == true, "\(String(describing: error))")
        }
    }

    /// An id holding a NUL is the provider's garbage: SQLite's text would end at the NUL, making
    /// two such ids one in the temporary file or a store, and two in memory.
    @Test func anIdHoldingANulIsNotAnId() throws {
        func envelope(_ eventID: String, _ objectID: String) throws -> JSONValue {
            let text = """
                {"id": "\(eventID)", "type": "payment.updated", "created": "2026-07-04T09:15:22Z",
                 "data": {"object": {"id": "\(objectID)", "object": "payment", "status": "settled",
                 "updated": "2026-07-04T09:15:22Z", "amount": 1050, "currency": "gbp"}}}
                """
            return try #require(JSONValue.parse(Data(text.utf8)))
        }
        #expect(CredicorpEventMapping.event(try envelope("evt_1", "pay_1")) != nil, "the same event without one")
        #expect(CredicorpEventMapping.event(try envelope("evt_1\\u0000a", "pay_1")) == nil)
        #expect(CredicorpEventMapping.event(try envelope("evt_1", "pay_1\\u0000a")) == nil)
        let object = try #require(try envelope("evt_1", "pay_1\\u0000a")["data"]?["object"])
        #expect(CredicorpEventMapping.snapshot(object: object, expectedType: "payment") == nil)
        // Credify's webhook names its order in the body.
        func credify(_ orderID: String) throws -> ProviderEvent? {
            let body = #"{"type": "BNPL_ORDER_STATUS_UPDATED", "order_id": "\#(orderID)", "order_status": "APPROVED"}"#
            return CredifyEventMapping.event(
                body: try #require(JSONValue.parse(Data(body.utf8))),
                eventID: "evt_1",
                timestamp: Self.occurred
            )
        }
        #expect(try credify("ord_1") != nil, "the same event without one")
        #expect(try credify("ord_1\\u0000a") == nil)
    }
}
