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

    /// A read-API object with `id`, `status` and an RFC 3339 time under `updatedKey`; nil when it does not decode strictly.
    ///
    /// Strictly: `id` and `status` are non-empty strings, the time parses, and `amount`/`currency`
    /// are absent (or null) together or an integer and a currency code (see ``MoneyField``). A
    /// `"status": 7` or `"amount": "12.50"` is not a state to repair towards but a provider fault.
    public init?(object: JSONValue, resourceType: String, updatedKey: String) {
        guard object.objectValue != nil, let id = StrictFields.string(object, "id"),
            let status = StrictFields.string(object, "status"), let updated = StrictFields.time(object, updatedKey),
            case .valid(let money) = MoneyField(object)
        else { return nil }
        self.init(
            resourceType: resourceType,
            resourceID: id,
            status: status,
            updatedAt: updated,
            object: object,
            money: money
        )
    }
}

/// Strict reading of the fields a snapshot uses: the documented type, or nothing.
enum StrictFields {
    /// The non-empty string at `key`; nil when it is missing, empty, not a string, or holds a NUL.
    ///
    /// A NUL (`\u0000` in the JSON) ends a text where SQLite binds it, so two ids that differ after
    /// one would be one id in a store and two in memory; such a string is the provider's garbage,
    /// as a captured line's is (``CapturedDelivery``).
    static func string(_ object: JSONValue, _ key: String) -> String? {
        guard let text = object[key]?.stringValue, !text.isEmpty, !text.utf8.contains(0) else { return nil }
        return text
    }

    /// Whether `key` is missing or null, or holds a string: false for any other type.
    static func isOptionalString(_ object: JSONValue, _ key: String) -> Bool {
        switch object[key] {
        case nil, .null?, .string?: true
        default: false
        }
    }

    /// The RFC 3339 time at `key`; nil when it is missing, not a string or not a time.
    static func time(_ object: JSONValue, _ key: String) -> Date? {
        object[key]?.stringValue.flatMap(RFC3339.parse)
    }
}

/// What an object says about money, read strictly.
enum MoneyField: Equatable {
    /// No money (`amount` and `currency` both absent or null), or an amount in a currency.
    case valid(Money?)
    /// A wrong type, a one-sided pair, or a currency that is not three letters.
    case invalid

    init(_ object: JSONValue) {
        let amount = object["amount"].flatMap { $0 == .null ? nil : $0 }
        let currency = object["currency"].flatMap { $0 == .null ? nil : $0 }
        switch (amount, currency) {
        case (nil, nil):
            self = .valid(nil)
        case (.integer(let minor)?, .string(let code)?)
        where code.count == 3 && code.unicodeScalars.allSatisfy({ $0.isASCII && $0.properties.isAlphabetic }):
            self = .valid(Money(minorUnits: minor, currency: code.uppercased()))
        default:
            self = .invalid
        }
    }

    /// The money, when valid.
    var money: Money? {
        if case .valid(let money) = self { return money }
        return nil
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
    /// Where `payload` sits in the webhook body that carried it: an RFC 6901 JSON Pointer (`""` is
    /// the whole body, `/events/2` an event of a batch); nil for an event read from the API.
    ///
    /// The store keeps such a payload as a reference to the delivery's raw body, not a second copy.
    public var bodyPointer: String?

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
    public func subscribes(to type: String) -> Bool { EventTypes(enabledEvents).contains(type) }
}

/// An endpoint's enabled event types (`*`, exact types, `prefix.*` patterns), split once.
///
/// Asked for each listed event of a window (97,739 for the #10 world), it compares no text but
/// the prefixes: every pattern compared as text (`==`, `hasSuffix`, `hasPrefix`) took 22 ms of a
/// dry run's CPU. Types are compared as `String`s are, canonical equivalence included.
struct EventTypes: Sendable {
    let all: Bool
    let exact: Set<String>
    let prefixes: [Substring]

    init(_ patterns: [String]) {
        all = patterns.contains("*")
        exact = Set(patterns)
        prefixes = patterns.filter { $0.hasSuffix(".*") }.map { $0.dropLast() }
    }

    /// Whether `type` is `*`-enabled, enabled as such, or starts with the prefix of a `prefix.*`.
    func contains(_ type: String) -> Bool {
        all || exact.contains(type) || prefixes.contains { type.hasPrefix($0) }
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
