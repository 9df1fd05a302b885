/// `report.md`: the same report for people: counts per kind, money affected per currency, and
/// findings grouped by resource with our status beside the provider's.
public enum MarkdownReport {
    /// The Markdown text for a report.
    public static func render(_ report: RunReport) -> String {
        var out: [String] = []
        let run = report.run
        out.append("# Reconciliation report: \(run.job)")
        out.append("")
        out.append("- Run: `\(run.id)`\(run.dryRun ? " (dry run: nothing was changed)" : "")")
        out.append("- Status: **\(run.status)**")
        out.append("- Now: \(run.now); started \(run.startedAt), finished \(run.finishedAt ?? "-")")
        out.append("- Repairs: \(report.repairs)")
        out.append("")
        out.append("## Providers")
        out.append("")
        out.append("| provider | kind | status | window | API requests | error |")
        out.append("|---|---|---|---|---|---|")
        for provider in report.providers {
            out.append(
                "| \(provider.name) | \(provider.kind) | \(provider.status) | \(provider.window.since) – "
                    + "\(provider.window.until) | \(provider.apiRequests) | \(cell(provider.error ?? "")) |"
            )
        }
        out.append("")
        out.append("## Findings by kind")
        out.append("")
        if report.findings.isEmpty {
            out.append("No findings: local state matches the providers.")
        } else {
            out.append("| kind | count | new | repaired |")
            out.append("|---|---|---|---|")
            for kind in FindingKind.allCases {
                let matching = report.findings.filter { $0.kind == kind }
                guard !matching.isEmpty else { continue }
                out.append(
                    "| \(kind.rawValue) | \(matching.count) | \(matching.filter(\.isNew).count) | "
                        + "\(matching.filter(\.repaired).count) |"
                )
            }
        }
        out.append("")
        out += moneySection(report)
        out += resourceSection(report)
        return out.joined(separator: "\n") + "\n"
    }

    /// Money affected per currency: each resource with an amount counted once.
    private static func moneySection(_ report: RunReport) -> [String] {
        var perResource: [String: Money] = [:]
        for finding in report.findings {
            guard let money = finding.money, finding.resourceID != nil else { continue }
            perResource["\(finding.provider ?? "")|\(finding.resourceType ?? "")|\(finding.resourceID ?? "")"] = money
        }
        guard !perResource.isEmpty else { return [] }
        var totals: [String: (sum: Int64, count: Int, overflow: Bool)] = [:]
        for money in perResource.values {
            let current = totals[money.currency] ?? (0, 0, false)
            let (sum, overflow) = current.sum.addingReportingOverflow(money.minorUnits)
            totals[money.currency] = (sum, current.count + 1, current.overflow || overflow)
        }
        var out = ["## Money affected", "", "| currency | resources | amount |", "|---|---|---|"]
        for currency in totals.keys.sorted() {
            let total = totals[currency] ?? (0, 0, false)
            let amount =
                total.overflow
                ? "too large to add up (over \(Int64.max) minor units)"
                : Money(minorUnits: total.sum, currency: currency).decimalString
            out.append("| \(currency) | \(total.count) | \(amount) |")
        }
        return out + [""]
    }

    private static func resourceSection(_ report: RunReport) -> [String] {
        guard !report.findings.isEmpty else { return [] }
        var groups: [(key: String, findings: [Finding])] = []
        for finding in report.findings {
            let key =
                "\(finding.provider ?? "(no provider)") \(finding.resourceType ?? "delivery") "
                + "\(finding.resourceID ?? finding.eventID ?? "(unreadable)")"
            if let index = groups.firstIndex(where: { $0.key == key }) {
                groups[index].findings.append(finding)
            } else {
                groups.append((key, [finding]))
            }
        }
        var out = ["## Findings by resource", ""]
        for group in groups.sorted(by: { $0.key < $1.key }) {
            let state = group.findings.first { $0.kind == .stateMismatch || $0.kind == .missingLocally }
            var heading = "### \(group.key)"
            if let state {
                let local = state.details["local"]?.stringValue ?? "(no local row)"
                let remote = state.details["remote"]?.stringValue ?? "-"
                heading += ": ours \(local), provider \(remote)"
            }
            if let money = group.findings.compactMap(\.money).first {
                heading += " (\(money.decimalString) \(money.currency))"
            }
            out.append(heading)
            out.append("")
            for finding in group.findings {
                var line = "- **\(finding.kind.rawValue)**"
                if let event = finding.eventID { line += " `\(event)`" }
                let flags = [finding.isNew ? "new" : "seen before", finding.repaired ? "repaired" : nil].compactMap {
                    $0
                }
                line += " (\(flags.joined(separator: ", ")))"
                let notes = ["event_type", "cause", "reason", "detail", "deliveries", "created", "received_at"]
                    .compactMap { key in finding.details[key].map { "\(key): \(text($0))" } }
                if !notes.isEmpty { line += ": " + notes.joined(separator: "; ") }
                out.append(line)
            }
            out.append("")
        }
        return out
    }

    private static func text(_ value: JSONValue) -> String {
        switch value {
        case .string(let text): cell(text)
        case .integer(let number): String(number)
        default: cell(value.canonicalText)
        }
    }

    private static func cell(_ text: String) -> String {
        text.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
    }
}
