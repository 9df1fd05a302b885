import Foundation
import Testing

@testable import ReconcileCore

/// report.json is written by hand, one finding at a time: its bytes must stay what `JSONEncoder`
/// wrote, which consumers and stored reports of earlier runs have.
@Suite struct ReportJSONTests {
    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// A dry run of job `nightly` that found nothing, run `r1`.
    static let emptyReport = RunReport(
        run: .init(
            id: "r1",
            job: "nightly",
            startedAt: "2026-07-10T08:00:00Z",
            now: "2026-07-10T08:00:00Z",
            dryRun: true,
            status: "complete"
        ),
        providers: [],
        counts: [:],
        repairs: 0,
        findings: []
    )

    @Test func prettyTextIsWhatJSONEncoderWrites() throws {
        var random = SplitMix64(seed: 20_261_206)
        var values: [JSONValue] = [
            .array([]), .object([:]), .array([.array([]), .object([:]), .array([.integer(1)])]),
            .object(["b": .object([:]), "a": .array([]), "é": .string("a/b\n"), "A": .number(12.0)]),
            .number(0.1), .string(""), .null,
        ]
        for _ in 0..<400 { values.append(RandomJSON.value(depth: 0, random: &random)) }
        for (index, value) in values.enumerated() {
            let expected = String(decoding: try Self.encoder().encode(value), as: UTF8.self)
            var bytes: [UInt8] = []
            value.writePretty(into: &bytes, indent: 0)
            #expect(String(decoding: bytes, as: UTF8.self) == expected, "value \(index)")
        }
    }

