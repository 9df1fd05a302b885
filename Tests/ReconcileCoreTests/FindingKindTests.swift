import Foundation
import Logging
import ReconcileSandbox
import Testing

@testable import ReconcileCore

/// Each finding kind from a small hand-built Credicorp history, reconciled in-process against the
/// sandbox on loopback with a real store.
///
/// One resource per situation, so each test can state exactly which findings must, and must not, appear.
@Suite struct FindingKindTests {
    static let now = ReconcileCore.RFC3339.parse("2026-07-10T08:00:00Z") ?? Date()
    static let since = now.addingTimeInterval(-8 * 86_400)
    static let hour: TimeInterval = 3600
    static let secret = Fixture.secret

    /// The world and what was delivered of it.
    struct History {
        var world = CredicorpWorld(
            apiKey: "sk_test_handbuilt",
            endpoint: CredicorpEndpoint(
                id: "whend_hand",
                url: "https://hooks.example.com/credicorp",
                enabledEvents: ["payment.*", "enquiry.created"],
                created: FindingKindTests.now.addingTimeInterval(-60 * 86_400)
            )
        )
        var lines: [String] = []
        /// Local rows the application wrote itself.
        var applicationRows: [LocalResource] = []

        mutating func payment(_ id: String, _ status: String, at offset: TimeInterval, event: String) -> CredicorpEvent
        {
            let time = FindingKindTests.now.addingTimeInterval(offset)
            let object = CredicorpObject.payment(
                id: id,
                amount: 4_200,
                currency: "EUR",
                decision: "dec_1",
                status: status,
                created: FindingKindTests.now.addingTimeInterval(-9 * 86_400),
                updated: time
            )
            return world.record(
                eventID: event,
                type: "payment.\(status == "pending" ? "created" : status)",
                object: object
            )
        }

        mutating func deliver(_ event: CredicorpEvent, after delay: TimeInterval = 2, tamper: Bool = false) {
            lines.append(
                CredicorpCapture.line(
                    event: event,
                    receivedAt: event.created.addingTimeInterval(delay),
                    secrets: [FindingKindTests.secret],
                    sentBody: tamper ? event.body.replacingOccurrences(of: "4200", with: "9900") : nil
                )
            )
        }
    }

    static func handBuilt() -> History {
        var history = History()
        // pay_drop: its newest event is older than the retry window and never arrived.
        history.deliver(history.payment("pay_drop", "pending", at: -5 * 86_400, event: "evt_drop_1"))
        _ = history.payment("pay_drop", "succeeded", at: -4 * 86_400, event: "evt_drop_2")
        // pay_pend: its newest event is two hours old and has not arrived yet.
        history.deliver(history.payment("pay_pend", "pending", at: -10 * hour, event: "evt_pend_1"))
        _ = history.payment("pay_pend", "succeeded", at: -2 * hour, event: "evt_pend_2")
        // pay_ooo: the newer event arrives first, the older one an hour later.
        let first = history.payment("pay_ooo", "pending", at: -3 * 86_400, event: "evt_ooo_1")
        let second = history.payment("pay_ooo", "failed", at: -3 * 86_400 + 60, event: "evt_ooo_2")
        history.deliver(second)
        history.deliver(first, after: hour)
        // pay_dup: delivered twice with a valid signature, once tampered (which does not count).
        let dup = history.payment("pay_dup", "succeeded", at: -2 * 86_400, event: "evt_dup")
        history.deliver(dup)
        history.deliver(dup, after: 600)
        history.deliver(dup, after: 700, tamper: true)
        // pay_edge: one copy before the window and one inside it: reported.
        let edge = history.payment("pay_edge", "succeeded", at: -8 * 86_400 - 2 * hour, event: "evt_edge")
        history.deliver(edge)
        history.deliver(edge, after: 3 * hour)
        // pay_old: both copies before the window: not reported.
        let old = history.payment("pay_old", "succeeded", at: -9 * 86_400, event: "evt_old")
        history.deliver(old)
        history.deliver(old, after: 60)
        // pay_lost: every event of it was dropped.
        _ = history.payment("pay_lost", "succeeded", at: -6 * 86_400, event: "evt_lost")
        // pay_ghost: a validly signed event for a payment the provider does not know.
        let ghost = history.payment("pay_ghost", "succeeded", at: -1 * 86_400, event: "evt_ghost")
        history.world.removeObject(id: "pay_ghost")
        history.deliver(ghost)
        // pay_local: a row the application wrote for a payment the provider does not know.
        history.applicationRows.append(
            LocalResource(
                resourceType: "payment",
                resourceID: "pay_local",
                status: "pending",
                asOf: now.addingTimeInterval(-3 * hour),
                object: .object(["id": "pay_local"]),
                money: Money(minorUnits: 777, currency: "GBP")
            )
        )
        // pay_ahead: our row moved on (an ingest after the provider was read): reported, never moved back.
        history.deliver(history.payment("pay_ahead", "pending", at: -2 * 86_400, event: "evt_ahead"))
        history.applicationRows.append(
            LocalResource(
                resourceType: "payment",
                resourceID: "pay_ahead",
                status: "refunded",
                asOf: now.addingTimeInterval(-3600),
                object: .object(["id": "pay_ahead"]),
                money: Money(minorUnits: 4_200, currency: "EUR")
            )
        )
        // enq_quiet: an unsubscribed `enquiry.updated` that never arrived is not missing.
        let enquiry = CredicorpObject.enquiry(
            id: "enq_quiet",
            form: "f",
            dept: "d",
            status: "new",
            created: now.addingTimeInterval(-5 * 86_400),
            updated: now.addingTimeInterval(-5 * 86_400)
        )
        history.deliver(history.world.record(eventID: "evt_enq_1", type: "enquiry.created", object: enquiry))
        history.world.record(
            eventID: "evt_enq_2",
            type: "enquiry.updated",
            object: enquiry.with(status: "in_progress", updated: now.addingTimeInterval(-4 * 86_400))
        )
        return history
    }

