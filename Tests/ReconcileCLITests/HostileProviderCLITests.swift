import Foundation
import ReconcileSandbox
import Testing

/// Hostile job files and provider answers through the built executable: exit 2 or 3, never a crash (#9).
@Suite(.serialized) struct HostileProviderCLITests {
    static func sections(_ report: [String: Any]) -> [String: [String: Any]] {
        let list = report["providers"] as? [[String: Any]] ?? []
        return Dictionary(list.map { ($0["name"] as? String ?? "", $0) }, uniquingKeysWith: { first, _ in first })
    }

    @Test(arguments: [
        ("lookback: 8d", "lookback: 200000000000d", "lookback is '200000000000d'"),
        (
            "    endpoint_id:", "    retry_window: 9223372036854775807s\n    endpoint_id:",
            "retry_window is '9223372036854775807s'"
        ),
        ("lookback: 8d", "lookback: 400d", "lookback is '400d'"),
        ("lookback: 8d", "lookback: &a 8d", "an anchor"),
    ])
    func aJobFileThatWouldOverflowOrExpandExitsTwo(original: String, replacement: String, message: String) async throws
    {
        try await CLIHarness.with { cli in
            let text = try String(contentsOf: cli.path("job.yml"), encoding: .utf8)
                .replacingOccurrences(of: original, with: replacement)
            try text.write(to: cli.path("bad.yml"), atomically: true, encoding: .utf8)
            let result = try await cli.reconcile(["run", "bad.yml"])
            #expect(result.status == 2, "\(result.stderr)")
            #expect(result.stderr.contains("bad.yml:"))
            #expect(result.stderr.contains(message), "\(result.stderr)")
            #expect(try await !cli.storeExists(), "nothing ran")
        }
    }

    @Test func aDirectoryOrAPasswordInABaseURLExitsTwo() async throws {
        try await CLIHarness.with { cli in
            let directory = try await cli.reconcile(["run", cli.folder.path])
            #expect(directory.status == 2)
            #expect(directory.stderr.contains("is a directory"), "\(directory.stderr)")
            let text = try String(contentsOf: cli.path("job.yml"), encoding: .utf8)
                .replacingOccurrences(of: "http://127.0.0.1", with: "http://ops:hunter2secret@127.0.0.1")
            try text.write(to: cli.path("userinfo.yml"), atomically: true, encoding: .utf8)
            let userinfo = try await cli.reconcile(["run", "userinfo.yml"])
            #expect(userinfo.status == 2)
            #expect(userinfo.stderr.contains("base_url"))
            #expect(!userinfo.stderr.contains("hunter2secret"))
        }
    }

    @Test func aProviderAskingForADaysPauseFailsAloneAndAtOnce() async throws {
        try await CLIHarness.with(seed: 17, allProviders: true) { cli in
            _ = try await cli.reconcile(["ingest", "job.yml", "captures.ndjson"])
            await cli.server.setFaults([SandboxFault(.rateLimited(retryAfterSeconds: 86_400), times: nil)])
            let started = Date()
            let result = try await cli.reconcile(["run", "job.yml", "--report-json", "r.json"])
            #expect(result.status == 3)
            #expect(Date().timeIntervalSince(started) < 60, "it did not sleep through the night")
            let sections = Self.sections(try cli.report("r.json"))
            #expect(sections["credicorp"]?["status"] as? String == "failed")
            let error = sections["credicorp"]?["error"] as? String ?? ""
            #expect(error.hasPrefix("credicorp: ") && error.contains("Retry-After 86400s"), "\(error)")
            #expect(sections["crezco"]?["status"] as? String == "complete")
            #expect(sections["credify"]?["status"] as? String == "complete")
            for secret in cli.secrets { #expect(!(result.stdout + result.stderr + cli.allFileText()).contains(secret)) }
        }
    }

    @Test func aMistypedStatusFailsTheProviderAndRepairsNothing() async throws {
        try await CLIHarness.with { cli in
            _ = try await cli.reconcile(["ingest", "job.yml", "captures.ndjson"])
            let body =
                #"{"object":"list","data":[{"id":"pay_x","object":"payment","amount":100,"currency":"GBP","status":7,"#
                + #""created":"2026-07-05T09:00:00Z","updated":"2026-07-05T10:00:00Z"}],"has_more":false}"#
            await cli.server.setFaults([
                SandboxFault(.garbage(.body(body)), pathPrefix: "/public/v1/payments", times: nil)
            ])
            let result = try await cli.reconcile(["run", "job.yml", "--report-json", "r.json"])
            #expect(result.status == 3)
            let report = try cli.report("r.json")
            let credicorp = Self.sections(report)["credicorp"]
            #expect(credicorp?["status"] as? String == "failed")
            #expect((credicorp?["error"] as? String)?.contains("/public/v1/payments") == true)
            #expect(report["repairs"] as? Int == 0, "a mistyped status is never repaired towards")
            let mismatches = (report["findings"] as? [[String: Any]] ?? []).filter {
                $0["kind"] as? String == "state_mismatch"
            }
            #expect(mismatches.isEmpty)
        }
    }

    @Test func aProviderPastItsDeadlineFailsNamingIt() async throws {
        try await CLIHarness.with { cli in
            _ = try await cli.reconcile(["ingest", "job.yml", "captures.ndjson"])
            try cli.writeJob(name: "deadline.yml", extra: "    deadline: 1s")
            await cli.server.setFaults([SandboxFault(.slow(milliseconds: 1500), times: nil)])
            let started = Date()
            let result = try await cli.reconcile(["run", "deadline.yml", "--report-json", "r.json"])
            #expect(result.status == 3)
            #expect(Date().timeIntervalSince(started) < 30)
            let credicorp = Self.sections(try cli.report("r.json"))["credicorp"]
            #expect(credicorp?["status"] as? String == "failed")
            let error = credicorp?["error"] as? String ?? ""
            #expect(error.hasPrefix("credicorp: ") && error.contains("1s deadline"), "\(error)")
        }
    }

    @Test func aBodyOverTheLimitFailsThatProviderAlone() async throws {
        try await CLIHarness.with(seed: 18, allProviders: true) { cli in
            _ = try await cli.reconcile(["ingest", "job.yml", "captures.ndjson"])
            let huge = String(repeating: " ", count: 33 << 20) + "{}"
            await cli.server.setFaults([
                SandboxFault(.garbage(.body(huge)), provider: "crezco", pathPrefix: "/v1/payables", times: nil)
            ])
            let result = try await cli.reconcile(["run", "job.yml", "--report-json", "r.json"])
            #expect(result.status == 3)
            let sections = Self.sections(try cli.report("r.json"))
            #expect(sections["crezco"]?["status"] as? String == "failed")
            let error = sections["crezco"]?["error"] as? String ?? ""
            #expect(error.contains("/v1/payables") && error.contains("32 MiB"), "\(error)")
            #expect(sections["credicorp"]?["status"] as? String == "complete")
            #expect(sections["credify"]?["status"] as? String == "complete")
        }
    }
}
