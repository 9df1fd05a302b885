import Foundation

/// The rules of job.md's finding table, applied to what the provider and the store say.
struct Classifier: Sendable {
    let adapter: any ProviderAdapter
    let endpoint: EndpointStatus?
    let now: Date
    let since: Date
    let until: Date
    let eventSince: Date
    /// The endpoint's event types, split once (every type when the job names no endpoint).
    private let subscriptions: EventTypes

    init(adapter: any ProviderAdapter, endpoint: EndpointStatus?, now: Date, since: Date, until: Date, eventSince: Date)
    {
        self.adapter = adapter
        self.endpoint = endpoint
        self.now = now
        self.since = since
        self.until = until
        self.eventSince = eventSince
        subscriptions = EventTypes(endpoint?.enabledEvents ?? ["*"])
    }

    var name: String { adapter.config.name }

    struct ResourceInput: Sendable {
        var key: ResourceKey
        /// The provider's state; nil when it answered 404.
        var remote: ResourceSnapshot?
        var local: LocalResource?
    }

    /// Whether the endpoint expects events of `type` (every type when the job names no endpoint).
    func subscribes(to type: String) -> Bool { subscriptions.contains(type) }

    /// Whether any subscribed event type belongs to `resourceType`: others are not ours to track.
    func tracks(resourceType: String) -> Bool {
        guard let endpoint else { return true }
        return endpoint.enabledEvents.contains { pattern in
            pattern == "*" || adapter.resourceType(ofEventType: pattern) == resourceType
        }
    }

    static func moneyDetails(_ money: Money) -> [String: JSONValue] {
        ["amount": .integer(money.minorUnits), "currency": .string(money.currency)]
    }

    /// Adds to each finding of `named` the money of its local event's payload, when it has some.
    ///
    /// The payloads are read in the order of the delivery bodies that hold them, whatever the
    /// order of the findings: a body stays parsed only while its events are read
    /// (``DeliveryBodyReader``), so findings by event id over two large batches would otherwise
    /// parse each batch again for every finding. The last body is let go at the end.
    static func addMoney(
        to findings: inout [Finding],
        named: [(finding: Int, event: LocalEvent)],
        adapter: any ProviderAdapter
    ) throws(StoreFailure) {
        let ordered = named.enumerated().sorted {
            ($0.element.event.payloadDelivery, $0.offset) < ($1.element.event.payloadDelivery, $1.offset)
        }
        defer { for item in named { item.event.releaseBody() } }
        for (_, item) in ordered {
            if let money = adapter.money(inEventPayload: try item.event.payload()) {
                findings[item.finding].details.merge(moneyDetails(money)) { _, new in new }
            }
        }
    }

    /// Whether an event never received by webhook is past the retry window (dropped) or not (pending).
    func isDropped(_ occurredAt: Date) -> Bool {
        now.timeIntervalSince(occurredAt) > adapter.config.retryWindow
    }

    // MARK: Events

    func eventFindings(remote: [ListedEvent], local: [ExactID: LocalEvent]) -> [Finding] {
        var findings: [Finding] = []
        // An event the store holds was received: by webhook, or by the repair that recorded it as
        // dropped. Only the store's own rows decide this, never surviving delivery lines (retention
        // prunes those) nor a run's bookkeeping, so a run killed after its repair committed leaves
        // nothing for the next run to redo or to report again.
        // `index(forKey:)`: whether the store has it, without copying its event out.
        for event in remote where subscribes(to: event.eventType) && local.index(forKey: ExactID(event.eventID)) == nil
        {
            let dropped = isDropped(event.occurredAt)
            var details: [String: JSONValue] = [
                "event_type": .string(event.eventType), "created": .string(RFC3339.format(event.occurredAt)),
                "retry_window_ends": .string(
                    RFC3339.format(event.occurredAt.addingTimeInterval(adapter.config.retryWindow))
                ),
            ]
            if let status = event.status { details["status"] = .string(status) }
            if let money = event.money { details.merge(Self.moneyDetails(money)) { _, new in new } }
            var finding = Finding(
                kind: dropped ? .droppedEvent : .pendingEvent,
                provider: name,
                resourceType: event.resourceType,
                resourceID: event.resourceID,
                eventID: event.eventID,
                details: details
            )
            finding.needsRepair = dropped
            findings.append(finding)
        }
        return findings
    }