    /// Ingests the history, runs the job once over `[now - 8d, now)` and returns the report's findings.
    static func reconcile(
        _ history: History,
        endpointStatus: String = "enabled",
        inspect: (Store) throws -> Void = { _ in }
    ) async throws -> [Finding] {
        var world = SandboxWorld(now: now, credicorp: history.world)
        world.credicorp.endpoint.status = endpointStatus
        let server = try await SandboxServer.start(world: world, logger: Logger(label: "sandbox"))
        do {
            let findings = try await withTemporaryDirectory { folder in
                let storePath = folder.appendingPathComponent("r.sqlite").path
                var config = Fixture.credicorpConfig(baseURL: server.baseURL(for: "credicorp"))
                config.apiKey = Secret(variable: "KEY", value: history.world.apiKey)
                config.endpointID = history.world.endpoint.id
                let job = Fixture.job(store: storePath, providers: [config])
                let store = try Store(path: storePath)
                try store.write("application rows") { db in
                    for row in history.applicationRows {
                        try store.saveResource(row, provider: "credicorp", updatedBy: "application", now: "x", db: db)
                    }
                }
                let capture = folder.appendingPathComponent("capture.ndjson")
                try Data(history.lines.map { $0 + "\n" }.joined().utf8).write(to: capture)
                let ingestor = Ingestor(
                    job: job,
                    adapters: ["credicorp": CredicorpAdapter(config: config)],
                    store: store,
                    clock: JobClock(now: now),
                    logger: Logger(label: "test")
                )
                var summary = IngestSummary()
                try await ingestor.ingest(
                    handle: try FileHandle(forReadingFrom: capture),
                    source: "capture.ndjson",
                    into: &summary
                )
                let outcome = try await JobRunner(job: job, clock: JobClock(now: now), logger: Logger(label: "test"))
                    .run(RunOptions())
                try inspect(store)
                return outcome.report.findings
            }
            await server.shutdown()
            return findings
        } catch {
            await server.shutdown()
            throw error
        }
    }

    static func ids(_ findings: [Finding], _ kind: FindingKind, _ path: KeyPath<Finding, String?>) -> Set<String> {
        Set(findings.filter { $0.kind == kind }.compactMap { $0[keyPath: path] })
    }

