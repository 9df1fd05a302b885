import Crypto
import Foundation
import Testing

@testable import ReconcileSandbox

@Suite struct CredifyHistoryTests {
    let history = SandboxHistory.credify(seed: 42, now: fixtureNow)

    @Test func seed004BodyHashVector() {
        let body =
            "{\"type\":\"BNPL_ORDER_STATUS_UPDATED\",\"order_id\":\"b73fd497-cc03-41c4-bad2-b6e042b29204\",\"order_status\":\"PAID\"}"
        #expect(CredifySigner.bodyHash(body) == "usGf1kiPjZ0-HegDJ9BmvgFDxmmWdZbRQUDsLPQ2jwk")
        let order = CredifyObject(
            kind: .bnplOrder,
            id: "b73fd497-cc03-41c4-bad2-b6e042b29204",
            status: "PAID",
            updatedAt: fixtureNow
        )
        #expect(CredifyEvent(id: "e", type: .orderStatusUpdated, object: order).body == body)
    }

    @Test func sameSeedGivesTheSameCaptureByteForByte() {
        let again = SandboxHistory.credify(seed: 42, now: fixtureNow)
        #if os(Linux)
            // BoringSSL's Ed25519 is deterministic; Apple's CryptoKit randomizes it.
            #expect(again.captureNDJSON == history.captureNDJSON)
        #endif
        #expect(again.expectedFindings == history.expectedFindings)
        #expect(again.publicKeyBase64 == history.publicKeyBase64)
        #expect(SandboxHistory.credify(seed: 43, now: fixtureNow).publicKeyBase64 != history.publicKeyBase64)
    }

