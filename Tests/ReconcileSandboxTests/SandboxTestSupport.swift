import Foundation
import Logging
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

@testable import ReconcileSandbox

/// The sandbox clock used by the hand-built fixtures: 2026-07-10T12:00:00Z.
let fixtureNow = Date(timeIntervalSince1970: 1_783_684_800)
let fixtureKey = "sk_test_fixture"

/// A small hand-built Credicorp world: `paymentCount` payments one minute apart, each with a
/// `payment.created` and a `payment.succeeded` event, plus one event 40 days old.
func fixtureWorld(paymentCount: Int = 5) -> SandboxWorld {
    let endpoint = CredicorpEndpoint(
        id: "whend_fixture",
        url: "https://hooks.example.com/credicorp",
        enabledEvents: ["payment.created", "payment.succeeded"],
        created: fixtureNow.addingTimeInterval(-60 * 86_400)
    )
    var credicorp = CredicorpWorld(apiKey: fixtureKey, endpoint: endpoint)
    let start = fixtureNow.addingTimeInterval(-86_400)
    for index in 0..<paymentCount {
        let created = start.addingTimeInterval(Double(index) * 60)
        let payment = CredicorpObject.payment(
            id: "pay_\(index)",
            amount: 1_000 + Int64(index),
            currency: "GBP",
            decision: "dec_\(index)",
            status: "pending",
            created: created,
            updated: created
        )
        credicorp.record(eventID: "evt_c\(index)", type: "payment.created", object: payment)
        credicorp.record(
            eventID: "evt_s\(index)",
            type: "payment.succeeded",
            object: payment.with(status: "succeeded", updated: created.addingTimeInterval(30))
        )
    }
    let old = fixtureNow.addingTimeInterval(-40 * 86_400)
    credicorp.record(
        eventID: "evt_old",
        type: "enquiry.created",
        object: .enquiry(id: "enq_old", form: "contact-us", dept: "support", status: "new", created: old, updated: old)
    )
    return SandboxWorld(now: fixtureNow, credicorp: credicorp)
}

/// Runs `body` against a live sandbox and always shuts it down.
func withSandbox<T>(
    _ world: SandboxWorld = fixtureWorld(),
    _ body: (SandboxServer, SandboxClient) async throws -> T
) async throws -> T {
    var logger = Logger(label: "sandbox-test")
    logger.logLevel = .warning
    let server = try await SandboxServer.start(world: world, logger: logger)
    let client = SandboxClient(base: server.baseURL(for: "credicorp"))
    do {
        let value = try await body(server, client)
        await server.shutdown()
        return value
    } catch {
        await server.shutdown()
        throw error
    }
}

/// A minimal HTTP client over URLSession with a short timeout and no caching.
struct SandboxClient: Sendable {
    let base: String
    var key = fixtureKey

    struct Answer {
        var status: Int
        var headers: [String: String]
        var body: Data
        var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] }
        var errorType: String? { (json?["error"] as? [String: Any])?["type"] as? String }
        var ids: [String] { (json?["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String } ?? [] }
        var hasMore: Bool? { json?["has_more"] as? Bool }
    }

    func get(_ pathAndQuery: String, key: String? = nil) async throws -> Answer {
        let url = try #require(URL(string: base + pathAndQuery))
        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: 10)
        request.setValue("Bearer \(key ?? self.key)", forHTTPHeaderField: "Authorization")
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 10
        configuration.timeoutIntervalForResource = 15
        let session = URLSession(configuration: configuration)
        defer { session.finishTasksAndInvalidate() }
        let (data, response) = try await session.data(for: request)
        let http = try #require(response as? HTTPURLResponse)
        var headers: [String: String] = [:]
        for (name, value) in http.allHeaderFields {
            if let name = name as? String, let value = value as? String { headers[name.lowercased()] = value }
        }
        return Answer(status: http.statusCode, headers: headers, body: data)
    }

    /// Follows `starting_after` through every page of `path` (which may carry a query).
    func all(_ path: String, limit: Int) async throws -> (ids: [String], pages: Int) {
        var ids: [String] = []
        var pages = 0
        var after: String?
        let separator = path.contains("?") ? "&" : "?"
        while pages < 1000 {
            let cursor = after.map { "&starting_after=\($0)" } ?? ""
            let answer = try await get("\(path)\(separator)limit=\(limit)\(cursor)")
            #expect(answer.status == 200)
            pages += 1
            ids += answer.ids
            guard answer.hasMore == true, let last = answer.ids.last else { break }
            after = last
        }
        return (ids, pages)
    }
}
