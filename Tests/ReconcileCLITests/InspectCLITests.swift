import Foundation
import Testing

/// The commands a person uses to look: `runs`, `report`, `--version`, on a machine without the job's secrets.
@Suite(.serialized) struct InspectCLITests {
    /// Every variable of the harness environment but PATH and the clock, blanked: what a finance
    /// machine that holds no provider secrets looks like (an empty variable is an unset one).
    static func withoutSecrets(_ cli: CLIHarness) -> [String: String] {
        var blank: [String: String] = [:]
        // The store's own password is not a provider's secret: a PostgreSQL store needs it to be read.
        for name in cli.environment.keys where !["PATH", "RECONCILE_NOW", CLIHarness.passwordVariable].contains(name) {
            blank[name] = ""
        }
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

    static func json(_ text: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(text.utf8))
    }

    /// `findings` and `show` tell a finding's history across nights, with no secret set.
    ///
    /// `findings` lists every finding with its age and state, filtered as asked; `show` prints one
    /// finding's runs, repair (before and after) and deliveries.
    @Test func findingsAndShowTellAFindingsHistoryAcrossNights() async throws {
        try await CLIHarness.with(seed: 11, allProviders: true) { cli in
            _ = try await cli.reconcile(["ingest", "job.yml", "captures.ndjson"])
            _ = try await cli.reconcile(["run", "job.yml", "--report-json", "first.json"])
            _ = try await cli.reconcile(["run", "job.yml", "--report-json", "second.json"])
            let first = try cli.report("first.json")["findings"] as? [[String: Any]] ?? []
            let second = try cli.report("second.json")["findings"] as? [[String: Any]] ?? []
            let blank = Self.withoutSecrets(cli)
            let later = ["--now", "2026-07-12T08:00:00Z"]

            let listed = try await cli.reconcile(
                ["findings", "job.yml", "--format", "json"] + later,
                extraEnvironment: blank
            )
            #expect(listed.status == 0, "\(listed.stderr)")
            let all = try Self.json(listed.stdout) as? [[String: Any]] ?? []
            let ids = Set(all.compactMap { $0["id"] as? String })
            let reported = Set((first + second).compactMap { $0["id"] as? String })
            #expect(ids == reported && ids.count == all.count, "each finding once")
            let stillOpen = Set(second.filter { $0["repaired"] as? Bool == false }.compactMap { $0["id"] as? String })
            for item in all {
                let id = item["id"] as? String ?? ""
                let runs = [first, second].filter { report in report.contains { $0["id"] as? String == id } }.count
                #expect(item["runs"] as? Int == runs, "\(id)")
                #expect(item["open"] as? Bool == stillOpen.contains(id), "\(id)")
                #expect(item["first_seen"] as? String == CLIHarness.nowText)
                #expect(item["age_seconds"] as? Int == 2 * 86_400, "aged at --now")
            }
            let open = try await cli.reconcile(
                ["findings", "job.yml", "--open", "--format", "json"],
                extraEnvironment: blank
            )
            #expect(
                Set((try Self.json(open.stdout) as? [[String: Any]] ?? []).compactMap { $0["id"] as? String })
                    == stillOpen
            )
            let crezcoDropped = try await cli.reconcile(
                ["findings", "job.yml", "--kind", "dropped_event", "--provider", "crezco", "--format", "json"],
                extraEnvironment: blank
            )
            let filtered = try Self.json(crezcoDropped.stdout) as? [[String: Any]] ?? []
            #expect(!filtered.isEmpty)
            #expect(
                filtered.allSatisfy {
                    $0["kind"] as? String == "dropped_event" && $0["provider"] as? String == "crezco"
                }
            )
            let table = try await cli.reconcile(["findings", "job.yml"] + later, extraEnvironment: blank)
            let rows = table.stdout.split(separator: "\n")
            #expect(rows.first == "id\tkind\tprovider\tresource\tevent\tfirst_seen\tage\truns\tstate\trepaired")
            #expect(rows.count == all.count + 1)
            #expect(rows.dropFirst().allSatisfy { $0.split(separator: "\t").count == 10 && $0.contains("\t2d 0h\t") })
            let bad = try await cli.reconcile(["findings", "job.yml", "--kind", "dropped"], extraEnvironment: blank)
            #expect(bad.status == 2 && bad.stderr.contains("--kind is 'dropped'; expected one of dropped_event"))

