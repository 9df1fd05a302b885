import Foundation
import Logging
import Testing

@testable import ReconcileCore

/// A provider's read API that lies, stalls, floods or asks for a day's pause: each is a failure of that provider (#9).
@Suite(.serialized) struct HostileProviderTests {
    static let since = Hostile.since
    static let until = Hostile.until

    static func quick(attempts: Int = 2, deadline: Duration? = nil, maxBody: Int = 1 << 20) -> HTTPClient.Configuration
    {
        Hostile.quick(attempts: attempts, deadline: deadline, maxBody: maxBody)
    }

    /// A Credicorp client of `server` with `configuration`, no credentials.
    static func client(_ server: HostileHTTPServer, _ configuration: HTTPClient.Configuration) -> HTTPClient {
        HTTPClient(
            provider: "credicorp",
            baseURL: server.baseURL,
            credentials: [],
            configuration: configuration,
            logger: Logger(label: "test.http")
        )
    }

    static func reader(_ kind: ProviderKind, _ baseURL: String, http: HTTPClient.Configuration = Hostile.quick())
        -> any ProviderReader
    {
        Hostile.reader(kind, baseURL, http: http)
    }

    static func failure(provider: String = "credicorp", _ body: () async throws -> Void) async -> ProviderError? {
        await Hostile.failure(provider: provider, body)
    }

    static let emptyCredicorpList = HostileHTTPServer.answer(
        200,
        body: #"{"object":"list","data":[],"has_more":false}"#
    )

    @Test func aNeverEndingBodyIsCutAtTheSizeLimit() async throws {
        let chunk = Data(repeating: 0x20, count: 64 << 10)
        try await HostileHTTPServer.with({ _ in
            [
                HostileHTTPServer.head(200, headers: ["Content-Type": "application/json"]),
                .repeatSend(chunk, times: 512),
            ]
        }) { server in
            let reader = Self.reader(.credicorp, server.baseURL)
            let error = await Self.failure { _ = try await reader.events(since: Self.since, until: Self.until) }
            #expect(error?.description.contains("larger than the 1 MiB limit") == true, "\(String(describing: error))")
            #expect(server.requests.count == 1, "a body over the limit is not retried")
        }
    }

    @Test func aContentLengthOverTheLimitIsRefusedBeforeItsBody() async throws {
        try await HostileHTTPServer.with({ _ in
            [HostileHTTPServer.head(200, headers: ["Content-Length": "1073741824"]), .hold(.seconds(10))]
        }) { server in
            let started = ContinuousClock.now
            let error = await Self.failure {
                _ = try await Self.reader(.credicorp, server.baseURL).events(since: Self.since, until: Self.until)
            }
            #expect(error?.description.contains("Content-Length is larger") == true, "\(String(describing: error))")
            #expect(ContinuousClock.now - started < .seconds(5), "before the 10 s the server holds")
        }
    }

    @Test func aTricklingAnswerEndsAtTheTotalTimeout() async throws {
        try await HostileHTTPServer.with({ _ in
            [
                HostileHTTPServer.head(200, headers: ["Content-Length": "100"]),
                .trickle(Data(String(repeating: " ", count: 100).utf8), interval: .milliseconds(200)),
            ]
        }) { server in
            let started = ContinuousClock.now
            let error = await Self.failure {
                _ = try await Self.reader(.credicorp, server.baseURL).events(since: Self.since, until: Self.until)
            }
            guard case .exhausted(_, _, 2, let cause)? = error else {
                Issue.record("not exhausted after 2 attempts: \(String(describing: error))")
                return
            }
            #expect(cause == "timed out")
            #expect(ContinuousClock.now - started < .seconds(10))
        }
    }

