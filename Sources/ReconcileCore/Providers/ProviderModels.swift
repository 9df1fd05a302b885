import Foundation

/// A provider resource's state as the provider (or an event it sent) describes it.
public struct ResourceSnapshot: Sendable, Equatable {
    /// The contract's resource type, such as `payment`, `payable` or `bnpl_order`.
    public var resourceType: String
    public var resourceID: String
    /// The provider's status, or nil when the state carries none (Credify disbursement-only rows).
    public var status: String?
    /// The provider time this state reflects.
    public var updatedAt: Date
    /// The whole object as JSON.
    public var object: JSONValue
    /// Amount and currency, for money-moving resources.
    public var money: Money?

    public init(
        resourceType: String,
        resourceID: String,
        status: String?,
        updatedAt: Date,
        object: JSONValue,
        money: Money?
    ) {
        self.resourceType = resourceType
        self.resourceID = resourceID
        self.status = status
        self.updatedAt = updatedAt
        self.object = object
        self.money = money
    }

    /// A read-API object with `id`, `status` and an RFC 3339 time under `updatedKey`; nil when one is missing.
    public init?(object: JSONValue, resourceType: String, updatedKey: String) {
        guard let id = object["id"]?.stringValue, !id.isEmpty, let status = object["status"]?.stringValue,
            let updatedText = object[updatedKey]?.stringValue, let updated = RFC3339.parse(updatedText)
        else { return nil }
        self.init(
            resourceType: resourceType,
            resourceID: id,
            status: status,
            updatedAt: updated,
            object: object,
            money: Money(object: object)
        )
    }
}

/// One event as the provider describes it, normalised across providers.
public struct ProviderEvent: Sendable, Equatable {
    public var eventID: String
    public var eventType: String
    public var resourceType: String
    public var resourceID: String
    /// The provider time that orders the events of one resource.
    public var occurredAt: Date
    /// The state of the resource the event carries.
    public var snapshot: ResourceSnapshot
    /// The event as JSON, for the audit trail.
    public var payload: JSONValue

    public init(
        eventID: String,
        eventType: String,
        resourceType: String,
        resourceID: String,
        occurredAt: Date,
        snapshot: ResourceSnapshot,
        payload: JSONValue
    ) {
        self.eventID = eventID
        self.eventType = eventType
        self.resourceType = resourceType
        self.resourceID = resourceID
        self.occurredAt = occurredAt
        self.snapshot = snapshot
        self.payload = payload
    }

    /// An event that carries `snapshot`, ordered by the snapshot's provider time.
    public init(eventID: String, eventType: String, snapshot: ResourceSnapshot, payload: JSONValue) {
        self.init(
            eventID: eventID,
            eventType: eventType,
            resourceType: snapshot.resourceType,
            resourceID: snapshot.resourceID,
            occurredAt: snapshot.updatedAt,
            snapshot: snapshot,
            payload: payload
        )
    }
}

/// What a provider's webhook endpoint looks like from its read API.
public struct EndpointStatus: Sendable, Equatable {
    public var id: String
    /// The endpoint status, such as `enabled` or `disabled`.
    public var status: String
    /// Event types the endpoint is subscribed to; `*` means every type.
    public var enabledEvents: [String]

    public var isEnabled: Bool { status == "enabled" }

    /// Whether the endpoint receives events of `type`.
    public func subscribes(to type: String) -> Bool {
        enabledEvents.contains { pattern in
            pattern == "*" || pattern == type || (pattern.hasSuffix(".*") && type.hasPrefix(pattern.dropLast()))
        }
    }
}

/// A local row of `resourceState`: our view of one provider resource.
public struct LocalResource: Sendable, Equatable {
    public var resourceType: String
    public var resourceID: String
    public var status: String?
    /// The provider time this row reflects.
    public var asOf: Date
    public var object: JSONValue
    public var money: Money?

    public init(snapshot: ResourceSnapshot) {
        resourceType = snapshot.resourceType
        resourceID = snapshot.resourceID
        status = snapshot.status
        asOf = snapshot.updatedAt
        object = snapshot.object
        money = snapshot.money
    }

    public init(resourceType: String, resourceID: String, status: String?, asOf: Date, object: JSONValue, money: Money?)
    {
        self.resourceType = resourceType
        self.resourceID = resourceID
        self.status = status
        self.asOf = asOf
        self.object = object
        self.money = money
    }
}

extension Money {
    /// The `amount` (integer minor units) and `currency` of a JSON object, when it has both.
    public init?(object: JSONValue) {
        guard let amount = object["amount"]?.integerValue, let currency = object["currency"]?.stringValue,
            !currency.isEmpty
        else { return nil }
        self.init(minorUnits: amount, currency: currency.uppercased())
    }
}
