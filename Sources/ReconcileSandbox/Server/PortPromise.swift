/// The bound port of a starting server, or why it never came: resolved once, awaited by anyone.
actor PortPromise {
    private var result: Result<Int, SandboxServerError>?
    private var waiters: [CheckedContinuation<Int, any Error>] = []

    /// Resolves with the bound port; later resolutions are ignored.
    func succeed(_ port: Int) {
        resolve(.success(port))
    }

    /// Resolves with a failure; ignored when already resolved.
    func fail(_ error: SandboxServerError) {
        resolve(.failure(error))
    }

    /// Waits for the resolution.
    func wait() async throws -> Int {
        if let result { return try result.get() }
        return try await withCheckedThrowingContinuation { waiters.append($0) }
    }

    private func resolve(_ value: Result<Int, SandboxServerError>) {
        guard result == nil else { return }
        result = value
        for waiter in waiters { waiter.resume(with: value.mapError { $0 as any Error }) }
        waiters.removeAll()
    }
}

/// Why the sandbox server could not start.
public enum SandboxServerError: Error, Sendable, CustomStringConvertible, Equatable {
    /// The server stopped (or failed to bind) before reporting its port.
    case stoppedBeforeRunning(String)
    /// No port was reported within the start timeout.
    case startTimedOut(seconds: Int)

    public var description: String {
        switch self {
        case .stoppedBeforeRunning(let reason): "sandbox server stopped before it was running: \(reason)"
        case .startTimedOut(let seconds): "sandbox server reported no port within \(seconds) s"
        }
    }
}