    @Test func theDeadlineEndsAReadThatKeepsFailing() async throws {
        try await HostileHTTPServer.with({ _ in [HostileHTTPServer.answer(503, body: #"{"error":{}}"#)] }) { server in
            let started = ContinuousClock.now
            let reader = Self.reader(.crezco, server.baseURL, http: Self.quick(attempts: 10_000, deadline: .seconds(3)))
            let error = await Self.failure(provider: "crezco") {
                _ = try await reader.events(since: Self.since, until: Self.until)
            }
            guard case .deadlineExceeded(_, _, 3)? = error else {
                Issue.record("not the deadline: \(String(describing: error))")
                return
            }
            #expect(ContinuousClock.now - started < .seconds(10), "3 s and the last request's timeout at most")
        }
    }

    @Test func aRedirectIsNeverFollowed() async throws {
        try await HostileHTTPServer.with({ target in
            target.hasPrefix("/elsewhere")
                ? [Self.emptyCredicorpList]
                : [HostileHTTPServer.answer(302, headers: ["Location": "/elsewhere"])]
        }) { server in
            let error = await Self.failure {
                _ = try await Self.reader(.credicorp, server.baseURL).events(since: Self.since, until: Self.until)
            }
            guard case .rejected(_, _, 302, _)? = error else {
                Issue.record("not a refused redirect: \(String(describing: error))")
                return
            }
            #expect(server.requests.allSatisfy { !$0.hasPrefix("/elsewhere") })
        }
    }

    @Test(arguments: [false, true])
    func aWrongContentLengthIsAFailureNotAHang(keepOpen: Bool) async throws {
        let body = #"{"object":"list","data":[],"has_more":false}"#
        try await HostileHTTPServer.with({ _ in
            [HostileHTTPServer.answer(200, headers: ["Content-Length": "5000"], body: body)]
                + (keepOpen ? [.hold(.seconds(10))] : [])
        }) { server in
            let started = ContinuousClock.now
            let error = await Self.failure {
                _ = try await Self.reader(.credicorp, server.baseURL).events(since: Self.since, until: Self.until)
            }
            guard case .exhausted? = error else {
                Issue.record("not a failure after retries: \(String(describing: error))")
                return
            }
            #expect(ContinuousClock.now - started < .seconds(10))
        }
    }

    @Test(arguments: ["86400", "99999999999999999999"])
    func aRetryAfterBeyondTheCapFailsAtOnce(retryAfter: String) async throws {
        try await HostileHTTPServer.with({ _ in
            [HostileHTTPServer.answer(429, headers: ["Retry-After": retryAfter], body: #"{"error":{}}"#)]
        }) { server in
            let started = ContinuousClock.now
            let reader = Self.reader(.credify, server.baseURL, http: Self.quick(attempts: 5))
            let error = await Self.failure(provider: "credify") {
                _ = try await reader.resources(since: Self.since, until: Self.until)
            }
            guard case .aborted(_, _, let reason)? = error else {
                Issue.record("not refused: \(String(describing: error))")
                return
            }
            #expect(reason.contains("Retry-After"))
            #expect(server.requests.count == 1)
            #expect(ContinuousClock.now - started < .seconds(5), "at once, not after a day")
        }
    }

    @Test func aRetryAfterWithinTheCapIsWaitedFor() async throws {
        let first = Counter()
        try await HostileHTTPServer.with({ _ in
            first.next() == 0
                ? [HostileHTTPServer.answer(429, headers: ["Retry-After": "1"], body: #"{"error":{}}"#)]
                : [Self.emptyCredicorpList]
        }) { server in
            let events = try await Self.reader(.credicorp, server.baseURL).events(since: Self.since, until: Self.until)
            #expect(events.isEmpty)
            #expect(server.requests.count == 2)
        }
    }

    /// A `Retry-After` holds the whole client: a request made while another one waits it out (two
    /// chunks reading by id at once) waits too, instead of being sent into the provider's pause.
    @Test func aRetryAfterHoldsEveryRequestOfTheClient() async throws {
        let first = Counter()
        try await HostileHTTPServer.with({ _ in
            first.next() == 0
                ? [HostileHTTPServer.answer(429, headers: ["Retry-After": "1"], body: #"{"error":{}}"#)]
                : [HostileHTTPServer.answer(200, body: "{}")]
        }) { server in
            let client = HTTPClient(
                provider: "credicorp",
                baseURL: server.baseURL,
                credentials: [],
                configuration: Self.quick(attempts: 3),
                logger: Logger(label: "test.http")
            )
            let throttled = Task { try await client.get("/first") }
            // The 429 is answered at once; bounded: 5 s at most, then a moment for its wait to begin.
            for _ in 0..<100 where server.requests.isEmpty { try await Task.sleep(for: .milliseconds(50)) }
            try await Task.sleep(for: .milliseconds(100))
            let asked = ContinuousClock.now
            #expect(try await client.get("/second").status == 200)
            #expect(ContinuousClock.now - asked >= .milliseconds(500), "sent after the provider's second, not in it")
            #expect(try await throttled.value.status == 200)
            #expect(server.requests.sorted() == ["/first", "/first", "/second"])
        }
    }

    /// A request already given its slot by the rate limiter, and waiting for it, when another
    /// request hears a `Retry-After` (a list's chains at once) waits for the provider's pause too.
    @Test func aRetryAfterHoldsARequestThatWasWaitingForItsSlot() async throws {
        let first = Counter()
        try await HostileHTTPServer.with({ _ in
            first.next() == 0
                ? [
                    .hold(.milliseconds(200)),
                    HostileHTTPServer.answer(429, headers: ["Retry-After": "1"], body: #"{"error":{}}"#),
                ]
                : [HostileHTTPServer.answer(200, body: "{}")]
        }) { server in
            var configuration = Self.quick(attempts: 3)
            // A slot every half second: the second request's is due before the 429's second ends.
            configuration.requestsPerSecond = 2
            let client = Self.client(server, configuration)
            let throttled = Task { try await client.get("/first") }
            // Bounded: 5 s at most for the first request to arrive.
            for _ in 0..<100 where server.requests.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
            let asked = ContinuousClock.now
            #expect(try await client.get("/second").status == 200)
            #expect(ContinuousClock.now - asked >= .milliseconds(900), "sent after the provider's second, not in it")
            #expect(try await throttled.value.status == 200)
        }
    }

    /// A request's retry budget counts from when the handle took it up, not from while it waited
    /// behind another request of the client (two chunks' reads by id): the wait is not the provider's.
    @Test func theRetryBudgetStartsWhenTheRequestIsSentNotWhileItWaitsForTheHandle() async throws {
        let flaky = Counter()
        try await HostileHTTPServer.with({ target in
            if target == "/slow" { return [.hold(.seconds(1)), HostileHTTPServer.answer(200, body: "{}")] }
            return flaky.next() == 0
                ? [HostileHTTPServer.answer(500, body: #"{"error":{}}"#)]
                : [HostileHTTPServer.answer(200, body: "{}")]
        }) { server in
            var configuration = Self.quick(attempts: 3)
            configuration.retry.budget = .milliseconds(500)
            // One handle, so that the second request waits for it behind the first.
            configuration.connections = 1
            let client = Self.client(server, configuration)
            let slow = Task { try await client.get("/slow") }
            // The slow request holds the handle for a second (bounded: 5 s at most to be on its way).
            for _ in 0..<100 where server.requests.isEmpty { try await Task.sleep(for: .milliseconds(50)) }
            // Waits that second for the handle, then fails once: within its half-second budget, retried.
            #expect(try await client.get("/flaky").status == 200)
            #expect(try await slow.value.status == 200)
            #expect(server.requests == ["/slow", "/flaky", "/flaky"])
        }
    }

    @Test func aRequestThatWaitedForTheHandleGetsOnlyWhatIsLeftOfTheDeadline() async throws {
        let slowly: HostileHTTPServer.Script = { _ in
            [.hold(.milliseconds(1500)), HostileHTTPServer.answer(200, body: "{}")]
        }
        try await HostileHTTPServer.with(slowly) { server in
            var configuration = Self.quick(attempts: 1, deadline: .seconds(2))
            // One handle, so that the second request waits for it behind the first.
            configuration.connections = 1
            let client = Self.client(server, configuration)
            let first = Task { try await client.get("/first") }
            // The first request holds the handle for 1.5 s (bounded: 5 s at most to be on its way).
            for _ in 0..<100 where server.requests.isEmpty { try await Task.sleep(for: .milliseconds(50)) }
            // The second is handed over with nearly 2 s left, but taken up with 0.5 s left: its
            // answer, 1.5 s later, would come a second past the deadline.
            let error = await Self.failure { _ = try await client.get("/second") }
            guard case .deadlineExceeded(_, "/second", 2)? = error else {
                Issue.record("not the deadline: \(String(describing: error))")
                return
            }
            #expect(try await first.value.status == 200)
            #expect(server.requests == ["/first", "/second"])
            #expect(await client.requestOutcomes() == ["ok": 1, "timeout": 1])
        }
    }

    @Test func aRequestTakenUpAfterTheDeadlineIsNotSentAndOneBeforeItGetsWhatIsLeft() throws {
        let deadline = ContinuousClock.now + .seconds(60)
        let limits = CurlTransport.Limits(
            connectTimeout: .seconds(10),
            totalTimeout: .seconds(30),
            maxBodyBytes: 1 << 20,
            deadline: deadline
        )
        #expect(limits.taken(at: deadline + .milliseconds(1)) == nil, "past it: nothing is sent")
        #expect(limits.taken(at: deadline) == nil)
        let late = try #require(limits.taken(at: deadline - .milliseconds(500)))
        // Rounded up to the next millisecond, so that its timeout falls at or after the deadline.
        #expect(late.connectTimeout == .milliseconds(501) && late.totalTimeout == .milliseconds(501))
        let early = try #require(limits.taken(at: deadline - .seconds(50)))
        #expect(early.connectTimeout == .seconds(10) && early.totalTimeout == .seconds(30), "far from it: unchanged")
        var unbounded = limits
        unbounded.deadline = nil
        #expect(unbounded.taken(at: deadline + .seconds(3600))?.totalTimeout == .seconds(30))
    }

    /// A quick client whose total timeout (30 s) is longer than the server holds a request (20 s).
    static func patient() -> HTTPClient.Configuration {
        var configuration = Self.quick()
        configuration.totalTimeout = .seconds(30)
        return configuration
    }

    @Test func aCancelledReadEndsWithoutWaitingForTheAnswer() async throws {
        try await HostileHTTPServer.with({ _ in [.hold(.seconds(20))] }) { server in
            let reader = Self.reader(.credicorp, server.baseURL, http: Self.patient())
            let started = ContinuousClock.now
            let read = Task { try await reader.events(since: Self.since, until: Self.until) }
            // Cancelled once the request is on its way (bounded: 5 s at most).
            for _ in 0..<100 where server.requests.isEmpty { try await Task.sleep(for: .milliseconds(50)) }
            read.cancel()
            let error = await Self.failure { _ = try await read.value }
            guard case .cancelled? = error else {
                Issue.record("not cancelled: \(String(describing: error))")
                return
            }
            #expect(ContinuousClock.now - started < .seconds(10), "not after the 20 s the server holds")
            #expect(server.requests.count == 1, "a cancelled request is not retried")
            #expect(await reader.requestOutcomes() == ["cancelled": 1], "and counted as such in the metrics")
        }
    }
}
