import Foundation
import PostgresNIO

extension PostgresStore: RunStore {
    public func beginRun(
        id: String,
        job: String,
        command: String,
        round: String?,
        startedAt: Date,
        now: Date,
        since: Date,
        until: Date,
        dryRun: Bool
    ) async throws(StoreFailure) -> [(id: String, repairs: Int)] {
        let logger = self.logger
        return try await transaction("record the start of run \(id)") { connection in
            // The crashed runs' rows are locked first, so that two starts never both report them.
            // A run of the same round is another host's part of it; a run whose session holds its
            // key (a shared run of another round, still reading) is live.
            let rows = try await connection.query(
                """
                UPDATE run r SET status = 'crashed'
                WHERE r.job = \(job) AND r.status = 'running' AND NOT coalesce(r.round = \(round), false)
                AND NOT EXISTS (
                    SELECT 1 FROM pg_locks l
                    WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
                    AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                    AND l.classid::bigint = (hashtextextended(\(Self.runKeyPrefix) || r.id, 0) >> 32) & 4294967295
                    AND l.objid::bigint = hashtextextended(\(Self.runKeyPrefix) || r.id, 0) & 4294967295
                )
                RETURNING r.id, r.started_at, (SELECT count(*) FROM repair WHERE run_id = r.id)
                """,
                logger: logger
            )
            var found: [(id: String, started: Date, repairs: Int)] = []
            for try await (id, started, repairs) in rows.decode((String, Date, Int).self) {
                found.append((id, started, repairs))
            }
            try await connection.query(
                """
                INSERT INTO run (id, job, command, round, started_at, now, since, until, dry_run, status)
                VALUES (\(id), \(job), \(command), \(round), \(Self.instant(startedAt)), \(Self.instant(now)),
                    \(Self.instant(since)), \(Self.instant(until)), \(dryRun), 'running')
                """,
                logger: logger
            )
            return found.sorted { $0.started < $1.started }.map { (id: $0.id, repairs: $0.repairs) }
        }
    }

    /// Records how a run ended, its findings and its report, in one transaction; findings go in
    /// 1,000 to a statement.
    public func finishRun(
        id: String,
        status: String,
        exitStatus: Int32,
        finishedAt: Date,
        entries: [RunEntry],
        findings: [Finding],
        report: [UInt8]
    ) async throws(StoreFailure) {
        let logger = self.logger
        try await transaction("record the end of run \(id)") { connection in
            guard try await Self.insert(entries, findings: findings, runID: id, on: connection, logger: logger)
            else { throw StoreFailure("record the end of run \(id)", reason: "an entry of it was recorded before") }
            try await connection.query(
                """
                UPDATE run SET status = \(status), exit_status = \(Int(exitStatus)),
                    finished_at = \(Self.instant(finishedAt)), report = \(String(decoding: report, as: UTF8.self))
                WHERE id = \(id)
                """,
                logger: logger
            )
        }
    }

    /// Records one entry a shared run has read, with its findings, in one transaction: from then
    /// on no host of the round reads it again, whatever becomes of this one.
    ///
    /// - Returns: false, recording nothing, when a run of the same round recorded the entry first.
    public func recordEntry(_ entry: RunEntry, runID: String, findings: [Finding]) async throws(StoreFailure) -> Bool {
        let logger = self.logger
        return try await transaction("record entry \(entry.provider) of run \(runID)") { connection in
            try await Self.insert([entry], findings: findings, runID: runID, on: connection, logger: logger)
        }
    }

