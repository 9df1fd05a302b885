import Foundation

/// Everything the commands ask of a job's store, whatever engine keeps it: the parts below, together.
///
/// The reconciliation (``Ingestor``, `ProviderReconciler`, ``JobRunner``, the readers and the
/// command-line tool) holds an `any ReconcileStore` and never knows which engine answers.
/// ``Store`` is the SQLite engine; docs/postgres.md describes the PostgreSQL one this contract is
/// shaped for. Requirements are `async` because a server engine answers over the network; a
/// synchronous method satisfies them as it is, so SQLite's are the methods it always had.
///
/// What holds on every engine (docs/contract.md is the outside contract):
/// - each method that changes anything is one transaction: a failure or a kill leaves all of it
///   or none of it. The one exception is PostgreSQL's ``RunStore/applyRepairs(_:provider:runID:at:)``,
///   committed 500 repairs at a time (events and rows together, so a plan of up to 500 is whole) so
///   that the application's writes wait on few rows; a failed batch's ``StoreFailure`` lists the
///   repairs committed before it;
/// - failures are ``StoreFailure``s that name the operation, never a secret;
/// - a repair never moves a resource's row to an older `asOf` than it has.
public typealias ReconcileStore =
    IngestStore & ProviderKeyStore & LocalStateStore & RunStore & BackfillStore & FindingStore

/// What every engine's store is.
public protocol StoreEngine: AnyObject, Sendable {
    /// Where the store is, for messages: a file's path, or a server URL without its password.
    var location: String { get }
}

/// Recording captured deliveries, their events and the local state they lead to.
public protocol IngestStore: StoreEngine {
    /// Fits the store to a long series of batch transactions; only speed changes, never what a commit guarantees.
    func prepareForIngest() async throws(StoreFailure)

    /// Called once a stream is ingested, with how many of its lines were new deliveries accepted:
    /// where the engine plans queries from statistics, it brings them up to date when the ingest
    /// grew the store markedly, so that the run that often follows (a backfill after an outage) is
    /// not planned for the store as it was. Never fails the ingest, whose lines are recorded by then.
    func finishIngest(acceptedLines: Int) async

    /// Records a batch of lines in one transaction and applies accepted events to local state.
    ///
    /// A line seen before (same bytes) is not recorded again. `apply` returns the state an event
    /// leads to, or nil when it must not change the row; it is not asked for an event whose record
    /// was prepared with its row. Outcomes are in the order of `batch`.
    func record(
        _ batch: [IngestRecord],
        recordedAt: Date,
        apply: @escaping @Sendable (String, ProviderEvent, LocalResource?) -> LocalResource?
    ) async throws(StoreFailure) -> [IngestOutcome]
    /// Deliveries by provider and verdict.
    func deliveryCounts() async throws(StoreFailure) -> [DeliveryCount]
    /// When the newest delivery was received, if any.
    func newestReceipt() async throws(StoreFailure) -> Date?
}

/// Providers' published signature keys, and the key ids they answered 404 for.
public protocol ProviderKeyStore: StoreEngine {
    /// The public key `keyID` of `provider` kept from an earlier fetch, or nil.
    func providerKey(provider: String, keyID: String) async throws(StoreFailure) -> String?
    /// Keeps a fetched key; it replaces a remembered "not found".
    func saveProviderKey(
        provider: String,
        keyID: String,
        algorithm: String,
        publicKey: String,
        at time: Date
    ) async throws(StoreFailure)
    /// When the provider last answered 404 for `keyID`, or nil when it did not (or the key is known).
    func providerKeyNotFound(provider: String, keyID: String) async throws(StoreFailure) -> Date?
    /// Remembers that the provider answered 404 for `keyID` at `time`; a known key is never replaced.
    func saveProviderKeyNotFound(provider: String, keyID: String, at time: Date) async throws(StoreFailure)
}

