import Foundation
import ReconcileSandbox
import Testing

/// One job with Credicorp, Crezco and Credify, through the built executable against the sandbox.
@Suite(.serialized) struct MultiProviderCLITests {
    /// What identifies a finding across the oracle and the report.
    struct Key: Hashable, CustomStringConvertible {
        var kind: String
        var provider: String
        var resourceID: String
        var eventID: String

        var description: String { "\(kind) \(provider) \(resourceID) \(eventID)" }
    }

    static func key(_ finding: [String: Any]) -> Key {
        Key(
            kind: finding["kind"] as? String ?? "",
            provider: finding["provider"] as? String ?? "",
            resourceID: finding["resource_id"] as? String ?? "",
            eventID: finding["event_id"] as? String ?? ""
        )
    }

    static func key(_ expected: SandboxExpectedFinding) -> Key {
        Key(
            kind: expected.kind.rawValue,
            provider: expected.provider,
            resourceID: expected.resourceID ?? "",
            eventID: expected.eventID ?? ""
        )
    }

    static func findings(_ report: [String: Any]) -> [[String: Any]] {
        report["findings"] as? [[String: Any]] ?? []
    }

    static func sections(_ report: [String: Any]) -> [String: [String: Any]] {
        let list = report["providers"] as? [[String: Any]] ?? []
        return Dictionary(list.map { ($0["name"] as? String ?? "", $0) }, uniquingKeysWith: { first, _ in first })
    }

