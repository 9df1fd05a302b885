import Foundation
import Logging

/// Which of a job's entries a host of a shared run (`run --shard I/N`) tries first.
///
/// Entry `k` (counting from 0 in the job file) belongs to shard `k mod N + 1`; a host tries its
/// own shard's entries first, then the next shard's, and so on round, so that hosts starting
/// together rarely reach for the same entry. Any host takes any entry that is free: a shard is an
/// order, not an assignment, and a host that dies leaves its entries to the others.
public struct Shard: Sendable, Equatable, CustomStringConvertible {
    /// From 1 to ``count``.
    public let index: Int
    public let count: Int

    /// The largest `N` accepted: more hosts than that is a typo.
    static let maxCount = 10_000

    /// Reads `I/N`, as `--shard` takes it.
    ///
    /// - Throws: ``UsageFailure`` naming what is wrong.
    public init(parsing text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]), count >= 1,
            count <= Self.maxCount, (1...count).contains(index)
        else {
            throw UsageFailure(
                "--shard \(text): expected I/N with 1 ≤ I ≤ N ≤ \(Self.maxCount), such as 2/3 (this host is the "
                    + "second of three); 1/1 takes whatever entry is free"
            )
        }
        self.index = index
        self.count = count
    }

    public var description: String { "\(index)/\(count)" }

    /// The job's entries (`providers` in the job's order, and ``RunEntry/otherLines``, which is
    /// shard 1's) in the order this host tries them: its own shard's first, then the next shard's.
    func ordered(_ providers: [String]) -> [String] {
        // The other lines come first in shard 1's group.
        let entries = [(RunEntry.otherLines, -1, 0)] + providers.enumerated().map { ($1, $0, $0 % count) }
        func offset(_ group: Int) -> Int { (group - (index - 1) + count) % count }
        return entries.sorted { lhs, rhs in
            offset(lhs.2) == offset(rhs.2) ? lhs.1 < rhs.1 : offset(lhs.2) < offset(rhs.2)
        }.map(\.0)
    }
}

extension JobRunner {
    /// How long a host waits before asking again for an entry another host of the round holds.
    static let sharedEntryPoll = Duration.seconds(1)

    /// The entries of a shared run, handed to this host's workers one at a time as it claims them.
    ///
    /// A host holds an entry's claim only while it reads it, and records the entry (findings and
    /// report part, one transaction) before letting go. An entry another host holds is asked for
    /// again once this host has nothing else to do, every ``JobRunner/sharedEntryPoll``, until
    /// that host's claim goes: then either it recorded the entry, which is skipped, or it died
    /// first and this one reads it. So a run ends when every entry of the round is recorded, and
    /// no entry is read twice in one round unless a host died while reading it.
    actor SharedEntries {
        private var pending: [String]
        private var held: [String] = []
        private var asksSinceProgress = 0
        /// Workers between taking an entry from a list and knowing whether it is theirs.
        private var asking = 0
        private let shared: SharedRound
        private let store: any ReconcileStore
        private let job: String
        private let logger: Logger

        init(_ names: [String], shared: SharedRound, store: any ReconcileStore, job: String, logger: Logger) {
            pending = names
            self.shared = shared
            self.store = store
            self.job = job
            self.logger = logger
        }

        /// The next entry this host claimed and no host of the round has read; nil when there is
        /// none left, or the run was asked to stop.
        func next() async throws -> String? {
            while !Interruption.shared.isRequested {
                if !pending.isEmpty {
                    if let entry = try await take(pending.removeFirst()) { return entry }
                    continue
                }
                if held.isEmpty {
                    // Another worker may yet put back an entry another host holds.
                    guard asking > 0 else { return nil }
                    try await Task.sleep(for: .milliseconds(50))
                    continue
                }
                if asksSinceProgress >= held.count {
                    asksSinceProgress = 0
                    try await Task.sleep(for: JobRunner.sharedEntryPoll)
                    continue
                }
                asksSinceProgress += 1
                if let entry = try await take(held.removeFirst()) { return entry }
            }
            return nil
        }

        /// Gives back the claim on `entry`, once it is recorded.
        func release(_ entry: String) async {
            await shared.release(entry)
        }

        /// `entry` when this host claimed it and no host of the round has recorded it; otherwise
        /// nil, and an entry another host holds (it is reading it) is kept to ask for again.
        private func take(_ entry: String) async throws -> String? {
            asking += 1
            defer { asking -= 1 }
            if try await recorded(entry) { return nil }
            guard try await shared.claim(entry) else {
                held.append(entry)
                return nil
            }
            asksSinceProgress = 0
            // Recorded between the first look and the claim: the other host has let go of it.
            if try await recorded(entry) {
                await shared.release(entry)
                return nil
            }
            logger.info("shard.entry_claimed", metadata: ["entry": "\(entry)"])
            return entry
        }

        private func recorded(_ entry: String) async throws -> Bool {
            guard try await store.entryRead(job: job, round: shared.round, entry: entry) else { return false }
            logger.info("shard.entry_read_by_another_host", metadata: ["entry": "\(entry)"])
            return true
        }
    }

    /// What one entry of a shared run gave: a provider's section and findings, or the other
    /// lines' findings (no section).
    struct EntryResult: Sendable {
        var entry: String
        var section: RunReport.ProviderSection?
        var findings: [Finding]
        var resolved: [ReportedFinding] = []
    }

    /// Reads the entries this host claims, at most `limit` at a time, in the job's order at the end.
    ///
    /// - Parameters:
    ///   - queue: the entries this host may read, in its order.
    ///   - adapters: the provider of each name.
    ///   - order: every entry in the job's order (``RunEntry/otherLines`` first), for the result.
    ///   - limit: how many entries are read at once.
    ///   - context: what every provider of the run shares.
    ///   - otherLines: reads the lines naming none of the job's providers.
    ///   - record: records an entry once read (and annotates its findings); nil when another
    ///     host recorded it first. The claim then goes.
    /// - Returns: what each entry this host read gave, in the job's order.
    /// - Throws: a store failure or a lost claim session (the run stops).
    static func reconcileShared(
        _ queue: SharedEntries,
        adapters: [String: any ProviderAdapter],
        order: [String],
        limit: Int,
        context: ProviderRun,
        otherLines: @escaping @Sendable () async throws -> [Finding],
        record: @escaping @Sendable (EntryResult) async throws -> EntryResult?
    ) async throws -> [EntryResult] {
        let results = try await withThrowingTaskGroup(of: [EntryResult].self) { group in
            for _ in 0..<limit {
                group.addTask {
                    var done: [EntryResult] = []
                    while let entry = try await queue.next() {
                        let result: EntryResult
                        if let adapter = adapters[entry] {
                            let (section, findings) = try await reconcile(adapter, context: context)
                            result = EntryResult(entry: entry, section: section, findings: findings)
                        } else {
                            result = EntryResult(entry: entry, section: nil, findings: try await otherLines())
                        }
                        // Recorded, the entry is done for the round; the claim can go.
                        if let recorded = try await record(result) { done.append(recorded) }
                        await queue.release(entry)
                    }
                    return done
                }
            }
            var all: [EntryResult] = []
            for try await done in group { all += done }
            return all
        }
        let position = Dictionary(uniqueKeysWithValues: order.enumerated().map { ($1, $0) })
        return results.sorted { position[$0.entry, default: 0] < position[$1.entry, default: 0] }
    }
}
