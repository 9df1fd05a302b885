import Foundation

/// A generated Credicorp history: the provider's world, the captured deliveries and the oracle.
public struct CredicorpHistory: Sendable {
    /// One line of the capture file and what it really is.
    public struct Delivery: Sendable, Hashable {
        /// The NDJSON line as written to the capture file.
        public var line: String
        /// `received_at`; `nil` for the malformed line.
        public var receivedAt: Date?
        /// The event the body carries (as signed); `nil` for the malformed line.
        public var event: CredicorpEvent?
        /// Why a correct receiver rejects it (`bad_signature`, `stale_timestamp`, `missing_signature`,
        /// `malformed`); `nil` for a valid delivery.
        public var rejection: String?
    }

    /// The provider entry name the captures and oracle use.
    public var providerName: String
    /// The sandbox clock the history ends at.
    public var now: Date
    /// Credicorp's truth, ready for ``SandboxServer/start(world:logger:startTimeout:)``.
    public var world: SandboxWorld
    /// Every delivery line in capture order (ascending `received_at`).
    public var deliveries: [Delivery]
    /// The signing secret in use after the rotation (`whsec_…`).
    public var currentSecret: String
    /// The signing secret before the rotation; valid together with the current one for 24 hours.
    public var previousSecret: String
    /// When the secret was rotated.
    public var rotatedAt: Date
    /// The read-API bearer key.
    public var apiKey: String
    /// The webhook endpoint id.
    public var endpointID: String
    /// The provider's retry window used by the oracle (72 hours).
    public var retryWindow: TimeInterval
    /// Every finding a correct reconciler reports for a run over the whole history at ``now``.
    public var expectedFindings: [SandboxExpectedFinding]

    /// The capture lines, one per delivery.
    public var captureLines: [String] { deliveries.map(\.line) }

    /// The capture file: every line followed by a newline.
    public var captureNDJSON: String { captureLines.map { $0 + "\n" }.joined() }

    /// Findings whose time falls in `[since, until)`, plus those with no time.
    public func expectedFindings(since: Date, until: Date) -> [SandboxExpectedFinding] {
        expectedFindings.filter { finding in finding.at.map { $0 >= since && $0 < until } ?? true }
    }
}

extension CredicorpHistory {
    /// The secrets Credicorp signs with at `date`: previous before the rotation, both for 24 hours, then current.
    public func signingSecrets(at date: Date) -> [String] {
        Self.signingSecrets(at: date, rotatedAt: rotatedAt, previous: previousSecret, current: currentSecret)
    }

    /// The rotation rule shared by the generator and ``signingSecrets(at:)``.
    static func signingSecrets(at date: Date, rotatedAt: Date, previous: String, current: String) -> [String] {
        if date < rotatedAt { return [previous] }
        if date < rotatedAt.addingTimeInterval(86_400) { return [current, previous] }
        return [current]
    }

    /// A valid capture line for one more delivery of `event` received at `receivedAt`.
    ///
    /// Useful to hand-build late deliveries, such as a dropped event arriving after a repair.
    public func captureLine(for event: CredicorpEvent, receivedAt: Date) -> String {
        CredicorpCapture.line(
            event: event,
            receivedAt: receivedAt,
            secrets: signingSecrets(at: receivedAt),
            provider: providerName,
            url: world.credicorp.endpoint.url
        )
    }
}

extension CredicorpHistory: CustomStringConvertible, CustomDebugStringConvertible {
    /// A summary that never shows the secrets or the key.
    public var description: String {
        "CredicorpHistory(provider: \(providerName), now: \(RFC3339.format(now)), deliveries: \(deliveries.count), "
            + "expectedFindings: \(expectedFindings.count), secrets: <redacted>)"
    }

    /// Same as ``description``.
    public var debugDescription: String { description }
}
