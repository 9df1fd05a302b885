import Foundation
import Testing

/// What finance and the on-call engineer read: payments.csv that adds up to report.md, and a
/// report.md that starts with what needs a person.
@Suite(.serialized) struct ReportCLITests {
    static let paymentTypes: Set<String> = ["payment", "payable", "pay_run", "bnpl_order"]

    /// RFC 4180 fields of a CSV text (quoted fields may hold commas, quotes and newlines).
    static func parseCSV(_ text: String) -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var field = ""
        var quoted = false
        var iterator = Array(text).makeIterator()
        while let character = iterator.next() {
            if quoted {
                if character == "\"" {
                    if let next = iterator.next() {
                        if next == "\"" {
                            field.append("\"")
                        } else {
                            quoted = false
                            if next == "," {
                                row.append(field)
                                field = ""
                            } else if next == "\n" {
                                row.append(field)
                                rows.append(row)
                                row = []
                                field = ""
                            }
                        }
                    } else {
                        quoted = false
                    }
                } else {
                    field.append(character)
                }
            } else if character == "\"" {
                quoted = true
            } else if character == "," {
                row.append(field)
                field = ""
            } else if character == "\n" {
                row.append(field)
                rows.append(row)
                row = []
                field = ""
            } else {
                field.append(character)
            }
        }
        if !field.isEmpty || !row.isEmpty {
            row.append(field)
            rows.append(row)
        }
        return rows
    }

    /// The "Money affected" table of report.md: currency → (resources, amount text).
    static func moneyTable(_ markdown: String) -> [String: (resources: Int, amount: String)] {
        guard let start = markdown.range(of: "## Money affected") else { return [:] }
        var table: [String: (Int, String)] = [:]
        for line in markdown[start.upperBound...].split(separator: "\n") {
            if line.hasPrefix("## ") { break }
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 3, cells[0].count == 3, cells[0].allSatisfy(\.isUppercase), let count = Int(cells[1])
            else { continue }
            table[cells[0]] = (count, cells[2])
        }
        return table
    }

    /// The minor units a decimal amount text stands for (`1759.00` → 175900, `18900` → 18900), or nil.
    ///
    /// No digit is dropped or added: the digits of the text, read as one integer, are the minor units,
    /// whatever the currency's number of decimals (0, 2 or 3).
    static func minorUnits(_ text: String) -> Int64? {
        let negative = text.hasPrefix("-")
        let digits = text.dropFirst(negative ? 1 : 0)
        let parts = digits.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, parts.count == 1 || [2, 3].contains(parts[1].count),
            let value = Int64(parts.joined())
        else { return nil }
        return negative ? -value : value
    }

    /// On generated three-provider histories: one CSV row per payment-like resource, holding every
    /// finding on it; every such finding carries its amount; the CSV's totals per currency are
    /// report.md's; and the decimal column says what the minor units say.
    @Test(arguments: [11, 29] as [UInt64])
    func paymentsCSVHasOneRowPerResourceAndAddsUpToTheReport(seed: UInt64) async throws {
        try await CLIHarness.with(seed: seed, allProviders: true) { cli in
            _ = try await cli.reconcile(["ingest", "job.yml", "captures.ndjson"])
            let run = try await cli.reconcile(["run", "job.yml", "--dry-run", "--report-json", "r.json"])
            #expect(run.status == 1, "\(run.stderr)")
            let report = try cli.report("r.json")
            let findings = report["findings"] as? [[String: Any]] ?? []
            let payments = findings.filter { Self.paymentTypes.contains($0["resource_type"] as? String ?? "") }
            #expect(!payments.isEmpty)
            // Every finding on a payment-like resource carries its money, whatever its kind and provider;
            // only an event about a resource the provider does not know may have none to give.
            for finding in payments where finding["kind"] as? String != "unknown_to_provider" {
                let details = finding["details"] as? [String: Any] ?? [:]
                #expect(
                    details["amount"] is Int && (details["currency"] as? String)?.count == 3,
                    "\(finding["kind"] ?? "") of \(finding["provider"] ?? "") on \(finding["resource_id"] ?? ""): \(details)"
                )
            }
            #expect(
                payments.contains { $0["provider"] as? String == "credify" && $0["kind"] as? String == "out_of_order" },
                "the history has Credify out_of_order findings on BNPL orders"
            )

            let csv = try await cli.reconcile(["report", "job.yml", "--format", "csv"])
            let rows = Self.parseCSV(csv.stdout)
            let header = try #require(rows.first)
            #expect(
                header.first == "run_id" && header.contains("finding_ids") && header.contains("provider_updated_at")
            )
            func column(_ name: String) -> Int { header.firstIndex(of: name) ?? -1 }
            let body = rows.dropFirst()
            #expect(body.allSatisfy { $0.count == header.count })
            // One row per resource; its finding ids are exactly the findings on that resource.
            var byResource: [String: Set<String>] = [:]
            for finding in payments {
                let key = ["provider", "resource_type", "resource_id"].map { finding[$0] as? String ?? "" }
                byResource[key.joined(separator: " "), default: []].insert(finding["id"] as? String ?? "")
            }
            let rowKeys = body.map { row in
                [row[column("provider")], row[column("resource_type")], row[column("resource_id")]].joined(
                    separator: " "
                )
            }
            #expect(Set(rowKeys).count == body.count, "no resource twice")
            #expect(Set(rowKeys) == Set(byResource.keys))
            for (row, key) in zip(body, rowKeys) {
                let ids = Set(row[column("finding_ids")].split(separator: " ").map(String.init))
                #expect(ids == byResource[key], "\(key)")
                let kinds = row[column("kinds")].split(separator: " ").map(String.init)
                #expect(kinds.count == Set(kinds).count && !kinds.isEmpty)
                if let minor = Int64(row[column("amount_minor")]) {
                    #expect(Self.minorUnits(row[column("amount")]) == minor, "\(row)")
                }
            }
            // Totals per currency equal report.md's Money affected.
            var totals: [String: (count: Int, sum: Int64)] = [:]
            for row in body {
                guard let minor = Int64(row[column("amount_minor")]) else { continue }
                let currency = row[column("currency")]
                totals[currency, default: (0, 0)].count += 1
                totals[currency, default: (0, 0)].sum += minor
            }
            #expect(!totals.isEmpty)
            let markdown = try await cli.reconcile(["report", "job.yml", "--format", "md"])
            let table = Self.moneyTable(markdown.stdout)
            #expect(Set(table.keys) == Set(totals.keys), "\(markdown.stdout)")
            for (currency, total) in totals {
                #expect(table[currency]?.resources == total.count, "\(currency) resources")
                #expect(table[currency].map { Self.minorUnits($0.amount) } == total.sum, "\(currency) amount")
            }
        }
    }

    /// report.md opens with what needs a person, most severe first; it is empty exactly when the
    /// run exits 0; a rejected line is named by file and line.
    @Test func theReportStartsWithWhatNeedsAPerson() async throws {
        try await CLIHarness.with(seed: 29, allProviders: true) { cli in
            _ = try await cli.reconcile(["ingest", "job.yml", "captures.ndjson"])
            let dry = try await cli.reconcile(["run", "job.yml", "--dry-run"])
            #expect(dry.status == 1)
            let dryReport = try await cli.reconcile(["report", "job.yml"]).stdout
            let order = [
                "## Needs you", "### Webhook endpoint disabled", "### Forged or unknown events",
                "### Differences not repaired", "## Money affected", "## Providers", "## Findings by kind",
            ]
            let positions = order.map { dryReport.range(of: $0)?.lowerBound }
            #expect(positions.allSatisfy { $0 != nil }, "\(dryReport.prefix(3000))")
            #expect(positions.compactMap { $0 } == positions.compactMap { $0 }.sorted(), "severity order")
            #expect(dryReport.contains("at captures.ndjson:"), "a rejected line by file and line")
            #expect(dryReport.contains("reconcile backfill"), "what to do about a disabled endpoint")

            let night = try await cli.reconcile(["run", "job.yml"])
            let nightReport = try await cli.reconcile(["report", "job.yml"]).stdout
            let next = try await cli.reconcile(["run", "job.yml"])
            let nextReport = try await cli.reconcile(["report", "job.yml"]).stdout
            for (result, text) in [(dry, dryReport), (night, nightReport), (next, nextReport)] {
                let nothing = text.contains("Nothing: every difference was repaired, and nothing new needs a person.")
                #expect(nothing == (result.status == 0), "exit \(result.status): \(text.prefix(1500))")
            }
            #expect(night.status == 1 && next.status == 0)
            #expect(!nightReport.contains("### Differences not repaired"), "a real run repaired them")
        }
    }

    /// A run with thousands of findings (a backfill after an outage) summarises per kind instead of
    /// listing every resource, and says where the rest is.
    @Test func aLongRunIsSummarisedPerKind() async throws {
        try await CLIHarness.with(seed: 5, bulkChains: 400) { cli in
            _ = try await cli.reconcile(["ingest", "job.yml", "captures.ndjson"], timeout: 300)
            let run = try await cli.reconcile(["run", "job.yml", "--report-json", "r.json"], timeout: 300)
            #expect([0, 1].contains(run.status), "\(run.stderr)")
            let findings = (try cli.report("r.json")["findings"] as? [[String: Any]]) ?? []
            #expect(findings.count > 300)
            let markdown = try await cli.reconcile(["report", "job.yml"]).stdout
            #expect(markdown.contains("## Findings by kind, summarised"))
            #expect(markdown.contains("are too many to list here") && markdown.contains("--format json"))
            #expect(!markdown.contains("## Findings by resource"))
            let lines = markdown.split(separator: "\n", omittingEmptySubsequences: false).count
            #expect(lines < 400, "\(lines) lines for \(findings.count) findings")
        }
    }
}
