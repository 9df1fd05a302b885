/// A misbehaviour the running sandbox injects into matching read-API requests, for testing clients.
///
/// A fault matches requests to `provider` whose path (relative to the provider base, without the
/// query) starts with `pathPrefix`; it applies to the next `times` matching requests, or to all of
/// them when `times` is `nil`. When several faults match, the first in the list wins.
public struct SandboxFault: Sendable, Hashable {
    /// What the sandbox does instead of (or before) answering normally.
    public enum Kind: Sendable, Hashable {
        /// `429` (`rate_limited`, Crezco `TooManyRequests`) with `Retry-After: <seconds>`.
        case rateLimited(retryAfterSeconds: Int)
        /// A `5xx` (`status` 500–599) with the provider's server-error body (`api_error`, `ServerError`, `internal`).
        case serverError(status: Int)
        /// Waits `milliseconds` and then answers normally.
        case slow(milliseconds: Int)
        /// `200` with a body that is not the expected JSON.
        case garbage(Garbage)
        /// `401` in the provider's error format, whatever key was sent.
        case unauthorized
    }

    /// Kinds of unusable `200` bodies.
    public enum Garbage: Sendable, Hashable {
        /// A JSON list cut off in the middle, `Content-Type: application/json`.
        case truncatedJSON
        /// An HTML error page, `Content-Type: text/html`.
        case html
        /// Exactly this body, `Content-Type: application/json`: well-formed JSON of the wrong shape or types.
        case body(String)
    }

    /// What happens.
    public var kind: Kind
    /// The provider whose requests are affected: `credicorp`, `crezco` or `credify`.
    public var provider: String
    /// Path prefix below the provider base, such as `/public/v1/events`; `/` matches everything.
    public var pathPrefix: String
    /// How many matching requests are affected; `nil` for all.
    public var times: Int?

    /// Creates a fault; by default it hits the next single Credicorp request.
    public init(_ kind: Kind, provider: String = "credicorp", pathPrefix: String = "/", times: Int? = 1) {
        self.kind = kind
        self.provider = provider
        self.pathPrefix = pathPrefix
        self.times = times
    }

    /// Whether this fault applies to a request for `provider` at `path`.
    func matches(provider: String, path: String) -> Bool {
        provider == self.provider && path.hasPrefix(pathPrefix) && (times.map { $0 > 0 } ?? true)
    }

    /// The answer this fault gives, in the faulted provider's error format, or `nil` when the request
    /// should then be answered normally.
    var response: SandboxAPIResponse? {
        switch kind {
        case .rateLimited(let seconds):
            var response = SandboxAPIResponse.error(429, .rateLimited, provider: provider, message: "too many requests")
            response.retryAfter = seconds
            return response
        case .serverError(let status):
            return .error(status, .serverError, provider: provider, message: "the sandbox failed on purpose")
        case .slow:
            return nil
        case .garbage(.truncatedJSON):
            return SandboxAPIResponse(status: 200, body: "{\"object\":\"list\",\"data\":[{\"id\":\"evt_")
        case .garbage(.html):
            return SandboxAPIResponse(
                status: 200,
                contentType: "text/html; charset=utf-8",
                body: "<html><head><title>502 Bad Gateway</title></head><body>Bad Gateway</body></html>"
            )
        case .garbage(.body(let body)):
            return SandboxAPIResponse(status: 200, body: body)
        case .unauthorized:
            return .error(401, .unauthorized, provider: provider, message: "missing or invalid key")
        }
    }
}
