import ArgumentParser
import Foundation
import Logging
import ReconcileCore

@main
struct Reconcile: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Reconcile received webhook events with each provider's read API, repair local state, report.",
        version: "reconcile " + ReconcileVersion.description,
        subcommands: [
            Ingest.self, Run.self, Backfill.self, Report.self, Runs.self, Findings.self, Show.self, Demo.self,
        ]
    )

    static func main() async {
        FreedMemory.useTwoArenas()
        SQLiteProcess.disableMemoryStatistics()
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let failure as any ReconcileFailure {
            StandardErrorLines.shared.writeLines("reconcile: \(failure)\n")
            Foundation.exit(failure.exitStatus)
        } catch let code as ExitCode {
            Foundation.exit(code.rawValue)
        } catch {
            // argument-parser exits 64 on bad usage; the contract says 2.
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            StandardErrorLines.shared.writeLines(fullMessage(for: error) + "\n")
            Foundation.exit(2)
        }
    }
}

/// Options every command takes.
struct CommonOptions: ParsableArguments {
    enum LogFormat: String, ExpressibleByArgument, Sendable { case text, json }

    @Option(help: "Log level: trace, debug, info, notice, warning, error or critical. Logs go to stderr.")
    var logLevel: String = "info"
    @Option(help: "Log lines as text, or json: one JSON object per line, for log shippers.")
    var logFormat: LogFormat = .text

    func makeLogger() throws -> Logger {
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw UsageFailure(
                "--log-level is '\(logLevel)'; expected trace, debug, info, notice, warning, error or critical"
            )
        }
        LogBootstrap.once(level: level, format: logFormat)
        var logger = Logger(label: "reconcile")
        logger.logLevel = level
        return logger
    }
}

enum LogBootstrap {
    nonisolated(unsafe) private static var done = false

    /// Logs go to standard error through ``StandardErrorLines``, so a progress line never splits one.
    static func once(level: Logger.Level, format: CommonOptions.LogFormat) {
        guard !done else { return }
        done = true
        LoggingSystem.bootstrap { label in
            switch format {
            case .text:
                var handler = StreamLogHandler(label: label, stream: StandardErrorLogStream(), metadataProvider: nil)
                handler.logLevel = level
                return handler
            case .json:
                var handler = JSONLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
        }
    }
}

/// Reads a job file with the process environment.
func loadJob(_ path: String) throws -> JobConfig {
    try JobFile.load(path: path, environment: ProcessInfo.processInfo.environment)
}

/// Reads a job file for a command that only reads the store: its secrets are neither read nor needed.
func loadJobForReading(_ path: String) throws -> JobConfig {
    try JobFile.load(path: path, environment: ProcessInfo.processInfo.environment, resolvingSecrets: false)
}

func parseTime(_ text: String?, option: String) throws -> Date? {
    guard let text else { return nil }
    guard let date = RFC3339.parse(text) else {
        throw UsageFailure("\(option) is '\(text)'; expected an RFC 3339 UTC time such as 2026-07-04T09:15:22Z")
    }
    return date
}
