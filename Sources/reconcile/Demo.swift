import ArgumentParser
import Foundation
import Logging
import ReconcileCore
import ReconcileSandbox

extension Reconcile {
    struct Demo: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the whole job against the built-in sandbox provider and print the report.",
            discussion: """
                Builds a seeded history of Credicorp, Crezco and Credify (signed captures and each provider's truth) in a
                temporary folder, serves the three read APIs on 127.0.0.1, ingests the captures, runs the nightly job and prints the
                Markdown report. No configuration and no network beyond loopback.
                """
        )

        @Option(help: "Seed of the generated history.") var seed: UInt64 = 2026
        @Flag(help: "Keep the temporary folder (store, captures, job file, reports) and print its path.") var keep =
            false
        @OptionGroup var common: CommonOptions

        /// The demo's fixed "now", so that the same seed always tells the same story.
        static let now = Date(timeIntervalSince1970: 1_783_670_400)  // 2026-07-10T08:00:00Z

        func run() async throws {
            let logger = try common.makeLogger()
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
                "reconcile-demo-\(UUID().uuidString.prefix(8))"
            )
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { if !keep { try? FileManager.default.removeItem(at: folder) } }

            let history = SandboxHistory.all(seed: seed, now: Self.now)
            var quiet = Logger(label: "sandbox")
            quiet.logLevel = .critical
            let server = try await SandboxServer.start(world: history.world, logger: quiet)
            do {
                try await demo(history: history, server: server, folder: folder, logger: logger)
            } catch {
                await server.shutdown()
                throw error
            }
            await server.shutdown()
            if keep {
                print(
                    """

                    kept: \(folder.path)
                    Look at it with the read-only commands (no secrets needed), for example:
                      reconcile runs \(folder.path)/demo.yml
                      reconcile findings \(folder.path)/demo.yml --open
                      reconcile report \(folder.path)/demo.yml --format csv
                    """
                )
            } else {
                print(
                    """

                    The demo's files (store, captures, job file, reports) were in \(folder.path) and are deleted;
                    `reconcile demo --keep` keeps them, to look at with `reconcile runs`, `findings`, `show` and `report`.
                    """
                )
            }
        }

        private func demo(history: SandboxCombinedHistory, server: SandboxServer, folder: URL, logger: Logger)
            async throws
        {
            let (jobText, environment) = history.jobFile(
                name: "demo",
                store: "\(folder.path)/reconcile.sqlite",
                reports: "\(folder.path)/reports",
                baseURL: server.baseURL(for:),
                variablePrefix: "DEMO_"
            )
            let jobPath = folder.appendingPathComponent("demo.yml").path
            try jobText.write(toFile: jobPath, atomically: true, encoding: .utf8)
            let job = try JobFile.parse(text: jobText, file: jobPath, environment: environment)
            let capturePath = folder.appendingPathComponent("captures.ndjson").path
            try history.captureNDJSON.write(toFile: capturePath, atomically: true, encoding: .utf8)

            let clock = JobClock(now: Self.now)
            let store = try Store(path: job.store)
            var adapters: [String: any ProviderAdapter] = [:]
            for provider in job.providers { adapters[provider.name] = ProviderRegistry.adapter(for: provider) }
            let ingestor = Ingestor(job: job, adapters: adapters, store: store, clock: clock, logger: logger)
            var summary = IngestSummary()
            guard let handle = FileHandle(forReadingAtPath: capturePath) else {
                throw UsageFailure("cannot read \(capturePath)")
            }
            try await ingestor.ingest(handle: handle, source: "captures.ndjson", into: &summary)
            print(
                "demo: ingested \(history.captureLines.count) captured deliveries: \(summary.accepted) accepted, "
                    + "\(summary.duplicates) duplicates, \(summary.rejections.count) rejected\n"
            )
            let outcome = try await JobRunner(job: job, clock: clock, logger: logger).run(RunOptions())
            print(MarkdownReport.render(outcome.report), terminator: "")
            print("\nThe nightly run would exit \(outcome.exitStatus) (see the README's exit status table).")
        }
    }
}
