import Crypto
import Foundation
import Logging
import ReconcileSandbox
import Testing

@testable import ReconcileCore

@Suite struct SignatureAmplificationTests {
    static let id = "evt_1"
    static let timestamp = "1783156525"

    func header(bogus: Int, valid: String?) -> String {
        let fake = "v1," + Data(repeating: 7, count: 32).base64EncodedString()
        return (Array(repeating: fake, count: bogus) + (valid.map { [$0] } ?? [])).joined(separator: " ")
    }

    @Test func upToTheCapAnyListedSignatureVerifiesAndBeyondItNone() throws {
        let body = Data(#"{"id":"evt_1"}"#.utf8)
        let key = try #require(StandardWebhooksV1.key(fromSecret: Fixture.secret))
        let valid = StandardWebhooksV1.sign(id: Self.id, timestamp: Self.timestamp, body: body, secret: Fixture.secret)
        let verify = { (header: String) in
            StandardWebhooksV1.verify(id: Self.id, timestamp: Self.timestamp, body: body, header: header, keys: [key])
        }
        #expect(verify(header(bogus: 15, valid: valid)), "the sixteenth signature is considered")
        #expect(!verify(header(bogus: 16, valid: valid)), "a seventeenth is too many")
        #expect(!verify(header(bogus: 3, valid: nil)))
        #expect(StandardWebhooksV1.signatureCount(header(bogus: 16, valid: valid)) == 17)
    }

    /// The MAC is computed once per secret: sixteen signatures cost about what one does (not 16×).
    @Test func manySignaturesDoNotRecomputeTheMacOverTheBody() throws {
        let body = Data(repeating: UInt8(ascii: "a"), count: 2 << 20)
        let keys = try [Fixture.secret, Fixture.otherSecret].map {
            try #require(StandardWebhooksV1.key(fromSecret: $0))
        }
        func seconds(_ header: String) -> Double {
            let started = ContinuousClock.now
            for _ in 0..<3 {
                _ = StandardWebhooksV1.verify(
                    id: Self.id,
                    timestamp: Self.timestamp,
                    body: body,
                    header: header,
                    keys: keys
                )
            }
            let elapsed = ContinuousClock.now - started
            return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        }
        _ = seconds(header(bogus: 1, valid: nil))
        let one = seconds(header(bogus: 1, valid: nil))
        let sixteen = seconds(header(bogus: 16, valid: nil))
        #expect(sixteen < one * 4, "16 signatures took \(sixteen)s, 1 took \(one)s")
    }

    @Test func aLineWithTooManySignaturesIsRefusedBeforeVerifying() async throws {
        try await withTemporaryDirectory { folder in
            let store = try Store(path: folder.appendingPathComponent("r.sqlite").path)
            let config = Fixture.credicorpConfig()
            let ingestor = Ingestor(
                job: Fixture.job(store: store.path, providers: [config]),
                adapters: ["credicorp": CredicorpAdapter(config: config)],
                store: store,
                clock: JobClock(now: Date(timeIntervalSince1970: 1_790_000_000)),
                logger: Logger(label: "test")
            )
            let body = Fixture.paymentEvent(
                id: "evt_1",
                payment: "pay_1",
                status: "paid",
                created: "2026-07-04T09:15:22Z"
            )
            let line = Fixture.captureLine(id: "evt_1", body: body, receivedAt: "2026-07-04T09:15:25Z")
            let signature = try #require(
                JSONValue.parse(Data(line.utf8))?["headers"]?["webhook-signature"]?.stringValue
            )
            let crowded = line.replacingOccurrences(of: signature, with: header(bogus: 40, valid: signature))
            let record = try await ingestor.record(line: Data(crowded.utf8), lineNumber: 1, source: "c")
            guard case .rejected(let reason, let detail, _) = record.verdict else {
                Issue.record("accepted with 41 signatures")
                return
            }
            #expect(reason == .badSignature)
            #expect(detail == "too many signatures (41 listed, at most 16)")
        }
    }

    /// A key id Crezco answers 404 for is asked once per 24 h of the job's clock, across ingests.
    @Test func aKeyIdCrezcoDoesNotKnowIsAskedOncePerDay() async throws {
        let history = SandboxHistory.crezco(seed: 5, now: Date(timeIntervalSince1970: 1_783_670_400))
        var quiet = Logger(label: "sandbox")
        quiet.logLevel = .critical
        let server = try await SandboxServer.start(world: history.world, logger: quiet)
        do {
            let adapter = CrezcoAdapter(
                config: Fixture.crezcoConfig(baseURL: server.baseURL(for: "crezco"), apiKey: history.apiKey)
            )
            let path = "/v1/webhooks/public-keys/" + history.unknownKeyID
            try await withTemporaryDirectory { folder in
                let store = try Store(path: folder.appendingPathComponent("k.sqlite").path)
                let start = Date(timeIntervalSince1970: 1_783_670_400)
                for (hours, asked) in [(0.0, 1), (1, 1), (23.9, 1), (24.1, 2), (30, 2)] {
                    let ring = PublicKeyRing(store: store, logger: quiet, now: start.addingTimeInterval(hours * 3600))
                    #expect(try await ring.key(history.unknownKeyID, for: adapter) == nil)
                    #expect(try await ring.key(history.unknownKeyID, for: adapter) == nil)
                    #expect(
                        await server.requestCount(provider: "crezco", pathPrefix: path) == asked,
                        "after \(hours) h"
                    )
                }
                #expect(try store.providerKey(provider: "crezco", keyID: history.unknownKeyID) == nil)
            }
            await server.shutdown()
        } catch {
            await server.shutdown()
            throw error
        }
    }
}
