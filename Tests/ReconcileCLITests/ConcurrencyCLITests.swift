import Foundation
import ReconcileCore
import ReconcileSandbox
import Testing

/// Several processes on one store at once end where one after the other ends.
@Suite(.serialized) struct ConcurrencyCLITests {
    static let chains = 600

    /// Splits the harness's capture into two files, alternating lines, and returns their names.
    static func splitCapture(_ cli: CLIHarness) throws -> (String, String) {
        let lines = cli.history.captureLines
        let first = lines.enumerated().filter { $0.offset.isMultiple(of: 2) }.map { $0.element + "\n" }.joined()
        let second = lines.enumerated().filter { !$0.offset.isMultiple(of: 2) }.map { $0.element + "\n" }.joined()
        try Data(first.utf8).write(to: cli.path("even.ndjson"))
        try Data(second.utf8).write(to: cli.path("odd.ndjson"))
        return ("even.ndjson", "odd.ndjson")
    }

    /// Row counts of what ingest writes, and the local state.
    static func ingested(_ cli: CLIHarness, _ name: String) async throws -> (counts: [String: Int], state: [String]) {
        try #require(
            try await cli.inspect(name) { store in
                let counts = try await store.tableCounts().filter {
                    ["delivery", "deliveryEvent", "event", "resourceState"].contains($0.key)
                }
                return (counts, try await store.stateSnapshot())
            }
        )
    }

    @Test func twoIngestsAtOnceEndWithTheStoreOfOneAfterTheOther() async throws {
        try await CLIHarness.with(seed: 61, bulkChains: Self.chains) { cli in
            let (even, odd) = try Self.splitCapture(cli)
            let serial = try await cli.store("serial.sqlite")
            #expect(try await cli.reconcile(["ingest", "job.yml", even, "--store", serial]).status == 0)
            #expect(try await cli.reconcile(["ingest", "job.yml", odd, "--store", serial]).status == 0)

            let shared = try await cli.store("shared.sqlite")
            // Create the store first, so that both processes open one that exists.
            #expect(try await cli.reconcile(["ingest", "job.yml", "--store", shared]).status == 0)
            async let left = cli.reconcile(["ingest", "job.yml", even, "--store", shared])
            async let right = cli.reconcile(["ingest", "job.yml", odd, "--store", shared])
            let (a, b) = try await (left, right)
            #expect(a.status == 0, "\(a.stdout.suffix(300))\(a.stderr.suffix(300))")
            #expect(b.status == 0, "\(b.stdout.suffix(300))\(b.stderr.suffix(300))")
            let expected = try await Self.ingested(cli, "serial.sqlite")
            let found = try await Self.ingested(cli, "shared.sqlite")
            #expect((expected.counts["delivery"] ?? 0) > 0)
            #expect(found.counts == expected.counts)
            #expect(found.state == expected.state)
        }
    }

    /// Two hosts ingest the same capture at once, one of them from the end, and both finish.
    ///
    /// Every line, event and row is written by both, in opposite orders; the store ends as one
    /// ingest leaves it. On PostgreSQL a deadlock would be retried (`store.retry`, counted).
    @Test func twoIngestsOfTheSameLinesInOppositeOrdersEndWithTheStoreOfOne() async throws {
        try await CLIHarness.with(seed: 71, bulkChains: 2_000) { cli in
            let lines = cli.history.captureLines
            try Data(lines.reversed().map { $0 + "\n" }.joined().utf8).write(to: cli.path("reversed.ndjson"))
            let serial = try await cli.store("serial.sqlite")
            #expect(try await cli.reconcile(["ingest", "job.yml", "captures.ndjson", "--store", serial]).status == 0)

            let shared = try await cli.store("shared.sqlite")
            #expect(try await cli.reconcile(["ingest", "job.yml", "--store", shared]).status == 0)
            async let forward = cli.reconcile(["ingest", "job.yml", "captures.ndjson", "--store", shared])
            async let backward = cli.reconcile(["ingest", "job.yml", "reversed.ndjson", "--store", shared])
            let (a, b) = try await (forward, backward)
            let retries = (a.stderr + b.stderr).split(separator: "\n").filter { $0.contains("store.retry") }
            print("two ingests of the same lines: \(a.elapsed) s and \(b.elapsed) s, \(retries.count) retries")
            #expect(a.status == 0, "\(a.stdout.suffix(300))\(a.stderr.suffix(300))")
            #expect(b.status == 0, "\(b.stdout.suffix(300))\(b.stderr.suffix(300))")
            let expected = try await Self.ingested(cli, "serial.sqlite")
            let found = try await Self.ingested(cli, "shared.sqlite")
            #expect((expected.counts["delivery"] ?? 0) == lines.count)
            #expect(found.counts == expected.counts)
            #expect(found.state == expected.state)
        }
    }

    @Test func anIngestWhileARunRepairsEndsWithTheStoreOfOneAfterTheOther() async throws {
        try await CLIHarness.with(seed: 67, bulkChains: Self.chains) { cli in
            let (even, odd) = try Self.splitCapture(cli)
            let serial = try await cli.store("serial.sqlite")
            #expect(try await cli.reconcile(["ingest", "job.yml", even, "--store", serial]).status == 0)
            _ = try await cli.reconcile(["run", "job.yml", "--store", serial])
            #expect(try await cli.reconcile(["ingest", "job.yml", odd, "--store", serial]).status == 0)
            _ = try await cli.reconcile(["run", "job.yml", "--store", serial])

            let shared = try await cli.store("shared.sqlite")
            #expect(try await cli.reconcile(["ingest", "job.yml", even, "--store", shared]).status == 0)
            async let run = cli.reconcile(["run", "job.yml", "--store", shared])
            async let ingest = cli.reconcile(["ingest", "job.yml", odd, "--store", shared])
            let (running, ingesting) = try await (run, ingest)
            #expect([0, 1].contains(running.status), "\(running.stderr.suffix(400))")
            #expect(ingesting.status == 0, "\(ingesting.stdout.suffix(300))\(ingesting.stderr.suffix(300))")
            let last = try await cli.reconcile(["run", "job.yml", "--store", shared])
            #expect([0, 1].contains(last.status))

            let expected = try await Self.ingested(cli, "serial.sqlite")
            let found = try await Self.ingested(cli, "shared.sqlite")
            #expect(found.state == expected.state, "local state is the provider's either way")
            #expect(found.counts == expected.counts)
            if CLIHarness.engine == .sqlite {
                #expect(try Store(path: cli.path("shared.sqlite").path).integrityCheck() == "ok")
            }
        }
    }
}
