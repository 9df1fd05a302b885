import Foundation
import Testing

@testable import ReconcileSandbox

@Suite struct SandboxFaultTests {
    @Test func rateLimitCarriesRetryAfterAndThenClears() async throws {
        try await withSandbox { server, client in
            await server.setFaults([SandboxFault(.rateLimited(retryAfterSeconds: 7), pathPrefix: "/public/v1/events")])
            let limited = try await client.get("/public/v1/events")
            #expect(limited.status == 429)
            #expect(limited.headers["retry-after"] == "7")
            #expect(limited.errorType == "rate_limited")
            #expect(try await client.get("/public/v1/events").status == 200)
            #expect(await server.requestCount(pathPrefix: "/public/v1/events") == 2)
        }
    }

    @Test(arguments: [500, 502, 503])
    func serverErrorsForTheNextNRequests(status: Int) async throws {
        try await withSandbox { server, client in
            await server.setFaults([SandboxFault(.serverError(status: status), times: 2)])
            #expect(try await client.get("/public/v1/payments").status == status)
            let second = try await client.get("/public/v1/events")
            #expect(second.status == status)
            #expect(second.errorType == "api_error")
            #expect(try await client.get("/public/v1/events").status == 200)
        }
    }

    @Test func accountsAreAnsweredFromTheOneWorldAndLoggedApart() async throws {
        try await withSandbox { server, plain in
            let acme = SandboxClient(base: server.baseURL(for: "credicorp", account: "acme-7"))
            let other = SandboxClient(base: server.baseURL(for: "credicorp", account: "other_2"))
            let expected = try await plain.get("/public/v1/payments?limit=3")
            #expect(expected.status == 200 && !expected.ids.isEmpty)
            #expect(try await acme.get("/public/v1/payments?limit=3").ids == expected.ids)
            #expect(try await other.get("/public/v1/payments?limit=3").ids == expected.ids)
            #expect(
                try await acme.get("/public/v1/payments", key: "sk_wrong").status == 401,
                "the key is still checked"
            )
            let log = await server.requests()
            #expect(log.map(\.account) == [nil, "acme-7", "other_2", "acme-7"])
            #expect(log.map(\.provider) == ["credicorp", "credicorp", "credicorp", "credicorp"])
            #expect(log.map(\.path) == Array(repeating: "/public/v1/payments", count: 4))
            #expect(try await SandboxClient(base: server.baseURL + "/accounts/acme-7").get("/nope").status == 404)
        }
    }

    @Test func faultOnlyHitsItsPathPrefix() async throws {
        try await withSandbox { server, client in
            await server.setFaults([SandboxFault(.unauthorized, pathPrefix: "/public/v1/payments", times: nil)])
            #expect(try await client.get("/public/v1/events").status == 200)
            for _ in 0..<3 {
                let answer = try await client.get("/public/v1/payments/pay_1")
                #expect(answer.status == 401)
                #expect(answer.errorType == "authentication")
            }
            await server.setFaults([])
            #expect(try await client.get("/public/v1/payments/pay_1").status == 200)
        }
    }

    @Test func slowAnswerIsDelayedThenNormal() async throws {
        try await withSandbox { server, client in
            await server.setFaults([SandboxFault(.slow(milliseconds: 400))])
            let clock = ContinuousClock()
            let start = clock.now
            let answer = try await client.get("/public/v1/events/evt_c1")
            #expect(clock.now - start >= .milliseconds(400))
            #expect(answer.status == 200)
            #expect(answer.json?["id"] as? String == "evt_c1")
        }
    }

    @Test func garbageBodiesAre200ButNotJSON() async throws {
        try await withSandbox { server, client in
            await server.setFaults([
                SandboxFault(.garbage(.truncatedJSON), pathPrefix: "/public/v1/events"),
                SandboxFault(.garbage(.html), pathPrefix: "/public/v1/payments"),
            ])
            let truncated = try await client.get("/public/v1/events")
            #expect(truncated.status == 200)
            #expect(truncated.headers["content-type"] == "application/json")
            #expect((try? JSONSerialization.jsonObject(with: truncated.body)) == nil)
            let html = try await client.get("/public/v1/payments")
            #expect(html.status == 200)
            #expect(html.headers["content-type"]?.hasPrefix("text/html") == true)
            #expect(html.json == nil)
        }
    }
}
