import Foundation

/// The kinds of provider the job knows how to reconcile.
public enum ProviderKind: String, Sendable, CaseIterable {
    case credicorp
    case crezco
    case credify

    /// How long the provider retries a failing delivery before dropping it.
    public var defaultRetryWindow: TimeInterval {
        switch self {
        case .credicorp: 72 * 3600
        case .crezco: 48 * 3600
        case .credify: 72 * 3600
        }
    }
}

/// One provider entry of a job file, validated, with its secrets resolved from the environment.
public struct ProviderConfig: Sendable {
    public var name: String
    public var kind: ProviderKind
    /// The read API's base URL, without a trailing slash.
    public var baseURL: String
    public var apiKey: Secret
    /// Credicorp: the Standard Webhooks secrets (`whsec_…`), current first.
    public var signingSecrets: [Secret]
    /// Credicorp: the webhook endpoint whose status and subscriptions are checked.
    public var endpointID: String?
    /// Credify: the Ed25519 public key (32 raw bytes, base64).
    public var publicKey: Secret?
    /// Credify: the webhook URL registered with the provider, byte for byte.
    public var webhookURL: String?
    /// Events older than this that never arrived are dropped for good.
    public var retryWindow: TimeInterval
    /// Requests per second this job may send to the provider.
    public var rateLimit: Double
    /// The longest one reconciliation may talk to the provider (every request, retry and wait), in seconds.
    public var deadline: TimeInterval = ProviderConfig.defaultDeadline
    /// The most rows one list (events, or one resource type) may hold before the read is refused.
    public var maxRows: Int = ProviderConfig.defaultMaxRows
    /// How long one request may keep retrying a transient failure (5xx, 429, timeout), in seconds.
    public var retryBudget: TimeInterval = ProviderConfig.defaultRetryBudget

    /// `rate_limit` when the job file gives none.
    public static let defaultRateLimit: Double = 25
    /// What `rate_limit` may be: below 0.1/s a night's read would not finish; above 10,000/s is no
    /// provider's limit, even a test double's on this host.
    ///
    /// Not 1,000: a double on loopback serves more than 1,000 pages a second, and a run of the #10
    /// world (1,169 requests) spent 0.15-0.2 s of its 2.2 s waiting for the limiter's slots at 1,000/s.
    public static let rateLimitRange: ClosedRange<Double> = 0.1...10_000
    /// `deadline` when the job file gives none: two hours.
    public static let defaultDeadline: TimeInterval = 2 * 3600
    /// What `deadline` may be: a second to a day.
    public static let deadlineRange: ClosedRange<TimeInterval> = 1...86_400
    /// `retry_budget` when the job file gives none: a minute outlasts a provider's short blip.
    public static let defaultRetryBudget: TimeInterval = 60
    /// What `retry_budget` may be: a second to an hour.
    public static let retryBudgetRange: ClosedRange<TimeInterval> = 1...3600
    /// `max_rows` when the job file gives none.
    public static let defaultMaxRows = 500_000
    /// What `max_rows` may be.
    public static let maxRowsRange: ClosedRange<Int> = 100...10_000_000
}

/// A validated job file (`Jobs/*.yml`).
public struct JobConfig: Sendable {
    /// The path the job was read from.
    public var file: String
    public var name: String
    /// The store: a SQLite file's path, relative to the working directory, or a `postgres://` URL.
    public var store: String
    /// The line of `store` in the job file, for errors about the path.
    public var storeLine = 1
    /// A PostgreSQL store's password, from the variable `store_password_env` names; nil for a file.
    ///
    /// Read for every command, the read-only ones too: they all talk to the store.
    public var storePassword: Secret?
    /// The run window reaches this far back from now.
    public var lookback: TimeInterval
    /// The folder that receives one sub-folder of reports per run.
    public var reports: String
    /// The Prometheus text file, when metrics are wanted.
    public var metrics: String?
    /// Whether runs repair local state (a dry run never does).
    public var repair: Bool
    /// Raw deliveries, runs and findings older than this may be pruned.
    public var retention: TimeInterval
    public var providers: [ProviderConfig]

    /// The provider entry named `name`, if any.
    public func provider(named name: String) -> ProviderConfig? {
        providers.first { $0.name == name }
    }
}
