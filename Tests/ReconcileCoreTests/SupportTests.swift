import Foundation
import Testing

@testable import ReconcileCore

@Suite struct SupportTests {
    @Test(arguments: [
        ("2026-07-04T09:15:22Z", "2026-07-04T09:15:22Z"),
        ("2026-07-04T09:15:22.120Z", "2026-07-04T09:15:22.120Z"),
        ("2026-07-04T10:15:22+01:00", "2026-07-04T09:15:22Z"),
        ("2024-02-29T23:59:59.9999Z", "2024-02-29T23:59:59.999Z"),
        ("1969-12-31T23:59:59Z", "1969-12-31T23:59:59Z"),
    ])
    func rfc3339RoundTrips(input: String, output: String) throws {
        let date = try #require(RFC3339.parse(input))
        #expect(RFC3339.format(date) == output)
    }

    @Test(arguments: [
        "2026-07-04 09:15:22Z", "2026-13-04T09:15:22Z", "2023-02-29T00:00:00Z", "2026-07-04T09:15:22", "", "x",
    ])
    func rfc3339RejectsBadTimes(input: String) {
        #expect(RFC3339.parse(input) == nil)
    }

    @Test(arguments: [
        (Int64(125_000), "GBP", "1250.00"), (-5, "EUR", "-0.05"), (1234, "JPY", "1234"), (1, "KWD", "0.001"),
    ])
    func moneyPrintsWithIntegers(minor: Int64, currency: String, text: String) {
        #expect(Money(minorUnits: minor, currency: currency).decimalString == text)
    }

    @Test func jsonKeepsLargeIntegersExact() throws {
        let value = try #require(JSONValue.parse(Data(#"{"amount":9007199254740993}"#.utf8)))
        #expect(value["amount"]?.integerValue == 9_007_199_254_740_993)
    }

    @Test func captureReaderStreamsLinesWithNumbers() throws {
        let pipe = Pipe()
        pipe.fileHandleForWriting.write(Data("a\n\n  \nb\r\nc".utf8))
        try pipe.fileHandleForWriting.close()
        let lines = CaptureReader(handle: pipe.fileHandleForReading, chunkSize: 2, requiresJSONLines: false).map {
            ($0.lineNumber, String(decoding: $0.bytes, as: UTF8.self))
        }
        #expect(lines.map(\.0) == [1, 4, 5])
        #expect(lines.map(\.1) == ["a", "b", "c"])
    }
}
