import ArgumentParser
import Foundation
import ReconcileCore

extension Reconcile {
    struct Ingest: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify and record captured deliveries (NDJSON), applying their events to local state.",
            discussion: "Exit status: 0 all lines accepted or duplicate, 1 some rejected, 2 bad usage, 3 store failed."
        )

        @Argument(help: "Job file, e.g. Jobs/nightly.yml.") var job: String
        @Argument(help: "Capture files (NDJSON); '-' or none reads standard input.") var files: [String] = []
        @Option(help: "Store path; overrides the job's 'store'.") var store: String?
        @Option(help: "Replay at this RFC 3339 UTC time (recorded as the time of ingest).") var now: String?
        @OptionGroup var common: CommonOptions

        func run() async throws {
            let logger = try common.makeLogger()
            let config = try loadJob(job)
            let clock = try JobClock.resolve(option: now, environment: ProcessInfo.processInfo.environment)
            var adapters: [String: any ProviderAdapter] = [:]
            for provider in config.providers { adapters[provider.name] = ProviderRegistry.adapter(for: provider) }
            let sources = files.isEmpty ? ["-"] : files
            // Every input is checked (exists, is a file or a stream, is text) before anything is recorded.
            var handles: [(String, FileHandle)] = []
            for source in sources {
                handles.append((source, source == "-" ? FileHandle.standardInput : try CaptureSource.open(source)))
            }
            // A file-size limit must fail a write (and so the store, exit 3), not kill the process.
            signal(SIGXFSZ, SIG_IGN)
            Interruption.shared.trapSignals { signal in
                logger.warning("ingest.interrupt_requested", metadata: ["signal": "\(signal)"])
            }
            var summary = IngestSummary()
            let stopped: (any Error)? = try await withStore(
                config: config,
                option: self.store,
                creation: .allowed,
                logger: logger
            ) { store, storePath in
                let ingestor = Ingestor(job: config, adapters: adapters, store: store, clock: clock, logger: logger)
                do {
                    for (source, handle) in handles {
                        try await ingestor.ingest(handle: handle, source: source, into: &summary)
                    }
                    return nil
                } catch let error as StoreFailure {
                    return IngestStoreFailure(store: storePath, failure: error, recorded: summary.lines)
                } catch {
                    // Interrupted, a provider that cannot supply a key, a stream that is not text:
                    // what was recorded before is printed first.
                    return error
                }
            }
            for rejection in summary.rejections {
                print(
                    "rejected \(rejection.source):\(rejection.lineNumber) \(rejection.reason.rawValue): \(rejection.detail)"
                )
            }
            print(
                "ingest: \(summary.accepted) accepted, \(summary.duplicates) duplicates, "
                    + "\(summary.rejections.count) rejected"
            )
            logger.info(
                "ingest.end",
                metadata: [
                    "accepted": "\(summary.accepted)", "duplicates": "\(summary.duplicates)",
                    "rejected": "\(summary.rejections.count)",
                ]
            )
            if let stopped { throw stopped }
            if summary.exitStatus != 0 { throw ExitCode(summary.exitStatus) }
        }
    }
}
