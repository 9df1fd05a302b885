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

    /// The metrics text of `snapshot`.
    public static func render(_ snapshot: Snapshot) -> String {
        var out = MetricsText()
        let job = [("job", snapshot.job)]
        out.gauge(
            "reconcile_last_run_timestamp_seconds",
            "When the last run finished, Unix seconds.",
            [(job, seconds(snapshot.finishedAt))]
        )
        out.gauge(
            "reconcile_last_success_timestamp_seconds",
            "When the last complete run finished, Unix seconds.",
            snapshot.lastSuccess.map { [(job, seconds($0))] } ?? []
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
        var findings: [String: (all: Int, new: Int)] = [:]
        var repairs: [String: Int] = [:]
        for section in sections { repairs[section.name] = 0 }
        for finding in snapshot.report.findings {
            let key = (finding.provider ?? "") + "\u{0}" + finding.kind.rawValue
            findings[key, default: (0, 0)].all += 1
            if finding.isNew { findings[key, default: (0, 0)].new += 1 }
            if finding.repaired { repairs[finding.provider ?? "", default: 0] += 1 }
        }
        let findingLabels = findings.keys.sorted().map { key -> [(String, String)] in
            let parts = key.split(separator: "\u{0}", omittingEmptySubsequences: false).map(String.init)
            return job + [("provider", parts[0]), ("kind", parts[1])]
        }
        out.gauge(
            "reconcile_findings",
            "Findings of the last run by provider and kind.",
            zip(findingLabels, findings.keys.sorted()).map { ($0, Double(findings[$1]?.all ?? 0)) }
        )
        out.gauge(
            "reconcile_findings_new",
            "Findings of the last run that no earlier run reported.",
            zip(findingLabels, findings.keys.sorted()).map { ($0, Double(findings[$1]?.new ?? 0)) }
        )
        out.gauge(
            "reconcile_repairs",
            "Repairs the last run made, by provider.",
            repairs.keys.sorted().map { (job + [("provider", $0)], Double(repairs[$0] ?? 0)) }
        )
        var requests: [(labels: [(String, String)], value: Double)] = []
        for section in sections {
            for (outcome, count) in section.requestOutcomes.sorted(by: { $0.key < $1.key }) {
                requests.append((job + [("provider", section.name), ("outcome", outcome)], Double(count)))
            }
        }
        out.gauge("reconcile_api_requests", "Read-API requests of the last run by provider and outcome.", requests)
        out.gauge(
            "reconcile_deliveries_stored",
            "Captured delivery lines in the store by provider and verdict.",
            snapshot.deliveries.map { (job + [("provider", $0.provider), ("verdict", $0.verdict)], Double($0.count)) }
        )
        return out.text
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
