import Foundation

/// One provider's read-API answers for one run, held in memory while their estimated size stays
/// within a limit; ``RunScratch`` moves them to its temporary file once they outgrow it.
///
/// Every question is answered as the file answers it: one version per event id and per resource
/// (the newest by provider time; at an equal time, the one kept last), resources in byte order of
/// (type, id), a chunk's events by (time, id). The file costs about a quarter of a run's CPU for a
/// window that fits here (SQLite's inserts, an index built once the lists are read, each chunk read
/// back and parsed again); a window of a million events does not fit, and goes on in the file.
final class HeldAnswers: @unchecked Sendable {
    private let lock = NSLock()
    /// Nil once the answers have moved to the file (or when none were to be held).
    private var state: State?
    /// What the answers' estimated size takes of `budget`, which the runs of a process share.
    private let budget: HeldBudget
    private var reserved = 0
    /// Whether the answers were let go (``letGo()``): no question may be asked of them since.
    private var released = false

    /// - Parameters:
    ///   - limit: the most estimated bytes to hold; 0 holds nothing.
    ///   - budget: what every holder of the process shares: a run reads up to three providers at
    ///     once, and together they hold no more than it.
    init(limit: Int, budget: HeldBudget = .shared) {
        state = limit > 0 ? State(limit: limit) : nil
        self.budget = budget
    }

    deinit { budget.give(reserved) }

    /// Runs `body` on the answers while they are held; nil once they have moved to the file.
    ///
    /// - Throws: once they were let go: a question then would get the empty file's answer.
    func ifHeld<T>(_ body: (inout State) -> T) throws(StoreFailure) -> T? {
        lock.lock()
        defer { lock.unlock() }
        guard !released else {
            throw StoreFailure(
                "use the provider's answers",
                reason: "they were let go once the window was classified (a fault of reconcile's)"
            )
        }
        // Taken out while `body` changes it, so that its collections are not copied.
        guard var current = state else { return nil }
        state = nil
        defer { state = current }
        let result = body(&current)
        // The change in size, taken from the shared budget or given back; one the budget cannot
        // spare fills these answers, which then move to the file (``moveIfFull(_:)``).
        let change = current.bytes - reserved
        if change < 0 || budget.take(change) {
            if change < 0 { budget.give(-change) }
            reserved = current.bytes
        } else {
            current.outOfBudget = true
        }
        return result
    }

    /// Hands the answers to `move` (which writes them to the file) if they are held and past their
    /// limit, and holds nothing from then on, whether `move` succeeds or throws.
    ///
    /// Under the lock throughout: a page kept meanwhile waits, then goes to the file, after what
    /// was held, and is compared with it there.
    func moveIfFull(_ move: (State) throws -> Void) rethrows {
        try lock.withLock {
            guard let current = state, current.isFull else { return }
            state = nil
            budget.give(reserved)
            reserved = 0
            try move(current)
        }
    }

    /// Lets the answers go: the window is classified, and only the planned repairs (in the file)
    /// are read from here on, while the run applies them and other providers are still read.
    func letGo() {
        lock.withLock {
            state = nil
            released = true
            budget.give(reserved)
            reserved = 0
        }
    }

    /// What is held, and the questions a run asks of it.
    struct State {
        /// A kept resource: listed, or read by id (for its money).
        struct Resource {
            var snapshot: ResourceSnapshot
            var listed: Bool
        }

        let limit: Int
        private(set) var bytes = 0
        /// The columns a chunk reads of each kept event, in the order first kept (a newer version
        /// takes its place), found by id through `positions`: one array, not a dictionary of them.
        private(set) var events: [ListedEvent] = []
        private var positions: [ExactID: Int] = [:]
        /// The whole of each kept event the store lacked when it was listed, for a repair that
        /// records it (apart from `events`, which are many more, so that theirs stay small).
        private(set) var wholes: [ExactID: ProviderEvent] = [:]
        private(set) var resources: [ResourceKey: Resource] = [:]
        private var listedCount = 0
        /// The window's resources, each with whether its state is classified.
        private(set) var keys: [ResourceKey: Bool] = [:]
        /// Whether the kept events' and listed resources' keys were added to `keys`.
        private(set) var remoteKeysAdded = false
        // Sorted views, made when first asked for after a change, and dropped by the next change.
        /// Positions in `events`, in byte order of their resources.
        private var eventIndex: [Int]?
        private var listedIndex: [ResourceKey]?
        private var keyIndex: [ResourceKey]?

        /// Set once the shared budget could not spare what these answers grew by.
        var outOfBudget = false

        init(limit: Int) { self.limit = limit }

        var isFull: Bool { bytes > limit || outOfBudget }

