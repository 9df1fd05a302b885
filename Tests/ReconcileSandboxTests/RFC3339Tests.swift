import Foundation
import Testing

@testable import ReconcileSandbox

@Suite struct RFC3339Tests {
    @Test func formatsWholeSecondsAndMilliseconds() {
        let date = Date(timeIntervalSince1970: 1_783_156_522.12)
        #expect(RFC3339.format(date) == "2026-07-04T09:15:22Z")
        #expect(RFC3339.format(date, milliseconds: true) == "2026-07-04T09:15:22.120Z")
        #expect(RFC3339.format(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00Z")
        #expect(RFC3339.format(Date(timeIntervalSince1970: 951_782_400)) == "2000-02-29T00:00:00Z")
    }

    @Test(arguments: [
        ("2026-07-04T09:15:22Z", 1_783_156_522.0),
        ("2026-07-04T09:15:22.5Z", 1_783_156_522.5),
        ("2026-07-04t09:15:22.250z", 1_783_156_522.25),
        ("2000-02-29T00:00:00Z", 951_782_400.0),
    ])
    func parses(text: String, seconds: Double) {
        #expect(RFC3339.parse(text)?.timeIntervalSince1970 == seconds)
    }

    @Test(arguments: [
        "2026-07-04T09:15:22", "2026-07-04T09:15:22+01:00", "2026-13-04T09:15:22Z", "2026-07-04", "yesterday",
        "2026-07-04T09:15:22.Z", "2026-02-30T00:00:00Z",
    ])
    func refuses(text: String) {
        #expect(RFC3339.parse(text) == nil)
    }
}
