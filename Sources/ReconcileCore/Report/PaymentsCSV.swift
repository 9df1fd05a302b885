/// One payment-like resource of a run, with every finding on it: a row of `payments.csv`.
public struct PaymentRow: Sendable, Equatable {
    public var provider: String
    public var resourceType: String
    public var resourceID: String
    /// The kinds found on the resource, in the contract's order, each once.
    public var kinds: [FindingKind]
    /// Our status, when a finding says it (state findings; empty when we hold no row).
    public var localStatus: String
    /// The provider's status: from its object, else from the newest event the findings name.
    public var remoteStatus: String
    /// The resource's amount: the provider's object's, else the newest finding's that carries one.
    public var money: Money?
    /// The provider's time for the state shown (`remote_updated`, else the newest event's `created`).
    public var providerUpdatedAt: String
    /// Why local state was behind (`cause` of a state finding), when there is one.
    public var cause: String
    /// The stable ids of the findings, in report order.
    public var findingIDs: [String]
    /// Whether this run wrote a repair for any finding of the resource.
    public var repaired: Bool
    /// Whether any finding of the resource is new.
    public var isNew: Bool
}

/// `payments.csv`: one row per payment-like resource with findings, for finance to total.
///
/// A resource appears once whatever the number of findings on it, so the sum of `amount_minor` per
/// currency is the money affected, the same figure as report.md's "Money affected" (both come
/// from ``rows(_:)``). Amounts appear twice: exact integer minor units and a decimal string in
/// major units (computed with integers). Text cells that a spreadsheet would run as a formula are
/// prefixed with `'`.
public enum PaymentsCSV {
    /// Resource types that move money to or from a customer: Credicorp payments, Crezco payables
    /// and pay runs, Credify BNPL orders.
    public static let paymentTypes: Set<String> = ["payment", "payable", "pay_run", "bnpl_order"]

    static let header = [
        "run_id", "provider", "resource_type", "resource_id", "kinds", "local_status", "remote_status",
        "amount_minor", "currency", "amount", "provider_updated_at", "cause", "repaired", "new", "finding_ids",
    ]

    /// The payment-like resources of `report`, each once, ordered by provider, type and id.
    public static func rows(_ report: RunReport) -> [PaymentRow] {
        // Positions, not copies of the findings: a large run has tens of thousands of resources.
        // By exact id: two spellings of one accented id are two resources, as the stores keep them.
        var byResource: [ExactID: [Int]] = [:]
        for (index, finding) in report.findings.enumerated() {
            guard let type = finding.resourceType, paymentTypes.contains(type), let id = finding.resourceID else {
                continue
            }
            byResource[ExactID("\(finding.provider ?? "")\u{0}\(type)\u{0}\(id)"), default: []].append(index)
        }
        return byResource.values.compactMap { row($0.map { report.findings[$0] }) }.sorted { lhs, rhs in
            let provider = ByteOrder.compare(lhs.provider, rhs.provider)
            if provider != 0 { return provider < 0 }
            let type = ByteOrder.compare(lhs.resourceType, rhs.resourceType)
            return type != 0 ? type < 0 : ByteOrder.precedes(lhs.resourceID, rhs.resourceID)
        }
    }

    static func row(_ findings: [Finding]) -> PaymentRow? {
        guard let first = findings.first, let type = first.resourceType, let id = first.resourceID else { return nil }
        let state = findings.first { $0.kind == .stateMismatch || $0.kind == .missingLocally }
        // The newest event named by a finding (by its provider time), for the status and time it carries.
        let newestEvent = findings.filter { $0.details["created"]?.stringValue != nil }.max {
            ($0.details["created"]?.stringValue ?? "") < ($1.details["created"]?.stringValue ?? "")
        }
        let remote =
            state?.details["remote"]?.stringValue ?? findings.lazy.compactMap { $0.details["remote"]?.stringValue }
            .first
            ?? newestEvent?.details["status"]?.stringValue ?? ""
        let local =
            state?.details["local"]?.stringValue ?? findings.lazy.compactMap { $0.details["local"]?.stringValue }.first
            ?? ""
        return PaymentRow(
            provider: first.provider ?? "",
            resourceType: type,
            resourceID: id,
            kinds: Array(Set(findings.map(\.kind))).sorted(),
            localStatus: local,
            remoteStatus: remote,
            money: state?.money ?? newestEvent?.money ?? findings.lazy.compactMap(\.money).first,
            providerUpdatedAt: state?.details["remote_updated"]?.stringValue
                ?? newestEvent?.details["created"]?.stringValue ?? "",
            cause: state?.details["cause"]?.stringValue ?? "",
            findingIDs: findings.sorted(by: Finding.reportOrder).map(\.id),
            repaired: findings.contains(where: \.repaired),
            isNew: findings.contains(where: \.isNew)
        )
    }

