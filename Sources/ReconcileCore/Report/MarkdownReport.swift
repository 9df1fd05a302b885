/// `report.md`: the report for a person reading it in the morning.
///
/// First what needs a person, most severe first, each with what to do; then the money affected
/// (the totals of payments.csv); then the providers and the counts per kind; then every finding
/// grouped by resource, or, for a long run (a backfill), per-kind summaries naming the first
/// resources and pointing to report.json and payments.csv for the rest.
public enum MarkdownReport {
    /// Above this many resource groups, findings are summarised per kind instead of listed.
    public static let maxListedGroups = 100
    /// How many findings of each kind a summary names.
    public static let summaryExamples = 20
    /// How many findings of each kind the "needs you" section names.
    public static let attentionExamples = 10

    /// The Markdown text for a report.
    ///
    /// - Parameters:
    ///   - report: the run's report.
    ///   - rows: its ``PaymentsCSV/rows(_:)`` when the caller has them already.
    /// - Returns: The text of report.md.
    public static func render(_ report: RunReport, rows: [PaymentRow]? = nil) -> String {
        var out: [String] = []
        let run = report.run
        out.append("# Reconciliation report: \(run.job)")
        out.append("")
        out.append("- Run: `\(run.id)`\(run.dryRun ? " (dry run: nothing was changed)" : "")")
        out.append("- Status: **\(run.status)**")
        out.append("- Now: \(run.now); started \(run.startedAt), finished \(run.finishedAt ?? "-")")
        out.append(
            "- Findings: \(report.findings.count) (\(report.findings.filter(\.isNew).count) new); repairs: \(report.repairs)"
        )
        out.append("")
        out += attentionSection(report)
        out += moneySection(rows ?? PaymentsCSV.rows(report))
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
        out += resourceSection(report)
        return out.joined(separator: "\n") + "\n"
    }

    // MARK: Needs you

    /// Why `finding` of `report` needs a person, or nil: the rule behind exit status 1 (``Finding/attention(repairing:)``).
    static func attention(_ finding: Finding, in report: RunReport) -> Finding.Attention? {
        finding.attention(repairing: report.run.repair ?? !report.run.dryRun)
    }

    static func attentionSection(_ report: RunReport) -> [String] {
        var out = ["## Needs you", ""]
        let failed = report.providers.filter { $0.status != "complete" }
        for provider in failed {
            out.append(
                "- **Provider \(provider.name) \(provider.status)**: \(cell(provider.error ?? "no error recorded")). "
                    + "Its findings are incomplete; rerun once it answers."
            )
        }
        if !failed.isEmpty { out.append("") }
        var groups: [Finding.Attention: [Finding]] = [:]
        for finding in report.findings {
            if let attention = attention(finding, in: report) { groups[attention, default: []].append(finding) }
        }
        if groups.isEmpty && failed.isEmpty {
            return out + ["Nothing: every difference was repaired, and nothing new needs a person.", ""]
        }
        for attention in Finding.Attention.allCases {
            guard let findings = groups[attention] else { continue }
            out.append("### \(attention.title) (\(findings.count))")
            out.append("")
            out.append(attention.advice)
            out.append("")
            for finding in findings.prefix(attentionExamples) { out.append("- " + line(finding)) }
            if findings.count > attentionExamples {
                out.append("- … and \(findings.count - attentionExamples) more (report.json, `new` and `repaired`)")
            }
            out.append("")
        }
        return out
    }

    // MARK: Summary