/// What a run reads of the local records: events, deliveries and resource rows.
public protocol LocalStateStore: StoreEngine {
    /// The stored events of `provider` among `ids`, in no particular order.
    func events(provider: String, ids: [String]) async throws(StoreFailure) -> [LocalEvent]
    /// Every stored event of the resources `keys`, in no particular order.
    func events(provider: String, ofResources keys: [ResourceKey]) async throws(StoreFailure) -> [LocalEvent]
    /// Which of `ids` the store records as events of `provider`.
    ///
    /// `occurred`, when given, is where the events' provider times lie (a page of a list): a store
    /// may look there first, by time, and by id only for those it does not find there. The answer
    /// is the same with it or without it.
    func recordedEventIDs(provider: String, among ids: [String], occurred: ClosedRange<Date>?)
        async throws(StoreFailure)
        -> Set<ExactID>
    /// The resources with an event with provider time in `[since, until)`, and whether one came by webhook.
    func resourcesWithEvents(provider: String, since: Date, until: Date) async throws(StoreFailure) -> [(
        key: ResourceKey, webhook: Bool
    )]
    /// The resources whose local row is as of a time in `[since, until)`.
    func resourceKeys(provider: String, asOfSince since: Date, until: Date) async throws(StoreFailure) -> [ResourceKey]
    /// The local rows of `keys` that exist.
    func resources(provider: String, keys: [ResourceKey]) async throws(StoreFailure) -> [ResourceKey: LocalResource]
    /// Rejected deliveries received in `[since, until)`, of one provider or (nil) of none.
    func rejectedDeliveries(provider: String?, since: Date, until: Date) async throws(StoreFailure)
        -> [RejectedDelivery]
    /// Events of the window delivered validly more than once.
    func duplicatedEvents(provider: String, since: Date, until: Date) async throws(StoreFailure) -> [DuplicatedEvent]
}

/// Runs: their start and end, their repairs, the findings they reported, and retention.
public protocol RunStore: StoreEngine {
    /// Records the start of a run; returns the runs of `job` that never finished, with how many
    /// repairs each had applied.
    ///
    /// A shared run (`run --shard`) names its `round`: the live runs of the same round are other
    /// hosts' parts of the night, not crashed runs. Nil for a run that has the job to itself.
    func beginRun(
        id: String,
        job: String,
        command: String,
        round: String?,
        startedAt: Date,
        now: Date,
        since: Date,
        until: Date,
        dryRun: Bool
    ) async throws(StoreFailure) -> [(id: String, repairs: Int)]
    /// Applies one provider's planned repairs in one transaction; returns the finding keys repaired
    /// (byte by byte: two spellings of one accented id are two findings).
    func applyRepairs(_ plan: RepairPlan, provider: String, runID: String, at time: Date) async throws(StoreFailure)
        -> Set<ExactID>
    /// Records how a run ended, with the entries it read, its findings and its report.
    func finishRun(
        id: String,
        status: String,
        exitStatus: Int32,
        finishedAt: Date,
        entries: [RunEntry],
        findings: [Finding],
        report: [UInt8]
    ) async throws(StoreFailure)
    /// The newest runs of `job`, newest first.
    func runs(job: String, limit: Int) async throws(StoreFailure) -> [RunSummary]
    /// The ids of every run of `job` the store keeps.
    func runIDs(job: String) async throws(StoreFailure) -> Set<String>
    /// One run by id, or the newest finished run of `job` when `id` is nil.
    func run(job: String, id: String?) async throws(StoreFailure) -> RunSummary?
    /// When each finding key was first reported by a run of `job` other than `runID` (keys byte by byte).
    func firstReported(job: String, keys: [String], excludingRun runID: String) async throws(StoreFailure)
        -> [ExactID: Date]
    /// The findings of the previous comparable run of `job` (same command; same window when given).
    func previousRunFindings(
        job: String,
        command: String,
        sameWindow: (since: Date, until: Date)?,
        excludingRun runID: String
    ) async throws(StoreFailure) -> [ReportedFinding]
    /// For each of `entries`, its findings from the latest non-dry nightly run of `job` that read
    /// it whole (a complete `run`, or a nightly run that recorded it `complete`);
    /// ``RunEntry/otherLines`` stands for the findings naming none of `providers`.
    func previousEntryFindings(job: String, entries: [String], providers: Set<String>, excludingRun runID: String)
        async throws(StoreFailure) -> [ReportedFinding]
    /// Whether a run of `job` in `round` has read `entry` (recorded it `complete` or `failed`).
    func entryRead(job: String, round: String, entry: String) async throws(StoreFailure) -> Bool
    /// Round `named` of `job`'s shared runs (the newest when nil), with the entries they recorded.
    func round(job: String, named: String?) async throws(StoreFailure) -> StoredRound?
    /// Records one entry a shared run has read, with its findings, in one transaction; false,
    /// recording nothing, when a run of the same round recorded it first.
    func recordEntry(_ entry: RunEntry, runID: String, findings: [Finding]) async throws(StoreFailure) -> Bool
    /// When `command` last completed for `job` (not a dry run).
    func lastSuccess(job: String, command: String) async throws(StoreFailure) -> Date?
    /// Removes what is older than the cutoffs, after a complete run, keeping what is still needed.
    func prune(job: String, cutoffs: RetentionCutoffs, openKeys: [String]) async throws(StoreFailure) -> PruneSummary
}