    /// Inserts a run's entries and findings, findings 1,000 to a statement; false, inserting
    /// nothing more, when an entry of a round was already recorded by another run.
    @discardableResult
    private static func insert(
        _ entries: [RunEntry],
        findings: [Finding],
        runID id: String,
        on connection: PostgresConnection,
        logger: Logger
    ) async throws -> Bool {
        for entry in entries {
            let inserted = try await connection.query(
                """
                INSERT INTO run_entry (run_id, job, round, provider, status, report)
                SELECT id, job, round, \(entry.provider), \(entry.status), \(entry.report) FROM run WHERE id = \(id)
                ON CONFLICT DO NOTHING
                RETURNING 1
                """,
                logger: logger
            )
            var rows = 0
            for try await _ in inserted.decode(Int.self) { rows += 1 }
            if rows == 0 { return false }
        }
        // A finding carries its run's job.
        var job = ""
        if !findings.isEmpty {
            for try await name in try await connection.query("SELECT job FROM run WHERE id = \(id)", logger: logger)
                .decode(String.self)
            {
                job = name
            }
        }
        for start in stride(from: 0, to: findings.count, by: 1_000) {
            // A slice as one JSON array (PostgresNIO binds no arrays of optionals), in order.
            let slice = JSONValue.array(
                findings[start..<min(start + 1_000, findings.count)].map { finding in
                    func text(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
                    return .object([
                        "finding_key": .string(finding.key), "kind": .string(finding.kind.rawValue),
                        "provider": text(finding.provider), "resource_type": text(finding.resourceType),
                        "resource_id": text(finding.resourceID), "event_id": text(finding.eventID),
                        "delivery_id": finding.deliveryID.map(JSONValue.integer) ?? .null,
                        "is_new": .bool(finding.isNew), "repaired": .bool(finding.repaired),
                        "details": .string(JSONValue.object(finding.details).canonicalText),
                    ])
                }
            )
            try await connection.query(
                """
                INSERT INTO finding (run_id, job, finding_key, kind, provider, resource_type, resource_id, event_id,
                    delivery_id, is_new, repaired, details)
                SELECT \(id), \(job), f ->> 'finding_key', f ->> 'kind', f ->> 'provider', f ->> 'resource_type',
                    f ->> 'resource_id', f ->> 'event_id', (f ->> 'delivery_id')::bigint, (f ->> 'is_new')::boolean,
                    (f ->> 'repaired')::boolean, f ->> 'details'
                FROM jsonb_array_elements(\(slice.canonicalText)::jsonb) WITH ORDINALITY AS e (f, position)
                ORDER BY position
                """,
                logger: logger
            )
        }
        return true
    }

    /// Applies a provider's repairs with their audit rows, 500 to a transaction.
    ///
    /// Returns the keys of the findings it resolved. When a batch fails, the ``StoreFailure`` lists the repairs of
    /// the batches committed before it (``StoreFailure/committedRepairs``).
    ///
    /// A batch takes the events to record first, then the rows to set, both kinds in one transaction: a plan of
    /// at most 500 repairs is all applied or none, as on SQLite.
    ///
    /// The application keeps writing `resource_state` meanwhile, so a batch locks only its own rows
    /// (`SELECT … FOR UPDATE`) and only for its own transaction. A row the application moved to a
    /// newer `as_of` meanwhile is left alone, and so is a row it inserted meanwhile: a repair never
    /// moves a row back. A kill leaves whole batches; the next run plans the rest again (an event
    /// recorded, or a row already at its target, is left alone).
    public func applyRepairs(_ plan: RepairPlan, provider: String, runID: String, at time: Date)
        async throws(StoreFailure) -> Set<ExactID>
    {
        guard let scratch = plan.scratch, !plan.isEmpty else { return [] }
        let now = Self.instant(time)
        var repaired = Set<ExactID>()
        var reading = PlannedReading()
        // A failure, of a batch or of reading the plan, says which batches were committed before it.
        do throws(StoreFailure) {
            while let batch = try reading.next(from: scratch, limit: Self.repairBatchSize) {
                repaired.formUnion(try await repairBatch(batch, provider: provider, runID: runID, now: now))
            }
        } catch {
            var failure = error
            failure.committedRepairs = repaired
            throw failure
        }
        return repaired
    }

    /// The most repairs one transaction applies.
    static let repairBatchSize = 500

    /// Where the reading of a plan's repairs stands: the kind being read, and the position in it.
    private struct PlannedReading {
        static let kinds = ["event", "resource"]
        var kind = 0
        var position: RunScratch.PlannedPosition?

        /// The next repairs, at most `limit` of them, in parts of one kind each; nil once all are read.
        mutating func next(from scratch: RunScratch, limit: Int) throws(StoreFailure) -> [RepairPart]? {
            var parts: [RepairPart] = []
            var room = limit
            while room > 0, kind < Self.kinds.count {
                guard let next = try scratch.plannedRepairs(kind: Self.kinds[kind], after: position, limit: room)
                else {
                    kind += 1
                    position = nil
                    continue
                }
                position = next.position
                room -= next.repairs.count
                if let last = parts.last, last.kind == Self.kinds[kind] {
                    parts[parts.count - 1].repairs += next.repairs
                } else {
                    parts.append(RepairPart(kind: Self.kinds[kind], repairs: next.repairs))
                }
            }
            return parts.isEmpty ? nil : parts
        }
    }

    /// Planned repairs of one kind (`event` or `resource`): each a finding's key and the repair's body.
    private struct RepairPart {
        var kind: String
        var repairs: [(findingKey: String, body: String)]
    }

    private func repairBatch(_ parts: [RepairPart], provider: String, runID: String, now: Date)
        async throws(StoreFailure) -> Set<ExactID>
    {
        let logger = self.logger
        return try await transaction("repair \(provider) local state") { connection in
            var repaired = Set<ExactID>()
            for part in parts {
                repaired.formUnion(
                    part.kind == "event"
                        ? try await Self.recordEvents(
                            part.repairs,
                            provider: provider,
                            runID: runID,
                            now: now,
                            on: connection,
                            logger: logger
                        )
                        : try await Self.setResources(
                            part.repairs,
                            provider: provider,
                            runID: runID,
                            now: now,
                            on: connection,
                            logger: logger
                        )
                )
            }
            return repaired
        }
    }

    /// Records the events of `repairs` that are not recorded yet, each with its audit row, on `connection`.
    private static func recordEvents(
        _ repairs: [(findingKey: String, body: String)],
        provider: String,
        runID: String,
        now: Date,
        on connection: PostgresConnection,
        logger: Logger
    ) async throws -> Set<ExactID> {
        var repaired = Set<ExactID>()
        for (finding, body) in repairs {
            let event = try ScratchCodec.event(body)
            guard
                try await recordEvent(
                    event,
                    provider: provider,
                    source: "reconciliation",
                    receivedAt: nil,
                    runID: runID,
                    now: now,
                    on: connection,
                    logger: logger
                )
            else { continue }
            try await audit(
                runID: runID,
                provider: provider,
                type: event.resourceType,
                id: event.resourceID,
                eventID: event.eventID,
                action: "record_event",
                before: nil,
                after: event.payload,
                at: now,
                on: connection,
                logger: logger
            )
            repaired.insert(ExactID(finding))
        }
        return repaired
    }

    /// Sets the rows of `repairs`, locked first, each with its audit row, on `connection`; a row at its target
    /// or at a newer `as_of`, or inserted meanwhile, is left alone.
    private static func setResources(
        _ repairs: [(findingKey: String, body: String)],
        provider: String,
        runID: String,
        now: Date,
        on connection: PostgresConnection,
        logger: Logger
    ) async throws -> Set<ExactID> {
        var repaired = Set<ExactID>()
        let targets = try repairs.map { (finding: $0.findingKey, target: try ScratchCodec.localResource($0.body)) }
        let current = try await resources(
            provider: provider,
            keys: targets.map { ResourceKey($0.target.resourceType, $0.target.resourceID) },
            locking: true,
            on: connection,
            logger: logger
        )
        for (finding, target) in targets {
            let before = current[ResourceKey(target.resourceType, target.resourceID)]
            // Never move a row back: it may have advanced (ingest) since the provider was read.
            if let before, Store.sameState(before, target) || before.asOf > target.asOf { continue }
            // A row absent when locked and inserted by the application meanwhile is its to keep.
            guard
                try await save(
                    target,
                    provider: provider,
                    updatedBy: "repair",
                    now: now,
                    replacing: before != nil,
                    on: connection,
                    logger: logger
                )
            else { continue }
            try await audit(
                runID: runID,
                provider: provider,
                type: target.resourceType,
                id: target.resourceID,
                eventID: nil,
                action: before == nil ? "insert_state" : "set_state",
                before: before.map(Store.stateJSON),
                after: Store.stateJSON(target),
                at: now,
                on: connection,
                logger: logger
            )
            repaired.insert(ExactID(finding))
        }
        return repaired
    }

    private static func audit(
        runID: String,
        provider: String,
        type: String,
        id: String,
        eventID: String?,
        action: String,
        before: JSONValue?,
        after: JSONValue?,
        at now: Date,
        on connection: PostgresConnection,
        logger: Logger
    ) async throws {
        try await connection.query(
            """
            INSERT INTO repair (run_id, provider, resource_type, resource_id, event_id, action, before, after, at)
            VALUES (\(runID), \(provider), \(type), \(id), \(eventID), \(action), \(before?.canonicalText),
                \(after?.canonicalText), \(now))
            """,
            logger: logger
        )
    }

    /// What a run's advisory key is made from: `hashtextextended(runKeyPrefix || id, 0)`, held by
    /// a shared run's session while it lives (``PostgresClaims/holdRun(_:)``).
    public static let runKeyPrefix = "reconcile run "

    private static let runColumns =
        "id, job, command, started_at, finished_at, dry_run, status, exit_status, report, round"

    private typealias RunRow = (String, String, String, Date, Date?, Bool, String, Int?, String?, String?)

    private static func runSummary(_ row: RunRow) -> RunSummary {
        RunSummary(
            id: row.0,
            job: row.1,
            command: row.2,
            startedAt: instant(row.3),
            finishedAt: row.4.map(instant),
            dryRun: row.5,
            status: row.6,
            exitStatus: row.7,
            report: row.8,
            round: row.9
        )
    }

    public func runs(job: String, limit: Int) async throws(StoreFailure) -> [RunSummary] {
        try await rows(
            "list runs",
            """
            SELECT \(unescaped: Self.runColumns) FROM run WHERE job = \(job)
            ORDER BY started_at DESC, seq DESC LIMIT \(limit)
            """,
            as: RunRow.self
        ).map(Self.runSummary)
    }

    public func runIDs(job: String) async throws(StoreFailure) -> Set<String> {
        Set(try await rows("list run ids", "SELECT id FROM run WHERE job = \(job)", as: String.self))
    }

    public func run(job: String, id: String?) async throws(StoreFailure) -> RunSummary? {
        let query: PostgresQuery =
            if let id {
                "SELECT \(unescaped: Self.runColumns) FROM run WHERE id = \(id)"
            } else {
                """
                SELECT \(unescaped: Self.runColumns) FROM run WHERE job = \(job) AND report IS NOT NULL
                ORDER BY started_at DESC, seq DESC LIMIT 1
                """
            }
        return try await rows("read a run", query, as: RunRow.self).first.map(Self.runSummary)
    }

    public func firstReported(job: String, keys: [String], excludingRun runID: String) async throws(StoreFailure)
        -> [ExactID: Date]
    {
        guard !keys.isEmpty else { return [:] }
        let found = try await rows(
            "read earlier findings",
            """
            SELECT f.finding_key, min(r.now) FROM finding f JOIN run r ON r.id = f.run_id
            WHERE f.job = \(job) AND f.finding_key = ANY(\(keys)) AND r.status = 'complete' AND NOT r.dry_run
                AND r.id <> \(runID)
            GROUP BY f.finding_key
            """,
            as: (String, Date).self
        )
        return Dictionary(found.map { (ExactID($0.0), Self.instant($0.1)) }, uniquingKeysWith: { first, _ in first })
    }

    public func previousRunFindings(
        job: String,
        command: String,
        sameWindow: (since: Date, until: Date)?,
        excludingRun runID: String
    ) async throws(StoreFailure) -> [ReportedFinding] {
        let since = sameWindow.map { Self.instant($0.since) }
        let until = sameWindow.map { Self.instant($0.until) }
        return try await rows(
            "read the previous run's findings",
            """
            SELECT finding_key, kind, provider, resource_type, resource_id, event_id FROM finding
            WHERE run_id = (
                SELECT id FROM run WHERE job = \(job) AND command = \(command) AND status = 'complete' AND NOT dry_run
                AND id <> \(runID) AND (\(since)::timestamptz IS NULL OR (since = \(since) AND until = \(until)))
                ORDER BY started_at DESC, id COLLATE "C" DESC LIMIT 1
            )
            ORDER BY id
            """,
            as: FindingRow.self
        ).map(Self.reportedFinding)
    }

    public func previousEntryFindings(
        job: String,
        entries: [String],
        providers: Set<String>,
        excludingRun runID: String
    ) async throws(StoreFailure) -> [ReportedFinding] {
        guard !entries.isEmpty else { return [] }
        let known = providers.sorted()
        // The latest nightly run that read each entry whole, then its findings of that entry.
        return try await rows(
            "read the previous findings of each entry",
            """
            SELECT f.finding_key, f.kind, f.provider, f.resource_type, f.resource_id, f.event_id
            FROM unnest(\(entries)::text[]) WITH ORDINALITY AS e (entry, position)
            CROSS JOIN LATERAL (
                SELECT r.id FROM run r WHERE r.job = \(job) AND NOT r.dry_run AND r.id <> \(runID)
                AND r.command IN ('run', \(RunEntry.sharedCommand))
                AND ((r.command = 'run' AND r.status = 'complete')
                    OR EXISTS (SELECT 1 FROM run_entry x
                        WHERE x.run_id = r.id AND x.provider = e.entry AND x.status = 'complete'))
                ORDER BY r.started_at DESC, r.seq DESC LIMIT 1
            ) AS last
            JOIN finding f ON f.run_id = last.id AND (f.provider = e.entry
                OR (e.entry = '*' AND (f.provider IS NULL OR NOT f.provider = ANY(\(known)::text[]))))
            ORDER BY e.position, f.id
            """,
            as: FindingRow.self
        ).map(Self.reportedFinding)
    }

    /// A finding row: `finding_key, kind, provider, resource_type, resource_id, event_id`.
    private typealias FindingRow = (String, String, String?, String?, String?, String?)

    private static func reportedFinding(_ row: FindingRow) -> ReportedFinding {
        ReportedFinding(
            id: Finding.id(ofKey: row.0),
            key: row.0,
            kind: row.1,
            provider: row.2,
            resourceType: row.3,
            resourceID: row.4,
            eventID: row.5
        )
    }

    public func entryRead(job: String, round: String, entry: String) async throws(StoreFailure) -> Bool {
        try await rows(
            "read the entries of round \(round)",
            """
            SELECT EXISTS (SELECT 1 FROM run_entry
                WHERE job = \(job) AND round = \(round) AND provider = \(entry) AND status <> 'interrupted')
            """,
            as: Bool.self
        ).first ?? false
    }

    public func round(job: String, named: String?) async throws(StoreFailure) -> StoredRound? {
        var name = named
        if name == nil {
            name = try await rows(
                "read a round",
                """
                SELECT round FROM run WHERE job = \(job) AND round IS NOT NULL ORDER BY started_at DESC, seq DESC LIMIT 1
                """,
                as: String.self
            ).first
        }
        guard let round = name else { return nil }
        let runs = try await rows(
            "read a round",
            """
            SELECT \(unescaped: Self.runColumns) FROM run WHERE job = \(job) AND round = \(round)
            ORDER BY started_at, seq
            """,
            as: RunRow.self
        ).map(Self.runSummary)
        guard !runs.isEmpty else { return nil }
        let parts = try await rows(
            "read a round",
            """
            SELECT provider, report FROM run_entry
            WHERE job = \(job) AND round = \(round) AND report IS NOT NULL ORDER BY seq
            """,
            as: (String, String).self
        ).map { (entry: $0.0, report: $0.1) }
        return StoredRound(round: round, runs: runs, parts: parts)
    }

    public func lastSuccess(job: String, command: String) async throws(StoreFailure) -> Date? {
        try await rows(
            "read the last complete run",
            """
            SELECT max(finished_at) FROM run
            WHERE job = \(job) AND command = \(command) AND NOT dry_run AND status = 'complete'
            """,
            as: Date?.self
        ).first?.map(Self.instant)
    }

    /// Removes what is older than the cutoffs, in one transaction.
    ///
    /// The rules of SQLite's ``Store/prune(job:cutoffs:openKeys:)``. Events keep their payloads
    /// (their own text), so a delivery goes with nothing to copy out.
    public func prune(job: String, cutoffs: RetentionCutoffs, openKeys: [String]) async throws(StoreFailure)
        -> PruneSummary
    {
        let logger = self.logger
        let limit = Self.instant(cutoffs.runs)
        let auditLimit = Self.instant(cutoffs.audit)
        let receiptLimit = Self.instant(cutoffs.deliveries)
        return try await transaction("prune by retention") { connection in
            func count(_ query: PostgresQuery) async throws -> Int {
                try await Self.rowCount(query, on: connection, logger: logger)
            }
            var summary = PruneSummary()
            summary.findings = try await count(
                """
                DELETE FROM finding WHERE run_id IN (
                    SELECT id FROM run WHERE job = \(job) AND now < \(limit) AND status <> 'running'
                ) AND finding_key <> ALL(\(openKeys)) RETURNING 1
                """
            )
            summary.runs = try await count(
                """
                DELETE FROM run r WHERE r.job = \(job) AND r.now < \(limit) AND r.status <> 'running'
                AND NOT EXISTS (SELECT 1 FROM finding f WHERE f.run_id = r.id)
                AND (r.now < \(auditLimit) OR NOT EXISTS (SELECT 1 FROM repair p WHERE p.run_id = r.id))
                RETURNING 1
                """
            )
            // A backfill left unfinished for longer than the retention is abandoned: it stops holding data.
            summary.backfills = try await count("DELETE FROM backfill WHERE updated_at < \(limit) RETURNING 1")
            var backfillStart: Date?
            for try await start in try await connection.query(
                "SELECT min(since) FROM backfill WHERE status = 'running'",
                logger: logger
            ).decode(Date?.self) {
                backfillStart = start
            }
            let deliveryLimit = backfillStart.map { min($0, receiptLimit) } ?? receiptLimit
            summary.deliveries = try await Self.pruneDeliveries(before: deliveryLimit, on: connection, logger: logger)
            return summary
        }
    }

    /// Deletes the deliveries received (or, without a receipt time, recorded) before `limit` that
    /// no finding names; returns how many went.
    ///
    /// By `delivery_received` (provider, received_at), for the providers the store holds, as SQLite's
    /// retention does: a condition on `coalesce(received_at, recorded_at)` can use no index, and
    /// read every delivery row of the store on every nightly run (#10 world, 94,055 deliveries and
    /// 300,000 findings, nothing leaving: 24–27 ms against 0.1 ms). The providers are found in the
    /// same index, one seek each, and named in one statement (`= ANY`), so that `finding` is read
    /// once however many providers have deliveries leaving. `provider > $1` never finds one seen
    /// before, unless a name read back differs from the one stored; should that happen, every row
    /// is looked at, as before, rather than loop.
    private static func pruneDeliveries(before limit: Date, on connection: PostgresConnection, logger: Logger)
        async throws -> Int
    {
        func least(after provider: String?) async throws -> String? {
            let query: PostgresQuery =
                provider.map { "SELECT min(provider) FROM delivery WHERE provider > \($0)" }
                ?? "SELECT min(provider) FROM delivery"
            var least: String?
            for try await value in try await connection.query(query, logger: logger).decode(String?.self) {
                least = value
            }
            return least
        }
        var providers: [String] = []
        var seen = Set<ExactID>()
        var next = try await least(after: nil)
        while let provider = next {
            guard seen.insert(ExactID(provider)).inserted else {
                return try await rowCount(
                    """
                    DELETE FROM delivery d WHERE coalesce(d.received_at, d.recorded_at) < \(limit)
                    AND NOT EXISTS (SELECT 1 FROM finding f WHERE f.delivery_id = d.id) RETURNING 1
                    """,
                    on: connection,
                    logger: logger
                )
            }
            providers.append(provider)
            next = try await least(after: provider)
        }
        // Each arm an index condition on `delivery_received`: the planner ORs their bitmaps.
        return try await rowCount(
            """
            DELETE FROM delivery d WHERE (
                (d.provider = ANY(\(providers)) AND d.received_at < \(limit))
                OR (d.provider = ANY(\(providers)) AND d.received_at IS NULL AND d.recorded_at < \(limit))
                OR (d.provider IS NULL AND coalesce(d.received_at, d.recorded_at) < \(limit)))
            AND NOT EXISTS (SELECT 1 FROM finding f WHERE f.delivery_id = d.id) RETURNING 1
            """,
            on: connection,
            logger: logger
        )
    }

    /// The number of rows `query` returns (a `DELETE … RETURNING 1`: how many rows it removed).
    private static func rowCount(_ query: PostgresQuery, on connection: PostgresConnection, logger: Logger)
        async throws -> Int
    {
        var total = 0
        for try await _ in try await connection.query(query, logger: logger).decode(Int.self) { total += 1 }
        return total
    }
}

extension PostgresStore: FindingStore {
    public func findingHistories(job: String, providers: Set<String>) async throws(StoreFailure)
        -> [FindingHistory]
    {
        let stored = try await rows(
            "read findings",
            """
            SELECT f.finding_key, f.kind, f.provider, f.resource_type, f.resource_id, f.event_id, f.delivery_id,
                f.is_new, f.repaired, f.details, r.id, r.command, r.dry_run, r.status, r.now
            FROM finding f JOIN run r ON r.id = f.run_id
            WHERE f.job = \(job)
            ORDER BY r.started_at, r.seq, f.id
            """,
            as: (
                String, String, String?, String?, String?, String?, Int64?, Bool, Bool, String, String, String, Bool,
                String, Date
            ).self
        ).map { row in
            FindingHistory.Stored(
                key: row.0,
                kind: row.1,
                provider: row.2,
                resourceType: row.3,
                resourceID: row.4,
                eventID: row.5,
                deliveryID: row.6,
                isNew: row.7,
                repaired: row.8,
                details: row.9,
                run: FindingHistory.StoredRun(
                    id: row.10,
                    command: row.11,
                    window: "",
                    status: row.13,
                    dryRun: row.12,
                    now: Self.instant(row.14)
                )
            )
        }
        var complete: [String: Set<String>] = [:]
        for (run, provider, status) in try await rows(
            "read findings",
            "SELECT e.run_id, e.provider, e.status FROM run_entry e JOIN run r ON r.id = e.run_id WHERE r.job = \(job)",
            as: (String, String, String).self
        ) {
            if status == "complete" { complete[run, default: []].insert(provider) }
        }
        let runs = try await rows(
            "read findings",
            """
            SELECT id, command, since, until, status, dry_run, now FROM run WHERE job = \(job)
            ORDER BY started_at DESC, seq DESC
            """,
            as: (String, String, Date, Date, String, Bool, Date).self
        ).map { row in
            FindingHistory.StoredRun(
                id: row.0,
                command: row.1,
                window: "\(RFC3339.formatMillis(row.2)) \(RFC3339.formatMillis(row.3))",
                status: row.4,
                dryRun: row.5,
                now: Self.instant(row.6),
                completeEntries: complete[row.0, default: []]
            )
        }
        return FindingHistory.histories(stored, job: job, runsNewestFirst: runs, providers: providers)
    }

