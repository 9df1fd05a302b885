import Foundation
import Logging
import ReconcileCore
import ReconcileSandbox
import Testing

/// Several `reconcile run --shard` processes sharing one job of many accounts on PostgreSQL.
// On the SQLite pass only: these tests set up their own databases beside the harness's file.
@Suite(.enabled(if: CLIPostgres.enabled && CLIHarness.engine == .sqlite)) struct SharedRunCLITests {
    static let entries = (1...30).map { String(format: "acct-%02d", $0) }

    /// A job of `entries` Credicorp accounts, each with its own base URL on the sandbox (so the
    /// sandbox's log says which account each request was for), on the PostgreSQL store `url`.
    static func sharedJob(_ cli: CLIHarness, url: String, name: String = "shared.yml") throws {
        var text = """
            name: shared
            store: \(url)
            store_password_env: RECONCILE_STORE_PASSWORD
            lookback: 8d
            reports: \(cli.path("reports").path)
            providers:

            """
        for entry in entries {
            text += """
                  - name: \(entry)
                    kind: credicorp
                    base_url: \(cli.server.baseURL(for: "credicorp", account: entry))
                    api_key_env: CREDICORP_API_KEY
                    signing_secrets_env: [CREDICORP_WHSEC, CREDICORP_WHSEC_PREVIOUS]
                    endpoint_id: \(cli.history.endpointID)
                    rate_limit: 20

                """
        }
        try text.write(to: cli.path(name), atomically: true, encoding: .utf8)
    }

    /// Runs `body` with the sandbox, a database of its own holding the shared job (`shared.yml`),
    /// its URL, and the environment that carries the store's password.
    static func withSharedJob(_ body: (CLIHarness, String, [String: String]) async throws -> Void) async throws {
        let (_, password) = try CLIPostgres.server()
        try await CLIPostgres.withDatabase { url in
            try await CLIHarness.with(seed: 7) { cli in
                try sharedJob(cli, url: url)
                try await body(cli, url, ["RECONCILE_STORE_PASSWORD": password])
            }
        }
    }

    /// The provider sections of a report, by name.
    static func sections(_ report: [String: Any]) -> [String: [String: Any]] {
        let providers = report["providers"] as? [[String: Any]] ?? []
        return Dictionary(providers.map { ($0["name"] as? String ?? "", $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// Requests the sandbox received, by account.
    static func requestsByAccount(_ cli: CLIHarness) async -> [String: Int] {
        var counts: [String: Int] = [:]
        for record in await cli.server.requests() { counts[record.account ?? "-", default: 0] += 1 }
        return counts
    }

    /// How many requests reading one account takes: one host alone reads one entry.
    static func requestsForOneEntry(_ cli: CLIHarness, env: [String: String]) async throws -> Int {
        let alone = try await cli.reconcile(
            ["run", "shared.yml", "--provider", "acct-01", "--dry-run", "--create-store"],
            extraEnvironment: env
        )
        #expect(alone.status == 1, "\(alone.stderr)")
        let counts = await requestsByAccount(cli)
        await cli.server.clearRequests()
        return counts["acct-01"] ?? 0
    }

    @Test func threeHostsReadEachOfThirtyAccountsOnceAndTheNextRoundResolvesWhatTheFirstRepaired() async throws {
        try await Self.withSharedJob { cli, _, env in
            let perEntry = try await Self.requestsForOneEntry(cli, env: env)
            #expect(perEntry > 0)

            func round(_ tag: String) async throws -> [[String: Any]] {
                async let first = cli.reconcile(
                    ["run", "shared.yml", "--shard", "1/3", "--round", tag, "--report-json", "\(tag)-1.json"],
                    extraEnvironment: env
                )
                async let second = cli.reconcile(
                    ["run", "shared.yml", "--shard", "2/3", "--round", tag, "--report-json", "\(tag)-2.json"],
                    extraEnvironment: env
                )
                async let third = cli.reconcile(
                    ["run", "shared.yml", "--shard", "3/3", "--round", tag, "--report-json", "\(tag)-3.json"],
                    extraEnvironment: env
                )
                let hosts = try await [first, second, third]
                for host in hosts { #expect(host.status <= 1, "\(host.stderr)") }
                return try (1...3).map { try cli.report("\(tag)-\($0).json") }
            }

            let first = try await round("first")
            // Every entry in exactly one host's report, complete; every account asked exactly
            // as often as one entry's reading needs.
            let read = first.flatMap { Self.sections($0).keys }
            #expect(read.sorted() == Self.entries, "each entry read by one host: \(read.sorted())")
            #expect(
                first.flatMap { Self.sections($0).values }.allSatisfy { $0["status"] as? String == "complete" }
            )
            let counts = await Self.requestsByAccount(cli)
            #expect(counts.keys.sorted() == Self.entries, "only the accounts were asked: \(counts)")
            #expect(counts.values.allSatisfy { $0 == perEntry }, "no account read twice: \(counts), \(perEntry)")
            let found = first.flatMap { $0["findings"] as? [[String: Any]] ?? [] }
            let repaired = found.filter { $0["repaired"] as? Bool == true }
            #expect(!repaired.isEmpty, "the first round repaired")

            // The second round finds nothing left, whichever host reads which entry, and says
            // that what the first repaired is resolved: each entry compared with its last reading.
            await cli.server.clearRequests()
            let second = try await round("second")
            #expect(second.flatMap { Self.sections($0).keys }.sorted() == Self.entries)
            let resolved = second.flatMap { $0["resolved"] as? [[String: Any]] ?? [] }
            #expect(
                Set(resolved.compactMap { $0["id"] as? String }) == Set(repaired.compactMap { $0["id"] as? String })
            )
            let left = second.flatMap { $0["findings"] as? [[String: Any]] ?? [] }
            #expect(left.count == found.count - repaired.count, "what could not be repaired is still there")

            // The round as one report, and the runs listed as one night's shares.
            let wide = try await cli.reconcile(
                ["report", "shared.yml", "--job-wide", "--format", "json"],
                extraEnvironment: env
            )
            #expect(wide.status <= 1, "\(wide.stderr)")
            let merged = try #require(
                try JSONSerialization.jsonObject(with: Data(wide.stdout.utf8)) as? [String: Any]
            )
            #expect(Self.sections(merged).keys.sorted() == Self.entries)
            #expect((merged["resolved"] as? [Any])?.count == resolved.count)
            #expect((merged["findings"] as? [Any])?.count == left.count)
            #expect((merged["run"] as? [String: Any])?["id"] as? String == "second")

            // A host that comes late to the night's round finds every entry recorded.
            await cli.server.clearRequests()
            let late = try await cli.reconcile(
                ["run", "shared.yml", "--shard", "2/3", "--round", "second", "--report-json", "late.json"],
                extraEnvironment: env
            )
            #expect(late.status == 0, "\(late.stderr)")
            #expect(Self.sections(try cli.report("late.json")).isEmpty)
            #expect(await cli.server.requests().isEmpty, "the late host asked no provider")
            let runs = try await cli.reconcile(["runs", "shared.yml"], extraEnvironment: env)
            #expect(runs.stdout.components(separatedBy: "nightly (shared)").count - 1 == 7, "\(runs.stdout)")
            #expect(!runs.stdout.contains("crashed"), "no host of a round marks another's run crashed")
        }
    }

    @Test func aHostKilledMidRoundLeavesItsAccountsToTheOthers() async throws {
        try await Self.withSharedJob { cli, _, env in
            let perEntry = try await Self.requestsForOneEntry(cli, env: env)
            // Slow answers, so that the kill lands while the third host is reading.
            await cli.server.setFaults([
                SandboxFault(.slow(milliseconds: 60), times: nil)
            ])

            async let first = cli.reconcile(
                ["run", "shared.yml", "--shard", "1/3", "--round", "killed", "--report-json", "host-1.json"],
                extraEnvironment: env
            )
            async let second = cli.reconcile(
                ["run", "shared.yml", "--shard", "2/3", "--round", "killed", "--report-json", "host-2.json"],
                extraEnvironment: env
            )
            // The third is killed while it reads its first entries.
            async let third = cli.reconcile(
                ["run", "shared.yml", "--shard", "3/3", "--round", "killed", "--report-json", "host-3.json"],
                extraEnvironment: env,
                signal: SIGKILL,
                after: 0.3,
                marker: "shard.entry_claimed"
            )
            let (one, two, killed) = try await (first, second, third)
            #expect(killed.killed, "the third host was killed mid-round: \(killed.stderr)")
            #expect(one.status <= 1 && two.status <= 1, "\(one.stderr)\n\(two.stderr)")
            let claimed = Set(
                Self.entries.filter { entry in
                    killed.stderr.split(separator: "\n").contains {
                        $0.contains("shard.entry_claimed") && $0.contains("entry=\(entry) ")
                    }
                }
            )
            #expect(!claimed.isEmpty, "the killed host had claimed entries: \(killed.stderr)")

            // The survivors read disjoint entries, among them what the killed host was reading;
            // what it had recorded before it died stands, and the round's report has all 30.
            let survivors = try (1...2).map { Set(Self.sections(try cli.report("host-\($0).json")).keys) }
            #expect(survivors[0].isDisjoint(with: survivors[1]))
            let takenOver = claimed.intersection(survivors[0].union(survivors[1]))
            #expect(!takenOver.isEmpty, "a survivor read what the killed host had in hand")
            let counts = await Self.requestsByAccount(cli)
            #expect(
                Set(counts.filter { $0.value > perEntry }.keys).isSubset(of: takenOver),
                "only what the killed host had in hand was read twice: \(counts), \(takenOver)"
            )
            #expect(Self.entries.allSatisfy { counts[$0, default: 0] >= perEntry }, "\(counts)")
            #expect(counts.values.allSatisfy { $0 <= 2 * perEntry }, "\(counts)")
            let wide = try await cli.reconcile(
                ["report", "shared.yml", "--job-wide", "--format", "json"],
                extraEnvironment: env
            )
            let merged = try #require(
                try JSONSerialization.jsonObject(with: Data(wide.stdout.utf8)) as? [String: Any]
            )
            #expect(Self.sections(merged).keys.sorted() == Self.entries, "\(wide.stderr)")
            #expect((merged["run"] as? [String: Any])?["status"] as? String == "complete")
            #expect(wide.status <= 1, "\(wide.stderr)")
            await cli.server.setFaults([])

            // The next round starts afresh and reports the killed host's run as crashed.
            let next = try await cli.reconcile(
                ["run", "shared.yml", "--shard", "1/1", "--round", "next"],
                extraEnvironment: env
            )
            #expect(next.status <= 1, "\(next.stderr)")
            #expect(next.stderr.contains("run.earlier_crashed"), "\(next.stderr)")
        }
    }

    @Test func sharedAndWholeRunsNeverOverlapAndAShardNeedsAServerStore() async throws {
        try await Self.withSharedJob { cli, url, env in
            let create = try await cli.reconcile(
                ["run", "shared.yml", "--provider", "acct-01", "--create-store", "--dry-run"],
                extraEnvironment: env
            )
            #expect(create.status == 1, "\(create.stderr)")
            let password = try CLIPostgres.server().password
            let location = try PostgresLocation(url: url)
            let host = try await PostgresClaims.connect(
                to: location,
                password: password,
                logger: Logger(label: "test")
            )
            #expect(try await host.joinRound(job: "shared", round: "round-x", at: Date()) == true)
            let whole = try await cli.reconcile(["run", "shared.yml"], extraEnvironment: env)
            #expect(whole.status == 4, "a whole run waits for no round: \(whole.stderr)")
            #expect(whole.stderr.contains("another run holds the lock"), "\(whole.stderr)")
            let other = try await PostgresClaims.connect(
                to: location,
                password: password,
                logger: Logger(label: "test")
            )
            #expect(try await other.joinRound(job: "shared", round: "round-x", at: Date()) == false, "joined")
            try await host.close()
            try await other.close()

            let holder = try await PostgresClaims.connect(
                to: location,
                password: password,
                logger: Logger(label: "test")
            )
            #expect(try await holder.claim(job: "shared"))
            let shared = try await cli.reconcile(["run", "shared.yml", "--shard", "2/2"], extraEnvironment: env)
            #expect(shared.status == 4, "no share while a whole run holds the job: \(shared.stderr)")
            try await holder.close()

            for bad in ["0/3", "4/3", "3", "a/b", "1/0"] {
                let refused = try await cli.reconcile(["run", "shared.yml", "--shard", bad], extraEnvironment: env)
                #expect(
                    refused.status == 2 && refused.stderr.contains("--shard \(bad)"),
                    "\(bad): \(refused.stderr)"
                )
            }
            for (arguments, expected) in [
                (["--shard", "1/2", "--dry-run"], "--dry-run"),
                (["--shard", "1/2", "--round", "a b"], "--round a b"),
                (["--round", "x"], "--round names the round of --shard"),
            ] {
                let refused = try await cli.reconcile(["run", "shared.yml"] + arguments, extraEnvironment: env)
                #expect(refused.status == 2 && refused.stderr.contains(expected), "\(arguments): \(refused.stderr)")
            }
            let withProvider = try await cli.reconcile(
                ["run", "shared.yml", "--shard", "1/2", "--provider", "acct-01"],
                extraEnvironment: env
            )
            #expect(
                withProvider.status == 2 && withProvider.stderr.contains("--provider"),
                "\(withProvider.stderr)"
            )
            let file = try await cli.reconcile(["run", "job.yml", "--shard", "1/2"])
            #expect(file.status == 2 && file.stderr.contains("SQLite file"), "\(file.stderr)")
        }
    }
}
