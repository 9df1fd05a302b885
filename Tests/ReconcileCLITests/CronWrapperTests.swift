import Foundation
import ReconcileSandbox
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Runs `cron/reconcile-cron.sh` the way cron does, in a harness folder.
///
/// The environment holds only what cron and the wrapper's settings give (`PATH=/usr/bin:/bin`,
/// `HOME`, `RECONCILE_*`); the secrets come from an environment file; stdin is `/dev/null` and the
/// working directory is `/`.
struct CronWrapper {
    let cli: CLIHarness

    /// The wrapper script in the package, three folders above this file.
    static var script: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("cron/reconcile-cron.sh")
    }

    var environmentFile: URL { cli.path("reconcile.env") }
    var log: URL { cli.path("log/reconcile.log") }
    var logText: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    /// Writes the harness secrets and `RECONCILE_NOW` as KEY=value lines with the given file mode.
    func writeEnvironment(mode: Int = 0o600, prefix: String = "") throws {
        let lines = cli.environment.filter { $0.key != "PATH" }.sorted { $0.key < $1.key }.map {
            "\($0.key)=\($0.value)"
        }
        let text = prefix + "# written by CronWrapperTests\n\n" + lines.joined(separator: "\n") + "\n"
        try text.write(to: environmentFile, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: environmentFile.path)
    }

    /// Runs `/bin/sh cron/reconcile-cron.sh ARGS` with nothing but the cron environment, bounded by `timeout`.
    func run(_ arguments: [String], timeout: TimeInterval = 120) async throws -> CLIHarness.Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = [Self.script.path] + arguments
        process.currentDirectoryURL = URL(fileURLWithPath: "/")
        process.environment = [
            "PATH": "/usr/bin:/bin", "HOME": cli.folder.path, "RECONCILE_HOME": cli.folder.path,
            "RECONCILE_BIN": CLIHarness.executable.path, "RECONCILE_ENV": environmentFile.path,
            "RECONCILE_LOG": log.path,
        ]
        let out = cli.path("cron-stdout-\(UUID().uuidString)")
        let err = cli.path("cron-stderr-\(UUID().uuidString)")
        try Data().write(to: out)
        try Data().write(to: err)
        let outHandle = try FileHandle(forWritingTo: out)
        let errHandle = try FileHandle(forWritingTo: err)
        process.standardOutput = outHandle
        process.standardError = errHandle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        if process.isRunning {
            Issue.record("the wrapper did not finish within \(Int(timeout)) s: \(arguments)")
            process.terminate()
        }
        process.waitUntilExit()
        try outHandle.close()
        try errHandle.close()
        return CLIHarness.Result(
            status: process.terminationStatus,
            stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? ""
        )
    }

    /// The wrapper's own lines that begin with `word`: UTC-stamped and tagged with its pid.
    func wrapperLines(_ word: String) -> [Substring] {
        let tag = #/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ reconcile-cron\[\d+\]: /#
        return logText.split(separator: "\n").filter { line in
            guard let match = line.prefixMatch(of: tag) else { return false }
            return line[match.range.upperBound...].hasPrefix(word)
        }
    }
}