            // A repaired state finding: its repair with before and after, as the report said.
            let state = try #require(
                first.first { $0["kind"] as? String == "state_mismatch" && $0["repaired"] as? Bool == true }
            )
            let stateID = try #require(state["id"] as? String)
            let shown = try await cli.reconcile(
                ["show", "job.yml", stateID, "--format", "json"],
                extraEnvironment: blank
            )
            #expect(shown.status == 0, "\(shown.stderr)")
            let history = try Self.json(shown.stdout) as? [String: Any] ?? [:]
            let repairs = history["repairs"] as? [[String: Any]] ?? []
            #expect(repairs.count == 1 && repairs.first?["action"] as? String == "set_state", "\(repairs)")
            let details = state["details"] as? [String: Any] ?? [:]
            #expect((repairs.first?["before"] as? [String: Any])?["status"] as? String == details["local"] as? String)
            #expect((repairs.first?["after"] as? [String: Any])?["status"] as? String == details["remote"] as? String)
            #expect((history["runs"] as? [[String: Any]])?.count == 1)
            #expect(history["open"] as? Bool == false)

            // A duplicate delivery: the deliveries it names, as many as it counted.
            let duplicate = try #require(first.first { $0["kind"] as? String == "duplicate_delivery" })
            let text = try await cli.reconcile(
                ["show", "job.yml", duplicate["id"] as? String ?? ""],
                extraEnvironment: blank
            )
            #expect(text.status == 0)
            let count = (duplicate["details"] as? [String: Any])?["deliveries"] as? Int ?? -1
            let deliveryLines = text.stdout.split(separator: "\n").filter { $0.hasPrefix("  #") }
            #expect(deliveryLines.count == count, "\(text.stdout)")
            #expect(text.stdout.hasPrefix("finding \(duplicate["id"] as? String ?? ""): duplicate_delivery"))
            #expect(text.stdout.contains("repairs: none"))

            // A backfill's findings stay open until a backfill of the same window leaves them out: the
            // nightly runs, over another window, neither close them nor are closed by them.
            _ = try await cli.reconcile(
                [
                    "backfill", "job.yml", "--provider", "crezco", "--since", "2026-06-20T00:00:00Z", "--report-json",
                    "b.json",
                ]
            )
            let backfilled = try cli.report("b.json")["findings"] as? [[String: Any]] ?? []
            let afterBackfill =
                try Self.json(
                    try await cli.reconcile(["findings", "job.yml", "--format", "json"], extraEnvironment: blank).stdout
                ) as? [[String: Any]] ?? []
            let openNow = Set(afterBackfill.filter { $0["open"] as? Bool == true }.compactMap { $0["id"] as? String })
            let backfillOpen = Set(
                backfilled.filter { $0["repaired"] as? Bool == false }.compactMap { $0["id"] as? String }
            )
            #expect(!backfillOpen.isEmpty)
            #expect(openNow == stillOpen.union(backfillOpen), "the nightly's open findings stay open too")

            let unknown = try await cli.reconcile(["show", "job.yml", "f_0000000000000000"], extraEnvironment: blank)
            #expect(unknown.status == 2)
            #expect(unknown.stderr.contains("no finding f_0000000000000000 in the runs of job cli"))
            let everything = listed.stdout + table.stdout + shown.stdout + text.stdout
            for secret in cli.secrets { #expect(!everything.contains(secret)) }
        }
    }
}

extension InspectCLITests {
    /// `--log-format json`: every line on stderr is one JSON object a log shipper can read.
    @Test func jsonLogsAreOneObjectPerLine() async throws {
        try await CLIHarness.with { cli in
            let ingest = try await cli.reconcile(["ingest", "job.yml", "captures.ndjson", "--log-format", "json"])
            let run = try await cli.reconcile(["run", "job.yml", "--log-format", "json", "--log-level", "debug"])
            #expect(run.status == 1, "\(run.stderr)")
            var messages: [String] = []
            for line in (ingest.stderr + run.stderr).split(separator: "\n") {
                let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                #expect(object?["time"] is String && object?["level"] is String && object?["logger"] is String)
                messages.append(object?["message"] as? String ?? "")
            }
            #expect(messages.contains("ingest.end") && messages.contains("run.start") && messages.contains("run.end"))
            let start = try #require(
                run.stderr.split(separator: "\n").first { $0.contains("\"run.start\"") }.flatMap {
                    try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
                }
            )
            #expect(start["run.id"] is String && start["since"] is String)
            for secret in cli.secrets { #expect(!(ingest.stderr + run.stderr).contains(secret)) }
            let bad = try await cli.reconcile(["runs", "job.yml", "--log-format", "xml"])
            #expect(bad.status == 2 && bad.stderr.contains("log-format"))
        }
    }
}

extension InspectCLITests {
    /// The demo prints the report and says where its files were and how to keep them; a kept
    /// folder opens with the read-only commands and no secret at all.
    @Test func theDemoSaysHowToKeepItsFilesAndAKeptFolderOpens() async throws {
        try await CLIHarness.with { cli in
            let demo = try await cli.reconcile(
                ["demo", "--log-level", "warning"],
                extraEnvironment: Self.withoutSecrets(cli)
            )
            #expect(demo.status == 0, "\(demo.stderr)")
            #expect(demo.stdout.contains("# Reconciliation report: demo") && demo.stdout.contains("## Needs you"))
            let gone = try #require(
                demo.stdout.firstMatch(of: /were in (\S+) and are deleted;\n`reconcile demo --keep` keeps them/)
            )
            #expect(!FileManager.default.fileExists(atPath: String(gone.output.1)))

            let kept = try await cli.reconcile(["demo", "--keep", "--log-level", "warning"])
            let path = String(try #require(kept.stdout.firstMatch(of: /\nkept: (\S+)\n/)).output.1)
            defer { try? FileManager.default.removeItem(atPath: path) }
            let runs = try await cli.reconcile(
                ["runs", path + "/demo.yml"],
                extraEnvironment: Self.withoutSecrets(cli)
            )
            #expect(runs.status == 0, "\(runs.stderr)")
            #expect(runs.stdout.split(separator: "\n").count == 2 && runs.stdout.contains("\tnightly\t"))
            #expect(kept.stdout.contains("reconcile findings \(path)/demo.yml --open"))
        }
    }
}
