import Foundation

/// Which answers are retried, how often and after how long.
public struct RetryPolicy: Sendable {
    /// Attempts in all, the first included.
    public var maxAttempts = 5
    /// The first backoff; doubled per attempt up to `maxDelay`, with jitter.
    public var baseDelay: Duration = .milliseconds(250)
    public var maxDelay: Duration = .seconds(8)
    /// The longest `Retry-After` waited for; a provider asking for longer fails at once.
    ///
    /// Sleeping through a `Retry-After: 86400` would hold the nightly job (and its lock) for a
    /// day; failing names the provider and the wait it asked for, and the others still finish.
    public var maxRetryAfter: Duration = .seconds(60)

    public init() {}

    enum Decision: Sendable {
        case done(HTTPResponse)
        case fail(status: Int)
        case retry(after: Duration, cause: String)
        case giveUp(cause: String)
        /// Fail now without retrying: the answer broke a limit, or asks for a wait longer than allowed.
        case abort(reason: String)
    }

    func decide(outcome: CurlTransport.Outcome, attempt: Int) -> Decision {
        let cause: String
        var delay = backoff(attempt: attempt)
        switch outcome {
        case .response(let response):
            switch response.status {
            case 200..<300, 404:
                return .done(response)
            case 429:
                cause = "429 rate limited"
                switch Self.retryAfter(response.headers["retry-after"]) {
                case .seconds(let seconds):
                    guard Duration.seconds(seconds) <= maxRetryAfter else {
                        return .abort(
                            reason: "429 with Retry-After \(seconds)s, longer than the "
                                + "\(maxRetryAfter.components.seconds)s this job waits"
                        )
                    }
                    delay = .seconds(seconds)
                case .tooLong:
                    return .abort(reason: "429 with a Retry-After too large to wait for")
                case .absent:
                    break
                }
            case 500..<600:
                cause = "\(response.status) server error"
            default:
                return .fail(status: response.status)
            }
        case .timeout:
            cause = "timed out"
        case .connectionFailed(let detail):
            cause = "connection failed: \(detail)"
        case .refused(let reason):
            return .abort(reason: reason)
        }
        return attempt >= maxAttempts ? .giveUp(cause: cause) : .retry(after: delay, cause: cause)
    }

    enum RetryAfter: Equatable {
        case absent
        case seconds(Int)
        case tooLong
    }

    /// Reads `Retry-After` as delay-seconds; an HTTP date (or anything else) counts as absent: normal backoff.
    static func retryAfter(_ header: String?) -> RetryAfter {
        guard let text = header?.trimmingCharacters(in: .whitespaces), !text.isEmpty,
            text.allSatisfy({ $0.isASCII && $0.isNumber })
        else { return .absent }
        guard text.count <= 9, let seconds = Int(text) else { return .tooLong }
        return .seconds(seconds)
    }

    /// Capped exponential backoff with jitter: a random point in the upper half of the step.
    func backoff(attempt: Int) -> Duration {
        var step = baseDelay
        for _ in 1..<max(1, attempt) where step < maxDelay { step *= 2 }
        step = min(step, maxDelay)
        let millis = max(1, Int(step.components.seconds * 1000 + step.components.attoseconds / 1_000_000_000_000_000))
        return .milliseconds(Int.random(in: (millis / 2)...millis))
    }
}

/// Spaces requests so that no more than `requestsPerSecond` start in any second.
struct RateLimiter: Sendable {
    let interval: Duration
    var next: ContinuousClock.Instant?

    init(requestsPerSecond: Double) {
        interval = .nanoseconds(Int64(1_000_000_000 / max(requestsPerSecond, 0.001)))
    }

    /// Reserves the next slot; returns how long to wait before using it.
    mutating func reserve(now: ContinuousClock.Instant) -> Duration {
        let slot = max(now, next ?? now)
        next = slot + interval
        return slot - now
    }
}
