import Foundation
import GRDB

/// One report of a finding by one run.
public struct FindingOccurrence: Sendable {
    public var runID: String
    /// The run's kind, as `runs` shows it (`nightly`, `manual`, `dry run`, `backfill`).
    public var runKind: String
    public var runStatus: String
    /// The run's clock (`--now`), which ages findings.
    public var runNow: Date
    public var isNew: Bool
    public var repaired: Bool
    public var details: [String: JSONValue]
}

/// A finding across the runs of a job: what `reconcile findings` lists and `reconcile show` prints.
public struct FindingHistory: Sendable {
    /// The stable id report.json gives the finding.
    public var id: String
    public var kind: FindingKind
    public var provider: String?
    public var resourceType: String?
    public var resourceID: String?
    public var eventID: String?
    /// The stored delivery an `invalid_signature` finding is about.
    public var deliveryID: Int64?
    /// Every run that reported it, oldest first.
    public var occurrences: [FindingOccurrence]
    /// Whether it is still open: its last report did not repair it, and no later complete run of the
    /// same kind (nightly runs among themselves; a backfill with backfills of the same window; a
    /// `run --provider` with the same command) has left it out.
    ///
    /// This is the rule report.json's `resolved` follows: a nightly run does not close what only a
    /// backfill of an older window found, and a backfill does not close a nightly finding.
    public var isOpen: Bool

    /// When it was first reported (the `now` of the first run that did).
    public var firstSeen: Date { occurrences.first?.runNow ?? .distantPast }
    /// When it was last reported.
    public var lastSeen: Date { occurrences.last?.runNow ?? .distantPast }
    /// Whether any run repaired it.
    public var repaired: Bool { occurrences.contains(where: \.repaired) }
    /// The details of its latest report.
    public var details: [String: JSONValue] { occurrences.last?.details ?? [:] }
}

/// One audit row of a repair: what a run changed, with before and after.
public struct RepairRecord: Sendable {
    public var runID: String
    public var action: String
    public var at: String
    public var before: String?
    public var after: String?
}

/// One captured delivery a finding names, without its headers or body (they may carry signatures).
public struct DeliveryRecord: Sendable {
    public var id: Int64
    public var receivedAt: String?
    public var recordedAt: String
    public var verdict: String
    public var reason: String?
    public var detail: String?
}

