import Foundation
import Testing

/// `reconcile ingest` on inputs that are not a capture, or hostile ones, driving the built binary.
@Suite struct HostileCaptureCLITests {
    @Test func aDirectoryAMissingFileABrokenArchiveOrACSVIsRefusedBeforeAnythingIsRecorded() async throws {
        try await CLIHarness.with { harness in
            try FileManager.default.createDirectory(at: harness.path("dir"), withIntermediateDirectories: true)
            try Data([0x1F, 0x8B, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03]).write(
                to: harness.path("c.ndjson.gz")
            )
            var corrupt = try CaptureHardeningGzip.gzip(Data(contentsOf: harness.path("captures.ndjson")))
            corrupt[corrupt.count / 2] ^= 0x55
            try corrupt.write(to: harness.path("corrupt.ndjson.gz"))
            try "provider,received_at,body\ncredicorp,2026-07-04T09:15:25Z,{}\n".write(
                to: harness.path("export.csv"),
                atomically: true,
                encoding: .utf8
            )
            let cases = [
                ("dir", "capture file dir is a directory"),
                ("missing.ndjson", "capture file missing.ndjson does not exist"),
                (
                    "c.ndjson.gz",
                    "cannot read capture file c.ndjson.gz: its gzip data ends inside a member after 10 bytes"
                ),
                ("corrupt.ndjson.gz", "cannot read capture file corrupt.ndjson.gz: its gzip data is corrupt at"),
                (
                    "export.csv",
                    "capture file export.csv is text of another kind (none of its first 2 lines starts a JSON object)"
                ),
            ]
            for (name, message) in cases {
                let result = try await harness.reconcile(["ingest", "job.yml", "captures.ndjson", name])
                #expect(result.status == 2, "\(name): \(result.stderr)")
                #expect(!result.killed)
                #expect(result.stderr.contains(message), "\(result.stderr)")
                #expect(try await !harness.storeExists(), "\(name): nothing recorded, the store not even created")
            }
        }
    }