    @Test(arguments: [11, 29, 2026] as [UInt64])
    func oneJobOverThreeProvidersFindsExactlyWhatTheOracleExpects(seed: UInt64) async throws {
        try await CLIHarness.with(seed: seed, allProviders: true) { cli in
            let all = try #require(cli.all)
            let ingest = try await cli.reconcile(["ingest", "job.yml", "captures.ndjson"])
            #expect(ingest.status == 1, "some lines are rejected by design")
            #expect(ingest.stdout.contains("unknown_key_id"))

            let first = try await cli.reconcile(["run", "job.yml", "--report-json", "first.json"])
            #expect(first.status == 1)
            let report = try cli.report("first.json")
            #expect(
                Self.sections(report).values.map { $0["status"] as? String } == ["complete", "complete", "complete"]
            )
            let since = CLIHarness.now.addingTimeInterval(-8 * 86_400)
            let expected = all.expectedFindings(since: since, until: CLIHarness.now)
            let found = Self.findings(report)
            let expectedKeys = Set(expected.map(Self.key))
            let foundKeys = Set(found.map(Self.key))
            #expect(foundKeys.subtracting(expectedKeys).isEmpty, "unexpected: \(foundKeys.subtracting(expectedKeys))")
            #expect(expectedKeys.subtracting(foundKeys).isEmpty, "missing: \(expectedKeys.subtracting(foundKeys))")
            for provider in ["crezco", "credify"] {
                let kinds = Set(expected.filter { $0.provider == provider }.map(\.kind.rawValue))
                let foundKinds = Set(
                    found.filter { $0["provider"] as? String == provider }.compactMap { $0["kind"] as? String }
                )
                #expect(foundKinds == kinds, "\(provider) kinds")
            }
            for item in expected where item.cause != nil {
                let match = found.first { Self.key($0) == Self.key(item) }
                let details = match?["details"] as? [String: Any] ?? [:]
                #expect(details["cause"] as? String == item.cause, "cause of \(Self.key(item))")
            }
            for item in expected where item.reason != nil {
                let match = found.first {
                    Self.key($0) == Self.key(item)
                        && ($0["details"] as? [String: Any])?["reason"] as? String == item.reason
                }
                #expect(match != nil, "reason \(item.reason ?? "") of \(Self.key(item))")
            }
            // Money on payment-like resources of every provider.
            let csv = try await cli.reconcile(["report", "job.yml", "--format", "csv"])
            for type in [",payment,", ",payable,", ",bnpl_order,"] {
                #expect(csv.stdout.contains(type), "\(type) in CSV")
            }

            let second = try await cli.reconcile(["run", "job.yml", "--report-json", "second.json"])
            let again = try cli.report("second.json")
            #expect(again["repairs"] as? Int == 0, "repairs are idempotent")
            #expect(Self.findings(again).allSatisfy { $0["new"] as? Bool == false })
            #expect(second.status == 0, "still-open findings were reported last night: cron alerts once")
            let firstIDs = Dictionary(Self.findings(report).map { ($0["id"] as? String ?? "", $0) }) { a, _ in a }
            for finding in Self.findings(again) {
                #expect(firstIDs[finding["id"] as? String ?? ""] != nil, "the same finding has the same id")
                #expect(finding["first_seen"] as? String == CLIHarness.nowText)
            }
            let resolvedIDs = Set((again["resolved"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String })
            // Every repaired finding is resolved, a dropped event too: once recorded, it was received.
            let repairedIDs = Set(
                Self.findings(report).filter { $0["repaired"] as? Bool == true }.compactMap { $0["id"] as? String }
            )
            #expect(!repairedIDs.isEmpty && resolvedIDs == repairedIDs, "what was repaired is resolved the next night")

            let everything =
                cli.allFileText() + ingest.stdout + ingest.stderr + first.stdout + first.stderr + csv.stdout
            for secret in cli.secrets { #expect(!everything.contains(secret), "a secret leaked") }
        }
    }

    @Test func aDryRunOverThreeProvidersLeavesLocalStateAsItWas() async throws {
        try await CLIHarness.with(seed: 12, allProviders: true) { cli in
            _ = try await cli.reconcile(["ingest", "job.yml", "captures.ndjson"])
            let before = try await cli.reconcile(["report", "job.yml", "--format", "json"])
            let dry = try await cli.reconcile(["run", "job.yml", "--dry-run", "--report-json", "dry.json"])
            #expect(dry.status == 1)
            let report = try cli.report("dry.json")
            #expect(report["repairs"] as? Int == 0)
            #expect(Self.findings(report).allSatisfy { $0["repaired"] as? Bool == false })
            _ = before
            // The same findings again in a real run, every one still new and the repairs made now.
            let real = try await cli.reconcile(["run", "job.yml", "--report-json", "real.json"])
            let realReport = try cli.report("real.json")
            #expect(Set(Self.findings(realReport).map(Self.key)) == Set(Self.findings(report).map(Self.key)))
            #expect(Self.findings(realReport).allSatisfy { $0["new"] as? Bool == true })
            #expect((realReport["repairs"] as? Int ?? 0) > 0)
            #expect(real.status == 1)
        }
    }

    @Test func oneProviderFailingLeavesTheOthersCompleteAndExitsThree() async throws {
        try await CLIHarness.with(seed: 13, allProviders: true) { cli in
            _ = try await cli.reconcile(["ingest", "job.yml", "captures.ndjson"])
            await cli.server.setFaults([
                SandboxFault(.garbage(.html), provider: "crezco", pathPrefix: "/v1/payables", times: nil)
            ])
            let result = try await cli.reconcile(["run", "job.yml", "--report-json", "r.json"])
            #expect(result.status == 3)
            let report = try cli.report("r.json")
            let sections = Self.sections(report)
            #expect(sections["crezco"]?["status"] as? String == "failed")
            #expect((sections["crezco"]?["error"] as? String)?.contains("/v1/payables") == true)
            #expect(sections["credicorp"]?["status"] as? String == "complete")
            #expect(sections["credify"]?["status"] as? String == "complete")
            let providers = Set(Self.findings(report).compactMap { $0["provider"] as? String })
            #expect(providers.contains("credicorp") && providers.contains("credify"))
            #expect(
                !Self.findings(report).contains {
                    $0["provider"] as? String == "crezco" && $0["repaired"] as? Bool == true
                }
            )
            #expect(
                Self.findings(report).contains {
                    $0["provider"] as? String == "credify" && $0["repaired"] as? Bool == true
                }
            )
            #expect((report["run"] as? [String: Any])?["status"] as? String == "failed")
        }
    }

    @Test func crezcoKeysAreFetchedOnceAndKeptInTheStore() async throws {
        try await CLIHarness.with(seed: 14, allProviders: true) { cli in
            let first = try await cli.reconcile(["ingest", "job.yml", "captures.ndjson"])
            #expect(first.status == 1)
            let fetches = await cli.server.requestCount(provider: "crezco", pathPrefix: "/v1/webhooks/public-keys/")
            #expect(fetches == 3, "the previous key, the current key and the unknown key id, once each")
            // Another process: the kept keys come from the store, and so does the 404 (for 24 h): nothing is asked.
            await cli.server.clearRequests()
            let again = try await cli.reconcile(["ingest", "job.yml", "captures.ndjson"])
            #expect(again.status == 1, "the same rejected lines, nothing else")
            #expect(await cli.server.requestCount(provider: "crezco", pathPrefix: "/v1/webhooks/") == 0)
        }
    }

    @Test func ingestStopsWithExitThreeWhenCrezcoCannotSupplyANewKey() async throws {
        // A short retry budget: the key route keeps failing, and the test need not wait a minute.
        try await CLIHarness.with(seed: 15, allProviders: true, jobExtra: "retry_budget: 2s") { cli in
            await cli.server.setFaults([
                SandboxFault(.serverError(status: 503), provider: "crezco", pathPrefix: "/v1/webhooks", times: nil)
            ])
            let result = try await cli.reconcile(["ingest", "job.yml", "captures.ndjson"])
            #expect(result.status == 3)
            #expect(result.stderr.contains("crezco"))
            await cli.server.setFaults([])
            let resumed = try await cli.reconcile(["ingest", "job.yml", "captures.ndjson"])
            #expect(resumed.status == 1, "the rest goes in once Crezco answers; only the designed rejections remain")
            let all = try #require(cli.all)
            let designed =
                all.credicorp.deliveries.filter { $0.rejection != nil }.count
                + all.crezco.deliveries.filter { $0.rejection != nil }.count
                + all.credify.deliveries.filter { $0.rejection != nil }.count
            let line = resumed.stdout.split(separator: "\n").last { $0.hasPrefix("ingest:") } ?? ""
            #expect(line.hasSuffix(" \(designed) rejected"), "\(line)")
        }
    }

    @Test func aSignalStopsIngestBetweenLinesAndIngestingAgainGoesOn() async throws {
        try await CLIHarness.with(seed: 16, allProviders: true) { cli in
            // The first Crezco key takes a while to fetch: the signal lands while ingest waits for it.
            await cli.server.setFaults([
                SandboxFault(.slow(milliseconds: 1500), provider: "crezco", pathPrefix: "/v1/webhooks", times: 1)
            ])
            let stopped = try await cli.reconcile(
                ["ingest", "job.yml", "captures.ndjson"],
                signal: SIGTERM,
                after: 0.7
            )
            #expect(!stopped.killed)
            #expect(stopped.status == 3)
            #expect(stopped.stderr.contains("ingest interrupted before captures.ndjson:"))
            let all = try #require(cli.all)
            let designed =
                all.credicorp.deliveries.filter { $0.rejection != nil }.count
                + all.crezco.deliveries.filter { $0.rejection != nil }.count
                + all.credify.deliveries.filter { $0.rejection != nil }.count
            let again = try await cli.reconcile(["ingest", "job.yml", "captures.ndjson"])
            #expect(again.status == 1)
            let line = again.stdout.split(separator: "\n").last { $0.hasPrefix("ingest:") } ?? ""
            #expect(line.hasSuffix(" \(designed) rejected"), "\(line)")
            #expect(!line.hasPrefix("ingest: 0 accepted"), "the lines after the stop go in now")
        }
    }

    @Test func withRepairOffEveryNightAlertsWhileLocalStateStillDiffers() async throws {
        try await CLIHarness.with(seed: 17, allProviders: true, jobExtra: "repair: false") { cli in
            _ = try await cli.reconcile(["ingest", "job.yml", "captures.ndjson"])
            let first = try await cli.reconcile(["run", "job.yml", "--report-json", "1.json"])
            let second = try await cli.reconcile(["run", "job.yml", "--report-json", "2.json"])
            #expect(first.status == 1)
            #expect(second.status == 1, "nothing was repaired: a person must still look")
            let again = try cli.report("2.json")
            #expect(again["repairs"] as? Int == 0)
            let mismatches = Self.findings(again).filter { $0["kind"] as? String == "state_mismatch" }
            #expect(!mismatches.isEmpty && mismatches.allSatisfy { $0["new"] as? Bool == false })
        }
    }
}
