import Foundation

/// Credify's truth in the sandbox: current orders and transactions, every event it ever sent, and the API key.
///
/// Credify has no event log: ``eventsByID`` is for the oracle and tests, never served. The empty
/// world answers every request `401`.
public struct CredifyWorld: Sendable {
    /// The bearer key the read API accepts; empty accepts nothing.
    public var apiKey: String
    /// Current version of every object, by id.
    public private(set) var objects: [String: CredifyObject] = [:]
    /// Every event Credify created, by id.
    public private(set) var eventsByID: [String: CredifyEvent] = [:]

    /// Creates a world with no objects.
    public init(apiKey: String = "") {
        self.apiKey = apiKey
    }

    /// Adds an event carrying `object` and makes `object` current unless a newer version exists.
    @discardableResult
    public mutating func record(
        eventID: String,
        type: CredifyEvent.EventType,
        object: CredifyObject,
        requirementType: String? = nil
    ) -> CredifyEvent {
        let event = CredifyEvent(id: eventID, type: type, object: object, requirementType: requirementType)
        eventsByID[eventID] = event
        setObject(object)
        return event
    }

    /// Makes `object` the current version of its id unless the stored version is newer.
    public mutating func setObject(_ object: CredifyObject) {
        if let current = objects[object.id], current.updatedAt > object.updatedAt { return }
        objects[object.id] = object
    }

    /// Forgets the object `id` and every event of it.
    public mutating func removeObject(id: String) {
        objects[id] = nil
        eventsByID = eventsByID.filter { $0.value.object.id != id }
    }

    /// Current objects of `kind`, ascending by (`updated_at`, `id`).
    public func objects(of kind: CredifyObject.Kind) -> [CredifyObject] {
        objects.values.filter { $0.kind == kind }.sorted { ($0.updatedAt, $0.id) < ($1.updatedAt, $1.id) }
    }

    /// All events, ascending by (timestamp, id).
    public var allEvents: [CredifyEvent] {
        eventsByID.values.sorted { ($0.timestamp, $0.id) < ($1.timestamp, $1.id) }
    }
}

extension CredifyWorld: CustomStringConvertible, CustomDebugStringConvertible {
    /// A summary that never shows the API key.
    public var description: String {
        "CredifyWorld(objects: \(objects.count), events: \(eventsByID.count), apiKey: <redacted>)"
    }

    /// Same as ``description``.
    public var debugDescription: String { description }
}