    /// Money per currency over `rows`, each resource once; nil for a currency whose sum overflows.
    public static func totals(_ rows: [PaymentRow]) -> [String: (resources: Int, minorUnits: Int64?)] {
        var totals: [String: (resources: Int, minorUnits: Int64?)] = [:]
        for row in rows {
            guard let money = row.money else { continue }
            let current = totals[money.currency] ?? (0, 0)
            let sum = current.minorUnits.flatMap { sum -> Int64? in
                let (added, overflow) = sum.addingReportingOverflow(money.minorUnits)
                return overflow ? nil : added
            }
            totals[money.currency] = (current.resources + 1, sum)
        }
        return totals
    }

    /// The CSV text for a report.
    ///
    /// - Parameters:
    ///   - report: the run's report.
    ///   - rows: its ``rows(_:)`` when the caller has them already.
    /// - Returns: The file's text, a header and one line per row.
    public static func render(_ report: RunReport, rows: [PaymentRow]? = nil) -> String {
        let numeric: Set<Int> = [7, 9]
        var lines = [header.joined(separator: ",")]
        for row in rows ?? Self.rows(report) {
            let cells = [
                report.run.id, row.provider, row.resourceType, row.resourceID,
                row.kinds.map(\.rawValue).joined(separator: " "), row.localStatus, row.remoteStatus,
                row.money.map { String($0.minorUnits) } ?? "", row.money?.currency ?? "",
                row.money?.decimalString ?? "",
                row.providerUpdatedAt, row.cause, row.repaired ? "true" : "false", row.isNew ? "true" : "false",
                row.findingIDs.joined(separator: " "),
            ]
            lines.append(
                cells.enumerated().map { index, cell in escape(cell, numeric: numeric.contains(index)) }.joined(
                    separator: ","
                )
            )
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A cell as CSV: quoted when it holds a comma, a quote or a line break, its quotes doubled;
    /// a text cell that starts like a formula gets a `'` first.
    ///
    /// Decided on the UTF-8 bytes, not on `Character`s: CR LF is one `Character`, and so is a comma
    /// or a quote followed by a combining mark, and none of them equals `,`, `"`, `\n` or `\r`, so
    /// such a cell was left unquoted (or its quote undoubled) and broke its row.
    static func escape(_ cell: String, numeric: Bool) -> String {
        let quote = UInt8(ascii: "\"")
        let formula = !numeric && cell.utf8.first.map(formulaStarts.contains) == true
        let needsQuotes = cell.utf8.contains { quoteWorthy.contains($0) }
        guard needsQuotes || formula else { return cell }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(cell.utf8.count + 3)
        if needsQuotes { bytes.append(quote) }
        if formula { bytes.append(UInt8(ascii: "'")) }
        for byte in cell.utf8 {
            bytes.append(byte)
            if needsQuotes, byte == quote { bytes.append(quote) }
        }
        if needsQuotes { bytes.append(quote) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// First bytes of a cell that a spreadsheet would take for a formula.
    private static let formulaStarts: Set<UInt8> = Set("=+-@\t\r".utf8)
    /// Bytes that make a cell quoted.
    private static let quoteWorthy: Set<UInt8> = Set(",\"\n\r".utf8)
}
