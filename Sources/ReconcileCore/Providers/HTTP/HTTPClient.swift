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
/// It owns up to ``Configuration/connections`` curl handles (each reuses its connection), spaces
/// requests to the provider's rate limit (all handles together), honours `429 Retry-After`,
/// retries `5xx`, timeouts and connection errors with capped exponential backoff and jitter for as
/// long as the request's retry budget lasts (``RetryPolicy/budget``), and fails fast on `401`.
/// Credentials go only into request headers; no error or log line contains them.
///
/// Every request is bounded: a total timeout, a body limit (``Configuration/maxBodyBytes``), no
/// redirects, and one deadline for everything the client does (``Configuration/deadline``,
/// counted from its creation, i.e. one provider's read in one run).
public actor HTTPClient {
    /// Timeouts, retry policy and pacing.
    public struct Configuration: Sendable {
        public var connectTimeout: Duration = .seconds(5)
        public var totalTimeout: Duration = .seconds(30)
        public var retry = RetryPolicy()
        public var requestsPerSecond: Double = 25
        /// The largest answer body read: 32 MiB; a larger one fails the request at once.
        public var maxBodyBytes = 32 << 20
        /// How long the client may work in all, retries and waits included; nil: no deadline.
        ///
        /// A client built from a ``ProviderConfig`` uses the shorter of this and the job file's `deadline`.
        public var deadline: Duration?
        /// Answers kept from an earlier, interrupted read of the same window (a backfill's checkpoints).
        public var cache: (any ResponseCache)?
        /// Told of every list page read.
        public var progress: (any ReadProgress)?
        /// The most requests in flight at once, each on a curl handle (and connection) of its own:
        /// a list read in slices (see `CredicorpReader.chains`) has a chain per slice, and
        /// Credicorp's resource lists are read at once; more requests wait for the least busy handle.
        public var connections = 8

        public init() {}
    }

    let provider: String
    let baseURL: String
    let credentials: [(name: String, secret: Secret)]
    let configuration: Configuration
    let logger: Logger
    /// The curl handles made so far (at most ``Configuration/connections``), and how many
    /// requests each has taken up or queued.
    private var transports: [CurlTransport] = []
    private var inFlight: [Int] = []
    private var limiter: RateLimiter
    /// When ``Configuration/deadline`` runs out.
    private let deadline: ContinuousClock.Instant?
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
        self.limiter = RateLimiter(requestsPerSecond: configuration.requestsPerSecond)
        self.deadline = configuration.deadline.map { ContinuousClock.now + $0 }
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
        let fromJob = Duration.milliseconds(Int64(config.deadline * 1000))
        paced.deadline = min(configuration.deadline ?? fromJob, fromJob)
        paced.retry.budget = .milliseconds(Int64(config.retryBudget * 1000))
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
        case .timeout, .expired: return "timeout"
        case .connectionFailed: return "connection_error"
        case .refused: return "refused"
        case .cancelled: return "cancelled"
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
        // The budget counts from the first request sent, not from a wait for the rate limiter or
        // for a handle (with every handle busy, the request waits behind another).
        var firstAttempt: ContinuousClock.Instant?
        while true {
            attempt += 1
            if Task.isCancelled || Interruption.shared.isRequested { throw ProviderError.cancelled(provider: provider) }
            let wait = limiter.reserve(now: ContinuousClock.now)
            if wait > .zero { try await sleep(wait, path: path) }
            // A Retry-After heard while this request waited for its slot holds it too.
            if let held = limiter.held, held > ContinuousClock.now {
                try await sleep(held - ContinuousClock.now, path: path)
            }
            _ = try remainingTime(path: path)
            // The transport cuts both timeouts to what is left of the deadline when it sends.
            let handle = takeTransport()
            let (outcome, sent) = await transports[handle].perform(
                url: url,
                headers: headers,
                limits: .init(
                    connectTimeout: configuration.connectTimeout,
                    totalTimeout: configuration.totalTimeout,
                    maxBodyBytes: configuration.maxBodyBytes,
                    deadline: deadline
                )
            )
            inFlight[handle] -= 1
            // Not sent: the deadline passed while it waited for the handle (no request, no outcome).
            if case .expired = outcome { throw deadlineError(path: path) }
            requests += 1
            let started = firstAttempt ?? sent
            firstAttempt = started
            outcomes[Self.outcomeName(outcome), default: 0] += 1
            if case .cancelled = outcome { throw ProviderError.cancelled(provider: provider) }
            if case .timeout = outcome { _ = try remainingTime(path: path) }
            let decision = configuration.retry.decide(
                outcome: outcome,
                attempt: attempt,
                elapsed: ContinuousClock.now - started
            )
            switch decision {
            case .done(let response):
                try await configuration.cache?.save(response, for: cacheKey)
                return response
            case .abort(let reason):
                logger.error(
                    "provider.request_refused",
                    metadata: ["provider": "\(provider)", "path": "\(path)", "reason": "\(reason)"]
                )
                throw ProviderError.aborted(provider: provider, path: path, reason: reason)
            case .fail(let status):
                if status == 401 || status == 403 {
                    throw ProviderError.unauthorized(provider: provider, status: status)
                }
                if (300..<400).contains(status) {
                    throw ProviderError.rejected(
                        provider: provider,
                        path: path,
                        status: status,
                        message: "a redirect, which this job never follows; check base_url"
                    )
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
            case .retry(let delay, let cause, let asked):
                logger.warning(
                    "provider.retry",
                    metadata: [
                        "provider": "\(provider)", "path": "\(path)", "attempt": "\(attempt)", "cause": "\(cause)",
                        "delay_ms":
                            "\(delay.components.seconds * 1000 + delay.components.attoseconds / 1_000_000_000_000_000)",
                    ]
                )
                if asked { limiter.hold(until: ContinuousClock.now + delay) }
                try await sleep(delay, path: path)
            }
        }
    }

    /// A handle with nothing in flight, made when all are busy and there may be more; else the
    /// least busy, whose queue the request waits in.
    private func takeTransport() -> Int {
        var handle = inFlight.indices.min { inFlight[$0] < inFlight[$1] }
        if handle.map({ inFlight[$0] > 0 }) ?? true, transports.count < max(1, configuration.connections) {
            transports.append(CurlTransport())
            inFlight.append(0)
            handle = transports.count - 1
        }
        let taken = handle ?? 0
        inFlight[taken] += 1
        return taken
    }

    /// Time left before the deadline (a long time when there is none); past it, the read fails.
    private func remainingTime(path: String) throws -> Duration {
        guard let deadline else { return .seconds(86_400 * 365) }
        let left = deadline - ContinuousClock.now
        guard left > .zero else { throw deadlineError(path: path) }
        return left
    }

    private func deadlineError(path: String) -> ProviderError {
        let seconds = Int(configuration.deadline?.components.seconds ?? 0)
        logger.error("provider.deadline", metadata: ["provider": "\(provider)", "path": "\(path)"])
        return ProviderError.deadlineExceeded(provider: provider, path: path, seconds: seconds)
    }

    /// Sleeps in short steps, so that an interruption cuts a long wait (Retry-After, backoff) short.
    ///
    /// A wait that would end past the deadline fails at once instead of sleeping first.
    private func sleep(_ duration: Duration, path: String) async throws {
        if let deadline = self.deadline, ContinuousClock.now + duration >= deadline { throw deadlineError(path: path) }
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
