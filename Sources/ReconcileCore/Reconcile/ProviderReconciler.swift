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
///
/// Memory stays bounded whatever the window holds: the provider's lists go to a ``RunScratch`` as
/// they are read, and the window's resources are classified ``chunkSize`` at a time, each chunk
/// with its own events (the provider's and ours), snapshots and rows. Every rule of the
/// classifier looks at one resource at a time, except duplicate deliveries, rejected deliveries
/// and the endpoint, which are read for the whole window.
struct ProviderReconciler: Sendable {
    let adapter: any ProviderAdapter
    let reader: any ProviderReader
    let store: any ReconcileStore
    let now: Date
    let since: Date
    let until: Date
    let logger: Logger
    /// How many resources are classified at once.
    var chunkSize = Self.defaultChunkSize
    /// The most estimated bytes of the provider's answers held in memory (``RunScratch/heldBytes``);
    /// tests vary it, down to 0 (every answer in the temporary file), and the findings must not change.
    var answersInMemory = RunScratch.heldBytes

    static let defaultChunkSize = 1_000

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
        let scratch = try RunScratch(
            recorded: { [store, name] ids, occurred in
                try await store.recordedEventIDs(provider: name, among: ids, occurred: occurred)
            },
            memoryLimit: answersInMemory
        )
        if adapter.hasEventLog { try await reader.readEvents(since: eventSince, until: until, into: scratch) }
        try await reader.readResources(since: since, until: until, into: scratch)
        let counts = try scratch.counts()
        logger.info(
            "provider.read",
            metadata: [
                "provider": "\(name)", "events": "\(counts.events)", "resources": "\(counts.resources)",
                "answers": "\(scratch.holdsAnswers ? "memory" : "file")",
            ]
        )

        // The window's resources: those the provider names, those with a webhook event in the
        // window, and those whose row is as of a time in the window. Resources with only other
        // events in the window (recorded by a repair) are read for their events alone.
        // The store's two reads run while the listed events are indexed (the double is idle by
        // now, and they are independent). Read while the lists were, they slowed the reading more
        // than they saved after it: the double shares the two cores.
        async let activeKeys = store.resourcesWithEvents(provider: name, since: since, until: until)
        async let keysAsOf = store.resourceKeys(provider: name, asOfSince: since, until: until)
        try scratch.addRemoteKeys()
        let active = try await activeKeys
        try scratch.add(keys: active.filter(\.webhook).map(\.key), classified: true)
        try scratch.add(keys: active.filter { !$0.webhook }.map(\.key), classified: false)
        try scratch.add(keys: await keysAsOf, classified: true)

        let classifier = Classifier(
            adapter: adapter,
            endpoint: endpoint,
            now: now,
            since: since,
            until: until,
            eventSince: eventSince
        )
        // The provider is no longer asked for pages: its core is ours. What the store alone
        // answers is read beside the chunks, and chunks are classified two at a time.
        async let duplicatedEvents = store.duplicatedEvents(provider: name, since: since, until: until)
        async let rejectedDeliveries = store.rejectedDeliveries(provider: name, since: since, until: until)
        var findings: [Finding] = []
        var after: ResourceKey?
        while true {
            let keys = try scratch.keys(after: after, limit: chunkSize)
            guard let last = keys.last else { break }
            let next = try scratch.keys(after: last.key, limit: chunkSize)
            after = next.last?.key ?? last.key
            if Interruption.shared.isRequested { throw ProviderError.cancelled(provider: name) }
            // Repairs wait in the order of chunks, as when one chunk followed another; the first
            // chunk's are kept before the second is awaited, so that its failure is the one reported.
            func keep(_ chunk: ChunkResult) throws {
                try scratch.plan(events: chunk.plan.events, resources: chunk.plan.resources)
                findings += chunk.findings
            }
            async let second = classify(chunk: next, scratch: scratch, classifier: classifier, eventSince: eventSince)
            try keep(await classify(chunk: keys, scratch: scratch, classifier: classifier, eventSince: eventSince))
            try keep(await second)
        }

