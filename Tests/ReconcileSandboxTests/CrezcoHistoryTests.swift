import Crypto
import Foundation
import Testing

@testable import ReconcileSandbox

@Suite struct CrezcoHistoryTests {
    let history = SandboxHistory.crezco(seed: 42, now: fixtureNow)

    var publicKeys: [String: String] { history.world.crezco.publicKeys }

    @Test func sameSeedGivesTheSameHistoryButForSignatureValues() {
        let again = SandboxHistory.crezco(seed: 42, now: fixtureNow)
        #expect(
            again.captureLines.map(ProviderCaptureCheck.withoutCrezcoSignature)
                == history.captureLines.map(ProviderCaptureCheck.withoutCrezcoSignature)
        )
        #expect(again.expectedFindings == history.expectedFindings)
        #expect(again.world.crezco.publicKeys == history.world.crezco.publicKeys)
        #expect(again.apiKey == history.apiKey)
        let other = SandboxHistory.crezco(seed: 43, now: fixtureNow)
        #expect(
            other.captureLines.map(ProviderCaptureCheck.withoutCrezcoSignature)
                != history.captureLines.map(ProviderCaptureCheck.withoutCrezcoSignature)
        )
    }

    @Test(arguments: [1, 7, 42, 9_001] as [UInt64])
    func everySeedCoversEveryCrezcoKind(seed: UInt64) {
        let generated = SandboxHistory.crezco(seed: seed, now: fixtureNow)
        let expected = Set(SandboxExpectedFinding.Kind.allCases).subtracting([.endpointDisabled])
        #expect(Set(generated.expectedFindings.map(\.kind)) == expected)
        let reasons = generated.expectedFindings.compactMap(\.reason).sorted()
        #expect(reasons == ["bad_signature", "malformed", "missing_signature", "stale_timestamp", "unknown_key_id"])
        #expect(generated.deliveries.count > 50)
    }

    @Test func oracleNamesTheScenarios() throws {
        let findings = history.expectedFindings
        #expect(findings.allSatisfy { $0.provider == "crezco" })
        #expect(Set(findings.compactMap(\.resourceType)).isSubset(of: Set(CrezcoObject.Kind.allCases.map(\.rawValue))))
        let mismatches = findings.filter { $0.kind == .stateMismatch }
        #expect(Set(mismatches.compactMap(\.cause)) == ["dropped_event", "pending_event"])
        let missing = findings.filter { $0.kind == .missingLocally }
        let missingKinds = Set(missing.map { "\($0.resourceType ?? "") \($0.cause ?? "")" })
        #expect(missingKinds == ["payable dropped_event", "verification dropped_event", "bank_account pending_event"])
        for finding in missing where finding.resourceType != "payable" {
            #expect(!finding.windowTimes.isEmpty)
        }
        let duplicates = findings.filter { $0.kind == .duplicateDelivery }
        #expect(duplicates.count >= 3)
        #expect(duplicates.allSatisfy { $0.deliveries == 2 })
        let batchedDuplicate = history.deliveries.contains { delivery in
            delivery.rejection == nil && delivery.events.count > 1
                && delivery.events.contains { event in duplicates.contains { $0.eventID == event.id } }
        }
        #expect(batchedDuplicate)
        // A rejected batch names its first event.
        for finding in findings where finding.kind == .invalidSignature && finding.reason != "malformed" {
            let delivery = try #require(history.deliveries.first { $0.rejection == finding.reason })
            #expect(finding.eventID == delivery.events.first?.id)
            #expect(finding.resourceID == delivery.events.first?.object.id)
        }
    }

    @Test func droppedAndPendingFollowTheRetryWindow() throws {
        let expired = fixtureNow.addingTimeInterval(-history.retryWindow)
        let delivered = Set(history.deliveries.filter { $0.rejection == nil }.flatMap(\.events).map(\.id))
        for finding in history.expectedFindings where [.droppedEvent, .pendingEvent].contains(finding.kind) {
            let id = try #require(finding.eventID)
            let event = try #require(history.world.crezco.eventsByID[id])
            #expect((event.timestamp < expired) == (finding.kind == .droppedEvent))
            #expect(!delivered.contains(id))
        }
    }

    @Test func captureLinesVerifyExactlyAsTheOracleSays() {
        for delivery in history.deliveries {
            let verdict = ProviderCaptureCheck.crezcoVerdict(of: delivery.line, publicKeys: publicKeys)
            #expect(verdict == (delivery.rejection ?? "valid"), "\(delivery.line.prefix(200))")
        }
    }

    @Test func deliveriesAreBatchedSignedWithTheKeyOfTheirTimeAndFreshlyDated() throws {
        var keyIDs: Set<String> = []
        for delivery in history.deliveries where delivery.rejection == nil {
            let line = try #require(ProviderCaptureCheck.parse(delivery.line))
            let receivedAt = try #require(delivery.receivedAt)
            let keyID = try #require(line.header("Crezco-Public-Key-Id"))
            #expect(keyID == (receivedAt < history.rotatedAt ? history.previousKeyID : history.currentKeyID))
            keyIDs.insert(keyID)
            let date = try #require(line.header("Date").flatMap(HTTPDate.parse))
            #expect(date <= receivedAt && receivedAt.timeIntervalSince(date) < 5)
            #expect(line.body == CrezcoEvent.body(delivery.events))
            for event in delivery.events {
                #expect(event.timestamp <= receivedAt)
            }
        }
        #expect(keyIDs == [history.previousKeyID, history.currentKeyID])
        #expect(history.deliveries.contains { $0.events.count > 2 })
        #expect(publicKeys[history.unknownKeyID] == nil)
    }

    @Test func eventTimestampIsTheObjectsUpdatedAtWithMilliseconds() throws {
        let event = try #require(history.world.crezco.allEvents.first { $0.type == "Payable" })
        let json = event.json
        #expect(json["timestamp"]?.stringValue == RFC3339.format(event.object.updatedAt, milliseconds: true))
        #expect(json["payload"]?["amount"]?.intValue == event.object.amount)
        #expect(json["version"]?.stringValue == "2024-06-30")
        #expect(json["organisationId"]?.stringValue == event.object.organisationID)
    }

    @Test func handBuiltLateDeliveryVerifiesAndKeysStayOutOfDescriptions() throws {
        let dropped = try #require(history.expectedFindings.first { $0.kind == .droppedEvent }?.eventID)
        let event = try #require(history.world.crezco.eventsByID[dropped])
        let line = history.captureLine(for: [event], receivedAt: fixtureNow.addingTimeInterval(-30))
        #expect(ProviderCaptureCheck.crezcoVerdict(of: line, publicKeys: publicKeys) == "valid")
        let described = "\(history) \(history.world.crezco)"
        #expect(!described.contains(history.apiKey))
    }

    @Test func liveServerAgreesWithTheOracle() async throws {
        let history = self.history
        try await withSandbox(history.world) { server, _ async throws in
            let live = ProviderClient.crezco(server, key: history.apiKey)
            var served: [String: String] = [:]
            for keyID in [history.previousKeyID, history.currentKeyID] {
                served[keyID] = try #require(
                    try await live.get("/v1/webhooks/public-keys/\(keyID)").json?["publicKey"] as? String
                )
            }
            #expect(try await live.get("/v1/webhooks/public-keys/\(history.unknownKeyID)").status == 404)
            for delivery in history.deliveries {
                #expect(
                    ProviderCaptureCheck.crezcoVerdict(of: delivery.line, publicKeys: served)
                        == (delivery.rejection ?? "valid")
                )
            }
            for finding in history.expectedFindings
            where finding.kind == .unknownToProvider || finding.kind == .missingLocally {
                let kind = try #require(CrezcoObject.Kind(rawValue: finding.resourceType ?? ""))
                let answer = try await live.get(kind.path(id: finding.resourceID ?? ""))
                #expect(answer.status == (finding.kind == .missingLocally ? 200 : 404))
            }
            let events = try await live.get("/v1/events?pageSize=100&page=1")
            let retained = history.world.crezco.retainedEvents(now: fixtureNow).count
            #expect(events.int("totalPages") == (retained + 99) / 100)
        }
    }
}
