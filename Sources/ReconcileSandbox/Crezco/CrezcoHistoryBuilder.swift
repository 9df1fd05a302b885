import Crypto
import Foundation

/// Mechanics of Crezco history generation: ids, lifecycles and signed (batched) deliveries, all from one seed.
struct CrezcoHistoryBuilder {
    /// Ways a delivery line is made unacceptable to a correct receiver.
    enum Defect {
        case tamperedBody, unknownKeyID, staleTimestamp, missingSignature

        var reason: String {
            switch self {
            case .tamperedBody: "bad_signature"
            case .unknownKeyID: "unknown_key_id"
            case .staleTimestamp: "stale_timestamp"
            case .missingSignature: "missing_signature"
            }
        }
    }

    static let hour: TimeInterval = 3600
    static let day: TimeInterval = 86_400
    /// Events of different resources within this many seconds of a batch's first event share its delivery.
    static let batchSpan: TimeInterval = 1

    var rng: SplitMix64
    let now: Date
    let provider: String
    let url: String
    var world: CrezcoWorld
    let previousKey: P256.Signing.PrivateKey
    let currentKey: P256.Signing.PrivateKey
    let strayKey: P256.Signing.PrivateKey
    let previousKeyID: String
    let currentKeyID: String
    let strayKeyID: String
    let rotatedAt: Date
    private var lines: [(sortKey: Date, order: Int, delivery: CrezcoHistory.Delivery)] = []

    init(seed: UInt64, now: Date, provider: String) {
        var rng = SplitMix64(seed: seed)
        self.now = now
        self.provider = provider
        url = "https://hooks.example.com/\(provider)"
        previousKey = CrezcoSigner.key(from: &rng)
        currentKey = CrezcoSigner.key(from: &rng)
        strayKey = CrezcoSigner.key(from: &rng)
        previousKeyID = "key_" + rng.token(12)
        currentKeyID = "key_" + rng.token(12)
        strayKeyID = "key_" + rng.token(12)
        rotatedAt = now.addingTimeInterval(-4 * Self.day)
        world = CrezcoWorld(
            apiKey: "crezco_test_" + rng.token(24),
            publicKeys: [
                previousKeyID: previousKey.publicKey.pemRepresentation,
                currentKeyID: currentKey.publicKey.pemRepresentation,
            ]
        )
        self.rng = rng
    }

    /// Delivery lines in capture order: ascending receipt time, then order of creation.
    var deliveries: [CrezcoHistory.Delivery] {
        lines.sorted { ($0.sortKey, $0.order) < ($1.sortKey, $1.order) }.map(\.delivery)
    }

    /// A random time `minimum...maximum` seconds after `date`, to the millisecond.
    mutating func after(_ date: Date, _ minimum: TimeInterval, _ maximum: TimeInterval) -> Date {
        let millis = rng.int(in: Int64(minimum * 1000)...Int64(maximum * 1000))
        return Date(sandboxMillis: date.sandboxMillis + millis)
    }

    /// Records a new version of a resource with a fresh event id.
    mutating func record(_ object: CrezcoObject) -> CrezcoEvent {
        world.record(eventID: rng.uuid(), object: object)
    }

    /// Groups `events` by timestamp into delivery bodies: a batch holds the events within
    /// ``batchSpan`` of its first one.
    static func batches(_ events: [CrezcoEvent]) -> [[CrezcoEvent]] {
        var batches: [[CrezcoEvent]] = []
        for event in events.sorted(by: { ($0.timestamp, $0.id) < ($1.timestamp, $1.id) }) {
            if let first = batches.last?.first, event.timestamp.timeIntervalSince(first.timestamp) < batchSpan {
                batches[batches.count - 1].append(event)
            } else {
                batches.append([event])
            }
        }
        return batches
    }

    /// Records one delivery of `events` in one body received at `receivedAt`, valid unless `defect` is given.
    mutating func deliver(_ events: [CrezcoEvent], at receivedAt: Date, defect: Defect? = nil) {
        let receivedSecond = receivedAt.timeIntervalSince1970.rounded(.down)
        var attempt = Date(timeIntervalSince1970: receivedSecond - Double(rng.int(in: 0...2)))
        var key: P256.Signing.PrivateKey? = receivedAt < rotatedAt ? previousKey : currentKey
        var keyID = receivedAt < rotatedAt ? previousKeyID : currentKeyID
        var sentBody: String?
        switch defect {
        case .tamperedBody?:
            var tampered = events
            if !tampered.isEmpty { tampered[0].object.amount = (tampered[0].object.amount ?? 0) + 100_00 }
            sentBody = CrezcoEvent.body(tampered)
        case .unknownKeyID?:
            key = strayKey
            keyID = strayKeyID
        case .staleTimestamp?: attempt = Date(timeIntervalSince1970: receivedSecond - 7 * 60)
        case .missingSignature?: key = nil
        case nil: break
        }
        let line = CrezcoCapture.line(
            events: events,
            receivedAt: receivedAt,
            key: key,
            keyID: keyID,
            attemptedAt: attempt,
            provider: provider,
            url: url,
            sentBody: sentBody
        )
        let delivery = CrezcoHistory.Delivery(
            line: line,
            receivedAt: receivedAt,
            events: events,
            rejection: defect?.reason
        )
        lines.append((receivedAt, lines.count, delivery))
    }

    /// Records a line that is not JSON at all, placed at `sortKey` in the capture.
    mutating func deliverMalformed(at sortKey: Date) {
        let line =
            "{\"provider\":\"\(provider)\",\"received_at\":\"\(RFC3339.format(sortKey, milliseconds: true))\","
            + "\"method\":\"POST\",\"headers\":{\"Crezco-Public-Key-Id\":\"key_"
        lines.append((sortKey, lines.count, .init(line: line, receivedAt: nil, events: [], rejection: "malformed")))
    }

    /// Delivers `events` in batches, each a few seconds after its last event.
    mutating func deliverPromptly(_ events: [CrezcoEvent]) {
        for batch in Self.batches(events) {
            guard let last = batch.last else { continue }
            deliver(batch, at: after(last.timestamp, 0.2, 20))
        }
    }
}
