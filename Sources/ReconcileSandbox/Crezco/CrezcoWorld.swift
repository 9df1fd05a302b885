import Foundation

/// Crezco's truth in the sandbox: current objects, the event log, the webhook public keys and the API key.
///
/// Build it by hand with ``record(eventID:object:)`` and ``setObject(_:)``, or let ``SandboxHistory``
/// generate one. The empty world answers every request `401`.
public struct CrezcoWorld: Sendable {
    /// How long the read API keeps events (30 days).
    public static let eventRetention: TimeInterval = 30 * 86_400

    /// The `X-Crezco-Key` the read API accepts; empty accepts nothing.
    public var apiKey: String
    /// Webhook signing public keys by key id: SPKI PEM of P-256 keys.
    public var publicKeys: [String: String]
    /// Current version of every object, by id.
    public private(set) var objects: [String: CrezcoObject] = [:]
    /// Every event ever created, by id, including ones past retention.
    public private(set) var eventsByID: [String: CrezcoEvent] = [:]

    /// Creates a world with no objects or events.
    public init(apiKey: String = "", publicKeys: [String: String] = [:]) {
        self.apiKey = apiKey
        self.publicKeys = publicKeys
    }

    /// Adds an event carrying `object` and makes `object` current unless a newer version exists.
    @discardableResult
    public mutating func record(eventID: String, object: CrezcoObject) -> CrezcoEvent {
        let event = CrezcoEvent(id: eventID, object: object)
        eventsByID[eventID] = event
        setObject(object)
        return event
    }

    /// Makes `object` the current version of its id unless the stored version is newer.
    public mutating func setObject(_ object: CrezcoObject) {
        if let current = objects[object.id], current.updatedAt > object.updatedAt { return }
        objects[object.id] = object
    }

    /// Forgets the object `id` and every event of it.
    public mutating func removeObject(id: String) {
        objects[id] = nil
        eventsByID = eventsByID.filter { $0.value.object.id != id }
    }

    /// Events `/v1/events` shows at `now` (timestamp within 30 days, not in the future), by (`timestamp`, `eventId`).
    public func retainedEvents(now: Date) -> [CrezcoEvent] {
        let oldest = now.addingTimeInterval(-Self.eventRetention).sandboxMillis
        let newest = now.sandboxMillis
        return allEvents.filter { (oldest...newest).contains($0.timestamp.sandboxMillis) }
    }

    /// All events of every age, ascending by (`timestamp`, `eventId`).
    public var allEvents: [CrezcoEvent] {
        eventsByID.values.sorted { ($0.timestamp, $0.id) < ($1.timestamp, $1.id) }
    }

    /// Current objects of `kind`, ascending by (`updatedAt`, `id`).
    public func objects(of kind: CrezcoObject.Kind) -> [CrezcoObject] {
        objects.values.filter { $0.kind == kind }.sorted { ($0.updatedAt, $0.id) < ($1.updatedAt, $1.id) }
    }

    /// The current object `id` if it is of `kind`.
    public func object(_ kind: CrezcoObject.Kind, id: String) -> CrezcoObject? {
        objects[id].flatMap { $0.kind == kind ? $0 : nil }
    }
}

extension CrezcoWorld: CustomStringConvertible, CustomDebugStringConvertible {
    /// A summary that never shows the API key.
    public var description: String {
        "CrezcoWorld(objects: \(objects.count), events: \(eventsByID.count), publicKeys: \(publicKeys.keys.sorted()), "
            + "apiKey: <redacted>)"
    }

    /// Same as ``description``.
    public var debugDescription: String { description }
}
