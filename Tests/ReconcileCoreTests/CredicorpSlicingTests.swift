import Foundation
import Logging
import ReconcileSandbox
import Testing

@testable import ReconcileCore

/// Credicorp's cursor lists, read against the sandbox: a long one in slices of time at once, each
/// row once and the requests near the fewest pages; a short one in one chain, as before.
@Suite struct CredicorpSlicingTests {
    static let now = ReaderPagingTests.now
    static let since = ReaderPagingTests.since

    /// A world of `count` payments, each with one event at its `updated` time, spread evenly over
    /// the window; the first `dense` of them lie in its first minute.
    static func world(payments count: Int, dense: Int = 0) -> SandboxWorld {
        var credicorp = CredicorpWorld(
            apiKey: "sk_test",
            endpoint: CredicorpEndpoint(id: "whend_x", url: "", enabledEvents: [], created: now)
        )
        let span = now.timeIntervalSince(since) - 120
        for index in 0..<count {
            let offset =
                index < dense
                ? 1 + Double(index) * 0.5
                : 60 + span * Double(index - dense) / Double(max(1, count - dense))
            let at = since.addingTimeInterval(offset)
            let payment = CredicorpObject(
                kind: .payment,
                id: String(format: "pay_%05d", index),
                status: "succeeded",
                created: at,
                updated: at,
                amount: 1_000,
                currency: "GBP"
            )
            credicorp.record(eventID: String(format: "evt_%05d", index), type: "payment.succeeded", object: payment)
        }
        return SandboxWorld(now: now, credicorp: credicorp, crezco: .init(), credify: .init())
    }

    /// Runs `body` with a Credicorp reader (`max_rows` of `maxRows`) against a sandbox serving `world`,
    /// each list page answered `slow` milliseconds late so that chains reading at once overlap.
    static func withReader<T>(
        _ world: SandboxWorld,
        maxRows: Int = ProviderConfig.defaultMaxRows,
        slow: Int = 5,
        _ body: (any ProviderReader, SandboxServer) async throws -> T
    ) async throws -> T {
        var quiet = Logger(label: "sandbox")
        quiet.logLevel = .critical
        let server = try await SandboxServer.start(world: world, logger: quiet)
        do {
            await server.setFaults([SandboxFault(.slow(milliseconds: slow), provider: "credicorp", times: nil)])
            var config = Fixture.credicorpConfig(baseURL: server.baseURL(for: "credicorp"))
            config.maxRows = maxRows
            let reader = CredicorpAdapter(config: config).makeReader(logger: Logger(label: "test"))
            let result = try await body(reader, server)
            await server.shutdown()
            return result
        } catch {
            await server.shutdown()
            throw error
        }
    }

    /// Refunds `pay_00010` thirty seconds before the window's end: it moves from the list's start to its end.
    @Sendable static func refund(_ world: inout SandboxWorld) {
        guard var payment = world.credicorp.objects["pay_00010"] else { return }
        payment.status = "refunded"
        payment.updated = now.addingTimeInterval(-30)
        world.credicorp.setObject(payment)
    }

    @Test func aLongListIsReadInSlicesAtOnceEachRowOnceWithAFewRequestsMoreThanItsPages() async throws {
        let count = 12_000
        try await Self.withReader(Self.world(payments: count)) { reader, server in
            let events = try await reader.events(since: Self.since, until: Self.now)
            #expect(events.count == count)
            #expect(Set(events.map { ExactID($0.eventID) }).count == count)
            let requests = await server.requestCount(pathPrefix: "/public/v1/events")
            #expect(requests >= count / 100 && requests <= count / 100 + CredicorpReader.chains, "\(requests)")
            let atOnce = await server.mostRequestsAtOnce()
            #expect(atOnce > 1 && atOnce <= CredicorpReader.chains, "\(atOnce)")

            await server.clearRequests()
            let payments = try await reader.resources(since: Self.since, until: Self.now)
            #expect(payments.count == count)
            #expect(Set(payments.map(\.resourceID)).count == count)
            let pages = await server.requestCount(pathPrefix: "/public/v1/payments")
            #expect(pages >= count / 100 && pages <= count / 100 + CredicorpReader.chains, "\(pages)")
        }
    }

    /// The resource lists, each too short to be cut, are read at once: one after another, each a
    /// round trip a page, they paced a run below a real provider's rate.
    @Test func theResourceListsAreReadAtOnce() async throws {
        try await Self.withReader(Self.world(payments: 300), slow: 50) { reader, server in
            let payments = try await reader.resources(since: Self.since, until: Self.now)
            #expect(payments.count == 300)
            #expect(await server.requestCount(pathPrefix: "/public/v1/payments") == 3)
            #expect(await server.mostRequestsAtOnce() >= 2, "the lists overlap")
        }
    }

    @Test func aShortListIsReadInOneChainWithTheFewestRequests() async throws {
        let count = 3_050
        try await Self.withReader(Self.world(payments: count)) { reader, server in
            let events = try await reader.events(since: Self.since, until: Self.now)
            #expect(Set(events.map { ExactID($0.eventID) }).count == count)
            #expect(await server.requestCount(pathPrefix: "/public/v1/events") == 31)
            #expect(await server.mostRequestsAtOnce() == 1)
        }
    }

