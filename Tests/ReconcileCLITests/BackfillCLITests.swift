import Foundation
import ReconcileCore
import ReconcileSandbox
import Testing

/// Backfills interrupted by SIGTERM and killed by SIGKILL, resumed through the built executable.
@Suite(.serialized) struct BackfillCLITests {
    static let seed: UInt64 = 31
    static let since = "2026-07-02T08:00:00Z"
    static let backfill = ["backfill", "job.yml", "--provider", "crezco", "--since", since]

    /// Findings (kind, resource, event) of a report.
    static func keys(_ report: [String: Any]) -> Set<String> {
        Set(
            (report["findings"] as? [[String: Any]] ?? []).map { finding in
                ["kind", "provider", "resource_id", "event_id"].map { finding[$0] as? String ?? "-" }
                    .joined(separator: " ")
            }
        )
    }

    /// Whether a finding key is of a kind a repair resolves.
    static func isRepairable(_ key: String) -> Bool {
        ["dropped_event ", "state_mismatch ", "missing_locally "].contains { key.hasPrefix($0) }
    }

    /// An uninterrupted backfill of a fresh store: its findings and final local state.
    static func reference() async throws -> (findings: Set<String>, state: [String], repairs: Int) {
        try await CLIHarness.with(seed: seed, allProviders: true) { cli in
            _ = try await cli.reconcile(["ingest", "job.yml", "captures.ndjson"])
            let run = try await cli.reconcile(backfill + ["--report-json", "ref.json"])
            #expect(run.status == 1)
            let report = try cli.report("ref.json")
            let state = try #require(try await cli.inspect { try await $0.stateSnapshot() })
            return (keys(report), state, report["repairs"] as? Int ?? -1)
        }
    }

    @Test func aBackfillInterruptedBySIGTERMWritesAPartialReportAndResumes() async throws {
        let reference = try await Self.reference()
        try await CLIHarness.with(seed: Self.seed, allProviders: true) { cli in
            _ = try await cli.reconcile(["ingest", "job.yml", "captures.ndjson"])
            await cli.server.setFaults([SandboxFault(.slow(milliseconds: 120), provider: "crezco", times: nil)])
            let stopped = try await cli.reconcile(
                Self.backfill + ["--report-json", "stopped.json"],
                signal: SIGTERM,
                after: 0.6,
                marker: "backfill.start"
            )
            #expect(stopped.status == 3, "\(stopped.stderr.suffix(800))")
            let partial = try cli.report("stopped.json")
            #expect((partial["run"] as? [String: Any])?["status"] as? String == "interrupted")
            #expect(partial["repairs"] as? Int == 0, "nothing is repaired once a stop was asked for")
            let readBefore = await cli.server.requestCount(provider: "crezco")
            #expect(readBefore > 0)

            await cli.server.setFaults([])
            await cli.server.clearRequests()
            // Resumed a moment later, on a clock that has moved on: with no --until, the backfill
            // takes the window of the unfinished one instead of starting a new one.
            let resumed = try await cli.reconcile(
                Self.backfill + ["--report-json", "resumed.json"],
                extraEnvironment: ["RECONCILE_NOW": "2026-07-10T08:00:01Z"]
            )
            #expect(resumed.status == 1)
            let report = try cli.report("resumed.json")
            let section = (report["providers"] as? [[String: Any]])?.first
            let coverage = section?["coverage"] as? [String: Any]
            #expect((coverage?["checkpoint_answers"] as? Int ?? 0) > 0, "the resumed backfill used its checkpoints")
            #expect((section?["window"] as? [String: Any])?["until"] as? String == CLIHarness.nowText)
            #expect(Self.keys(report) == reference.findings)
            #expect(report["repairs"] as? Int == reference.repairs)
            #expect(try await cli.inspect { try await $0.stateSnapshot() } == reference.state)
            #expect(resumed.stderr.contains("crezco: complete"), "the progress line ends with the provider's result")

            // Complete: the next backfill of the window reads afresh.
            #expect(try await cli.inspect { try await $0.unfinishedBackfills() } == [])
        }
    }

