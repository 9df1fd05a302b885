import Foundation
import Logging

/// What one ingest did, per delivery line.
public struct IngestSummary: Sendable {
    public struct Rejection: Sendable, Equatable {
        public var source: String
        public var lineNumber: Int
        public var reason: RejectionReason
        public var detail: String
    }

    public var accepted = 0
    public var duplicates = 0
    public var rejections: [Rejection] = []

    public init() {}

    /// How many lines were recorded: accepted, duplicates and rejected.
    public var lines: Int { accepted + duplicates + rejections.count }

    /// 0 when every line was accepted or a duplicate, 1 when some were rejected.
    public var exitStatus: Int32 { rejections.isEmpty ? 0 : 1 }
}

/// Reads capture files line by line, verifies each delivery with its provider's adapter and
/// records them in batched transactions.
public struct Ingestor: Sendable {
    let job: JobConfig
    /// The job's entries by name, byte by byte: Swift's `String` takes U+212A KELVIN SIGN for "K",
    /// and a line stored under the other name would be reconciled under neither.
    let adapters: [ExactID: any ProviderAdapter]
    let store: any ReconcileStore
    let clock: JobClock
    let logger: Logger
    let batchSize: Int
    let keys: PublicKeyRing

    public init(
        job: JobConfig,
        adapters: [String: any ProviderAdapter],
        store: any ReconcileStore,
        clock: JobClock,
        logger: Logger,
        batchSize: Int = 500
    ) {
        self.job = job
        self.adapters = Dictionary(
            adapters.map { (ExactID($0.key), $0.value) },
            uniquingKeysWith: { first, _ in first }
        )
        self.store = store
        self.clock = clock
        self.logger = logger
        self.batchSize = max(1, batchSize)
        self.keys = PublicKeyRing(store: store, logger: logger, now: clock.now)
    }

    /// Ingests one stream; `source` names it in messages (a path, or `-` for standard input).
    ///
    /// Throws ``StoreFailure`` when the store fails (the failed batch is not applied at all),
    /// ``ProviderError`` when a provider must supply a signing key and cannot, ``CaptureInputError``
    /// when the stream turns out not to be text or cannot be read, and ``IngestInterrupted`` at a
    /// signal; lines recorded before stay recorded (and counted in `summary`), so ingesting the same
    /// file again continues where it stopped.
    public func ingest(handle: FileHandle, source: String, into summary: inout IngestSummary) async throws {
        try await store.prepareForIngest()
        let acceptedBefore = summary.accepted
        var batch: [IngestRecord] = []
        batch.reserveCapacity(batchSize)
        // While one batch is written (one transaction; SQLite writes on a thread of its own), the next is read and
        // verified on two tasks: three threads share the two cores, batches stay whole and go in in order.
        var writing: BatchWrite?
        var lines = CaptureReader(handle: handle, source: source).makeIterator()
        func finish(_ batch: inout [IngestRecord], _ summary: inout IngestSummary) async throws {
            try await writing?.wait(into: &summary)
            writing = nil
            try await flush(&batch, into: &summary)
        }
        while true {
            // The next batch's lines, read first, then verified on two tasks at once.
            var pending: [CaptureLine] = []
            pending.reserveCapacity(batchSize)
            var unreadable: (any Error)?
            var interruptedAt: Int?
            var ended = false
            while pending.count < batchSize {
                let next: CaptureLine?
                do {
                    next = try lines.nextLine()
                } catch {
                    unreadable = error
                    break
                }
                guard let line = next else {
                    ended = true
                    break
                }
                if Interruption.shared.isRequested {
                    interruptedAt = line.lineNumber
                    break
                }
                pending.append(line)
            }
            // In line order, up to the first line that could not be judged (a key the provider could
            // not supply) or that a signal stopped; whatever stops the ingest, every line before it is recorded.
            for result in await records(pending, source: source) {
                switch result {
                case .success(let record): batch.append(record)
                case .failure(let error):
                    try await finish(&batch, &summary)
                    throw error
                }
            }
            if let unreadable {
                try await finish(&batch, &summary)
                throw unreadable
            }
            if let interruptedAt {
                try await finish(&batch, &summary)
                throw IngestInterrupted(source: source, lineNumber: interruptedAt)
            }
            if ended { break }
            try await writing?.wait(into: &summary)
            writing = BatchWrite(batch, ingestor: self)
            batch = []
            batch.reserveCapacity(batchSize)
        }
        try await finish(&batch, &summary)
        if lines.interrupted {
            throw IngestInterrupted(source: source, lineNumber: lines.lineNumber + 1)
        }
        await store.finishIngest(acceptedLines: summary.accepted - acceptedBefore)
    }

