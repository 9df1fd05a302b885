import Foundation
import ReconcileCore
import ReconcileSandbox
import Testing

/// SIGKILL at any instant of `run` and `ingest`, on a history with thousands of repairs.
///
/// After every kill: the store passes `PRAGMA integrity_check`, the lock is free, each
/// transaction is all or nothing, and the next complete command leaves exactly what an
/// uninterrupted one leaves (for `run`: nothing repairable, the provider's state).
// On SQLite only: these give their own store files (`--store`), so a PostgreSQL pass would repeat them.
@Suite(.serialized, .enabled(if: CLIHarness.engine == .sqlite, "stores of their own, files")) struct KillCLITests {
    static let chains = 1_200
    static let points = 50
    /// How many of the run's kill points follow the repair's commit.
    static let pointsAfterRepair = 10
    /// The log line a run writes once a provider's repairs committed.
    static let repairCommitted = "provider.repaired"
    static let repairableKinds: Set<String> = ["dropped_event", "state_mismatch", "missing_locally"]

    /// Copies a closed store (and a WAL a kill may have left) over `destination`.
    static func copyStore(_ source: URL, to destination: URL) throws {
        for suffix in ["", "-wal", "-shm", ".lock"] {
            let target = URL(fileURLWithPath: destination.path + suffix)
            try? FileManager.default.removeItem(at: target)
            let from = URL(fileURLWithPath: source.path + suffix)
            if suffix != ".lock", FileManager.default.fileExists(atPath: from.path) {
                try FileManager.default.copyItem(at: from, to: target)
            }
        }
    }

    /// Rows a kill may never leave half-written: events recorded by a repair, and the repair rows.
    static func repairFootprint(_ store: Store) throws -> (recorded: Int, repairs: Int) {
        let counts = try store.tableCounts()
        let recorded = try store.eventCounts(source: "reconciliation")
        return (recorded, counts["repair"] ?? 0)
    }

    /// Whether another process could take the store's lock now.
    static func lockIsFree(_ store: URL) -> Bool {
        (try? StoreLock(storePath: store.path)) != nil
    }

    static func repairable(_ report: [String: Any]) -> [[String: Any]] {
        (report["findings"] as? [[String: Any]] ?? []).filter {
            repairableKinds.contains($0["kind"] as? String ?? "")
        }
    }

    @Test func aRunKilledAtFiftyPointsLosesNothingAndTheNextRunLeavesNothingRepairable() async throws {
        try await CLIHarness.with(seed: 53, bulkChains: Self.chains) { cli in
            let template = cli.path("template.sqlite")
            let ingest = try await cli.reconcile(["ingest", "job.yml", "captures.ndjson", "--store", template.path])
            #expect(ingest.status == 0, "\(ingest.stdout.suffix(300))")
            let initial = try Store(path: template.path).stateSnapshot()

            // The reference: one uninterrupted run, timed, on a copy.
            let reference = cli.path("reference.sqlite")
            try Self.copyStore(template, to: reference)
            let run = try await cli.reconcile(
                ["run", "job.yml", "--store", reference.path, "--report-json", "ref.json"],
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
            let referenceStore = try Store(path: reference.path)
            let expectedState = try referenceStore.stateSnapshot()
            let expectedFootprint = try Self.repairFootprint(referenceStore)
            #expect(expectedState != initial)

            let target = cli.path("killed.sqlite")
            var killed = 0
            var afterRepair = 0
            for point in 0..<Self.points {
                try Self.copyStore(template, to: target)
                // Most points are spread over the whole run; the last ones over what follows the
                // repair's commit, timed from its log line, which is short and would else be missed.
                let spread = Self.points - Self.pointsAfterRepair
                let attempt: CLIHarness.Result
                if point < spread {
                    attempt = try await cli.reconcile(
                        ["run", "job.yml", "--store", target.path],
                        signal: SIGKILL,
                        after: duration * (Double(point) + 0.5) / Double(spread)
                    )
                } else {
                    attempt = try await cli.reconcile(
                        ["run", "job.yml", "--store", target.path],
                        signal: SIGKILL,
                        after: tail * Double(point - spread) / Double(Self.pointsAfterRepair),
                        marker: Self.repairCommitted
                    )
                }
                let store = try Store(path: target.path)
                if attempt.killed {
                    killed += 1
                    // Killed after the repair committed: while it wrote the report, finished or pruned.
                    if try store.stateSnapshot() == expectedState { afterRepair += 1 }
                }
                #expect(try store.integrityCheck() == "ok", "point \(point)")
                #expect(Self.lockIsFree(target), "a killed run leaves no lock (point \(point))")
                let state = try store.stateSnapshot()
                let footprint = try Self.repairFootprint(store)
                #expect(state == initial || state == expectedState, "state all before or all after (point \(point))")
                #expect(
                    (state == initial && footprint == (0, 0))
                        || (state == expectedState && footprint == expectedFootprint),
                    "the repair and its audit rows are one transaction (point \(point), \(footprint))"
                )

                // The next complete run finishes the work; a dry run then finds nothing to repair.
                let nextStarted = Date()
                let next = try await cli.reconcile(["run", "job.yml", "--store", target.path])
                if state == initial {
                    // A whole run's work again: follow the machine's pace, so kills stay spread over a run.
                    duration = (duration + Date().timeIntervalSince(nextStarted)) / 2
                }
                #expect([0, 1].contains(next.status), "point \(point): \(next.stderr.suffix(300))")
                let dry = try await cli.reconcile(
                    ["run", "job.yml", "--store", target.path, "--dry-run", "--report-json", "dry.json"]
                )
                let left = Self.repairable(try cli.report("dry.json"))
                #expect(
                    left.isEmpty,
                    "point \(point): \(left.count) repairable findings left, e.g. \(left.first ?? [:])"
                )
                #expect(dry.status == 0, "point \(point)")
                #expect(try store.stateSnapshot() == expectedState, "the provider's state (point \(point))")
            }
            print(
                "run kill test: \(Self.points) points over \(duration) s (\(tail) s after the repair), "
                    + "\(killed) killed mid-run, \(afterRepair) of them after the repair committed"
            )
            #expect(killed >= Self.points / 2, "\(killed) of \(Self.points) kills landed mid-run")
            #expect(afterRepair > 0 && afterRepair < killed, "kills landed both before and after the repair")
        }
    }

    @Test func anIngestKilledAtFiftyPointsGoesOnToTheSameStore() async throws {
        try await CLIHarness.with(seed: 59, bulkChains: Self.chains) { cli in
            let reference = cli.path("reference.sqlite")
            let started = Date()
            let whole = try await cli.reconcile(["ingest", "job.yml", "captures.ndjson", "--store", reference.path])
            let duration = Date().timeIntervalSince(started)
            #expect(whole.status == 0)
            let referenceStore = try Store(path: reference.path)
            let expectedCounts = try referenceStore.tableCounts()
            let expectedState = try referenceStore.stateSnapshot()
            let lines = expectedCounts["delivery"] ?? 0
            #expect(lines > 2_000)

            let target = cli.path("killed.sqlite")
            var killed = 0
            for point in 0..<Self.points {
                try? FileManager.default.removeItem(at: target)
                let delay = duration * (Double(point) + 0.5) / Double(Self.points)
                let attempt = try await cli.reconcile(
                    ["ingest", "job.yml", "captures.ndjson", "--store", target.path],
                    signal: SIGKILL,
                    after: delay
                )
                if attempt.killed { killed += 1 }
                if FileManager.default.fileExists(atPath: target.path) {
                    let store = try Store(path: target.path)
                    #expect(try store.integrityCheck() == "ok", "point \(point)")
                    let recorded = try store.tableCounts()["delivery"] ?? 0
                    #expect(
                        recorded == lines || recorded % 500 == 0,  // the ingestor commits 500 lines a transaction
                        "whole batches only: \(recorded) lines at point \(point)"
                    )
                    #expect(try store.acceptedDeliveriesWithoutEvents() == 0, "point \(point)")
                }
                let again = try await cli.reconcile(["ingest", "job.yml", "captures.ndjson", "--store", target.path])
                #expect(again.status == 0, "point \(point): \(again.stdout.suffix(300))")
                let store = try Store(path: target.path)
                #expect(try store.tableCounts() == expectedCounts, "point \(point)")
                #expect(try store.stateSnapshot() == expectedState, "point \(point)")
            }
            print("ingest kill test: \(Self.points) points over \(duration) s, \(killed) killed mid-ingest")
            #expect(killed >= Self.points / 2, "\(killed) of \(Self.points) kills landed mid-ingest")
        }
    }
}