    @Test(arguments: [1, 7, 42, 9_001] as [UInt64])
    func everySeedCoversEveryCredifyKind(seed: UInt64) {
        let generated = SandboxHistory.credify(seed: seed, now: fixtureNow)
        let expected: Set<SandboxExpectedFinding.Kind> = [
            .outOfOrder, .duplicateDelivery, .stateMismatch, .missingLocally, .unknownToProvider, .invalidSignature,
        ]
        #expect(Set(generated.expectedFindings.map(\.kind)) == expected)
        #expect(
            generated.expectedFindings.compactMap(\.reason).sorted() == [
                "bad_signature", "bad_signature", "malformed", "missing_signature",
            ]
        )
        let mismatchCauses = generated.expectedFindings.filter { $0.kind == .stateMismatch }.compactMap(\.cause)
        #expect(Set(mismatchCauses) == ["dropped_event", "pending_event", "out_of_order", "unknown"])
        let missingCauses = generated.expectedFindings.filter { $0.kind == .missingLocally }.compactMap(\.cause)
        #expect(Set(missingCauses) == ["dropped_event", "pending_event"])
        #expect(generated.deliveries.count > 40)
    }

    @Test func causesFollowUpdatedAtAgainstTheRetryWindow() throws {
        let expired = fixtureNow.addingTimeInterval(-history.retryWindow)
        for finding in history.expectedFindings
        where finding.cause == "dropped_event" || finding.cause == "pending_event" {
            let object = try #require(history.world.credify.objects[finding.resourceID ?? ""])
            #expect((object.updatedAt < expired) == (finding.cause == "dropped_event"))
            #expect(finding.at == object.updatedAt)
        }
    }

    @Test func disbursementOnlyOrderHasNoLocalStatus() throws {
        // The mismatch with cause unknown: the only delivered event of the order is a disbursement update.
        let finding = try #require(
            history.expectedFindings.first { $0.kind == .stateMismatch && $0.cause == "unknown" }
        )
        #expect(finding.resourceType == "bnpl_order")
        let delivered = history.deliveries.filter { $0.rejection == nil && $0.event?.object.id == finding.resourceID }
        #expect(delivered.count == 1)
        #expect(delivered.first?.event?.type == .disbursementStatusUpdated)
        #expect(delivered.first?.event?.carriesStatus == false)
        let body = try #require(delivered.first.flatMap { ProviderCaptureCheck.parse($0.line) }?.body)
        #expect(body.contains("\"requirement_type\":\"INVOICE\""))
        #expect(!body.contains("order_status"))
    }

    @Test func captureLinesVerifyExactlyAsTheOracleSays() {
        for delivery in history.deliveries {
            let verdict = ProviderCaptureCheck.credifyVerdict(
                of: delivery.line,
                publicKeyBase64: history.publicKeyBase64,
                url: history.webhookURL
            )
            #expect(verdict == (delivery.rejection ?? "valid"), "\(delivery.line.prefix(200))")
        }
    }

    @Test func wrongURLLineVerifiesOnlyForTheOtherURL() throws {
        let rejected = history.deliveries.filter { $0.rejection == "bad_signature" }
        #expect(rejected.count == 2)
        let verdicts = rejected.map {
            ProviderCaptureCheck.credifyVerdict(
                of: $0.line,
                publicKeyBase64: history.publicKeyBase64,
                url: history.webhookURL + "/old"
            )
        }
        #expect(verdicts.sorted() == ["bad_signature", "valid"])
        for delivery in rejected {
            #expect(ProviderCaptureCheck.parse(delivery.line)?.url == history.webhookURL)
        }
    }

    @Test func eventTimestampIsTheObjectTimeAndRepeatsOnRetries() throws {
        var byEvent: [String: Set<String>] = [:]
        for delivery in history.deliveries {
            guard let event = delivery.event, let line = ProviderCaptureCheck.parse(delivery.line) else { continue }
            #expect(line.header("X-Event-Id") == event.id)
            #expect(line.header("X-Event-Timestamp") == RFC3339.format(event.object.updatedAt))
            byEvent[event.id, default: []].insert(line.header("X-Event-Timestamp") ?? "")
        }
        #expect(byEvent.values.allSatisfy { $0.count == 1 })
        #expect(history.deliveries.compactMap(\.event).contains { $0.type == .disputeCompleted })
    }

    @Test func webhookURLIsAParameter() {
        let url = "https://receiver.example.org/hooks/credify?tenant=7"
        let custom = SandboxHistory.credify(seed: 42, now: fixtureNow, webhookURL: url)
        #expect(custom.webhookURL == url)
        for delivery in custom.deliveries where delivery.rejection == nil {
            #expect(
                ProviderCaptureCheck.credifyVerdict(
                    of: delivery.line,
                    publicKeyBase64: custom.publicKeyBase64,
                    url: url
                ) == "valid"
            )
            #expect(ProviderCaptureCheck.parse(delivery.line)?.url == url)
        }
    }

    @Test func handBuiltLateDeliveryVerifiesAndKeyStaysOutOfDescriptions() throws {
        let missing = try #require(history.expectedFindings.first { $0.kind == .missingLocally }?.resourceID)
        let event = try #require(history.world.credify.allEvents.last { $0.object.id == missing })
        let line = history.captureLine(for: event, receivedAt: fixtureNow.addingTimeInterval(-30))
        #expect(
            ProviderCaptureCheck.credifyVerdict(
                of: line,
                publicKeyBase64: history.publicKeyBase64,
                url: history.webhookURL
            ) == "valid"
        )
        #expect(!"\(history) \(history.world.credify)".contains(history.apiKey))
    }

    @Test func liveServerAgreesWithTheOracle() async throws {
        let history = self.history
        try await withSandbox(history.world) { server, _ async throws in
            let live = ProviderClient.credify(server, key: history.apiKey)
            for finding in history.expectedFindings
            where [.unknownToProvider, .missingLocally, .stateMismatch].contains(finding.kind) {
                let kind = try #require(CredifyObject.Kind(rawValue: finding.resourceType ?? ""))
                let answer = try await live.get("\(kind.collectionPath)/\(finding.resourceID ?? "")")
                #expect(answer.status == (finding.kind == .unknownToProvider ? 404 : 200))
            }
            let orders = try await live.get("/v1/bnpl/orders?limit=1")
            #expect(orders.int("total") == history.world.credify.objects(of: .bnplOrder).count)
        }
    }
}