    /// A few lines for a mail (the cron wrapper's): status, counts, what needs a person, money, where the report is.
    ///
    /// - Parameters:
    ///   - report: the run's report.
    ///   - exitStatus: the run's exit status, when known.
    ///   - folder: where the report's files are, when written.
    ///   - rows: its ``PaymentsCSV/rows(_:)`` when the caller has them already.
    /// - Returns: The text of summary.txt.
    public static func summary(_ report: RunReport, exitStatus: Int?, folder: String?, rows: [PaymentRow]? = nil)
        -> String
    {
        let run = report.run
        let meaning: String =
            switch exitStatus {
            case 0?: "nothing needs a person"
            case 1?: "a person must look"
            case 3?: "could not finish"
            case let code?: "exit \(code)"
            case nil: "no exit status recorded"
            }
        var out = [
            "reconcile \(run.job): run \(run.id)\(run.dryRun ? " (dry run)" : "") \(run.status), "
                + "exit \(exitStatus.map(String.init) ?? "-") (\(meaning))",
            "findings \(report.findings.count) (\(report.findings.filter(\.isNew).count) new), repairs \(report.repairs); "
                + report.providers.map { "\($0.name) \($0.status)" }.joined(separator: ", "),
        ]
        for provider in report.providers where provider.status != "complete" {
            out.append("  \(provider.name): \(provider.error ?? "no error recorded")")
        }
        var groups: [Finding.Attention: [Finding]] = [:]
        for finding in report.findings {
            if let attention = attention(finding, in: report) { groups[attention, default: []].append(finding) }
        }
        if !groups.isEmpty {
            out.append("needs you:")
            for attention in Finding.Attention.allCases {
                guard let findings = groups[attention] else { continue }
                out.append("  \(attention.title) (\(findings.count)):")
                for finding in findings.prefix(3) {
                    let subject = [finding.provider, finding.resourceType, finding.resourceID ?? finding.eventID]
                        .compactMap { $0 }.joined(separator: " ")
                    out.append(
                        "    \(finding.kind.rawValue) \(cell(subject))" + (location(finding).map { " at \($0)" } ?? "")
                    )
                }
                if findings.count > 3 { out.append("    … and \(findings.count - 3) more") }
            }
        }
        let totals = PaymentsCSV.totals(rows ?? PaymentsCSV.rows(report))
        if !totals.isEmpty {
            out.append(
                "money affected: "
                    + totals.keys.sorted().map { currency in
                        let total = totals[currency] ?? (0, 0)
                        let amount =
                            total.minorUnits.map { Money(minorUnits: $0, currency: currency).decimalString }
                            ?? "overflow"
                        return "\(currency) \(amount) (\(total.resources))"
                    }.joined(separator: ", ")
            )
        }
        if let folder { out.append("report: \(folder)/report.md") }
        return out.joined(separator: "\n") + "\n"
    }

    // MARK: Money

    /// Money affected per currency: the totals of payments.csv, each payment-like resource once.
    static func moneySection(_ rows: [PaymentRow]) -> [String] {
        let totals = PaymentsCSV.totals(rows)
        guard !rows.isEmpty else { return [] }
        var out = [
            "## Money affected", "",
            "Payment-like resources with findings (Credicorp payments, Crezco payables and pay runs, Credify "
                + "BNPL orders), each counted once at the provider's amount: the totals of payments.csv.",
            "",
        ]
        if !totals.isEmpty {
            out += ["| currency | resources | amount | repaired by this run |", "|---|---|---|---|"]
            for currency in totals.keys.sorted() {
                let total = totals[currency] ?? (0, 0)
                let amount =
                    total.minorUnits.map { Money(minorUnits: $0, currency: currency).decimalString }
                    ?? "too large to add up (over \(Int64.max) minor units)"
                let inCurrency = rows.filter { $0.money?.currency == currency }
                let repaired = inCurrency.filter(\.repaired).count
                out.append("| \(currency) | \(total.resources) | \(amount) | \(repaired) |")
            }
        }
        let unpriced = rows.filter { $0.money == nil }.count
        if unpriced > 0 { out.append("\n\(unpriced) resource(s) with no amount known.") }
        return out + [""]
    }

    // MARK: Findings

    static func groupKey(_ finding: Finding) -> String {
        let subject =
            finding.resourceID ?? finding.eventID ?? location(finding) ?? "(unreadable)"
        return "\(finding.provider ?? "(no provider)") \(finding.resourceType ?? "delivery") \(subject)"
    }

    /// `FILE:LINE` of a rejected capture line, when the finding names it.
    static func location(_ finding: Finding) -> String? {
        guard let source = finding.details["source"]?.stringValue, source != "event", source != "local_state"
        else { return nil }
        return finding.details["line"]?.integerValue.map { "\(source):\($0)" } ?? source
    }

    private static func resourceSection(_ report: RunReport) -> [String] {
        guard !report.findings.isEmpty else { return [] }
        // By exact text: two spellings of one accented id are two resources, as the stores keep them.
        var groups: [ExactID: [Finding]] = [:]
        for finding in report.findings { groups[ExactID(groupKey(finding)), default: []].append(finding) }
        guard groups.count <= maxListedGroups else { return summarySection(report, groups: groups.count) }
        var out = ["## Findings by resource", ""]
        for group in groups.keys.sorted(by: { ByteOrder.precedes($0.text, $1.text) }) {
            let key = group.text
            let findings = groups[group] ?? []
            let state = findings.first { $0.kind == .stateMismatch || $0.kind == .missingLocally }
            // The provider's ids and statuses, like every text of theirs, never end the heading's line.
            var heading = "### \(cell(key))"
            if let state {
                let local = state.details["local"]?.stringValue ?? "(no local row)"
                let remote = state.details["remote"]?.stringValue ?? "-"
                heading += ": ours \(cell(local)), provider \(cell(remote))"
            }
            if let money = findings.compactMap(\.money).first {
                heading += " (\(money.decimalString) \(money.currency))"
            }
            out.append(heading)
            out.append("")
            for finding in findings { out.append("- " + line(finding, withSubject: false)) }
            out.append("")
        }
        return out
    }

