import Foundation
import Testing

@testable import ReconcileCore

/// The retry budget, the backoff and `Retry-After`, decided without a network.
struct RetryPolicyTests {
    static func answer(_ status: Int, retryAfter: String? = nil) -> CurlTransport.Outcome {
        .response(HTTPResponse(status: status, headers: retryAfter.map { ["retry-after": $0] } ?? [:], body: Data()))
    }

    static func millis(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }

    /// Capped exponential backoff, jittered in the upper half of each step: 0.25–0.5 s, 0.5–1 s, …, 7.5–15 s.
    @Test func backoffDoublesUpToTheCapWithJitter() {
        let policy = RetryPolicy()
        for attempt in 1...12 {
            let step = min(500 << (attempt - 1), 15_000)
            for _ in 0..<50 {
                let delay = Self.millis(policy.backoff(attempt: attempt))
                #expect(delay >= Int64(step / 2) && delay <= Int64(step), "attempt \(attempt): \(delay) ms")
            }
        }
    }

    /// Retries go on while the next one would start inside the budget, and not after.
    @Test func theBudgetDecidesWhenToGiveUp() {
        let policy = RetryPolicy()
        guard
            case .retry(let delay, _, let asked) = policy.decide(
                outcome: Self.answer(503),
                attempt: 3,
                elapsed: .seconds(10)
            )
        else {
            Issue.record("a 503 ten seconds in is retried")
            return
        }
        #expect(Self.millis(delay) >= 1000 && Self.millis(delay) <= 2000)
        #expect(!asked, "a backoff of our own holds only this request")
        guard case .giveUp(let cause) = policy.decide(outcome: Self.answer(503), attempt: 3, elapsed: .seconds(59))
        else {
            Issue.record("a retry that would start past the minute is not made")
            return
        }
        #expect(cause == "503 server error; the next try would start past the 60s retry budget")
        // A whole night of fast failures still ends: attempts are bounded too.
        guard case .giveUp = policy.decide(outcome: .timeout, attempt: policy.maxAttempts, elapsed: .zero) else {
            Issue.record("maxAttempts still bounds the attempts")
            return
        }
        // Walking the schedule: about ten attempts fit in a minute, never a retry past it.
        var elapsed = Duration.zero
        var attempt = 1
        while case .retry(let delay, _, _) = policy.decide(outcome: .timeout, attempt: attempt, elapsed: elapsed) {
            elapsed += delay
            attempt += 1
            #expect(elapsed <= .seconds(60))
        }
        #expect(attempt >= 6 && attempt <= 12, "\(attempt) attempts")
    }

    /// `Retry-After` as seconds or as an HTTP-date is waited for, within the cap and the budget.
    @Test func retryAfterIsHonouredAsSecondsOrAsADate() {
        let policy = RetryPolicy()
        let now = Date(timeIntervalSince1970: 1_783_670_400)  // Fri, 10 Jul 2026 08:00:00 GMT
        guard
            case .retry(let delay, let cause, let asked) = policy.decide(
                outcome: Self.answer(429, retryAfter: "Fri, 10 Jul 2026 08:00:30 GMT"),
                attempt: 1,
                now: now
            )
        else {
            Issue.record("a Retry-After date half a minute ahead is waited for")
            return
        }
        #expect(delay == .seconds(30))
        #expect(cause == "429 rate limited, Retry-After 30s")
        #expect(asked, "the provider's own wait holds the whole client")
        #expect(
            RetryPolicy.retryAfter("Fri, 10 Jul 2026 07:59:00 GMT", now: now) == .seconds(0),
            "a past date: at once"
        )
        #expect(RetryPolicy.retryAfter("soon", now: now) == .absent)
        #expect(RetryPolicy.retryAfter(" 7 ", now: now) == .seconds(7))
        // The provider's own Retry-After is waited for past the budget, by up to the cap (60 s)…
        guard
            case .retry(let asked, _, _) = policy.decide(
                outcome: Self.answer(429, retryAfter: "60"),
                attempt: 2,
                elapsed: .seconds(45)
            )
        else {
            Issue.record("a Retry-After at the cap, asked for inside the budget, is waited for")
            return
        }
        #expect(asked == .seconds(60))
        // …but no further: a backoff past the budget, or a Retry-After past budget and cap, gives up.
        guard
            case .giveUp(let late) = policy.decide(
                outcome: Self.answer(429, retryAfter: "30"),
                attempt: 5,
                elapsed: .seconds(95)
            )
        else {
            Issue.record("a Retry-After that ends past the budget and the cap gives up")
            return
        }
        #expect(late.hasSuffix("past the 60s retry budget"))
        guard case .giveUp = policy.decide(outcome: Self.answer(429), attempt: 5, elapsed: .seconds(58)) else {
            Issue.record("a 429 without Retry-After is a backoff like any other")
            return
        }
        guard
            case .abort(let reason) = policy.decide(
                outcome: Self.answer(429, retryAfter: "Sat, 11 Jul 2026 08:00:00 GMT"),
                attempt: 1,
                now: now
            )
        else {
            Issue.record("a Retry-After a day ahead fails at once")
            return
        }
        #expect(reason.contains("Retry-After 86400s"))
    }

    /// `retry_budget` in the job file: job-wide, overridden per provider, bounded.
    @Test func theJobFileSetsTheBudget() throws {
        let environment = [
            "K": "sk_test", "W": "whsec_" + Data("0123456789abcdef0123456789abcdef".utf8).base64EncodedString(),
        ]
        func job(_ top: String, _ provider: String) -> String {
            """
            name: j
            store: s.sqlite
            lookback: 8d
            reports: r
            \(top)
            providers:
              - name: a
                kind: credicorp
                base_url: http://127.0.0.1:9
                api_key_env: K
                signing_secrets_env: [W]
                \(provider)
              - name: b
                kind: crezco
                base_url: http://127.0.0.1:9
                api_key_env: K
            """
        }
        let defaults = try JobFile.parse(text: job("", ""), file: "j.yml", environment: environment)
        #expect(defaults.providers.map(\.retryBudget) == [60, 60])
        let set = try JobFile.parse(
            text: job("retry_budget: 5m", "retry_budget: 20s"),
            file: "j.yml",
            environment: environment
        )
        #expect(set.providers.map(\.retryBudget) == [20, 300])
        #expect(throws: JobFileError.self) {
            try JobFile.parse(text: job("retry_budget: 2h", ""), file: "j.yml", environment: environment)
        }
        do {
            _ = try JobFile.parse(text: job("", "retry_budget: 0s"), file: "j.yml", environment: environment)
            Issue.record("0s is refused")
        } catch {
            #expect("\(error)".contains("j.yml:12: retry_budget"), "\(error)")
        }
    }
}
