import Foundation
import Testing

@testable import ReconcileCore

/// Replays the committed fuzz seeds (and any crash input added beside them) through the fuzzed code.
///
/// A crash libFuzzer finds is kept as a file in `Tests/Fuzz/<target>/`: this suite then runs it on
/// every `swift test`, without the fuzzing build.
@Suite struct FuzzCorpusReplayTests {
    static func inputs(_ target: String) -> [URL] {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fuzz").appendingPathComponent(target)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.sorted().map { folder.appendingPathComponent($0) }
    }

    @Test func jsonSeedsParseOrFailCleanly() throws {
        let inputs = Self.inputs("FuzzJSON")
        #expect(inputs.count >= 5)
        var accepted = 0
        for input in inputs {
            let data = try Data(contentsOf: input)
            if let value = JSONValue.parse(data) {
                accepted += 1
                #expect(JSONValue.parse(Data(value.canonicalText.utf8)) != nil, "\(input.lastPathComponent)")
            }
        }
        #expect(accepted >= 4)
    }

    @Test func captureSeedsAreSignedDeliveriesOfEachProvider() throws {
        var providers: Set<String> = []
        for input in Self.inputs("FuzzCapture") {
            if let delivery = try? CapturedDelivery.parse(line: try Data(contentsOf: input)) {
                providers.insert(delivery.provider)
            }
        }
        #expect(providers == ["credicorp", "crezco", "credify"])
    }

    @Test func jobFileSeedsParseOrAreRefusedWithAnError() throws {
        let environment = [
            "CREDICORP_API_KEY": "k", "CREDICORP_WHSEC": Fixture.secret, "CREDICORP_WHSEC_PREVIOUS": Fixture.secret,
            "CREZCO_API_KEY": "k", "CREDIFY_API_KEY": "k",
            "CREDIFY_PUBLIC_KEY": Data(repeating: 1, count: 32).base64EncodedString(),
        ]
        var parsed = 0
        for input in Self.inputs("FuzzJobFile") {
            let text = String(decoding: try Data(contentsOf: input), as: UTF8.self)
            if (try? JobFile.parse(text: text, file: input.lastPathComponent, environment: environment)) != nil {
                parsed += 1
            }
        }
        #expect(parsed >= 2, "nightly.yml and minimal.yml are valid job files")
    }
}
