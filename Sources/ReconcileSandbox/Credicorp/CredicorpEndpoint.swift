import Foundation

/// The webhook endpoint object of the partner API; it never carries the signing secret.
public struct CredicorpEndpoint: Sendable, Hashable {
    /// The endpoint id, such as `whend_3T8K1`.
    public var id: String
    /// The URL deliveries are posted to.
    public var url: String
    /// Subscribed event types; `*` subscribes to everything.
    public var enabledEvents: [String]
    /// `enabled` or `disabled`.
    public var status: String
    /// When the endpoint was registered.
    public var created: Date

    /// Creates an endpoint object.
    public init(id: String, url: String, enabledEvents: [String], status: String = "enabled", created: Date) {
        self.id = id
        self.url = url
        self.enabledEvents = enabledEvents
        self.status = status
        self.created = created
    }

    /// Whether events of `type` are delivered to this endpoint.
    public func subscribes(to type: String) -> Bool {
        enabledEvents.contains("*") || enabledEvents.contains(type)
    }

    /// The endpoint as `GET /partner/v1/webhook_endpoints/{id}` answers it.
    public var json: JSONValue {
        .object([
            JSONField("id", .string(id)),
            JSONField("url", .string(url)),
            JSONField("enabled_events", .array(enabledEvents.map { .string($0) })),
            JSONField("status", .string(status)),
            JSONField("created", .string(RFC3339.format(created))),
        ])
    }
}
