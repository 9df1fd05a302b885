import Crypto
import Foundation

/// A generated Crezco history: the provider's world, the captured deliveries, the signing keys and the oracle.
///
/// Crezco signs with ECDSA, whose signatures are randomized: two histories from the same seed and
/// `now` agree byte for byte except for the `Crezco-Signature` values (both verify). Keys, key ids,
/// world, every other capture byte and the expected findings are fixed by the seed.
public struct CrezcoHistory: Sendable {
    /// One line of the capture file and what it really is.
    public struct Delivery: Sendable, Hashable {
        /// The NDJSON line as written to the capture file.
        public var line: String
        /// `received_at`; `nil` for the malformed line.
        public var receivedAt: Date?
        /// The events the body carries (as signed), several for a batch; empty for the malformed line.
        public var events: [CrezcoEvent]
        /// Why a correct receiver rejects it (`bad_signature`, `unknown_key_id`, `stale_timestamp`,
        /// `missing_signature`, `malformed`); `nil` for a valid delivery.
        public var rejection: String?
    }

    /// The provider entry name the captures and oracle use.
    public var providerName: String
    /// The sandbox clock the history ends at.
    public var now: Date
    /// Crezco's truth (Credicorp and Credify empty), ready for ``SandboxServer/start(world:logger:startTimeout:)``.
    public var world: SandboxWorld
    /// Every delivery line in capture order (ascending `received_at`).
    public var deliveries: [Delivery]
    /// The read-API key (`X-Crezco-Key`).
    public var apiKey: String
    /// The key id deliveries are signed with before ``rotatedAt``.
    public var previousKeyID: String
    /// The key id deliveries are signed with from ``rotatedAt`` on.
    public var currentKeyID: String
    /// A key id some rejected delivery names and the read API does not know (`unknown_key_id`).
    public var unknownKeyID: String
    /// When Crezco switched signing keys (by delivery receipt time).
    public var rotatedAt: Date
    /// The callback URL deliveries were posted to.
    public var webhookURL: String
    /// The provider's retry window used by the oracle (48 hours).
    public var retryWindow: TimeInterval
    /// Every finding a correct reconciler reports for a run over the whole history at ``now``.
    public var expectedFindings: [SandboxExpectedFinding]
    let previousKey: P256.Signing.PrivateKey
    let currentKey: P256.Signing.PrivateKey

    /// The capture lines, one per delivery.
    public var captureLines: [String] { deliveries.map(\.line) }

    /// The capture file: every line followed by a newline.
    public var captureNDJSON: String { captureLines.map { $0 + "\n" }.joined() }

    /// Findings a run over `[since, until)` reports (see ``SandboxExpectedFinding/isCovered(since:until:)``).
    public func expectedFindings(since: Date, until: Date) -> [SandboxExpectedFinding] {
        expectedFindings.filter { $0.isCovered(since: since, until: until) }
    }

    /// The key id Crezco signs with for a delivery received at `date`.
    public func keyID(at date: Date) -> String {
        date < rotatedAt ? previousKeyID : currentKeyID
    }

    /// The SPKI PEM public key of `keyID` as `/v1/webhooks/public-keys/{keyId}` serves it.
    public func publicKeyPEM(keyID: String) -> String? {
        world.crezco.publicKeys[keyID]
    }

    /// A valid capture line for one more delivery of `events` (one body) received at `receivedAt`.
    ///
    /// Useful to hand-build late deliveries, such as a dropped event arriving after a repair.
    public func captureLine(for events: [CrezcoEvent], receivedAt: Date) -> String {
        CrezcoCapture.line(
            events: events,
            receivedAt: receivedAt,
            key: receivedAt < rotatedAt ? previousKey : currentKey,
            keyID: keyID(at: receivedAt),
            attemptedAt: receivedAt.addingTimeInterval(-1),
            provider: providerName,
            url: webhookURL
        )
    }
}

extension CrezcoHistory: CustomStringConvertible, CustomDebugStringConvertible {
    /// A summary that never shows the key or signing keys.
    public var description: String {
        "CrezcoHistory(provider: \(providerName), now: \(RFC3339.format(now)), deliveries: \(deliveries.count), "
            + "expectedFindings: \(expectedFindings.count), keys: [\(previousKeyID), \(currentKeyID)], "
            + "apiKey: <redacted>)"
    }

    /// Same as ``description``.
    public var debugDescription: String { description }
}
