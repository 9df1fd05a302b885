import Foundation
import Testing

@testable import ReconcileSandbox

@Suite struct CredicorpServerTests {
    @Test func paginationOverAnExactMultipleOfThePageSize() async throws {
        try await withSandbox { server, client in
            let (ids, pages) = try await client.all("/public/v1/events", limit: 5)
            #expect(pages == 2)
            #expect(ids == (0..<5).flatMap { ["evt_c\($0)", "evt_s\($0)"] })
            #expect(await server.requestCount(pathPrefix: "/public/v1/events") == 2)
        }
    }

    @Test(arguments: [1, 3, 7, 10, 100])
    func paginationVisitsEveryEventOnce(limit: Int) async throws {
        try await withSandbox { _, client in
            let (ids, pages) = try await client.all("/public/v1/events", limit: limit)
            #expect(ids.count == 10)
            #expect(Set(ids).count == 10)
            #expect(pages == (10 + limit - 1) / limit)
        }
    }

    @Test func emptyListAndDefaultLimit() async throws {
        try await withSandbox(fixtureWorld(paymentCount: 15)) { _, client in
            let empty = try await client.get("/public/v1/events?created_gte=2030-01-01T00:00:00Z")
            #expect(empty.status == 200)
            #expect(empty.ids.isEmpty)
            #expect(empty.hasMore == false)
            #expect(empty.json?["object"] as? String == "list")
            let first = try await client.get("/public/v1/events")
            #expect(first.ids.count == 20)
            #expect(first.hasMore == true)
        }
    }

    @Test func timeWindowsAreInclusiveExclusiveAndAcceptFractions() async throws {
        try await withSandbox { _, client in
            // evt_c1 is created at 2026-07-09T12:01:00Z and evt_s1 thirty seconds later.
            let window = try await client.get(
                "/public/v1/events?created_gte=2026-07-09T12:01:00Z&created_lt=2026-07-09T12:02:00Z"
            )
            #expect(window.ids == ["evt_c1", "evt_s1"])
            let fractional = try await client.get(
                "/public/v1/events?created_gte=2026-07-09T12:01:00.001Z&created_lt=2026-07-09T12:01:30.5Z"
            )
            #expect(fractional.ids == ["evt_s1"])
            let payments = try await client.get("/public/v1/payments?updated_gte=2026-07-09T12:01:30Z&limit=2")
            #expect(payments.ids == ["pay_1", "pay_2"])
            #expect(payments.hasMore == true)
        }
    }

    @Test func typeFilterExactAndPrefix() async throws {
        try await withSandbox { _, client in
            let exact = try await client.get("/public/v1/events?type=payment.succeeded&limit=100")
            #expect(exact.ids.count == 5)
            #expect(try await client.get("/public/v1/events?type=payment.*&limit=100").ids.count == 10)
            #expect(try await client.get("/public/v1/events?type=payment.&limit=100").ids.isEmpty)
        }
    }

    @Test func objectsAreCurrentVersionsOrderedByUpdated() async throws {
        try await withSandbox { _, client in
            let (ids, _) = try await client.all("/public/v1/payments", limit: 2)
            #expect(ids == ["pay_0", "pay_1", "pay_2", "pay_3", "pay_4"])
            let payment = try await client.get("/public/v1/payments/pay_3")
            #expect(payment.status == 200)
            #expect(payment.json?["status"] as? String == "succeeded")
            #expect(payment.json?["amount"] as? Int == 1_003)
            #expect(payment.json?["updated"] as? String == "2026-07-09T12:03:30Z")
            let event = try await client.get("/public/v1/events/evt_c3")
            let object = (event.json?["data"] as? [String: Any])?["object"] as? [String: Any]
            #expect(object?["status"] as? String == "pending")
            #expect(event.json?["created"] as? String == object?["updated"] as? String)
        }
    }

