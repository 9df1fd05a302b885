import Crypto
import Foundation

/// The kinds of finding job.md defines.
public enum FindingKind: String, Sendable, Codable, CaseIterable, Comparable {
    case droppedEvent = "dropped_event"
    case pendingEvent = "pending_event"
    case outOfOrder = "out_of_order"
    case duplicateDelivery = "duplicate_delivery"
    case stateMismatch = "state_mismatch"
    case missingLocally = "missing_locally"
    case unknownToProvider = "unknown_to_provider"
    case invalidSignature = "invalid_signature"
    case endpointDisabled = "endpoint_disabled"

    /// Kinds a repair resolves.
    public var isRepairable: Bool { self == .droppedEvent || self == .stateMismatch || self == .missingLocally }

    public static func < (lhs: FindingKind, rhs: FindingKind) -> Bool {
        let order = FindingKind.allCases
        return order.firstIndex(of: lhs) ?? 0 < order.firstIndex(of: rhs) ?? 0
    }
}

/// One thing a run found, as report.json shows it.
public struct Finding: Sendable, Codable, Equatable {
    public var kind: FindingKind
    public var provider: String?
    public var resourceType: String?
    public var resourceID: String?
    public var eventID: String?
    public var isNew: Bool
    public var repaired: Bool
    public var details: [String: JSONValue]
    /// When an earlier complete, non-dry run first reported this finding (its `now`); this run's
    /// `now` for a new finding.
    public var firstSeen: String?
    /// Seconds from ``firstSeen`` to this run's `now`.
    public var ageSeconds: Int64?

    /// The stored delivery a delivery finding is about (not in the report).
    var deliveryID: Int64?
    /// The id read back from a stored report, which keeps it even where the key needs ``deliveryID``.
    var storedID: String?
    /// Whether local state still lacks what a repair would write (a dry run's, or `repair: false`).
    var needsRepair = false

    enum CodingKeys: String, CodingKey {
        case kind, provider, details, repaired
        case resourceType = "resource_type"
        case resourceID = "resource_id"
        case eventID = "event_id"
        case isNew = "new"
        case id
        case firstSeen = "first_seen"
        case ageSeconds = "age_seconds"
    }

    public init(
        kind: FindingKind,
        provider: String?,
        resourceType: String?,
        resourceID: String?,
        eventID: String?,
        details: [String: JSONValue],
        deliveryID: Int64? = nil
    ) {
        self.kind = kind
        self.provider = provider
        self.resourceType = resourceType
        self.resourceID = resourceID
        self.eventID = eventID
        self.isNew = true
        self.repaired = false
        self.details = details
        self.deliveryID = deliveryID
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        kind = try container.decode(FindingKind.self, forKey: .kind)
        provider = try container.decodeIfPresent(String.self, forKey: .provider)
        resourceType = try container.decodeIfPresent(String.self, forKey: .resourceType)
        resourceID = try container.decodeIfPresent(String.self, forKey: .resourceID)
        eventID = try container.decodeIfPresent(String.self, forKey: .eventID)
        isNew = try container.decode(Bool.self, forKey: .isNew)
        repaired = try container.decode(Bool.self, forKey: .repaired)
        details = try container.decode([String: JSONValue].self, forKey: .details)
        firstSeen = try container.decodeIfPresent(String.self, forKey: .firstSeen)
        ageSeconds = try container.decodeIfPresent(Int64.self, forKey: .ageSeconds)
        storedID = try container.decodeIfPresent(String.self, forKey: .id)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(kind, forKey: .kind)
        try container.encode(provider, forKey: .provider)
        try container.encode(resourceType, forKey: .resourceType)
        try container.encode(resourceID, forKey: .resourceID)
        try container.encode(eventID, forKey: .eventID)
        try container.encode(isNew, forKey: .isNew)
        try container.encode(repaired, forKey: .repaired)
        try container.encode(details, forKey: .details)
        try container.encode(id, forKey: .id)
        try container.encodeIfPresent(firstSeen, forKey: .firstSeen)
        try container.encodeIfPresent(ageSeconds, forKey: .ageSeconds)
    }

