import Foundation
import Hummingbird
import Logging
import ServiceLifecycle  // Hummingbird's own dependency; used for graceful shutdown only.

/// A live sandbox of the providers' read APIs on 127.0.0.1 at an ephemeral port.
///
/// Each provider is mounted under its own path segment (`credicorp`, `crezco`, `credify`): Credicorp's
/// `/public/v1/events` is `http://127.0.0.1:PORT/credicorp/public/v1/events`, so ``baseURL(for:)`` is the base URL a job
/// file or client uses. Start with ``start(world:logger:startTimeout:)``; always call ``shutdown()``.
public final class SandboxServer: Sendable {
    /// The bound TCP port.
    public let port: Int
    private let state: SandboxState
    private let serviceGroup: ServiceGroup
    private let runTask: Task<Void, Never>

    private init(port: Int, state: SandboxState, serviceGroup: ServiceGroup, runTask: Task<Void, Never>) {
        self.port = port
        self.state = state
        self.serviceGroup = serviceGroup
        self.runTask = runTask
    }

    /// The server root, `http://127.0.0.1:PORT`.
    public var baseURL: String { "http://127.0.0.1:\(port)" }

    /// The base URL of one provider's API, such as `http://127.0.0.1:PORT/credicorp`.
    public func baseURL(for provider: String) -> String { baseURL + "/" + provider }

    /// The base URL of one provider's API for one of many accounts.
    ///
    /// Such as `http://127.0.0.1:PORT/accounts/acme-7/credicorp`: the same world answers every
    /// account, and the request log says which account asked (``SandboxRequestRecord/account``).
    /// `account` is letters, digits, `-` and `_`.
    public func baseURL(for provider: String, account: String) -> String {
        baseURL + "/accounts/" + account + "/" + provider
    }

    /// Starts serving `world` and returns once the port is bound.
    ///
    /// - Throws: ``SandboxServerError`` when the server fails to bind or reports no port within
    ///   `startTimeout`; the server is stopped before the error is thrown.
    public static func start(
        world: SandboxWorld,
        logger: Logger,
        startTimeout: Duration = .seconds(10)
    ) async throws -> SandboxServer {
        let state = SandboxState(world: world)
        let promise = PortPromise()
        let responder = CallbackResponder<BasicRequestContext> { request, _ in
            try await respond(to: request, state: state)
        }
        let app = Application(
            responder: responder,
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                if let port = channel.localAddress?.port {
                    await promise.succeed(port)
                } else {
                    await promise.fail(.stoppedBeforeRunning("no local address"))
                }
            },
            logger: logger
        )
        let serviceGroup = ServiceGroup(
            configuration: .init(services: [app], gracefulShutdownSignals: [], logger: logger)
        )
        let runTask = Task {
            do {
                try await serviceGroup.run()
                await promise.fail(.stoppedBeforeRunning("server returned"))
            } catch {
                await promise.fail(.stoppedBeforeRunning(String(describing: error)))
            }
        }
        let timeout = Task {
            try await Task.sleep(for: startTimeout)
            await promise.fail(.startTimedOut(seconds: Int(startTimeout.components.seconds)))
        }
        defer { timeout.cancel() }
        do {
            let port = try await promise.wait()
            logger.debug("sandbox.started", metadata: ["sandbox.port": "\(port)"])
            return SandboxServer(port: port, state: state, serviceGroup: serviceGroup, runTask: runTask)
        } catch {
            runTask.cancel()
            await runTask.value
            throw error
        }
    }

    /// Stops the server and waits until it has closed; safe to call more than once.
    ///
    /// Shutdown is graceful (in-flight requests finish); if the server has not stopped within
    /// `gracePeriod`, it is cancelled.
    public func shutdown(gracePeriod: Duration = .seconds(5)) async {
        await serviceGroup.triggerGracefulShutdown()
        let runTask = self.runTask
        let deadline = Task {
            try await Task.sleep(for: gracePeriod)
            runTask.cancel()
        }
        await runTask.value
        deadline.cancel()
    }

    /// Replaces the active faults (an empty list removes them all).
    public func setFaults(_ faults: [SandboxFault]) async {
        await state.setFaults(faults)
    }

    /// Every request received so far, oldest first.
    public func requests() async -> [SandboxRequestRecord] {
        await state.log
    }

    /// How many requests for `provider` had a path (below the provider base) starting with `pathPrefix`.
    public func requestCount(provider: String = "credicorp", pathPrefix: String = "/") async -> Int {
        await state.log.filter { $0.provider == provider && $0.path.hasPrefix(pathPrefix) }.count
    }

    /// The most requests the server has answered at once (arrived, and not yet answered) since it
    /// started or its log was last emptied: a reader's connections at work together.
    public func mostRequestsAtOnce() async -> Int {
        await state.mostAtOnce
    }

    /// Empties the request log, and counts the most requests at once anew.
    public func clearRequests() async {
        await state.clearLog()
    }

    /// The world as the server currently answers it.
    public func world() async -> SandboxWorld {
        await state.world
    }

    /// Changes the world while the server runs; later requests see the change.
    public func updateWorld(_ change: @Sendable (inout SandboxWorld) -> Void) async {
        await state.updateWorld(change)
    }

    /// Changes the world once, right after the `count`-th matching request from now on has been answered.
    ///
    /// A request matches when it is for `provider` and its path below the provider base starts with
    /// `pathPrefix`; faulted requests count too. The answer to that request is computed from the world
    /// before the change and the change is applied before the answer is sent, so the next request sees
    /// it: for example, a row moving between two pages of a list.
    public func changeWorld(
        after count: Int,
        provider: String,
        pathPrefix: String = "/",
        _ change: @Sendable @escaping (inout SandboxWorld) -> Void
    ) async {
        await state.addTrigger(
            .init(remaining: max(1, count), provider: provider, pathPrefix: pathPrefix, change: change)
        )
    }

    private static func respond(to request: Request, state: SandboxState) async throws -> Response {
        await state.began()
        do {
            let response = try await answer(request, state: state)
            await state.ended()
            return response
        } catch {
            await state.ended()
            throw error
        }
    }

    private static func answer(_ request: Request, state: SandboxState) async throws -> Response {
        let admitted = await state.admit(
            method: request.method.rawValue,
            fullPath: request.uri.path,
            rawQuery: request.uri.query,
            authorization: request.headers[.authorization],
            crezcoKey: request.headers.first { $0.name.canonicalName == "x-crezco-key" }?.value
        )
        let answer: SandboxAPIResponse
        switch admitted.admission {
        case .answer(let response):
            answer = response
        case .delay(let milliseconds, let apiRequest, let provider):
            try await Task.sleep(for: .milliseconds(milliseconds))
            answer = await state.answer(apiRequest, provider: provider)
        case .proceed(let apiRequest, let provider):
            answer = await state.answer(apiRequest, provider: provider)
        }
        if !admitted.changesAfterAnswer.isEmpty { await state.apply(admitted.changesAfterAnswer) }
        var headers = HTTPFields()
        headers[.contentType] = answer.contentType
        if let retryAfter = answer.retryAfter { headers[.retryAfter] = String(retryAfter) }
        return Response(
            status: HTTPResponse.Status(code: answer.status),
            headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(string: answer.body))
        )
    }
}
