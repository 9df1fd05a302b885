import Crypto
import Foundation
import Testing

@testable import ReconcileSandbox

@Suite struct CrezcoServerTests {
    @Test func missingOrWrongKeyIsUnauthorized() async throws {
        try await withSandbox(crezcoFixtureWorld()) { server, _ async throws in
            var bearer = ProviderClient.crezco(server, key: nil)
            bearer.headers = ["Authorization": "Bearer \(crezcoFixtureKey)"]
            for client in [ProviderClient.crezco(server, key: nil), .crezco(server, key: "crezco_wrong"), bearer] {
                for path in ["/v1/events", "/v1/payables/pya-1", "/v1/webhooks/public-keys/key_fixture"] {
                    let answer = try await client.get(path)
                    #expect(answer.status == 401)
                    #expect(answer.errorCode == "Unauthorized")
                }
            }
        }
    }

    @Test func eventsPageOverAnExactMultipleAndAPartialLastPage() async throws {
        try await withSandbox(crezcoFixtureWorld()) { server, _ async throws in
            let client = ProviderClient.crezco(server)
            // 11 retained events: 10 payable events and the verification.
            let first = try await client.get("/v1/events?pageSize=5&page=1")
            #expect(first.ids(in: "events") == ["evc-0", "evp-0", "evc-1", "evp-1", "evc-2"])
            #expect(first.int("totalPages") == 3)
            #expect(first.int("page") == 1)
            #expect(first.int("pageSize") == 5)
            let last = try await client.get("/v1/events?pageSize=5&page=3")
            #expect(last.ids(in: "events") == ["evv-1"])
            let exact = try await client.get(
                "/v1/events?pageSize=5&page=2&to=\(RFC3339.format(fixtureTime(900_000), milliseconds: true))"
            )
            #expect(exact.int("totalPages") == 2)
            #expect(exact.ids(in: "events").count == 5)
            let beyond = try await client.get("/v1/events?pageSize=5&page=4")
            #expect(beyond.ids(in: "events").isEmpty)
            #expect(beyond.int("totalPages") == 3)
            let byDefault = try await client.get("/v1/events")
            #expect(byDefault.int("pageSize") == 50)
            #expect(byDefault.ids(in: "events").count == 11)
        }
    }

    @Test func emptyResultHasZeroPages() async throws {
        try await withSandbox(crezcoFixtureWorld()) { server, _ async throws in
            let client = ProviderClient.crezco(server)
            for path in ["/v1/events?from=2030-01-01T00:00:00.000Z", "/v1/payruns?updatedTo=2020-01-01T00:00:00Z"] {
                let empty = try await client.get(path)
                #expect(empty.status == 200)
                #expect(empty.int("totalPages") == 0)
                #expect(empty.int("page") == 1)
            }
            #expect(try await client.get("/v1/payruns").ids(in: "payRuns") == ["run-1"])
        }
    }

    @Test func windowsAreFromInclusiveToExclusiveToTheMillisecond() async throws {
        try await withSandbox(crezcoFixtureWorld()) { server, _ async throws in
            let client = ProviderClient.crezco(server)
            let from = RFC3339.format(fixtureTime(60_000), milliseconds: true)
            let to = RFC3339.format(fixtureTime(120_000), milliseconds: true)
            #expect(try await client.get("/v1/events?from=\(from)&to=\(to)").ids(in: "events") == ["evc-1", "evp-1"])
            let paid = RFC3339.format(fixtureTime(90_500), milliseconds: true)
            #expect(try await client.get("/v1/events?from=\(from)&to=\(paid)").ids(in: "events") == ["evc-1"])
            let payables = try await client.get("/v1/payables?updatedFrom=\(paid)&pageSize=2")
            #expect(payables.ids(in: "payables") == ["pya-1", "pya-2"])
            #expect(payables.int("totalPages") == 2)
            let row = try #require((payables.json?["payables"] as? [[String: Any]])?.first)
            #expect(row["amount"] as? Int == 1_001)
            #expect(row["currency"] as? String == "GBP")
            #expect(row["payRunId"] as? String == "run-1")
            #expect(row["status"] as? String == "Paid")
            #expect(row["updatedAt"] as? String == paid)
        }
    }

