import Foundation

/// The job's metrics file: Prometheus text exposition format, one snapshot per run.
///
/// Values describe the last run (gauges), plus what the store holds; a node exporter's textfile
/// collector or any scraper of the file reads them. Written atomically after the reports.
public enum PrometheusMetrics {
    /// What the metrics of one run are made of.
    public struct Snapshot: Sendable {
        public var job: String
        public var report: RunReport
        public var exitStatus: Int32
        public var startedAt: Date
        public var finishedAt: Date
        /// When the last run with status `complete` finished (this one, when it did).
        public var lastSuccess: Date?
        /// Stored deliveries by provider and verdict (`accepted`, `rejected`).
        public var deliveries: [DeliveryCount]
    }

    /// Every outcome a read-API request can have (``HTTPClient/outcomeName(_:)``).
    static let requestOutcomes = [
        "ok", "not_found", "rate_limited", "unauthorized", "client_error", "server_error", "timeout",
        "connection_error", "refused", "cancelled",
    ]

    /// The label that names the job (not `job`, which Prometheus sets itself when it scrapes).
    static let jobLabel = "reconcile_job"

    /// The metrics text of `snapshot`.
    ///
    /// Every series is present on every run, with 0 where nothing happened: each provider of the
    /// run with each finding kind, each request outcome and each delivery verdict, and the
    /// last-success time (0 until a run succeeds), so an alert on any of them can fire from the
    /// first run on.
    public static func render(_ snapshot: Snapshot) -> String {
        var out = MetricsText()
        let job = [(jobLabel, snapshot.job)]
        out.gauge(
            "reconcile_last_run_timestamp_seconds",
            "When the last run finished, Unix seconds.",
            [(job, seconds(snapshot.finishedAt))]
        )
        out.gauge(
            "reconcile_last_success_timestamp_seconds",
            "When the last complete run finished, Unix seconds; 0 until a run completes.",
            [(job, snapshot.lastSuccess.map(seconds) ?? 0)]
        )
        out.gauge(
            "reconcile_last_run_duration_seconds",
            "How long the last run took.",
            [(job, snapshot.finishedAt.timeIntervalSince(snapshot.startedAt))]
        )
        out.gauge(
            "reconcile_last_run_exit_status",
            "Exit status of the last run.",
            [(job, Double(snapshot.exitStatus))]
        )
        out.gauge(
            "reconcile_last_run_complete",
            "1 when the last run completed for every provider, else 0.",
            [(job, snapshot.report.run.status == "complete" ? 1 : 0)]
        )
        let sections = snapshot.report.providers
        out.gauge(
            "reconcile_provider_complete",
            "1 when the provider was reconciled completely in the last run, else 0.",
            sections.map { (job + [("provider", $0.name)], $0.status == "complete" ? 1 : 0) }
        )
        // Every (provider, kind) pair starts at 0; a finding naming no provider of the job (an
        // unknown provider's delivery) adds its own pairs.
        var findings: [PairKey: (all: Int, new: Int)] = [:]
        var repairs: [String: Int] = [:]
        for section in sections {
            repairs[section.name] = 0
            for kind in FindingKind.allCases { findings[PairKey(section.name, kind.rawValue)] = (0, 0) }
        }
        for finding in snapshot.report.findings {
            let key = PairKey(finding.provider ?? "", finding.kind.rawValue)
            findings[key, default: (0, 0)].all += 1
            if finding.isNew { findings[key, default: (0, 0)].new += 1 }
            if finding.repaired { repairs[finding.provider ?? "", default: 0] += 1 }
        }
        let findingKeys = findings.keys.sorted()
        out.gauge(
            "reconcile_findings",
            "Findings of the last run by provider and kind.",
            findingKeys.map { (job + [("provider", $0.first), ("kind", $0.second)], Double(findings[$0]?.all ?? 0)) }
        )
        out.gauge(
            "reconcile_findings_new",
            "Findings of the last run that no earlier run reported.",
            findingKeys.map { (job + [("provider", $0.first), ("kind", $0.second)], Double(findings[$0]?.new ?? 0)) }
        )
        out.gauge(
            "reconcile_repairs",
            "Repairs the last run made, by provider.",
            repairs.keys.sorted().map { (job + [("provider", $0)], Double(repairs[$0] ?? 0)) }
        )
        var requests: [(labels: [(String, String)], value: Double)] = []
        for section in sections {
            let outcomes = Set(requestOutcomes).union(section.requestOutcomes.keys).sorted()
            for outcome in outcomes {
                let count = section.requestOutcomes[outcome] ?? 0
                requests.append((job + [("provider", section.name), ("outcome", outcome)], Double(count)))
            }
        }
        out.gauge("reconcile_api_requests", "Read-API requests of the last run by provider and outcome.", requests)
        var deliveries: [PairKey: Int] = [:]
        for section in sections {
            for verdict in ["accepted", "rejected"] { deliveries[PairKey(section.name, verdict)] = 0 }
        }
        for count in snapshot.deliveries { deliveries[PairKey(count.provider, count.verdict)] = count.count }
        out.gauge(
            "reconcile_deliveries_stored",
            "Captured delivery lines in the store by provider and verdict.",
            deliveries.keys.sorted().map {
                (job + [("provider", $0.first), ("verdict", $0.second)], Double(deliveries[$0] ?? 0))
            }
        )
        return out.text
    }

    /// Two label values, compared and ordered by the first then the second, byte by byte: two
    /// spellings of one accented provider name (an unknown provider's lines) are two series.
    struct PairKey: Hashable, Comparable {
        private var key: ResourceKey
        var first: String { key.type }
        var second: String { key.id }

        init(_ first: String, _ second: String) { key = ResourceKey(first, second) }

        static func < (lhs: PairKey, rhs: PairKey) -> Bool { lhs.key < rhs.key }
    }

    static func seconds(_ date: Date) -> Double { (date.timeIntervalSince1970 * 1000).rounded() / 1000 }
}

/// Prometheus text, family by family.
struct MetricsText {
    private(set) var text = ""

    mutating func gauge(_ name: String, _ help: String, _ samples: [(labels: [(String, String)], value: Double)]) {
        text += "# HELP \(name) \(help)\n# TYPE \(name) gauge\n"
        for sample in samples {
            let labels = sample.labels.map { "\($0.0)=\"\(Self.escape($0.1))\"" }.joined(separator: ",")
            text += "\(name){\(labels)} \(Self.format(sample.value))\n"
        }
    }

    static func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    static func format(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }
}

/// Stored deliveries of one provider with one verdict.
public struct DeliveryCount: Sendable, Equatable {
    public var provider: String
    public var verdict: String
    public var count: Int
}