    /// A report of random findings (absent fields, nested and empty details, either kind of id),
    /// random resolved findings and failed and complete providers, against the encoder's bytes.
    @Test(arguments: [0, 1, 7, 60])
    func reportBytesAreWhatJSONEncoderWrites(findingCount: Int) throws {
        var random = SplitMix64(seed: UInt64(findingCount) + 11)
        func maybe(_ text: String) -> String? { Bool.random(using: &random) ? text : nil }
        let findings = (0..<findingCount).map { index in
            var finding = Finding(
                kind: FindingKind.allCases.randomElement(using: &random) ?? .droppedEvent,
                provider: maybe("credicorp"),
                resourceType: maybe("payment"),
                resourceID: maybe("pay_\(index)"),
                eventID: maybe("evt_\(index)/\"x\""),
                details: RandomJSON.value(depth: 1, random: &random).objectValue ?? ["amount": .integer(1_250)],
                deliveryID: Bool.random(using: &random) ? Int64(index) : nil
            )
            finding.isNew = Bool.random(using: &random)
            finding.repaired = Bool.random(using: &random)
            if Bool.random(using: &random) {
                finding.firstSeen = "2026-07-10T08:00:00Z"
                finding.ageSeconds = Int64(index) * 86_400
            }
            if index % 5 == 0 { finding.storedID = "f_stored\(index)" }
            return finding
        }
        let resolved = (0..<(findingCount / 2)).map { index in
            ReportedFinding(
                id: "f_\(index)",
                key: "k\(index)",
                kind: "state_mismatch",
                provider: maybe("crezco"),
                resourceType: "payment",
                resourceID: maybe("p\(index)"),
                eventID: nil
            )
        }
        let window = RunReport.Window(since: "2026-07-02T08:00:00Z", until: "2026-07-10T08:00:00Z")
        let report = RunReport(
            run: .init(
                id: "20260710T080000000Z-00ab",
                job: "nightly \"ops\"",
                startedAt: "2026-07-10T08:00:00.123Z",
                finishedAt: findingCount > 1 ? "2026-07-10T08:01:00Z" : nil,
                now: "2026-07-10T08:00:00Z",
                dryRun: findingCount == 7,
                repair: findingCount == 1 ? nil : true,
                status: "complete",
                store: "/var/lib/reconcile/store.sqlite"
            ),
            providers: [
                .init(name: "credicorp", kind: "credicorp", status: "complete", window: window, apiRequests: 12),
                .init(
                    name: "crezco",
                    kind: "crezco",
                    status: "failed",
                    window: window,
                    apiRequests: 0,
                    error: "HTTP 503 from https://127.0.0.1/payments"
                ),
            ],
            counts: RunReport.counts(of: findings),
            repairs: findings.filter(\.repaired).count,
            findings: findings,
            resolved: resolved
        )
        let expected = String(decoding: try Self.encoder().encode(report), as: UTF8.self) + "\n"
        #expect(String(decoding: report.jsonBytes(), as: UTF8.self) == expected)
        #expect(report.jsonText() == expected)
        // And it reads back as the report it is.
        let decoded = try #require(RunReport.decode(expected))
        #expect(decoded.findings.map(\.id) == findings.map(\.id))
        #expect(
            decoded.resolved
                == resolved.map {
                    var copy = $0; copy.key = ""; return copy
                }
        )
    }

    /// Retention reads only the `run` of a report: found whatever the layout, the pieces it comes
    /// in, or what looks like it inside strings and nested objects.
    @Test(arguments: [1, 7, 4_096])
    func theRunOfAReportIsFoundWithoutDecodingTheRest(pieceSize: Int) throws {
        func scan(_ text: String) -> TopLevelMemberScanner.Outcome {
            var scanner = TopLevelMemberScanner(keys: ["run", "schema"])
            let bytes = Array(text.utf8)
            for start in stride(from: 0, to: bytes.count, by: pieceSize) {
                let piece = Data(bytes[start..<min(start + pieceSize, bytes.count)])
                if scanner.feed(piece) == .invalid { return .invalid }
            }
            return scanner.outcome
        }
        func found(_ text: String) -> String? {
            guard case .complete(let members) = scan(text), let run = members["run"] else { return nil }
            return String(decoding: run, as: UTF8.self)
        }
        // Decoys first: a nested "run", a string holding `"run": {`, escaped quotes and brackets.
        let tricky = #"""
            {"a":{"run":{"id":"nested"}},"b":"\"run\":{\"id\":\"x\"}]}","c":[{"run":1},"]"],
            "run"  :  {"id":"r\"1","job":"j"} , "z":1}
            """#
        #expect(found(tricky) == #"  {"id":"r\"1","job":"j"} "#)
        #expect(found(#"{"run":[1,{"a":"}"}]}"#) == #"[1,{"a":"}"}]"#)
        #expect(found("{\"schema\":\"s\",\"run\":7}\n\n") == "7")
        #expect(scan(#"{"runs":1,"r\u0075n":2}"#) == .complete([:]))
        #expect(scan(#"[{"run":1}]"#) == .invalid)
        #expect(scan(#"{"run":1}{"run":2}"#) == .invalid, "something after the object")
        #expect(scan(#"{"run":1,"run":2}"#) == .invalid, "a wanted key twice")
        #expect(scan(#"{"a":1,"run":{"id":"x"}"#) == .needMore, "cut off")
        #expect(scan(#"{"a":1,"run""#) == .needMore)

        // And from a report written by the run, with findings that carry a `run` of their own.
        let report = RunReport(
            run: .init(
                id: "20260710T080000000Z-00ab",
                job: "nightly",
                startedAt: "2026-07-10T08:00:00Z",
                now: "2026-07-10T08:00:00Z",
                dryRun: false,
                status: "complete"
            ),
            providers: [],
            counts: [:],
            repairs: 0,
            findings: [
                Finding(
                    kind: .stateMismatch,
                    provider: "credicorp",
                    resourceType: "payment",
                    resourceID: "p1",
                    eventID: nil,
                    details: ["run": .object(["id": .string("decoy"), "job": .string("nightly")])]
                )
            ]
        )
        let text = report.jsonText()
        let value = try #require(found(text))
        let run = try JSONDecoder().decode(RunReport.RunInfo.self, from: Data(value.utf8))
        #expect(run.id == "20260710T080000000Z-00ab" && run.job == "nightly" && run.now == "2026-07-10T08:00:00Z")
    }

    /// Random documents with a top-level "run" among members that nest, hold strings with escapes
    /// and decoys: the scanner finds the value a parser finds, whether a document comes whole, in
    /// random pieces or byte by byte (where a skip can never run past the piece).
    @Test func theScannerFindsWhatAParserFindsInRandomDocuments() throws {
        var random = SplitMix64(seed: 20_261_207)
        for round in 0..<300 {
            var members: [String] = []
            for _ in 0..<Int.random(in: 0..<6, using: &random) {
                let key = RandomJSON.string(random: &random)
                members.append(
                    RandomJSON.quoted(key, random: &random) + ":"
                        + RandomJSON.text(RandomJSON.value(depth: 0, random: &random), random: &random)
                )
            }
            // Decoys: a nested "run", and a string that looks like one.
            let nested = JSONValue.object(["run": RandomJSON.value(depth: 2, random: &random)])
            members.append(#""nested":"# + RandomJSON.text(nested, random: &random))
            members.append(#""decoy":"{\"run\":1}""#)
            // The key as written (an escaped spelling of it is another key).
            let run = RandomJSON.value(depth: 1, random: &random)
            members.append(#""run""# + RandomJSON.space(random: &random) + ":" + RandomJSON.text(run, random: &random))
            members.shuffle(using: &random)
            let bytes = Array(("{" + members.joined(separator: ",") + RandomJSON.space(random: &random) + "}").utf8)
            var cuts = [0, bytes.count]
            for _ in 0..<Int.random(in: 0..<8, using: &random) {
                cuts.append(Int.random(in: 0...bytes.count, using: &random))
            }
            for pieces in [[0, bytes.count], cuts.sorted(), Array(0...bytes.count)] {
                var scanner = TopLevelMemberScanner(keys: ["run"])
                var outcome = TopLevelMemberScanner.Outcome.needMore
                for (start, end) in zip(pieces, pieces.dropFirst()) where outcome != .invalid {
                    outcome = scanner.feed(Data(bytes[start..<end]))
                }
                guard outcome != .invalid, case .complete(let members) = scanner.outcome, let found = members["run"]
                else {
                    Issue.record(
                        "round \(round), \(pieces.count - 1) pieces: no run in \(String(decoding: bytes.prefix(200), as: UTF8.self))"
                    )
                    continue
                }
                #expect(try JSONValue.parsing(Data(found)) == run, "round \(round), \(pieces.count - 1) pieces")
            }
        }
    }

    @Test func runInfoReadsAReportFileAndRefusesWhatIsNotOne() async throws {
        try await withTemporaryDirectory { folder in
            let path = folder.appendingPathComponent("report.json").path
            let report = Self.emptyReport
            try ReportWriter.atomicWrite(report.jsonText(), to: path)
            #expect(RunReport.runInfo(atPath: path)?.id == "r1")
            let text = report.jsonText()
            var otherSchema = report
            otherSchema.schema = "someone-elses-report/1"
            let broken = [
                "", "[]", #"{"run":{"id":"r1"}}"#, String(text.dropLast(3)), otherSchema.jsonText(),
                text + "{}",
            ]
            for broken in broken {
                try ReportWriter.atomicWrite(broken, to: path)
                #expect(RunReport.runInfo(atPath: path) == nil, "\(broken.prefix(80))")
            }
            #expect(RunReport.runInfo(atPath: folder.appendingPathComponent("missing.json").path) == nil)
        }
    }

    /// report.json is written last; when it fails, the files written before it go too, so no
    /// folder is left that retention could never prove is this job's.
    @Test func aReportThatFailsLeavesNoFilesWithoutItsReportJSON() async throws {
        try await withTemporaryDirectory { folder in
            let report = Self.emptyReport
            // A folder in report.json's place (and a file in it): the rename onto it fails.
            let blocker = folder.appendingPathComponent("reports/r1/report.json")
            try FileManager.default.createDirectory(at: blocker, withIntermediateDirectories: true)
            try "x".write(to: blocker.appendingPathComponent("keep"), atomically: true, encoding: .utf8)
            #expect(throws: ReportFailure.self) {
                _ = try ReportWriter.write(
                    report,
                    reportsRoot: folder.appendingPathComponent("reports").path,
                    extraJSON: nil,
                    exitStatus: 0
                )
            }
            let left = try FileManager.default.contentsOfDirectory(
                atPath: folder.appendingPathComponent("reports/r1").path
            )
            #expect(left == ["report.json"])

            // Without the blocker, the same call writes all four.
            try FileManager.default.removeItem(at: blocker)
            let written = try ReportWriter.write(
                report,
                reportsRoot: folder.appendingPathComponent("reports").path,
                extraJSON: nil,
                exitStatus: 0
            )
            #expect(
                Set(try FileManager.default.contentsOfDirectory(atPath: written.folder))
                    == ["report.json", "report.md", "payments.csv", "summary.txt"]
            )
            #expect(try Data(contentsOf: URL(fileURLWithPath: written.folder + "/report.json")) == Data(written.json))
        }
    }

    /// The store keeps the very bytes written to report.json (bound where they lie, not copied).
    @Test func theStoreKeepsTheReportsBytes() async throws {
        try await withTemporaryDirectory { folder in
            let store = try Store(path: folder.appendingPathComponent("store.sqlite").path)
            let now = Date(timeIntervalSince1970: 1_783_670_400)
            _ = try store.beginRun(
                id: "r1",
                job: "nightly",
                command: "run",
                round: nil,
                startedAt: now,
                now: now,
                since: now.addingTimeInterval(-86_400),
                until: now,
                dryRun: true
            )
            let text = "{\n  \"schema\" : \"é/😀\"\n}\n"
            try store.finishRun(
                id: "r1",
                status: "complete",
                exitStatus: 0,
                finishedAt: now,
                entries: [],
                findings: [],
                report: Array(text.utf8)
            )
            let stored = try #require(try store.run(job: "nightly", id: "r1"))
            #expect(stored.report == text)
            #expect(stored.status == "complete")
        }
    }
}
