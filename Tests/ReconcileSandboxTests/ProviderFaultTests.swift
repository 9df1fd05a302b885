import Foundation
import Testing

@testable import ReconcileSandbox

@Suite struct ProviderFaultTests {
    static let world: SandboxWorld = {
        var world = crezcoFixtureWorld()
        world.credify = credifyFixtureWorld().credify
        return world
    }()

    @Test func crezcoFaultsSpeakCrezco() async throws {
        try await withSandbox(Self.world) { server, _ async throws in
            let client = ProviderClient.crezco(server)
            await server.setFaults([
                SandboxFault(.rateLimited(retryAfterSeconds: 3), provider: "crezco", pathPrefix: "/v1/events"),
                SandboxFault(.serverError(status: 503), provider: "crezco", pathPrefix: "/v1/payables"),
                SandboxFault(.unauthorized, provider: "crezco", pathPrefix: "/v1/payruns"),
            ])
            let limited = try await client.get("/v1/events")
            #expect(limited.status == 429)
            #expect(limited.headers["retry-after"] == "3")
            #expect(limited.errorCode == "TooManyRequests")
            let failed = try await client.get("/v1/payables")
            #expect(failed.status == 503)
            #expect(failed.errorCode == "ServerError")
            let refused = try await client.get("/v1/payruns/run-1")
            #expect(refused.status == 401)
            #expect(refused.errorCode == "Unauthorized")
            #expect(try await client.get("/v1/events").status == 200)
            #expect(await server.requestCount(provider: "crezco", pathPrefix: "/v1/events") == 2)
        }
    }

    @Test func credifyFaultsSpeakCredify() async throws {
        try await withSandbox(Self.world) { server, _ async throws in
            let client = ProviderClient.credify(server)
            await server.setFaults([
                SandboxFault(.rateLimited(retryAfterSeconds: 2), provider: "credify", pathPrefix: "/v1/bnpl"),
                SandboxFault(.serverError(status: 500), provider: "credify", pathPrefix: "/v1/offers"),
                SandboxFault(.garbage(.truncatedJSON), provider: "credify", pathPrefix: "/v1/bnpl"),
            ])
            let limited = try await client.get("/v1/bnpl/orders")
            #expect(limited.status == 429)
            #expect(limited.errorCode == "rate_limited")
            let failed = try await client.get("/v1/offers/transactions")
            #expect(failed.status == 500)
            #expect(failed.errorCode == "internal")
            let garbage = try await client.get("/v1/bnpl/orders")
            #expect(garbage.status == 200)
            #expect((try? JSONSerialization.jsonObject(with: garbage.body)) == nil)
            #expect(try await client.get("/v1/bnpl/orders").status == 200)
        }
    }

    @Test func faultsStayWithTheirProvider() async throws {
        try await withSandbox(Self.world) { server, credicorp async throws in
            await server.setFaults([SandboxFault(.serverError(status: 500), provider: "crezco", times: nil)])
            #expect(try await ProviderClient.credify(server).get("/v1/bnpl/orders").status == 200)
            #expect(try await credicorp.get("/public/v1/events").status == 200)
            #expect(try await ProviderClient.crezco(server).get("/v1/events").status == 500)
            #expect(try await ProviderClient.crezco(server).get("/v1/events").status == 500)
        }
    }
}
