import Crypto
import Foundation

/// Mechanics of Credify history generation: ids, lifecycles and signed deliveries, all from one seed.
struct CredifyHistoryBuilder {
    /// Ways a delivery line is made unacceptable to a correct receiver.
    enum Defect {
        case tamperedBody, wrongURL, missingSignature

        var reason: String {
            switch self {
            case .tamperedBody, .wrongURL: "bad_signature"
            case .missingSignature: "missing_signature"
            }
        }
    }

    static let hour: TimeInterval = 3600
    static let day: TimeInterval = 86_400

    var rng: SplitMix64
    let now: Date
    let provider: String
    let webhookURL: String
    var world: CredifyWorld
    let key: Curve25519.Signing.PrivateKey
    private var lines: [(sortKey: Date, order: Int, delivery: CredifyHistory.Delivery)] = []

    init(seed: UInt64, now: Date, provider: String, webhookURL: String) {
        var rng = SplitMix64(seed: seed)
        self.now = now
        self.provider = provider
        self.webhookURL = webhookURL
        key = Self.signingKey(from: &rng)
        world = CredifyWorld(apiKey: "credify_test_" + rng.token(24))
        self.rng = rng
    }

    /// An Ed25519 key from 32 seeded bytes (every 32-byte seed is a valid key).
    private static func signingKey(from rng: inout SplitMix64) -> Curve25519.Signing.PrivateKey {
        while true {
            if let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: rng.bytes(32)) { return key }
        }
    }

    /// Delivery lines in capture order: ascending receipt time, then order of creation.
    var deliveries: [CredifyHistory.Delivery] {
        lines.sorted { ($0.sortKey, $0.order) < ($1.sortKey, $1.order) }.map(\.delivery)
    }

    /// A random whole-second time `minimum...maximum` seconds after `date` (event times are whole seconds).
    mutating func later(_ date: Date, _ minimum: TimeInterval, _ maximum: TimeInterval) -> Date {
        let seconds = rng.int(in: Int64(minimum)...Int64(maximum))
        return Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down) + Double(seconds))
    }

    /// A random receipt time `minimum...maximum` seconds after `date`, to the millisecond.
    mutating func receipt(_ date: Date, _ minimum: TimeInterval, _ maximum: TimeInterval) -> Date {
        let millis = rng.int(in: Int64(minimum * 1000)...Int64(maximum * 1000))
        return Date(sandboxMillis: date.sandboxMillis + millis)
    }

    /// Records one delivery of `event` received at `receivedAt`, valid unless `defect` is given.
    mutating func deliver(_ event: CredifyEvent, at receivedAt: Date, defect: Defect? = nil) {
        var signedURL: String?
        var key: Curve25519.Signing.PrivateKey? = key
        var sentBody: String?
        switch defect {
        case .tamperedBody?:
            var tampered = event
            tampered.object.status = event.object.status == "CANCELED" ? "PAID" : "CANCELED"
            sentBody = tampered.body
        case .wrongURL?: signedURL = webhookURL + "/old"
        case .missingSignature?: key = nil
        case nil: break
        }
        let line = CredifyCapture.line(
            event: event,
            receivedAt: receivedAt,
            key: key,
            url: webhookURL,
            signedURL: signedURL,
            provider: provider,
            sentBody: sentBody
        )
        lines.append(
            (
                receivedAt, lines.count,
                .init(line: line, receivedAt: receivedAt, event: event, rejection: defect?.reason)
            )
        )
    }

    /// Records a line that is not JSON at all, placed at `sortKey` in the capture.
    mutating func deliverMalformed(at sortKey: Date) {
        let line =
            "{\"provider\":\"\(provider)\",\"received_at\":\"\(RFC3339.format(sortKey, milliseconds: true))\","
            + "\"method\":\"POST\",\"headers\":{\"X-Event-Id\":\""
        lines.append((sortKey, lines.count, .init(line: line, receivedAt: nil, event: nil, rejection: "malformed")))
    }

    /// Delivers each of `events` a few seconds after it happened.
    mutating func deliverPromptly(_ events: [CredifyEvent]) {
        for event in events { deliver(event, at: receipt(event.timestamp, 0.2, 20)) }
    }
}
