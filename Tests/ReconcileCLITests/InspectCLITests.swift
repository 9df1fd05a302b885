import Foundation
import Testing

/// The commands a person uses to look: `runs`, `report`, `--version`, on a machine without the job's secrets.
@Suite(.serialized) struct InspectCLITests {
    /// Every variable of the harness environment but PATH and the clock, blanked: what a finance
    /// machine that holds no provider secrets looks like (an empty variable is an unset one).
    static func withoutSecrets(_ cli: CLIHarness) -> [String: String] {
        var blank: [String: String] = [:]
        for name in cli.environment.keys where !["PATH", "RECONCILE_NOW"].contains(name) { blank[name] = "" }
        return blank
    }

    @Test func versionNamesTheReleaseAndTheSchemasItSpeaks() async throws {
        try await CLIHarness.with { cli in
            let version = try await cli.reconcile(["--version"])
            #expect(version.status == 0)
            let line = version.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(
                line.wholeMatch(
                    of: /reconcile \d+\.\d+\.\d+ \(store schema "v\d+ [^"]+", report webhook-reconcile-report\/1\)/
                ) != nil,
                "\(line)"
            )
        }
    }

    /// `runs` says what kind each run was, and `runs` and `report` work with no secret set, while
    /// `run` and `ingest` still refuse to start without them.
    @Test func runsSayTheirKindAndReadingNeedsNoSecrets() async throws {
        try await CLIHarness.with(allProviders: true) { cli in
            _ = try await cli.reconcile(["ingest", "job.yml", "captures.ndjson"])
            let nightly = try await cli.reconcile(["run", "job.yml"])
            let dry = try await cli.reconcile(["run", "job.yml", "--dry-run"])
            let manual = try await cli.reconcile(["run", "job.yml", "--provider", "credicorp"])
            let backfill = try await cli.reconcile(
                ["backfill", "job.yml", "--provider", "crezco", "--since", "2026-07-01T00:00:00Z"]
            )
            for result in [nightly, dry, manual, backfill] {
                #expect([0, 1].contains(result.status), "\(result.stderr)")
            }

            let blank = Self.withoutSecrets(cli)
            #expect(!blank.isEmpty)
            let refused = try await cli.reconcile(["run", "job.yml"], extraEnvironment: blank)
            #expect(refused.status == 2, "run needs the secrets")
            #expect(refused.stderr.contains("is not set"), "\(refused.stderr)")

            let runs = try await cli.reconcile(["runs", "job.yml"], extraEnvironment: blank)
            #expect(runs.status == 0, "\(runs.stderr)")
            let rows = runs.stdout.split(separator: "\n").map { $0.split(separator: "\t").map(String.init) }
            #expect(rows.first == ["id", "kind", "started", "duration_s", "status", "exit", "findings", "repairs"])
            // Newest first: backfill, manual, dry run, nightly.
            #expect(rows.dropFirst().map { $0[1] } == ["backfill", "manual", "dry run", "nightly"], "\(runs.stdout)")
            #expect(rows.dropFirst().allSatisfy { $0.count == 8 && $0[4] == "complete" })

            for format in ["md", "json", "csv"] {
                let report = try await cli.reconcile(
                    ["report", "job.yml", "--format", format],
                    extraEnvironment: blank
                )
                #expect(report.status == 0, "\(format): \(report.stderr)")
                #expect(!report.stdout.isEmpty)
            }
            let json = try await cli.reconcile(["report", "job.yml", "--format", "json"], extraEnvironment: blank)
            let parsed = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
            let runID = (parsed?["run"] as? [String: Any])?["id"] as? String
            #expect(runID == rows.dropFirst().first?.first, "the last run's report")

            // A job file that names a secret badly is still refused: the names are checked.
            let text = try String(contentsOf: cli.path("job.yml"), encoding: .utf8)
            try text.replacingOccurrences(of: "api_key_env: CREDICORP_API_KEY", with: "api_key_env: sk live 123")
                .write(to: cli.path("broken.yml"), atomically: true, encoding: .utf8)
            let broken = try await cli.reconcile(["runs", "broken.yml"], extraEnvironment: blank)
            #expect(broken.status == 2)
            #expect(broken.stderr.contains("api_key_env") && !broken.stderr.contains("sk live 123"), "\(broken.stderr)")
        }
    }
}
