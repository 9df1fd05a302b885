import Crypto
import Foundation
import Testing

@testable import ReconcileSandbox

@Suite struct SandboxHistoryTests {
    let history = SandboxHistory.credicorp(seed: 42, now: fixtureNow)

    @Test func sameSeedGivesTheSameCaptureByteForByte() {
        let again = SandboxHistory.credicorp(seed: 42, now: fixtureNow)
        #expect(again.captureNDJSON == history.captureNDJSON)
        #expect(again.expectedFindings == history.expectedFindings)
        #expect(again.currentSecret == history.currentSecret)
        let other = SandboxHistory.credicorp(seed: 43, now: fixtureNow)
        #expect(other.captureNDJSON != history.captureNDJSON)
    }

    @Test func oracleCoversEveryFindingKind() {
        let kinds = Set(history.expectedFindings.map(\.kind))
        #expect(kinds == Set(SandboxExpectedFinding.Kind.allCases))
        let causes = Set(history.expectedFindings.compactMap(\.cause))
        #expect(causes == ["dropped_event", "pending_event", "unknown"])
        let reasons = history.expectedFindings.compactMap(\.reason).sorted()
        #expect(reasons == ["bad_signature", "bad_signature", "malformed", "missing_signature", "stale_timestamp"])
        let duplicates = history.expectedFindings.filter { $0.kind == .duplicateDelivery }
        #expect(duplicates.map(\.deliveries) == [2])
    }

    @Test(arguments: [1, 7, 42, 9_001] as [UInt64])
    func everySeedCoversEveryKind(seed: UInt64) {
        let generated = SandboxHistory.credicorp(seed: seed, now: fixtureNow)
        #expect(Set(generated.expectedFindings.map(\.kind)) == Set(SandboxExpectedFinding.Kind.allCases))
        #expect(generated.deliveries.count > 50)
    }

    /// The benchmark's many-events world: each enquiry gets that many more events, delivered; with
    /// none, the bulk world is the one the tests and earlier figures used.
    @Test func bulkProgressUpdatesAddDeliveredEventsAndNothingElse() {
        let now = Date(timeIntervalSince1970: 1_783_670_400)
        let plain = SandboxHistory.credicorpBulk(seed: 5, now: now, chains: 40)
        let none = SandboxHistory.credicorpBulk(seed: 5, now: now, chains: 40, progressUpdates: 0)
        #expect(plain.deliveries == none.deliveries)
        let busy = SandboxHistory.credicorpBulk(seed: 5, now: now, chains: 40, progressUpdates: 3)
        let enquiries = plain.world.credicorp.eventsByID.values.filter { $0.type == "enquiry.created" }.count
        let updates = busy.world.credicorp.eventsByID.values.filter { $0.type == "enquiry.updated" }
        #expect(enquiries == 40)
        #expect(updates.count == 3 * 40)
        #expect(plain.world.credicorp.eventsByID.values.allSatisfy { $0.type != "enquiry.updated" })
        let delivered = Set(busy.deliveries.compactMap { $0.event?.id })
        #expect(updates.allSatisfy { delivered.contains($0.id) })
        #expect(busy.world.credicorp.eventsByID.values.filter { $0.type == "enquiry.created" }.count == 40)
    }

    @Test func enabledEndpointIsAnOption() {
        let enabled = SandboxHistory.credicorp(seed: 42, now: fixtureNow, endpointDisabled: false)
        #expect(!enabled.expectedFindings.contains { $0.kind == .endpointDisabled })
        #expect(enabled.world.credicorp.endpoint.status == "enabled")
    }

    @Test func droppedAndPendingFollowTheRetryWindow() throws {
        let expired = fixtureNow.addingTimeInterval(-history.retryWindow)
        for finding in history.expectedFindings where [.droppedEvent, .pendingEvent].contains(finding.kind) {
            let id = try #require(finding.eventID)
            let event = try #require(history.world.credicorp.eventsByID[id])
            #expect(history.world.credicorp.endpoint.subscribes(to: event.type))
            #expect((event.created < expired) == (finding.kind == .droppedEvent))
            #expect(!history.deliveries.contains { $0.event?.id == id })
        }
    }

