import Foundation
import ReconcileCore
import ReconcileSandbox
import Testing

/// Store paths that cannot be a store: a clear error naming the job file, line and key, and no new store.
@Suite(.serialized) struct StorePathCLITests {
    /// Whether this process may mount a tmpfs (root in a sandbox that allows it).
    static let canMount: Bool = {
        guard getuid() == 0 else { return false }
        let probe = FileManager.default.temporaryDirectory.appendingPathComponent("mount-probe-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: probe, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: probe) }
        guard run("/bin/mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", probe.path]) == 0 else { return false }
        return run("/bin/umount", [probe.path]) == 0
    }()

    @discardableResult
    static func run(_ tool: String, _ arguments: [String]) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }

    @Test(arguments: [
        ("missing/folder/reconcile.sqlite", "does not exist"),
        ("~/reconcile.sqlite", "'~' is not expanded"),
        ("/dev/null", "not a regular file"),
        ("captures.ndjson/reconcile.sqlite", "is not a folder"),
        ("a-folder", "not a regular file"),
    ])
    func aPathThatCannotBeAStoreIsRefusedNamingTheJobLineAndKey(path: String, problem: String) async throws {
        try await CLIHarness.with(seed: 71) { cli in
            try FileManager.default.createDirectory(at: cli.path("a-folder"), withIntermediateDirectories: true)
            try cli.writeJob(store: "placeholder")
            let job = try String(contentsOf: cli.path("job.yml"), encoding: .utf8)
                .replacingOccurrences(of: cli.path("placeholder").path, with: path)
            try job.write(to: cli.path("job.yml"), atomically: true, encoding: .utf8)
            for command in [["ingest", "job.yml", "captures.ndjson"], ["run", "job.yml", "--create-store"]] {
                let result = try await cli.reconcile(command)
                #expect(result.status == 2, "\(command[0]): \(result.stderr)")
                #expect(result.stderr.contains("job.yml:2: store is '\(path)'"), "\(result.stderr)")
                #expect(result.stderr.contains(problem), "\(result.stderr)")
                #expect(!result.stderr.contains("SQLite error"), "no raw engine error")
            }
            #expect(!FileManager.default.fileExists(atPath: cli.path("missing").path), "no folder was created")
            #expect(!FileManager.default.fileExists(atPath: "/dev/null-journal"))
            #expect(!FileManager.default.fileExists(atPath: "/dev/null-wal"))
        }
    }

    @Test(.enabled(if: CLIHarness.engine == .sqlite, "a store file that is not there"))
    func runAndBackfillRefuseAStoreThatDoesNotExistUnlessAskedToCreateIt() async throws {
        try await CLIHarness.with(seed: 73) { cli in
            let store = cli.path("reconcile.sqlite").path
            for command in [
                ["run", "job.yml"],
                ["backfill", "job.yml", "--provider", "credicorp", "--since", "2026-07-05T00:00:00Z"],
                ["report", "job.yml"], ["runs", "job.yml"],
            ] {
                let result = try await cli.reconcile(command)
                #expect(result.status == 2, "\(command[0]): \(result.stderr)")
                #expect(result.stderr.contains("no store there"), "\(result.stderr)")
                #expect(result.stderr.contains(cli.folder.path), "names the working directory")
                #expect(!FileManager.default.fileExists(atPath: store), "\(command[0]) created no store")
            }
            let created = try await cli.reconcile(["run", "job.yml", "--create-store", "--report-json", "r.json"])
            #expect([0, 1].contains(created.status), "\(created.stderr.suffix(400))")
            #expect(
                created.stderr.contains("store=\(store)") || created.stderr.contains(store),
                "the log names the store"
            )
            let run = try cli.report("r.json")["run"] as? [String: Any]
            #expect(run?["store"] as? String == store, "the report names the store it used")
        }
    }

    @Test func aRelativeStoreIsResolvedFromTheWorkingDirectoryAndNamedInTheReport() async throws {
        try await CLIHarness.with(seed: 79) { cli in
            try cli.writeJob(store: "placeholder")
            let job = try String(contentsOf: cli.path("job.yml"), encoding: .utf8)
                .replacingOccurrences(of: cli.path("placeholder").path, with: "var/reconcile.sqlite")
            try job.write(to: cli.path("job.yml"), atomically: true, encoding: .utf8)
            try FileManager.default.createDirectory(at: cli.path("var"), withIntermediateDirectories: true)
            #expect(try await cli.reconcile(["ingest", "job.yml", "captures.ndjson"]).status == 1)
            let run = try await cli.reconcile(["run", "job.yml", "--report-json", "r.json"])
            #expect([0, 1].contains(run.status))
            let info = try cli.report("r.json")["run"] as? [String: Any]
            #expect(info?["store"] as? String == cli.path("var/reconcile.sqlite").path)
        }
    }

    @Test(.enabled(if: CLIHarness.engine == .sqlite, "a store file that is not SQLite"))
    func aStoreThatIsNotSQLiteOrIsTruncatedExitsThreeNamingItAndIsLeftAsItIs() async throws {
        try await CLIHarness.with(seed: 83) { cli in
            let store = cli.path("reconcile.sqlite")
            #expect(try await cli.reconcile(["ingest", "job.yml", "captures.ndjson"]).status == 1)
            #expect([0, 1].contains(try await cli.reconcile(["run", "job.yml"]).status))
            let whole = try Data(contentsOf: store)
            #expect(whole.count > 8_192)

            // Cut short: the header says more pages than the file holds.
            try whole.prefix(whole.count / 2).write(to: store)
            for command in [["run", "job.yml"], ["ingest", "job.yml", "captures.ndjson"], ["runs", "job.yml"]] {
                let result = try await cli.reconcile(command)
                #expect(result.status == 3, "\(command[0]): \(result.stderr)")
                #expect(result.stderr.contains(store.path), "names the store: \(result.stderr)")
                #expect(
                    result.stderr.contains("truncated") || result.stderr.contains("damaged"),
                    "\(result.stderr)"
                )
            }
            #expect(try Data(contentsOf: store) == whole.prefix(whole.count / 2), "left as it is")

            // Not a database at all.
            let garbage = Data((0..<20_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
            try garbage.write(to: store)
            let result = try await cli.reconcile(["run", "job.yml"])
            #expect(result.status == 3)
            #expect(result.stderr.contains("is not a SQLite database"), "\(result.stderr)")
            #expect(try Data(contentsOf: store) == garbage)
        }
    }

    @Test(.enabled(if: canMount && CLIHarness.engine == .sqlite, "a full disk under the store file"))
    func aFullDiskFailsCleanlyAndIngestGoesOnOnceThereIsRoom() async throws {
        try await CLIHarness.with(seed: 89, bulkChains: 300) { cli in
            let disk = cli.path("disk")
            try FileManager.default.createDirectory(at: disk, withIntermediateDirectories: true)
            try #require(Self.run("/bin/mount", ["-t", "tmpfs", "-o", "size=600k", "tmpfs", disk.path]) == 0)
            defer { Self.run("/bin/umount", ["-l", disk.path]) }
            let store = disk.appendingPathComponent("reconcile.sqlite").path
            let full = try await cli.reconcile(["ingest", "job.yml", "captures.ndjson", "--store", store])
            #expect(full.status == 3, "\(full.stdout.suffix(300))\(full.stderr.suffix(300))")
            #expect(full.stderr.contains("store"), "\(full.stderr.suffix(300))")
            #expect(!full.stderr.contains("Fatal error"), "no crash")

            // Room again: the same ingest goes on, and ends with the store of a single ingest.
            try #require(Self.run("/bin/mount", ["-o", "remount,size=64m", disk.path]) == 0)
            let again = try await cli.reconcile(["ingest", "job.yml", "captures.ndjson", "--store", store])
            #expect(again.status == 0, "\(again.stdout.suffix(300))\(again.stderr.suffix(300))")
            let reference = cli.path("reference.sqlite").path
            #expect(
                try await cli.reconcile(["ingest", "job.yml", "captures.ndjson", "--store", reference]).status == 0
            )
            let kept = try Store(path: store)
            #expect(try kept.integrityCheck() == "ok")
            #expect(try kept.tableCounts() == Store(path: reference).tableCounts())
            #expect(try kept.stateSnapshot() == Store(path: reference).stateSnapshot())

            // A read-only file system: refused before anything runs, even as root.
            let readOnly = cli.path("read-only")
            try FileManager.default.createDirectory(at: readOnly, withIntermediateDirectories: true)
            try #require(Self.run("/bin/mount", ["-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", readOnly.path]) == 0)
            defer { Self.run("/bin/umount", ["-l", readOnly.path]) }
            let target = readOnly.appendingPathComponent("reconcile.sqlite").path
            let refused = try await cli.reconcile(["run", "job.yml", "--create-store", "--store", target])
            #expect(refused.status == 2, "\(refused.stderr)")
            #expect(refused.stderr.contains("--store is '\(target)'"), "\(refused.stderr)")
            #expect(refused.stderr.contains("cannot be written"), "\(refused.stderr)")
        }
    }
}
