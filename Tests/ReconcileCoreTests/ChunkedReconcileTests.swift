import Foundation
import Logging
import ReconcileSandbox
import Testing

@testable import ReconcileCore

/// A run classifies the window's resources a chunk at a time, with the provider's answers held in
/// memory up to a limit and in a temporary SQLite file beyond it: none of these may change what it
/// finds or repairs, on either engine.
@Suite struct ChunkedReconcileTests {
    static let now = Date(timeIntervalSince1970: 1_783_670_400)  // 2026-07-10T08:00:00Z

    /// What a run found and left in the store, as text that two runs can be compared by.
    struct Outcome: Equatable {
        var findings: [String]
        var rows: [String]
        var events: [String]
        var repairs: Int
    }

    /// Ingests the three-provider history of `seed` into a new store of `engine`, runs the job
    /// once with `chunkSize`, and describes the result.
    static func run(
        _ history: SandboxCombinedHistory,
        server: SandboxServer,
        engine: TestStore,
        chunkSize: Int,
        answersInMemory: Int = RunScratch.heldBytes
    ) async throws -> Outcome {
        try await withTemporaryDirectory { folder in
            try await engine.withJobStore(in: folder) { target, extra, variables in
                let (text, environment) = history.jobFile(
                    name: "chunks",
                    store: target,
                    reports: folder.appendingPathComponent("reports").path,
                    baseURL: server.baseURL(for:),
                    extra: extra
                )
                let job = try JobFile.parse(
                    text: text,
                    file: "job.yml",
                    environment: environment.merging(variables) { _, new in new }
                )
                let opened = try await OpenedStore.open(
                    job.store,
                    origin: "job.yml",
                    password: job.storePassword,
                    creation: .allowed,
                    logger: Logger(label: "test")
                )
                do {
                    let outcome = try await run(
                        job,
                        history: history,
                        store: opened.store,
                        folder: folder,
                        chunkSize: chunkSize,
                        answersInMemory: answersInMemory
                    )
                    await opened.close()
                    return outcome
                } catch {
                    await opened.close()
                    throw error
                }
            }
        }
    }

    private static func run(
        _ job: JobConfig,
        history: SandboxCombinedHistory,
        store: any ReconcileStore,
        folder: URL,
        chunkSize: Int,
        answersInMemory: Int
    ) async throws -> Outcome {
        let capture = folder.appendingPathComponent("capture.ndjson")
        try Data(history.captureNDJSON.utf8).write(to: capture)
        let ingestor = Ingestor(
            job: job,
            adapters: Dictionary(
                uniqueKeysWithValues: job.providers.map { ($0.name, ProviderRegistry.adapter(for: $0)) }
            ),
            store: store,
            clock: JobClock(now: now),
            logger: Logger(label: "test")
        )
        var summary = IngestSummary()
        try await ingestor.ingest(handle: try FileHandle(forReadingFrom: capture), source: "capture", into: &summary)

        var options = RunOptions()
        options.chunkSize = chunkSize
        options.answersInMemory = answersInMemory
        let outcome = try await JobRunner(job: job, clock: JobClock(now: now), logger: Logger(label: "test"))
            .run(options)
        #expect(outcome.report.providers.allSatisfy { $0.status == "complete" })
        let inspected = try #require(store as? any StoreInspection)
        return Outcome(
            findings: outcome.report.findings.map { finding in
                "\(finding.key) repaired=\(finding.repaired) \(ReconcileCore.JSONValue.object(finding.details).canonicalText)"
            },
            rows: try await inspected.stateSnapshot(),
            events: try await inspected.eventSnapshot(),
            repairs: try await inspected.tableCounts()["repair"] ?? 0
        )
    }

