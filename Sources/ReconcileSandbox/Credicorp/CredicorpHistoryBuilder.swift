import Foundation

/// Mechanics of history generation: ids, lifecycles and signed deliveries, all drawn from one seed.
struct CredicorpHistoryBuilder {
    /// Ways a delivery line is made unacceptable to a correct receiver.
    enum Defect {
        case tamperedBody, wrongSecret, staleTimestamp, missingSignature

        var reason: String {
            switch self {
            case .tamperedBody, .wrongSecret: "bad_signature"
            case .staleTimestamp: "stale_timestamp"
            case .missingSignature: "missing_signature"
            }
        }
    }

    /// The events of one enquiry → decision → payment story, each list in creation order.
    struct Chain {
        var enquiry: [CredicorpEvent] = []
        var decision: [CredicorpEvent] = []
        var payment: [CredicorpEvent] = []
        var all: [CredicorpEvent] { (enquiry + decision + payment).sorted { $0.created < $1.created } }
    }

    /// How far a chain goes and how it ends.
    struct Plan {
        var approved = true
        var stopAfterEnquiry = false
        var terminal = "succeeded"
        var settleAt: Date?
        var settleAfter: TimeInterval?
        var refund = false
        var enquiryUpdates = false
        /// `enquiry.updated` events (status `in_progress`) in the enquiry's first half hour, for
        /// worlds with many events per resource.
        var progressUpdates = 0
    }

    static let hour: TimeInterval = 3600
    static let day: TimeInterval = 86_400

    var rng: SplitMix64
    let now: Date
    let provider: String
    let url: String
    var world: CredicorpWorld
    let previousSecret: String
    let currentSecret: String
    let wrongSecret: String
    let rotatedAt: Date
    private var usedIDs: Set<String> = []
    private var lines: [(sortKey: Date, order: Int, delivery: CredicorpHistory.Delivery)] = []

    init(seed: UInt64, now: Date, provider: String, endpointDisabled: Bool) {
        var rng = SplitMix64(seed: seed)
        self.now = now
        self.provider = provider
        self.url = "https://hooks.example.com/\(provider)"
        previousSecret = "whsec_" + Data(rng.bytes(24)).base64EncodedString()
        currentSecret = "whsec_" + Data(rng.bytes(24)).base64EncodedString()
        wrongSecret = "whsec_" + Data(rng.bytes(24)).base64EncodedString()
        rotatedAt = now.addingTimeInterval(-4 * Self.day)
        let endpoint = CredicorpEndpoint(
            id: "whend_" + rng.token(5),
            url: url,
            enabledEvents: [
                "enquiry.created", "decision.completed", "payment.created", "payment.succeeded", "payment.failed",
                "payment.refunded",
            ],
            status: endpointDisabled ? "disabled" : "enabled",
            created: now.addingTimeInterval(-60 * Self.day)
        )
        world = CredicorpWorld(apiKey: "sk_test_" + rng.token(24), endpoint: endpoint)
        self.rng = rng
    }

    /// Delivery lines in capture order: ascending receipt time, then order of creation.
    var deliveries: [CredicorpHistory.Delivery] {
        lines.sorted { ($0.sortKey, $0.order) < ($1.sortKey, $1.order) }.map(\.delivery)
    }

    mutating func newID(_ prefix: String) -> String {
        while true {
            let id = prefix + rng.token(10)
            if usedIDs.insert(id).inserted { return id }
        }
    }

    /// A random time `minimum...maximum` seconds after `date`, to the millisecond.
    mutating func after(_ date: Date, _ minimum: TimeInterval, _ maximum: TimeInterval) -> Date {
        let millis = rng.int(in: Int64(minimum * 1000)...Int64(maximum * 1000))
        return date.addingTimeInterval(Double(millis) / 1000)
    }

    /// A random whole-second time in `[from, to]`.
    mutating func wholeSecond(from: Date, to: Date) -> Date {
        let seconds = rng.int(in: Int64(from.timeIntervalSince1970)...Int64(to.timeIntervalSince1970))
        return Date(timeIntervalSince1970: Double(seconds))
    }

    /// Secrets Credicorp signs with at `date`: the previous one, both during the 24-hour overlap, then the current.
    func secrets(at date: Date) -> [String] {
        CredicorpHistory.signingSecrets(
            at: date,
            rotatedAt: rotatedAt,
            previous: previousSecret,
            current: currentSecret
        )
    }

    /// Records one delivery of `event` received at `receivedAt`, valid unless `defect` is given.
    mutating func deliver(_ event: CredicorpEvent, at receivedAt: Date, defect: Defect? = nil) {
        let receivedSecond = Int64(receivedAt.timeIntervalSince1970.rounded(.down))
        var timestamp = receivedSecond - rng.int(in: 0...2)
        var secrets = secrets(at: receivedAt)
        var sentBody: String?
        switch defect {
        case .tamperedBody?:
            var tampered = event
            tampered.object.amount = (event.object.amount ?? 0) + 100_00
            sentBody = tampered.body
        case .wrongSecret?: secrets = [wrongSecret]
        case .staleTimestamp?: timestamp = receivedSecond - 7 * 60
        case .missingSignature?: secrets = []
        case nil: break
        }
        let line = CredicorpCapture.line(
            event: event,
            receivedAt: receivedAt,
            secrets: secrets,
            provider: provider,
            url: url,
            timestamp: timestamp,
            sentBody: sentBody
        )
        let delivery = CredicorpHistory.Delivery(
            line: line,
            receivedAt: receivedAt,
            event: event,
            rejection: defect?.reason
        )
        lines.append((receivedAt, lines.count, delivery))
    }

    /// Records a line that is not JSON at all, placed at `sortKey` in the capture.
    mutating func deliverMalformed(at sortKey: Date) {
        let line =
            "{\"provider\":\"\(provider)\",\"received_at\":\"\(RFC3339.format(sortKey, milliseconds: true))\","
            + "\"method\":\"POST\",\"headers\":{\"webhook-id\":\"evt_"
        lines.append((sortKey, lines.count, .init(line: line, receivedAt: nil, event: nil, rejection: "malformed")))
    }

    /// Delivers `event` a few seconds after it was created, if the endpoint subscribes to it.
    @discardableResult
    mutating func deliverPromptly(_ event: CredicorpEvent) -> Date? {
        guard world.endpoint.subscribes(to: event.type) else { return nil }
        let receivedAt = after(event.created, 0.2, 20)
        deliver(event, at: receivedAt)
        return receivedAt
    }

    /// Delivers every subscribed event of `events` promptly.
    mutating func deliverPromptly(_ events: [CredicorpEvent]) {
        for event in events { deliverPromptly(event) }
    }
}
