import Foundation
import Logging
import PostgresNIO

extension PostgresStore {
    /// Forward-only, named migrations, applied in order; a shipped migration is never edited.
    ///
    /// The same records as SQLite's schema (`Store.migrator`), in PostgreSQL's idiom: snake_case
    /// names, `timestamptz` for instants (the application may write any offset; comparisons are
    /// by instant), `bytea` for raw bodies, `text` for JSON (reports, payloads, details), `boolean` for flags. An event's payload is
    /// its text, whole; SQLite's places in delivery bodies save space that a server's store does
    /// not need to. `delivery_event` links only accepted deliveries (as on SQLite) and carries each
    /// one's receipt, so that a chunk's events find their first valid receipt and duplicate count
    /// from its index alone (on SQLite
    /// the join to `delivery` is about 40 % of reading a chunk's events). `finding` carries its
    /// run's job, so that a finding's history is one index range; `run.seq` orders runs that
    /// started at the same instant, as SQLite's `rowid` does.
    static let migrations: [(name: String, statements: [String])] = [
        (
            "v1 deliveries, events, state, runs, findings, repairs, keys, backfills",
            [
                """
                CREATE TABLE delivery (
                    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    fingerprint text NOT NULL UNIQUE,
                    provider text,
                    received_at timestamptz,
                    recorded_at timestamptz NOT NULL,
                    method text,
                    url text,
                    headers text,
                    body bytea,
                    verdict text NOT NULL CHECK (verdict IN ('accepted', 'rejected')),
                    reason text,
                    detail text,
                    event_id text,
                    resource_type text,
                    resource_id text,
                    source_name text,
                    line_number integer
                )
                """,
                "CREATE INDEX delivery_received ON delivery (provider, received_at)",
                """
                CREATE TABLE delivery_event (
                    delivery_id bigint NOT NULL REFERENCES delivery (id) ON DELETE CASCADE,
                    provider text NOT NULL,
                    event_id text NOT NULL,
                    received_at timestamptz,
                    PRIMARY KEY (delivery_id, event_id)
                )
                """,
                "CREATE INDEX delivery_event_event ON delivery_event (provider, event_id) INCLUDE (received_at)",
                "CREATE INDEX delivery_event_received ON delivery_event (provider, received_at)",
                """
                CREATE TABLE event (
                    provider text NOT NULL,
                    event_id text NOT NULL,
                    event_type text NOT NULL,
                    resource_type text NOT NULL,
                    resource_id text NOT NULL,
                    occurred_at timestamptz NOT NULL,
                    payload text NOT NULL,
                    source text NOT NULL CHECK (source IN ('webhook', 'reconciliation')),
                    first_received_at timestamptz,
                    recorded_at timestamptz NOT NULL,
                    run_id text,
                    PRIMARY KEY (provider, event_id)
                )
                """,
                "CREATE INDEX event_occurred ON event (provider, occurred_at)",
                "CREATE INDEX event_resource ON event (provider, resource_type, resource_id)",
                """
                CREATE TABLE resource_state (
                    provider text NOT NULL,
                    resource_type text NOT NULL,
                    resource_id text NOT NULL,
                    status text,
                    as_of timestamptz NOT NULL,
                    object text NOT NULL DEFAULT '{}',
                    amount_minor bigint,
                    currency text CHECK (currency IS NULL OR length(currency) = 3),
                    updated_by text NOT NULL DEFAULT 'application',
                    updated_at timestamptz NOT NULL DEFAULT now(),
                    PRIMARY KEY (provider, resource_type, resource_id)
                )
                """,
                "CREATE INDEX resource_state_as_of ON resource_state (provider, as_of)",
                """
                CREATE TABLE run (
                    id text PRIMARY KEY,
                    seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
                    job text NOT NULL,
                    command text NOT NULL,
                    started_at timestamptz NOT NULL,
                    finished_at timestamptz,
                    now timestamptz NOT NULL,
                    since timestamptz NOT NULL,
                    until timestamptz NOT NULL,
                    dry_run boolean NOT NULL,
                    status text NOT NULL,
                    exit_status integer,
                    report text
                )
                """,
                "CREATE INDEX run_job ON run (job, started_at)",
                """
                CREATE TABLE finding (
                    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    run_id text NOT NULL REFERENCES run (id) ON DELETE CASCADE,
                    job text NOT NULL,
                    finding_key text NOT NULL,
                    kind text NOT NULL,
                    provider text,
                    resource_type text,
                    resource_id text,
                    event_id text,
                    delivery_id bigint,
                    is_new boolean NOT NULL,
                    repaired boolean NOT NULL,
                    details text NOT NULL
                )
                """,
                "CREATE INDEX finding_job_key ON finding (job, finding_key)",
                "CREATE INDEX finding_run ON finding (run_id)",
                """
                CREATE TABLE repair (
                    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    run_id text NOT NULL REFERENCES run (id) ON DELETE CASCADE,
                    provider text NOT NULL,
                    resource_type text NOT NULL,
                    resource_id text NOT NULL,
                    event_id text,
                    action text NOT NULL,
                    before text,
                    after text,
                    at timestamptz NOT NULL
                )
                """,
                "CREATE INDEX repair_run ON repair (run_id)",
                """
                CREATE TABLE provider_key (
                    provider text NOT NULL,
                    key_id text NOT NULL,
                    algorithm text NOT NULL,
                    public_key text NOT NULL,
                    fetched_at timestamptz NOT NULL,
                    not_found_at timestamptz,
                    PRIMARY KEY (provider, key_id)
                )
                """,
                """
                CREATE TABLE backfill (
                    id text PRIMARY KEY,
                    job text NOT NULL,
                    provider text NOT NULL,
                    since timestamptz NOT NULL,
                    until timestamptz NOT NULL,
                    status text NOT NULL CHECK (status IN ('running', 'complete')),
                    started_at timestamptz NOT NULL,
                    updated_at timestamptz NOT NULL
                )
                """,
                """
                CREATE TABLE backfill_page (
                    backfill_id text NOT NULL REFERENCES backfill (id) ON DELETE CASCADE,
                    request_key text NOT NULL,
                    status integer NOT NULL,
                    body bytea NOT NULL,
                    saved_at timestamptz NOT NULL,
                    PRIMARY KEY (backfill_id, request_key)
                )
                """,
            ]
        ),
        (
            "v2 the entries each run read, and rounds of shared runs",
            [
                "ALTER TABLE run ADD COLUMN round text",
                "CREATE INDEX run_round ON run (job, round) WHERE round IS NOT NULL",
                """
                CREATE TABLE run_entry (
                    seq bigint GENERATED ALWAYS AS IDENTITY,
                    run_id text NOT NULL REFERENCES run (id) ON DELETE CASCADE,
                    job text NOT NULL,
                    round text,
                    provider text NOT NULL,
                    status text NOT NULL,
                    report text,
                    PRIMARY KEY (run_id, provider)
                )
                """,
                "CREATE INDEX run_entry_provider ON run_entry (job, provider, status)",
                // An entry is recorded once per round, whatever two hosts believe.
                """
                CREATE UNIQUE INDEX run_entry_once ON run_entry (job, round, provider)
                WHERE round IS NOT NULL AND status <> 'interrupted'
                """,
                // The rounds of shared runs; the host that wrote a round's row started it.
                """
                CREATE TABLE job_round (
                    job text NOT NULL,
                    round text NOT NULL,
                    started_at timestamptz NOT NULL,
                    PRIMARY KEY (job, round)
                )
                """,
            ]
        ),
    ]