/// Backfills, and the provider's answers kept so that an interrupted one resumes.
public protocol BackfillStore: StoreEngine {
    /// Starts or resumes a backfill; `restart` first forgets every answer kept for it.
    func beginBackfill(
        id: String,
        job: String,
        provider: String,
        since: Date,
        until: Date,
        restart: Bool,
        at time: Date
    ) async throws(StoreFailure) -> BackfillState
    /// Marks a backfill complete and forgets its kept answers.
    func completeBackfill(id: String, at time: Date) async throws(StoreFailure)
    /// The `until` of the newest unfinished backfill of `provider` from `since`, if any.
    func unfinishedBackfillUntil(job: String, provider: String, since: Date) async throws(StoreFailure) -> Date?
    /// The provider's answer kept for `requestKey` of backfill `backfillID`, if any.
    func checkpoint(backfillID: String, requestKey: String) async throws(StoreFailure) -> HTTPResponse?
    /// Keeps the provider's answer to `requestKey` of backfill `backfillID`.
    func saveCheckpoint(_ response: HTTPResponse, backfillID: String, requestKey: String, at time: Date)
        async throws(StoreFailure)
}

/// Findings across nights, with the repairs and deliveries behind them.
public protocol FindingStore: StoreEngine {
    /// Every finding `job` reported, each with its occurrences run by run; `providers`, the job's
    /// entries, tell a provider's findings from the other lines' (``RunEntry/otherLines``).
    func findingHistories(job: String, providers: Set<String>) async throws(StoreFailure) -> [FindingHistory]
    /// The repairs applied for a finding.
    func repairs(of history: FindingHistory) async throws(StoreFailure) -> [RepairRecord]
    /// The deliveries behind a finding.
    func deliveries(of history: FindingHistory) async throws(StoreFailure) -> [DeliveryRecord]
}

extension Store: ReconcileStore {
    public var location: String { path }

    public func prepareForIngest() throws(StoreFailure) { try tuneForIngest() }

    /// Nothing: the store keeps no planner statistics (it never runs `ANALYZE`) to go stale.
    public func finishIngest(acceptedLines: Int) {}

    /// Writes on a thread of its own: the write blocks until SQLite is done, and the cooperative
    /// pool's threads (one per core) are left to verify the next batch meanwhile.
    public func record(
        _ batch: [IngestRecord],
        recordedAt: Date,
        apply: @escaping @Sendable (String, ProviderEvent, LocalResource?) -> LocalResource?
    ) async throws(StoreFailure) -> [IngestOutcome] {
        let result = await withCheckedContinuation {
            (continuation: CheckedContinuation<Result<[IngestOutcome], StoreFailure>, Never>) in
            DispatchQueue.global().async {
                continuation.resume(
                    returning: Result { () throws(StoreFailure) in
                        try self.ingest(batch, recordedAt: recordedAt, apply: apply)
                    }
                )
            }
        }
        return try result.get()
    }
}
