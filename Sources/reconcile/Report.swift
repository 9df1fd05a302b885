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
                The newest round of shared runs (run --shard) as one report: every host's part merged.
                """
        ) var jobWide = false
        @Option(help: "md, json, csv, or summary (a few lines for a mail).") var format: Format = .md
        @Option(help: "Store path; overrides the job's 'store'.") var store: String?
        @OptionGroup var common: CommonOptions

        func run() async throws {
            _ = try common.makeLogger()
            if jobWide, run != nil { throw UsageFailure("--job-wide reports the newest round; it does not take --run") }
            let config = try loadJobForReading(job)
            let (report, exitStatus) = try await withStore(
                config: config,
                option: self.store,
                creation: .refusedForReading
            ) { store, _ in
                jobWide
                    ? try await Self.round(store, config: config)
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

        /// The newest round's entries as one report; its exit status is the worst of its hosts',
        /// and 3 when an entry was read by no host (they are named on standard error).
        static func round(_ store: any ReconcileStore, config: JobConfig) async throws -> (RunReport, Int?) {
            guard let round = try await store.newestRound(job: config.name),
                let (report, missing) = RunReport.jobWide(round, entries: config.providers.map(\.name))
            else {
                throw UsageFailure(
                    "no entry recorded by a run --shard of job \(config.name): --job-wide merges the hosts of a round"
                )
            }
            if !missing.isEmpty {
                StandardErrorLines.shared.writeLines(
                    "round \(round.round): no host has read \(missing.count) entries: "
                        + missing.joined(separator: ", ") + "\n"
                )
            }
            let exit = round.runs.compactMap(\.exitStatus).max() ?? 0
            return (report, report.run.status == "complete" ? exit : max(exit, 3))
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