    /// Applies the migrations the store at `location` lacks, in one transaction on `connection`.
    ///
    /// Under a transaction-level advisory lock (``ClaimKey/migrations``), so that hosts starting
    /// at once migrate one after another: the second finds the work done. A store that records a
    /// migration this build does not know was written by a newer build, and is refused as it is.
    ///
    /// - Returns: whether the schema held a store before (`reconcile_migration` was there).
    /// - Throws: ``NoStoreYet`` when there was none and `creation` does not allow one.
    static func migrate(
        on connection: PostgresConnection,
        location: String,
        creation: StoreLocation.Creation,
        logger: Logger
    ) async throws -> Bool {
        let known = migrations.map(\.name)
        let (existed, applied) = try await connection.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(ClaimKey.migrations))", logger: logger)
            var existed = false
            let found = try await connection.query(
                "SELECT to_regclass('reconcile_migration') IS NOT NULL",
                logger: logger
            )
            for try await there in found.decode(Bool.self) { existed = there }
            if !existed, creation != .allowed { throw NoStoreYet(creation: creation) }
            try await connection.query(
                """
                CREATE TABLE IF NOT EXISTS reconcile_migration (
                    name text PRIMARY KEY,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """,
                logger: logger
            )
            var done: Set<String> = []
            let rows = try await connection.query("SELECT name FROM reconcile_migration", logger: logger)
            for try await name in rows.decode(String.self) { done.insert(name) }
            if let unknown = done.subtracting(known).sorted().first {
                throw StoreFailure(
                    "open \(location)",
                    reason: "its schema was written by a newer version of reconcile (migration \"\(unknown)\"); "
                        + "this build leaves it as it is: run that version or a later one"
                )
            }
            var applied: [String] = []
            for migration in migrations where !done.contains(migration.name) {
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query(
                    "INSERT INTO reconcile_migration (name) VALUES (\(migration.name))",
                    logger: logger
                )
                applied.append(migration.name)
            }
            return (existed, applied)
        }
        if !applied.isEmpty {
            logger.info("store.migrated", metadata: ["store": "\(location)", "migrations": "\(applied)"])
        }
        return existed
    }

    /// The schema holds no store, and the command may not start one (`run` without
    /// `--create-store`, or a command that only reads).
    struct NoStoreYet: Error {
        var creation: StoreLocation.Creation
    }
}
