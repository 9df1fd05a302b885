import Foundation

extension Classifier {
    /// `state_mismatch`, `missing_locally` and `unknown_to_provider` for the resources the window touches.
    func resourceFindings(
        _ inputs: [ResourceInput],
        remote: [ListedEvent],
        local: [ExactID: LocalEvent],
        earlier: [Finding]
    ) -> [Finding] {
        let eventsByResource = Dictionary(grouping: remote) { ResourceKey($0.resourceType, $0.resourceID) }
        let outOfOrder = Set(
            earlier.filter { $0.kind == .outOfOrder }.map { ResourceKey($0.resourceType ?? "", $0.resourceID ?? "") }
        )
        let unknownByEvent = Set(
            earlier.filter { $0.kind == .unknownToProvider }.map {
                ResourceKey($0.resourceType ?? "", $0.resourceID ?? "")
            }
        )
        var findings: [Finding] = []
        for input in inputs {
            guard let snapshot = input.remote else {
                guard let row = input.local, !unknownByEvent.contains(input.key) else { continue }
                var details: [String: JSONValue] = [
                    "source": "local_state", "local": row.status.map(JSONValue.string) ?? .null,
                    "local_as_of": .string(RFC3339.format(row.asOf)),
                ]
                if let money = row.money { details.merge(Self.moneyDetails(money)) { _, new in new } }
                findings.append(
                    Finding(
                        kind: .unknownToProvider,
                        provider: name,
                        resourceType: input.key.type,
                        resourceID: input.key.id,
                        eventID: nil,
                        details: details
                    )
                )
                continue
            }
            let cause = self.cause(
                asOf: input.local?.asOf,
                remoteUpdated: snapshot.updatedAt,
                events: eventsByResource[input.key] ?? [],
                local: local,
                outOfOrder: outOfOrder.contains(input.key)
            )
            var details: [String: JSONValue] = [
                "remote": snapshot.status.map(JSONValue.string) ?? .null,
                "remote_updated": .string(RFC3339.format(snapshot.updatedAt)), "cause": .string(cause),
            ]
            if let money = snapshot.money ?? input.local?.money {
                details.merge(Self.moneyDetails(money)) { _, new in new }
            }
            guard let row = input.local else {
                var finding = Finding(
                    kind: .missingLocally,
                    provider: name,
                    resourceType: input.key.type,
                    resourceID: input.key.id,
                    eventID: nil,
                    details: details
                )
                finding.needsRepair = true
                findings.append(finding)
                continue
            }
            guard row.status != snapshot.status || snapshot.updatedAt > row.asOf else { continue }
            details["local"] = row.status.map(JSONValue.string) ?? .null
            details["local_as_of"] = .string(RFC3339.format(row.asOf))
            details["changed"] = .array(Self.changedFields(row, snapshot).map(JSONValue.string))
            var finding = Finding(
                kind: .stateMismatch,
                provider: name,
                resourceType: input.key.type,
                resourceID: input.key.id,
                eventID: nil,
                details: details
            )
            // A row newer than the provider's answer (an ingest since the read, a lagging read API)
            // is reported but never moved back to the older state.
            if row.asOf > snapshot.updatedAt {
                finding.details["local_is_newer"] = .bool(true)
            } else {
                finding.needsRepair = true
            }
            findings.append(finding)
        }
        return findings
    }

    /// Why local state is behind: the newest unreceived event newer than the row decides.
    ///
    /// A provider with no event log (Credify) shows no events: when its object is newer than the
    /// row, the change that never arrived is dated by the object's `updated` time instead.
    func cause(
        asOf: Date?,
        remoteUpdated: Date,
        events: [ListedEvent],
        local: [ExactID: LocalEvent],
        outOfOrder: Bool
    ) -> String {
        if !adapter.hasEventLog, asOf.map({ remoteUpdated > $0 }) ?? true {
            return isDropped(remoteUpdated) ? "dropped_event" : "pending_event"
        }
        let unreceived = events.filter { event in
            subscribes(to: event.eventType) && local.index(forKey: ExactID(event.eventID)) == nil
                && asOf.map { event.occurredAt > $0 } ?? true
        }
        if let newest = unreceived.max(by: { $0.occurredAt < $1.occurredAt }) {
            return isDropped(newest.occurredAt) ? "dropped_event" : "pending_event"
        }
        return outOfOrder ? "out_of_order" : "unknown"
    }

    /// The top-level fields whose values differ between our row and the provider's object.
    static func changedFields(_ row: LocalResource, _ snapshot: ResourceSnapshot) -> [String] {
        var changed = Set<String>()
        if row.status != snapshot.status { changed.insert("status") }
        let mine = row.object.objectValue ?? [:]
        let theirs = snapshot.object.objectValue ?? [:]
        for key in Set(mine.keys).union(theirs.keys) where mine[key] != theirs[key] { changed.insert(key) }
        if changed.isEmpty, snapshot.updatedAt != row.asOf { changed.insert("updated") }
        return changed.sorted()
    }

    /// Repairs planned for findings, each with its finding's key: events to record, and states to set with the
    /// rank of their finding's kind (``RunScratch/plan(events:resources:)`` keeps them).
    typealias PlannedRepairs = (
        events: [(findingKey: String, eventID: String)],
        resources: [(findingKey: String, rank: Int, target: LocalResource)]
    )

    /// The repairs the findings call for, each with its finding's key: record dropped events, set state to the provider's.
    ///
    /// A state repair carries the rank of its finding's kind, so that repairs are applied kind by kind.
    static func plan(for findings: [Finding], remote: [ListedEvent], resources: [ResourceInput]) -> PlannedRepairs {
        let listed = Set(remote.map { ExactID($0.eventID) })
        let snapshots = Dictionary(
            resources.compactMap { input in input.remote.map { (input.key, $0) } },
            uniquingKeysWith: { first, _ in first }
        )
        var planned:
            (
                events: [(findingKey: String, eventID: String)],
                resources: [(findingKey: String, rank: Int, target: LocalResource)]
            ) = ([], [])
        for finding in findings where finding.needsRepair {
            switch finding.kind {
            case .droppedEvent:
                if let id = finding.eventID, listed.contains(ExactID(id)) { planned.events.append((finding.key, id)) }
            case .stateMismatch, .missingLocally:
                let key = ResourceKey(finding.resourceType ?? "", finding.resourceID ?? "")
                if let snapshot = snapshots[key] {
                    let rank = FindingKind.allCases.firstIndex(of: finding.kind) ?? 0
                    planned.resources.append((finding.key, rank, LocalResource(snapshot: snapshot)))
                }
            default:
                break
            }
        }
        return planned
    }
}
