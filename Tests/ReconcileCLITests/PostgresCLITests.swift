import Foundation
import Logging
import PostgresNIO
import ReconcileCore
import Testing

/// The PostgreSQL server of `.ci/with-postgres`, for the CLI's tests: each test gets a database
/// of its own, dropped after.
enum CLIPostgres {
    static let environment = ProcessInfo.processInfo.environment

    /// With a server named, and always in CI, where a missing server fails the tests.
    static let enabled = environment["RECONCILE_TEST_POSTGRES_URL"] != nil || environment["CI"] != nil

    static func server() throws -> (location: PostgresLocation, password: String) {
        let url = try #require(
            environment["RECONCILE_TEST_POSTGRES_URL"],
            "no PostgreSQL for the tests: run them through .ci/with-postgres (make test does)"
        )
        let password = try PostgresLocation.password(
            variable: "RECONCILE_TEST_POSTGRES_PASSWORD",
            environment: environment
        )
        return (try PostgresLocation(url: url), password)
    }

    /// What the server said to a statement of the harness (PostgresNIO's own description is empty).
    struct Refused: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs `sql` on a session of the test database.
    ///
    /// `CREATE DATABASE` and `DROP DATABASE` are tried up to 5 times, a second apart: the server
    /// refuses them while a session it is ending (a killed process's) is still there.
    static func execute(_ sql: String) async throws {
        let retried = sql.hasPrefix("CREATE DATABASE") || sql.hasPrefix("DROP DATABASE")
        for attempt in 1...5 {
            do {
                _ = try await strings(sql)
                return
            } catch let refused as Refused where retried && attempt < 5 {
                print("CLIPostgres: \(sql) refused (attempt \(attempt)): \(refused)")
                try await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// The first column of the rows `sql` answers, as text, on a session of its own of the test
    /// database (none for a statement that answers no rows).
    static func strings(_ sql: String) async throws -> [String] {
        do {
            return try await query(sql)
        } catch let error as PSQLError {
            throw Refused(description: "\(sql): \(error.serverInfo?[.message] ?? String(reflecting: error))")
        }
    }

    private static func query(_ sql: String) async throws -> [String] {
        let (location, password) = try server()
        let logger = Logger(label: "test.postgres")
        let connection = try await PostgresConnection.connect(
            configuration: try location.sessionConfiguration(password: password),
            id: 1,
            logger: logger
        )
        do {
            var values: [String] = []
            for try await value in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
                .decode(String.self)
            {
                values.append(value)
            }
            try await connection.close()
            return values
        } catch {
            try? await connection.close()
            throw error
        }
    }

    /// The URL of database `name` on the test server (no password in it).
    static func url(database name: String) throws -> String {
        let (location, _) = try server()
        return "postgres://\(location.user)@\(location.host):\(location.port)/\(name)"
    }

    /// Runs `body` with the URL of a new, empty database (no password in it), dropped after with
    /// every database named after it (a test's further stores, ``CLIHarness/store(_:)``).
    static func withDatabase<T>(_ body: (String) async throws -> T) async throws -> T {
        let name = "cli_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try await execute("CREATE DATABASE \(name)")
        let drop = {
            let names = try await strings("SELECT datname::text FROM pg_database WHERE datname LIKE '\(name)%'")
            for database in names { try await execute("DROP DATABASE \(database) WITH (FORCE)") }
        }
        do {
            let result = try await body(try url(database: name))
            try await drop()
            return result
        } catch {
            try? await drop()
            throw error
        }
    }
}

/// The commands on a job whose `store` is a PostgreSQL URL: the same answers as on SQLite.
// On the SQLite pass only: these tests set up their own databases beside the harness's file.
@Suite(.enabled(if: CLIPostgres.enabled && CLIHarness.engine == .sqlite)) struct PostgresCLITests {
    /// The job file of `cli` with its store replaced by `url` and its password's variable named.
    static func postgresJob(_ cli: CLIHarness, url: String, name: String) throws {
        let text = try String(contentsOf: cli.path("job.yml"), encoding: .utf8)
        let store = try #require(text.split(separator: "\n").first { $0.hasPrefix("store: ") })
        let job = text.replacingOccurrences(
            of: String(store),
            with: "store: \(url)\nstore_password_env: RECONCILE_STORE_PASSWORD"
        )
        try job.write(to: cli.path(name), atomically: true, encoding: .utf8)
    }

    /// A report's findings, resolved findings and counts, as comparable text (keys sorted).
    static func outcome(_ report: [String: Any]) throws -> String {
        let parts: [String: Any] = [
            "findings": report["findings"] ?? [], "resolved": report["resolved"] ?? [],
            "counts": report["counts"] ?? [:], "repairs": report["repairs"] ?? 0,
        ]
        let data = try JSONSerialization.data(withJSONObject: parts, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }

    @Test func oneJobOverThreeProvidersReportsTheSameOnPostgreSQLAsOnSQLite() async throws {
        let (_, password) = try CLIPostgres.server()
        try await CLIPostgres.withDatabase { url in
            try await CLIHarness.with(seed: 29, allProviders: true) { cli in
                try Self.postgresJob(cli, url: url, name: "pg.yml")
                let env = ["RECONCILE_STORE_PASSWORD": password]

                // A run before anything was ingested finds no store, as on a file.
                let early = try await cli.reconcile(["run", "pg.yml"], extraEnvironment: env)
                #expect(early.status == 2, "\(early.stderr)")
                #expect(early.stderr.contains("holds no reconcile store yet"), "\(early.stderr)")

                var runs: [String: [String]] = [:]
                for job in ["job.yml", "pg.yml"] {
                    let ingest = try await cli.reconcile(["ingest", job, "captures.ndjson"], extraEnvironment: env)
                    #expect(ingest.status == 1, "\(job): some lines are rejected by design; \(ingest.stderr)")
                    let first = try await cli.reconcile(
                        ["run", job, "--report-json", "\(job)-first.json"],
                        extraEnvironment: env
                    )
                    #expect(first.status == 1, "\(job): \(first.stderr)")
                    let second = try await cli.reconcile(
                        ["run", job, "--report-json", "\(job)-second.json"],
                        extraEnvironment: env
                    )
                    #expect(second.status == 0, "\(job): \(second.stderr)")
                    let findings = try await cli.reconcile(["findings", job], extraEnvironment: env)
                    let csv = try await cli.reconcile(["report", job, "--format", "csv"], extraEnvironment: env)
                    // The CSV's first column is the run's id, which differs.
                    let rows = csv.stdout.split(separator: "\n").map { $0.split(separator: ",").dropFirst() }
                    runs[job] = [
                        ingest.stdout, try Self.outcome(cli.report("\(job)-first.json")),
                        try Self.outcome(cli.report("\(job)-second.json")), findings.stdout, "\(rows)",
                    ]
                    for text in [ingest.stderr, first.stderr, second.stderr, findings.stderr] {
                        #expect(!text.contains(password), "the store's password leaked")
                    }
                }
                let sqlite = try #require(runs["job.yml"])
                let postgres = try #require(runs["pg.yml"])
                for (index, part) in ["ingest", "first run", "second run", "findings", "payments CSV"].enumerated() {
                    #expect(postgres[index] == sqlite[index], "\(part) differs between the engines")
                }
                #expect(try cli.report("pg.yml-first.json")["repairs"] as? Int ?? 0 > 0, "the first run repaired")
                let report = try cli.report("pg.yml-first.json")
                let run = report["run"] as? [String: Any] ?? [:]
                #expect(run["store"] as? String == "\(url)", "the report names the store, with no password")
            }
        }
    }

    @Test func aRunWhileAnotherHoldsTheJobsLockExitsFourAndABadStoreSaysWhy() async throws {
        let (location, password) = try CLIPostgres.server()
        try await CLIPostgres.withDatabase { url in
            try await CLIHarness.with(seed: 7) { cli in
                try Self.postgresJob(cli, url: url, name: "pg.yml")
                let env = ["RECONCILE_STORE_PASSWORD": password]
                #expect(
                    try await cli.reconcile(["ingest", "pg.yml", "captures.ndjson"], extraEnvironment: env).status <= 1
                )

                let holder = try await PostgresClaims.connect(
                    to: try PostgresLocation(url: url),
                    password: password,
                    logger: Logger(label: "test.holder")
                )
                #expect(try await holder.claim(job: "cli"))
                let refused = try await cli.reconcile(["run", "pg.yml"], extraEnvironment: env)
                #expect(refused.status == 4, "\(refused.stderr)")
                #expect(refused.stderr.contains("another run holds the lock"), "\(refused.stderr)")
                try await holder.close()
                let after = try await cli.reconcile(["run", "pg.yml"], extraEnvironment: env)
                #expect(after.status == 1, "the lock went with the holder's session: \(after.stderr)")

                let noPassword = try await cli.reconcile(["runs", "pg.yml"])
                #expect(noPassword.status == 2 && noPassword.stderr.contains("RECONCILE_STORE_PASSWORD"))
                let wrong = try await cli.reconcile(
                    ["runs", "pg.yml"],
                    extraEnvironment: ["RECONCILE_STORE_PASSWORD": password + "-not-it"]
                )
                #expect(wrong.status == 3, "\(wrong.stderr)")
                #expect(wrong.stderr.contains("password authentication failed"), "\(wrong.stderr)")
                #expect(!wrong.stderr.contains(password))

                let withSecret = "postgres://\(location.user):hunter2secret@\(location.host):\(location.port)/x"
                try Self.postgresJob(cli, url: withSecret, name: "secret.yml")
                let leaked = try await cli.reconcile(["runs", "secret.yml"], extraEnvironment: env)
                #expect(leaked.status == 2 && leaked.stderr.contains("carries a password"), "\(leaked.stderr)")
                #expect(!leaked.stderr.contains("hunter2secret"))
            }
        }
    }
}
