// reconcile-world: serves a generated Credicorp world on 127.0.0.1 for the run benchmark.
//
// Usage: reconcile-world FOLDER CHAINS [SEED [PROGRESS_UPDATES]]
// Writes FOLDER/job.yml, FOLDER/captures.ndjson and FOLDER/env (the job's environment, KEY=value
// lines), prints `ready <base URL>` and serves until its standard input closes. Every request it
// answers goes to loopback only; the world is `SandboxHistory.credicorpBulk` (enquiry → decision →
// payment stories with dropped, late, out-of-order and duplicate deliveries), the one KillCLITests uses.
import Foundation
import Logging
import ReconcileSandbox

let arguments = CommandLine.arguments
guard arguments.count >= 3, let chains = Int(arguments[2]), chains > 0 else {
    FileHandle.standardError.write(Data("usage: reconcile-world FOLDER CHAINS [SEED [PROGRESS_UPDATES]]\n".utf8))
    exit(2)
}
let folder = URL(fileURLWithPath: arguments[1])
let seed = arguments.count > 3 ? UInt64(arguments[3]) ?? 53 : 53
// More events per resource: each enquiry gets this many `enquiry.updated` events (a million events
// over 200,000 resources is CHAINS=66000 with 11).
let progressUpdates = arguments.count > 4 ? Int(arguments[4]) ?? 0 : 0
let now = Date(timeIntervalSince1970: 1_783_670_400)  // 2026-07-10T08:00:00Z, as the demo and tests

let history = SandboxHistory.credicorpBulk(seed: seed, now: now, chains: chains, progressUpdates: progressUpdates)
var logger = Logger(label: "sandbox")
logger.logLevel = .critical
let server = try await SandboxServer.start(world: history.world, logger: logger)
let job = """
    name: bench
    store: \(folder.appendingPathComponent("reconcile.sqlite").path)
    lookback: 8d
    reports: \(folder.appendingPathComponent("reports").path)
    providers:
      - name: credicorp
        kind: credicorp
        base_url: \(server.baseURL(for: "credicorp"))
        api_key_env: CREDICORP_API_KEY
        signing_secrets_env: [CREDICORP_WHSEC, CREDICORP_WHSEC_PREVIOUS]
        endpoint_id: \(history.endpointID)
        rate_limit: 1000
        max_rows: 2000000

    """
try job.write(to: folder.appendingPathComponent("job.yml"), atomically: true, encoding: .utf8)
try history.captureNDJSON.write(to: folder.appendingPathComponent("captures.ndjson"), atomically: true, encoding: .utf8)
let environment = """
    CREDICORP_API_KEY=\(history.apiKey)
    CREDICORP_WHSEC=\(history.currentSecret)
    CREDICORP_WHSEC_PREVIOUS=\(history.previousSecret)
    RECONCILE_NOW=2026-07-10T08:00:00Z

    """
try environment.write(to: folder.appendingPathComponent("env"), atomically: true, encoding: .utf8)
FileHandle.standardOutput.write(Data("ready \(server.baseURL) \(history.deliveries.count) deliveries\n".utf8))
while let _ = readLine() {}
await server.shutdown()