    @Test func oldAndFutureEventsAreNotListed() async throws {
        try await withSandbox(crezcoFixtureWorld()) { server, _ async throws in
            let client = ProviderClient.crezco(server)
            #expect(!(try await client.get("/v1/events?pageSize=100").ids(in: "events").contains("ev-old")))
            #expect(try await client.get("/v1/organisations/org-1/onboarding").status == 200)
            await server.updateWorld { $0.now = fixtureTime(30_500) }
            #expect(try await client.get("/v1/events").ids(in: "events") == ["evc-0", "evp-0"])
        }
    }

    @Test func objectsByIDAndTheirKinds() async throws {
        try await withSandbox(crezcoFixtureWorld()) { server, _ async throws in
            let client = ProviderClient.crezco(server)
            let payable = try await client.get("/v1/payables/pya-3")
            #expect(payable.json?["status"] as? String == "Paid")
            #expect(try await client.get("/v1/payruns/run-1").json?["status"] as? String == "Completed")
            #expect(try await client.get("/v1/verifications/ver-1").json?["status"] as? String == "Passed")
            #expect(try await client.get("/v1/organisations/org-1/onboarding").json?["status"] as? String == "Approved")
        }
    }

    @Test(arguments: [
        "/v1/payables/pya-nope", "/v1/payruns/pya-1", "/v1/bank-accounts/ver-1", "/v1/verifications/nope",
        "/v1/organisations/nope/onboarding", "/v1/webhooks/public-keys/key_other", "/v1/events/evc-1",
        "/v1/refunds", "/public/v1/events",
    ])
    func unknownIsNotFound(path: String) async throws {
        try await withSandbox(crezcoFixtureWorld()) { server, _ async throws in
            let answer = try await ProviderClient.crezco(server).get(path)
            #expect(answer.status == 404)
            #expect(answer.errorCode == "NotFound")
            #expect((answer.json?["error"] as? [String: Any])?["message"] is String)
        }
    }

    @Test(arguments: [
        "/v1/events?page=0", "/v1/events?page=one", "/v1/events?pageSize=0", "/v1/events?pageSize=101",
        "/v1/events?from=yesterday", "/v1/events?updatedFrom=2026-07-01T00:00:00Z", "/v1/events?limit=5",
        "/v1/payables?from=2026-07-01T00:00:00Z", "/v1/payables?page=1&page=2", "/v1/payables/pya-1?expand=all",
        "/v1/webhooks/public-keys/key_fixture?format=pem",
    ])
    func badParametersAreBadRequest(pathAndQuery: String) async throws {
        try await withSandbox(crezcoFixtureWorld()) { server, _ async throws in
            let answer = try await ProviderClient.crezco(server).get(pathAndQuery)
            #expect(answer.status == 400)
            #expect(answer.errorCode == "BadRequest")
        }
    }

    @Test func publicKeyRouteServesTheSPKIPEM() async throws {
        try await withSandbox(crezcoFixtureWorld()) { server, _ async throws in
            let answer = try await ProviderClient.crezco(server).get("/v1/webhooks/public-keys/key_fixture")
            #expect(answer.json?["keyId"] as? String == "key_fixture")
            #expect(answer.json?["algorithm"] as? String == "ES256")
            let pem = try #require(answer.json?["publicKey"] as? String)
            #expect(pem.hasPrefix("-----BEGIN PUBLIC KEY-----"))
            let key = try P256.Signing.PublicKey(pemRepresentation: pem)
            #expect(key.rawRepresentation == crezcoFixtureSigningKey.publicKey.rawRepresentation)
        }
    }
}
