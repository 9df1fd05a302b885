import Foundation
import ReconcileSandbox
import Testing

/// No API key or signing secret anywhere: outputs, debug logs, reports, metrics, the store.
@Suite(.serialized) struct SecretsCLITests {
    @Test func everyCommandAtDebugLevelKeepsEverySecretOutOfEverything() async throws {
        try await CLIHarness.with(seed: 51, allProviders: true, jobExtra: "metrics: metrics/reconcile.prom") { cli in
            // The providers' five, and on PostgreSQL the store's password.
            #expect(cli.secrets.count == (cli.storeURL == nil ? 5 : 6))
            #expect(cli.secrets.allSatisfy { $0.count >= 16 }, "distinctive values")
            await cli.server.setFaults([
                SandboxFault(.rateLimited(retryAfterSeconds: 1), provider: "credify", times: 1),
                SandboxFault(.serverError(status: 502), provider: "crezco", times: 1),
            ])
            var output = ""
            let debug = ["--log-level", "debug"]
            for arguments in [
                ["ingest", "job.yml", "captures.ndjson"], ["run", "job.yml"],
                ["backfill", "job.yml", "--provider", "credicorp", "--since", "2026-07-03T00:00:00Z"],
                ["report", "job.yml", "--format", "md"], ["report", "job.yml", "--format", "json"],
                ["report", "job.yml", "--format", "csv"], ["runs", "job.yml"],
            ] {
                let result = try await cli.reconcile(arguments + debug)
                #expect(result.status != 2, "\(arguments): \(result.stderr.suffix(300))")
                output += result.stdout + result.stderr
            }
            // A refused key: the error names the variable, never the value.
            await cli.server.setFaults([SandboxFault(.unauthorized, provider: "crezco", times: nil)])
            let refused = try await cli.reconcile(["run", "job.yml"] + debug)
            #expect(refused.status == 3)
            output += refused.stdout + refused.stderr
            #expect(output.contains("provider.retry"), "debug logs of retries were produced and searched")
            let everything = output + cli.allFileText()
            #expect(everything.contains("reconcile_last_run_exit_status"), "the metrics file was searched")
            for secret in cli.secrets { #expect(!everything.contains(secret), "a secret leaked") }
        }
    }
}
