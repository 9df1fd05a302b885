import Foundation

/// `report.json`: the contract's report, exactly as job.md shows it.
public struct RunReport: Codable, Sendable {
    public struct RunInfo: Codable, Sendable {
        public var id: String
        public var job: String
        public var startedAt: String
        public var finishedAt: String?
        public var now: String
        public var dryRun: Bool
        /// Whether the run repaired what it found (not a dry run, and the job's `repair` on); nil in
        /// reports written before it was recorded, where it was `!dryRun` unless the job said otherwise.
        public var repair: Bool?
        public var status: String
        /// The absolute path of the store the run used (relative job paths are resolved once).
        public var store: String?

        enum CodingKeys: String, CodingKey {
            case id, job, now, status, store
            case startedAt = "started_at"
            case finishedAt = "finished_at"
            case dryRun = "dry_run"
            case repair
        }
    }

    public struct Window: Codable, Sendable {
        public var since: String
        public var until: String
    }

    public struct ProviderSection: Codable, Sendable {
        public var name: String
        public var kind: String
        /// `complete` or `failed`.
        public var status: String
        public var window: Window
        public var apiRequests: Int
        public var error: String?
        /// Requests by outcome, for the metrics file (not in report.json).
        public var requestOutcomes: [String: Int] = [:]
        /// What was verified and from which source; nil when the provider failed before reading.
        public var coverage: Coverage?

