import Foundation
import Logging
import PostgresNIO

/// A job's store in PostgreSQL: the same records as the SQLite ``Store``, in the schema of
/// ``PostgresStore/migrations`` (docs/postgres.md).
///
/// It holds a small pool of connections (``PostgresClient``), run by a task of its own until
/// ``close()``. Every method that changes anything is one transaction, except
/// ``applyRepairs(_:provider:runID:at:)``, committed 500 repairs at a time (up to 500 are whole).
/// Failures are ``StoreFailure``s with the server's own message, never the password or a query's values.
public final class PostgresStore: StoreEngine {
    let client: PostgresClient
    let logger: Logger
    private let running: Task<Void, Never>
    public let location: String
    /// Whether the schema held a store before this one was opened.
    public let existed: Bool

    /// The most connections one process opens: the providers of a run (3 at once) and the ingest's writer.
    static let maximumConnections = 4

    private init(client: PostgresClient, running: Task<Void, Never>, location: String, existed: Bool, logger: Logger) {
        self.client = client
        self.running = running
        self.location = location
        self.existed = existed
        self.logger = logger
    }

    /// Connects to the store at `location` and brings its schema up to date.
    ///
    /// - Parameters:
    ///   - location: the server and database.
    ///   - password: the login's password, from the variable the job names.
    ///   - schema: the schema the tables live in; nil for the login's `search_path` (`public`
    ///     unless the server says otherwise). The tests give each store a schema of its own.
    ///   - creation: whether the command may start a store where there is none.
    ///   - logger: where the pool's own events go.
    /// - Returns: the store, its schema up to date, its pool running until ``close()``.
    /// - Throws: ``StoreFailure`` when the server cannot be reached, refuses the login, or its
    ///   schema was written by a newer build of reconcile; `NoStoreYet` when the schema holds no
    ///   store and `creation` does not allow one.
    public static func open(
        _ location: PostgresLocation,
        password: String,
        schema: String? = nil,
        creation: StoreLocation.Creation = .allowed,
        logger: Logger
    ) async throws -> PostgresStore {
        let name = location.description

        var existed = false
        // One session of its own first, for the migrations: a refused login or an unreachable
        // server fails here at once with what the server said, where the pool would retry for a
        // minute and then report only that it gave up.
        do {
            let connection = try await PostgresConnection.connect(
                configuration: try location.sessionConfiguration(password: password, schema: schema),
                id: 0,
                logger: logger
            )
            do {
                existed = try await migrate(on: connection, location: name, creation: creation, logger: logger)
            } catch {
                try? await connection.close()
                throw error
            }
            try await connection.close()
        } catch {
            // Thrown inside the migrations' transaction, it comes back wrapped.
            if let refused = unwrapped(error) as? NoStoreYet { throw refused }
            throw failure("open \(name)", error)
        }

        // libpq's verify-full: the certificate against the system's roots, and the server's name.
        var configuration = PostgresClient.Configuration(
            host: location.host,
            port: location.port,
            username: location.user,
            password: password,
            database: location.database,
            tls: location.tls ? .require(.makeClientConfiguration()) : .disable
        )
        configuration.options.maximumConnections = maximumConnections
        configuration.options.additionalStartupParameters = location.sessionParameters(schema: schema)
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        let running = Task { await client.run() }
        return PostgresStore(client: client, running: running, location: name, existed: existed, logger: logger)
    }

    /// Closes every connection; the store cannot be used after.
    public func close() async {
        running.cancel()
        await running.value
    }

    /// Runs `body` in one transaction: all of it is committed, or none of it.
    ///
    /// A transaction PostgreSQL aborted to break a deadlock (SQLSTATE 40P01) or a serialization
    /// failure (40001) is run again, up to three times in all, after a short pause: on SQLite the
    /// second writer waits for the first, and here one of two writers locking the same rows in
    /// other orders (an ingest, a repair, the application) is rolled back instead.
    func transaction<T: Sendable>(
        _ operation: String,
        _ body: (PostgresConnection) async throws -> T
    ) async throws(StoreFailure) -> T {
        var attempt = 1
        while true {
            do {
                return try await client.withTransaction(logger: logger) { connection in try await body(connection) }
            } catch {
                let state = Self.sqlState(error)
                if attempt < 3, state == "40P01" || state == "40001" {
                    logger.warning(
                        "store.retry",
                        metadata: ["operation": "\(operation)", "sqlstate": "\(state ?? "")", "attempt": "\(attempt)"]
                    )
                    attempt += 1
                    try? await Task.sleep(for: .milliseconds(50 * attempt))
                    continue
                }
                throw Self.failure(operation, error)
            }
        }
    }

    /// The error inside a transaction's error (what its body, `COMMIT` or `BEGIN` threw), or `error` itself.
    static func unwrapped(_ error: any Error) -> any Error {
        guard let transaction = error as? PostgresTransactionError,
            let inner = transaction.closureError ?? transaction.commitError ?? transaction.beginError
        else { return error }
        return unwrapped(inner)
    }

    /// The SQLSTATE of a server error, inside a transaction's error or not.
    static func sqlState(_ error: any Error) -> String? {
        (unwrapped(error) as? PSQLError)?.serverInfo?[.sqlState]
    }

    /// Runs one statement outside a transaction of the caller's (it is one by itself).
    func query(_ operation: String, _ query: PostgresQuery) async throws(StoreFailure) -> PostgresRowSequence {
        do {
            return try await client.query(query, logger: logger)
        } catch {
            throw Self.failure(operation, error)
        }
    }

    /// The rows `query` answers, each decoded as `columns`.
    func rows<each Column: PostgresDecodable>(
        _ operation: String,
        _ query: PostgresQuery,
        as columns: (repeat each Column).Type
    ) async throws(StoreFailure) -> [(repeat each Column)] {
        do {
            var rows: [(repeat each Column)] = []
            for try await row in try await client.query(query, logger: logger).decode(columns) { rows.append(row) }
            return rows
        } catch {
            throw Self.failure(operation, error)
        }
    }

    /// An instant as both engines keep it: to the nearest millisecond, as SQLite's RFC 3339 text does.
    ///
    /// Bound values go through it, and so do instants read back, which PostgreSQL holds to the
    /// microsecond: the same `Date` comes back as from SQLite.
    static func instant(_ date: Date) -> Date { Date(timeIntervalSince1970: Double(RFC3339.epochMillis(date)) / 1000) }

    /// A store failure that says what PostgreSQL said, and nothing of the query's values.
    ///
    /// PostgresNIO's own description of an error is deliberately empty ("Generic description to
    /// prevent accidental leakage"); the server's message and SQLSTATE are what an operator needs.
    static func failure(_ operation: String, _ error: any Error) -> StoreFailure {
        let error = unwrapped(error)
        if let failure = error as? StoreFailure { return failure }
        guard let error = error as? PSQLError else { return StoreFailure(operation, error) }
        if let server = error.serverInfo {
            let state = server[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
            return StoreFailure(operation, reason: (server[.message] ?? "the server refused it") + state)
        }
        let underlying = error.underlying.map { ": \($0)" } ?? ""
        return StoreFailure(operation, reason: "PostgreSQL \(error.code)\(underlying)")
    }
}
