import ArgumentParser
import Foundation
import ReconcileCore

extension Reconcile {
    struct Report: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a stored run's report.")

        enum Format: String, ExpressibleByArgument { case md, json, csv, summary }

        @Argument(help: "Job file, e.g. Jobs/nightly.yml.") var job: String
        @Option(help: "Run id (default: the last run).") var run: String?
        @Flag(
            help: """
                A round of shared runs (run --shard; the newest, or --round) as one report: every host's part merged.
                """
        ) var jobWide = false
        @Option(help: "With --job-wide: the round to report (default: the newest).") var round: String?
        // Exit status with --job-wide: the round's, as a run's (0, 1, or 3 when an entry failed or
        // no host recorded it).
        @Option(help: "md, json, csv, or summary (a few lines for a mail).") var format: Format = .md
        @Option(help: "Store path; overrides the job's 'store'.") var store: String?
        @OptionGroup var common: CommonOptions

        func run() async throws {
            _ = try common.makeLogger()
            if jobWide, run != nil { throw UsageFailure("--job-wide reports a round; it does not take --run") }
            if round != nil, !jobWide { throw UsageFailure("--round names the round of --job-wide") }
            let config = try loadJobForReading(job)
            let (report, exitStatus) = try await withStore(
                config: config,
                option: self.store,
                creation: .refusedForReading
            ) { store, _ in
                jobWide
                    ? try await Self.round(store, config: config, named: round)
                    : try await Self.one(store, job: config.name, id: run)
            }
            switch format {
            case .json: print(report.jsonText(), terminator: "")
            case .md: print(MarkdownReport.render(report), terminator: "")
            case .csv: print(PaymentsCSV.render(report), terminator: "")
            case .summary:
                // A round has no folder of its own: each host wrote its part under its run's id.
                let folder = URL(fileURLWithPath: config.reports).standardizedFileURL.appendingPathComponent(
                    jobWide ? "" : report.run.id
                ).path
                print(MarkdownReport.summary(report, exitStatus: exitStatus, folder: folder), terminator: "")
            }
            // A round's state is its exit status, as a run's is: monitoring reads it.
            if jobWide, let exitStatus, exitStatus != 0 { throw ExitCode(Int32(exitStatus)) }
        }

        /// Run `id`'s report (the newest finished run's when nil), with its exit status.
        static func one(_ store: any ReconcileStore, job: String, id: String?) async throws -> (RunReport, Int?) {
            guard let summary = try await store.run(job: job, id: id), let text = summary.report,
                let report = RunReport.decode(text)
            else {
                throw UsageFailure(id.map { "no stored report for run \($0)" } ?? "no stored run of job \(job)")
            }
            return (report, summary.exitStatus)
        }

        /// A round's entries as one report (the newest round's when `named` is nil), with its exit
        /// status; the entries no host recorded are named on standard error.
        static func round(_ store: any ReconcileStore, config: JobConfig, named: String?) async throws -> (
            RunReport, Int?
        ) {
            guard let round = try await store.round(job: config.name, named: named),
                let (report, exit, missing) = RunReport.jobWide(round, providers: config.providers.map(\.name))
            else {
                throw UsageFailure(
                    named.map { "job \(config.name) has no round \($0)" }
                        ?? "job \(config.name) has no run --shard: --job-wide merges the hosts of a round"
                )
            }
            if !missing.isEmpty {
                StandardErrorLines.shared.writeLines(
                    "round \(round.round): no host recorded \(missing.count) entries: "
                        + missing.joined(separator: ", ") + "\n"
                )
            }
            return (report, Int(exit))
        }
    }

    struct Runs: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List recent runs.")

        @Argument(help: "Job file, e.g. Jobs/nightly.yml.") var job: String
        @Option(help: "How many runs.") var limit: Int = 20
        @Option(help: "Store path; overrides the job's 'store'.") var store: String?
        @OptionGroup var common: CommonOptions

        func run() async throws {
            _ = try common.makeLogger()
            let config = try loadJobForReading(job)
            let runs = try await withStore(config: config, option: self.store, creation: .refusedForReading) {
                store,
                _ in try await store.runs(job: config.name, limit: max(1, limit))
            }
            print("id\tkind\tstarted\tduration_s\tstatus\texit\tfindings\trepairs")
            for run in runs {
                let report = run.report.flatMap(RunReport.decode)
                let duration = run.finishedAt.map { String(Int($0.timeIntervalSince(run.startedAt).rounded())) } ?? "-"
                print(
                    [
                        run.id, run.kind, RFC3339.format(run.startedAt), duration, run.status,
                        run.exitStatus.map(String.init) ?? "-", report.map { String($0.findings.count) } ?? "-",
                        report.map { String($0.repairs) } ?? "-",
                    ].joined(separator: "\t")
                )
            }
        }
    }
}
