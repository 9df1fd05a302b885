import Foundation
import ReconcileCore
import ReconcileSandbox
import Testing

/// SIGKILL at any instant of `run` and `ingest`, on a history with thousands of repairs.
///
/// After every kill: the lock is free, each transaction is all or nothing, and the next complete
/// command leaves exactly what an uninterrupted one leaves (for `run`: nothing repairable, the
/// provider's state). A SQLite file also passes `PRAGMA integrity_check`.
///
/// On PostgreSQL, where a provider's repairs commit 500 at a time, a killed run leaves whole
/// batches; on SQLite all of them or none. The PostgreSQL pass tries fewer points: its commands
/// take longer, and the same instants of a run are covered.
@Suite(.serialized) struct KillCLITests {
    static let chains = 1_200
    static let points = CLIHarness.engine == .sqlite ? 50 : 16
    /// How many of the run's kill points follow the repair's commit.
    static let pointsAfterRepair = CLIHarness.engine == .sqlite ? 10 : 4
    /// The ingest's points; fewer on PostgreSQL, where an ingest takes longer.
    static let ingestPoints = CLIHarness.engine == .sqlite ? 50 : 12
    /// The log line a run writes once a provider's repairs committed.
    static let repairCommitted = "provider.repaired"
    static let repairableKinds: Set<String> = ["dropped_event", "state_mismatch", "missing_locally"]

    /// Rows a kill may never leave half-written: events recorded by a repair, and the repair rows.
    static func repairFootprint(_ store: any StoreInspection) async throws -> (recorded: Int, repairs: Int) {
        let counts = try await store.tableCounts()
        let recorded = try await store.eventCounts(source: "reconciliation")
        return (recorded, counts["repair"] ?? 0)
    }

    /// The local rows `state` has that `initial` has not: rows a repair wrote or changed.
    static func changedRows(from initial: [String], to state: [String]) -> Int {
        Set(state).subtracting(initial).count
    }

    static func repairable(_ report: [String: Any]) -> [[String: Any]] {
        (report["findings"] as? [[String: Any]] ?? []).filter {
            repairableKinds.contains($0["kind"] as? String ?? "")
        }
    }

    @Test func aRunKilledAtAnyInstantLosesNothingAndTheNextRunLeavesNothingRepairable() async throws {
        try await CLIHarness.with(seed: 53, bulkChains: Self.chains) { cli in
            let template = try await cli.store("template.sqlite")
            let ingest = try await cli.reconcile(["ingest", "job.yml", "captures.ndjson", "--store", template])
            #expect(ingest.status == 0, "\(ingest.stdout.suffix(300))")
            let initial = try #require(try await cli.inspect("template.sqlite") { try await $0.stateSnapshot() })

            // The reference: one uninterrupted run, timed, on a copy.
            try await cli.copyStore("template.sqlite", to: "reference.sqlite")
            let run = try await cli.reconcile(
                ["run", "job.yml", "--store", try await cli.store("reference.sqlite"), "--report-json", "ref.json"],
                marker: Self.repairCommitted
            )
            var duration = run.elapsed
            // From the repair's commit to the end: the report, the run's findings, retention.
            let tail = run.elapsed - (run.markerSeen ?? run.elapsed)
            #expect(run.markerSeen != nil, "the run logs \(Self.repairCommitted)")
            #expect(run.status == 0, "\(run.stderr.suffix(500))")
            let report = try cli.report("ref.json")
            let repairs = report["repairs"] as? Int ?? 0
            #expect(repairs > 1_000, "a history with thousands of repairs (\(repairs))")
            let (expectedState, expectedFootprint) = try #require(
                try await cli.inspect("reference.sqlite") {
                    (try await $0.stateSnapshot(), try await Self.repairFootprint($0))
                }
            )
            #expect(expectedState != initial)
            #expect(expectedFootprint.repairs == repairs)
            // Each repair row goes with what it did: an event recorded, or a local row written.
            #expect(
                expectedFootprint.repairs
                    == expectedFootprint.recorded + Self.changedRows(from: initial, to: expectedState)
            )

