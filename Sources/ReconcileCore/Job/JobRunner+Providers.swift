import Foundation
import Logging

/// Reconciling the providers of one run: concurrently, each to a report section; then the exit status.
extension JobRunner {
    /// How many providers are read at once; each has its own client and rate limit.
    static let concurrentProviders = 3

    /// What every provider of one run shares.
    struct ProviderRun: Sendable {
        var runID: String
        var store: any ReconcileStore
        var now: Date
        var since: Date
        var until: Date
        var window: RunReport.Window
        var repair: Bool
        var logger: Logger
        var progress: (any RunProgress)?
        var chunkSize = ProviderReconciler.defaultChunkSize
        var answersInMemory = RunScratch.heldBytes
        /// Throws when the run's lock is gone (``OpenedStore/checkLock()``): checked before repairs.
        var checkLock: @Sendable () async throws(StoreFailure) -> Void = {}
    }

    /// Reconciles the providers, at most `limit` at a time; results in the order of `adapters`.
    static func reconcileConcurrently(
        _ adapters: [any ProviderAdapter],
        limit: Int,
        context: ProviderRun
    ) async throws -> [(section: RunReport.ProviderSection, findings: [Finding])] {
        try await withThrowingTaskGroup(of: (Int, RunReport.ProviderSection, [Finding]).self) { group in
            var results: [(section: RunReport.ProviderSection, findings: [Finding])?] = Array(
                repeating: nil,
                count: adapters.count
            )
            func collect(_ result: (Int, RunReport.ProviderSection, [Finding])) {
                results[result.0] = (result.1, result.2)
            }
            for (index, adapter) in adapters.enumerated() {
                if index >= limit, let done = try await group.next() { collect(done) }
                group.addTask {
                    let (section, findings) = try await reconcile(adapter, context: context)
                    return (index, section, findings)
                }
            }
            while let done = try await group.next() { collect(done) }
            return results.compactMap { $0 }
        }
    }

    /// One provider: read, classify, and (unless a dry run) repair in one transaction.
    ///
    /// A provider failure after retries becomes a `failed` section; a store failure is thrown.
    static func reconcile(
        _ adapter: any ProviderAdapter,
        context: ProviderRun
    ) async throws -> (RunReport.ProviderSection, [Finding]) {
        let name = adapter.config.name
        let initial = RunReport.ProviderSection(
            name: name,
            kind: adapter.config.kind.rawValue,
            status: "complete",
            window: context.window,
            apiRequests: 0,
            error: nil
        )
        let reader = adapter.makeReader(logger: context.logger)
        await context.progress?.providerStarted(
            name,
            lists: adapter.readListCount,
            since: context.since,
            until: context.until
        )
        let (section, findings) = try await reconcile(adapter, reader: reader, section: initial, context: context)
        await context.progress?.providerFinished(name, findings: findings.count, status: section.status)
        return (section, findings)
    }

    static func reconcile(
        _ adapter: any ProviderAdapter,
        reader: any ProviderReader,
        section: RunReport.ProviderSection,
        context: ProviderRun
    ) async throws -> (RunReport.ProviderSection, [Finding]) {
        let name = adapter.config.name
        var section = section
        // The findings whose repairs are being applied: a server's store commits them 500 at a
        // time, and those committed before a failure stand.
        var repairing: [Finding] = []
        do {
            var result = try await ProviderReconciler(
                adapter: adapter,
                reader: reader,
                store: context.store,
                now: context.now,
                since: context.since,
                until: context.until,
                logger: context.logger,
                chunkSize: context.chunkSize,
                answersInMemory: context.answersInMemory
            ).reconcile()
            section.coverage = result.coverage
            if Interruption.shared.isRequested { throw ProviderError.cancelled(provider: name) }
            if context.repair, !result.plan.isEmpty {
                try await context.checkLock()
                repairing = result.findings
                let repaired = try await context.store.applyRepairs(
                    result.plan,
                    provider: name,
                    runID: context.runID,
                    at: context.now
                )
                result.findings = Self.marking(result.findings, repaired: repaired)
                context.logger.info(
                    "provider.repaired",
                    metadata: ["provider": "\(name)", "repairs": "\(repaired.count)"]
                )
            }
            section.apiRequests = result.apiRequests
            section.requestOutcomes = await reader.requestOutcomes()
            return (section, result.findings)
        } catch let error as StoreFailure {
            section.status = "failed"
            section.error = error.description
            section.apiRequests = await reader.requestCount()
            context.logger.error("provider.failed", metadata: ["provider": "\(name)", "error": "\(error)"])
            // Repairs committed before the failure stand, so the report lists their findings, repaired.
            return (
                section, error.committedRepairs.isEmpty ? [] : Self.marking(repairing, repaired: error.committedRepairs)
            )
        } catch let error as ProviderError {
            section.status = error == .cancelled(provider: name) ? "interrupted" : "failed"
            section.error = error.description
            section.apiRequests = await reader.requestCount()
            section.requestOutcomes = await reader.requestOutcomes()
            context.logger.error("provider.failed", metadata: ["provider": "\(name)", "error": "\(error)"])
            return (section, [])
        } catch {
            // Nothing else is expected here; if it comes, it fails this provider, not the whole run.
            // Only the error's type is shown: its text is not known to be free of secrets.
            section.status = "failed"
            section.error = "\(name): unexpected \(type(of: error)) while reconciling"
            section.apiRequests = await reader.requestCount()
            context.logger.error(
                "provider.failed",
                metadata: ["provider": "\(name)", "error": "\(section.error ?? "")"]
            )
            return (section, [])
        }
    }

    /// `findings` with those whose key is in `repaired` marked repaired (keys compared byte by byte,
    /// as the stores compare them).
    static func marking(_ findings: [Finding], repaired: Set<ExactID>) -> [Finding] {
        findings.map { finding in
            guard repaired.contains(ExactID(finding.key)) else { return finding }
            var marked = finding
            marked.repaired = true
            marked.needsRepair = false
            return marked
        }
    }

    /// What the previous complete run reported and this one, over the same providers, no longer finds.
    static func resolved(previous: [ReportedFinding], current: [Finding], completeProviders: Set<String>)
        -> [ReportedFinding]
    {
        let now = Set(current.map { ExactID($0.key) })
        let complete = Set(completeProviders.map { ExactID($0) })
        return previous.filter { finding in
            !now.contains(ExactID(finding.key)) && complete.contains(ExactID(finding.provider ?? ""))
        }
    }

    /// 1 when something needs a person (see job.md and docs/local-state.md), else 0.
    ///
    /// A finding already reported by an earlier complete run does not raise the status again, so
    /// cron alerts once per problem; the report still lists it, with its age. A run that repairs
    /// nothing (a dry run, `repair: false`) leaves every difference to a person: 1 while any remains.
    static func exitStatus(_ findings: [Finding], repairing: Bool) -> Int32 {
        findings.contains { $0.attention(repairing: repairing) != nil } ? 1 : 0
    }
}