    @Test func droppedAndPendingEventsAreSplitByTheRetryWindow() async throws {
        let findings = try await Self.reconcile(Self.handBuilt())
        #expect(Self.ids(findings, .droppedEvent, \.eventID) == ["evt_drop_2", "evt_lost"])
        #expect(Self.ids(findings, .pendingEvent, \.eventID) == ["evt_pend_2"])
        let dropped = try #require(findings.first { $0.eventID == "evt_drop_2" })
        #expect(dropped.details["amount"] == .integer(4_200))
        #expect(dropped.details["currency"] == "EUR")
        #expect(dropped.repaired)
        let pending = try #require(findings.first { $0.eventID == "evt_pend_2" })
        #expect(!pending.repaired, "a pending event may still arrive: it is not recorded")
    }

    @Test func stateMismatchNamesTheCauseAndMissingLocallyTheLostResource() async throws {
        var ahead: String?
        let findings = try await Self.reconcile(Self.handBuilt()) { store in
            ahead = try store.resource(provider: "credicorp", type: "payment", id: "pay_ahead")?.status
        }
        #expect(ahead == "refunded")
        let mismatches = Dictionary(
            findings.filter { $0.kind == .stateMismatch }.map { ($0.resourceID ?? "", $0) },
            uniquingKeysWith: { a, _ in a }
        )
        #expect(Set(mismatches.keys) == ["pay_drop", "pay_pend", "enq_quiet", "pay_ahead"])
        #expect(mismatches["pay_ahead"]?.details["local_is_newer"] == .bool(true))
        #expect(
            mismatches["pay_ahead"]?.repaired == false,
            "a newer row is never moved back to the provider's older state"
        )
        #expect(mismatches["enq_quiet"]?.details["cause"] == "unknown", "only an unsubscribed event changed it")
        #expect(mismatches["pay_drop"]?.details["cause"] == "dropped_event")
        #expect(mismatches["pay_pend"]?.details["cause"] == "pending_event")
        #expect(mismatches["pay_drop"]?.details["local"] == "pending")
        #expect(mismatches["pay_drop"]?.details["remote"] == "succeeded")
        #expect(Self.ids(findings, .missingLocally, \.resourceID) == ["pay_lost"])
    }

    @Test func outOfOrderIsTheOlderEventReceivedAfterTheNewer() async throws {
        let findings = try await Self.reconcile(Self.handBuilt())
        #expect(Self.ids(findings, .outOfOrder, \.eventID) == ["evt_ooo_1"])
        #expect(!findings.contains { $0.kind == .stateMismatch && $0.resourceID == "pay_ooo" })
    }

    @Test func duplicatesCountValidCopiesAndNeedOneCopyInTheWindow() async throws {
        let findings = try await Self.reconcile(Self.handBuilt())
        #expect(Self.ids(findings, .duplicateDelivery, \.eventID) == ["evt_dup", "evt_edge"])
        let dup = try #require(findings.first { $0.kind == .duplicateDelivery && $0.eventID == "evt_dup" })
        #expect(dup.details["deliveries"] == .integer(2), "the tampered copy does not count")
        #expect(Self.ids(findings, .invalidSignature, \.eventID) == ["evt_dup"])
    }

    @Test func unknownToProviderComesFromA404ForAnEventOrALocalRow() async throws {
        let findings = try await Self.reconcile(Self.handBuilt())
        let unknown = findings.filter { $0.kind == .unknownToProvider }
        #expect(Set(unknown.compactMap(\.resourceID)) == ["pay_ghost", "pay_local"])
        #expect(unknown.first { $0.resourceID == "pay_ghost" }?.eventID == "evt_ghost")
        #expect(unknown.first { $0.resourceID == "pay_local" }?.details["source"] == "local_state")
        #expect(unknown.first { $0.resourceID == "pay_local" }?.details["amount"] == .integer(777))
    }

    @Test func unsubscribedEventsAreNeverMissingAndAnEnabledEndpointIsNoFinding() async throws {
        let findings = try await Self.reconcile(Self.handBuilt())
        #expect(!findings.contains { $0.eventID == "evt_enq_2" })
        #expect(!findings.contains { $0.kind == .endpointDisabled })
        let disabled = try await Self.reconcile(Self.handBuilt(), endpointStatus: "disabled")
        let endpoint = disabled.filter { $0.kind == .endpointDisabled }
        #expect(endpoint.map(\.resourceID) == ["whend_hand"])
        #expect(endpoint.map(\.resourceType) == ["webhook_endpoint"])
    }
}
