/// One request the sandbox server received, as recorded in its request log.
public struct SandboxRequestRecord: Sendable, Hashable {
    /// The HTTP method.
    public var method: String
    /// The provider segment of the path (`credicorp`), or `nil` when the path names none.
    public var provider: String?
    /// The path below the provider base, such as `/public/v1/events` (the full path if no provider).
    public var path: String
    /// The raw query string without `?`, if any.
    public var query: String?
    /// The account the request was for, when it came through ``SandboxServer/baseURL(for:account:)``.
    public var account: String?

    /// Creates a record.
    public init(method: String, provider: String?, path: String, query: String?, account: String? = nil) {
        self.method = method
        self.provider = provider
        self.path = path
        self.query = query
        self.account = account
    }

    /// Path and query as sent, relative to the provider base.
    public var pathAndQuery: String {
        query.map { path + "?" + $0 } ?? path
    }
}
