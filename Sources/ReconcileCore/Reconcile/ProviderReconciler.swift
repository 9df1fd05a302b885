import Foundation
import Logging

/// What reconciling one provider produced: its findings and the repairs they call for.
public struct ProviderReconciliation: Sendable {
    public var findings: [Finding] = []
    public var plan = RepairPlan()
    public var apiRequests = 0
    /// What was verified, over which times, from which source.
    public var coverage: RunReport.Coverage?
}

/// Compares one provider's read API with the store over a window and classifies every difference.
///
/// It reads everything first and changes nothing; the caller applies `plan` in one transaction.
struct ProviderReconciler: Sendable {
    let adapter: any ProviderAdapter
    let reader: any ProviderReader
    let store: Store
    let now: Date
    let since: Date
    let until: Date
    let logger: Logger

    var name: String { adapter.config.name }

    func reconcile() async throws -> ProviderReconciliation {
        var result = ProviderReconciliation()
        let eventSince = adapter.hasEventLog ? max(since, now.addingTimeInterval(-adapter.eventLogRetention)) : since
        logger.info(
            "provider.start",
            metadata: [
                "provider": "\(name)", "since": "\(RFC3339.format(since))", "until": "\(RFC3339.format(until))",
                "events_since": "\(adapter.hasEventLog ? RFC3339.format(eventSince) : "none")",
            ]
        )
        let endpoint = try await reader.endpoint()
        let remoteEvents = adapter.hasEventLog ? try await reader.events(since: eventSince, until: until) : []
        let listed = try await reader.resources(since: since, until: until)
        logger.info(
            "provider.read",
            metadata: ["provider": "\(name)", "events": "\(remoteEvents.count)", "resources": "\(listed.count)"]
        )

        var local = Dictionary(
            try store.eventsOfResourcesActive(provider: name, since: since, until: until).map { ($0.eventID, $0) },
            uniquingKeysWith: { first, _ in first }
        )
        let unseen = remoteEvents.map(\.eventID).filter { local[$0] == nil }
        for event in try store.events(provider: name, ids: unseen) { local[event.eventID] = event }

        let classifier = Classifier(
            adapter: adapter,
            endpoint: endpoint,
            now: now,
            since: since,
            until: until,
            eventSince: eventSince
        )
        let resources = try await resourceInputs(
            listed: listed,
            remote: remoteEvents,
            local: local,
            classifier: classifier
        )
        var findings = classifier.eventFindings(remote: remoteEvents, local: local)
        findings += try await unknownEvents(
            remote: remoteEvents,
            local: local,
            eventSince: eventSince,
            resources: resources
        )
        findings += try classifier.deliveryFindings(
            duplicates: store.duplicatedEvents(provider: name, since: since, until: until),
            rejected: store.rejectedDeliveries(provider: name, since: since, until: until),
            local: local,
            store: store
        )
        findings += classifier.resourceFindings(resources, remote: remoteEvents, local: local, earlier: findings)
        if let endpoint, !endpoint.isEnabled {
            findings.append(
                Finding(
                    kind: .endpointDisabled,
                    provider: name,
                    resourceType: "webhook_endpoint",
                    resourceID: endpoint.id,
                    eventID: nil,
                    details: [
                        "status": .string(endpoint.status),
                        "enabled_events": .array(endpoint.enabledEvents.map(JSONValue.string)),
                    ]
                )
            )
        }
        result.findings = try withResourceMoney(findings, resources: resources).sorted(by: Finding.reportOrder)
        result.plan = Classifier.plan(for: result.findings, remote: remoteEvents, resources: resources)
        result.apiRequests = await reader.requestCount()
        result.coverage = RunReport.Coverage(
            adapter: adapter,
            since: since,
            until: until,
            eventSince: eventSince,
            kept: await reader.cachedAnswerCount()
        )
        return result
    }