    /// A gzipped capture (one member or several, as rotation and `cat` make them), as a file or on
    /// standard input, goes in exactly as the plain file does: same counts, same rejected line numbers.
    @Test func aGzippedCaptureIsReadAsThePlainOne() async throws {
        try await CLIHarness.with(allProviders: true) { harness in
            let plain = try Data(contentsOf: harness.path("captures.ndjson"))
            let lines = plain.split(separator: 0x0A, omittingEmptySubsequences: false)
            let half = lines.prefix(lines.count / 2).joined(separator: [0x0A]) + [0x0A]
            let rest = lines.dropFirst(lines.count / 2).joined(separator: [0x0A])
            var archive = try CaptureHardeningGzip.gzip(Data(half))
            archive.append(try CaptureHardeningGzip.gzip(Data(rest)))
            try archive.write(to: harness.path("captures.ndjson.gz"))

            let fromPlain = try await harness.reconcile(["ingest", "job.yml", "--store", "a.sqlite", "captures.ndjson"])
            let fromGzip = try await harness.reconcile(
                ["ingest", "job.yml", "--store", "b.sqlite", "captures.ndjson.gz"]
            )
            #expect(fromPlain.status == 1, "the history has rejected lines: \(fromPlain.stderr)")
            #expect(fromGzip.status == fromPlain.status, "\(fromGzip.stderr)")
            #expect(fromPlain.stdout.contains("rejected captures.ndjson:"))
            #expect(
                fromGzip.stdout
                    == fromPlain.stdout.replacingOccurrences(of: "captures.ndjson:", with: "captures.ndjson.gz:")
            )

            let command = "exec \"$0\" ingest job.yml --store c.sqlite - < captures.ndjson.gz"
            let (fromStdin, _) = try await Self.run(["-c", command, CLIHarness.executable.path], harness: harness)
            #expect(fromStdin.stdout == fromPlain.stdout.replacingOccurrences(of: "captures.ndjson:", with: "-:"))
            let again = try await harness.reconcile(["ingest", "job.yml", "--store", "a.sqlite", "captures.ndjson.gz"])
            #expect(
                again.stdout.contains("ingest: 0 accepted, "),
                "the archive's lines are the ones already recorded: \(again.stdout)"
            )
        }
    }

    @Test func binaryStreamsAreRefusedWholeAndQuickly() async throws {
        try await CLIHarness.with { harness in
            let result = try await harness.reconcile(["ingest", "job.yml", "/dev/zero"], timeout: 30)
            #expect(result.status == 2)
            #expect(result.stderr.contains("capture file /dev/zero is binary (it holds NUL bytes)"))
            #expect(result.stdout.contains("ingest: 0 accepted, 0 duplicates, 0 rejected"))
        }
    }

    @Test func aFifoIsReadAsAStream() async throws {
        try await CLIHarness.with { harness in
            let fifo = harness.path("capture.fifo").path
            #expect(mkfifo(fifo, 0o600) == 0)
            let writer = try Self.shell("cat captures.ndjson > capture.fifo", in: harness.folder)
            let streamed = try await harness.reconcile(["ingest", "job.yml", "capture.fifo"], timeout: 60)
            writer.waitUntilExit()
            let file = try await harness.reconcile(["ingest", "job.yml", "--store", "other.sqlite", "captures.ndjson"])
            #expect(streamed.status == file.status, "\(streamed.stderr)")
            #expect(!streamed.stdout.isEmpty)
            #expect(streamed.stdout.replacingOccurrences(of: "capture.fifo", with: "captures.ndjson") == file.stdout)
        }
    }

    @Test func aHugeLineIsRejectedWithItsNumberWithoutHoldingIt() async throws {
        try await CLIHarness.with { harness in
            let file = harness.path("big.ndjson")
            FileManager.default.createFile(atPath: file.path, contents: nil)
            let handle = try FileHandle(forWritingTo: file)
            let first = harness.history.deliveries.first { $0.rejection == nil }?.line ?? "{}"
            try handle.write(contentsOf: Data((first + "\n" + #"{"provider":"credicorp","body":""#).utf8))
            let block = Data(repeating: UInt8(ascii: "a"), count: 1 << 20)
            for _ in 0..<200 { try handle.write(contentsOf: block) }
            try handle.write(contentsOf: Data(("\"}\n" + first + "\n").utf8))
            try handle.close()
            let started = Date()
            let (result, peak) = try await Self.run(
                ["ingest", "job.yml", "big.ndjson"],
                executable: CLIHarness.executable.path,
                harness: harness
            )
            #expect(result.status == 1, "\(result.stderr)")
            #expect(result.stdout.contains("rejected big.ndjson:2 malformed: line is longer than 16 MiB"))
            #expect(result.stdout.contains("ingest: 1 accepted, 1 duplicates, 1 rejected"), "\(result.stdout)")
            #expect(peak > 0 && peak < 120 * 1024, "the process's peak resident set was \(peak) KiB")
            #expect(Date().timeIntervalSince(started) < 100)
        }
    }

    @Test func aSignalStopsIngestInTheMiddleOfAnEndlessLine() async throws {
        try await CLIHarness.with { harness in
            let fifo = harness.path("endless.fifo").path
            #expect(mkfifo(fifo, 0o600) == 0)
            // A line that starts as a capture and never ends (a text that starts otherwise is refused whole).
            let writer = try Self.shell(
                #"(printf '{"provider":"credicorp","body":"'; yes aaaaaaaaaaaaaaaa | tr -d '\n') > endless.fifo"#,
                in: harness.folder
            )
            let result = try await harness.reconcile(
                ["ingest", "job.yml", "captures.ndjson", "endless.fifo"],
                timeout: 60,
                signal: SIGTERM,
                after: 3
            )
            writer.terminate()
            #expect(!result.killed, "stopped by the flag, not the signal's default")
            #expect(result.status == 3, "\(result.stderr)")
            #expect(result.stderr.contains("ingest interrupted before endless.fifo:"), "\(result.stderr)")
            #expect(result.stdout.contains("ingest: "), "what was recorded is printed")
        }
    }

    @Test(.enabled(if: CLIHarness.engine == .sqlite, "a file-size limit on the store file"))
    func aStoreThatRunsOutOfSpacePrintsWhatWasRecordedAndExits3() async throws {
        try await CLIHarness.with { harness in
            let pad = String(repeating: "x", count: 1000)
            let junk = (0..<6000).map { #"{"provider":"credicorp","n":\#($0),"pad":"\#(pad)""# }
            try (junk.joined(separator: "\n") + "\n").write(
                to: harness.path("junk.ndjson"),
                atomically: true,
                encoding: .utf8
            )
            // dash's ulimit -f counts 512-byte blocks: the store (and its WAL) may grow to 1.5 MB,
            // room for the schema and one batch of 500 of these lines (0.9 MB), not for two.
            let command = "ulimit -f 3000; exec \"$0\" ingest job.yml junk.ndjson"
            let (result, _) = try await Self.run(["-c", command, CLIHarness.executable.path], harness: harness)
            #expect(!result.killed, "a file-size limit is an error, not SIGXFSZ")
            #expect(result.status == 3, "\(result.stderr)")
            #expect(result.stderr.contains("store \(harness.path("reconcile.sqlite").path) failed after"))
            let summary = try #require(result.stdout.components(separatedBy: "\n").first { $0.hasPrefix("ingest: ") })
            let rejected = Int(summary.split(separator: " ")[5]) ?? -1
            #expect(rejected > 0 && rejected < 6000 && rejected % 500 == 0, "\(summary)")
        }
    }

    static func duplicates(_ stdout: String) -> Int {
        guard let line = stdout.components(separatedBy: "\n").first(where: { $0.hasPrefix("ingest: ") }) else {
            return 0
        }
        return Int(line.split(separator: " ")[3]) ?? 0
    }

    /// Runs `executable ARGS` (by default `/bin/sh`) in the harness folder with its environment, waiting
    /// without blocking a thread; also returns the process's peak resident set (KiB, `VmHWM`, sampled).
    static func run(
        _ arguments: [String],
        executable: String = "/bin/sh",
        harness: CLIHarness
    ) async throws -> (CLIHarness.Result, Int) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = harness.folder
        process.environment = harness.environment
        let out = harness.path("sh-out-\(UUID().uuidString)")
        let err = harness.path("sh-err-\(UUID().uuidString)")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(120)
        var peak = 0
        while process.isRunning && Date() < deadline {
            peak = max(peak, peakResidentKiB(process.processIdentifier) ?? 0)
            try await Task.sleep(for: .milliseconds(20))
        }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        let result = CLIHarness.Result(
            status: process.terminationStatus,
            killed: process.terminationReason == .uncaughtSignal,
            stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? ""
        )
        return (result, peak)
    }

    /// `VmHWM` of a running process in KiB, from `/proc`.
    static func peakResidentKiB(_ pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") })
        else { return nil }
        return Int(line.split(separator: " ").dropFirst().first ?? "")
    }

    static func shell(_ command: String, in folder: URL) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        process.currentDirectoryURL = folder
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }
}

/// `gzip -c -n` of some bytes, for archive tests (the system's own archiver).
enum CaptureHardeningGzip {
    static func gzip(_ data: Data) throws -> Data {
        let input = FileManager.default.temporaryDirectory.appendingPathComponent("gzip-in-\(UUID().uuidString)")
        try data.write(to: input)
        defer { try? FileManager.default.removeItem(at: input) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/gzip")
        process.arguments = ["-c", "-n", input.path]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let compressed = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return compressed
    }
}
