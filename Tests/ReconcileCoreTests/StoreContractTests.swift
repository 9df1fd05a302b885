import Foundation
import Logging
import PostgresNIO
import Testing

@testable import ReconcileCore

/// The engines a contract test runs on: SQLite always, PostgreSQL where the tests have a server
/// (``TestPostgres/enabled``: always in CI).
enum TestStore: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite
    case postgres

    static var engines: [TestStore] { TestPostgres.enabled ? allCases : [.sqlite] }

    var testDescription: String { rawValue }

    /// The parts of ``ReconcileStore`` that PostgreSQL's engine implements so far.
    typealias Parts = ProviderKeyStore & BackfillStore

    /// Runs `body` with an empty store of this engine, removed after.
    ///
    /// PostgreSQL's is a schema of its own (`t_` and a UUID) on the test server, made by
    /// ``PostgresStore/open(_:password:schema:logger:)``'s migrations and dropped after.
    func with<T>(_ body: (any Parts) async throws -> T) async throws -> T {
        switch self {
        case .sqlite:
            return try await withTemporaryDirectory { folder in
                try await body(Store(path: folder.appendingPathComponent("contract.sqlite").path))
            }
        case .postgres:
            let (location, password) = try TestPostgres.server()
            let schema = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
            let logger = Logger(label: "test.store")
            try await TestPostgres.execute("CREATE SCHEMA \(schema)")
            do {
                let store = try await PostgresStore.open(location, password: password, schema: schema, logger: logger)
                let result: T
                do {
                    result = try await body(store)
                } catch {
                    await store.close()
                    throw error
                }
                await store.close()
                try await TestPostgres.execute("DROP SCHEMA \(schema) CASCADE")
                return result
            } catch {
                try? await TestPostgres.execute("DROP SCHEMA \(schema) CASCADE")
                throw error
            }
        }
    }
}

extension TestPostgres {
    /// Runs `sql` on a session of its own (schemas made and dropped around a test).
    static func execute(_ sql: String) async throws {
        let (location, password) = try server()
        let logger = Logger(label: "test.postgres")
        let configuration = PostgresConnection.Configuration(
            host: location.host,
            port: location.port,
            username: location.user,
            password: password,
            database: location.database,
            tls: .disable
        )
        let connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
        do {
            try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
        } catch {
            try? await connection.close()
            throw error
        }
        try await connection.close()
    }
}

/// What every engine's store must do alike, checked on each.
///
/// docs/postgres.md, "One store contract, two engines". Instants are compared to the
/// millisecond, which is what both keep.
@Suite struct StoreContractTests {
    static let start = Date(timeIntervalSince1970: 1_783_674_000.123)

    static func millis(_ date: Date?) -> Int64? { date.map(RFC3339.epochMillis) }

    @Test(arguments: TestStore.engines)
    func aProvidersKeyIsKeptOnceAndA404IsRememberedUntilTheKeyIsPublished(engine: TestStore) async throws {
        try await engine.with { store in
            #expect(try await store.providerKey(provider: "credify", keyID: "k1") == nil)
            #expect(try await store.providerKeyNotFound(provider: "credify", keyID: "k1") == nil)

            try await store.saveProviderKeyNotFound(provider: "credify", keyID: "k1", at: Self.start)
            #expect(
                try await Self.millis(store.providerKeyNotFound(provider: "credify", keyID: "k1"))
                    == Self.millis(Self.start)
            )
            #expect(try await store.providerKey(provider: "credify", keyID: "k1") == nil, "a 404 is no key")
            let later = Self.start.addingTimeInterval(86_400.5)
            try await store.saveProviderKeyNotFound(provider: "credify", keyID: "k1", at: later)
            #expect(
                try await Self.millis(store.providerKeyNotFound(provider: "credify", keyID: "k1"))
                    == Self.millis(later),
                "asked again, the newer answer is kept"
            )

