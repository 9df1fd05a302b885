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
            #expect(value("reconcile_last_run_exit_status", ["reconcile_job": "cli"]) == Double(run.status))
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

    /// The families, labels and values `prometheus_client`'s own text parser reads from `file`.
    ///
    /// Uses Debian's `python3-prometheus-client` (installed by `make deps`) through /usr/bin/python3.
    static func parsedByPrometheusClient(_ file: URL) throws -> [String: (
        help: String, type: String, samples: [Sample]
    )] {
        let script = """
            import json, sys
            from prometheus_client.parser import text_string_to_metric_families
            text = open(sys.argv[1], encoding="utf-8").read()
            out = []
            for family in text_string_to_metric_families(text):
                out.append({"name": family.name, "help": family.documentation, "type": family.type,
                            "samples": [{"name": s.name, "labels": s.labels, "value": s.value} for s in family.samples]})
            print(json.dumps(out))
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", script, file.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0,
            let families = try JSONSerialization.jsonObject(with: data) as? [[String: Any]]
        else { throw ParseError.bad(line: 0, "prometheus_client could not parse \(file.path)") }
        var parsed: [String: (help: String, type: String, samples: [Sample])] = [:]
        for family in families {
            let samples = (family["samples"] as? [[String: Any]] ?? []).map { sample in
                Sample(
                    name: sample["name"] as? String ?? "",
                    labels: sample["labels"] as? [String: String] ?? [:],
                    value: (sample["value"] as? NSNumber)?.doubleValue ?? .nan
                )
            }
            parsed[family["name"] as? String ?? ""] = (
                family["help"] as? String ?? "", family["type"] as? String ?? "", samples
            )
        }
        return parsed
    }

    /// What node_exporter's textfile collector and Prometheus need, from the first run on.
    ///
    /// The run is started under the cron wrapper's umask (027) and one provider fails, so the job
    /// has never succeeded: the file is still world-readable, the last-success series is there
    /// with 0, every (provider, kind), (provider, outcome) and (provider, verdict) series is there
    /// (0 where nothing happened), no series carries a `job` label, and every family has HELP and
    /// TYPE as `prometheus_client` reads them.
    @Test func metricsFollowPrometheusConventionsFromTheFirstRun() async throws {
        try await CLIHarness.with(seed: 22, allProviders: true, jobExtra: "metrics: metrics/reconcile.prom") { cli in
            _ = try await cli.reconcile(["ingest", "job.yml", "captures.ndjson"])
            await cli.server.setFaults([SandboxFault(.unauthorized, provider: "crezco", times: nil)])
            let failed = try await cli.reconcile(["run", "job.yml", "--report-json", "r.json"], umask: "027")
            #expect(failed.status == 3, "\(failed.stderr)")
            let file = cli.path("metrics/reconcile.prom")
            let mode = try FileManager.default.attributesOfItem(atPath: file.path)[.posixPermissions] as? Int
            #expect(mode == 0o644, "mode \(String(mode ?? 0, radix: 8)) under umask 027")
            let folderMode =
                try FileManager.default.attributesOfItem(atPath: cli.path("metrics").path)[
                    .posixPermissions
                ] as? Int
            #expect(folderMode == 0o755, "the folder made for it can be entered by the collector's user")
            let reportMode =
                try FileManager.default.attributesOfItem(atPath: cli.path("r.json").path)[
                    .posixPermissions
                ] as? Int
            #expect(reportMode == 0o640, "the report keeps the umask: it carries payment data")

            let families = try Self.parsedByPrometheusClient(file)
            #expect(families.count >= 11)
            for (name, family) in families {
                #expect(name.hasPrefix("reconcile_"))
                #expect(!family.help.isEmpty, "\(name) has no HELP")
                #expect(family.type == "gauge", "\(name) is \(family.type)")
                #expect(!family.samples.isEmpty, "\(name) has no series")
                for sample in family.samples {
                    #expect(sample.labels["job"] == nil, "\(name) carries a job label")
                    #expect(sample.labels["reconcile_job"] == "cli")
                }
            }
            // The Swift reader and prometheus_client read the same samples.
            let ours = try Self.parse(String(contentsOf: file, encoding: .utf8))
            let theirs = families.values.flatMap(\.samples)
            #expect(ours.count == theirs.count)
            // Values compared to 12 significant digits: a Double may lose its last bit on the way through JSON.
            for sample in ours {
                #expect(
                    theirs.contains { other in
                        other.name == sample.name && other.labels == sample.labels
                            && abs(other.value - sample.value) <= 1e-12 * max(1, abs(sample.value))
                    },
                    "\(sample)"
                )
            }

            let success = families["reconcile_last_success_timestamp_seconds"]?.samples
            #expect(success?.count == 1 && success?.first?.value == 0, "never succeeded: 0, present")
            let report = try cli.report("r.json")
            let findings = report["findings"] as? [[String: Any]] ?? []
            for provider in ["credicorp", "crezco", "credify"] {
                for kind in [
                    "dropped_event", "pending_event", "out_of_order", "duplicate_delivery",
                    "state_mismatch", "missing_locally", "unknown_to_provider", "invalid_signature",
                    "endpoint_disabled",
                ] {
                    let count = findings.filter {
                        $0["provider"] as? String == provider && $0["kind"] as? String == kind
                    }
                    .count
                    for family in ["reconcile_findings", "reconcile_findings_new"] {
                        let series = families[family]?.samples.filter {
                            $0.labels["provider"] == provider && $0.labels["kind"] == kind
                        }
                        #expect(series?.count == 1, "\(family) \(provider) \(kind)")
                        if family == "reconcile_findings" { #expect(series?.first?.value == Double(count)) }
                    }
                }
                for outcome in [
                    "ok", "not_found", "rate_limited", "unauthorized", "server_error", "timeout", "cancelled",
                ] {
                    let series = families["reconcile_api_requests"]?.samples.filter {
                        $0.labels["provider"] == provider && $0.labels["outcome"] == outcome
                    }
                    #expect(series?.count == 1, "reconcile_api_requests \(provider) \(outcome)")
                }
                for verdict in ["accepted", "rejected"] {
                    let series = families["reconcile_deliveries_stored"]?.samples.filter {
                        $0.labels["provider"] == provider && $0.labels["verdict"] == verdict
                    }
                    #expect(series?.count == 1, "reconcile_deliveries_stored \(provider) \(verdict)")
                }
                #expect(families["reconcile_repairs"]?.samples.contains { $0.labels["provider"] == provider } == true)
            }
            let unauthorized = families["reconcile_api_requests"]?.samples.first {
                $0.labels["provider"] == "crezco" && $0.labels["outcome"] == "unauthorized"
            }
            #expect(unauthorized?.value == 1)
            let timeouts = families["reconcile_api_requests"]?.samples.first {
                $0.labels["provider"] == "credicorp" && $0.labels["outcome"] == "timeout"
            }
            #expect(timeouts?.value == 0)

            // The first success sets it.
            await cli.server.setFaults([])
            let next = try await cli.reconcile(["run", "job.yml"], umask: "027")
            #expect(next.status == 0 || next.status == 1, "\(next.stderr)")
            let after = try Self.parsedByPrometheusClient(file)
            #expect((after["reconcile_last_success_timestamp_seconds"]?.samples.first?.value ?? 0) > 1_700_000_000)
        }
    }

    @Test func theParserRefusesWhatIsNotPrometheusText() {
        #expect(throws: ParseError.self) { try Self.parse("reconcile_x 1\n") }
        #expect(throws: ParseError.self) { try Self.parse("# TYPE reconcile_x gauge\nreconcile_x{job=\"a} 1\n") }
        #expect(throws: ParseError.self) { try Self.parse("# TYPE reconcile_x gauge\nreconcile_x one\n") }
        #expect((try? Self.parse("# TYPE reconcile_x gauge\nreconcile_x{job=\"a\\\"b\"} 2.5\n"))?.first?.value == 2.5)
    }
}
