import Foundation
import ReconcileSandbox
import Testing

/// Every kind of hostile job file through the built executable: exit 2 naming file, line and key, nothing run (#9).
@Suite(.serialized) struct HostileJobFileCLITests {
    /// A change to the harness's job file: `original` replaced by `replacement` (raw bytes appended when given).
    struct Edit: Sendable, CustomTestStringConvertible {
        var original: String
        var replacement: String
        var trailingBytes: [UInt8] = []
        /// What the error must say, after `bad.yml:`.
        var message: String

        var testDescription: String { message }
    }

    static let edits: [Edit] = [
        Edit(original: "lookback: 8d", replacement: "lookback: 0d", message: "lookback is '0d'"),
        Edit(original: "lookback: 8d", replacement: "lookback: -3d", message: "lookback is '-3d'"),
        Edit(original: "lookback: 8d", replacement: "lookback: 99999999999999999999d", message: "lookback is"),
        Edit(
            original: "    endpoint_id:",
            replacement: "    rate_limit: 0.0001\n    endpoint_id:",
            message: "rate_limit is '0.0001'"
        ),
        Edit(original: "lookback: 8d", replacement: "lookback: !!str 8d", message: "tag"),
        Edit(original: "lookback: 8d", replacement: "lookback: &l 8d\nretention: *l", message: "anchor"),
        Edit(original: "lookback: 8d", replacement: "lookback: 8d\nlookback: 9d", message: "twice"),
        Edit(original: "name: cli", replacement: "name: ../../etc", message: "name is"),
        Edit(
            original: "lookback: 8d",
            replacement: "lookback: 8d",
            trailingBytes: [0x23, 0xFF, 0xFE, 0x0A],
            message: "not UTF-8"
        ),
    ]

    @Test(arguments: edits)
    func aHostileJobFileExitsTwoNamingWhatIsWrong(edit: Edit) async throws {
        try await CLIHarness.with { cli in
            var bytes = Data(
                try String(contentsOf: cli.path("job.yml"), encoding: .utf8)
                    .replacingOccurrences(of: edit.original, with: edit.replacement).utf8
            )
            bytes.append(contentsOf: edit.trailingBytes)
            try bytes.write(to: cli.path("bad.yml"))
            for command in [["run", "bad.yml"], ["ingest", "bad.yml", "captures.ndjson"]] {
                let result = try await cli.reconcile(command)
                #expect(result.status == 2, "\(command[0]): \(result.stderr)")
                #expect(result.stderr.contains("bad.yml:"), "names the file and line: \(result.stderr)")
                #expect(result.stderr.contains(edit.message), "\(result.stderr)")
                #expect(!result.stderr.contains("Fatal error"))
            }
            #expect(try await !cli.storeExists(), "nothing ran")
        }
    }

    @Test func aJobFileTooBigOrAFolderOrMissingExitsTwo() async throws {
        try await CLIHarness.with { cli in
            let name = String(repeating: "n", count: 2 << 20)
            try Data("name: \(name)\n".utf8).write(to: cli.path("huge.yml"))
            let cases = [
                ("huge.yml", "larger than 1 MiB"), (cli.folder.path, "is a directory"), ("none.yml", "no file"),
            ]
            for (path, message) in cases {
                let result = try await cli.reconcile(["run", path])
                #expect(result.status == 2, "\(path): \(result.stderr.prefix(300))")
                #expect(result.stderr.contains(message), "\(result.stderr.prefix(300))")
                #expect(result.stderr.utf8.count < 2_000, "the error does not echo the file")
            }
        }
    }
}