    /// The first page is all from the window's first minute, so it promises far more rows than
    /// follow: the list is cut, and every row is still read once.
    @Test func aListDenseOnlyAtItsStartIsStillReadWhole() async throws {
        let count = 3_100
        try await Self.withReader(Self.world(payments: count, dense: 100)) { reader, server in
            let events = try await reader.events(since: Self.since, until: Self.now)
            #expect(events.count == count)
            #expect(Set(events.map { ExactID($0.eventID) }).count == count)
            #expect(await server.mostRequestsAtOnce() > 1, "cut in slices")
            #expect(await server.requestCount(pathPrefix: "/public/v1/events") <= 31 + CredicorpReader.chains)
        }
    }

    /// A payment of the first slice, read there, is updated to the end of the window while the
    /// other slices are read: its newer version is the one kept, and no other row is lost.
    @Test func anObjectUpdatedDuringTheReadIsKeptInItsNewestVersion() async throws {
        let count = 12_000
        try await Self.withReader(Self.world(payments: count)) { reader, server in
            await server.changeWorld(after: 2, provider: "credicorp", pathPrefix: "/public/v1/payments", Self.refund)
            let payments = try await reader.resources(since: Self.since, until: Self.now)
            #expect(payments.count == count)
            #expect(payments.first { $0.resourceID == "pay_00010" }?.status == "refunded")
        }
    }

    /// The last slice's chain ends before the others have: a payment updated after that, to the end
    /// of the window, is still read, because that chain is asked once more when all have ended.
    @Test func anObjectMovedToTheEndAfterTheLastSliceEndedIsStillRead() async throws {
        let count = 12_000
        let world = Self.world(payments: count)
        // The same read without the change: how many requests it makes (the same every time).
        let requests = try await Self.withReader(world) { reader, server in
            _ = try await reader.resources(since: Self.since, until: Self.now)
            return await server.requestCount(pathPrefix: "/public/v1/payments")
        }
        try await Self.withReader(world) { reader, server in
            // After every request the slices make, before the one that asks the last slice again.
            await server.changeWorld(
                after: requests - 1,
                provider: "credicorp",
                pathPrefix: "/public/v1/payments",
                Self.refund
            )
            let payments = try await reader.resources(since: Self.since, until: Self.now)
            #expect(payments.count == count)
            #expect(payments.first { $0.resourceID == "pay_00010" }?.status == "refunded")
            #expect(await server.requestCount(pathPrefix: "/public/v1/payments") == requests)
        }
    }

    /// `max_rows` bounds the whole list, not each slice: every slice here holds fewer rows.
    @Test func maxRowsCountsTheRowsOfEverySlice() async throws {
        await #expect {
            try await Self.withReader(Self.world(payments: 12_000), maxRows: 5_000) { reader, _ in
                try await reader.events(since: Self.since, until: Self.now).count
            }
        } throws: { error in
            guard case ProviderError.endlessList(_, let path, let detail) = error else { return false }
            return path == "/public/v1/events" && detail.contains("5000")
        }
    }

    @Test func cutsAreWholeSecondsInsideTheRestOfTheWindowOnlyForALongRest() {
        let first = Self.since.addingTimeInterval(60)
        // 100 rows an hour: 1,000 pages for the rest of the window.
        let cuts = CredicorpReader.slices(
            after: first...first.addingTimeInterval(3_600),
            rows: 100,
            until: Self.now
        )
        #expect(cuts.count == CredicorpReader.chains - 1)
        #expect(zip(cuts, cuts.dropFirst()).allSatisfy { $0 < $1 })
        #expect(cuts.allSatisfy { $0 > first.addingTimeInterval(3_600) && $0 < Self.now })
        #expect(cuts.allSatisfy { $0.timeIntervalSince1970 == $0.timeIntervalSince1970.rounded() })
        // 100 rows a day: 8 pages for the rest, read on in one chain.
        #expect(
            CredicorpReader.slices(after: first...first.addingTimeInterval(86_400), rows: 100, until: Self.now) == []
        )
        // Nothing left of the window.
        #expect(CredicorpReader.slices(after: first...Self.now, rows: 100, until: Self.now) == [])
    }

    /// A slice per 20 pages the rest is expected to hold, from 4 (80 pages; fewer are read in one
    /// chain) up to 8, so that the slices' extra requests stay within 5 % of the pages.
    @Test(arguments: [(79, 0), (80, 4), (99, 4), (100, 5), (159, 7), (160, 8), (5_000, 8)])
    func aListIsCutIntoASlicePerTwentyPagesFromFourToEight(pages: Int, slices: Int) {
        // 100 rows in 1,000 s: the rest holds a page per 1,000 s.
        let first = Date(timeIntervalSince1970: 1_700_000_000)
        let last = first.addingTimeInterval(1_000)
        let until = last.addingTimeInterval(Double(pages) * 1_000 + 0.5)
        let cuts = CredicorpReader.slices(after: first...last, rows: 100, until: until)
        #expect(cuts.count == max(0, slices - 1), "\(cuts)")
        #expect(slices <= CredicorpReader.chains)
    }
}