/// The cron wrapper against the sandbox: exit statuses, the log, and secrets kept out of it.
@Suite(.serialized) struct CronWrapperTests {
    @Test func ingestAndRunUnderCronExitAsTheBareExecutableLogEverythingAndLeakNoSecret() async throws {
        try await CLIHarness.with(seed: 21, allProviders: true) { cli in
            let cron = CronWrapper(cli: cli)
            try cron.writeEnvironment()
            let ingest = try await cron.run(["ingest", cli.path("job.yml").path, cli.path("captures.ndjson").path])
            let run = try await cron.run(["run", cli.path("job.yml").path])

            // The bare executable, same steps, on a store of its own.
            let job = try String(contentsOf: cli.path("job.yml"), encoding: .utf8)
            // On PostgreSQL, the bare executable's store is a file: the exit statuses are the same.
            let onFile =
                cli.storeURL.map {
                    job.replacingOccurrences(
                        of: "store: \($0)\nstore_password_env: \(CLIHarness.passwordVariable)\n",
                        with: "store: \(cli.path("reconcile.sqlite").path)\n"
                    )
                } ?? job
            let bareJob = onFile.replacingOccurrences(of: "reconcile.sqlite", with: "bare.sqlite")
                .replacingOccurrences(of: cli.path("reports").path, with: cli.path("bare-reports").path)
            try #require(bareJob != job)
            try bareJob.write(to: cli.path("bare.yml"), atomically: true, encoding: .utf8)
            let bareIngest = try await cli.reconcile(["ingest", "bare.yml", "captures.ndjson"])
            let bareRun = try await cli.reconcile(["run", "bare.yml"])

            #expect(bareIngest.status == 1, "some captured lines are rejected by design")
            #expect(bareRun.status == 1, "the Credicorp endpoint is disabled")
            #expect(ingest.status == bareIngest.status)
            #expect(run.status == bareRun.status)

            let log = cron.logText
            #expect(cron.wrapperLines("start ingest").count == 1)
            #expect(cron.wrapperLines("exit 1 ingest").count == 1)
            #expect(cron.wrapperLines("start run").count == 1)
            #expect(cron.wrapperLines("exit 1 run").count == 1)
            for line in ["ingest: ", "ingest.end", "run.start", "run.end"] {
                #expect(log.contains(line), "\(line) in the log")
            }
            #expect(ingest.stdout.isEmpty && run.stdout.isEmpty, "everything the job prints goes to the log")
            #expect(run.stderr.contains("exited 1"), "one line for cron to mail")
            // …and the report's summary: what needs a person, and where the report is.
            let runLines = log.split(separator: "\n").compactMap { $0.wholeMatch(of: /run (\S+): complete, .*/) }
            let runID = String(try #require(runLines.first).output.1)
            #expect(
                run.stderr.contains("reconcile cli: run \(runID) complete, exit 1 (a person must look)"),
                "\(run.stderr)"
            )
            #expect(run.stderr.contains("needs you:\n  Webhook endpoint disabled (1):"))
            #expect(run.stderr.contains("money affected: "))
            #expect(run.stderr.contains("report: \(cli.path("reports").path)/\(runID)/report.md"))
            let quiet = try await cron.run(["run", cli.path("job.yml").path])
            #expect(quiet.status == 0 && quiet.stderr.isEmpty, "nothing new: no mail (\(quiet.stderr))")
            #expect(try await cli.storeExists())

            let printed = cron.logText + ingest.stdout + ingest.stderr + run.stdout + run.stderr
            for secret in cli.secrets { #expect(!printed.contains(secret), "a secret leaked") }
        }
    }

    @Test func theWrapperPassesTheJobsExitStatusUnchanged() async throws {
        try await CLIHarness.with(seed: 22) { cli in
            let cron = CronWrapper(cli: cli)
            try cron.writeEnvironment()
            let job = cli.path("job.yml").path
            let steps: [(arguments: [String], expected: Int32)] = [
                (["ingest", job, cli.path("captures.ndjson").path], 1),
                (["runs", job], 0),
                (["run", cli.path("missing.yml").path], 2),
            ]
            for step in steps {
                let wrapped = try await cron.run(step.arguments)
                let bare = try await cli.reconcile(step.arguments)
                #expect(bare.status == step.expected, "\(step.arguments)")
                #expect(wrapped.status == bare.status, "\(step.arguments)")
                #expect(cron.wrapperLines("exit \(bare.status) \(step.arguments[0])").count == 1)
            }
            await cli.server.setFaults([SandboxFault(.unauthorized, pathPrefix: "/public/v1/payments", times: nil)])
            let failed = try await cron.run(["run", job])
            let bareFailed = try await cli.reconcile(["run", job])
            #expect(bareFailed.status == 3)
            #expect(failed.status == bareFailed.status)
            for secret in cli.secrets { #expect(!cron.logText.contains(secret), "a secret leaked") }
        }
    }

    @Test func anEnvironmentFileOthersCanReadIsRefusedAndNothingRuns() async throws {
        try await CLIHarness.with(seed: 23) { cli in
            let cron = CronWrapper(cli: cli)
            try cron.writeEnvironment(mode: 0o644)
            let result = try await cron.run(["run", cli.path("job.yml").path])
            #expect(result.status == 2)
            #expect(cron.logText.contains("has mode 644; expected 600"))
            #expect(cron.wrapperLines("start").isEmpty)
            #expect(try await !cli.storeExists(), "the job did not run")
        }
    }

    @Test func aMissingEnvironmentFileIsRefused() async throws {
        try await CLIHarness.with(seed: 24) { cli in
            let cron = CronWrapper(cli: cli)
            let result = try await cron.run(["run", cli.path("job.yml").path])
            #expect(result.status == 2)
            #expect(cron.logText.contains("no environment file \(cron.environmentFile.path)"))
            #expect(try await !cli.storeExists())
        }
    }

    @Test func anEnvironmentFileWithShellCodeIsRefusedWithoutRunningItOrPrintingASecret() async throws {
        try await CLIHarness.with(seed: 25) { cli in
            let cron = CronWrapper(cli: cli)
            let marker = cli.path("ran")
            try cron.writeEnvironment(prefix: "set -x\ntouch \(marker.path)\n")
            let result = try await cron.run(["run", cli.path("job.yml").path])
            #expect(result.status == 2)
            #expect(cron.logText.contains("line 1 is not KEY=value"))
            #expect(!FileManager.default.fileExists(atPath: marker.path), "the file was read, not run")
            #expect(try await !cli.storeExists())
            let printed = cron.logText + result.stdout + result.stderr
            for secret in cli.secrets { #expect(!printed.contains(secret), "a secret leaked") }
        }
    }

    @Test(.enabled(if: CLIHarness.engine == .sqlite, "holds the flock beside the file"))
    func aRunWhileAnotherHoldsTheStoreLockExitsFour() async throws {
        try await CLIHarness.with(seed: 26) { cli in
            let cron = CronWrapper(cli: cli)
            try cron.writeEnvironment()
            // Hold the store's lock the way a running job does: flock(2) on <store>.lock, from this
            // process, so the wrapper's job (another open of the file) cannot take it.
            let descriptor = open(cli.path("reconcile.sqlite.lock").path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
            try #require(descriptor >= 0)
            defer { close(descriptor) }
            try #require(flock(descriptor, LOCK_EX | LOCK_NB) == 0)
            let result = try await cron.run(["run", cli.path("job.yml").path, "--create-store"], timeout: 20)
            #expect(result.status == 4)
            #expect(cron.logText.contains("lock"))
            #expect(cron.wrapperLines("exit 4 run").count == 1)
        }
    }
}