        let duplicates = try await duplicatedEvents
        var global = try classifier.deliveryFindings(
            duplicates: duplicates,
            rejected: await rejectedDeliveries,
            events: await store.events(provider: name, ids: duplicates.map(\.eventID))
        )
        if let endpoint, !endpoint.isEnabled {
            global.append(
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
        findings += try await withResourceMoney(
            global,
            known: { keys in try scratch.money(of: keys.filter { classifier.tracks(resourceType: $0.type) }) }
        )
        // Nothing more is asked of the answers: their memory goes back before the repairs are
        // applied, and to the other providers' (they share one budget).
        scratch.letGoOfAnswers()
        result.findings = findings.sorted(by: Finding.reportOrder)
        result.plan = RepairPlan(scratch: scratch, count: try scratch.plannedCount())
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

    /// What classifying one chunk gave: its findings, and the repairs they call for.
    private struct ChunkResult: Sendable {
        var findings: [Finding] = []
        var plan: Classifier.PlannedRepairs = ([], [])
    }

    /// Classifies the resources `chunk` (a run of the window's, in order) and plans their repairs,
    /// which the caller keeps in the order of chunks.
    private func classify(
        chunk: [(key: ResourceKey, classified: Bool)],
        scratch: RunScratch,
        classifier: Classifier,
        eventSince: Date
    ) async throws -> ChunkResult {
        let keys = chunk.map(\.key)
        guard let first = keys.first, let last = keys.last else { return ChunkResult() }
        let members = Set(keys)
        let remote = try scratch.events(from: first, through: last)
        // By exact id: of two spellings of one accented id, the provider and the stores hold two events.
        var local = Dictionary(
            try await store.events(provider: name, ofResources: keys).map { (ExactID($0.eventID), $0) },
            uniquingKeysWith: { first, _ in first }
        )
        // An event the provider lists under this resource, stored under another (a provider fault).
        let unseen = remote.map(\.eventID).filter { local[ExactID($0)] == nil }
        for event in try await store.events(provider: name, ids: unseen) { local[ExactID(event.eventID)] = event }
        let ours = local.values.filter { members.contains(ResourceKey($0.resourceType, $0.resourceID)) }

        let resources = try await resourceInputs(
            chunk.filter { $0.classified && classifier.tracks(resourceType: $0.key.type) }.map(\.key),
            listed: scratch.resources(from: first, through: last),
            scratch: scratch
        )
        var findings = classifier.eventFindings(remote: remote, local: local)
        findings += try classifier.outOfOrder(events: ours)
        findings += try await unknownEvents(
            ours,
            remote: Set(remote.map { ExactID($0.eventID) }),
            scratch: scratch,
            eventSince: eventSince,
            resources: resources
        )
        findings += classifier.resourceFindings(resources, remote: remote, local: local, earlier: findings)
        findings = try await withResourceMoney(
            findings,
            known: { _ in
                var money: [ResourceKey: Money] = [:]
                for input in resources {
                    if let amount = input.remote?.money ?? input.local?.money { money[input.key] = amount }
                }
                return money
            }
        )
        // In the report's order, so that repairs are applied in it as before (chunks follow the
        // order of resources).
        findings.sort(by: Finding.reportOrder)
        return ChunkResult(
            findings: findings,
            plan: Classifier.plan(for: findings, remote: remote, resources: resources)
        )
    }

    /// Every finding on a payment-like resource with its amount and currency, whatever its kind.
    ///
    /// An event can carry no money (a Credify BNPL event, a duplicate of a status change) while
    /// the resource has an amount: it comes from the provider's object, else from our row.
    private func withResourceMoney(
        _ findings: [Finding],
        known: ([ResourceKey]) throws -> [ResourceKey: Money]
    ) async throws -> [Finding] {
        func paymentKey(_ finding: Finding) -> ResourceKey? {
            guard finding.money == nil, let type = finding.resourceType, PaymentsCSV.paymentTypes.contains(type),
                let id = finding.resourceID
            else { return nil }
            return ResourceKey(type, id)
        }
        let wanted = Set(findings.compactMap(paymentKey)).sorted()
        guard !wanted.isEmpty else { return findings }
        var money = try known(wanted)
        let missing = wanted.filter { money[$0] == nil }
        if !missing.isEmpty {
            for (key, row) in try await store.resources(provider: name, keys: missing) {
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
        _ ours: [LocalEvent],
        remote: Set<ExactID>,
        scratch: RunScratch,
        eventSince: Date,
        resources: [Classifier.ResourceInput]
    ) async throws -> [Finding] {
        let gone = Set(resources.filter { $0.remote == nil }.map(\.key))
        var candidates = ours.filter { event in
            event.source == "webhook" && event.occurredAt >= (adapter.hasEventLog ? eventSince : since)
                && event.occurredAt < until && !remote.contains(ExactID(event.eventID))
        }
        // Listed under another resource: the provider knows it.
        let listedElsewhere = try scratch.knownEvents(candidates.map(\.eventID))
        candidates = candidates.filter { !listedElsewhere.contains(ExactID($0.eventID)) }.sorted {
            ByteOrder.precedes($0.eventID, $1.eventID)
        }
        var findings: [Finding] = []
        var named: [(finding: Int, event: LocalEvent)] = []
        for event in candidates {
            if adapter.hasEventByIDRoute {
                guard try await reader.event(id: event.eventID) == nil else { continue }
            } else {
                guard gone.contains(ResourceKey(event.resourceType, event.resourceID)) else { continue }
            }
            let details: [String: JSONValue] = [
                "source": "event", "event_type": .string(event.eventType),
                "created": .string(RFC3339.format(event.occurredAt)),
            ]
            named.append((findings.count, event))
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
        try Classifier.addMoney(to: &findings, named: named, adapter: adapter)
        return findings
    }

    /// The tracked resources of a chunk, with the provider's state (nil: 404) and ours.
    ///
    /// A resource the lists did not name is read by id, and kept in `scratch` for later lookups.
    private func resourceInputs(
        _ tracked: [ResourceKey],
        listed: [ResourceKey: ResourceSnapshot],
        scratch: RunScratch
    ) async throws -> [Classifier.ResourceInput] {
        let localRows = try await store.resources(provider: name, keys: tracked)
        var inputs: [Classifier.ResourceInput] = []
        for key in tracked {
            var remoteSnapshot = listed[key]
            if remoteSnapshot == nil {
                remoteSnapshot = try await reader.resource(type: key.type, id: key.id)
                if let fetched = remoteSnapshot { try scratch.keep(fetched: fetched) }
            }
            inputs.append(.init(key: key, remote: remoteSnapshot, local: localRows[key]))
        }
        return inputs
    }
}

/// A text from a provider (an event id, a finding key that names one, a report's group) compared
/// and hashed byte by byte (UTF-8), as the stores compare text.
///
/// See ``ResourceKey``. A Swift `Set` or `Dictionary` of these, never of `String`s, holds such
/// texts: of two spellings of one accented id, `String` keeps one.
public struct ExactID: Hashable, Sendable, ExpressibleByStringLiteral {
    public var text: String

    public init(_ text: String) { self.text = text }

    public init(stringLiteral text: String) { self.text = text }

    public static func == (lhs: ExactID, rhs: ExactID) -> Bool { ByteOrder.equal(lhs.text, rhs.text) }

    public func hash(into hasher: inout Hasher) { ResourceKey.combine(text, into: &hasher) }
}

/// A resource's identity within one provider.
///
/// Compared, hashed and ordered byte by byte (UTF-8), as both stores compare and order text
/// (SQLite's `BINARY`, PostgreSQL's `COLLATE "C"`). Swift's own `String` equality would take two
/// spellings of one accented letter (`é`, `e` + U+0301) for one id, and make two resources one.
public struct ResourceKey: Hashable, Comparable, Sendable {
    public var type: String
    public var id: String

    public init(_ type: String, _ id: String) {
        self.type = type
        self.id = id
    }

    public static func == (lhs: ResourceKey, rhs: ResourceKey) -> Bool {
        ByteOrder.equal(lhs.type, rhs.type) && ByteOrder.equal(lhs.id, rhs.id)
    }

    public func hash(into hasher: inout Hasher) {
        Self.combine(type, into: &hasher)
        Self.combine(id, into: &hasher)
    }

    /// Feeds `text`'s UTF-8 bytes and their count to `hasher`, as ``ExactID`` does too.
    ///
    /// No array of the two parts: keys are hashed for every lookup of a chunk's sets and dictionaries.
    fileprivate static func combine(_ text: String, into hasher: inout Hasher) {
        var text = text
        text.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
        hasher.combine(text.utf8.count)
    }

    public static func < (lhs: ResourceKey, rhs: ResourceKey) -> Bool {
        let type = ByteOrder.compare(lhs.type, rhs.type)
        return type != 0 ? type < 0 : ByteOrder.precedes(lhs.id, rhs.id)
    }
}
