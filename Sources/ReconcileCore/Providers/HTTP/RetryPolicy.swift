import Foundation

/// Which answers are retried, how often and after how long.
///
/// A transient failure (5xx, 429, a timeout, a lost connection) is retried with capped exponential
/// backoff and jitter for as long as the request's ``budget`` lasts (a minute by default, the job
/// file's `retry_budget`), counted from its first attempt: a provider's short blip or a deploy does
/// not fail the night. A backoff retry that would start after the budget is spent is not made. A
/// `Retry-After` the provider sends (at most ``maxRetryAfter``) is waited for even past the budget,
/// by up to ``maxRetryAfter``: the provider said when to come back.
public struct RetryPolicy: Sendable {
    /// How long one request may keep retrying, from its first attempt.
    public var budget: Duration = .seconds(60)
    /// Attempts in all, the first included: a bound on top of the budget.
    public var maxAttempts = 100
    /// The first backoff; doubled per attempt up to `maxDelay`, with jitter.
    public var baseDelay: Duration = .milliseconds(500)
    public var maxDelay: Duration = .seconds(15)
    /// The longest `Retry-After` waited for; a provider asking for longer fails at once.
    ///
    /// Sleeping through a `Retry-After: 86400` would hold the nightly job (and its lock) for a
    /// day; failing names the provider and the wait it asked for, and the others still finish.
    public var maxRetryAfter: Duration = .seconds(60)

    public init() {}

    enum Decision: Sendable {
        case done(HTTPResponse)
        case fail(status: Int)
        /// Try again after the delay; `asked`: the provider's own `Retry-After`, which holds every
        /// request of the client, not only this one.
        case retry(after: Duration, cause: String, asked: Bool)
        case giveUp(cause: String)
        /// Fail now without retrying: the answer broke a limit, or asks for a wait longer than allowed.
        case abort(reason: String)
    }

    /// What to do after attempt number `attempt`, `elapsed` after the first one started; `now` reads an HTTP-date `Retry-After`.
    func decide(outcome: CurlTransport.Outcome, attempt: Int, elapsed: Duration = .zero, now: Date = Date())
        -> Decision
    {
        var cause: String
        var delay = backoff(attempt: attempt)
        var askedToWait = false
        switch outcome {
        case .response(let response):
            switch response.status {
            case 200..<300, 404:
                return .done(response)
            case 429:
                cause = "429 rate limited"
                switch Self.retryAfter(response.headers["retry-after"], now: now) {
                case .seconds(let seconds):
                    guard Duration.seconds(seconds) <= maxRetryAfter else {
                        return .abort(
                            reason: "429 with Retry-After \(seconds)s, longer than the "
                                + "\(maxRetryAfter.components.seconds)s this job waits"
                        )
                    }
                    delay = .seconds(seconds)
                    askedToWait = true
                    cause += ", Retry-After \(seconds)s"
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
        case .expired:
            return .abort(reason: "the deadline passed before the request was sent")
        case .connectionFailed(let detail):
            cause = "connection failed: \(detail)"
        case .refused(let reason):
            return .abort(reason: reason)
        case .cancelled:
            return .abort(reason: "the request was cancelled")
        }
        if attempt >= maxAttempts { return .giveUp(cause: cause) }
        let limit = askedToWait ? budget + maxRetryAfter : budget
        guard elapsed + delay <= limit else {
            return .giveUp(cause: cause + "; the next try would start past the \(Self.seconds(budget))s retry budget")
        }
        return .retry(after: delay, cause: cause, asked: askedToWait)
    }

    /// Whole seconds of `duration`, for messages.
    static func seconds(_ duration: Duration) -> Int64 { duration.components.seconds }

    enum RetryAfter: Equatable {
        case absent
        case seconds(Int)
        case tooLong
    }

    /// Reads `Retry-After` as delay-seconds or an HTTP-date (the wait until it, at least 0); anything else
    /// counts as absent: normal backoff.
    static func retryAfter(_ header: String?, now: Date = Date()) -> RetryAfter {
        guard let text = header?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return .absent }
        guard text.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            guard let date = HTTPDate.parse(text) else { return .absent }
            let wait = date.timeIntervalSince(now).rounded(.up)
            guard wait < 1e9 else { return .tooLong }
            return .seconds(max(0, Int(wait)))
        }
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
    /// Until when the provider asked for no requests (the latest `Retry-After`).
    var held: ContinuousClock.Instant?

    init(requestsPerSecond: Double) {
        interval = .nanoseconds(Int64(1_000_000_000 / max(requestsPerSecond, 0.001)))
    }

    /// Reserves the next slot; returns how long to wait before using it.
    mutating func reserve(now: ContinuousClock.Instant) -> Duration {
        let slot = max(now, next ?? now)
        next = slot + interval
        return slot - now
    }

    /// Gives no slot before `instant`: a provider's `Retry-After` answers the client, not the one
    /// request that got it, and requests in flight together (a list's chains, two chunks' reads by
    /// id) all wait, even one whose slot was given before (see ``held``).
    mutating func hold(until instant: ContinuousClock.Instant) {
        next = max(next ?? instant, instant)
        held = max(held ?? instant, instant)
    }
}