    @Test func wrongKeyIsAuthenticationError() async throws {
        try await withSandbox { _, client in
            for path in [
                "/public/v1/events", "/public/v1/payments/pay_1", "/partner/v1/webhook_endpoints/whend_fixture",
            ] {
                let answer = try await client.get(path, key: "sk_wrong")
                #expect(answer.status == 401)
                #expect(answer.errorType == "authentication")
            }
        }
    }

    @Test(arguments: [
        "/public/v1/events?colour=blue", "/public/v1/events?limit=0", "/public/v1/events?limit=101",
        "/public/v1/events?limit=ten", "/public/v1/events?created_gte=yesterday",
        "/public/v1/events?created_lt=2026-07-04T09:15:22%2B01:00", "/public/v1/events?starting_after=evt_nope",
        "/public/v1/payments?type=payment.*", "/public/v1/payments?created_gte=2026-07-04T09:15:22Z",
        "/public/v1/payments/pay_1?expand=all", "/public/v1/events?limit=5&limit=6",
    ])
    func badRequestsAreInvalidRequest(pathAndQuery: String) async throws {
        try await withSandbox { _, client in
            let answer = try await client.get(pathAndQuery)
            #expect(answer.status == 400)
            #expect(answer.errorType == "invalid_request")
        }
    }

    @Test(arguments: [
        "/public/v1/payments/pay_nope", "/public/v1/events/evt_nope", "/public/v1/decisions/pay_1",
        "/public/v1/refunds", "/partner/v1/webhook_endpoints/whend_other", "/v1/payruns",
    ])
    func unknownIdsAreNotFound(path: String) async throws {
        try await withSandbox { _, client in
            let answer = try await client.get(path)
            #expect(answer.status == 404)
            #expect(answer.errorType == "not_found")
        }
    }

    @Test func eventsOlderThanThirtyDaysAreAbsent() async throws {
        try await withSandbox { _, client in
            let (ids, _) = try await client.all("/public/v1/events", limit: 100)
            #expect(!ids.contains("evt_old"))
            #expect(try await client.get("/public/v1/events/evt_old").status == 404)
            #expect(try await client.get("/public/v1/enquiries/enq_old").status == 200)
        }
    }

    @Test func webhookEndpointHasNoSecret() async throws {
        try await withSandbox { _, client in
            let answer = try await client.get("/partner/v1/webhook_endpoints/whend_fixture")
            #expect(answer.status == 200)
            #expect(answer.json?["status"] as? String == "enabled")
            #expect(answer.json?["secret"] == nil)
            #expect(answer.json?["enabled_events"] as? [String] == ["payment.created", "payment.succeeded"])
        }
    }

    @Test func worldChangesWhileRunning() async throws {
        try await withSandbox { server, client in
            await server.updateWorld { $0.credicorp.endpoint.status = "disabled" }
            let answer = try await client.get("/partner/v1/webhook_endpoints/whend_fixture")
            #expect(answer.json?["status"] as? String == "disabled")
            await server.updateWorld { $0.now = fixtureNow.addingTimeInterval(-86_400 + 45) }
            #expect(try await client.get("/public/v1/events").ids == ["evt_c0", "evt_s0"])
        }
    }

    @Test func shutdownTwiceIsSafe() async throws {
        let server = try await SandboxServer.start(world: fixtureWorld(), logger: .init(label: "sandbox-test"))
        #expect(server.baseURL(for: "credicorp") == "http://127.0.0.1:\(server.port)/credicorp")
        await server.shutdown()
        await server.shutdown()
    }

    @Test func unknownProviderPathIsNotFoundAndLogged() async throws {
        try await withSandbox { server, client in
            let root = SandboxClient(base: server.baseURL)
            #expect(try await root.get("/acme/v1/payruns").status == 404)
            _ = try await client.get("/public/v1/events?limit=1")
            let log = await server.requests()
            #expect(log.map(\.pathAndQuery) == ["/acme/v1/payruns", "/public/v1/events?limit=1"])
            #expect(log.map(\.provider) == [nil, "credicorp"])
        }
    }
}
