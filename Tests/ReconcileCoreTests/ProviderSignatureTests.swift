import Crypto
import Foundation
import Logging
import ReconcileSandbox
import Testing

@testable import ReconcileCore

/// Crezco's and Credify's signature schemes: vectors, tampering, and every line of generated histories.
@Suite struct ProviderSignatureTests {
    static let now = Date(timeIntervalSince1970: 1_783_670_400)  // 2026-07-10T08:00:00Z

    @Test func credifyBodyHashMatchesTheSeedVector() {
        let body =
            #"{"type":"BNPL_ORDER_STATUS_UPDATED","order_id":"b73fd497-cc03-41c4-bad2-b6e042b29204","order_status":"PAID"}"#
        #expect(CredifyEd25519.bodyHash(Data(body.utf8)) == "usGf1kiPjZ0-HegDJ9BmvgFDxmmWdZbRQUDsLPQ2jwk")
    }

    /// Credicorp's event type → resource, found without splitting, gives what splitting gave.
    @Test func credicorpEventTypesNameTheResourceTheSplitVersionNamed() {
        func reference(_ type: String) -> String? {
            guard let prefix = type.split(separator: ".").first else { return nil }
            return CredicorpEventMapping.path(of: String(prefix)) == nil ? nil : String(prefix)
        }
        var random = IngestStateTests.Generator(state: 12)
        let parts = [
            "", ".", "..", "payment", "payments", "pay", "enquiry", "decision", "succeeded", "é", "e\u{301}", "\u{301}",
            "PAYMENT",
        ]
        var inputs = ["", ".", "payment", "payment.", ".payment", "..decision.made", "payment.succeeded", "paymentx.y"]
        for _ in 0..<3000 {
            inputs.append(
                (0..<Int.random(in: 0...4, using: &random)).map { _ in parts.randomElement(using: &random)! }.joined()
            )
        }
        for type in inputs {
            #expect(
                CredicorpEventMapping.resourceType(ofEventType: type) == reference(type),
                "\(type.debugDescription)"
            )
        }
        #expect(CredicorpEventMapping.resourceType(ofEventType: "..decision.made") == "decision")
        #expect(CredicorpEventMapping.resourceType(ofEventType: "paymentx.y") == nil)
        #expect(
            CredicorpEventMapping.resourceType(ofEventType: "payment.\u{301}x") == nil,
            "a dot with a combining mark is no dot"
        )
    }

    /// The base64url codec works on bytes; it must read and write exactly what the string-replacing
    /// version it replaced did (kept here as the reference), padding, whitespace and junk included.
    @Test func credifyBase64URLIsWhatTheStringVersionWas() {
        func reference(_ text: String) -> Data? {
            var standard = text.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "-", with: "+")
                .replacingOccurrences(of: "_", with: "/")
            guard !standard.contains("="), standard.count % 4 != 1 else { return Data(base64Encoded: standard) }
            standard += String(repeating: "=", count: (4 - standard.count % 4) % 4)
            return Data(base64Encoded: standard)
        }
        var random = IngestStateTests.Generator(state: 11)
        let alphabet = Array("ABCxyz0189+/-_= \t\u{A0}é.")
        var inputs = ["", " ", "=", "====", "A", "AB", "ABC", "ABCD", "AB==", "AB=", " AB-_ ", "\u{A0}AB8_\u{A0}", "é"]
        for _ in 0..<4000 {
            inputs.append(
                String(
                    (0..<Int.random(in: 0...12, using: &random)).map { _ in alphabet.randomElement(using: &random)! }
                )
            )
        }
        for text in inputs {
            #expect(CredifyEd25519.decodeBase64URL(text) == reference(text), "\(text.debugDescription)")
        }
        for count in 0..<70 {
            let bytes = Data((0..<count).map { _ in UInt8.random(in: 0...255, using: &random) })
            let expected = bytes.base64EncodedString().replacingOccurrences(of: "+", with: "-")
                .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            #expect(CredifyEd25519.base64URL(bytes) == expected)
            #expect(CredifyEd25519.decodeBase64URL(expected) == bytes)
        }
    }

    @Test func credifySignatureCoversVerbURLEventTimestampAndBody() throws {
        let key = Curve25519.Signing.PrivateKey()
        let body = Data(#"{"type":"BNPL_ORDER_STATUS_UPDATED","order_id":"o-1","order_status":"PAID"}"#.utf8)
        func message(
            verb: String = "POST",
            url: String = "https://hooks.example.com/credify",
            id: String = "e-1",
            time: String = "2026-07-04T09:15:22Z",
            sent: Data? = nil
        ) -> Data {
            CredifyEd25519.message(verb: verb, url: url, eventID: id, timestamp: time, body: sent ?? body)
        }
        let signature = CredifyEd25519.base64URL(try key.signature(for: message()))
        #expect(!signature.contains("=") && !signature.contains("+") && !signature.contains("/"))
        let publicKey = try #require(
            CredifyEd25519.publicKey(base64: key.publicKey.rawRepresentation.base64EncodedString())
        )
        #expect(CredifyEd25519.verify(message: message(), signature: signature, key: publicKey))
        #expect(!CredifyEd25519.verify(message: message(verb: "PUT"), signature: signature, key: publicKey))
        #expect(
            !CredifyEd25519.verify(
                message: message(url: "https://hooks.example.com/other"),
                signature: signature,
                key: publicKey
            )
        )
        #expect(
            !CredifyEd25519.verify(
                message: message(id: "e-2"),
                signature: signature,
                key: publicKey
            )
        )
        #expect(
            !CredifyEd25519.verify(
                message: message(time: "2026-07-04T09:15:23Z"),
                signature: signature,
                key: publicKey
            )
        )
        #expect(
            !CredifyEd25519.verify(message: message(sent: Data(body.reversed())), signature: signature, key: publicKey)
        )
        #expect(!CredifyEd25519.verify(message: message(), signature: "not base64url!", key: publicKey))
        #expect(CredifyEd25519.publicKey(base64: Data(repeating: 1, count: 31).base64EncodedString()) == nil)
    }

    @Test func crezcoSignatureIsDERECDSAOverTheRawBody() throws {
        let key = P256.Signing.PrivateKey()
        let body = Data(#"{"events":[]}"#.utf8)
        let signature = try key.signature(for: body).derRepresentation.base64EncodedString()
        let publicKey = try #require(CrezcoECDSA.publicKey(pem: key.publicKey.pemRepresentation))
        #expect(CrezcoECDSA.verify(body: body, signature: signature, key: publicKey))
        #expect(!CrezcoECDSA.verify(body: Data(#"{"events":[ ]}"#.utf8), signature: signature, key: publicKey))
        let other = try #require(CrezcoECDSA.publicKey(pem: P256.Signing.PrivateKey().publicKey.pemRepresentation))
        #expect(!CrezcoECDSA.verify(body: body, signature: signature, key: other))
        #expect(!CrezcoECDSA.verify(body: body, signature: "%%%", key: publicKey))
        #expect(CrezcoECDSA.publicKey(pem: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----") == nil)
    }

    /// Parsed keys are kept by their PEM text: each text reads back as its own key, the same before
    /// and after more texts than the cache keeps have been read.
    @Test func crezcoKeysParsedOnceAreEachTheirOwn() throws {
        let keys = (0..<(CrezcoECDSA.parsedLimit + 6)).map { _ in P256.Signing.PrivateKey() }
        let body = Data(#"{"events":[]}"#.utf8)
        for round in 0..<2 {
            for (index, key) in keys.enumerated() {
                let parsed = try #require(CrezcoECDSA.publicKey(pem: key.publicKey.pemRepresentation))
                #expect(parsed.rawRepresentation == key.publicKey.rawRepresentation, "round \(round), key \(index)")
                let signature = try key.signature(for: body).derRepresentation.base64EncodedString()
                #expect(CrezcoECDSA.verify(body: body, signature: signature, key: parsed))
            }
        }
        #expect(CrezcoECDSA.publicKey(pem: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----") == nil)
    }

    @Test func httpDatesParseOnlyAsIMFFixdate() {
        #expect(
            ReconcileCore.HTTPDate.parse("Sat, 04 Jul 2026 09:15:25 GMT")
                == ReconcileCore.RFC3339.parse("2026-07-04T09:15:25Z")
        )
        #expect(ReconcileCore.HTTPDate.parse("Saturday, 04-Jul-26 09:15:25 GMT") == nil)
        #expect(ReconcileCore.HTTPDate.parse("Sat, 04 Jul 2026 09:15:25 UTC") == nil)
        #expect(ReconcileCore.HTTPDate.parse("Sat, 31 Feb 2026 09:15:25 GMT") == nil)
    }

    /// Every line of a generated Credify history gets the verdict the history says it deserves.
    @Test(arguments: [3, 404] as [UInt64])
    func everyCredifyCaptureLineIsJudgedAsTheHistorySays(seed: UInt64) async throws {
        let history = SandboxHistory.credify(seed: seed, now: Self.now)
        let adapter = CredifyAdapter(
            config: Fixture.credifyConfig(
                baseURL: "http://127.0.0.1:9",
                apiKey: history.apiKey,
                publicKey: history.publicKeyBase64,
                webhookURL: history.webhookURL
            )
        )
        try await withTemporaryDirectory { folder in
            let ring = PublicKeyRing(
                store: try Store(path: folder.appendingPathComponent("k.sqlite").path),
                logger: Logger(label: "t")
            )
            for delivery in history.deliveries {
                let verdict = try await Self.verdict(adapter, line: delivery.line, ring: ring)
                #expect(verdict.reason == delivery.rejection, "\(delivery.line.prefix(120))")
                if delivery.rejection == nil { #expect(verdict.events.map(\.eventID) == [delivery.event?.id]) }
            }
        }
    }

    /// Every line of a generated Crezco history, keys fetched from the sandbox once and kept.
    @Test(arguments: [5, 303] as [UInt64])
    func everyCrezcoCaptureLineIsJudgedAsTheHistorySays(seed: UInt64) async throws {
        let history = SandboxHistory.crezco(seed: seed, now: Self.now)
        var quiet = Logger(label: "sandbox")
        quiet.logLevel = .critical
        let server = try await SandboxServer.start(world: history.world, logger: quiet)
        do {
            let adapter = CrezcoAdapter(
                config: Fixture.crezcoConfig(baseURL: server.baseURL(for: "crezco"), apiKey: history.apiKey)
            )
            try await withTemporaryDirectory { folder in
                let store = try Store(path: folder.appendingPathComponent("k.sqlite").path)
                let ring = PublicKeyRing(store: store, logger: Logger(label: "t"))
                var batched = 0
                for delivery in history.deliveries {
                    let verdict = try await Self.verdict(adapter, line: delivery.line, ring: ring)
                    #expect(verdict.reason == delivery.rejection, "\(delivery.line.prefix(120))")
                    if delivery.rejection == nil {
                        #expect(verdict.events.map(\.eventID) == delivery.events.map(\.id))
                        if delivery.events.count > 1 { batched += 1 }
                    }
                }
                #expect(batched > 0, "the history holds batched deliveries")
                #expect(try store.providerKey(provider: "crezco", keyID: history.currentKeyID) != nil)
                #expect(try store.providerKey(provider: "crezco", keyID: history.unknownKeyID) == nil)
            }
            let fetches = await server.requestCount(provider: "crezco", pathPrefix: "/v1/webhooks/public-keys/")
            #expect(fetches == 3, "each key id is asked once: previous, current and the unknown one")
            await server.shutdown()
        } catch {
            await server.shutdown()
            throw error
        }
    }

    /// A signed Crezco batch with an event type outside the catalogue keeps its known events.
    @Test func aCrezcoBatchWithANewerEventTypeKeepsTheKnownEvents() async throws {
        let key = P256.Signing.PrivateKey()
        let known =
            #"{"eventId":"e-1","type":"Payable","id":"p-1","status":"Paid","timestamp":"2026-07-04T09:15:22.164Z","organisationId":"o-1","version":"2024-06-30","payload":{"amount":125000,"currency":"GBP"}}"#
        let newer =
            #"{"eventId":"e-2","type":"Refund","id":"r-1","status":"Done","timestamp":"2026-07-04T09:15:23.000Z"}"#
        let broken = #"{"eventId":"e-3","type":"Payable"}"#
        try await withTemporaryDirectory { folder in
            let store = try Store(path: folder.appendingPathComponent("k.sqlite").path)
            try store.saveProviderKey(
                provider: "crezco",
                keyID: "key_1",
                algorithm: "ES256",
                publicKey: key.publicKey.pemRepresentation,
                at: Date()
            )
            let ring = PublicKeyRing(store: store, logger: Logger(label: "t"))
            let adapter = CrezcoAdapter(config: Fixture.crezcoConfig(baseURL: "http://127.0.0.1:9", apiKey: "k"))
            func line(_ events: [String]) throws -> String {
                let body = #"{"events":["# + events.joined(separator: ",") + "]}"
                let signature = try key.signature(for: Data(body.utf8)).derRepresentation.base64EncodedString()
                let capture: ReconcileCore.JSONValue = .object([
                    "provider": "crezco", "received_at": "2026-07-04T09:15:25.000Z", "method": "POST",
                    "url": "https://hooks.example.com/crezco",
                    "headers": .object([
                        "Crezco-Signature": .string(signature), "Crezco-Public-Key-Id": "key_1",
                        "Date": "Sat, 04 Jul 2026 09:15:24 GMT",
                    ]),
                    "body": .string(body),
                ])
                return capture.canonicalText
            }
            let mixed = try await Self.verdict(adapter, line: try line([newer, known]), ring: ring)
            #expect(mixed.reason == nil)
            #expect(mixed.events.map(\.eventID) == ["e-1"])
            #expect(mixed.events.first?.snapshot.money == Money(minorUnits: 125_000, currency: "GBP"))
            let bad = try await Self.verdict(adapter, line: try line([known, broken]), ring: ring)
            #expect(bad.reason == "malformed", "a known type without its fields is still malformed")
        }
    }

    /// A Credicorp delivery's event is its whole body (the pointer `""`).
    @Test func aCredicorpEventIsItsWholeBody() async throws {
        let body = Fixture.paymentEvent(
            id: "evt_1",
            payment: "pay_1",
            status: "succeeded",
            created: "2026-07-04T09:15:22Z"
        )
        try await withTemporaryDirectory { folder in
            let ring = PublicKeyRing(
                store: try Store(path: folder.appendingPathComponent("k.sqlite").path),
                logger: Logger(label: "t")
            )
            let verdict = try await Self.verdict(
                CredicorpAdapter(config: Fixture.credicorpConfig()),
                line: Fixture.captureLine(id: "evt_1", body: body, receivedAt: "2026-07-04T09:15:25Z"),
                ring: ring
            )
            #expect(verdict.reason == nil)
            #expect(verdict.events.map(\.bodyPointer) == [""])
        }
    }

    static func verdict(_ adapter: any ProviderAdapter, line: String, ring: PublicKeyRing) async throws
        -> (reason: String?, events: [ProviderEvent])
    {
        guard let delivery = try? CapturedDelivery.parse(line: Data(line.utf8)) else { return ("malformed", []) }
        switch try await adapter.verify(delivery, keys: ring) {
        case .accepted(let events):
            // The store keeps each payload as this place in the raw body: it must be the payload.
            let body = JSONValue.parse(delivery.body)
            for event in events {
                let pointer = try #require(event.bodyPointer, "a webhook event says where it sits in its body")
                #expect(body?.at(pointer: pointer) == event.payload, "\(event.eventID) at \(pointer)")
            }
            return (nil, events)
        case .rejected(let reason, _, _): return (reason.rawValue, [])
        }
    }
}
