import Crypto
import Foundation

/// A generated Credify history: the provider's world, the captured deliveries, the public key and the oracle.
///
/// Ed25519 signatures are deterministic, so the same seed, `now` and webhook URL give the same history
/// byte for byte.
public struct CredifyHistory: Sendable {
    /// One line of the capture file and what it really is.
    public struct Delivery: Sendable, Hashable {
        /// The NDJSON line as written to the capture file.
        public var line: String
        /// `received_at`; `nil` for the malformed line.
        public var receivedAt: Date?
        /// The event the body carries (as signed); `nil` for the malformed line.
        public var event: CredifyEvent?
        /// Why a correct receiver rejects it (`bad_signature`, `missing_signature`, `malformed`); `nil`
        /// for a valid delivery.
        public var rejection: String?
    }

    /// The provider entry name the captures and oracle use.
    public var providerName: String
    /// The sandbox clock the history ends at.
    public var now: Date
    /// Credify's truth (Credicorp and Crezco empty), ready for ``SandboxServer/start(world:logger:startTimeout:)``.
    public var world: SandboxWorld
    /// Every delivery line in capture order (ascending `received_at`).
    public var deliveries: [Delivery]
    /// The read-API bearer key.
    public var apiKey: String
    /// The webhook URL registered with Credify: the signed URL and each capture line's `url`.
    public var webhookURL: String
    /// Credify's Ed25519 public key: 32 raw bytes, standard base64 (the job's `public_key_env` value).
    public var publicKeyBase64: String
    /// The retry window used by the oracle (72 hours).
    public var retryWindow: TimeInterval
    /// Every finding a correct reconciler reports for a run over the whole history at ``now``.
    public var expectedFindings: [SandboxExpectedFinding]
    let signingKey: Curve25519.Signing.PrivateKey

    /// The capture lines, one per delivery.
    public var captureLines: [String] { deliveries.map(\.line) }

    /// The capture file: every line followed by a newline.
    public var captureNDJSON: String { captureLines.map { $0 + "\n" }.joined() }

    /// Findings a run over `[since, until)` reports (see ``SandboxExpectedFinding/isCovered(since:until:)``).
    public func expectedFindings(since: Date, until: Date) -> [SandboxExpectedFinding] {
        expectedFindings.filter { $0.isCovered(since: since, until: until) }
    }

    /// A valid capture line for one more delivery of `event` received at `receivedAt`.
    ///
    /// Useful to hand-build late deliveries, such as a lost event arriving after a repair.
    public func captureLine(for event: CredifyEvent, receivedAt: Date) -> String {
        CredifyCapture.line(
            event: event,
            receivedAt: receivedAt,
            key: signingKey,
            url: webhookURL,
            provider: providerName
        )
    }
}

extension CredifyHistory: CustomStringConvertible, CustomDebugStringConvertible {
    /// A summary that never shows the key.
    public var description: String {
        "CredifyHistory(provider: \(providerName), now: \(RFC3339.format(now)), deliveries: \(deliveries.count), "
            + "expectedFindings: \(expectedFindings.count), webhookURL: \(webhookURL), apiKey: <redacted>)"
    }

    /// Same as ``description``.
    public var debugDescription: String { description }
}
