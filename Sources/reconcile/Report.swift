import ArgumentParser
import Foundation
import ReconcileCore

extension Reconcile {
    struct Report: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a stored run's report.")

        enum Format: String, ExpressibleByArgument { case md, json, csv, summary }

        @Argument(help: "Job file, e.g. Jobs/nightly.yml.") var job: String
        @Option(help: "Run id (default: the last run).") var run: String?
        @Option(help: "md, json, csv, or summary (a few lines for a mail).") var format: Format = .md
        @Option(help: "Store path; overrides the job's 'store'.") var store: String?
        @OptionGroup var common: CommonOptions

        func run() async throws {
            _ = try common.makeLogger()
            let config = try loadJobForReading(job)
            let stored = try await withStore(config: config, option: self.store, creation: .refusedForReading) {
                store,
                _ in try await store.run(job: config.name, id: run)
            }
            guard let summary = stored, let text = summary.report,
                let report = RunReport.decode(text)
            else {
                throw UsageFailure(
                    run.map { "no stored report for run \($0)" } ?? "no stored run of job \(config.name)"
                )
            }
            switch format {
            case .json: print(report.jsonText(), terminator: "")
            case .md: print(MarkdownReport.render(report), terminator: "")
            case .csv: print(PaymentsCSV.render(report), terminator: "")
            case .summary:
                let folder = URL(fileURLWithPath: config.reports).standardizedFileURL.appendingPathComponent(
                    report.run.id
                ).path
                print(MarkdownReport.summary(report, exitStatus: summary.exitStatus, folder: folder), terminator: "")
            }
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
