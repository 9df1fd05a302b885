import Foundation
import NIOSSL
import PostgresNIO

extension PostgresLocation {
    /// The startup parameters of every session `reconcile` opens: its name, and how soon the
    /// server lets go of a dead client's session (its transactions roll back and its locks go).
    ///
    /// A killed process's session ends within 10 s even mid-query (`client_connection_check_interval`,
    /// PostgreSQL 14 or later: without it the server notices only when the query ends), and a host
    /// that fell silent within about a minute (TCP keepalives: idle 30 s, then 3 probes 10 s apart).
    /// `schema`, when given, is the session's `search_path`.
    func sessionParameters(schema: String? = nil) -> [(String, String)] {
        var parameters = [
            ("application_name", "reconcile"), ("tcp_keepalives_idle", "30"), ("tcp_keepalives_interval", "10"),
            ("tcp_keepalives_count", "3"), ("client_connection_check_interval", "10000"),
        ]
        if let schema { parameters.append(("search_path", schema)) }
        return parameters
    }

    /// One session's configuration: libpq's `verify-full` when TLS is on (the certificate against
    /// the system's roots, and the server's name), and ``sessionParameters(schema:)``.
    ///
    /// - Throws: NIOSSL's errors when TLS cannot be set up.
    public func sessionConfiguration(password: String, schema: String? = nil) throws
        -> PostgresConnection.Configuration
    {
        var configuration = PostgresConnection.Configuration(
            host: host,
            port: port,
            username: user,
            password: password,
            database: database,
            tls: tls ? .require(try NIOSSLContext(configuration: .makeClientConfiguration())) : .disable
        )
        configuration.options.additionalStartupParameters = sessionParameters(schema: schema)
        return configuration
    }
}
