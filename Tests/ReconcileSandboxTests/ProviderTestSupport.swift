import Crypto
import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

@testable import ReconcileSandbox

let crezcoFixtureKey = "crezco_test_fixture"
let credifyFixtureKey = "credify_test_fixture"

/// A fixed key pair for hand-built Crezco worlds.
let crezcoFixtureSigningKey: P256.Signing.PrivateKey = {
    var rng = SplitMix64(seed: 3)
    return CrezcoSigner.key(from: &rng)
}()

/// Milliseconds after `fixtureNow - 1 day`, the start of the hand-built Crezco and Credify worlds.
func fixtureTime(_ millis: Int64) -> Date {
    Date(sandboxMillis: fixtureNow.addingTimeInterval(-86_400).sandboxMillis + millis)
}

/// A hand-built Crezco world: `payableCount` payables of one pay run, one minute apart, each with a
/// `Created` (at `n` min) and a `Paid` event (at `n` min 30.5 s); a verification; one event 40 days old.
func crezcoFixtureWorld(payableCount: Int = 5) -> SandboxWorld {
    var crezco = CrezcoWorld(
        apiKey: crezcoFixtureKey,
        publicKeys: ["key_fixture": crezcoFixtureSigningKey.publicKey.pemRepresentation]
    )
    for index in 0..<payableCount {
        let payable = CrezcoObject(
            kind: .payable,
            id: "pya-\(index)",
            status: "Created",
            updatedAt: fixtureTime(Int64(index) * 60_000),
            organisationID: "org-1",
            amount: 1_000 + Int64(index),
            currency: "GBP",
            payRunID: "run-1"
        )
        crezco.record(eventID: "evc-\(index)", object: payable)
        crezco.record(
            eventID: "evp-\(index)",
            object: payable.with(status: "Paid", updatedAt: fixtureTime(Int64(index) * 60_000 + 30_500))
        )
    }
    crezco.setObject(
        CrezcoObject(
            kind: .payRun,
            id: "run-1",
            status: "Completed",
            updatedAt: fixtureTime(600_000),
            organisationID: "org-1"
        )
    )
    crezco.record(
        eventID: "evv-1",
        object: CrezcoObject(
            kind: .verification,
            id: "ver-1",
            status: "Passed",
            updatedAt: fixtureTime(900_000),
            organisationID: "org-1"
        )
    )
    crezco.record(
        eventID: "ev-old",
        object: CrezcoObject(
            kind: .organisation,
            id: "org-1",
            status: "Approved",
            updatedAt: fixtureNow.addingTimeInterval(-40 * 86_400),
            organisationID: "org-1"
        )
    )
    return SandboxWorld(
        now: fixtureNow,
        credicorp: fixtureWorld(paymentCount: 0).credicorp,
        crezco: crezco,
        credify: CredifyWorld()
    )
}

/// A hand-built Credify world: `orderCount` orders `ord-0…` updated one minute apart (whole seconds),
/// `ord-0` with an `INVOICE` requirement; two transactions, `txn-1` disputed.
func credifyFixtureWorld(orderCount: Int = 6) -> SandboxWorld {
    var credify = CredifyWorld(apiKey: credifyFixtureKey)
    for index in 0..<orderCount {
        credify.setObject(
            CredifyObject(
                kind: .bnplOrder,
                id: "ord-\(index)",
                status: "PAID",
                updatedAt: fixtureTime(Int64(index) * 60_000),
                amount: 5_000 + Int64(index),
                currency: "SGD",
                disbursement: index == 0 ? ["INVOICE": .init(fromProvider: true, isFulfilled: false)] : [:]
            )
        )
    }
    for (index, dispute) in [nil, "COMPLETED"].enumerated() {
        credify.setObject(
            CredifyObject(
                kind: .offerTransaction,
                id: "txn-\(index)",
                status: dispute == nil ? "COMPLETED" : "DISPUTE_RESOLVED",
                updatedAt: fixtureTime(Int64(index) * 60_000),
                credifyID: "cid-\(index)",
                offerCode: "OFFER-\(index)",
                disputeStatus: dispute
            )
        )
    }
    return SandboxWorld(
        now: fixtureNow,
        credicorp: fixtureWorld(paymentCount: 0).credicorp,
        crezco: CrezcoWorld(),
        credify: credify
    )
}

/// A GET client for one provider with fixed headers (Crezco's key header, Credify's bearer).
struct ProviderClient: Sendable {
    let base: String
    var headers: [String: String]

    static func crezco(_ server: SandboxServer, key: String? = crezcoFixtureKey) -> ProviderClient {
        ProviderClient(base: server.baseURL(for: "crezco"), headers: key.map { ["X-Crezco-Key": $0] } ?? [:])
    }

    static func credify(_ server: SandboxServer, key: String? = credifyFixtureKey) -> ProviderClient {
        ProviderClient(
            base: server.baseURL(for: "credify"),
            headers: key.map { ["Authorization": "Bearer \($0)"] } ?? [:]
        )
    }

    func get(_ pathAndQuery: String) async throws -> SandboxClient.Answer {
        let url = try #require(URL(string: base + pathAndQuery))
        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: 10)
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 10
        configuration.timeoutIntervalForResource = 15
        let session = URLSession(configuration: configuration)
        defer { session.finishTasksAndInvalidate() }
        let (data, response) = try await session.data(for: request)
        let http = try #require(response as? HTTPURLResponse)
        var answerHeaders: [String: String] = [:]
        for (name, value) in http.allHeaderFields {
            if let name = name as? String, let value = value as? String { answerHeaders[name.lowercased()] = value }
        }
        return SandboxClient.Answer(status: http.statusCode, headers: answerHeaders, body: data)
    }
}

extension SandboxClient.Answer {
    /// Crezco's and Credify's `error.code`.
    var errorCode: String? { (json?["error"] as? [String: Any])?["code"] as? String }

    /// The `id` of each row of the list member `member`.
    func ids(in member: String) -> [String] {
        (json?[member] as? [[String: Any]])?.compactMap { ($0["eventId"] ?? $0["id"]) as? String } ?? []
    }

    /// An integer member of the top-level object.
    func int(_ member: String) -> Int? { json?[member] as? Int }
}
