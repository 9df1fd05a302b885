import Foundation
import Logging
import Testing

@testable import ReconcileCore

/// The PostgreSQL server the tests use: `.ci/with-postgres` starts a throw-away one and names it.
enum TestPostgres {
    static let environment = ProcessInfo.processInfo.environment

    /// Whether the tests that need a server run: with one named, and always in CI, where a
    /// missing server is a failure (`server()`), never a silent skip.
    static let enabled = environment["RECONCILE_TEST_POSTGRES_URL"] != nil || environment["CI"] != nil

    /// The server's location and password.
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
}

@Suite struct PostgresLocationTests {
    @Test func aURLIsShownWithoutWhatMayBeItsPassword() {
        #expect(
            PostgresLocation.shown("postgres://app:s3cret@db.internal/payments")
                == "postgres://app:<redacted>@db.internal/payments"
        )
        // A URL parser reads this as host `admin`, port 12 and no password at all.
        let tricky = PostgresLocation.shown("postgres://admin:12/34@db.example.com/prod")
        #expect(!tricky.contains("12/34") && tricky.hasSuffix("@db.example.com/prod"), "\(tricky)")
        #expect(!PostgresLocation.shown("postgres://u:a@b@h/db").contains("a@b"), "the last @ ends it")
        #expect(
            PostgresLocation.shown("postgres://app@db.internal:5432/payments")
                == "postgres://app@db.internal:5432/payments"
        )
        #expect(PostgresLocation.shown("not a url") == "<not shown: not a URL>")
    }

    @Test func aURLNamesUserHostPortAndDatabaseAndTLSIsOffOnlyOnLoopback() throws {
        let local = try PostgresLocation(url: "postgres://reconcile@127.0.0.1:6543/nightly")
        #expect(local.host == "127.0.0.1" && local.port == 6543 && local.user == "reconcile")
        #expect(local.database == "nightly" && !local.tls)
        let remote = try PostgresLocation(url: "postgresql://app@db.internal/payments")
        #expect(remote.port == 5432)
        #expect(remote.tls, "a remote server gets TLS unless told otherwise")
        #expect(try PostgresLocation(url: "postgres://app@db.internal/payments?sslmode=disable").tls == false)
        #expect(try PostgresLocation(url: "postgres://app@localhost/payments?sslmode=verify-full").tls)
        #expect(remote.description == "postgres://app@db.internal:5432/payments")
        #expect(try PostgresLocation(url: "postgres://app@127.db.example.com/payments").tls, "a name, not an address")
        #expect(try PostgresLocation(url: "postgres://app@127.8.0.1/payments").tls == false)
        let v6 = try PostgresLocation(url: "postgres://app@[::1]:6543/payments")
        #expect(v6.host == "::1" && !v6.tls, "connected to without the URL's brackets")
        #expect(v6.description == "postgres://app@[::1]:6543/payments")
        #expect(try PostgresLocation(url: "postgres://app@[2001:db8::5]/payments").tls)
        #expect(PostgresLocation.isURL("postgres://x") && !PostgresLocation.isURL("/var/lib/reconcile.sqlite"))
    }

    @Test(arguments: [
        ("postgres://app:hunter2-secret@db/payments", "carries a password"),
        ("mysql://app@db/payments", "is not a postgres"),
        ("postgres://db/payments", "names no user"),
        ("postgres://app@db", "names no database"),
        ("postgres://app@db/a/b", "names no database"),
        ("postgres://app@db:0/payments", "outside 1-65535"),
        ("postgres://app@db/payments?sslmode=require", "use disable or verify-full"),
        ("postgres://app@db/payments?password=x", "unknown parameter password"),
    ])
    func aBadURLIsRefusedNamingWhatIsWrongAndNeverTheSecret(url: String, message: String) {
        #expect {
            try PostgresLocation(url: url)
        } throws: { error in
            let text = String(describing: error)
            return text.hasPrefix("the store URL ") && text.contains(message) && !text.contains("hunter2")
        }
    }

    @Test func keysAreStableAcrossBuildsAndKeepNamesApart() {
        // Pinned: hosts running different builds must compute the same keys.
        #expect(ClaimKey.entry(job: "nightly", entry: "credicorp") == -2_207_123_312_585_394_342)
        #expect(ClaimKey.job("nightly") == 6_571_777_752_998_683_061)
        #expect(ClaimKey.entry(job: "ab", entry: "c") != ClaimKey.entry(job: "a", entry: "bc"))
        #expect(ClaimKey.job("nightly") != ClaimKey.entry(job: "nightly", entry: ""))
    }

    @Test func thePasswordComesFromTheNamedVariable() throws {
        #expect(try PostgresLocation.password(variable: "PG_PASS", environment: ["PG_PASS": "s3cret"]) == "s3cret")
        for (variable, environment, message) in [
            (nil, [:], "has no store_password_env"), ("PG_PASS", [:], "PG_PASS, which is unset or empty"),
            ("PG_PASS", ["PG_PASS": ""], "PG_PASS, which is unset or empty"),
        ] as [(String?, [String: String], String)] {
            #expect {
                try PostgresLocation.password(variable: variable, environment: environment)
            } throws: { error in
                String(describing: error).contains(message)
            }
        }
    }
}

