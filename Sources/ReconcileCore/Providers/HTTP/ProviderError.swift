/// A provider's read API could not be used: the run cannot finish for that provider (exit status 3).
public enum ProviderError: ReconcileFailure, Equatable {
    /// The API refused our key (401/403): no retry.
    case unauthorized(provider: String, status: Int)
    /// Transient failures (5xx, 429, timeouts, connection errors) outlasted every retry.
    case exhausted(provider: String, path: String, attempts: Int, lastError: String)
    /// An answer we do not retry (400 and other 4xx).
    case rejected(provider: String, path: String, status: Int, message: String)
    /// The answer was not what the provider's contract promises.
    case garbage(provider: String, path: String, detail: String)
    /// An answer broke a limit (size, a `Retry-After` too long to wait for): failed at once, no retry.
    case aborted(provider: String, path: String, reason: String)
    /// The provider's read took longer than its `deadline`.
    case deadlineExceeded(provider: String, path: String, seconds: Int)
    /// A list held more rows or pages than a window can plausibly have, or did not advance.
    case endlessList(provider: String, path: String, detail: String)
    /// The run was interrupted while talking to the provider.
    case cancelled(provider: String)

    public var exitStatus: Int32 { 3 }

    public var description: String {
        switch self {
        case .unauthorized(let provider, let status):
            "\(provider): the read API answered \(status): the API key was refused; check the job's api_key_env"
        case .exhausted(let provider, let path, let attempts, let lastError):
            "\(provider): GET \(path) failed after \(attempts) attempts: \(lastError)"
                + (lastError.contains("retry budget") ? " (raise retry_budget in the job file to wait longer)" : "")
        case .rejected(let provider, let path, let status, let message):
            "\(provider): GET \(path) answered \(status): \(message)"
        case .garbage(let provider, let path, let detail):
            "\(provider): GET \(path) answered something that is not the documented response: \(detail)"
        case .aborted(let provider, let path, let reason):
            "\(provider): GET \(path) was refused: \(reason)"
        case .deadlineExceeded(let provider, let path, let seconds):
            "\(provider): the read API took longer than its \(seconds)s deadline (at GET \(path)); "
                + "raise deadline in the job file if the provider is just slow"
        case .endlessList(let provider, let path, let detail):
            "\(provider): GET \(path) does not end: \(detail)"
        case .cancelled(let provider):
            "\(provider): interrupted"
        }
    }
}
