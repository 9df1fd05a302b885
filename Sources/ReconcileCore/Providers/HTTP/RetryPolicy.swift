import Foundation

/// Which answers are retried, how often and after how long.
public struct RetryPolicy: Sendable {
    /// Attempts in all, the first included.
    public var maxAttempts = 5
    /// The first backoff; doubled per attempt up to `maxDelay`, with jitter.
    public var baseDelay: Duration = .milliseconds(250)
    public var maxDelay: Duration = .seconds(8)
    /// The longest `Retry-After` honoured; a longer one is capped to this.
    public var maxRetryAfter: Duration = .seconds(60)

    public init() {}

    enum Decision: Sendable {
        case done(HTTPResponse)
        case fail(status: Int)
        case retry(after: Duration, cause: String)
        case giveUp(cause: String)
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
                if let header = response.headers["retry-after"],
                    let seconds = Int(header.trimmingCharacters(in: .whitespaces)),
                    seconds >= 0
                {
                    delay = min(.seconds(seconds), maxRetryAfter)
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
        }
        return attempt >= maxAttempts ? .giveUp(cause: cause) : .retry(after: delay, cause: cause)
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