    /// A backfill that read its whole window but failed before its run was recorded (here its report
    /// cannot be written) stays unfinished with its kept answers: the rerun resumes from them.
    @Test func aBackfillThatFailsBeforeItsRunIsRecordedResumesFromItsKeptAnswers() async throws {
        let reference = try await Self.reference()
        try await CLIHarness.with(seed: Self.seed, allProviders: true) { cli in
            _ = try await cli.reconcile(["ingest", "job.yml", "captures.ndjson"])
            // A folder where report.json should go: the last file of the run cannot be written.
            let unwritable = cli.path("taken.json")
            try FileManager.default.createDirectory(at: unwritable, withIntermediateDirectories: false)
            let failed = try await cli.reconcile(Self.backfill + ["--report-json", unwritable.path])
            #expect(![0, 1].contains(failed.status), "\(failed.stderr.suffix(500))")
            #expect(failed.stderr.contains("taken.json"), "the error names the report it could not write")
            #expect(try await cli.inspect { try await $0.unfinishedBackfills() }?.count == 1)

            await cli.server.clearRequests()
            let resumed = try await cli.reconcile(Self.backfill + ["--report-json", "resumed.json"])
            #expect([0, 1].contains(resumed.status), "\(resumed.stderr.suffix(500))")
            let report = try cli.report("resumed.json")
            let coverage = (report["providers"] as? [[String: Any]])?.first?["coverage"] as? [String: Any]
            #expect((coverage?["checkpoint_answers"] as? Int ?? 0) > 0, "the rerun used the answers kept before")
            #expect(Self.keys(report).subtracting(reference.findings).isEmpty)
            #expect(try await cli.inspect { try await $0.stateSnapshot() } == reference.state)
            #expect(try await cli.inspect { try await $0.unfinishedBackfills() } == [])
        }
    }

    @Test func aSIGKILLAtAnyPointLeavesNothingHalfAppliedAndTheBackfillStillEndsTheSame() async throws {
        let reference = try await Self.reference()
        try await CLIHarness.with(seed: Self.seed, allProviders: true) { cli in
            _ = try await cli.reconcile(["ingest", "job.yml", "captures.ndjson"])
            let initial = try #require(try await cli.inspect { try await $0.stateSnapshot() })
            await cli.server.setFaults([SandboxFault(.slow(milliseconds: 40), provider: "crezco", times: nil)])
            // 50 points spread over a whole backfill (reading, repair, report), from process start on.
            let delays: [TimeInterval] = (0..<50).map { Double($0) * 0.09 }
            var killed = 0
            var firstComplete: Set<String>?
            for (index, delay) in delays.enumerated() {
                let restart = index.isMultiple(of: 3) ? ["--restart"] : []
                let name = "kill-\(index).json"
                let result = try await cli.reconcile(
                    Self.backfill + restart + ["--report-json", name],
                    signal: SIGKILL,
                    after: delay
                )
                if result.killed {
                    killed += 1
                } else {
                    #expect([0, 1].contains(result.status), "\(result.stderr.suffix(500))")
                    if firstComplete == nil { firstComplete = Self.keys(try cli.report(name)) }
                }
                #expect(result.status != 4 || result.killed, "a killed run never leaves the lock behind")
                if CLIHarness.engine == .sqlite {
                    #expect(try Store(path: cli.path("reconcile.sqlite").path).integrityCheck() == "ok")
                }
                let (state, repairs) = try #require(
                    try await cli.inspect { (try await $0.stateSnapshot(), try await $0.repairCounts()) }
                )
                #expect(
                    state == initial || state == reference.state,
                    "state is all before or all after the repair (kill \(index) at \(delay) s)"
                )
                for (run, count) in repairs {
                    #expect(
                        count == 0 || count == reference.repairs,
                        "run \(run) wrote \(count) of \(reference.repairs) repairs"
                    )
                }
            }
            print("kill test: \(delays.count) points tried, \(killed) killed mid-run, store consistent after each")
            #expect(killed >= 8, "the process was killed mid-way \(killed) times of \(delays.count)")
            await cli.server.setFaults([])
            let last = try await cli.reconcile(Self.backfill + ["--report-json", "last.json"])
            #expect([0, 1].contains(last.status))
            let first = try firstComplete ?? Self.keys(cli.report("last.json"))
            // A kill after the repair committed leaves it done: the next backfill no longer finds those
            // differences. Everything else it finds as an uninterrupted backfill does.
            #expect(first.isSubset(of: reference.findings))
            #expect(
                first.filter { !Self.isRepairable($0) } == reference.findings.filter { !Self.isRepairable($0) },
                "the first backfill to finish found what an uninterrupted one finds"
            )
            #expect(try await cli.inspect { try await $0.stateSnapshot() } == reference.state)
            let check = try await cli.reconcile(
                ["backfill", "job.yml", "--provider", "crezco", "--since", Self.since, "--until", CLIHarness.nowText]
                    + ["--dry-run", "--report-json", "check.json"]
            )
            #expect([0, 1].contains(check.status))
            #expect(Self.keys(try cli.report("check.json")).filter(Self.isRepairable).isEmpty, "nothing left to repair")
            let runs = try await cli.reconcile(["runs", "job.yml", "--limit", "50"])
            #expect(runs.stdout.contains("crashed"), "killed runs are marked crashed by the next one")
        }
    }
}
