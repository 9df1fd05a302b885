import Foundation

/// One Credicorp event: its envelope carries the object as it was when the event was created.
public struct CredicorpEvent: Sendable, Hashable {
    /// The event id, such as `evt_7Q2M9X`; also the `webhook-id` of its deliveries.
    public var id: String
    /// The event type, such as `payment.succeeded`.
    public var type: String
    /// The object version the event carries (`data.object`).
    public var object: CredicorpObject
    /// `livemode` of the envelope; the sandbox writes `false` unless told otherwise.
    public var livemode: Bool
    /// `api_version` of the envelope.
    public var apiVersion: String

    /// Creates an event carrying `object`; the event's `created` is `object.updated`.
    public init(
        id: String,
        type: String,
        object: CredicorpObject,
        livemode: Bool = false,
        apiVersion: String = "2026-07-01"
    ) {
        self.id = id
        self.type = type
        self.object = object
        self.livemode = livemode
        self.apiVersion = apiVersion
    }

    /// When the event was created: always the carried object's `updated`.
    public var created: Date { object.updated }

    /// The envelope as delivered and as the read API answers it.
    public var json: JSONValue {
        .object([
            JSONField("id", .string(id)),
            JSONField("type", .string(type)),
            JSONField("created", .string(RFC3339.format(created))),
            JSONField("livemode", .bool(livemode)),
            JSONField("api_version", .string(apiVersion)),
            JSONField("data", .object([JSONField("object", object.json)])),
        ])
    }

    /// The raw delivery body: the compact envelope text.
    public var body: String { json.serialized }
}
