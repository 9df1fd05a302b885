import Foundation
import Logging

/// What a `run` or `backfill` was asked to do.
public struct RunOptions: Sendable {
    public var dryRun = false
    /// Provider names to reconcile; empty means all of the job's.
    public var providers: [String] = []
    public var since: Date?
    public var until: Date?
    public var reportJSON: String?
    public var storePath: String?
    public var command = "run"

    public init() {}
}

/// How a run ended.
public struct RunOutcome: Sendable {
    public var exitStatus: Int32
    public var report: RunReport
    /// The folder holding report.json, report.md and payments.csv.
    public var reportFolder: String
}

/// Runs the nightly job: lock, read each provider, classify, repair, report.
public struct JobRunner: Sendable {
    let job: JobConfig
    let clock: JobClock
    let logger: Logger
    let http: HTTPClient.Configuration

    public init(job: JobConfig, clock: JobClock, logger: Logger, http: HTTPClient.Configuration = .init()) {
        self.job = job
        self.clock = clock
        self.logger = logger
        self.http = http
    }

    public func run(_ options: RunOptions) async throws -> RunOutcome {
        let selected = try selectProviders(options.providers)
        let adapters = try selected.map { try ProviderRegistry.adapter(for: $0, http: http) }
        let until = options.until ?? clock.now
        let since = options.since ?? clock.now.addingTimeInterval(-job.lookback)
        guard since < until else {
            throw UsageFailure(
                "the window is empty: since \(RFC3339.format(since)) is not before until \(RFC3339.format(until))"
            )
        }
        let storePath = options.storePath ?? job.store
        let lock = try StoreLock(storePath: storePath)
        defer { withExtendedLifetime(lock) {} }
        let store = try Store(path: storePath)
        let runID = Self.makeRunID(Date())
        let started = Date()
        var logger = self.logger
        logger[metadataKey: "run.id"] = "\(runID)"
        logger.info(
            "run.start",
            metadata: [
                "job": "\(job.name)", "since": "\(RFC3339.format(since))", "until": "\(RFC3339.format(until))",
                "dry_run": "\(options.dryRun)",
            ]
        )
        try store.beginRun(
            id: runID,
            job: job.name,
            command: options.command,
            startedAt: started,
            now: clock.now,
            since: since,
            until: until,
            dryRun: options.dryRun
        )
        var sections: [RunReport.ProviderSection] = []
        var findings: [Finding] = []
        let window = RunReport.Window(since: RFC3339.format(since), until: RFC3339.format(until))
        for adapter in adapters {
            var section = RunReport.ProviderSection(
                name: adapter.config.name,
                kind: adapter.config.kind.rawValue,
                status: "complete",
                window: window,
                apiRequests: 0,
                error: nil
            )
            let reader = adapter.makeReader(logger: logger)
            do {
                var result = try await ProviderReconciler(
                    adapter: adapter,
                    reader: reader,
                    store: store,
                    now: clock.now,
                    since: since,
                    until: until,
                    logger: logger
                ).reconcile()
                if !options.dryRun, job.repair, !result.plan.isEmpty {
                    let repaired = try store.applyRepairs(
                        result.plan,
                        provider: adapter.config.name,
                        runID: runID,
                        at: clock.now
                    )
                    for index in repaired {
                        result.findings[index].repaired = true
                        result.findings[index].needsRepair = false
                    }
                    logger.info(
                        "provider.repaired",
                        metadata: ["provider": "\(adapter.config.name)", "repairs": "\(repaired.count)"]
                    )
                }
                findings += result.findings
                section.apiRequests = result.apiRequests
            } catch let error as ProviderError {
                section.status = "failed"
                section.error = error.description
                section.apiRequests = await reader.requestCount()
                logger.error("provider.failed", metadata: ["provider": "\(adapter.config.name)", "error": "\(error)"])
            }
            sections.append(section)
        }
        if options.providers.isEmpty {
            let names = Set(job.providers.map(\.name))
            findings += try store.rejectedDeliveries(provider: nil, since: since, until: until)
                .filter { !names.contains($0.provider ?? "") }
                .map(Classifier.invalidSignature)
        }
        let earlier = try store.previouslyReported(job: job.name, keys: findings.map(\.key), excludingRun: runID)
        for index in findings.indices { findings[index].isNew = !earlier.contains(findings[index].key) }
        let failed = sections.contains { $0.status == "failed" }
        let exitStatus = failed ? 3 : Self.exitStatus(findings)
        let status = failed ? "failed" : "complete"
        let report = RunReport(
            run: .init(
                id: runID,
                job: job.name,
                startedAt: RFC3339.format(started),
                finishedAt: RFC3339.format(Date()),
                now: RFC3339.format(clock.now),
                dryRun: options.dryRun,
                status: status
            ),
            providers: sections,
            counts: RunReport.counts(of: findings),
            repairs: findings.filter(\.repaired).count,
            findings: findings
        )
        let folder = try ReportWriter.write(report, reportsRoot: job.reports, extraJSON: options.reportJSON)
        try store.finishRun(
            id: runID,
            status: status,
            exitStatus: exitStatus,
            finishedAt: Date(),
            findings: findings,
            report: report.jsonText()
        )
        logger.info(
            "run.end",
            metadata: [
                "status": "\(status)", "exit": "\(exitStatus)", "findings": "\(findings.count)",
                "repairs": "\(report.repairs)",
            ]
        )
        return RunOutcome(exitStatus: exitStatus, report: report, reportFolder: folder)
    }

    /// 1 when a person must look (see job.md), else 0; provider failures are handled by the caller.
    static func exitStatus(_ findings: [Finding]) -> Int32 {
        let needsPerson = findings.contains { finding in
            switch finding.kind {
            case .endpointDisabled: true
            case .invalidSignature, .unknownToProvider: finding.isNew
            case .droppedEvent, .stateMismatch, .missingLocally: finding.needsRepair
            default: false
            }
        }
        return needsPerson ? 1 : 0
    }

    private func selectProviders(_ names: [String]) throws -> [ProviderConfig] {
        guard !names.isEmpty else { return job.providers }
        return try names.map { name in
            guard let provider = job.provider(named: name) else {
                throw UsageFailure(
                    "--provider \(name): the job \(job.file) has no such provider; it has "
                        + job.providers.map(\.name).joined(separator: ", ")
                )
            }
            return provider
        }
    }

    static func makeRunID(_ date: Date) -> String {
        let stamp = RFC3339.format(date).replacingOccurrences(of: "-", with: "").replacingOccurrences(of: ":", with: "")
            .replacingOccurrences(of: ".", with: "")
        let suffix = String(UInt16.random(in: 0...UInt16.max), radix: 16)
        return stamp + "-" + String(repeating: "0", count: 4 - suffix.count) + suffix
    }
}
