import Foundation

extension RunReport {
    /// One report for a round of shared runs (`run --shard`), from the parts its hosts recorded
    /// entry by entry: a host that died after recording an entry still has it in the report.
    ///
    /// Its run is the round (`id` is the round's name): it started when the first host started
    /// and finished when the last host that finished did. Providers are listed by name, each once;
    /// findings and resolved findings come in the order of their providers, the other lines'
    /// last; counts and repairs are their sums. Its status is `failed` when an entry failed,
    /// `interrupted` when an entry of the job (``RunEntry/otherLines`` among them) was recorded by
    /// no host, and otherwise `complete`; its exit status follows, as a run's: 3 for either, else
    /// 1 when a finding needs a person, else 0.
    ///
    /// - Parameters:
    ///   - round: the round as the store keeps it.
    ///   - providers: the job's provider entries, to tell which no host read.
    /// - Returns: the report, its exit status, and the entries no host recorded (all of them when
    ///   every host died before recording one); nil for a round without runs.
    public static func jobWide(_ round: StoredRound, providers: [String]) -> (
        report: RunReport, exitStatus: Int32, missing: [String]
    )? {
        let parts = round.parts.compactMap { part in RunReport.decode(part.report).map { (part.entry, $0) } }
        guard let firstRun = round.runs.first else { return nil }
        let first = parts.first?.1
        var byName: [String: ProviderSection] = [:]
        for section in parts.flatMap({ $0.1.providers }) { byName[section.name] = section }
        let sections = byName.values.sorted { $0.name < $1.name }
        let recorded = Set(parts.map(\.0))
        let missing = ([RunEntry.otherLines] + providers).filter { !recorded.contains($0) }
        let order = Dictionary(uniqueKeysWithValues: sections.enumerated().map { ($1.name, $0) })
        // Findings naming none of the round's providers (the other lines) come last.
        func ordered<T>(_ items: [T], provider: (T) -> String?) -> [T] {
            func position(_ item: T) -> Int { provider(item).flatMap { order[$0] } ?? sections.count }
            return items.enumerated().sorted { lhs, rhs in
                let left = position(lhs.element)
                let right = position(rhs.element)
                return left == right ? lhs.offset < rhs.offset : left < right
            }.map(\.element)
        }
        let findings = ordered(parts.flatMap { $0.1.findings }) { $0.provider }
        let statuses = Set(sections.map(\.status))
        let status =
            statuses.contains("failed")
            ? "failed" : statuses.contains("interrupted") || !missing.isEmpty ? "interrupted" : "complete"
        let repairing = !parts.isEmpty && parts.allSatisfy { $0.1.run.repair ?? !$0.1.run.dryRun }
        let report = RunReport(
            run: .init(
                id: round.round,
                job: first?.run.job ?? firstRun.job,
                startedAt: RFC3339.format(round.runs.map(\.startedAt).min() ?? Date()),
                finishedAt: round.runs.compactMap(\.finishedAt).max().map(RFC3339.format),
                now: first?.run.now ?? RFC3339.format(firstRun.startedAt),
                dryRun: !parts.isEmpty && parts.allSatisfy { $0.1.run.dryRun },
                repair: repairing,
                status: status,
                store: first?.run.store
            ),
            providers: sections,
            counts: counts(of: findings),
            repairs: parts.map { $0.1.repairs }.reduce(0, +),
            findings: findings,
            resolved: ordered(parts.flatMap { $0.1.resolved }) { $0.provider }
        )
        let exit = status == "complete" ? JobRunner.exitStatus(findings, repairing: repairing) : 3
        return (report, exit, missing)
    }
}
