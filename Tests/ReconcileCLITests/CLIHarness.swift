import Foundation
import Logging
import ReconcileSandbox

/// Runs the built `reconcile` executable against a sandbox on 127.0.0.1, in a temporary folder.
struct CLIHarness {
    struct Result {
        var status: Int32
        /// Whether a signal ended the process (then `status` is the signal number).
        var killed = false
        var stdout: String
        var stderr: String
        /// Seconds from the start until `marker` first showed on stderr, when it was given and showed.
        var markerSeen: TimeInterval?
        /// Seconds from the start until the process ended.
        var elapsed: TimeInterval = 0
    }

    let folder: URL
    let server: SandboxServer
    let history: CredicorpHistory
    /// All three providers' histories when started with `allProviders`, else nil.
    let all: SandboxCombinedHistory?
    let environment: [String: String]
    /// The PostgreSQL database the job's store is, when the suite runs on that engine.
    let storeURL: String?

    /// The engine the job's store is on: SQLite unless `RECONCILE_TEST_ENGINE=postgres`
    /// (`make test` runs the CLI suite once more so, each test on a database of its own).
    enum Engine: String { case sqlite, postgres }
    static let engine = Engine(rawValue: ProcessInfo.processInfo.environment["RECONCILE_TEST_ENGINE"] ?? "") ?? .sqlite

    /// The variable the job's store password is in, on PostgreSQL.
    static let passwordVariable = "RECONCILE_STORE_PASSWORD"

    static let now = Date(timeIntervalSince1970: 1_783_670_400)  // 2026-07-10T08:00:00Z
    static let nowText = "2026-07-10T08:00:00Z"

    /// The executable `swift build` put beside the test bundle, or `RECONCILE_BIN` (a sanitizer build).
    static var executable: URL {
        if let path = ProcessInfo.processInfo.environment["RECONCILE_BIN"], !path.isEmpty {
            return URL(fileURLWithPath: path)
        }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let candidates = [".build/debug/reconcile", ".build/release/reconcile"].map { root.appendingPathComponent($0) }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[0]
    }

    /// The sanitizer options of the test process (`ASAN_OPTIONS`, `TSAN_OPTIONS`, …), passed on to the binary.
    ///
    /// The binary gets only the harness environment; without these, a sanitized binary would
    /// ignore the `log_path` and `suppressions` a sanitizer run of the tests sets.
    static var sanitizerOptions: [String: String] {
        ProcessInfo.processInfo.environment.filter { name, _ in
            ["ASAN_OPTIONS", "LSAN_OPTIONS", "TSAN_OPTIONS", "UBSAN_OPTIONS"].contains(name)
        }
    }

    /// Starts a sandbox with a generated history, runs `body`, and always shuts the sandbox down.
    ///
    /// With `allProviders`, the sandbox, `job.yml` and `captures.ndjson` hold Credicorp, Crezco and
    /// Credify; otherwise Credicorp only.
    ///
    /// With `bulkChains`, the Credicorp history is `SandboxHistory.credicorpBulk` of that many
    /// stories (no oracle) and the job's rate limit is lifted, for tests that need volume.
    static func with<T>(
        seed: UInt64 = 7,
        allProviders: Bool = false,
        bulkChains: Int? = nil,
        jobExtra: String = "",
        _ body: (CLIHarness) async throws -> T
    ) async throws -> T {
        guard engine == .postgres else {
            return try await with(
                seed: seed,
                allProviders: allProviders,
                bulkChains: bulkChains,
                jobExtra: jobExtra,
                storeURL: nil,
                body
            )
        }
        return try await CLIPostgres.withDatabase { url in
            try await with(
                seed: seed,
                allProviders: allProviders,
                bulkChains: bulkChains,
                jobExtra: jobExtra,
                storeURL: url,
                body
            )
        }
    }

