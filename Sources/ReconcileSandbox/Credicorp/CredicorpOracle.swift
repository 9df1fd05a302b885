import Foundation

/// Derives the findings a correct reconciler reports from a world and what was actually delivered.
///
/// It follows job.md: local state is the newest validly received version of each resource (applied
/// in provider order); events the endpoint does not subscribe to are never expected.
enum CredicorpOracle {
    static func findings(
        world: SandboxWorld,
        deliveries: [CredicorpHistory.Delivery],
        provider: String,
        retryWindow: TimeInterval
    ) -> [SandboxExpectedFinding] {
        let credicorp = world.credicorp
        var findings: [SandboxExpectedFinding] = []
        func add(_ kind: SandboxExpectedFinding.Kind, _ event: CredicorpEvent?, at: Date?) -> Int {
            add(kind, event?.object, eventID: event?.id, at: at)
        }
        func add(_ kind: SandboxExpectedFinding.Kind, _ object: CredicorpObject?, eventID: String?, at: Date?) -> Int {
            findings.append(
                SandboxExpectedFinding(
                    kind: kind,
                    provider: provider,
                    resourceType: object?.kind.rawValue,
                    resourceID: object?.id,
                    eventID: eventID,
                    at: at
                )
            )
            return findings.count - 1
        }

        for delivery in deliveries {
            guard let reason = delivery.rejection else { continue }
            findings[add(.invalidSignature, delivery.event, at: delivery.receivedAt)].reason = reason
        }

        // Valid receipts in receipt order.
        let valid = deliveries.filter { $0.rejection == nil && $0.event != nil && $0.receivedAt != nil }
            .sorted { ($0.receivedAt ?? .distantPast) < ($1.receivedAt ?? .distantPast) }
        var receipts: [String: [Date]] = [:]
        var newestReceived: [String: CredicorpEvent] = [:]
        for delivery in valid {
            guard let event = delivery.event, let receivedAt = delivery.receivedAt else { continue }
            let first = receipts[event.id] == nil
            receipts[event.id, default: []].append(receivedAt)
            guard first else { continue }
            if let newest = newestReceived[event.object.id], newest.created > event.created {
                _ = add(.outOfOrder, event, at: event.created)
            }
            if newestReceived[event.object.id].map({ $0.created < event.created }) ?? true {
                newestReceived[event.object.id] = event
            }
            if credicorp.eventsByID[event.id] == nil {
                _ = add(.unknownToProvider, event, at: event.created)
            }
        }
        for delivery in valid {
            guard let event = delivery.event, let times = receipts[event.id], times.count > 1,
                delivery.receivedAt == times.last
            else { continue }
            findings[add(.duplicateDelivery, event, at: times.last)].deliveries = times.count
        }

        // Subscribed events never validly received: dropped or pending.
        let expired = world.now.addingTimeInterval(-retryWindow)
        var unreceived: [String: [CredicorpEvent]] = [:]
        for event in credicorp.retainedEvents(now: world.now)
        where credicorp.endpoint.subscribes(to: event.type) && receipts[event.id] == nil {
            _ = add(event.created < expired ? .droppedEvent : .pendingEvent, event, at: event.created)
            unreceived[event.object.id, default: []].append(event)
        }

        // Resources: missing locally, or local state behind the provider.
        for object in CredicorpObject.Kind.allCases.flatMap({ credicorp.objects(of: $0) }) {
            guard let local = newestReceived[object.id] else {
                _ = add(.missingLocally, object, eventID: nil, at: object.updated)
                continue
            }
            guard object.updated > local.created || object.status != local.object.status else { continue }
            let later = unreceived[object.id, default: []].filter { $0.created > local.created }
            let cause = later.last.map { $0.created < expired ? "dropped_event" : "pending_event" } ?? "unknown"
            findings[add(.stateMismatch, object, eventID: nil, at: object.updated)].cause = cause
        }

        if credicorp.endpoint.status == "disabled" {
            findings.append(
                SandboxExpectedFinding(
                    kind: .endpointDisabled,
                    provider: provider,
                    resourceType: "webhook_endpoint",
                    resourceID: credicorp.endpoint.id,
                    at: nil
                )
            )
        }
        return findings
    }
}