    /// The finding as report.json writes it: what ``encode(to:)`` encodes, as a value.
    var jsonValue: JSONValue {
        var fields: [String: JSONValue] = [
            "kind": .string(kind.rawValue),
            "provider": provider.map(JSONValue.string) ?? .null,
            "resource_type": resourceType.map(JSONValue.string) ?? .null,
            "resource_id": resourceID.map(JSONValue.string) ?? .null,
            "event_id": eventID.map(JSONValue.string) ?? .null,
            "new": .bool(isNew),
            "repaired": .bool(repaired),
            "details": .object(details),
            "id": .string(id),
        ]
        if let firstSeen { fields["first_seen"] = .string(firstSeen) }
        if let ageSeconds { fields["age_seconds"] = .integer(ageSeconds) }
        return .object(fields)
    }

    /// A stable id: the same finding (see ``key``) has the same id in every run of a store.
    public var id: String { storedID ?? Self.id(ofKey: key) }

    static func id(ofKey key: String) -> String {
        "f_" + Hex.lowercase(SHA256.hash(data: Data(key.utf8)).prefix(8))
    }

    /// What makes two findings of different runs "the same": kind, provider and the event,
    /// delivery or resource it is about.
    public var key: String {
        let subject: String
        switch kind {
        case .invalidSignature:
            subject = "delivery:\(deliveryID.map(String.init) ?? eventID ?? "?")"
        case .droppedEvent, .pendingEvent, .outOfOrder, .duplicateDelivery:
            subject = "event:\(eventID ?? "?")"
        case .unknownToProvider where eventID != nil:
            subject = "event:\(eventID ?? "?")"
        default:
            subject = "resource:\(resourceType ?? "?")/\(resourceID ?? "?")"
        }
        return "\(kind.rawValue)|\(provider ?? "")|\(subject)"
    }

    /// Whether local state still lacks what a repair would write, read from the finding itself.
    ///
    /// The same as ``needsRepair`` while the run holds it, and still known from a stored report:
    /// a repairable kind, not repaired, and not a local row newer than the provider's answer.
    public var awaitsRepair: Bool {
        kind.isRepairable && !repaired && details["local_is_newer"] != .bool(true)
    }

    /// Why the finding needs a person, or nil: the one rule behind exit status 1 and report.md's "Needs you".
    ///
    /// A new disabled endpoint; a new invalid signature or unknown event; a difference awaiting
    /// repair, when new or when the run repairs nothing (`repairing` false: a dry run, `repair:
    /// false`). What an earlier run already reported does not ask again, so cron alerts once.
    public func attention(repairing: Bool) -> Attention? {
        switch kind {
        case .endpointDisabled: return isNew ? .endpointDisabled : nil
        case .invalidSignature, .unknownToProvider: return isNew ? .forgedOrUnknown : nil
        case .droppedEvent, .stateMismatch, .missingLocally:
            return awaitsRepair && (isNew || !repairing) ? .unrepaired : nil
        default: return nil
        }
    }

    /// What a person must look at, most severe first.
    public enum Attention: Int, CaseIterable, Sendable, Comparable {
        case endpointDisabled
        case forgedOrUnknown
        case unrepaired

        public static func < (lhs: Attention, rhs: Attention) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    /// The money a finding is about, when its details carry an amount and currency.
    public var money: Money? {
        guard let amount = details["amount"]?.integerValue, let currency = details["currency"]?.stringValue else {
            return nil
        }
        return Money(minorUnits: amount, currency: currency)
    }

    /// Orders findings for reports: by kind, provider, resource, event.
    static func reportOrder(_ lhs: Finding, _ rhs: Finding) -> Bool {
        if lhs.kind != rhs.kind { return lhs.kind < rhs.kind }
        // Byte by byte (UTF-8), as the stores order text: two spellings of one accented id are two
        // findings, in one order on every run.
        var order = ByteOrder.compare(lhs.provider, rhs.provider)
        if order == 0 { order = ByteOrder.compare(lhs.resourceType, rhs.resourceType) }
        if order == 0 { order = ByteOrder.compare(lhs.resourceID, rhs.resourceID) }
        if order == 0 { order = ByteOrder.compare(lhs.eventID, rhs.eventID) }
        return order != 0 ? order < 0 : (lhs.deliveryID ?? 0) < (rhs.deliveryID ?? 0)
    }
}
