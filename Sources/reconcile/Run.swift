import ArgumentParser
import Foundation
import ReconcileCore

extension Reconcile {
    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The nightly job: compare, classify, repair (unless --dry-run), write reports.",
            discussion: """
                Exit status: 0 nothing needs a person; 1 a person must look; 2 bad usage or job file;
                3 a provider or the store failed (partial report written); 4 another run holds the lock.
                """
        )

        @Argument(help: "Job file, e.g. Jobs/nightly.yml.") var job: String
        @Flag(help: "Find and report only; change no local state.") var dryRun = false
        @Option(name: .customLong("provider"), help: "Reconcile only this provider (repeatable).") var providers:
            [String] = []
        @Option(help: "Window start, RFC 3339 UTC (default: now minus the job's lookback).") var since: String?
        @Option(help: "Window end, exclusive, RFC 3339 UTC (default: now).") var until: String?
        @Option(help: "Replay at this RFC 3339 UTC time; RECONCILE_NOW does the same.") var now: String?
        @Option(help: "Also write report.json to this path.") var reportJSON: String?
        @Option(help: "Store path; overrides the job's 'store'.") var store: String?
        @Flag(help: "Start an empty store if there is none (otherwise a missing store is refused).")
        var createStore = false
        @Option(
            help: """
                Share the job with the runs of other hosts (PostgreSQL store): I/N tries the entries of \
                shard I of N first, then takes any entry that is free; 1/1 takes whatever is free.
                """
        ) var shard: String?
        @Option(
            help: """
                With --shard: the round to join, the same on every host of one night (default: the UTC date \
                of the run's clock, such as 2026-12-07).
                """
        ) var round: String?
        @OptionGroup var common: CommonOptions

        func run() async throws {
            var options = RunOptions()
            options.shard = try shard.map(Shard.init(parsing:))
            options.round = round
            options.createStore = createStore
            options.dryRun = dryRun
            options.providers = providers
            options.since = try parseTime(since, option: "--since")
            options.until = try parseTime(until, option: "--until")
            options.reportJSON = reportJSON
            options.storePath = store
            try await runJob(job: job, now: now, options: options, common: common)
        }
    }

    struct Backfill: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Reconcile one provider over a window given by hand, e.g. an outage."
        )

        @Argument(help: "Job file, e.g. Jobs/nightly.yml.") var job: String
        @Option(help: "The provider to backfill.") var provider: String
        @Option(help: "Window start, RFC 3339 UTC.") var since: String
        @Option(help: "Window end, exclusive, RFC 3339 UTC (default: now).") var until: String?
        @Flag(help: "Find and report only; change no local state.") var dryRun = false
        @Option(help: "Replay at this RFC 3339 UTC time; RECONCILE_NOW does the same.") var now: String?
        @Option(help: "Also write report.json to this path.") var reportJSON: String?
        @Option(help: "Store path; overrides the job's 'store'.") var store: String?
        @Flag(help: "Forget what an interrupted backfill of this window already read, and start afresh.")
        var restart = false
        @Flag(help: "Start an empty store if there is none (otherwise a missing store is refused).")
        var createStore = false
        @OptionGroup var common: CommonOptions

        func run() async throws {
            var options = RunOptions()
            options.createStore = createStore
            options.command = "backfill"
            options.restart = restart
            options.progress = ProgressLine()
            options.dryRun = dryRun
            options.providers = [provider]
            options.since = try parseTime(since, option: "--since")
            options.until = try parseTime(until, option: "--until")
            options.reportJSON = reportJSON
            options.storePath = store
            try await runJob(job: job, now: now, options: options, common: common)
        }
    }
}

func runJob(job: String, now: String?, options: RunOptions, common: CommonOptions) async throws {
    let logger = try common.makeLogger()
    let config = try loadJob(job)
    let clock = try JobClock.resolve(option: now, environment: ProcessInfo.processInfo.environment)
    Interruption.shared.trapSignals { signal in
        logger.warning("run.interrupt_requested", metadata: ["signal": "\(signal)"])
    }
    let outcome = try await JobRunner(job: config, clock: clock, logger: logger).run(options)
    print(
        "run \(outcome.report.run.id): \(outcome.report.run.status), \(outcome.report.findings.count) findings, "
            + "\(outcome.report.repairs) repairs, exit \(outcome.exitStatus); reports in \(outcome.reportFolder)"
    )
    if outcome.exitStatus != 0 { throw ExitCode(outcome.exitStatus) }
}
