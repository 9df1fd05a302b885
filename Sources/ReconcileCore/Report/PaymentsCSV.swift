/// `payments.csv`: every finding on a payment-like resource, for finance.
///
/// Amounts appear twice: exact integer minor units and a decimal string in major units (computed
/// with integers). Text cells that a spreadsheet would run as a formula are prefixed with `'`.
public enum PaymentsCSV {
    /// Resource types that move money to or from a customer.
    public static let paymentTypes: Set<String> = ["payment", "payable", "bnpl_order"]

    static let header = [
        "run_id", "provider", "resource_type", "resource_id", "kind", "event_id", "local_status", "remote_status",
        "amount_minor", "currency", "amount", "cause", "repaired", "new",
    ]

    /// The CSV text for a report.
    public static func render(_ report: RunReport) -> String {
        let payments = report.findings.filter { paymentTypes.contains($0.resourceType ?? "") }
        var stateByResource: [String: Finding] = [:]
        for finding in payments where finding.kind == .stateMismatch || finding.kind == .missingLocally {
            stateByResource[resourceKey(finding)] = finding
        }
        var lines = [header.joined(separator: ",")]
        for finding in payments {
            let state = stateByResource[resourceKey(finding)]
            let local = finding.details["local"]?.stringValue ?? state?.details["local"]?.stringValue ?? ""
            let remote =
                finding.details["remote"]?.stringValue ?? state?.details["remote"]?.stringValue
                ?? finding.details["status"]?.stringValue ?? ""
            let money = finding.money ?? state?.money
            let cells = [
                report.run.id, finding.provider ?? "", finding.resourceType ?? "", finding.resourceID ?? "",
                finding.kind.rawValue, finding.eventID ?? "", local, remote,
                money.map { String($0.minorUnits) } ?? "", money?.currency ?? "", money?.decimalString ?? "",
                finding.details["cause"]?.stringValue ?? "", finding.repaired ? "true" : "false",
                finding.isNew ? "true" : "false",
            ]
            lines.append(
                cells.enumerated().map { index, cell in escape(cell, numeric: index == 8 || index == 10) }.joined(
                    separator: ","
                )
            )
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func resourceKey(_ finding: Finding) -> String {
        "\(finding.provider ?? "")|\(finding.resourceType ?? "")|\(finding.resourceID ?? "")"
    }

    static func escape(_ cell: String, numeric: Bool) -> String {
        var text = cell
        if !numeric, let first = text.first, "=+-@\t\r".contains(first) { text = "'" + text }
        guard text.contains(where: { ",\"\n\r".contains($0) }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