            try await store.saveProviderKey(
                provider: "credify",
                keyID: "k1",
                algorithm: "ed25519",
                publicKey: "AAA=",
                at: later
            )
            #expect(
                try await store.providerKey(provider: "credify", keyID: "k1") == "AAA=",
                "a published key replaces the 404"
            )
            #expect(try await store.providerKeyNotFound(provider: "credify", keyID: "k1") == nil)

            try await store.saveProviderKeyNotFound(provider: "credify", keyID: "k1", at: later)
            try await store.saveProviderKey(
                provider: "credify",
                keyID: "k1",
                algorithm: "ed25519",
                publicKey: "BBB=",
                at: later
            )
            #expect(
                try await store.providerKey(provider: "credify", keyID: "k1") == "AAA=",
                "a kept key is never replaced"
            )
            #expect(try await store.providerKeyNotFound(provider: "credify", keyID: "k1") == nil)

            #expect(try await store.providerKey(provider: "crezco", keyID: "k1") == nil, "keys are per provider")
        }
    }

    @Test(arguments: TestStore.engines)
    func aBackfillKeepsItsAnswersUntilItCompletesAndARestartForgetsThem(engine: TestStore) async throws {
        try await engine.with { store in
            let since = Self.start
            let until = since.addingTimeInterval(6 * 3600)
            let id = Store.backfillID(job: "nightly", provider: "crezco", since: since, until: until)
            func begin(restart: Bool = false) async throws -> BackfillState {
                try await store.beginBackfill(
                    id: id,
                    job: "nightly",
                    provider: "crezco",
                    since: since,
                    until: until,
                    restart: restart,
                    at: Self.start
                )
            }
            #expect(try await store.unfinishedBackfillUntil(job: "nightly", provider: "crezco", since: since) == nil)
            #expect(try await begin() == BackfillState(id: id, status: "running", pages: 0))
            #expect(
                try await Self.millis(store.unfinishedBackfillUntil(job: "nightly", provider: "crezco", since: since))
                    == Self.millis(until)
            )
            #expect(try await store.unfinishedBackfillUntil(job: "nightly", provider: "crezco", since: until) == nil)
            #expect(try await store.unfinishedBackfillUntil(job: "other", provider: "crezco", since: since) == nil)

            // Bodies are bytes as they came, not text.
            let first = HTTPResponse(status: 200, headers: [:], body: Data([0x7B, 0x00, 0xFF, 0xFE, 0x7D]))
            let second = HTTPResponse(status: 404, headers: [:], body: Data())
            try await store.saveCheckpoint(first, backfillID: id, requestKey: "GET /events?page=1", at: Self.start)
            try await store.saveCheckpoint(second, backfillID: id, requestKey: "GET /events?page=2", at: Self.start)
            let kept = try #require(await store.checkpoint(backfillID: id, requestKey: "GET /events?page=1"))
            #expect(kept.status == 200 && kept.body == first.body && kept.headers.isEmpty)
            #expect(try await store.checkpoint(backfillID: id, requestKey: "GET /events?page=2")?.status == 404)
            #expect(try await store.checkpoint(backfillID: id, requestKey: "GET /events?page=3") == nil)

            let replaced = HTTPResponse(status: 200, headers: [:], body: Data("{}".utf8))
            try await store.saveCheckpoint(replaced, backfillID: id, requestKey: "GET /events?page=2", at: Self.start)
            #expect(try await store.checkpoint(backfillID: id, requestKey: "GET /events?page=2")?.body == replaced.body)

            #expect(try await begin().pages == 2, "resumed: the answers kept so far")
            #expect(try await begin(restart: true).pages == 0, "restarted: every answer forgotten")
            #expect(try await store.checkpoint(backfillID: id, requestKey: "GET /events?page=1") == nil)

            try await store.saveCheckpoint(first, backfillID: id, requestKey: "GET /events?page=1", at: Self.start)
            try await store.completeBackfill(id: id, at: until)
            #expect(try await store.checkpoint(backfillID: id, requestKey: "GET /events?page=1") == nil)
            #expect(try await store.unfinishedBackfillUntil(job: "nightly", provider: "crezco", since: since) == nil)
            #expect(try await begin().pages == 0, "a later backfill of the window reads afresh")
        }
    }
}

/// What only the PostgreSQL engine has: a shared server, migrations and logins.
@Suite(.enabled(if: TestPostgres.enabled)) struct PostgresStoreTests {
    static let logger = Logger(label: "test.postgres-store")

    /// Runs `body` with the name of a fresh schema, dropped after.
    static func withSchema(_ body: (String) async throws -> Void) async throws {
        let schema = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try await TestPostgres.execute("CREATE SCHEMA \(schema)")
        do {
            try await body(schema)
        } catch {
            try? await TestPostgres.execute("DROP SCHEMA \(schema) CASCADE")
            throw error
        }
        try await TestPostgres.execute("DROP SCHEMA \(schema) CASCADE")
    }

    @Test func hostsStartingAtOnceMigrateOnceAndANewerSchemaIsLeftAlone() async throws {
        let (location, password) = try TestPostgres.server()
        try await Self.withSchema { schema in
            // Four processes' worth of stores opening one empty schema at once.
            let stores = try await withThrowingTaskGroup(of: PostgresStore.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        try await PostgresStore.open(location, password: password, schema: schema, logger: Self.logger)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(stores.count == 4)
            for store in stores { await store.close() }
            try await TestPostgres.execute(
                "INSERT INTO \(schema).reconcile_migration (name) VALUES ('v99 from a newer build')"
            )
            let failure = await #expect(throws: StoreFailure.self) {
                let store = try await PostgresStore.open(
                    location,
                    password: password,
                    schema: schema,
                    logger: Self.logger
                )
                await store.close()
            }
            #expect(failure?.description.contains("newer version of reconcile") == true)
            #expect(failure?.description.contains("v99 from a newer build") == true)
            #expect(failure?.description.contains(location.description) == true, "the store is named")
        }
    }

    @Test func aRefusedLoginSaysWhatTheServerSaidAndNeverThePassword() async throws {
        let (location, password) = try TestPostgres.server()
        let wrong = password + "-not-it"
        let failure = await #expect(throws: StoreFailure.self) {
            let store = try await PostgresStore.open(location, password: wrong, logger: Self.logger)
            await store.close()
        }
        let text = failure?.description ?? ""
        #expect(text.contains("password authentication failed"), "the server's message: \(text)")
        #expect(text.contains("28P01"), "and its SQLSTATE")
        #expect(!text.contains(wrong) && !text.contains(password))
    }
}