    /// The records of `lines`, in order, each verified and prepared for the store.
    ///
    /// The lines are split between two tasks, so that verification (HMAC, ECDSA or Ed25519, and
    /// parsing) uses both cores while the previous batch is written. The result stops at the first
    /// line that throws, or before the first line reached after a signal (``IngestInterrupted``):
    /// the lines after it are not recorded, as if they had not been read.
    func records(_ lines: [CaptureLine], source: String) async -> [Result<IngestRecord, any Error>] {
        let parts = lines.count >= 64 ? 2 : 1
        let size = (lines.count + parts - 1) / max(parts, 1)
        let slices = (0..<parts).map { part in
            lines[min(part * size, lines.count)..<min((part + 1) * size, lines.count)]
        }
        let done = await withTaskGroup(of: (Int, [Result<IngestRecord, any Error>]).self) { group in
            for (part, slice) in slices.enumerated() {
                group.addTask {
                    var results: [Result<IngestRecord, any Error>] = []
                    results.reserveCapacity(slice.count)
                    for line in slice {
                        // A signal stops the ingest between lines, however long a line's verification waits.
                        if Interruption.shared.isRequested {
                            results.append(.failure(IngestInterrupted(source: source, lineNumber: line.lineNumber)))
                            break
                        }
                        do {
                            results.append(.success(try await self.prepared(line, source: source)))
                        } catch {
                            results.append(.failure(error))
                            break
                        }
                    }
                    return (part, results)
                }
            }
            var done = Array(repeating: [Result<IngestRecord, any Error>](), count: slices.count)
            for await (part, results) in group { done[part] = results }
            return done
        }
        var ordered: [Result<IngestRecord, any Error>] = []
        ordered.reserveCapacity(lines.count)
        for results in done {
            ordered += results
            if case .failure? = results.last { break }
        }
        return ordered
    }

    /// One line's record, verified, with the text the store will write made (``IngestRecord/prepare(replacingStateWhole:)``).
    func prepared(_ line: CaptureLine, source: String) async throws -> IngestRecord {
        var record =
            line.oversized
            ? oversized(line, source: source)
            : try await self.record(line: line.bytes, lineNumber: line.lineNumber, source: source)
        record.prepare(
            replacingStateWhole: record.provider.flatMap { adapters[ExactID($0)] }?.replacesStateWithSnapshots ?? false
        )
        return record
    }

    /// One batch being written by the store while the caller goes on reading.
    struct BatchWrite {
        let records: [IngestRecord]
        let task: Task<[IngestOutcome], any Error>

        init(_ records: [IngestRecord], ingestor: Ingestor) {
            self.records = records
            self.task = Task { try await ingestor.write(records) }
        }

        /// Waits for the write and counts its lines; a store failure is thrown as it came.
        func wait(into summary: inout IngestSummary) async throws {
            let outcomes = try await task.value
            Ingestor.count(records, outcomes, into: &summary)
        }
    }

    /// The rejected record of a line longer than ``CaptureReader/maxLineLength``: only its first KiB is kept.
    func oversized(_ line: CaptureLine, source: String) -> IngestRecord {
        IngestRecord(
            fingerprint: line.oversizedFingerprint ?? CapturedDelivery.fingerprint(of: line.bytes),
            sourceName: source,
            lineNumber: line.lineNumber,
            provider: CapturedDelivery.salvageProvider(line.bytes),
            receivedAt: nil,
            method: nil,
            url: nil,
            headersJSON: nil,
            body: line.bytes,
            verdict: .rejected(
                .malformed,
                detail: "line is longer than \(CaptureReader.maxLineLength >> 20) MiB",
                hint: nil
            )
        )
    }

