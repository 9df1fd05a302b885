import Foundation
import Testing

@testable import ReconcileSandbox

@Suite struct CredifyServerTests {
    @Test func missingOrWrongKeyIsUnauthorized() async throws {
        try await withSandbox(credifyFixtureWorld()) { server, _ async throws in
            var crezcoStyle = ProviderClient.credify(server, key: nil)
            crezcoStyle.headers = ["X-Crezco-Key": credifyFixtureKey]
            for client in [ProviderClient.credify(server, key: nil), .credify(server, key: "nope"), crezcoStyle] {
                for path in ["/v1/bnpl/orders", "/v1/bnpl/orders/ord-1", "/v1/offers/transactions/txn-0"] {
                    let answer = try await client.get(path)
                    #expect(answer.status == 401)
                    #expect(answer.errorCode == "unauthorized")
                }
            }
        }
    }

    @Test func offsetPagesOverAnExactMultipleAndAPartialLastPage() async throws {
        try await withSandbox(credifyFixtureWorld()) { server, _ async throws in
            let client = ProviderClient.credify(server)
            let first = try await client.get("/v1/bnpl/orders?limit=3")
            #expect(first.ids(in: "orders") == ["ord-0", "ord-1", "ord-2"])
            #expect(first.int("total") == 6)
            #expect(
                try await client.get("/v1/bnpl/orders?limit=3&offset=3").ids(in: "orders") == [
                    "ord-3", "ord-4", "ord-5",
                ]
            )
            #expect(try await client.get("/v1/bnpl/orders?limit=3&offset=6").ids(in: "orders").isEmpty)
            let partial = try await client.get("/v1/bnpl/orders?limit=4&offset=4")
            #expect(partial.ids(in: "orders") == ["ord-4", "ord-5"])
            #expect(partial.int("total") == 6)
            let byDefault = try await client.get("/v1/offers/transactions")
            #expect(byDefault.ids(in: "transactions") == ["txn-0", "txn-1"])
            let empty = try await client.get("/v1/bnpl/orders?updated_after=2030-01-01T00:00:00.000Z")
            #expect(empty.status == 200)
            #expect(empty.ids(in: "orders").isEmpty)
            #expect(empty.int("total") == 0)
        }
    }

    @Test func updatedAfterIsExclusive() async throws {
        try await withSandbox(credifyFixtureWorld()) { server, _ async throws in
            let client = ProviderClient.credify(server)
            let exact = RFC3339.format(fixtureTime(120_000), milliseconds: true)
            let answer = try await client.get("/v1/bnpl/orders?updated_after=\(exact)")
            #expect(answer.ids(in: "orders") == ["ord-3", "ord-4", "ord-5"])
            #expect(answer.int("total") == 3)
            let justBefore = RFC3339.format(fixtureTime(119_999), milliseconds: true)
            #expect(try await client.get("/v1/bnpl/orders?updated_after=\(justBefore)").int("total") == 4)
        }
    }

    @Test func objectShapes() async throws {
        try await withSandbox(credifyFixtureWorld()) { server, _ async throws in
            let client = ProviderClient.credify(server)
            let order = try await client.get("/v1/bnpl/orders/ord-0")
            #expect(
                String(decoding: order.body, as: UTF8.self)
                    == "{\"id\":\"ord-0\",\"status\":\"PAID\",\"amount\":5000,\"currency\":\"SGD\",\"disbursement\":"
                    + "{\"INVOICE\":{\"from_provider\":true,\"is_fulfilled\":false}},\"updated_at\":\""
                    + RFC3339.format(fixtureTime(0), milliseconds: true) + "\"}"
            )
            let plain = try await client.get("/v1/offers/transactions/txn-0")
            #expect(plain.json?["dispute"] is NSNull)
            #expect(plain.json?["credify_id"] as? String == "cid-0")
            #expect(plain.json?["offer_code"] as? String == "OFFER-0")
            let disputed = try await client.get("/v1/offers/transactions/txn-1")
            #expect((disputed.json?["dispute"] as? [String: Any])?["status"] as? String == "COMPLETED")
            #expect(disputed.json?["status"] as? String == "DISPUTE_RESOLVED")
        }
    }

    @Test(arguments: [
        "/v1/bnpl/orders/ord-nope", "/v1/bnpl/orders/txn-0", "/v1/offers/transactions/ord-1", "/v1/events",
        "/v1/bnpl/orders/ord-1/items", "/v1/payables",
    ])
    func unknownIsNotFound(path: String) async throws {
        try await withSandbox(credifyFixtureWorld()) { server, _ async throws in
            let answer = try await ProviderClient.credify(server).get(path)
            #expect(answer.status == 404)
            #expect(answer.errorCode == "not_found")
        }
    }

    @Test(arguments: [
        "/v1/bnpl/orders?limit=0", "/v1/bnpl/orders?limit=101", "/v1/bnpl/orders?offset=-1",
        "/v1/bnpl/orders?offset=two", "/v1/bnpl/orders?updated_after=today", "/v1/bnpl/orders?page=2",
        "/v1/offers/transactions?limit=5&limit=5", "/v1/bnpl/orders/ord-1?expand=all",
    ])
    func badParametersAreBadRequest(pathAndQuery: String) async throws {
        try await withSandbox(credifyFixtureWorld()) { server, _ async throws in
            let answer = try await ProviderClient.credify(server).get(pathAndQuery)
            #expect(answer.status == 400)
            #expect(answer.errorCode == "bad_request")
        }
    }

    /// A row on page 1 gets a newer `updated_at` after page 1 was read: it moves to the end, and a
    /// naive `offset` read of page 2 skips the row that slid into page 1.
    @Test func rowMovingBetweenPagesIsSkippedByNaiveOffset() async throws {
        try await withSandbox(credifyFixtureWorld()) { server, _ async throws in
            let client = ProviderClient.credify(server)
            await server.changeWorld(after: 1, provider: "credify", pathPrefix: "/v1/bnpl/orders") { world in
                if let order = world.credify.objects["ord-1"] {
                    var moved = order
                    moved.status = "REFUNDED"
                    moved.updatedAt = fixtureTime(3_600_000)
                    world.credify.setObject(moved)
                }
            }
            let page1 = try await client.get("/v1/bnpl/orders?limit=3&offset=0")
            #expect(page1.ids(in: "orders") == ["ord-0", "ord-1", "ord-2"])
            let page2 = try await client.get("/v1/bnpl/orders?limit=3&offset=3")
            #expect(page2.ids(in: "orders") == ["ord-4", "ord-5", "ord-1"])
            let seen = Set(page1.ids(in: "orders") + page2.ids(in: "orders"))
            #expect(!seen.contains("ord-3"))
            #expect(page2.int("total") == 6)
            // One-shot: later requests change nothing more.
            #expect(try await client.get("/v1/bnpl/orders/ord-1").json?["status"] as? String == "REFUNDED")
            #expect(await server.world().credify.objects["ord-3"]?.status == "PAID")
        }
    }

    @Test func worldChangeWaitsForItsCountAndMatchesOnlyItsPrefix() async throws {
        try await withSandbox(credifyFixtureWorld()) { server, _ async throws in
            let client = ProviderClient.credify(server)
            await server.changeWorld(after: 2, provider: "credify", pathPrefix: "/v1/offers") { world in
                world.credify.removeObject(id: "txn-0")
            }
            #expect(try await client.get("/v1/bnpl/orders").status == 200)
            #expect(try await client.get("/v1/offers/transactions/txn-0").status == 200)
            #expect(try await client.get("/v1/offers/transactions/txn-0").status == 200)
            #expect(try await client.get("/v1/offers/transactions/txn-0").status == 404)
        }
    }
}