    @Test func unsubscribedEventsExistButAreNeverDeliveredNorExpected() {
        let updates = history.world.credicorp.allEvents.filter { $0.type == "enquiry.updated" }
        #expect(!updates.isEmpty)
        let delivered = Set(history.deliveries.compactMap { $0.event?.id })
        let expected = Set(history.expectedFindings.compactMap(\.eventID))
        for event in updates {
            #expect(!delivered.contains(event.id))
            #expect(!expected.contains(event.id))
        }
    }

    @Test func captureLinesVerifyExactlyAsTheOracleSays() throws {
        let secrets = [history.currentSecret, history.previousSecret]
        for delivery in history.deliveries {
            let verdict = CaptureCheck.verdict(of: delivery.line, secrets: secrets)
            #expect(verdict == (delivery.rejection ?? "valid"), "\(delivery.line.prefix(160))")
        }
    }

    @Test func deliveriesAreSignedWithTheSecretsValidAtReceipt() throws {
        let overlapEnd = history.rotatedAt.addingTimeInterval(86_400)
        var seen: Set<Int> = []
        for delivery in history.deliveries where delivery.rejection == nil {
            let line = try CaptureCheck.parse(delivery.line)
            let receivedAt = try #require(delivery.receivedAt)
            let signatures = line.signature.split(separator: " ").map(String.init)
            let expected: [String] =
                receivedAt < history.rotatedAt
                ? [history.previousSecret]
                : receivedAt < overlapEnd ? [history.currentSecret, history.previousSecret] : [history.currentSecret]
            let signed = expected.map {
                SandboxHistory.signStandardWebhooks(id: line.id, timestamp: line.timestamp, body: line.body, secret: $0)
            }
            #expect(signatures == signed)
            seen.insert(signatures.count * (receivedAt < history.rotatedAt ? 1 : 10))
        }
        #expect(seen == [1, 20, 10])
    }

    @Test func handBuiltLateDeliveryVerifiesAndSecretsStayOutOfDescriptions() throws {
        let dropped = try #require(history.expectedFindings.first { $0.kind == .droppedEvent }?.eventID)
        let event = try #require(history.world.credicorp.eventsByID[dropped])
        let line = history.captureLine(for: event, receivedAt: fixtureNow.addingTimeInterval(-30))
        #expect(CaptureCheck.verdict(of: line, secrets: [history.currentSecret]) == "valid")
        let described = "\(history) \(history.world)"
        #expect(!described.contains(history.currentSecret))
        #expect(!described.contains(history.previousSecret))
        #expect(!described.contains(history.apiKey))
    }

    @Test func captureLinesAreInReceiptOrderAndBeforeNow() {
        let times = history.deliveries.compactMap(\.receivedAt)
        #expect(times == times.sorted())
        #expect(times.allSatisfy { $0 < fixtureNow && $0 > fixtureNow.addingTimeInterval(-11 * 86_400) })
    }

    @Test func liveServerAgreesWithTheOracle() async throws {
        let history = self.history
        try await withSandbox(history.world) { server, _ in
            let live = SandboxClient(base: server.baseURL(for: "credicorp"), key: history.apiKey)
            let endpoint = try await live.get("/partner/v1/webhook_endpoints/\(history.endpointID)")
            #expect(endpoint.json?["status"] as? String == "disabled")
            for finding in history.expectedFindings where finding.kind == .unknownToProvider {
                let id = try #require(finding.eventID)
                #expect(try await live.get("/public/v1/events/\(id)").status == 404)
            }
            for finding in history.expectedFindings where finding.kind == .missingLocally {
                let id = try #require(finding.resourceID)
                let collection = try #require(CredicorpObject.Kind(rawValue: finding.resourceType ?? ""))
                #expect(try await live.get("/public/v1/\(collection.collection)/\(id)").status == 200)
            }
            let (ids, _) = try await live.all("/public/v1/events", limit: 100)
            #expect(ids.count == history.world.credicorp.retainedEvents(now: fixtureNow).count)
        }
    }
}
