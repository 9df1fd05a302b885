import Foundation
import ReconcileSandbox
import Testing

/// The contract of job.md, checked through the built `reconcile` executable against the sandbox.
@Suite(.serialized) struct ReconcileCLITests {
    typealias Key = [String]

    static func key(_ finding: [String: Any]) -> Key {
        [
            finding["kind"] as? String ?? "", finding["resource_id"] as? String ?? "",
            finding["event_id"] as? String ?? "",
        ]
    }

    static func findings(_ report: [String: Any]) -> [[String: Any]] {
        report["findings"] as? [[String: Any]] ?? []
    }

    @Test func ingestRunAndASecondRunAgreeWithTheSandboxOracle() async throws {
        try await CLIHarness.with { cli in
            let ingest = try await cli.reconcile(["ingest", "job.yml", "captures.ndjson"])
            #expect(ingest.status == 1, "some captured lines are rejected by design")
            #expect(ingest.stdout.contains("rejected captures.ndjson:"))

            let first = try await cli.reconcile(["run", "job.yml", "--report-json", "first.json"])
            #expect(first.status == 1, "the endpoint is disabled and there are new invalid signatures")
            let report = try cli.report("first.json")
            #expect(report["schema"] as? String == "webhook-reconcile-report/1")
            let found = Self.findings(report)
            let since = CLIHarness.now.addingTimeInterval(-8 * 86_400)
            let expected = cli.history.expectedFindings(since: since, until: CLIHarness.now)
            let expectedKinds = Set(expected.map(\.kind.rawValue))
            #expect(Set(found.compactMap { $0["kind"] as? String }) == expectedKinds)
            #expect(expectedKinds.count == 9, "the sandbox history holds every Credicorp finding kind")
            for item in expected {
                let match = found.contains { finding in
                    finding["kind"] as? String == item.kind.rawValue
                        && (item.resourceID == nil || finding["resource_id"] as? String == item.resourceID)
                        && (item.eventID == nil || finding["event_id"] as? String == item.eventID)
                }
                #expect(match, "expected \(item.kind.rawValue) \(item.resourceID ?? "-") \(item.eventID ?? "-")")
            }
            for finding in found where finding["kind"] as? String == "state_mismatch" {
                let details = finding["details"] as? [String: Any] ?? [:]
                let cause = expected.first {
                    $0.kind.rawValue == "state_mismatch" && $0.resourceID == finding["resource_id"] as? String
                }?.cause
                #expect(cause == nil || details["cause"] as? String == cause)
            }
            #expect((report["repairs"] as? Int ?? 0) > 0)
            #expect(found.allSatisfy { $0["new"] as? Bool == true })

            let second = try await cli.reconcile(["run", "job.yml", "--report-json", "second.json"])
            let again = try cli.report("second.json")
            #expect(again["repairs"] as? Int == 0, "repairs are idempotent")
            #expect(Self.findings(again).allSatisfy { $0["new"] as? Bool == false })
            #expect(Self.findings(again).allSatisfy { $0["repaired"] as? Bool == false })
            #expect(second.status == 0, "the disabled endpoint was reported last night: cron alerts once")

            let markdown = try await cli.reconcile(["report", "job.yml", "--format", "md"])
            #expect(markdown.status == 0)
            #expect(markdown.stdout.contains("# Reconciliation report: cli"))
            let csv = try await cli.reconcile(["report", "job.yml", "--format", "csv"])
            #expect(csv.stdout.hasPrefix("run_id,provider,resource_type,resource_id,kind"))
            #expect(csv.stdout.contains(",payment,"))

            let everything =
                cli.allFileText() + ingest.stdout + ingest.stderr + first.stdout + first.stderr
                + second.stdout + second.stderr + markdown.stdout + csv.stdout
            for secret in cli.secrets { #expect(!everything.contains(secret), "a secret leaked") }
        }
    }

    @Test func aDryRunChangesNoStateAndRepairsNothing() async throws {
        try await CLIHarness.with { cli in
            _ = try await cli.reconcile(["ingest", "job.yml", "captures.ndjson"])
            // What a repair would change: local state, events recorded by a run, repair rows.
            let held = { () async throws -> ([String], [String: Int])? in
                try await cli.inspect { store in
                    (
                        try await store.stateSnapshot(),
                        try await store.tableCounts().filter {
                            ["delivery", "deliveryEvent", "event", "resourceState", "repair"].contains($0.key)
                        }
                    )
                }
            }
            let before = try #require(try await held())
            let dry = try await cli.reconcile(["run", "job.yml", "--dry-run", "--report-json", "dry.json"])
            #expect(dry.status == 1)
            let report = try cli.report("dry.json")
            #expect(report["repairs"] as? Int == 0)
            #expect(Self.findings(report).allSatisfy { $0["repaired"] as? Bool == false })
            #expect((report["run"] as? [String: Any])?["dry_run"] as? Bool == true)
            let after = try #require(try await held())
            #expect(after.0 == before.0, "local state unchanged")
            #expect(after.1 == before.1, "no event, row or repair written")
            // A real run afterwards still finds everything to repair.
            let real = try await cli.reconcile(["run", "job.yml", "--report-json", "real.json"])
            #expect((try cli.report("real.json")["repairs"] as? Int ?? 0) > 0)
            #expect(Self.findings(try cli.report("real.json")).allSatisfy { $0["new"] as? Bool == true })
            #expect(real.status == 1)
            #expect(try #require(try await held()).0 != before.0, "what the dry run left, the real run repaired")
        }
    }

    /// A blip of several seconds (six 429s, each asking for a second) is outlasted by the minute's
    /// retry budget; five attempts in all, as before, would have failed the night.
    @Test func aProviderBlipOfSeveralSecondsIsOutlasted() async throws {
        try await CLIHarness.with { cli in
            _ = try await cli.reconcile(["ingest", "job.yml", "captures.ndjson"])
            await cli.server.setFaults([
                SandboxFault(.rateLimited(retryAfterSeconds: 1), pathPrefix: "/public/v1/payments", times: 6)
            ])
            let result = try await cli.reconcile(["run", "job.yml", "--report-json", "r.json"])
            #expect(result.status == 1, "\(result.stderr)")
            let provider = (try cli.report("r.json")["providers"] as? [[String: Any]])?.first
            #expect(provider?["status"] as? String == "complete")
            let retries = result.stderr.split(separator: "\n").filter { $0.contains("provider.retry") }
            #expect(retries.count == 6, "\(retries)")
            #expect(retries.allSatisfy { $0.contains("Retry-After 1s") })
        }
    }

    /// `retry_budget` bounds how long a request keeps trying: a provider down for longer fails the
    /// run (exit 3) once the budget is spent, and the error says how to wait longer.
    @Test func aProviderDownForLongerThanTheRetryBudgetFailsAfterIt() async throws {
        try await CLIHarness.with { cli in
            _ = try await cli.reconcile(["ingest", "job.yml", "captures.ndjson"])
            try cli.writeJob(name: "budget.yml", extra: "retry_budget: 3s")
            await cli.server.setFaults([
                SandboxFault(.serverError(status: 503), pathPrefix: "/public/v1/payments", times: nil)
            ])
            let result = try await cli.reconcile(["run", "budget.yml", "--report-json", "r.json"])
            #expect(result.status == 3)
            // Give-up comes when the next wait would end past the 3 s: at 1.2 s at the earliest, never much after 3 s.
            #expect(result.elapsed >= 1 && result.elapsed < 15, "\(result.elapsed) s")
            let provider = (try cli.report("r.json")["providers"] as? [[String: Any]])?.first
            let error = provider?["error"] as? String ?? ""
            #expect(error.contains("503 server error") && error.contains("3s retry budget"), "\(error)")
            #expect(error.contains("raise retry_budget in the job file"), "\(error)")
            let attempts = await cli.server.requestCount(pathPrefix: "/public/v1/payments")
            #expect(attempts >= 3 && attempts <= 6, "backoff 0.25–0.5, 0.5–1, 1–2 s… within 3 s: \(attempts)")
        }
    }

    @Test func transientFaultsAreRetriedAndTheRunCompletes() async throws {
        try await CLIHarness.with { cli in
            _ = try await cli.reconcile(["ingest", "job.yml", "captures.ndjson"])
            await cli.server.setFaults([
                SandboxFault(.rateLimited(retryAfterSeconds: 1), pathPrefix: "/public/v1/events", times: 1),
                SandboxFault(.serverError(status: 503), pathPrefix: "/public/v1/payments", times: 2),
            ])
            let result = try await cli.reconcile(["run", "job.yml", "--report-json", "r.json"])
            #expect(result.status == 1)
            let provider = (try cli.report("r.json")["providers"] as? [[String: Any]])?.first
            #expect(provider?["status"] as? String == "complete")
            #expect(result.stderr.contains("provider.retry"))
        }
    }

    @Test(arguments: ["garbage", "unauthorized"])
    func aProviderFailureExitsThreeWithAPartialReport(fault: String) async throws {
        try await CLIHarness.with { cli in
            _ = try await cli.reconcile(["ingest", "job.yml", "captures.ndjson"])
            let stateBefore = try await cli.reconcile(["runs", "job.yml"])
            #expect(stateBefore.status == 0)
            let kind: SandboxFault.Kind = fault == "garbage" ? .garbage(.truncatedJSON) : .unauthorized
            await cli.server.setFaults([SandboxFault(kind, pathPrefix: "/public/v1/payments", times: nil)])
            let result = try await cli.reconcile(["run", "job.yml", "--report-json", "r.json"])
            #expect(result.status == 3)
            let report = try cli.report("r.json")
            let provider = (report["providers"] as? [[String: Any]])?.first
            #expect(provider?["status"] as? String == "failed")
            #expect((provider?["error"] as? String)?.isEmpty == false)
            #expect(report["repairs"] as? Int == 0, "nothing is half-applied")
            for secret in cli.secrets { #expect(!(result.stdout + result.stderr + cli.allFileText()).contains(secret)) }
        }
    }

    @Test(arguments: [
        ("    colour: blue", "unknown key 'colour'"),
        ("    retry_window: soon", "retry_window is 'soon'"),
        ("    rate_limit: -1", "rate_limit is '-1'"),
    ])
    func aBrokenJobFileExitsTwoNamingTheKey(extra: String, message: String) async throws {
        try await CLIHarness.with { cli in
            try cli.writeJob(name: "bad.yml", extra: extra)
            let result = try await cli.reconcile(["run", "bad.yml"])
            #expect(result.status == 2)
            #expect(result.stderr.contains("bad.yml:"))
            #expect(result.stderr.contains(message))
            #expect(try await !cli.storeExists(), "nothing ran")
        }
    }

    @Test func aMissingEnvironmentVariableOrPlainHTTPExitsTwo() async throws {
        try await CLIHarness.with { cli in
            let missing = try await cli.reconcile(
                ["run", "job.yml"],
                extraEnvironment: ["CREDICORP_WHSEC_PREVIOUS": ""]
            )
            #expect(missing.status == 2)
            #expect(missing.stderr.contains("CREDICORP_WHSEC_PREVIOUS"))
            let text = try String(contentsOf: cli.path("job.yml"), encoding: .utf8)
                .replacingOccurrences(of: "http://127.0.0.1", with: "http://example.com")
            try text.write(to: cli.path("remote.yml"), atomically: true, encoding: .utf8)
            let remote = try await cli.reconcile(["run", "remote.yml"])
            #expect(remote.status == 2)
            #expect(remote.stderr.contains("base_url"))
        }
    }

    @Test(
        .enabled(
            if: CLIHarness.engine == .sqlite,
            "holds the flock beside the file; PostgresCLITests holds the advisory lock"
        )
    ) func aSecondRunWhileTheLockIsHeldExitsFour() async throws {
        try await CLIHarness.with { cli in
            // Hold the lock from another process, the way a running job does.
            let holder = Process()
            holder.executableURL = URL(fileURLWithPath: "/usr/bin/flock")
            holder.arguments = [cli.path("reconcile.sqlite.lock").path, "sleep", "8"]
            try holder.run()
            defer {
                holder.terminate()
                holder.waitUntilExit()
            }
            var waited = 0
            while !FileManager.default.fileExists(atPath: cli.path("reconcile.sqlite.lock").path) && waited < 250 {
                try await Task.sleep(for: .milliseconds(20))
                waited += 1
            }
            try await Task.sleep(for: .milliseconds(200))
            let result = try await cli.reconcile(["run", "job.yml", "--create-store"], timeout: 20)
            #expect(result.status == 4)
            #expect(result.stderr.contains("lock"))
        }
    }
}