        // MARK: Keeping

        /// Keeps a page of events; `recorded` are those the store records, kept without the whole event.
        mutating func keep(events page: [ProviderEvent], recorded: Set<ExactID>) -> KeptRows {
            var kept = KeptRows()
            for event in page {
                let id = ExactID(event.eventID)
                let position = positions[id]
                guard
                    kept.admit(
                        event.occurredAt.timeIntervalSinceReferenceDate,
                        over: position.map { events[$0].occurredAt.timeIntervalSinceReferenceDate }
                    )
                else { continue }
                if let whole = wholes.removeValue(forKey: id) { bytes -= Self.size(whole) }
                let listed = ListedEvent(event)
                if let position {
                    bytes -= Self.size(events[position])
                    events[position] = listed
                } else {
                    positions[id] = events.count
                    events.append(listed)
                }
                bytes += Self.size(listed)
                if !recorded.contains(id) {
                    bytes += Self.size(event)
                    wholes[id] = event
                }
            }
            if !page.isEmpty { eventIndex = nil }
            return kept
        }

        /// Keeps a page of listed resources.
        mutating func keep(resources page: [ResourceSnapshot]) -> KeptRows {
            var kept = KeptRows()
            for snapshot in page {
                let key = ResourceKey(snapshot.resourceType, snapshot.resourceID)
                let stored = resources[key]
                guard
                    kept.admit(
                        snapshot.updatedAt.timeIntervalSinceReferenceDate,
                        over: stored?.snapshot.updatedAt.timeIntervalSinceReferenceDate
                    )
                else { continue }
                put(Resource(snapshot: snapshot, listed: true), at: key)
            }
            if !page.isEmpty { listedIndex = nil }
            return kept
        }

        /// Keeps a resource read by id, unless the lists gave it.
        mutating func keep(fetched snapshot: ResourceSnapshot) {
            let key = ResourceKey(snapshot.resourceType, snapshot.resourceID)
            if resources[key]?.listed != true { put(Resource(snapshot: snapshot, listed: false), at: key) }
        }

        private mutating func put(_ resource: Resource, at key: ResourceKey) {
            if let stored = resources[key] {
                bytes -= Self.size(stored)
                if stored.listed { listedCount -= 1 }
            }
            if resource.listed { listedCount += 1 }
            bytes += Self.size(resource)
            resources[key] = resource
        }

        /// Adds the keys of every kept event and listed resource to the window's, classified.
        mutating func addRemoteKeys() {
            for event in events { classify(ResourceKey(event.resourceType, event.resourceID)) }
            for (key, resource) in resources where resource.listed { classify(key) }
            remoteKeysAdded = true
            keyIndex = nil
            // The lists are read: their sorted views are made now, while the run reads the store
            // (``ProviderReconciler``), rather than by the first chunk, which the second would wait for.
            eventIndex = eventIndex ?? makeEventIndex()
            listedIndex = listedIndex ?? makeListedIndex()
        }

        private mutating func classify(_ key: ResourceKey) {
            if keys.updateValue(true, forKey: key) == nil { bytes += Self.size(key) }
        }

        /// Adds `keys` to the window's; a resource once classified stays so.
        mutating func add(keys added: [ResourceKey], classified: Bool) {
            for key in added {
                if let stored = keys[key] {
                    if classified && !stored { keys[key] = true }
                } else {
                    keys[key] = classified
                    bytes += Self.size(key)
                }
            }
            if !added.isEmpty { keyIndex = nil }
        }

        // MARK: Reading back

        /// Up to `limit` of the window's resources after `key`, in byte order.
        mutating func keys(after key: ResourceKey?, limit: Int) -> [(key: ResourceKey, classified: Bool)] {
            let sorted = keyIndex ?? keys.keys.sorted()
            keyIndex = sorted
            let start = key.map { Self.firstIndex(in: sorted, after: $0) } ?? 0
            return sorted[start...].prefix(max(limit, 0)).map { ($0, keys[$0] ?? false) }
        }

        /// The kept events of the resources from `first` through `last`, by (time, id).
        mutating func events(from first: ResourceKey, through last: ResourceKey) -> [ListedEvent] {
            let index = eventIndex ?? makeEventIndex()
            eventIndex = index
            let events = self.events
            let key = { (position: Int) in ResourceKey(events[position].resourceType, events[position].resourceID) }
            var found: [ListedEvent] = []
            var next = Self.firstIndex(index.count) { key(index[$0]) < first }
            while next < index.count, !(last < key(index[next])) {
                found.append(events[index[next]])
                next += 1
            }
            return found.sorted { left, right in
                left.occurredAt != right.occurredAt
                    ? left.occurredAt < right.occurredAt : ByteOrder.precedes(left.eventID, right.eventID)
            }
        }

