import Foundation
import Testing

@testable import ReconcileSandbox

@Suite struct CombinedHistoryTests {
    let combined = SandboxHistory.all(seed: 42, now: fixtureNow)

    @Test func mergesEveryLineInReceiptOrder() {
        #expect(
            combined.captureLines.count
                == combined.credicorp.deliveries.count + combined.crezco.deliveries.count
                + combined.credify.deliveries.count
        )
        let times = combined.captureLines.compactMap { ProviderCaptureCheck.parse($0)?.receivedAt }
        #expect(times == times.sorted())
        #expect(times.count == combined.captureLines.count - 3)
        let providers = Set(combined.captureLines.compactMap { ProviderCaptureCheck.parse($0) }.map(\.url))
        #expect(providers.count == 3)
        #expect(combined.captureNDJSON.split(separator: "\n").count == combined.captureLines.count)
    }

    @Test func findingsAreTheProvidersFindings() {
        #expect(
            combined.expectedFindings
                == combined.credicorp.expectedFindings + combined.crezco.expectedFindings
                + combined.credify.expectedFindings
        )
        #expect(Set(combined.expectedFindings.map(\.provider)) == ["credicorp", "crezco", "credify"])
        let window = combined.expectedFindings(since: fixtureNow.addingTimeInterval(-86_400), until: fixtureNow)
        #expect(!window.isEmpty && window.count < combined.expectedFindings.count)
        let again = SandboxHistory.all(seed: 42, now: fixtureNow)
        #expect(again.expectedFindings == combined.expectedFindings)
        #expect(
            again.captureLines.map(ProviderCaptureCheck.withoutCrezcoSignature)
                == combined.captureLines.map(ProviderCaptureCheck.withoutCrezcoSignature)
        )
    }

    @Test func nonListableResourcesAreCoveredByTheirEvents() throws {
        let finding = try #require(
            combined.crezco.expectedFindings.first { $0.kind == .missingLocally && $0.resourceType == "verification" }
        )
        let at = try #require(finding.at)
        let earlier = try #require(finding.windowTimes.min())
        #expect(earlier < at)
        #expect(finding.isCovered(since: earlier, until: at))
        #expect(!finding.isCovered(since: at.addingTimeInterval(1), until: fixtureNow))
    }

    @Test func oneServerAnswersAllThree() async throws {
        let combined = self.combined
        try await withSandbox(combined.world) { server, _ async throws in
            let credicorp = SandboxClient(base: server.baseURL(for: "credicorp"), key: combined.credicorp.apiKey)
            #expect(try await credicorp.get("/public/v1/events?limit=1").status == 200)
            #expect(
                try await ProviderClient.crezco(server, key: combined.crezco.apiKey).get("/v1/payruns").status == 200
            )
            #expect(
                try await ProviderClient.credify(server, key: combined.credify.apiKey).get("/v1/bnpl/orders").status
                    == 200
            )
            #expect(
                try await ProviderClient.crezco(server, key: combined.credify.apiKey).get("/v1/payruns").status == 401
            )
        }
    }

    @Test func httpDateAndBase64URL() {
        let date = Date(timeIntervalSince1970: 1_783_156_525.9)
        #expect(HTTPDate.format(date) == "Sat, 04 Jul 2026 09:15:25 GMT")
        #expect(HTTPDate.parse("Sat, 04 Jul 2026 09:15:25 GMT") == Date(timeIntervalSince1970: 1_783_156_525))
        #expect(HTTPDate.format(Date(timeIntervalSince1970: 0)) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(HTTPDate.parse("2026-07-04T09:15:25Z") == nil)
        #expect(Base64URL.encode([0xFB, 0xFF]) == "-_8")
        #expect(Base64URL.decode("-_8") == Data([0xFB, 0xFF]))
    }
}
