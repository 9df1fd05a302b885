import Foundation

/// Derives the findings a correct reconciler reports from a Credify world and what was actually delivered.
///
/// Credify has no event log, so there are no `dropped_event`/`pending_event` findings: lost events
/// show as `state_mismatch` or `missing_locally`, whose cause comes from the provider's `updated_at`
/// against the row's `as_of` and the retry window. Local state is the newest validly received event
/// of each resource by `X-Event-Timestamp`, never moving back; a disbursement event sets only its
/// requirement and leaves the status as it was (`nil` before any status event).
enum CredifyOracle {
    /// What ingest keeps for one resource.
    struct Local {
        var status: String?
        var asOf: Date
    }

    static func findings(
        world: CredifyWorld,
        deliveries: [CredifyHistory.Delivery],
        provider: String,
        now: Date,
        retryWindow: TimeInterval
    ) -> [SandboxExpectedFinding] {
        var findings: [SandboxExpectedFinding] = []
        func finding(_ kind: SandboxExpectedFinding.Kind, _ object: CredifyObject?, eventID: String?, at: Date?)
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
            var rejected = finding(
                .invalidSignature,
                delivery.event?.object,
                eventID: delivery.event?.id,
                at: delivery.receivedAt
            )
            rejected.reason = reason
            findings.append(rejected)
        }

        let valid = deliveries.filter { $0.rejection == nil && $0.event != nil && $0.receivedAt != nil }
            .sorted { ($0.receivedAt ?? .distantPast) < ($1.receivedAt ?? .distantPast) }
        var receipts: [String: [Date]] = [:]
        var firstReceived: [CredifyEvent] = []
        var local: [String: Local] = [:]
        var outOfOrder: Set<String> = []
        for delivery in valid {
            guard let event = delivery.event, let receivedAt = delivery.receivedAt else { continue }
            let first = receipts[event.id] == nil
            receipts[event.id, default: []].append(receivedAt)
            guard first else { continue }
            firstReceived.append(event)
            let resource = event.object.id
            if let row = local[resource], row.asOf > event.timestamp {
                findings.append(finding(.outOfOrder, event.object, eventID: event.id, at: event.timestamp))
                outOfOrder.insert(resource)
            } else {
                let status = event.carriesStatus ? event.object.status : local[resource]?.status
                local[resource] = Local(status: status, asOf: event.timestamp)
            }
            if world.objects[resource]?.kind != event.object.kind {
                findings.append(finding(.unknownToProvider, event.object, eventID: event.id, at: event.timestamp))
            }
        }
        for event in firstReceived {
            guard let times = receipts[event.id], times.count > 1, let last = times.last else { continue }
            var duplicate = finding(.duplicateDelivery, event.object, eventID: event.id, at: last)
            duplicate.deliveries = times.count
            findings.append(duplicate)
        }

        let expired = now.addingTimeInterval(-retryWindow)
        for object in CredifyObject.Kind.allCases.flatMap({ world.objects(of: $0) }) {
            let row = local[object.id]
            if let row, row.status == object.status, object.updatedAt <= row.asOf { continue }
            let cause: String
            if object.updatedAt > row?.asOf ?? .distantPast {
                cause = object.updatedAt < expired ? "dropped_event" : "pending_event"
            } else {
                cause = outOfOrder.contains(object.id) ? "out_of_order" : "unknown"
            }
            var resource = finding(
                row == nil ? .missingLocally : .stateMismatch,
                object,
                eventID: nil,
                at: object.updatedAt
            )
            resource.cause = cause
            findings.append(resource)
        }
        return findings
    }
}