    /// For a long run: per kind, how many, and the first few.
    private static func summarySection(_ report: RunReport, groups: Int) -> [String] {
        var out = [
            "## Findings by kind, summarised", "",
            "\(report.findings.count) findings on \(groups) resources are too many to list here: each kind below names "
                + "its first \(summaryExamples). Every finding is in report.json (`reconcile report JOB --run "
                + "\(report.run.id) --format json`); payment-like resources, with amounts, are in payments.csv.",
            "",
        ]
        for kind in FindingKind.allCases {
            let matching = report.findings.filter { $0.kind == kind }
            guard !matching.isEmpty else { continue }
            out.append(
                "### \(kind.rawValue): \(matching.count) (\(matching.filter(\.isNew).count) new, "
                    + "\(matching.filter(\.repaired).count) repaired)"
            )
            out.append("")
            for finding in matching.prefix(summaryExamples) { out.append("- " + line(finding)) }
            if matching.count > summaryExamples { out.append("- … and \(matching.count - summaryExamples) more") }
            out.append("")
        }
        return out
    }

    /// One finding on one line: kind, subject, flags and the details a person reads.
    static func line(_ finding: Finding, withSubject: Bool = true) -> String {
        var line = "**\(finding.kind.rawValue)**"
        if withSubject {
            let subject = [finding.provider, finding.resourceType, finding.resourceID].compactMap { $0 }
            if !subject.isEmpty { line += " " + cell(subject.joined(separator: " ")) }
        }
        if let event = finding.eventID { line += " `\(cell(event))`" }
        let flags = [finding.isNew ? "new" : "seen before", finding.repaired ? "repaired" : nil].compactMap { $0 }
        line += " (\(flags.joined(separator: ", ")))"
        var notes = ["event_type", "status", "remote", "local", "cause", "reason", "detail", "deliveries", "created"]
            .compactMap { key in finding.details[key].map { "\(key): \(text($0))" } }
        if let money = finding.money { notes.append("\(money.decimalString) \(money.currency)") }
        if let location = location(finding) { notes.append("at \(cell(location))") }
        if let received = finding.details["received_at"] { notes.append("received_at: \(text(received))") }
        if !notes.isEmpty { line += ": " + notes.joined(separator: "; ") }
        return line
    }

    private static func text(_ value: JSONValue) -> String {
        switch value {
        case .string(let text): cell(text)
        case .integer(let number): String(number)
        default: cell(value.canonicalText)
        }
    }

    /// Text from a provider or a finding, safe in a table cell or a list line: `|` escaped, each line
    /// break (LF or CR, both end a line in Markdown) a space.
    ///
    /// By UTF-8 bytes, not `Character`s: `replacingOccurrences` passed over a `|` followed by a
    /// combining mark (one `Character`), which then split the table row.
    static func cell(_ text: String) -> String {
        let special = text.utf8.contains {
            $0 == UInt8(ascii: "|") || $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r")
        }
        guard special else { return text }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count + 8)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "|"): bytes += [UInt8(ascii: "\\"), byte]
            case UInt8(ascii: "\n"), UInt8(ascii: "\r"): bytes.append(UInt8(ascii: " "))
            default: bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension Finding.Attention {
    var title: String {
        switch self {
        case .endpointDisabled: "Webhook endpoint disabled"
        case .forgedOrUnknown: "Forged or unknown events"
        case .unrepaired: "Differences not repaired"
        }
    }

    var advice: String {
        switch self {
        case .endpointDisabled:
            "The provider stopped sending events after deliveries kept failing. Fix what failed (the "
                + "receiver's logs around the first failures), re-enable the endpoint at the provider, then "
                + "run `reconcile backfill JOB --provider NAME --since TIME` over the outage: events older than "
                + "the retry window will never be sent again."
        case .forgedOrUnknown:
            "`invalid_signature`: a delivery whose signature did not verify (a forged request, or a secret "
                + "rotated at the provider but not in the job's environment); it was never applied. Check the "
                + "signing secrets or keys; look at the line named. `unknown_to_provider`: validly signed, but "
                + "the provider does not know the event or resource; ask the provider before trusting it, and "
                + "correct local state by hand if it was applied."
        case .unrepaired:
            "Local state differs from the provider and this run did not change it (a dry run, `repair: "
                + "false`, or a row that moved while the run read the provider). Run `reconcile run JOB` to "
                + "repair, or repair by hand."
        }
    }
}
