import Foundation
import ReconcileCore
import ReconcileSandbox
import Testing

/// `retention`: old runs, findings and raw deliveries go after a complete run; what is still needed stays.
@Suite(.serialized) struct RetentionCLITests {
    @Test func pruningKeepsOpenFindingsAndWhatAnUnfinishedBackfillNeeds() async throws {
        try await CLIHarness.with(seed: 41, allProviders: true, jobExtra: "retention: 90d") { cli in
            _ = try await cli.reconcile(["ingest", "job.yml", "captures.ndjson"])
            let first = try await cli.reconcile(["run", "job.yml"])
            #expect(first.status == 1)
            let delivered = try await Self.deliveries(cli)
            #expect(delivered > 300)
            // The nightly run repaired Crezco resources; a backfill right after finds them fine, but
            // that does not make the nightly findings "resolved": a backfill is compared only with
            // earlier backfills of its own window.
            let since = ["--since", "2026-07-03T00:00:00Z"]
            let crezco = try await cli.reconcile(
                ["backfill", "job.yml", "--provider", "crezco"] + since + ["--report-json", "b.json"]
            )
            #expect([0, 1].contains(crezco.status))
            #expect((try cli.report("b.json")["resolved"] as? [Any])?.isEmpty == true)

            // An interrupted backfill of the ingested days: its deliveries must outlive retention.
            await cli.server.setFaults([SandboxFault(.slow(milliseconds: 200), provider: "crezco", times: nil)])
            let backfill = ["backfill", "job.yml", "--provider", "crezco", "--since", "2026-07-01T00:00:00Z"]
            // Killed once it has recorded itself (its start is logged after that commits), however
            // slowly the store opened.
            let stopped = try await cli.reconcile(backfill, signal: SIGKILL, after: 0.4, marker: "backfill.start")
            #expect(stopped.killed)
            await cli.server.setFaults([])
            #expect(try await cli.inspect { try await $0.unfinishedBackfills().count } == 1)

            // 100 days later: everything is past the 90-day retention.
            let later = "2026-10-18T08:00:00Z"
            let run = try await cli.reconcile(["run", "job.yml", "--now", later, "--report-json", "later.json"])
            #expect(run.status == 0, "the disabled endpoint was reported before: not new, no alert")
            let report = try cli.report("later.json")
            let endpoint = (report["findings"] as? [[String: Any]] ?? []).first {
                $0["kind"] as? String == "endpoint_disabled"
            }
            #expect(endpoint?["new"] as? Bool == false, "its first report was kept, so it is not new again")
            #expect(endpoint?["first_seen"] as? String == CLIHarness.nowText)
            #expect(try await Self.deliveries(cli) == delivered, "the unfinished backfill still needs them")

            // The backfill finishes, and traffic comes in again 100 days later (a late copy of an old
            // event): retention counts from the newest delivery, so now the old deliveries go.
            let done = try await cli.reconcile(backfill)
            #expect([0, 1].contains(done.status))
            #expect(try await cli.inspect { try await $0.unfinishedBackfills() } == [])
            let laterDate = CLIHarness.now.addingTimeInterval(100 * 86_400)  // `later`
            let old = try #require(cli.history.deliveries.compactMap { $0.event }.first)
            let late = cli.history.captureLine(for: old, receivedAt: laterDate.addingTimeInterval(-60))
            try Data((late + "\n").utf8).write(to: cli.path("late.ndjson"))
            let lateIngest = try await cli.reconcile(["ingest", "job.yml", "late.ndjson", "--now", later])
            #expect(lateIngest.status == 0, "\(lateIngest.stdout)\(lateIngest.stderr)")
            // Report folders: another job's, and a folder someone keeps notes in, must outlive the pruning.
            let reports = cli.path("reports")
            let names = try FileManager.default.contentsOfDirectory(atPath: reports.path).filter { !$0.hasPrefix(".") }
            let oldest = try #require(names.sorted().first)
            let foreign = reports.appendingPathComponent("19990101T000000000Z-beef")
            try FileManager.default.createDirectory(at: foreign, withIntermediateDirectories: true)
            var foreignReport = try cli.report("reports/\(oldest)/report.json")
            var foreignRun = foreignReport["run"] as? [String: Any] ?? [:]
            foreignRun["job"] = "other"
            foreignRun["id"] = "19990101T000000000Z-beef"
            foreignReport["run"] = foreignRun
            try JSONSerialization.data(withJSONObject: foreignReport).write(
                to: foreign.appendingPathComponent("report.json")
            )
            try FileManager.default.createDirectory(
                at: reports.appendingPathComponent("notes"),
                withIntermediateDirectories: true
            )

            let pruning = try await cli.reconcile(["run", "job.yml", "--now", later])
            #expect(pruning.status == 0)
            let kept = try #require(try await cli.inspect { try await $0.runIDs(job: "cli") })
            let left = Set(try FileManager.default.contentsOfDirectory(atPath: reports.path))
            #expect(left.contains("19990101T000000000Z-beef") && left.contains("notes"), "not this job's: kept")
            for name in names {
                #expect(left.contains(name) == kept.contains(name), "\(name): a folder goes with its run")
            }
            #expect(names.contains { !kept.contains($0) }, "some runs were pruned, with their folders")
            #expect(pruning.stderr.contains("report_folders="))
            #expect(try await Self.deliveries(cli) == 1, "only the late copy is younger than the retention")
            #expect(pruning.stderr.contains("retention.pruned"))
            // The first run holds the still-open endpoint finding, so it stays; its other findings went.
            let listing = try await cli.reconcile(["runs", "job.yml", "--limit", "20"])
            let firstID = first.stdout.split(separator: " ").dropFirst().first.map { String($0.dropLast()) } ?? "?"
            #expect(listing.stdout.contains(firstID), "\(firstID) in \(listing.stdout)")
        }
    }

