import Foundation

/// One Crezco event: a status change of one resource, as delivered in `{"events":[…]}` and listed by `/v1/events`.
public struct CrezcoEvent: Sendable, Hashable {
    /// The event id (`eventId`, a UUID).
    public var id: String
    /// The resource version the change produced; the event's `timestamp` is its `updatedAt`.
    public var object: CrezcoObject
    /// The webhook `version`.
    public var version: String

    /// Creates an event for the version `object`.
    public init(id: String, object: CrezcoObject, version: String = "2024-06-30") {
        self.id = id
        self.object = object
        self.version = version
    }

    /// When the change happened: always the object's `updatedAt`.
    public var timestamp: Date { object.updatedAt }

    /// The event `type`, such as `Payable`.
    public var type: String { object.kind.eventType }

    /// The event as delivered and as `/v1/events` lists it.
    ///
    /// `payload` carries `amount` and `currency` where the object has them, else `{}`.
    public var json: JSONValue {
        var payload: [JSONField] = []
        if let amount = object.amount { payload.append(JSONField("amount", .int(amount))) }
        if let currency = object.currency { payload.append(JSONField("currency", .string(currency))) }
        return .object([
            JSONField("eventId", .string(id)),
            JSONField("type", .string(type)),
            JSONField("id", .string(object.id)),
            JSONField("status", .string(object.status)),
            JSONField("timestamp", .string(RFC3339.format(timestamp, milliseconds: true))),
            JSONField("organisationId", .string(object.organisationID)),
            JSONField("version", .string(version)),
            JSONField("payload", .object(payload)),
        ])
    }

    /// The delivery body `{"events":[…]}` of `events`, in the given order.
    public static func body(_ events: [CrezcoEvent]) -> String {
        JSONValue.object([JSONField("events", .array(events.map(\.json)))]).serialized
    }
}
