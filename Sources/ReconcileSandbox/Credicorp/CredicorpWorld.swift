import Foundation

/// Credicorp's truth in the sandbox: current objects, the event log, the webhook endpoint and the API key.
///
/// Build it by hand with ``record(eventID:type:object:)`` (an event and the object version it carries)
/// and ``setObject(_:)`` (a version with no event), or let ``SandboxHistory`` generate one.
public struct CredicorpWorld: Sendable {
    /// How long the read API keeps events (30 days).
    public static let eventRetention: TimeInterval = 30 * 86_400

    /// The bearer key the read API accepts.
    public var apiKey: String
    /// The webhook endpoint (`GET /partner/v1/webhook_endpoints/{id}`).
    public var endpoint: CredicorpEndpoint
    /// Current version of every object, by id.
    public private(set) var objects: [String: CredicorpObject] = [:]
    /// Every event ever created, by id, including ones past retention.
    public private(set) var eventsByID: [String: CredicorpEvent] = [:]
    /// The sorted lists, made on first use after a change: a list page of a large world (the run
    /// benchmark's, hundreds of thousands of events) would otherwise sort the whole world again.
    private var sorted = SortedLists()

    /// The sorted events and objects of one version of the world; a change to the world replaces it.
    private final class SortedLists: @unchecked Sendable {
        private let lock = NSLock()
        private var events: [CredicorpEvent]?
        private var objects: [CredicorpObject.Kind: [CredicorpObject]] = [:]

        func events(_ make: () -> [CredicorpEvent]) -> [CredicorpEvent] {
            lock.withLock {
                if let events { return events }
                let made = make()
                events = made
                return made
            }
        }

        func objects(of kind: CredicorpObject.Kind, _ make: () -> [CredicorpObject]) -> [CredicorpObject] {
            lock.withLock {
                if let kept = objects[kind] { return kept }
                let made = make()
                objects[kind] = made
                return made
            }
        }
    }

    /// Creates an empty world.
    public init(apiKey: String, endpoint: CredicorpEndpoint) {
        self.apiKey = apiKey
        self.endpoint = endpoint
    }

    /// Adds an event of `type` carrying `object` and makes `object` current unless a newer version exists.
    ///
    /// The event's `created` is `object.updated`. An existing event with the same id is replaced.
    @discardableResult
    public mutating func record(eventID: String, type: String, object: CredicorpObject) -> CredicorpEvent {
        let event = CredicorpEvent(id: eventID, type: type, object: object)
        eventsByID[eventID] = event
        sorted = SortedLists()
        setObject(object)
        return event
    }

    /// Makes `object` the current version of its id unless the stored version is newer.
    public mutating func setObject(_ object: CredicorpObject) {
        if let current = objects[object.id], current.updated > object.updated { return }
        objects[object.id] = object
        sorted = SortedLists()
    }

    /// Forgets the object `id` and every event carrying it.
    public mutating func removeObject(id: String) {
        objects[id] = nil
        eventsByID = eventsByID.filter { $0.value.object.id != id }
        sorted = SortedLists()
    }

    /// The event `id` if the read API still shows it at `now` (created within 30 days, not in the future).
    public func event(id: String, now: Date) -> CredicorpEvent? {
        guard let event = eventsByID[id], Self.isRetained(event, now: now) else { return nil }
        return event
    }

    /// Events the read API shows at `now`, ascending by (`created`, `id`).
    public func retainedEvents(now: Date) -> [CredicorpEvent] {
        allEvents.filter { Self.isRetained($0, now: now) }
    }

    /// All events of every age, ascending by (`created`, `id`).
    public var allEvents: [CredicorpEvent] {
        sorted.events { eventsByID.values.sorted { ($0.created, $0.id) < ($1.created, $1.id) } }
    }

    /// Current objects of `kind`, ascending by (`updated`, `id`).
    public func objects(of kind: CredicorpObject.Kind) -> [CredicorpObject] {
        sorted.objects(of: kind) {
            objects.values.filter { $0.kind == kind }.sorted { ($0.updated, $0.id) < ($1.updated, $1.id) }
        }
    }

    static func isRetained(_ event: CredicorpEvent, now: Date) -> Bool {
        event.created >= now.addingTimeInterval(-eventRetention) && event.created <= now
    }
}

extension CredicorpWorld: CustomStringConvertible, CustomDebugStringConvertible {
    /// A summary that never shows the API key.
    public var description: String {
        "CredicorpWorld(objects: \(objects.count), events: \(eventsByID.count), endpoint: \(endpoint.id) "
            + "\(endpoint.status), apiKey: <redacted>)"
    }

    /// Same as ``description``.
    public var debugDescription: String { description }
}