    /// Events first received after a newer event of the same resource had been received.
    ///
    /// `events` holds every stored event of the resources it names.
    func outOfOrder(events local: [LocalEvent]) throws(StoreFailure) -> [Finding] {
        let byResource = Dictionary(grouping: local) { ResourceKey($0.resourceType, $0.resourceID) }
        var findings: [Finding] = []
        var named: [(finding: Int, event: LocalEvent)] = []
        for (_, events) in byResource {
            for event in events where event.occurredAt >= since && event.occurredAt < until {
                guard let receipt = event.firstReceipt else { continue }
                // Lazily: an array of the newer events was a copy of each, for every event of the window.
                let newer = events.lazy.filter { other in
                    other.occurredAt > event.occurredAt && (other.firstReceipt.map { $0 < receipt } ?? false)
                }
                // The newer event received first; of those received at the same moment (two
                // events of one batch), the earliest created, then the least id by bytes (two
                // spellings of one accented id are two events): the events come in no particular order.
                guard
                    let first = newer.min(by: { lhs, rhs in
                        let left = lhs.firstReceipt ?? .distantFuture
                        let right = rhs.firstReceipt ?? .distantFuture
                        if left != right { return left < right }
                        if lhs.occurredAt != rhs.occurredAt { return lhs.occurredAt < rhs.occurredAt }
                        return ByteOrder.precedes(lhs.eventID, rhs.eventID)
                    })
                else { continue }
                let details: [String: JSONValue] = [
                    "event_type": .string(event.eventType), "created": .string(RFC3339.format(event.occurredAt)),
                    "received_at": .string(RFC3339.format(receipt)),
                    "newer_event_id": .string(first.eventID),
                    "newer_event_created": .string(RFC3339.format(first.occurredAt)),
                    "newer_event_received_at": .string(RFC3339.format(first.firstReceipt ?? receipt)),
                ]
                named.append((findings.count, event))
                findings.append(
                    Finding(
                        kind: .outOfOrder,
                        provider: name,
                        resourceType: event.resourceType,
                        resourceID: event.resourceID,
                        eventID: event.eventID,
                        details: details
                    )
                )
            }
        }
        try Self.addMoney(to: &findings, named: named, adapter: adapter)
        return findings
    }

    // MARK: Deliveries

    /// Duplicate and rejected deliveries as findings; `events` are the stored events of the
    /// duplicates (those it lacks are reported without a type or an amount).
    func deliveryFindings(
        duplicates: [DuplicatedEvent],
        rejected: [RejectedDelivery],
        events: [LocalEvent]
    ) throws -> [Finding] {
        var known: [ExactID: LocalEvent] = [:]
        for event in events { known[ExactID(event.eventID)] = event }
        var named: [(finding: Int, event: LocalEvent)] = []
        var findings: [Finding] = duplicates.enumerated().map { index, duplicate in
            let event = known[ExactID(duplicate.eventID)]
            var details: [String: JSONValue] = ["deliveries": .integer(Int64(duplicate.deliveries))]
            if let event {
                details["event_type"] = .string(event.eventType)
                named.append((index, event))
            }
            return Finding(
                kind: .duplicateDelivery,
                provider: name,
                resourceType: event?.resourceType,
                resourceID: event?.resourceID,
                eventID: duplicate.eventID,
                details: details
            )
        }
        try Self.addMoney(to: &findings, named: named, adapter: adapter)
        findings += rejected.map(Self.invalidSignature)
        return findings
    }

    static func invalidSignature(_ delivery: RejectedDelivery) -> Finding {
        var details: [String: JSONValue] = ["reason": .string(delivery.reason)]
        if let detail = delivery.detail { details["detail"] = .string(detail) }
        if let receivedAt = delivery.receivedAt { details["received_at"] = .string(RFC3339.format(receivedAt)) }
        if let source = delivery.sourceName { details["source"] = .string(source) }
        if let line = delivery.lineNumber { details["line"] = .integer(Int64(line)) }
        return Finding(
            kind: .invalidSignature,
            provider: delivery.provider,
            resourceType: delivery.resourceType,
            resourceID: delivery.resourceID,
            eventID: delivery.eventID,
            details: details,
            deliveryID: delivery.id
        )
    }
}