            let target = try await cli.store("killed.sqlite")
            var killed = 0
            var afterRepair = 0
            var partial = 0
            for point in 0..<Self.points {
                try await cli.copyStore("template.sqlite", to: "killed.sqlite")
                // Most points are spread over the whole run; the last ones over what follows the
                // repair's commit, timed from its log line, which is short and would else be missed.
                let spread = Self.points - Self.pointsAfterRepair
                let attempt: CLIHarness.Result
                if point < spread {
                    attempt = try await cli.reconcile(
                        ["run", "job.yml", "--store", target],
                        signal: SIGKILL,
                        after: duration * (Double(point) + 0.5) / Double(spread)
                    )
                } else {
                    attempt = try await cli.reconcile(
                        ["run", "job.yml", "--store", target],
                        signal: SIGKILL,
                        after: tail * Double(point - spread) / Double(Self.pointsAfterRepair),
                        marker: Self.repairCommitted
                    )
                }
                let (state, footprint) = try #require(
                    try await cli.inspect("killed.sqlite") {
                        (try await $0.stateSnapshot(), try await Self.repairFootprint($0))
                    }
                )
                if attempt.killed {
                    killed += 1
                    // Killed after the repair committed: while it wrote the report, finished or pruned.
                    if state == expectedState { afterRepair += 1 }
                }
                if CLIHarness.engine == .sqlite {
                    #expect(try Store(path: cli.path("killed.sqlite").path).integrityCheck() == "ok", "point \(point)")
                }
                #expect(try await cli.lockIsFree("killed.sqlite"), "a killed run leaves no lock (point \(point))")
                let whole =
                    (state == initial && footprint == (0, 0))
                    || (state == expectedState && footprint == expectedFootprint)
                if CLIHarness.engine == .sqlite || whole {
                    #expect(whole, "the repair and its audit rows are one transaction (point \(point), \(footprint))")
                } else {
                    partial += 1
                    #expect(attempt.killed, "only a kill leaves part of the repairs (point \(point))")
                    let changed = Self.changedRows(from: initial, to: state)
                    #expect(
                        footprint.repairs == footprint.recorded + changed,
                        "each repair row with what it did (point \(point): \(footprint), \(changed) rows changed)"
                    )
                    #expect(footprint.repairs < expectedFootprint.repairs, "point \(point)")
                }

                // The next complete run finishes the work; a dry run then finds nothing to repair.
                let nextStarted = Date()
                let next = try await cli.reconcile(["run", "job.yml", "--store", target])
                if state == initial {
                    // A whole run's work again: follow the machine's pace, so kills stay spread over a run.
                    duration = (duration + Date().timeIntervalSince(nextStarted)) / 2
                }
                #expect([0, 1].contains(next.status), "point \(point): \(next.stderr.suffix(300))")
                let dry = try await cli.reconcile(
                    ["run", "job.yml", "--store", target, "--dry-run", "--report-json", "dry.json"]
                )
                let left = Self.repairable(try cli.report("dry.json"))
                #expect(
                    left.isEmpty,
                    "point \(point): \(left.count) repairable findings left, e.g. \(left.first ?? [:])"
                )
                #expect(dry.status == 0, "point \(point)")
                #expect(
                    try await cli.inspect("killed.sqlite") { try await $0.stateSnapshot() } == expectedState,
                    "the provider's state (point \(point))"
                )
            }
            print(
                "run kill test (\(CLIHarness.engine)): \(Self.points) points over \(duration) s (\(tail) s after the "
                    + "repair), \(killed) killed mid-run, \(afterRepair) of them after the repair committed, "
                    + "\(partial) in the middle of it"
            )
            #expect(killed >= Self.points / 2, "\(killed) of \(Self.points) kills landed mid-run")
            #expect(afterRepair > 0 && afterRepair < killed, "kills landed both before and after the repair")
        }
    }

    @Test func anIngestKilledAtAnyInstantGoesOnToTheSameStore() async throws {
        try await CLIHarness.with(seed: 59, bulkChains: Self.chains) { cli in
            let reference = try await cli.store("reference.sqlite")
            let started = Date()
            let whole = try await cli.reconcile(["ingest", "job.yml", "captures.ndjson", "--store", reference])
            let duration = Date().timeIntervalSince(started)
            #expect(whole.status == 0)
            let (expectedCounts, expectedState) = try #require(
                try await cli.inspect("reference.sqlite") { (try await $0.tableCounts(), try await $0.stateSnapshot()) }
            )
            let lines = expectedCounts["delivery"] ?? 0
            #expect(lines > 2_000)

            let target = try await cli.store("killed.sqlite")
            var killed = 0
            // The ingest's length, as the kills find it: the reference ingest may have shared the
            // machine with other suites starting; an ingest that ends before its kill is timed anew.
            var length = duration
            for point in 0..<Self.ingestPoints {
                try await cli.emptyStore("killed.sqlite")
                let delay = length * (Double(point) + 0.5) / Double(Self.ingestPoints)
                let attemptStarted = Date()
                let attempt = try await cli.reconcile(
                    ["ingest", "job.yml", "captures.ndjson", "--store", target],
                    signal: SIGKILL,
                    after: delay
                )
                if attempt.killed {
                    killed += 1
                } else {
                    length = min(length, Date().timeIntervalSince(attemptStarted))
                }
                let left = try await cli.inspect("killed.sqlite") {
                    (try await $0.tableCounts()["delivery"] ?? 0, try await $0.acceptedDeliveriesWithoutEvents())
                }
                if let (recorded, withoutEvents) = left {
                    if CLIHarness.engine == .sqlite {
                        #expect(
                            try Store(path: cli.path("killed.sqlite").path).integrityCheck() == "ok",
                            "point \(point)"
                        )
                    }
                    #expect(
                        recorded == lines || recorded % 500 == 0,  // the ingestor commits 500 lines a transaction
                        "whole batches only: \(recorded) lines at point \(point)"
                    )
                    #expect(withoutEvents == 0, "point \(point)")
                }
                let again = try await cli.reconcile(["ingest", "job.yml", "captures.ndjson", "--store", target])
                #expect(again.status == 0, "point \(point): \(again.stdout.suffix(300))")
                let (counts, state) = try #require(
                    try await cli.inspect("killed.sqlite") {
                        (try await $0.tableCounts(), try await $0.stateSnapshot())
                    }
                )
                #expect(counts == expectedCounts, "point \(point)")
                #expect(state == expectedState, "point \(point)")
            }
            print(
                "ingest kill test (\(CLIHarness.engine)): \(Self.ingestPoints) points over \(duration) s, "
                    + "\(killed) killed mid-ingest"
            )
            #expect(killed >= Self.ingestPoints / 2, "\(killed) of \(Self.ingestPoints) kills landed mid-ingest")
        }
    }
}
