import Foundation
import Testing

@testable import ReconcileCore

/// payments.csv is read by spreadsheets and scripts that split on bytes: every cell reads back as
/// it was, whatever characters it holds.
@Suite struct PaymentsCSVTests {
    /// One CSV field read back by its bytes: quoted (quotes doubled inside) or bare (then without a
    /// comma, quote or line break); nil when it is neither.
    static func field(_ text: String) -> String? {
        let quote = UInt8(ascii: "\"")
        let bytes = Array(text.utf8)
        guard bytes.first == quote else {
            let special = Set(",\"\n\r".utf8)
            return bytes.contains(where: special.contains) ? nil : text
        }
        guard bytes.count >= 2, bytes.last == quote else { return nil }
        var out: [UInt8] = []
        var index = 1
        while index < bytes.count - 1 {
            if bytes[index] == quote {
                guard index + 1 < bytes.count - 1, bytes[index + 1] == quote else { return nil }
                index += 1
            }
            out.append(bytes[index])
            index += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    @Test(arguments: [
        "plain", "", "a,b", "a\"b", "\"\"", "a\nb", "a\rb",
        // One `Character` each, and none of them a comma, quote or line break as Swift compares them.
        "a\r\nb", "\r\n", ",\u{301}", "x,\u{301}y", "\"\u{301}", "😀\"😀", "é,ü",
    ])
    func aCellReadsBackAsItWasWhateverItsCharacters(cell: String) {
        let written = PaymentsCSV.escape(cell, numeric: true)
        #expect(Self.field(written).map { Array($0.utf8) } == Array(cell.utf8), "\(written.debugDescription)")
    }

    @Test func aTextCellThatStartsLikeAFormulaGetsAQuoteMarkFirst() {
        #expect(PaymentsCSV.escape("=SUM(A1)", numeric: false) == "'=SUM(A1)")
        #expect(PaymentsCSV.escape("=1,2", numeric: false) == "\"'=1,2\"")
        #expect(PaymentsCSV.escape("@x\"y", numeric: false) == "\"'@x\"\"y\"")
        // A formula sign followed by a combining mark is still the cell's first byte.
        #expect(PaymentsCSV.escape("=\u{301}1", numeric: false) == "'=\u{301}1")
        #expect(PaymentsCSV.escape("-1050", numeric: true) == "-1050", "a number keeps its sign")
        #expect(PaymentsCSV.escape("pending", numeric: false) == "pending")
    }
}

/// Two payments whose ids differ only in how an accented letter is spelled are two payments in
/// payments.csv and report.md, as in the stores, in the stores' (byte) order.
@Suite struct SpelledApartResourceTests {
    @Test func twoSpellingsOfOnePaymentIdAreTwoRowsAndTwoSections() {
        let composed = "pay_caf\u{E9}"
        let decomposed = "pay_cafe\u{301}"
        #expect(composed == decomposed, "Swift's String equality: canonical equivalence")
        let findings = [(composed, "failed", Int64(1_050)), (decomposed, "refunded", Int64(2_000))].map {
            id,
            remote,
            amount in
            Finding(
                kind: .stateMismatch,
                provider: "credicorp",
                resourceType: "payment",
                resourceID: id,
                eventID: nil,
                details: [
                    "local": "succeeded", "remote": .string(remote), "cause": "dropped_event",
                    "amount": .integer(amount), "currency": "GBP",
                ]
            )
        }
        var report = ReportJSONTests.emptyReport
        report.findings = findings
        let rows = PaymentsCSV.rows(report)
        // The decomposed spelling's "e" (0x65) comes before the composed "é" (0xC3 0xA9).
        #expect(rows.map { Array($0.resourceID.utf8) } == [decomposed, composed].map { Array($0.utf8) })
        #expect(rows.map(\.remoteStatus) == ["refunded", "failed"])
        #expect(PaymentsCSV.totals(rows)["GBP"]?.minorUnits == 3_050)
        let markdown = MarkdownReport.render(report)
        let headings = markdown.split(separator: "\n").filter { $0.hasPrefix("### credicorp payment ") }
        #expect(headings.count == 2, "\(headings)")
        #expect(headings.map { $0.hasSuffix("provider refunded (20.00 GBP)") } == [true, false], "\(headings)")
    }

    /// A resource's section heading holds the provider's id and statuses: none of them ends its line.
    @Test func aSectionHeadingIsOneLineWhateverTheIdsAndStatuses() {
        var report = ReportJSONTests.emptyReport
        report.findings = [
            Finding(
                kind: .stateMismatch,
                provider: "credicorp",
                resourceType: "payment",
                resourceID: "pay\n### forged",
                eventID: nil,
                details: ["local": "succeeded\r\nx", "remote": "failed\rMORE", "cause": "dropped_event"]
            )
        ]
        let lines = MarkdownReport.render(report).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(!lines.contains { $0.hasPrefix("### forged") })
        #expect(!MarkdownReport.render(report).utf8.contains(UInt8(ascii: "\r")))
        let heading = lines.filter { $0.hasPrefix("### credicorp payment pay") }
        #expect(heading == ["### credicorp payment pay ### forged: ours succeeded  x, provider failed MORE"])
    }
}

/// report.md puts provider text in table cells and list lines: no text may end a line or a cell.
@Suite struct MarkdownCellTests {
    @Test(arguments: ["a|b", "|\u{301}", "x|\u{301}|y", "a\nb", "a\rb", "a\r\nb", "é|ü\r", "plain"])
    func aCellNeverBreaksItsRowWhateverItsCharacters(text: String) {
        let bytes = Array(MarkdownReport.cell(text).utf8)
        #expect(!bytes.contains(UInt8(ascii: "\n")) && !bytes.contains(UInt8(ascii: "\r")))
        for (index, byte) in bytes.enumerated() where byte == UInt8(ascii: "|") {
            #expect(index > 0 && bytes[index - 1] == UInt8(ascii: "\\"), "an unescaped | in \(bytes)")
        }
        // Nothing else changes: the text without its escapes and with spaces for line breaks.
        let expected = Array(text.utf8).map {
            $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") ? UInt8(ascii: " ") : $0
        }
        #expect(bytes.filter { $0 != UInt8(ascii: "\\") } == expected)
    }
}

/// `reconcile findings` prints a tab-separated table: no text may end a row or add a column.
@Suite struct TabSeparatedCellTests {
    @Test(arguments: ["a\tb", "a\nb", "a\rb", "a\r\nb", "\r\n", "\t\u{301}", "é\r\nü", "plain", ""])
    func aCellNeverBreaksItsRowWhateverItsCharacters(text: String) {
        let bytes = Array(TabSeparated.cell(text).utf8)
        let breaks = [UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r")]
        #expect(!bytes.contains(where: breaks.contains), "\(bytes)")
        #expect(bytes == Array(text.utf8).map { breaks.contains($0) ? UInt8(ascii: " ") : $0 })
    }
}