    private static func with<T>(
        seed: UInt64,
        allProviders: Bool,
        bulkChains: Int?,
        jobExtra: String,
        storeURL: String?,
        _ body: (CLIHarness) async throws -> T
    ) async throws -> T {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("reconcile-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let all = allProviders ? SandboxHistory.all(seed: seed, now: now) : nil
        let history =
            all?.credicorp
            ?? bulkChains.map { SandboxHistory.credicorpBulk(seed: seed, now: now, chains: $0) }
            ?? SandboxHistory.credicorp(seed: seed, now: now)
        var logger = Logger(label: "sandbox")
        logger.logLevel = .critical
        let server = try await SandboxServer.start(world: all?.world ?? history.world, logger: logger)
        var environment = [
            "PATH": "/usr/bin:/bin", "CREDICORP_API_KEY": history.apiKey, "CREDICORP_WHSEC": history.currentSecret,
            "CREDICORP_WHSEC_PREVIOUS": history.previousSecret, "RECONCILE_NOW": nowText,
        ]
        environment.merge(sanitizerOptions) { _, new in new }
        if storeURL != nil { environment[passwordVariable] = try CLIPostgres.server().password }
        let job = all?.jobFile(
            name: "cli",
            store: folder.appendingPathComponent("reconcile.sqlite").path,
            reports: folder.appendingPathComponent("reports").path,
            baseURL: server.baseURL(for:),
            extra: jobExtra
        )
        environment.merge(job?.environment ?? [:]) { _, new in new }
        let harness = CLIHarness(
            folder: folder,
            server: server,
            history: history,
            all: all,
            environment: environment,
            storeURL: storeURL
        )
        do {
            if let job {
                try harness.onEngine(job.text).write(to: harness.path("job.yml"), atomically: true, encoding: .utf8)
            } else {
                try harness.writeJob(providerExtra: bulkChains == nil ? "" : "rate_limit: 1000")
            }
            let captures = all?.captureNDJSON ?? history.captureNDJSON
            try captures.write(to: harness.path("captures.ndjson"), atomically: true, encoding: .utf8)
            let result = try await body(harness)
            await server.shutdown()
            return result
        } catch {
            await server.shutdown()
            throw error
        }
    }

    func path(_ name: String) -> URL { folder.appendingPathComponent(name) }

    /// `jobText` with its store on the suite's engine: the default store file (`reconcile.sqlite`)
    /// becomes the test's database on PostgreSQL, with its password's variable; any other store
    /// is left as it is.
    func onEngine(_ jobText: String) -> String {
        guard let storeURL else { return jobText }
        return jobText.replacingOccurrences(
            of: "store: \(path("reconcile.sqlite").path)\n",
            with: "store: \(storeURL)\nstore_password_env: \(Self.passwordVariable)\n"
        )
    }

    /// Every secret of the job: the providers', and on PostgreSQL the store's password.
    var secrets: [String] {
        (all?.secrets ?? [history.apiKey, history.currentSecret, history.previousSecret])
            + (storeURL == nil ? [] : environment[Self.passwordVariable].map { [$0] } ?? [])
    }

    func writeJob(
        name: String = "job.yml",
        store: String = "reconcile.sqlite",
        extra: String = "",
        providerExtra: String = ""
    ) throws {
        let text = """
            name: cli
            store: \(path(store).path)
            lookback: 8d
            reports: \(path("reports").path)
            providers:
              - name: credicorp
                kind: credicorp
                base_url: \(server.baseURL(for: "credicorp"))
                api_key_env: CREDICORP_API_KEY
                signing_secrets_env: [CREDICORP_WHSEC, CREDICORP_WHSEC_PREVIOUS]
                endpoint_id: \(history.endpointID)
                \(providerExtra)
            \(extra)
            """
        try onEngine(text).write(to: path(name), atomically: true, encoding: .utf8)
    }

    /// Runs `reconcile ARGS` with the harness environment (plus `extraEnvironment`), bounded by `timeout`.
    ///
    /// Waits without blocking a thread: the sandbox answering the process runs on the same
    /// cooperative pool, which has as few threads as the machine has cores.
    ///
    /// With `signal` and `after`, the process gets `signal` (SIGTERM, SIGKILL) that many seconds
    /// after it starts, unless it has finished by then; `killed` says whether it had to be. With
    /// `marker` too, the delay counts from the moment `marker` first shows on stderr (a log line
    /// such as `provider.repaired`), so a kill can land in a phase of the run however fast the
    /// machine is; `markerSeen` says when that was (watched every 2 ms).
    ///
    /// With `umask` (such as `"027"`, the cron wrapper's), the process starts under that umask.
    func reconcile(
        _ arguments: [String],
        extraEnvironment: [String: String] = [:],
        timeout: TimeInterval = 120,
        signal: Int32? = nil,
        after delay: TimeInterval = 0,
        marker: String? = nil,
        umask: String? = nil
    ) async throws -> Result {
        let process = Process()
        if let umask {
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "umask \(umask) && exec \"$0\" \"$@\"", Self.executable.path] + arguments
        } else {
            process.executableURL = Self.executable
            process.arguments = arguments
        }
        process.currentDirectoryURL = folder
        process.environment = environment.merging(extraEnvironment) { _, new in new }
        let out = path("stdout-\(UUID().uuidString)")
        let err = path("stderr-\(UUID().uuidString)")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        let outHandle = try FileHandle(forWritingTo: out)
        let errHandle = try FileHandle(forWritingTo: err)
        process.standardOutput = outHandle
        process.standardError = errHandle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let started = Date()
        let deadline = started.addingTimeInterval(timeout)
        var signalled = false
        var markerSeen: TimeInterval?
        let markerBytes = marker.map { Data($0.utf8) }
        while process.isRunning && Date() < deadline {
            if let markerBytes, markerSeen == nil,
                let text = try? Data(contentsOf: err), text.range(of: markerBytes) != nil
            {
                markerSeen = Date().timeIntervalSince(started)
            }
            let from = marker == nil ? 0 : markerSeen
            if let signal, !signalled, let from, Date().timeIntervalSince(started) >= from + delay {
                kill(process.processIdentifier, signal)
                signalled = true
            }
            try await Task.sleep(for: .milliseconds(marker != nil && !signalled ? 2 : 10))
        }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        process.waitUntilExit()
        let elapsed = Date().timeIntervalSince(started)
        if let markerBytes, markerSeen == nil, let text = try? Data(contentsOf: err), text.range(of: markerBytes) != nil
        {
            markerSeen = elapsed
        }
        try outHandle.close()
        try errHandle.close()
        return Result(
            status: process.terminationStatus,
            killed: process.terminationReason == .uncaughtSignal,
            stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "",
            markerSeen: markerSeen,
            elapsed: elapsed
        )
    }

    /// The report.json a run wrote with `--report-json`, parsed.
    func report(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: path(name))
        return (try JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
    }

    /// Every file under the folder, as text, for secret searches.
    func allFileText() -> String {
        guard let files = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil) else { return "" }
        var text = ""
        for case let file as URL in files where !file.lastPathComponent.hasPrefix("job") {
            if let data = try? Data(contentsOf: file) { text += String(decoding: data, as: UTF8.self) }
        }
        return text
    }
}