    private func flush(_ batch: inout [IngestRecord], into summary: inout IngestSummary) async throws(StoreFailure) {
        guard !batch.isEmpty else { return }
        Self.count(batch, try await write(batch), into: &summary)
        batch.removeAll(keepingCapacity: true)
    }

    /// Records one batch in one transaction.
    func write(_ batch: [IngestRecord]) async throws(StoreFailure) -> [IngestOutcome] {
        let adapters = self.adapters
        let outcomes = try await store.record(batch, recordedAt: clock.now) { provider, event, current in
            adapters[ExactID(provider)]?.applying(event, to: current)
        }
        logger.debug("ingest.batch", metadata: ["lines": "\(batch.count)"])
        return outcomes
    }

    static func count(_ batch: [IngestRecord], _ outcomes: [IngestOutcome], into summary: inout IngestSummary) {
        for (record, outcome) in zip(batch, outcomes) {
            switch outcome {
            case .accepted: summary.accepted += 1
            case .duplicate: summary.duplicates += 1
            case .rejected(let reason, let detail):
                summary.rejections.append(
                    .init(source: record.sourceName, lineNumber: record.lineNumber, reason: reason, detail: detail)
                )
            }
        }
    }

    func record(line: Data, lineNumber: Int, source: String) async throws -> IngestRecord {
        var record = IngestRecord(
            fingerprint: CapturedDelivery.fingerprint(of: line),
            sourceName: source,
            lineNumber: lineNumber,
            provider: nil,
            receivedAt: nil,
            method: nil,
            url: nil,
            headersJSON: nil,
            body: line,
            verdict: .rejected(.malformed, detail: "unreadable", hint: nil)
        )
        let delivery: CapturedDelivery
        do {
            delivery = try CapturedDelivery.parse(line: line)
        } catch {
            record.provider = error.provider
            record.receivedAt = error.receivedAt
            record.verdict = .rejected(.malformed, detail: error.detail, hint: nil)
            return record
        }
        record.provider = delivery.provider
        record.receivedAt = delivery.receivedAt
        record.method = delivery.method
        record.url = delivery.url
        record.headersJSON = JSONValue.object(delivery.headers.mapValues { .string($0) }).canonicalText
        record.body = delivery.body
        guard let adapter = adapters[ExactID(delivery.provider)] else {
            record.verdict = .rejected(
                .unknownProvider,
                detail: "provider '\(CapturedDelivery.printable(delivery.provider, 60))' is not an entry of the job",
                hint: nil
            )
            return record
        }
        if adapter.config.kind == .credicorp, let header = delivery.header("webhook-signature"),
            case let count = StandardWebhooksV1.signatureCount(header), count > StandardWebhooksV1.maxSignatures
        {
            // Refused before any MAC is computed: one line must not buy many verifications.
            record.verdict = .rejected(
                .badSignature,
                detail: "too many signatures (\(count) listed, at most \(StandardWebhooksV1.maxSignatures))",
                hint: CredicorpEventMapping.hint(body: delivery.body)
            )
            return record
        }
        record.verdict = try await adapter.verify(delivery, keys: keys)
        return record
    }
}

/// Ingest stopped at a signal: every line before `lineNumber` is recorded; ingesting the file again goes on.
public struct IngestInterrupted: ReconcileFailure {
    public var source: String
    public var lineNumber: Int
    public var exitStatus: Int32 { 3 }
    public var description: String {
        "ingest interrupted before \(source):\(lineNumber); the lines before it are recorded, ingest the file again to go on"
    }
}

/// The store failed during ingest (a full disk, a broken file): the lines before the failed batch are recorded.
public struct IngestStoreFailure: ReconcileFailure {
    /// The store's path.
    public var store: String
    /// What failed.
    public var failure: StoreFailure
    /// How many lines had been recorded (accepted, duplicate or rejected) before it.
    public var recorded: Int

    public init(store: String, failure: StoreFailure, recorded: Int) {
        self.store = store
        self.failure = failure
        self.recorded = recorded
    }

    public var exitStatus: Int32 { 3 }
    public var description: String {
        "store \(store) failed after \(recorded) recorded lines (\(failure)); the batch that failed was not applied, "
            + "ingest the same files again once the store is writable"
    }
}