    /// The same on every engine, too: the reconciliation does not know which one it talks to.
    @Test(arguments: [7, 41] as [UInt64])
    func chunksOfOneFindAndRepairWhatOneChunkDoesOnEveryEngine(seed: UInt64) async throws {
        let history = SandboxHistory.all(seed: seed, now: Self.now)
        var quiet = Logger(label: "sandbox")
        quiet.logLevel = .critical
        let server = try await SandboxServer.start(world: history.world, logger: quiet)
        do {
            let whole = try await Self.run(history, server: server, engine: .sqlite, chunkSize: 100_000)
            #expect(whole.findings.count > 20, "the history has findings of every kind")
            #expect(whole.repairs > 0)
            for engine in TestStore.engines {
                // The answers all in memory (the default), all in the file (0), and moved to the
                // file after the first few events (a limit of 4,000 estimated bytes).
                let settings: [(size: Int, memory: Int)] =
                    engine == .sqlite
                    ? [(1, RunScratch.heldBytes), (3, RunScratch.heldBytes), (100_000, 0), (3, 0), (1, 4_000)]
                    : [(100_000, RunScratch.heldBytes), (1, RunScratch.heldBytes), (3, 4_000)]
                for (size, memory) in settings {
                    let chunked = try await Self.run(
                        history,
                        server: server,
                        engine: engine,
                        chunkSize: size,
                        answersInMemory: memory
                    )
                    let label = "\(engine), chunks of \(size), \(memory) bytes of answers in memory"
                    #expect(chunked.findings == whole.findings, "\(label): findings")
                    #expect(chunked.rows == whole.rows, "\(label): local rows after the repair")
                    #expect(chunked.events == whole.events, "\(label): recorded events")
                    #expect(chunked.repairs == whole.repairs, "\(label): audit rows")
                }
            }
            await server.shutdown()
        } catch {
            await server.shutdown()
            throw error
        }
    }

    /// The key of payment `id`.
    static func payment(_ id: String) -> ResourceKey { ResourceKey("payment", id) }

    static func event(_ id: String, resource: String, at seconds: Double, status: String?, amount: Int64?)
        -> ProviderEvent
    {
        var object: [String: ReconcileCore.JSONValue] = ["id": .string(resource), "note": "é \u{1F4B8} \"quoted\""]
        if let status { object["status"] = .string(status) }
        if let amount { object["amount"] = .integer(amount) }
        var event = ProviderEvent(
            eventID: id,
            eventType: "payment.updated",
            snapshot: ResourceSnapshot(
                resourceType: "payment",
                resourceID: resource,
                status: status,
                updatedAt: now.addingTimeInterval(seconds),
                object: .object(object),
                money: amount.map { Money(minorUnits: $0, currency: "EUR") }
            ),
            // Credicorp's shape: the object inside the envelope, which the file keeps once.
            payload: .object(["data": .object(["object": .object(object)]), "id": .string(id)])
        )
        if seconds < 0 { event.bodyPointer = "/events/1" }
        return event
    }

    /// Where the answers are held while a test keeps them: in memory, in the file, or in memory
    /// until a few rows are kept and in the file from then on.
    static let answerLimits = [RunScratch.heldBytes, 0, 1_500]

    @Test(arguments: answerLimits)
    func theTemporaryFileKeepsTheNewestVersionAndGivesBackWhatItWasGiven(memoryLimit: Int) async throws {
        let scratch = try RunScratch(memoryLimit: memoryLimit)
        let first = [
            Self.event("evt_1", resource: "pay_a", at: 0.001, status: "pending", amount: 1_050),
            Self.event("evt_2", resource: "pay_b", at: -3_600.25, status: nil, amount: nil),
        ]
        #expect(try await scratch.keep(events: first) == KeptRows(new: 2, newer: 0))
        let older = Self.event("evt_1", resource: "pay_a", at: -10, status: "created", amount: 1_050)
        let newer = Self.event("evt_2", resource: "pay_b", at: 1_234.567, status: "failed", amount: 7)
        #expect(try await scratch.keep(events: [older, newer]) == KeptRows(new: 0, newer: 1))
        let same = Self.event("evt_1", resource: "pay_a", at: 0.001, status: "succeeded", amount: 1_050)
        #expect(try await scratch.keep(events: [same]) == KeptRows(new: 0, newer: 0), "an equal time adds nothing")

        let key = Self.payment
        #expect(
            try scratch.events(from: key("pay_a"), through: key("pay_a")) == [ListedEvent(same)],
            "the later of equal times"
        )
        #expect(try scratch.events(from: key("pay_b"), through: key("pay_b")) == [ListedEvent(newer)])
        #expect(try scratch.events(from: key("pay_a"), through: key("pay_b")).map(\.eventID) == ["evt_1", "evt_2"])

