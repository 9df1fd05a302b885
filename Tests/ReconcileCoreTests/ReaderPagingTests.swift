import Foundation
import Logging
import ReconcileSandbox
import Testing

@testable import ReconcileCore

/// Crezco page-number and Credify offset lists read through the real readers against the sandbox.
@Suite struct ReaderPagingTests {
    static let now = Date(timeIntervalSince1970: 1_783_670_400)  // 2026-07-10T08:00:00Z
    static let since = now.addingTimeInterval(-8 * 86_400)

    static func credifyOrders(_ count: Int, sameTime: Bool = false) -> CredifyWorld {
        var world = CredifyWorld(apiKey: "credify_test_key")
        for index in 0..<count {
            let offset = sameTime ? 3600 : TimeInterval(3600 + index * 60)
            world.setObject(
                CredifyObject(
                    kind: .bnplOrder,
                    id: String(format: "ord-%04d", index),
                    status: "APPROVED",
                    updatedAt: since.addingTimeInterval(offset),
                    amount: Int64(1_000 + index),
                    currency: "SGD"
                )
            )
        }
        return world
    }

    static func crezcoPayables(_ count: Int) -> CrezcoWorld {
        var world = CrezcoWorld(apiKey: "crezco_test_key")
        for index in 0..<count {
            world.setObject(
                CrezcoObject(
                    kind: .payable,
                    id: String(format: "pya-%04d", index),
                    status: "Created",
                    updatedAt: since.addingTimeInterval(TimeInterval(3600 + index)),
                    organisationID: "org-1",
                    amount: 500,
                    currency: "GBP",
                    payRunID: "prn-1"
                )
            )
        }
        return world
    }

    /// Runs `body` with a reader of `provider` against a sandbox serving `world`.
    static func withReader<T>(
        _ world: SandboxWorld,
        provider: String,
        _ body: (any ProviderReader, SandboxServer) async throws -> T
    ) async throws -> T {
        var quiet = Logger(label: "sandbox")
        quiet.logLevel = .critical
        let server = try await SandboxServer.start(world: world, logger: quiet)
        do {
            let adapter: any ProviderAdapter =
                provider == "crezco"
                ? CrezcoAdapter(
                    config: Fixture.crezcoConfig(baseURL: server.baseURL(for: "crezco"), apiKey: world.crezco.apiKey)
                )
                : CredifyAdapter(
                    config: Fixture.credifyConfig(
                        baseURL: server.baseURL(for: "credify"),
                        apiKey: world.credify.apiKey,
                        publicKey: Data(repeating: 1, count: 32).base64EncodedString(),
                        webhookURL: "https://h/c"
                    )
                )
            let result = try await body(adapter.makeReader(logger: Logger(label: "test")), server)
            await server.shutdown()
            return result
        } catch {
            await server.shutdown()
            throw error
        }
    }

    static func world(crezco: CrezcoWorld = .init(), credify: CredifyWorld = .init()) -> SandboxWorld {
        SandboxWorld(
            now: now,
            credicorp: CredicorpWorld(
                apiKey: "",
                endpoint: CredicorpEndpoint(id: "whend_x", url: "", enabledEvents: [], created: now)
            ),
            crezco: crezco,
            credify: credify
        )
    }

    @Test(arguments: [0, 1, 100, 200, 250])
    func credifyListsReturnEveryRowOnce(count: Int) async throws {
        let rows = try await Self.withReader(Self.world(credify: Self.credifyOrders(count)), provider: "credify") {
            reader,
            _ in try await reader.resources(since: Self.since, until: Self.now)
        }
        #expect(rows.count == count)
        #expect(Set(rows.map(\.resourceID)).count == count)
        #expect(rows.allSatisfy { $0.money?.currency == "SGD" })
    }

    @Test(arguments: [0, 100, 200, 201])
    func crezcoListsReturnEveryRowOnce(count: Int) async throws {
        let rows = try await Self.withReader(Self.world(crezco: Self.crezcoPayables(count)), provider: "crezco") {
            reader,
            _ in try await reader.resources(since: Self.since, until: Self.now)
        }
        #expect(rows.count == count)
        #expect(Set(rows.map(\.resourceID)).count == count)
    }

    @Test func aGroupOfRowsWithOneTimeLargerThanAPageIsReadWhole() async throws {
        let rows = try await Self.withReader(
            Self.world(credify: Self.credifyOrders(230, sameTime: true)),
            provider: "credify"
        ) { reader, _ in try await reader.resources(since: Self.since, until: Self.now) }
        #expect(Set(rows.map(\.resourceID)).count == 230)
    }

    /// Every row is read once, in its newest version, when rows move between pages.
    ///
    /// After the first page, a row of that page is updated and moves to the end of the list: naive
    /// offset paging would then skip the row that slides into its place.
    @Test(arguments: ["credify", "crezco"])
    func rowsChangingBetweenPagesAreNeitherSkippedNorStale(provider: String) async throws {
        let world = Self.world(crezco: Self.crezcoPayables(250), credify: Self.credifyOrders(250))
        let moved = provider == "crezco" ? "pya-0005" : "ord-0005"
        let listPath = provider == "crezco" ? "/v1/payables" : "/v1/bnpl/orders"
        let rows = try await Self.withReader(world, provider: provider) { reader, server in
            await server.changeWorld(after: 1, provider: provider, pathPrefix: listPath) { world in
                let later = Self.now.addingTimeInterval(-60)
                if var object = world.crezco.objects[moved] {
                    object.status = "Paid"
                    object.updatedAt = later
                    world.crezco.setObject(object)
                }
                if var object = world.credify.objects[moved] {
                    object.status = "PAID"
                    object.updatedAt = later
                    world.credify.setObject(object)
                }
            }
            return try await reader.resources(since: Self.since, until: Self.now)
        }
        #expect(Set(rows.map(\.resourceID)).count == 250)
        #expect(rows.count == 250)
        #expect(rows.first { $0.resourceID == moved }?.status == (provider == "crezco" ? "Paid" : "PAID"))
    }

    @Test func crezcoEventsOfAnEmptyLogAreNone() async throws {
        let events = try await Self.withReader(Self.world(crezco: Self.crezcoPayables(3)), provider: "crezco") {
            reader,
            _ in try await reader.events(since: Self.since, until: Self.now)
        }
        #expect(events.isEmpty)
    }
}
