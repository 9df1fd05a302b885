// reconcile-world: serves a generated Credicorp world on 127.0.0.1 for the run benchmark.
//
// Usage: reconcile-world FOLDER CHAINS [SEED [PROGRESS_UPDATES [ACCOUNTS [RATE]]]]
// Writes FOLDER/job.yml, FOLDER/captures.ndjson and FOLDER/env (the job's environment, KEY=value
// lines), prints `ready <base URL>` and serves until its standard input closes. With ACCOUNTS > 0
// the job lists that many Credicorp accounts (acct-01, …), each with its own base URL on the one
// world and RATE requests/s (default 25, a real provider's); a line `counts` on standard input prints
// `counts acct-01=N …` (requests per account since the last `counts`) and starts counting afresh; a line
// `latency MS` makes every later answer MS milliseconds late (a provider far away; 0: none). Every request it
// answers goes to loopback only; the world is `SandboxHistory.credicorpBulk` (enquiry → decision →
// payment stories with dropped, late, out-of-order and duplicate deliveries), the one KillCLITests uses.
import Foundation
import Logging
import ReconcileSandbox

let arguments = CommandLine.arguments
guard arguments.count >= 3, let chains = Int(arguments[2]), chains > 0 else {
    FileHandle.standardError.write(
        Data("usage: reconcile-world FOLDER CHAINS [SEED [PROGRESS_UPDATES [ACCOUNTS [RATE]]]]\n".utf8)
    )
    exit(2)
}
let folder = URL(fileURLWithPath: arguments[1])
let seed = arguments.count > 3 ? UInt64(arguments[3]) ?? 53 : 53
// More events per resource: each enquiry gets this many `enquiry.updated` events (a million events
// over 200,000 resources is CHAINS=66000 with 11).
let progressUpdates = arguments.count > 4 ? Int(arguments[4]) ?? 0 : 0
let accounts = arguments.count > 5 ? max(0, Int(arguments[5]) ?? 0) : 0
let accountRate = arguments.count > 6 ? max(1, Int(arguments[6]) ?? 25) : 25
let now = Date(timeIntervalSince1970: 1_783_670_400)  // 2026-07-10T08:00:00Z, as the demo and tests

let history = SandboxHistory.credicorpBulk(seed: seed, now: now, chains: chains, progressUpdates: progressUpdates)
var logger = Logger(label: "sandbox")
logger.logLevel = .critical
let server = try await SandboxServer.start(world: history.world, logger: logger)
func entry(_ name: String, baseURL: String, rateLimit: Int) -> String {
    """
      - name: \(name)
        kind: credicorp
        base_url: \(baseURL)
        api_key_env: CREDICORP_API_KEY
        signing_secrets_env: [CREDICORP_WHSEC, CREDICORP_WHSEC_PREVIOUS]
        endpoint_id: \(history.endpointID)
        rate_limit: \(rateLimit)
        max_rows: 2000000

    """
}
let names = (1...max(1, accounts)).map { String(format: "acct-%02d", $0) }
let entries =
    accounts == 0
    // The most a job allows: the double on loopback serves pages faster than 1,000 a second, and
    // the naive script reads unthrottled (benchmarks/naive.sh also runs a dry run at 1,000/s).
    ? entry("credicorp", baseURL: server.baseURL(for: "credicorp"), rateLimit: 10_000)
    : names.map { entry($0, baseURL: server.baseURL(for: "credicorp", account: $0), rateLimit: accountRate) }
        .joined()
let job = """
    name: bench
    store: \(folder.appendingPathComponent("reconcile.sqlite").path)
    lookback: 8d
    reports: \(folder.appendingPathComponent("reports").path)
    providers:

    """ + entries
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
while let line = readLine() {
    if line.hasPrefix("latency "), let milliseconds = Int(line.dropFirst("latency ".count)) {
        await server.setFaults(
            milliseconds > 0 ? [SandboxFault(.slow(milliseconds: milliseconds), provider: "credicorp", times: nil)] : []
        )
        FileHandle.standardOutput.write(Data("latency \(milliseconds)\n".utf8))
        continue
    }
    guard line == "counts" else { continue }
    var counts: [String: Int] = [:]
    for record in await server.requests() { counts[record.account ?? "-", default: 0] += 1 }
    await server.clearRequests()
    let text = counts.keys.sorted().map { "\($0)=\(counts[$0] ?? 0)" }.joined(separator: " ")
    FileHandle.standardOutput.write(Data("counts \(text)\n".utf8))
}
await server.shutdown()