    public func repairs(of history: FindingHistory) async throws(StoreFailure) -> [RepairRecord] {
        let runs = history.occurrences.filter(\.repaired).map(\.runID)
        guard !runs.isEmpty, let provider = history.provider, let type = history.resourceType,
            let id = history.resourceID
        else { return [] }
        let actions = history.kind == .droppedEvent ? ["record_event"] : ["set_state", "insert_state"]
        let eventID = history.kind == .droppedEvent ? history.eventID : nil
        return try await rows(
            "read repairs",
            """
            SELECT run_id, action, at, before, after FROM repair
            WHERE run_id = ANY(\(runs)) AND provider = \(provider) AND resource_type = \(type)
                AND resource_id = \(id) AND action = ANY(\(actions))
                AND (\(eventID)::text IS NULL OR event_id = \(eventID))
            ORDER BY id
            """,
            as: (String, String, Date, String?, String?).self
        ).map { row in
            RepairRecord(runID: row.0, action: row.1, at: RFC3339.formatMillis(row.2), before: row.3, after: row.4)
        }
    }

    public func deliveries(of history: FindingHistory) async throws(StoreFailure) -> [DeliveryRecord] {
        let query: PostgresQuery
        if let deliveryID = history.deliveryID {
            query = """
                SELECT id, received_at, recorded_at, verdict, reason, detail FROM delivery WHERE id = \(deliveryID)
                """
        } else if let eventID = history.eventID, let provider = history.provider {
            query = """
                SELECT d.id, d.received_at, d.recorded_at, d.verdict, d.reason, d.detail
                FROM delivery_event de JOIN delivery d ON d.id = de.delivery_id
                WHERE de.provider = \(provider) AND de.event_id = \(eventID)
                ORDER BY d.received_at, d.id
                """
        } else {
            return []
        }
        return try await rows("read deliveries", query, as: (Int64, Date?, Date, String, String?, String?).self).map {
            row in
            DeliveryRecord(
                id: row.0,
                receivedAt: row.1.map(RFC3339.formatMillis),
                recordedAt: RFC3339.formatMillis(row.2),
                verdict: row.3,
                reason: row.4,
                detail: row.5
            )
        }
    }
}