    /// The delivery lines the job's store holds.
    static func deliveries(_ cli: CLIHarness) async throws -> Int {
        try #require(try await cli.inspect { try await $0.tableCounts()["delivery"] ?? 0 })
    }

    /// Findings of a report as (kind, resource, event, new) keys.
    static func keys(_ report: [String: Any]) -> Set<String> {
        Set(
            (report["findings"] as? [[String: Any]] ?? []).map { finding in
                ["kind", "resource_id", "event_id"].map { finding[$0] as? String ?? "-" }.joined(separator: " ")
                    + " new=\(finding["new"] as? Bool ?? true)"
            }
        )
    }

    @Test func aRunWithAClockAYearAheadPrunesNothingTheNextCorrectRunNeeds() async throws {
        try await CLIHarness.with(seed: 43, jobExtra: "retention: 30d") { cli in
            _ = try await cli.reconcile(["ingest", "job.yml", "captures.ndjson"])
            #expect(try await cli.reconcile(["run", "job.yml"]).status == 1)
            let before = try await cli.reconcile(["run", "job.yml", "--dry-run", "--report-json", "before.json"])
            #expect(before.status == 0, "nothing left to repair, nothing new")
            let counts = try await cli.inspect { try await $0.tableCounts() }

            let ahead = try await cli.reconcile(["run", "job.yml", "--now", "2027-07-10T08:00:00Z"])
            #expect([0, 1].contains(ahead.status), "\(ahead.stderr.suffix(400))")
            let after = try await cli.inspect { try await $0.tableCounts() }
            #expect((counts?["delivery"] ?? 0) > 0)
            for table in ["delivery", "deliveryEvent", "event", "resourceState", "repair"] {
                #expect(after?[table] == counts?[table], "\(table) kept")
            }

            let again = try await cli.reconcile(["run", "job.yml", "--dry-run", "--report-json", "after.json"])
            #expect(again.status == 0, "no received event turned into a finding, nothing is new again")
            #expect(Self.keys(try cli.report("after.json")) == Self.keys(try cli.report("before.json")))
        }
    }
}
