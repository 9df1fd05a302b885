import Foundation
import ReconcileSandbox
import Testing

/// The job's `metrics` file, parsed back as Prometheus text after real runs.
@Suite(.serialized) struct MetricsCLITests {
    /// One sample line: family name, labels, value.
    struct Sample: Equatable {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    enum ParseError: Error, CustomStringConvertible {
        case bad(line: Int, String)
        var description: String {
            switch self {
            case .bad(let line, let text): "metrics line \(line): \(text)"
            }
        }
    }

    /// A strict reader of the text exposition format: every sample's family has a TYPE line
    /// before it, names and labels are well formed, values are numbers.
    static func parse(_ text: String) throws -> [Sample] {
        let name = /[a-zA-Z_:][a-zA-Z0-9_:]*/
        var typed: [String: String] = [:]
        var samples: [Sample] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = index + 1
            if line.isEmpty { continue }
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                guard parts.count == 4, (try? name.wholeMatch(in: String(parts[2]))) != nil,
                    ["gauge", "counter", "untyped", "histogram", "summary"].contains(String(parts[3])),
                    typed[String(parts[2])] == nil
                else { throw ParseError.bad(line: number, String(line)) }
                typed[String(parts[2])] = String(parts[3])
                continue
            }
            if line.hasPrefix("#") { continue }
            guard let match = line.wholeMatch(of: /([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)/),
                let value = Double(match.output.4)
            else { throw ParseError.bad(line: number, String(line)) }
            let family = String(match.output.1)
            guard typed[family] != nil else { throw ParseError.bad(line: number, "no TYPE for \(family)") }
            var labels: [String: String] = [:]
            if let body = match.output.3, !body.isEmpty {
                for pair in body.matches(of: /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/) {
                    labels[String(pair.output.1)] = String(pair.output.2)
                }
                let rebuilt = labels.count
                guard rebuilt == body.matches(of: /="/).count else { throw ParseError.bad(line: number, "labels") }
            }
            samples.append(Sample(name: family, labels: labels, value: value))
        }
        return samples
    }

    @Test func aRunWritesMetricsThatParseAndAgreeWithTheReport() async throws {
        try await CLIHarness.with(seed: 21, allProviders: true, jobExtra: "metrics: metrics/reconcile.prom") { cli in
            _ = try await cli.reconcile(["ingest", "job.yml", "captures.ndjson"])
            let run = try await cli.reconcile(["run", "job.yml", "--report-json", "r.json"])
            #expect(run.status == 1)
            let text = try String(contentsOf: cli.path("metrics/reconcile.prom"), encoding: .utf8)
            let samples = try Self.parse(text)
            let report = try cli.report("r.json")
            func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
                samples.first { sample in
                    sample.name == name && labels.allSatisfy { key, value in sample.labels[key] == value }
                }?.value
            }
            #expect(value("reconcile_last_run_exit_status", ["job": "cli"]) == Double(run.status))
            #expect(value("reconcile_last_run_complete") == 1)
            #expect((value("reconcile_last_success_timestamp_seconds") ?? 0) > 1_700_000_000)
            #expect((value("reconcile_last_run_duration_seconds") ?? -1) >= 0)
            let findings = report["findings"] as? [[String: Any]] ?? []
            for provider in ["credicorp", "crezco", "credify"] {
                let mine = findings.filter { $0["provider"] as? String == provider }
                for kind in Set(mine.compactMap { $0["kind"] as? String }) {
                    let count = mine.filter { $0["kind"] as? String == kind }.count
                    #expect(value("reconcile_findings", ["provider": provider, "kind": kind]) == Double(count))
                }
                let repaired = mine.filter { $0["repaired"] as? Bool == true }.count
                #expect(value("reconcile_repairs", ["provider": provider]) == Double(repaired))
                let section = (report["providers"] as? [[String: Any]])?.first { $0["name"] as? String == provider }
                let requests = samples.filter {
                    $0.name == "reconcile_api_requests" && $0.labels["provider"] == provider
                }
                #expect(requests.map(\.value).reduce(0, +) == Double(section?["api_requests"] as? Int ?? -1))
            }
            #expect((value("reconcile_deliveries_stored", ["provider": "crezco", "verdict": "rejected"]) ?? 0) > 0)
            for secret in cli.secrets { #expect(!text.contains(secret)) }

            // A failing provider shows in the next run's metrics, and the last success stays put.
            let success = value("reconcile_last_success_timestamp_seconds")
            await cli.server.setFaults([SandboxFault(.unauthorized, provider: "credify", times: nil)])
            let failed = try await cli.reconcile(["run", "job.yml"])
            #expect(failed.status == 3)
            let after = try Self.parse(String(contentsOf: cli.path("metrics/reconcile.prom"), encoding: .utf8))
            #expect(after.first { $0.name == "reconcile_last_run_exit_status" }?.value == 3)
            #expect(
                after.first { $0.name == "reconcile_provider_complete" && $0.labels["provider"] == "credify" }?.value
                    == 0
            )
            #expect(after.first { $0.name == "reconcile_last_success_timestamp_seconds" }?.value == success)
            let unauthorized = after.first {
                $0.name == "reconcile_api_requests" && $0.labels["provider"] == "credify"
                    && $0.labels["outcome"] == "unauthorized"
            }
            #expect(unauthorized?.value == 1, "401 fails fast: one request")
        }
    }

    @Test func theParserRefusesWhatIsNotPrometheusText() {
        #expect(throws: ParseError.self) { try Self.parse("reconcile_x 1\n") }
        #expect(throws: ParseError.self) { try Self.parse("# TYPE reconcile_x gauge\nreconcile_x{job=\"a} 1\n") }
        #expect(throws: ParseError.self) { try Self.parse("# TYPE reconcile_x gauge\nreconcile_x one\n") }
        #expect((try? Self.parse("# TYPE reconcile_x gauge\nreconcile_x{job=\"a\\\"b\"} 2.5\n"))?.first?.value == 2.5)
    }
}