        enum CodingKeys: String, CodingKey {
            case name, kind, status, window, error, coverage
            case apiRequests = "api_requests"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .name)
            try container.encode(kind, forKey: .kind)
            try container.encode(status, forKey: .status)
            try container.encode(window, forKey: .window)
            try container.encode(apiRequests, forKey: .apiRequests)
            try container.encode(error, forKey: .error)
            try container.encodeIfPresent(coverage, forKey: .coverage)
        }
    }

    /// What one provider's section verified: events from the event log, resources from the read API.
    ///
    /// A window that starts before the provider's event log reaches says so (`events.since` later
    /// than the window's, and `note`): events older than the log were not verified, and are not
    /// reported as missing.
    public struct Coverage: Codable, Sendable {
        public struct Span: Codable, Sendable {
            public var since: String
            public var until: String
            /// `event_log` or `read_api`.
            public var source: String
        }

        /// Events checked against the provider's event log; nil for a provider without one.
        public var events: Span?
        public var resources: Span
        /// Answers served from an interrupted backfill's checkpoints.
        public var checkpointAnswers: Int
        public var note: String?

        enum CodingKeys: String, CodingKey {
            case events, resources, note
            case checkpointAnswers = "checkpoint_answers"
        }

        init(adapter: any ProviderAdapter, since: Date, until: Date, eventSince: Date, kept: Int) {
            let end = RFC3339.format(until)
            events =
                adapter.hasEventLog ? Span(since: RFC3339.format(eventSince), until: end, source: "event_log") : nil
            resources = Span(since: RFC3339.format(since), until: end, source: "read_api")
            checkpointAnswers = kept
            if !adapter.hasEventLog {
                note = "no event log: lost events show as state_mismatch or missing_locally"
            } else if eventSince > since {
                note =
                    "events before \(RFC3339.format(eventSince)) are older than the provider's event log "
                    + "and were not verified; resources were"
            } else {
                note = nil
            }
        }
    }

    /// The schema this build writes.
    public static let currentSchema = "webhook-reconcile-report/1"

    public var schema = RunReport.currentSchema
    public var run: RunInfo
    public var providers: [ProviderSection]
    public var counts: [String: Int]
    public var repairs: Int
    public var findings: [Finding]
    /// Findings the previous complete run reported that this run no longer finds (repaired, or out of the window).
    public var resolved: [ReportedFinding] = []

    public init(
        run: RunInfo,
        providers: [ProviderSection],
        counts: [String: Int],
        repairs: Int,
        findings: [Finding],
        resolved: [ReportedFinding] = []
    ) {
        self.run = run
        self.providers = providers
        self.counts = counts
        self.repairs = repairs
        self.findings = findings
        self.resolved = resolved
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        schema = try container.decode(String.self, forKey: .schema)
        run = try container.decode(RunInfo.self, forKey: .run)
        providers = try container.decode([ProviderSection].self, forKey: .providers)
        counts = try container.decode([String: Int].self, forKey: .counts)
        repairs = try container.decode(Int.self, forKey: .repairs)
        findings = try container.decode([Finding].self, forKey: .findings)
        resolved = try container.decodeIfPresent([ReportedFinding].self, forKey: .resolved) ?? []
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(schema, forKey: .schema)
        try container.encode(run, forKey: .run)
        try container.encode(providers, forKey: .providers)
        try container.encode(counts, forKey: .counts)
        try container.encode(repairs, forKey: .repairs)
        try container.encode(findings, forKey: .findings)
        try container.encode(resolved, forKey: .resolved)
    }

    enum CodingKeys: String, CodingKey {
        case schema, run, providers, counts, repairs, findings, resolved
    }

    /// The report as pretty, key-sorted JSON text.
    public func jsonText() -> String {
        String(decoding: jsonBytes(), as: UTF8.self)
    }

    /// The report as pretty, key-sorted JSON, ending in a new line: the bytes `JSONEncoder` writes
    /// with `[.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]`, and a new line.
    ///
    /// Findings are written one at a time, straight into the one buffer: the encoder's tree of a
    /// whole report, its `Data` and a `String` copy of it were the peak of a large run's memory
    /// (docs/performance.md). A test compares these bytes with the encoder's.
    public func jsonBytes() -> [UInt8] {
        var bytes: [UInt8] = []
        // Only what is written becomes resident: a generous reserve costs address space, not memory,
        // and spares the copies of a growing buffer.
        bytes.reserveCapacity(65_536 + findings.count * 1_024 + resolved.count * 320)
        bytes.append(contentsOf: "{\n".utf8)
        // In key order, as `.sortedKeys` writes them.
        Self.writeMember("counts", .object(counts.mapValues { .integer(Int64($0)) }), into: &bytes)
        bytes.append(contentsOf: ",\n".utf8)
        Self.writeArray("findings", findings, into: &bytes) { $0.jsonValue }
        bytes.append(contentsOf: ",\n".utf8)
        Self.writeMember("providers", JSONValue(encoding: providers), into: &bytes)
        bytes.append(contentsOf: ",\n".utf8)
        Self.writeMember("repairs", .integer(Int64(repairs)), into: &bytes)
        bytes.append(contentsOf: ",\n".utf8)
        Self.writeArray("resolved", resolved, into: &bytes) { $0.jsonValue }
        bytes.append(contentsOf: ",\n".utf8)
        Self.writeMember("run", JSONValue(encoding: run), into: &bytes)
        bytes.append(contentsOf: ",\n".utf8)
        Self.writeMember("schema", .string(schema), into: &bytes)
        bytes.append(contentsOf: "\n}\n".utf8)
        return bytes
    }

    private static func writeMember(_ key: String, _ value: JSONValue, into bytes: inout [UInt8]) {
        JSONValue.writePrettyKey(key, into: &bytes, indent: 2)
        value.writePretty(into: &bytes, indent: 2)
    }

    /// Writes `key` and its array one element at a time.
    private static func writeArray<Element>(
        _ key: String,
        _ elements: [Element],
        into bytes: inout [UInt8],
        value: (Element) -> JSONValue
    ) {
        JSONValue.writePrettyKey(key, into: &bytes, indent: 2)
        JSONValue.writePrettyArray(elements, into: &bytes, indent: 2, value: value)
    }

    /// Decodes a stored report.
    public static func decode(_ text: String) -> RunReport? {
        try? JSONDecoder().decode(RunReport.self, from: Data(text.utf8))
    }

    /// Counts per kind, only kinds present.
    static func counts(of findings: [Finding]) -> [String: Int] {
        var counts: [String: Int] = [:]
        for finding in findings { counts[finding.kind.rawValue, default: 0] += 1 }
        return counts
    }
}