@Suite(.enabled(if: TestPostgres.enabled)) struct PostgresClaimsTests {
    static let logger = Logger(label: "test.postgres")

    /// Whether `condition` held within 30 s, asked every 100 ms (a loaded CI machine took 7 s
    /// for what takes 0.1 s alone: starting `psql` and its login).
    static func eventually(_ condition: () async throws -> Bool) async throws -> Bool {
        for _ in 0..<300 {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    @Test func anEntryIsClaimedByOneSessionAndFreedWhenItsConnectionCloses() async throws {
        let (location, password) = try TestPostgres.server()
        let job = "claims-\(UUID().uuidString)"
        let first = try await PostgresClaims.connect(to: location, password: password, logger: Self.logger)
        let second = try await PostgresClaims.connect(to: location, password: password, logger: Self.logger)
        #expect(try await first.claim(job: job, entry: "credicorp"))
        #expect(try await first.claim(job: job, entry: "credicorp"), "claiming again what one holds")
        #expect(try await second.claim(job: job, entry: "credicorp") == false, "held by the other session")
        #expect(try await second.claim(job: job, entry: "crezco"), "another entry is free")
        #expect(try await second.claim(job: "other-\(job)", entry: "credicorp"), "the same entry of another job")

        try await first.release(job: job, entry: "credicorp")
        #expect(try await second.claim(job: job, entry: "credicorp"), "released once, though claimed twice")
        try await second.release(job: job, entry: "credicorp")
        #expect(try await first.claim(job: job, entry: "credicorp"))

        // A session that ends without releasing anything gives its claims back.
        try await first.close()
        let freed = try await Self.eventually { try await second.claim(job: job, entry: "credicorp") }
        #expect(freed, "the closed session's claim was given back within 30 s")
        try await second.close()
    }

    @Test func aKilledProcessGivesItsClaimBack() async throws {
        let (location, password) = try TestPostgres.server()
        let job = "killed-\(UUID().uuidString)"
        let key = ClaimKey.entry(job: job, entry: "credify")
        // Another process takes the claim and keeps its session open, idle, as a host between
        // two queries does; then it is killed with SIGKILL, so nothing of it runs after.
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        holder.arguments = [
            "psql", "-X", "-q", "-w", "-v", "ON_ERROR_STOP=1", "-h", location.host, "-p", "\(location.port)", "-U",
            location.user, "-d", location.database,
        ]
        holder.environment = ["PGPASSWORD": password, "PATH": TestPostgres.environment["PATH"] ?? "/usr/bin:/bin"]
        // psql may have ended already (refused, not installed): writing to it must fail, not kill the tests.
        signal(SIGPIPE, SIG_IGN)
        let input = Pipe()
        holder.standardInput = input
        holder.standardOutput = FileHandle.nullDevice
        try holder.run()
        defer { if holder.isRunning { kill(holder.processIdentifier, SIGKILL) } }
        try input.fileHandleForWriting.write(contentsOf: Data("SELECT pg_advisory_lock(\(key));\n".utf8))

        let claims = try await PostgresClaims.connect(to: location, password: password, logger: Self.logger)
        let heldByOther = try await Self.eventually {
            guard try await claims.claim(job: job, entry: "credify") else { return true }
            try await claims.release(job: job, entry: "credify")
            return false
        }
        #expect(heldByOther, "the other process took the claim within 30 s")

        kill(holder.processIdentifier, SIGKILL)
        holder.waitUntilExit()
        let taken = try await Self.eventually { try await claims.claim(job: job, entry: "credify") }
        #expect(taken, "the killed process's claim was given back within 30 s")
        try await claims.close()
    }
}
