import Foundation

/// Where a PostgreSQL store is: a `postgres://` or `postgresql://` URL that holds no secret.
///
/// `postgres://USER@HOST[:PORT]/DATABASE[?sslmode=disable|verify-full]`. The password never sits
/// in the URL (a job file is not a secret): it comes from the environment variable the job names
/// (`store_password_env`), and a URL that carries one is refused without repeating it. TLS is off
/// by default only for a loopback address (`localhost`, 127.0.0.0/8, `::1`); otherwise, or with
/// `sslmode=verify-full`, the server's certificate is verified against the system's roots and its
/// name, as libpq's `verify-full` does (libpq's `require`, which encrypts without verifying, is
/// not offered).
public struct PostgresLocation: Sendable, Equatable {
    /// The host to connect to: a name, or an address (an IPv6 one without its URL brackets).
    public var host: String
    public var port: Int
    public var user: String
    public var database: String
    public var tls: Bool

    /// `text` as it may be shown in a message: what may be a password is replaced by `<redacted>`.
    ///
    /// Read from the raw text, not from a URL parser: `postgres://admin:12/34@db/prod` parses as
    /// host `admin`, port `12` and no password. Whatever lies between the first `:` after the
    /// scheme and the last `@` is hidden, which may hide a port too (only in a message).
    public static func shown(_ text: String) -> String {
        guard let scheme = text.range(of: "://") else { return "<not shown: not a URL>" }
        let rest = text[scheme.upperBound...]
        guard let at = rest.lastIndex(of: "@"), let colon = rest[..<at].firstIndex(of: ":") else { return text }
        return String(text[..<rest.index(after: colon)]) + "<redacted>" + String(rest[at...])
    }

    /// Whether `text` names a PostgreSQL store rather than a SQLite file.
    public static func isURL(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    /// Reads `text`, a store URL.
    ///
    /// - Throws: ``PostgresLocationError`` naming what is wrong, never the URL's secret.
    public init(url text: String) throws(PostgresLocationError) {
        guard Self.isURL(text), let parts = URLComponents(string: text) else {
            throw .init("is not a postgres:// or postgresql:// URL")
        }
        guard parts.password == nil else {
            throw .init("carries a password: put it in the variable that store_password_env names instead")
        }
        guard let user = parts.user, !user.isEmpty else { throw .init("names no user (postgres://USER@HOST/DATABASE)") }
        guard var host = parts.host, !host.isEmpty else { throw .init("names no host") }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        let port = parts.port ?? 5432
        guard (1...65_535).contains(port) else { throw .init("has port \(port), outside 1-65535") }
        let path = parts.path.hasPrefix("/") ? String(parts.path.dropFirst()) : parts.path
        guard !path.isEmpty, !path.contains("/") else { throw .init("names no database (one path segment)") }
        var tls = !Self.isLoopback(host)
        for item in parts.queryItems ?? [] {
            switch (item.name, item.value) {
            case ("sslmode", "disable"): tls = false
            case ("sslmode", "verify-full"): tls = true
            case ("sslmode", _): throw .init("has sslmode \(item.value ?? "(none)"); use disable or verify-full")
            default: throw .init("has an unknown parameter \(item.name) (only sslmode is read)")
            }
        }
        self.host = host
        self.port = port
        self.user = user
        self.database = path
        self.tls = tls
    }

    /// The URL again, which holds no secret: for logs and errors.
    public var description: String {
        "postgres://\(user)@\(host.contains(":") ? "[\(host)]" : host):\(port)/\(database)"
    }

    /// Whether `host` is `localhost` or a loopback address; a name that merely starts with `127.` is not.
    static func isLoopback(_ host: String) -> Bool {
        if host == "localhost" { return true }
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 { return UInt32(bigEndian: v4.s_addr) >> 24 == 127 }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, host, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { bytes in bytes.dropLast().allSatisfy { $0 == 0 } && bytes.last == 1 }
        }
        return false
    }

    /// The password from the variable `variable` names in `environment`.
    ///
    /// - Throws: ``PostgresLocationError`` when no variable is named, or it is unset or empty.
    public static func password(variable: String?, environment: [String: String]) throws(PostgresLocationError)
        -> String
    {
        guard let variable, !variable.isEmpty else {
            throw .init("has no store_password_env: name the variable that holds the store's password")
        }
        guard let value = environment[variable], !value.isEmpty else {
            throw .init("takes its password from \(variable), which is unset or empty")
        }
        return value
    }
}

/// Why a store URL cannot be used; the message starts "the store URL".
public struct PostgresLocationError: Error, Equatable, CustomStringConvertible {
    public var detail: String

    init(_ detail: String) { self.detail = detail }

    public var description: String { "the store URL \(detail)" }
}