        /// The listed resources from `first` through `last`.
        mutating func resources(from first: ResourceKey, through last: ResourceKey) -> [ResourceKey: ResourceSnapshot] {
            let sorted = listedIndex ?? makeListedIndex()
            listedIndex = sorted
            var found: [ResourceKey: ResourceSnapshot] = [:]
            var position = Self.firstIndex(in: sorted, from: first)
            while position < sorted.count, !(last < sorted[position]) {
                if let resource = resources[sorted[position]] { found[sorted[position]] = resource.snapshot }
                position += 1
            }
            return found
        }

        func counts() -> (events: Int, resources: Int) { (events.count, listedCount) }

        func knownEvents(_ ids: [String]) -> Set<ExactID> {
            Set(ids.lazy.map { ExactID($0) }.filter { positions[$0] != nil })
        }

        func money(of wanted: [ResourceKey]) -> [ResourceKey: Money] {
            var found: [ResourceKey: Money] = [:]
            for key in wanted { if let money = resources[key]?.snapshot.money { found[key] = money } }
            return found
        }

        /// Whether `id` is a kept event, and its whole when the store lacked it.
        func event(_ id: String) -> (kept: Bool, whole: ProviderEvent?) {
            let key = ExactID(id)
            return (positions[key] != nil, wholes[key])
        }

        // MARK: Order and size

        /// Positions in `events`, in byte order of their resources (each event's key made once).
        private func makeEventIndex() -> [Int] {
            let keys = events.map { ResourceKey($0.resourceType, $0.resourceID) }
            return keys.indices.sorted { keys[$0] < keys[$1] }
        }

        private func makeListedIndex() -> [ResourceKey] { resources.filter(\.value.listed).keys.sorted() }

        /// The first of `0..<count` for which `before` is false, `before` being true up to some
        /// position and false from it on.
        private static func firstIndex(_ count: Int, where before: (Int) -> Bool) -> Int {
            var low = 0
            var high = count
            while low < high {
                let middle = (low + high) / 2
                if before(middle) { low = middle + 1 } else { high = middle }
            }
            return low
        }

        /// The position of the first of `sorted` at or after `key`.
        private static func firstIndex(in sorted: [ResourceKey], from key: ResourceKey) -> Int {
            firstIndex(sorted.count) { sorted[$0] < key }
        }

        /// The position of the first of `sorted` after `key`.
        private static func firstIndex(in sorted: [ResourceKey], after key: ResourceKey) -> Int {
            let position = firstIndex(in: sorted, from: key)
            return position < sorted.count && sorted[position] == key ? position + 1 : position
        }

        /// About what a value takes in memory: a struct's fields, and the text and collections beyond them.
        ///
        /// An estimate, for the limit; the benchmarks measure the process's peak.
        static func size(_ event: ListedEvent) -> Int {
            160 + text(event.eventID) + text(event.eventType) + text(event.resourceID) + text(event.status ?? "")
        }

        static func size(_ event: ProviderEvent) -> Int { 256 + size(event.payload) + size(event.snapshot.object) }

        static func size(_ resource: Resource) -> Int {
            160 + text(resource.snapshot.resourceID) + size(resource.snapshot.object)
        }

        static func size(_ key: ResourceKey) -> Int { 64 + text(key.type) + text(key.id) }

        static func size(_ value: JSONValue) -> Int {
            switch value {
            case .object(let fields): 64 + fields.reduce(0) { $0 + 48 + text($1.key) + size($1.value) }
            case .array(let elements): 32 + elements.reduce(0) { $0 + 16 + size($1) }
            case .string(let string): text(string)
            default: 0
            }
        }

        /// Bytes a `String` takes beyond its 16: none up to 15 UTF-8 bytes, which Swift keeps inline.
        private static func text(_ string: String) -> Int {
            let count = string.utf8.count
            return count > 15 ? 32 + count : 0
        }
    }
}

/// The estimated bytes of answers that every ``HeldAnswers`` of a process may hold together.
final class HeldBudget: @unchecked Sendable {
    /// The process's: ``RunScratch/heldBytes``, whatever the number of providers read at once.
    static let shared = HeldBudget(bytes: RunScratch.heldBytes)

    private let lock = NSLock()
    private var left: Int

    init(bytes: Int) { left = bytes }

    /// Takes `bytes` if that many are left; false, taking nothing, otherwise.
    func take(_ bytes: Int) -> Bool {
        lock.withLock {
            guard bytes <= left else { return false }
            left -= bytes
            return true
        }
    }

    func give(_ bytes: Int) { lock.withLock { left += bytes } }
}