        #expect(try scratch.keep(resources: [newer.snapshot, first[0].snapshot]) == KeptRows(new: 2, newer: 0))
        #expect(try scratch.keep(resources: [first[1].snapshot]) == KeptRows(), "an older version is not kept")
        let listed = try scratch.resources(from: key("pay_a"), through: key("pay_z"))
        #expect(listed == [key("pay_a"): first[0].snapshot, key("pay_b"): newer.snapshot])
        #expect(
            try scratch.money(of: [key("pay_b"), key("pay_c")]) == [key("pay_b"): Money(minorUnits: 7, currency: "EUR")]
        )
        #expect(try scratch.knownEvents(["evt_2", "evt_9"]) == ["evt_2"])

        try scratch.add(keys: [key("pay_c"), key("pay_a")], classified: false)
        try scratch.addRemoteKeys()
        try scratch.add(keys: [key("pay_d")], classified: true)
        try scratch.add(keys: [key("pay_d")], classified: false)
        let firstTwo = try scratch.keys(after: nil, limit: 2)
        #expect(firstTwo.map(\.key) == [key("pay_a"), key("pay_b")])
        #expect(firstTwo.map(\.classified) == [true, true], "named by the provider: classified")
        let rest = try scratch.keys(after: key("pay_b"), limit: 5)
        #expect(rest.map(\.key) == [key("pay_c"), key("pay_d")])
        #expect(rest.map(\.classified) == [false, true], "once classified, a resource stays so")
        #expect(try scratch.counts() == (events: 2, resources: 2))

        // An object found nowhere in its payload is kept whole, its numbers as they were: a
        // whole `.number` read back as `.integer` would no longer equal our row's.
        var apart = Self.event("evt_3", resource: "pay_c", at: 5, status: "created", amount: 1)
        apart.snapshot.object = .object([
            "id": "pay_c", "rate": .number(12.0), "zero": .number(-0.0), "small": .number(0.1), "big": .number(1e300),
            "count": .integer(12),
        ])
        _ = try await scratch.keep(events: [apart])
        #expect(try scratch.events(from: key("pay_c"), through: key("pay_c")) == [ListedEvent(apart)])

        // A repair that records an event takes its whole text from the kept list; an id the list
        // does not hold plans nothing.
        try scratch.plan(events: [("f_3", "evt_3"), ("f_1", "evt_1"), ("f_9", "evt_9")], resources: [])
        var planned: [(findingKey: String, body: String)] = []
        try scratch.plannedRepairs(kind: "event", batch: 10) { planned += $0 }
        #expect(planned.map(\.findingKey) == ["f_3", "f_1"])
        #expect(try planned.map { try ScratchCodec.event($0.body) } == [apart, same])
        #expect(scratch.holdsAnswers == (memoryLimit == RunScratch.heldBytes), "held, or moved to the file")
    }

    @Test(arguments: [RunScratch.heldBytes, 0, 200_000])
    func pagesBeyondOneCommitAreAllKeptAndTheNewestVersionStillWins(memoryLimit: Int) async throws {
        let scratch = try RunScratch(memoryLimit: memoryLimit)
        // Pages of 100 past RunScratch.rowsPerCommit rows: the pages share transactions, each
        // committed once it holds that many rows, and the reads that follow see every one.
        let pages = RunScratch.rowsPerCommit / 100 + 3
        for page in 0..<pages {
            let events = (0..<100).map { row in
                Self.event(
                    "evt_\(page)_\(row)",
                    resource: "pay_\(row)",
                    at: Double(page * 100 + row),
                    status: "created",
                    amount: 1
                )
            }
            #expect(try await scratch.keep(events: events) == KeptRows(new: 100, newer: 0))
        }
        // The first page's first event again, newer, and an older version of the last page's last one.
        let newer = Self.event("evt_0_0", resource: "pay_0", at: 1e6, status: "succeeded", amount: 1)
        let older = Self.event("evt_\(pages - 1)_99", resource: "pay_99", at: -1, status: "failed", amount: 1)
        #expect(try await scratch.keep(events: [newer, older]) == KeptRows(new: 0, newer: 1))
        #expect(try scratch.counts() == (events: pages * 100, resources: 0))
        let first = try scratch.events(from: ResourceKey("payment", "pay_0"), through: ResourceKey("payment", "pay_0"))
        #expect(first.count == pages)
        #expect(first.last == ListedEvent(newer))
        let last = try scratch.events(from: ResourceKey("payment", "pay_99"), through: ResourceKey("payment", "pay_99"))
        let kept = last.first { $0.eventID == "evt_\(pages - 1)_99" }
        #expect(kept?.status == "created", "the older version (failed) is not kept")
        #expect(
            kept?.occurredAt
                == Self.event("x", resource: "x", at: Double(pages * 100 - 1), status: nil, amount: nil).occurredAt
        )
        #expect(scratch.holdsAnswers == (memoryLimit == RunScratch.heldBytes), "held, or moved to the file")
    }

    /// A full temporary folder fails the run, wherever the answers were.
    ///
    /// With every answer in the file (0), a page fails. With the answers held until a few pages are
    /// (about 1,300 estimated bytes an event), their move fails, the file being too small for them.
    @Test(arguments: [
        (0, "keep the provider's events", "could not be kept"),
        (1_000_000, "move the provider's answers to the temporary file", "could not be moved"),
    ])
    func aPageThatCannotBeKeptFailsEveryLaterUseOfTheFile(
        memoryLimit: Int,
        operation: String,
        reason: String
    ) async throws {
        // A full temporary folder, after a few pages: SQLite's file may not grow past 40 pages.
        let scratch = try RunScratch(pageLimit: 40, memoryLimit: memoryLimit)
        var kept = 0
        var failure: (any Error)?
        for page in 0..<100 where failure == nil {
            let events = (0..<100).map { row in
                Self.event("evt_\(page)_\(row)", resource: "pay_\(page)", at: Double(row), status: "created", amount: 1)
            }
            do {
                _ = try await scratch.keep(events: events)
                kept += 1
            } catch {
                failure = error
            }
        }
        #expect(kept > 0, "the first pages fit")
        let full = try #require(failure as? StoreFailure)
        #expect(full.description.contains(operation), "\(full)")
        #expect(
            full.description.contains("a temporary file in \(SQLiteTemporaryFolder.current().path)"),
            "it says where the file is"
        )
        #expect(full.description.contains("the disk of that temporary folder is full"), "\(full)")
        #expect(!full.description.contains("store file"), "the store is not involved: \(full)")
        // The pages before it that were not committed went with it: nothing may read a file that lost them.
        let later = #expect(throws: StoreFailure.self) { _ = try scratch.counts() }
        #expect(later?.reason.contains(reason) == true, "\(String(describing: later))")
        await #expect(throws: StoreFailure.self) {
            _ = try await scratch.keep(events: [Self.event("evt_x", resource: "pay_x", at: 1, status: nil, amount: nil)]
            )
        }
        #expect(throws: StoreFailure.self) { _ = try scratch.keep(resources: []) }
    }

    @Test(arguments: answerLimits)
    func anEventTheStoreRecordsIsKeptWithoutItsTextAndCannotBePlannedForRecording(memoryLimit: Int) async throws {
        let pages = Counter()
        let scratch = try RunScratch(
            recorded: { ids, occurred in
                _ = pages.next()
                #expect(
                    occurred == Self.now.addingTimeInterval(1)...Self.now.addingTimeInterval(2),
                    "where the page's times lie"
                )
                return Set(ids.filter { $0.hasSuffix("_recorded") }.map { ExactID($0) })
            },
            memoryLimit: memoryLimit
        )
        let events = [
            Self.event("evt_recorded", resource: "pay_a", at: 1, status: "pending", amount: 500),
            Self.event("evt_new", resource: "pay_a", at: 2, status: "succeeded", amount: 500),
        ]
        #expect(try await scratch.keep(events: events) == KeptRows(new: 2, newer: 0))
        #expect(pages.next() == 1, "one question per page")
        let key = ResourceKey("payment", "pay_a")
        #expect(try scratch.events(from: key, through: key) == events.map(ListedEvent.init), "its columns are kept")

        try scratch.plan(events: [("f_new", "evt_new")], resources: [])
        let failure = #expect(throws: StoreFailure.self) {
            try scratch.plan(events: [("f_missing", "evt_9"), ("f_recorded", "evt_recorded")], resources: [])
        }
        #expect(failure?.reason.contains("event evt_recorded is to be recorded") == true)
        var planned: [(findingKey: String, body: String)] = []
        try scratch.plannedRepairs(kind: "event", batch: 10) { planned += $0 }
        #expect(planned.map(\.findingKey) == ["f_new"], "the failed plan left nothing half-kept")
        #expect(try planned.map { try ScratchCodec.event($0.body) } == [events[1]])
    }

    /// Answers moved to the file part way are compared with what comes after them there: an older
    /// version is not kept, a newer one is, and each question is answered as before the move.
    @Test func answersMovedToTheFilePartWayAreAnsweredAsTheyWereHeld() async throws {
        let recordedIDs: Set<ExactID> = ["evt_a1"]
        let scratch = try RunScratch(
            recorded: { ids, _ in recordedIDs.intersection(ids.map { ExactID($0) }) },
            memoryLimit: 3_000
        )
        let key = Self.payment
        let first = [
            Self.event("evt_a1", resource: "pay_a", at: 1, status: "pending", amount: 100),
            Self.event("evt_b1", resource: "pay_b", at: 2, status: "pending", amount: 200),
        ]
        #expect(try await scratch.keep(events: first) == KeptRows(new: 2, newer: 0))
        #expect(try scratch.keep(resources: [first[1].snapshot]) == KeptRows(new: 1, newer: 0))
        // Read by id: kept for its money, never counted or given back as listed.
        var fetched = Self.event("evt_f", resource: "pay_f", at: 3, status: "pending", amount: 900).snapshot
        try scratch.keep(fetched: fetched)
        #expect(scratch.holdsAnswers)
        // Past the limit: everything so far moves to the file, this page with it.
        let second = (0..<8).map { row in
            Self.event("evt_c\(row)", resource: "pay_c", at: Double(10 + row), status: "created", amount: 300)
        }
        #expect(try await scratch.keep(events: second) == KeptRows(new: 8, newer: 0))
        #expect(!scratch.holdsAnswers, "moved to the file")
        // Versions of what was held, now compared with the file's rows.
        let older = Self.event("evt_a1", resource: "pay_a", at: 0, status: "created", amount: 100)
        let newer = Self.event("evt_b1", resource: "pay_b", at: 5, status: "failed", amount: 200)
        #expect(try await scratch.keep(events: [older, newer]) == KeptRows(new: 0, newer: 1))
        #expect(try scratch.keep(resources: [first[1].snapshot]) == KeptRows(), "an equal time adds nothing new")
        // A resource read by id does not replace a listed one, in the file either.
        var refetched = newer.snapshot
        refetched.money = Money(minorUnits: 1, currency: "EUR")
        try scratch.keep(fetched: refetched)
        fetched.money = Money(minorUnits: 901, currency: "EUR")
        try scratch.keep(fetched: fetched)

        #expect(try scratch.events(from: key("pay_a"), through: key("pay_a")) == [ListedEvent(first[0])])
        #expect(try scratch.events(from: key("pay_b"), through: key("pay_b")) == [ListedEvent(newer)])
        #expect(try scratch.events(from: key("pay_a"), through: key("pay_c")).count == 10)
        #expect(try scratch.counts() == (events: 10, resources: 1))
        #expect(try scratch.knownEvents(["evt_a1", "evt_c7", "evt_z"]) == ["evt_a1", "evt_c7"])
        #expect(
            try scratch.money(of: [key("pay_b"), key("pay_f")]) == [
                key("pay_b"): Money(minorUnits: 200, currency: "EUR"),
                key("pay_f"): Money(minorUnits: 901, currency: "EUR"),
            ]
        )
        #expect(try scratch.resources(from: key("pay_a"), through: key("pay_z")) == [key("pay_b"): first[1].snapshot])

        try scratch.addRemoteKeys()
        try scratch.add(keys: [key("pay_d")], classified: false)
        #expect(try scratch.keys(after: nil, limit: 10).map(\.key) == ["pay_a", "pay_b", "pay_c", "pay_d"].map(key))
        // The whole of an event the store lacked went with it; one the store had cannot be planned.
        try scratch.plan(events: [("f_b", "evt_b1")], resources: [])
        #expect(throws: StoreFailure.self) { try scratch.plan(events: [("f_a", "evt_a1")], resources: []) }
        var planned: [(findingKey: String, body: String)] = []
        try scratch.plannedRepairs(kind: "event", batch: 10) { planned += $0 }
        #expect(try planned.map { try ScratchCodec.event($0.body) } == [newer])
    }

    /// The window's keys may be what passes the limit, after the lists are read: they move with
    /// the rest, classified as they were.
    @Test func answersThatPassTheLimitWithTheWindowsKeysMoveWithThem() async throws {
        let scratch = try RunScratch(recorded: { ids, _ in Set(ids.map { ExactID($0) }) }, memoryLimit: 2_000)
        let key = Self.payment
        let events = (0..<4).map {
            Self.event("evt_\($0)", resource: "pay_\($0)", at: Double($0), status: "created", amount: 1)
        }
        _ = try await scratch.keep(events: events)
        try scratch.addRemoteKeys()
        #expect(scratch.holdsAnswers)
        try scratch.add(keys: (10..<40).map { key("pay_\($0)") }, classified: false)
        #expect(!scratch.holdsAnswers, "moved to the file")
        try scratch.add(keys: [key("pay_12")], classified: true)
        let keys = try scratch.keys(after: nil, limit: 100)
        #expect(keys.count == 34)
        #expect(keys.filter(\.classified).map(\.key) == ["pay_0", "pay_1", "pay_12", "pay_2", "pay_3"].map(key))
        #expect(try scratch.events(from: key("pay_0"), through: key("pay_3")) == events.map(ListedEvent.init))
        #expect(try scratch.keys(after: key("pay_38"), limit: 5).map(\.key) == [key("pay_39")])
    }

    /// Every scratch of a process holds its answers within one budget.
    ///
    /// A run reads up to three providers at once. Once one lets its answers go, another may hold
    /// again; asking answers let go fails rather than finding the file empty.
    @Test func answersShareOneBudgetAndAreLetGoOnceClassified() async throws {
        let budget = HeldBudget(bytes: 4_000)
        let recorded: RunScratch.RecordedEvents = { ids, _ in Set(ids.map { ExactID($0) }) }
        let page = { (prefix: String) in
            (0..<10).map {
                Self.event(
                    "evt_\(prefix)\($0)",
                    resource: "pay_\(prefix)",
                    at: Double($0),
                    status: "created",
                    amount: 1
                )
            }
        }
        let first = try RunScratch(recorded: recorded, budget: budget)
        _ = try await first.keep(events: page("a"))
        #expect(first.holdsAnswers, "about 1,600 estimated bytes")
        let second = try RunScratch(recorded: recorded, budget: budget)
        _ = try await second.keep(events: page("b"))
        _ = try await second.keep(events: page("c"))
        #expect(!second.holdsAnswers, "the budget could not spare another 3,200 bytes: moved to the file")
        #expect(
            try second.events(from: ResourceKey("payment", "pay_b"), through: ResourceKey("payment", "pay_c")).count
                == 20
        )

        try first.plan(events: [], resources: [("f_1", 0, LocalResource(snapshot: page("a")[0].snapshot))])
        first.letGoOfAnswers()
        #expect(throws: StoreFailure.self) {
            _ = try first.events(from: ResourceKey("payment", ""), through: ResourceKey("payment", "z"))
        }
        #expect(try first.plannedCount() == 1, "the planned repairs stay")
        let third = try RunScratch(recorded: recorded, budget: budget)
        _ = try await third.keep(events: page("d"))
        _ = try await third.keep(events: page("e"))
        #expect(third.holdsAnswers, "the first's share came back")
    }

    /// Held or in the file, ids are kept apart and ordered by their bytes, as SQLite's `BINARY`
    /// does: `e` + U+0301, `z`, then `é` (U+00E9), which Swift's `String` takes for the first.
    @Test(arguments: answerLimits)
    func idsAreKeptApartAndOrderedByTheirBytes(memoryLimit: Int) async throws {
        let scratch = try RunScratch(memoryLimit: memoryLimit)
        let composed = "pay_\u{E9}"
        let decomposed = "pay_e\u{301}"
        let events = [
            Self.event("evt_z", resource: composed, at: 5, status: "created", amount: 1),
            Self.event("evt_\u{E9}", resource: decomposed, at: 5, status: "created", amount: 2),
            Self.event("evt_e\u{301}", resource: "pay_z", at: 5, status: "created", amount: 3),
            Self.event("evt_a", resource: decomposed, at: 5, status: "pending", amount: 2),
        ]
        #expect(try await scratch.keep(events: events) == KeptRows(new: 4, newer: 0))
        try scratch.addRemoteKeys()
        let keys = try scratch.keys(after: nil, limit: 10).map { Array($0.key.id.utf8) }
        #expect(keys == [decomposed, "pay_z", composed].map { Array($0.utf8) })
        let all = try scratch.events(
            from: ResourceKey("payment", decomposed),
            through: ResourceKey("payment", composed)
        )
        #expect(
            all.map { Array($0.eventID.utf8) }
                == ["evt_a", "evt_e\u{301}", "evt_z", "evt_\u{E9}"].map { Array($0.utf8) }
        )
        let one = try scratch.events(from: ResourceKey("payment", composed), through: ResourceKey("payment", composed))
        #expect(one.map(\.eventID) == ["evt_z"])
        #expect(try scratch.knownEvents(["evt_e\u{301}", "evt_\u{E9}", "evt_x"]).count == 2)
        #expect(
            try scratch.keys(after: ResourceKey("payment", decomposed), limit: 1).map { Array($0.key.id.utf8) }
                == [Array("pay_z".utf8)]
        )
    }
}
