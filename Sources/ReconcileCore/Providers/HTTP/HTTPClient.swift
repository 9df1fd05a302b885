import Foundation
import Logging

/// An HTTP response as the client received it.
public struct HTTPResponse: Sendable {
    public var status: Int
    /// Header names lower-cased.
    public var headers: [String: String]
    public var body: Data
}

/// A GET-only JSON client for one provider's read API, on libcurl.
///
/// It owns one curl handle (connections are reused), spaces requests to the provider's rate
/// limit, honours `429 Retry-After`, retries `5xx`, timeouts and connection errors with capped
/// exponential backoff and jitter, and fails fast on `401`. Credentials go only into request
/// headers; no error or log line contains them.
public actor HTTPClient {
    /// Timeouts, retry policy and pacing.
    public struct Configuration: Sendable {
        public var connectTimeout: Duration = .seconds(5)
        public var totalTimeout: Duration = .seconds(30)
        public var retry = RetryPolicy()
        public var requestsPerSecond: Double = 25
        /// Answers kept from an earlier, interrupted read of the same window (a backfill's checkpoints).
        public var cache: (any ResponseCache)?
        /// Told of every list page read.
        public var progress: (any ReadProgress)?

        public init() {}
    }

    let provider: String
    let baseURL: String
    let credentials: [(name: String, secret: Secret)]
    let configuration: Configuration
    let logger: Logger
    private let transport: CurlTransport
    private var limiter: RateLimiter
    private(set) var requests = 0
    private(set) var outcomes: [String: Int] = [:]
    /// Answers served from ``Configuration/cache`` instead of the network.
    private(set) var cachedAnswers = 0

    public init(
        provider: String,
        baseURL: String,
        credentials: [(name: String, secret: Secret)],
        configuration: Configuration,
        logger: Logger
    ) {
        self.provider = provider
        self.baseURL = baseURL
        self.credentials = credentials
        self.configuration = configuration
        self.logger = logger
        self.transport = CurlTransport()
        self.limiter = RateLimiter(requestsPerSecond: configuration.requestsPerSecond)
    }

    /// A client for `config`'s read API at its `rate_limit`, sending `credentials` as headers.
    public init(
        config: ProviderConfig,
        credentials: [(name: String, secret: Secret)],
        configuration: Configuration,
        logger: Logger
    ) {
        var paced = configuration
        paced.requestsPerSecond = config.rateLimit
        self.init(
            provider: config.name,
            baseURL: config.baseURL,
            credentials: credentials,
            configuration: paced,
            logger: logger
        )
    }

    /// The bearer `Authorization` header of `key`.
    public static func bearer(_ key: Secret) -> (name: String, secret: Secret) {
        ("Authorization", Secret(variable: key.variable, value: "Bearer " + key.value))
    }

    /// How many HTTP requests were sent, retries included.
    public func requestCount() -> Int { requests }

    /// Requests by outcome: `ok`, `not_found`, `rate_limited`, `unauthorized`, `client_error`,
    /// `server_error`, `timeout`, `connection_error`.
    public func requestOutcomes() -> [String: Int] { outcomes }

    /// How many answers came from the checkpoint cache.
    public func cachedAnswerCount() -> Int { cachedAnswers }

    static func outcomeName(_ outcome: CurlTransport.Outcome) -> String {
        switch outcome {
        case .timeout: return "timeout"
        case .connectionFailed: return "connection_error"
        case .response(let response):
            switch response.status {
            case 200..<300: return "ok"
            case 404: return "not_found"
            case 429: return "rate_limited"
            case 401, 403: return "unauthorized"
            case 500..<600: return "server_error"
            default: return "client_error"
            }
        }
    }

    /// GETs `path` with `query`; answers 2xx and 404 are returned, the rest retried or thrown.
    public func get(_ path: String, query: [(String, String)] = []) async throws -> HTTPResponse {
        let url = baseURL + path + Self.encode(query)
        var headers = credentials.map { "\($0.name): \($0.secret.value)" }
        headers.append("Accept: application/json")
        let cacheKey = path + Self.encode(query)
        if let cached = await configuration.cache?.response(for: cacheKey) {
            cachedAnswers += 1
            return cached
        }
        var attempt = 0
        while true {
            attempt += 1
            if Task.isCancelled || Interruption.shared.isRequested { throw ProviderError.cancelled(provider: provider) }
            let wait = limiter.reserve(now: ContinuousClock.now)
            if wait > .zero { try await sleep(wait) }
            requests += 1
            let outcome = await transport.perform(
                url: url,
                headers: headers,
                connectTimeout: configuration.connectTimeout,
                totalTimeout: configuration.totalTimeout
            )
            outcomes[Self.outcomeName(outcome), default: 0] += 1
            let decision = configuration.retry.decide(outcome: outcome, attempt: attempt)
            switch decision {
            case .done(let response):
                try await configuration.cache?.save(response, for: cacheKey)
                return response
            case .fail(let status):
                if status == 401 || status == 403 {
                    throw ProviderError.unauthorized(provider: provider, status: status)
                }
                throw ProviderError.rejected(
                    provider: provider,
                    path: path,
                    status: status,
                    message: Self.errorMessage(outcome)
                )
            case .giveUp(let cause):
                logger.error(
                    "provider.request_failed",
                    metadata: [
                        "provider": "\(provider)", "path": "\(path)", "attempts": "\(attempt)", "cause": "\(cause)",
                    ]
                )
                throw ProviderError.exhausted(provider: provider, path: path, attempts: attempt, lastError: cause)
            case .retry(let delay, let cause):
                logger.warning(
                    "provider.retry",
                    metadata: [
                        "provider": "\(provider)", "path": "\(path)", "attempt": "\(attempt)", "cause": "\(cause)",
                        "delay_ms":
                            "\(delay.components.seconds * 1000 + delay.components.attoseconds / 1_000_000_000_000_000)",
                    ]
                )
                try await sleep(delay)
            }
        }
    }

    /// Sleeps in short steps, so that an interruption cuts a long wait (Retry-After, backoff) short.
    private func sleep(_ duration: Duration) async throws {
        let deadline = ContinuousClock.now + duration
        while ContinuousClock.now < deadline {
            if Interruption.shared.isRequested { throw ProviderError.cancelled(provider: provider) }
            do {
                try await Task.sleep(for: min(.milliseconds(100), deadline - ContinuousClock.now))
            } catch {
                throw ProviderError.cancelled(provider: provider)
            }
        }
    }

    static func encode(_ query: [(String, String)]) -> String {
        guard !query.isEmpty else { return "" }
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return "?"
            + query.map { name, value in
                "\(name)=\(value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value)"
            }.joined(separator: "&")
    }

    static func errorMessage(_ outcome: CurlTransport.Outcome) -> String {
        guard case .response(let response) = outcome else { return "no answer" }
        if let json = JSONValue.parse(response.body), let error = json["error"] {
            let code = error["type"]?.stringValue ?? error["code"]?.stringValue ?? "error"
            let message = error["message"]?.stringValue ?? ""
            return "\(code): \(message.prefix(200))"
        }
        return "a non-JSON error body"
    }
}

/// Answers kept between interrupted reads of the same window, keyed by path and query.
public protocol ResponseCache: Sendable {
    func response(for key: String) async -> HTTPResponse?
    func save(_ response: HTTPResponse, for key: String) async throws
}

/// Hears about list pages as a reader reads them (for progress lines).
public protocol ReadProgress: Sendable {
    /// A page of `list` with `rows` rows was read; the list has now been read up to `reached`.
    func pageRead(provider: String, list: String, rows: Int, reached: Date?) async
}
