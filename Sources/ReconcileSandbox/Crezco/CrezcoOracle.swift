import Foundation

/// Derives the findings a correct reconciler reports from a Crezco world and what was actually delivered.
///
/// Local state is the newest validly received event of each resource by `timestamp`, never moving
/// back. A batch is a delivery of each event in it. Findings follow job.md and the reconciler's rules:
/// see ``SandboxHistory/crezco(seed:now:providerName:)``.
enum CrezcoOracle {
    static func findings(
        world: CrezcoWorld,
        deliveries: [CrezcoHistory.Delivery],
        provider: String,
        now: Date,
        retryWindow: TimeInterval
    ) -> [SandboxExpectedFinding] {
        var findings: [SandboxExpectedFinding] = []
        func finding(_ kind: SandboxExpectedFinding.Kind, _ object: CrezcoObject?, eventID: String?, at: Date?)
            -> SandboxExpectedFinding
        {
            SandboxExpectedFinding(
                kind: kind,
                provider: provider,
                resourceType: object?.kind.rawValue,
                resourceID: object?.id,
                eventID: eventID,
                at: at
            )
        }

        for delivery in deliveries {
            guard let reason = delivery.rejection else { continue }
            let first = delivery.events.first
            var rejected = finding(.invalidSignature, first?.object, eventID: first?.id, at: delivery.receivedAt)
            rejected.reason = reason
            findings.append(rejected)
        }

        // Valid receipts in receipt order; each event of a batch is received with it.
        let valid = deliveries.filter { $0.rejection == nil && $0.receivedAt != nil }
            .sorted { ($0.receivedAt ?? .distantPast) < ($1.receivedAt ?? .distantPast) }
        var receipts: [String: [Date]] = [:]
        var firstReceived: [CrezcoEvent] = []
        var newestReceived: [String: CrezcoEvent] = [:]
        var outOfOrder: Set<String> = []
        for delivery in valid {
            guard let receivedAt = delivery.receivedAt else { continue }
            for event in delivery.events {
                let first = receipts[event.id] == nil
                receipts[event.id, default: []].append(receivedAt)
                guard first else { continue }
                firstReceived.append(event)
                if let newest = newestReceived[event.object.id], newest.timestamp > event.timestamp {
                    findings.append(finding(.outOfOrder, event.object, eventID: event.id, at: event.timestamp))
                    outOfOrder.insert(event.object.id)
                } else {
                    newestReceived[event.object.id] = event
                }
                if world.objects[event.object.id]?.kind != event.object.kind {
                    findings.append(finding(.unknownToProvider, event.object, eventID: event.id, at: event.timestamp))
                }
            }
        }
        for event in firstReceived {
            guard let times = receipts[event.id], times.count > 1, let last = times.last else { continue }
            var duplicate = finding(.duplicateDelivery, event.object, eventID: event.id, at: last)
            duplicate.deliveries = times.count
            findings.append(duplicate)
        }

        // Provider events never validly received: dropped or pending.
        let expired = now.addingTimeInterval(-retryWindow)
        var unreceived: [String: [CrezcoEvent]] = [:]
        for event in world.retainedEvents(now: now) where receipts[event.id] == nil {
            let kind: SandboxExpectedFinding.Kind = event.timestamp < expired ? .droppedEvent : .pendingEvent
            findings.append(finding(kind, event.object, eventID: event.id, at: event.timestamp))
            unreceived[event.object.id, default: []].append(event)
        }

        // Resources: missing locally, or local state behind the provider.
        let eventTimes = Dictionary(grouping: world.retainedEvents(now: now), by: \.object.id)
            .mapValues { $0.map(\.timestamp) }
        for object in CrezcoObject.Kind.allCases.flatMap({ world.objects(of: $0) }) {
            let local = newestReceived[object.id]
            if let local, object.updatedAt <= local.timestamp, object.status == local.object.status { continue }
            let asOf = local?.timestamp ?? .distantPast
            let cause: String
            if let decisive = unreceived[object.id, default: []].last(where: { $0.timestamp > asOf }) {
                cause = decisive.timestamp < expired ? "dropped_event" : "pending_event"
            } else {
                cause = outOfOrder.contains(object.id) ? "out_of_order" : "unknown"
            }
            var resource = finding(
                local == nil ? .missingLocally : .stateMismatch,
                object,
                eventID: nil,
                at: object.updatedAt
            )
            resource.cause = cause
            if !object.kind.isListable { resource.windowTimes = eventTimes[object.id, default: []] }
            findings.append(resource)
        }
        return findings
    }
}