extension Store {
    /// Every finding ever reported by the runs of `job` (as retention keeps them), newest report last.
    public func findingHistories(job: String, providers: Set<String>) throws(StoreFailure) -> [FindingHistory] {
        try read("read findings") { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT f.findingKey, f.kind, f.provider, f.resourceType, f.resourceID, f.eventID, f.deliveryID,
                        f.isNew, f.repaired, f.details, r.id AS runID, r.command, r.dryRun, r.status, r.now
                    FROM finding f JOIN run r ON r.id = f.runID
                    WHERE r.job = ?
                    ORDER BY r.startedAt, r.rowid, f.id
                    """,
                arguments: [job]
            ).map { row in
                FindingHistory.Stored(
                    key: row["findingKey"],
                    kind: row["kind"],
                    provider: row["provider"],
                    resourceType: row["resourceType"],
                    resourceID: row["resourceID"],
                    eventID: row["eventID"],
                    deliveryID: row["deliveryID"],
                    isNew: row["isNew"],
                    repaired: row["repaired"],
                    details: row["details"],
                    run: FindingHistory.StoredRun(
                        id: row["runID"],
                        command: row["command"],
                        window: "",
                        status: row["status"],
                        dryRun: row["dryRun"],
                        now: Store.date(row["now"]) ?? .distantPast
                    )
                )
            }
            var complete: [String: Set<String>] = [:]
            for row in try Row.fetchAll(
                db,
                sql:
                    "SELECT e.runID, e.provider, e.status FROM runEntry e JOIN run r ON r.id = e.runID WHERE r.job = ?",
                arguments: [job]
            ) {
                if row["status"] as String == "complete" {
                    complete[row["runID"], default: []].insert(row["provider"] as String)
                }
            }
            let runs = try Row.fetchAll(
                db,
                sql: """
                    SELECT id, command, since, until, status, dryRun, now FROM run WHERE job = ?
                    ORDER BY startedAt DESC, rowid DESC
                    """,
                arguments: [job]
            ).map { row in
                FindingHistory.StoredRun(
                    id: row["id"],
                    command: row["command"],
                    window: "\(row["since"] as String? ?? "") \(row["until"] as String? ?? "")",
                    status: row["status"],
                    dryRun: row["dryRun"],
                    now: Store.date(row["now"]) ?? .distantPast,
                    completeEntries: complete[row["id"] as String, default: []]
                )
            }
            return FindingHistory.histories(rows, job: job, runsNewestFirst: runs, providers: providers)
        }
    }

    /// The audit rows of the repairs `history`'s runs made for it.
    public func repairs(of history: FindingHistory) throws(StoreFailure) -> [RepairRecord] {
        let runs = history.occurrences.filter(\.repaired).map(\.runID)
        guard !runs.isEmpty, let provider = history.provider, let type = history.resourceType,
            let id = history.resourceID
        else { return [] }
        let actions = history.kind == .droppedEvent ? ["record_event"] : ["set_state", "insert_state"]
        return try read("read repairs") { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT runID, action, at, before, after FROM repair
                    WHERE runID IN (\(runs.map { _ in "?" }.joined(separator: ",")))
                        AND provider = ? AND resourceType = ? AND resourceID = ?
                        AND action IN (\(actions.map { _ in "?" }.joined(separator: ",")))
                        AND (? IS NULL OR eventID = ?)
                    ORDER BY id
                    """,
                arguments: StatementArguments(
                    runs + [provider, type, id] + actions + [
                        history.kind == .droppedEvent ? history.eventID : nil,
                        history.kind == .droppedEvent ? history.eventID : nil,
                    ]
                )
            ).map { row in
                RepairRecord(
                    runID: row["runID"],
                    action: row["action"],
                    at: row["at"],
                    before: row["before"],
                    after: row["after"]
                )
            }
        }
    }

    /// The stored deliveries `history` names: its rejected delivery, or every delivery of its event.
    public func deliveries(of history: FindingHistory) throws(StoreFailure) -> [DeliveryRecord] {
        try read("read deliveries") { db in
            let rows: [Row]
            if let deliveryID = history.deliveryID {
                rows = try Row.fetchAll(
                    db,
                    sql: "SELECT id, receivedAt, recordedAt, verdict, reason, detail FROM delivery WHERE id = ?",
                    arguments: [deliveryID]
                )
            } else if let eventID = history.eventID, let provider = history.provider {
                rows = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT d.id, d.receivedAt, d.recordedAt, d.verdict, d.reason, d.detail
                        FROM deliveryEvent de JOIN delivery d ON d.id = de.deliveryID
                        WHERE de.provider = ? AND de.eventID = ?
                        ORDER BY d.receivedAt, d.id
                        """,
                    arguments: [provider, eventID]
                )
            } else {
                rows = []
            }
            return rows.map { row in
                DeliveryRecord(
                    id: row["id"],
                    receivedAt: row["receivedAt"],
                    recordedAt: row["recordedAt"],
                    verdict: row["verdict"],
                    reason: row["reason"],
                    detail: row["detail"]
                )
            }
        }
    }
}

extension FindingHistory {
    /// A run as the findings' histories need it, from either engine.
    struct StoredRun {
        var id: String
        var command: String
        /// The run's window as text, the same for the same window (only compared).
        var window: String
        var status: String
        var dryRun: Bool
        var now: Date
        /// The entries the run recorded `complete` (what a shared run read whole).
        var completeEntries: Set<String> = []
    }

    /// One stored finding row of a run, from either engine.
    struct Stored {
        var key: String
        var kind: String
        var provider: String?
        var resourceType: String?
        var resourceID: String?
        var eventID: String?
        var deliveryID: Int64?
        var isNew: Bool
        var repaired: Bool
        /// The finding's details as canonical JSON text.
        var details: String
        var run: StoredRun
    }

    /// The histories of `rows` (oldest run first, each run's findings in the order stored), in the
    /// order of their first report; a kind this build does not know is left out.
    static func histories(
        _ rows: [Stored],
        job: String,
        runsNewestFirst runs: [StoredRun],
        providers: Set<String>
    ) -> [FindingHistory] {
        let settled = Settled(runsNewestFirst: runs, providers: providers)
        // By exact key: two spellings of one accented id are two findings, as the stores keep them.
        var order: [ExactID] = []
        var histories: [ExactID: FindingHistory] = [:]
        for row in rows {
            let key = ExactID(row.key)
            guard let kind = FindingKind(rawValue: row.kind) else { continue }
            let summary = RunSummary(
                id: row.run.id,
                job: job,
                command: row.run.command,
                startedAt: .distantPast,
                finishedAt: nil,
                dryRun: row.run.dryRun,
                status: row.run.status,
                exitStatus: nil,
                report: nil
            )
            let occurrence = FindingOccurrence(
                runID: summary.id,
                runKind: summary.kind,
                runStatus: summary.status,
                runNow: row.run.now,
                isNew: row.isNew,
                repaired: row.repaired,
                details: JSONValue.parse(Data(row.details.utf8))?.objectValue ?? [:]
            )
            if histories[key] == nil {
                order.append(key)
                histories[key] = FindingHistory(
                    id: Finding.id(ofKey: row.key),
                    kind: kind,
                    provider: row.provider,
                    resourceType: row.resourceType,
                    resourceID: row.resourceID,
                    eventID: row.eventID,
                    deliveryID: row.deliveryID,
                    occurrences: [],
                    isOpen: false
                )
            }
            histories[key]?.occurrences.append(occurrence)
            // Rows come oldest run first: the last one decides.
            histories[key]?.isOpen =
                !occurrence.repaired && !settled.contains(run: occurrence.runID, provider: row.provider)
        }
        return order.compactMap { histories[$0] }
    }

    /// What later runs settled: what a run reported and a later run that read the same thing
    /// no longer found is no longer there.
    ///
    /// "Read the same thing": a later complete, non-dry run of the same command (`run`,
    /// `run --provider …`, `backfill`), and for a backfill of the same window too. A nightly run's
    /// finding of an entry is also settled by a later non-dry nightly run (`run`, or a shared
    /// `run --shard`) that recorded that entry `complete`; a shared run's, only so, or by a later
    /// complete `run` (which reads every entry), since each host of a round reads other entries.
    struct Settled {
        private var runs: Set<String> = []
        private var entriesByRun: [String: Set<String>] = [:]
        private let providers: Set<String>

        /// `providers`: the job's entries, to tell a provider's findings from the other lines', as
        /// ``RunStore/previousEntryFindings(job:entries:providers:excludingRun:)`` does.
        init(runsNewestFirst stored: [StoredRun], providers: Set<String>) {
            self.providers = providers
            var completeLater = Set<String>()
            var readLater = Set<String>()
            for run in stored {
                let shared = run.command == RunEntry.sharedCommand
                let kind = run.command == "backfill" ? "backfill \(run.window)" : run.command
                if !shared, completeLater.contains(kind) { runs.insert(run.id) }
                if RunEntry.nightlyCommands.contains(run.command) {
                    if completeLater.contains("run") { runs.insert(run.id) }
                    if !readLater.isEmpty { entriesByRun[run.id] = readLater }
                }
                guard !run.dryRun else { continue }
                if RunEntry.nightlyCommands.contains(run.command) { readLater.formUnion(run.completeEntries) }
                // As for `resolved` (previousRunFindings): only a complete run that is not a dry run counts.
                if !shared, run.status == "complete" { completeLater.insert(kind) }
            }
        }

        /// Whether what run `run` reported of `provider` was settled by a later run.
        func contains(run: String, provider: String?) -> Bool {
            if runs.contains(run) { return true }
            guard let read = entriesByRun[run] else { return false }
            return read.contains(RunEntry.entry(of: provider, providers: providers))
        }
    }
}
