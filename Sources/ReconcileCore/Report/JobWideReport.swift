import Foundation

extension RunReport {
    /// One report for a round of shared runs (`run --shard`), from the parts its hosts recorded
    /// entry by entry: a host that died after recording an entry still has it in the report.
    ///
    /// Its run is the round (`id` is the round's id): it started when the first host started and
    /// finished when the last finished (nil while one has not). Providers are listed by name, each
    /// once; findings and resolved findings come in the order of their providers, the other lines'
    /// last; counts and repairs are their sums. Its status is `failed` when an entry failed,
    /// `interrupted` when an entry of `entries` was read by no host (listed in `missing`), and
    /// otherwise `complete`.
    ///
    /// - Parameters:
    ///   - round: the round as the store keeps it.
    ///   - entries: the job's provider entries, to tell which no host read.
    /// - Returns: nil when no part decodes (no host recorded an entry yet).
    public static func jobWide(_ round: StoredRound, entries: [String]) -> (report: RunReport, missing: [String])? {
        let parts = round.parts.compactMap(RunReport.decode)
        guard let first = parts.first else { return nil }
        var byName: [String: ProviderSection] = [:]
        for section in parts.flatMap(\.providers) { byName[section.name] = section }
        let providers = byName.values.sorted { $0.name < $1.name }
        let missing = entries.filter { byName[$0] == nil }
        let order = Dictionary(uniqueKeysWithValues: providers.enumerated().map { ($1.name, $0) })
        // Findings naming none of the round's providers (the other lines) come last.
        func position(_ provider: String?) -> Int { provider.flatMap { order[$0] } ?? providers.count }
        func ordered<T>(_ items: [T], provider: (T) -> String?) -> [T] {
            items.enumerated().sorted { lhs, rhs in
                let left = position(provider(lhs.element))
                let right = position(provider(rhs.element))
                return left == right ? lhs.offset < rhs.offset : left < right
            }.map(\.element)
        }
        let findings = ordered(parts.flatMap(\.findings)) { $0.provider }
        let statuses = Set(providers.map(\.status))
        let status =
            statuses.contains("failed")
            ? "failed"
            : statuses.contains("interrupted") || !missing.isEmpty
                ? "interrupted" : "complete"
        let finished = round.runs.compactMap(\.finishedAt)
        let report = RunReport(
            run: .init(
                id: round.round,
                job: first.run.job,
                startedAt: RFC3339.format(round.runs.map(\.startedAt).min() ?? Date()),
                finishedAt: finished.count == round.runs.count ? finished.max().map(RFC3339.format) : nil,
                now: first.run.now,
                dryRun: parts.allSatisfy(\.run.dryRun),
                repair: parts.allSatisfy { $0.run.repair ?? !$0.run.dryRun },
                status: status,
                store: first.run.store
            ),
            providers: providers,
            counts: counts(of: findings),
            repairs: parts.map(\.repairs).reduce(0, +),
            findings: findings,
            resolved: ordered(parts.flatMap(\.resolved)) { $0.provider }
        )
        return (report, missing)
    }
}
