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
    /// Start an empty store when there is none (`--create-store`); otherwise a missing store is refused.
    public var createStore = false
    public var command = "run"
    /// Backfill only: forget the checkpoints of an interrupted backfill of the same window.
    public var restart = false
    /// Share the job with the runs of other hosts (`run --shard I/N`, PostgreSQL only): which
    /// entries this host tries first.
    public var shard: Shard?
    /// The round a shared run joins (`--round`); nil for the UTC date of the run's clock.
    public var round: String?
    /// Told of pages read and providers finished (the backfill's progress line).
    public var progress: (any RunProgress)?
    /// How many resources are classified at once (tests vary it; the findings must not change).
    var chunkSize = ProviderReconciler.defaultChunkSize
    /// The most estimated bytes of a provider's answers held in memory (tests vary it, down to 0:
    /// every answer in the temporary file; the findings must not change).
    var answersInMemory = RunScratch.heldBytes

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
        if options.shard != nil, !options.providers.isEmpty || options.command != "run" || options.dryRun {
            throw UsageFailure(
                "--shard shares the nightly run of every provider among hosts; it does not go with --provider, "
                    + "--dry-run or backfill (a shared dry run would take the night's entries from the real one)"
            )
        }
        if options.round != nil, options.shard == nil { throw UsageFailure("--round names the round of --shard") }
        let round = try options.shard.map { _ in try Self.roundName(options.round, now: clock.now) }
        let since = (options.since ?? clock.now.addingTimeInterval(-job.lookback)).wholeMilliseconds
        if let until = options.until, since >= until { throw Self.emptyWindow(since, until) }
        let opened = try await OpenedStore.open(
            options.storePath ?? job.store,
            origin: options.storePath == nil ? "\(job.file):\(job.storeLine): store" : "--store",
            password: job.storePassword,
            creation: options.createStore ? .allowed : .refusedForRun,
            lockingJob: job.name,
            sharing: round,
            logger: logger
        )
        do {
            let outcome = try await run(options, providers: selected, since: since, store: opened)
            await opened.close()
            return outcome
        } catch {
            await opened.close()
            throw error
        }
    }

    /// The run itself, with its store open and the job's lock held.
    private func run(
        _ options: RunOptions,
        providers selected: [ProviderConfig],
        since: Date,
        store opened: OpenedStore
    ) async throws -> RunOutcome {
        let store = opened.store
        let storePath = opened.location
        // A backfill given no --until resumes the unfinished backfill from the same --since, if any.
        var resumable: Date?
        if options.command == "backfill", options.until == nil, !options.restart, let provider = selected.first {
            resumable = try await store.unfinishedBackfillUntil(job: job.name, provider: provider.name, since: since)
        }
        let until = (options.until ?? resumable ?? clock.now).wholeMilliseconds
        guard since < until else { throw Self.emptyWindow(since, until) }
        let runID = Self.makeRunID(Date())
        let started = Date()
        var logger = self.logger
        logger[metadataKey: "run.id"] = "\(runID)"
        logger.info(
            "run.start",
            metadata: [
                "job": "\(job.name)", "store": "\(storePath)", "store.created": "\(!opened.existed)",
                "since": "\(RFC3339.format(since))", "until": "\(RFC3339.format(until))",
                "dry_run": "\(options.dryRun)", "shard": "\(options.shard.map(\.description) ?? "-")",
                "round": "\(opened.shared.map(\.round) ?? "-")",
            ]
        )
        // A run of some providers only is not the nightly run: it is recorded as such, and neither
        // compared with the nightly runs for `resolved` nor counted as their last success.
        let command =
            if options.shard != nil {
                RunEntry.sharedCommand
            } else if options.command == "run" && !options.providers.isEmpty {
                "run --provider " + selected.map(\.name).joined(separator: ",")
            } else {
                options.command
            }
        // A shared run is live while its session holds its run's key: another round's host leaves it alone.
        try await opened.shared?.holdRun(runID)
        let crashed = try await store.beginRun(
            id: runID,
            job: job.name,
            command: command,
            round: opened.shared?.round,
            startedAt: started,
            now: clock.now,
            since: since,
            until: until,
            dryRun: options.dryRun
        )
        for earlier in crashed {
            logger.warning(
                "run.earlier_crashed",
                metadata: ["crashed.run.id": "\(earlier.id)", "crashed.repairs": "\(earlier.repairs)"]
            )
        }
        var http = self.http
        http.progress = options.progress
        var backfill: BackfillState?
        if options.command == "backfill", let provider = selected.first {
            let id = Store.backfillID(job: job.name, provider: provider.name, since: since, until: until)
            let state = try await store.beginBackfill(
                id: id,
                job: job.name,
                provider: provider.name,
                since: since,
                until: until,
                restart: options.restart,
                at: Date()
            )
            backfill = state
            http.cache = BackfillCheckpoints(store: store, backfillID: id)
            logger.info(
                "backfill.start",
                metadata: [
                    "provider": "\(provider.name)", "backfill.kept_answers": "\(state.pages)",
                    "backfill.resumed": "\(state.pages > 0)",
                ]
            )
        }
        let window = RunReport.Window(since: RFC3339.format(since), until: RFC3339.format(until))
        let repairing = !options.dryRun && job.repair
        let context = ProviderRun(
            runID: runID,
            store: store,
            now: clock.now,
            since: since,
            until: until,
            window: window,
            repair: repairing,
            logger: logger,
            progress: options.progress,
            chunkSize: options.chunkSize,
            answersInMemory: options.answersInMemory,
            checkLock: { () throws(StoreFailure) in try await opened.checkLock() }
        )
        let names = Set(job.providers.map(\.name))
        // Byte by byte, as the store names a line's provider: see Ingestor (U+212A is "K" to `String`).
        let exactNames = Set(names.map { ExactID($0) })
        let otherLines: @Sendable () async throws -> [Finding] = {
            try await store.rejectedDeliveries(provider: nil, since: since, until: until)
                .filter { !exactNames.contains(ExactID($0.provider ?? "")) }
                .map(Classifier.invalidSignature)
        }
        var sections: [RunReport.ProviderSection]
        var findings: [Finding]
        let resolved: [ReportedFinding]
        var entries: [RunEntry] = []
        if let shared = opened.shared, let shard = options.shard {
            // Each entry is recorded as soon as it is read, with its findings and its part of
            // the report, and compared with the run that read it last, whichever host that was.
            let info = RunReport.RunInfo(
                id: runID,
                job: job.name,
                startedAt: RFC3339.format(started),
                finishedAt: nil,
                now: RFC3339.format(clock.now),
                dryRun: options.dryRun,
                repair: repairing,
                status: "running",
                store: storePath
            )
            let job = self.job
            let now = clock.now
            let runLogger = logger
            let record: @Sendable (EntryResult) async throws -> EntryResult? = { result in
                var result = result
                result.findings = try await Self.annotate(
                    result.findings,
                    store: store,
                    job: job.name,
                    runID: runID,
                    now: now
                )
                let status = result.section?.status ?? "complete"
                guard status != "interrupted" else { return result }
                if status == "complete" {
                    let current = Set(result.findings.map { ExactID($0.key) })
                    result.resolved = try await store.previousEntryFindings(
                        job: job.name,
                        entries: [result.entry],
                        providers: names,
                        excludingRun: runID
                    ).filter { !current.contains(ExactID($0.key)) }
                }
                var part = info
                part.status = status
                let report = RunReport(
                    run: part,
                    providers: result.section.map { [$0] } ?? [],
                    counts: RunReport.counts(of: result.findings),
                    repairs: result.findings.filter(\.repaired).count,
                    findings: result.findings,
                    resolved: result.resolved
                )
                // Without its claim, another host may be reading the entry: this one stops.
                try await opened.checkLock()
                guard
                    try await store.recordEntry(
                        RunEntry(provider: result.entry, status: status, report: report.jsonText()),
                        runID: runID,
                        findings: result.findings
                    )
                else {
                    // Another host read it too (this one lost its claim's session meanwhile): the
                    // round keeps the first record; this host's repairs stand, as idempotent ones do.
                    runLogger.warning("shard.entry_recorded_by_another_host", metadata: ["entry": "\(result.entry)"])
                    return nil
                }
                return result
            }
            var results = try await Self.reconcileShared(
                SharedEntries(
                    shard.ordered(selected.map(\.name)),
                    shared: shared,
                    store: store,
                    job: job.name,
                    logger: logger
                ),
                adapters: Dictionary(
                    uniqueKeysWithValues: selected.map { ($0.name, ProviderRegistry.adapter(for: $0, http: http)) }
                ),
                order: [RunEntry.otherLines] + selected.map(\.name),
                limit: Self.concurrentProviders,
                context: context,
                otherLines: otherLines,
                record: record
            )
            if results.isEmpty {
                logger.warning(
                    "shard.round_already_read",
                    metadata: [
                        "round": "\(shared.round)",
                        "hint": "every entry was recorded before this host came; a second round needs its own --round",
                    ]
                )
            }
            sections = results.compactMap(\.section)
            findings = results.flatMap(\.findings)
            resolved = results.flatMap(\.resolved)
            results.removeAll()
            FreedMemory.release()
        } else {
            let adapters = selected.map { ProviderRegistry.adapter(for: $0, http: http) }
            var outcomes = try await Self.reconcileConcurrently(
                adapters,
                limit: Self.concurrentProviders,
                context: context
            )
            sections = outcomes.map(\.section)
            findings = outcomes.flatMap(\.findings)
            // One copy of the findings from here on: a large run's are tens of megabytes.
            outcomes.removeAll()
            FreedMemory.release()
            entries = sections.map { RunEntry(provider: $0.name, status: $0.status) }
            if options.providers.isEmpty {
                findings += try await otherLines()
                entries.append(RunEntry(provider: RunEntry.otherLines, status: "complete"))
            }
            findings = try await Self.annotate(findings, store: store, job: job.name, runID: runID, now: clock.now)
            if command == "run" {
                // The nightly run compares each entry with the last nightly run that read it whole:
                // the previous complete run, or a later shared run of some of its entries.
                let current = Set(findings.map { ExactID($0.key) })
                resolved = try await store.previousEntryFindings(
                    job: job.name,
                    entries: entries.filter { $0.status == "complete" }.map(\.provider),
                    providers: names,
                    excludingRun: runID
                ).filter { !current.contains(ExactID($0.key)) }
            } else {
                resolved = try Self.resolved(
                    previous: await store.previousRunFindings(
                        job: job.name,
                        command: command,
                        sameWindow: options.command == "backfill" ? (since, until) : nil,
                        excludingRun: runID
                    ),
                    current: findings,
                    completeProviders: Set(sections.filter { $0.status == "complete" }.map(\.name))
                )
            }
        }
        let interrupted = sections.contains { $0.status == "interrupted" } || Interruption.shared.isRequested
        let failed = sections.contains { $0.status == "failed" }
        let exitStatus = failed || interrupted ? 3 : Self.exitStatus(findings, repairing: repairing)
        let status = interrupted ? "interrupted" : failed ? "failed" : "complete"
        let report = RunReport(
            run: .init(
                id: runID,
                job: job.name,
                startedAt: RFC3339.format(started),
                finishedAt: RFC3339.format(Date()),
                now: RFC3339.format(clock.now),
                dryRun: options.dryRun,
                repair: repairing,
                status: status,
                store: storePath
            ),
            providers: sections,
            counts: RunReport.counts(of: findings),
            repairs: findings.filter(\.repaired).count,
            findings: findings,
            resolved: resolved
        )
        // The store keeps the very bytes of report.json.
        let (folder, json) = try ReportWriter.write(
            report,
            reportsRoot: job.reports,
            extraJSON: options.reportJSON,
            exitStatus: exitStatus
        )
        try await opened.checkLock()
        try await store.finishRun(
            id: runID,
            status: status,
            exitStatus: exitStatus,
            finishedAt: Date(),
            entries: entries,
            // A shared run recorded its findings entry by entry.
            findings: opened.shared == nil ? findings : [],
            report: json
        )
        // Only once the run is recorded: completing a backfill drops its kept answers, and a run
        // that fails or is killed before its end is recorded (its report, the lock) must leave the
        // backfill to resume from them.
        if let backfill, sections.allSatisfy({ $0.status == "complete" }) {
            try await store.completeBackfill(id: backfill.id, at: Date())
        }
        // A round of shared runs is pruned once, by the host that started it, with what every
        // entry's last reading found still open.
        if status == "complete", !options.dryRun, opened.shared?.started ?? true {
            var openKeys = findings.map(\.key)
            if opened.shared != nil {
                openKeys += try await store.previousEntryFindings(
                    job: job.name,
                    entries: [RunEntry.otherLines] + job.providers.map(\.name),
                    providers: names,
                    excludingRun: runID
                ).map(\.key)
            }
            let cutoffs = RetentionCutoffs(
                now: clock.now,
                wallClock: Date(),
                newestReceipt: try await store.newestReceipt(),
                retention: job.retention
            )
            let pruned = try await store.prune(job: job.name, cutoffs: cutoffs, openKeys: openKeys)
            let reports = ReportWriter.prune(
                reportsRoot: job.reports,
                job: job.name,
                keptRuns: try await store.runIDs(job: job.name),
                before: cutoffs.runs
            )
            logger.info(
                "retention.pruned",
                metadata: [
                    "runs": "\(pruned.runs)", "findings": "\(pruned.findings)", "deliveries": "\(pruned.deliveries)",
                    "backfills": "\(pruned.backfills)", "report_folders": "\(reports)",
                ]
            )
        }
        // Metrics describe the nightly job: dry runs, single-provider runs and backfills leave them be.
        if let metrics = job.metrics, RunEntry.nightlyCommands.contains(command), !options.dryRun {
            let snapshot = PrometheusMetrics.Snapshot(
                job: job.name,
                report: report,
                exitStatus: exitStatus,
                startedAt: started,
                finishedAt: Date(),
                lastSuccess: try await store.lastSuccess(job: job.name, command: command),
                deliveries: try await store.deliveryCounts()
            )
            do {
                try ReportWriter.atomicWrite(PrometheusMetrics.render(snapshot), to: metrics, mode: 0o644)
            } catch {
                throw ReportFailure(path: metrics, reason: String(describing: error))
            }
        }
        logger.info(
            "run.end",
            metadata: [
                "status": "\(status)", "exit": "\(exitStatus)", "findings": "\(findings.count)",
                "repairs": "\(report.repairs)",
            ]
        )
        return RunOutcome(exitStatus: exitStatus, report: report, reportFolder: folder)
    }

    /// The round a shared run joins: `given` (checked), or the UTC date of `now` (`2026-12-07`),
    /// one round a night for hosts that cron starts together.
    static func roundName(_ given: String?, now: Date) throws -> String {
        guard let given else { return String(RFC3339.format(now).prefix(10)) }
        let allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:")
        guard (1...64).contains(given.unicodeScalars.count), given.unicodeScalars.allSatisfy(allowed.contains) else {
            throw UsageFailure(
                "--round \(given): expected 1 to 64 letters, digits, '-', '_', '.' or ':', such as 2026-12-07"
            )
        }
        return given
    }

    /// `findings` with when each was first reported (by a run other than `runID`), whether it is
    /// new, and its age at `now`.
    static func annotate(_ findings: [Finding], store: any ReconcileStore, job: String, runID: String, now: Date)
        async throws -> [Finding]
    {
        var findings = findings
        let firstSeen = try await store.firstReported(job: job, keys: findings.map(\.key), excludingRun: runID)
        for index in findings.indices {
            let first = firstSeen[ExactID(findings[index].key)]
            findings[index].isNew = first == nil
            findings[index].firstSeen = RFC3339.format(first ?? now)
            findings[index].ageSeconds = Int64(max(0, now.timeIntervalSince(first ?? now)).rounded())
        }
        return findings
    }

    static func emptyWindow(_ since: Date, _ until: Date) -> UsageFailure {
        UsageFailure("the window is empty: since \(RFC3339.format(since)) is not before until \(RFC3339.format(until))")
    }

    private func selectProviders(_ names: [String]) throws -> [ProviderConfig] {
        guard !names.isEmpty else { return job.providers }
        // A provider named twice is read once.
        var seen = Set<String>()
        return try names.filter { seen.insert($0).inserted }.map { name in
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