    /// Every finding on a payment-like resource with its amount and currency, whatever its kind.
    ///
    /// An event can carry no money (a Credify BNPL event, a duplicate of a status change) while
    /// the resource has an amount: it comes from the provider's object, else from our row.
    private func withResourceMoney(_ findings: [Finding], resources: [Classifier.ResourceInput]) throws -> [Finding] {
        func paymentKey(_ finding: Finding) -> ResourceKey? {
            guard finding.money == nil, let type = finding.resourceType, PaymentsCSV.paymentTypes.contains(type),
                let id = finding.resourceID
            else { return nil }
            return ResourceKey(type, id)
        }
        var money: [ResourceKey: Money] = [:]
        for input in resources {
            if let amount = input.remote?.money ?? input.local?.money { money[input.key] = amount }
        }
        let missing = Set(findings.compactMap(paymentKey)).filter { money[$0] == nil }
        if !missing.isEmpty {
            for (key, row) in try store.resources(provider: name, keys: missing.sorted()) {
                if let amount = row.money { money[key] = amount }
            }
        }
        return findings.map { finding in
            guard let key = paymentKey(finding), let amount = money[key] else { return finding }
            var filled = finding
            filled.details.merge(Classifier.moneyDetails(amount)) { current, _ in current }
            return filled
        }
    }

    /// Validly signed events in the window that the provider does not know.
    ///
    /// With an event-by-id route (Credicorp): events the list lacks and the route answers 404 for.
    /// Without one (Crezco, Credify): events whose resource the provider answers 404 for.
    private func unknownEvents(
        remote: [ProviderEvent],
        local: [String: LocalEvent],
        eventSince: Date,
        resources: [Classifier.ResourceInput]
    ) async throws -> [Finding] {
        let remoteIDs = Set(remote.map(\.eventID))
        let gone = Set(resources.filter { $0.remote == nil }.map(\.key))
        var findings: [Finding] = []
        let candidates = local.values.filter { event in
            event.source == "webhook" && event.occurredAt >= (adapter.hasEventLog ? eventSince : since)
                && event.occurredAt < until && !remoteIDs.contains(event.eventID)
        }.sorted { $0.eventID < $1.eventID }
        for event in candidates {
            if adapter.hasEventByIDRoute {
                guard try await reader.event(id: event.eventID) == nil else { continue }
            } else {
                guard gone.contains(ResourceKey(event.resourceType, event.resourceID)) else { continue }
            }
            var details: [String: JSONValue] = [
                "source": "event", "event_type": .string(event.eventType),
                "created": .string(RFC3339.format(event.occurredAt)),
            ]
            if let money = adapter.money(inEventPayload: event.payload) {
                details.merge(Classifier.moneyDetails(money)) { _, new in new }
            }
            findings.append(
                Finding(
                    kind: .unknownToProvider,
                    provider: name,
                    resourceType: event.resourceType,
                    resourceID: event.resourceID,
                    eventID: event.eventID,
                    details: details
                )
            )
        }
        return findings
    }

    /// Every resource the window touches, with the provider's state (nil: 404) and ours.
    private func resourceInputs(
        listed: [ResourceSnapshot],
        remote: [ProviderEvent],
        local: [String: LocalEvent],
        classifier: Classifier
    ) async throws -> [Classifier.ResourceInput] {
        var remoteState: [ResourceKey: ResourceSnapshot] = [:]
        for snapshot in listed { remoteState[ResourceKey(snapshot.resourceType, snapshot.resourceID)] = snapshot }
        var keys = Set(remoteState.keys)
        keys.formUnion(remote.map { ResourceKey($0.resourceType, $0.resourceID) })
        keys.formUnion(
            local.values.filter { $0.occurredAt >= since && $0.occurredAt < until && $0.source == "webhook" }
                .map { ResourceKey($0.resourceType, $0.resourceID) }
        )
        keys.formUnion(
            try store.resources(provider: name, asOfSince: since, until: until).map {
                ResourceKey($0.resourceType, $0.resourceID)
            }
        )
        let tracked = keys.sorted().filter { classifier.tracks(resourceType: $0.type) }
        let localRows = try store.resources(provider: name, keys: tracked)
        var inputs: [Classifier.ResourceInput] = []
        for key in tracked {
            let remoteSnapshot: ResourceSnapshot?
            if let known = remoteState[key] {
                remoteSnapshot = known
            } else {
                remoteSnapshot = try await reader.resource(type: key.type, id: key.id)
            }
            inputs.append(.init(key: key, remote: remoteSnapshot, local: localRows[key]))
        }
        return inputs
    }
}

/// A resource's identity within one provider.
struct ResourceKey: Hashable, Comparable, Sendable {
    var type: String
    var id: String

    init(_ type: String, _ id: String) {
        self.type = type
        self.id = id
    }

    static func < (lhs: ResourceKey, rhs: ResourceKey) -> Bool { (lhs.type, lhs.id) < (rhs.type, rhs.id) }
}
