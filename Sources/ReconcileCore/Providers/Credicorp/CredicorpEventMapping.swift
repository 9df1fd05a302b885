import Foundation

/// How Credicorp's events and objects map onto the contract's resources.
enum CredicorpEventMapping {
    /// Resource types and their list paths under `/public/v1`.
    static let listPaths: [(resourceType: String, path: String)] = [
        ("enquiry", "enquiries"), ("decision", "decisions"), ("payment", "payments"),
    ]

    static func path(of resourceType: String) -> String? {
        listPaths.first { $0.resourceType == resourceType }?.path
    }

    /// `payment.succeeded` → `payment`; nil for a type outside the catalogue.
    ///
    /// The first part between dots that is not empty, as `split(separator: ".").first` gives it.
    /// An ASCII type (every type of the catalogue) is read on its bytes, without splitting it: this
    /// runs for every listed event. Another is split by characters, where a dot followed by a
    /// combining mark is no dot.
    static func resourceType(ofEventType type: String) -> String? {
        guard type.utf8.allSatisfy({ $0 < 0x80 }) else {
            guard let prefix = type.split(separator: ".").first else { return nil }
            return path(of: String(prefix)) == nil ? nil : String(prefix)
        }
        let prefix = type.utf8.drop { $0 == UInt8(ascii: ".") }.prefix { $0 != UInt8(ascii: ".") }
        return listPaths.first { $0.resourceType.utf8.elementsEqual(prefix) }?.resourceType
    }

    /// Decodes an object (`data.object` or a read API answer); nil when it does not decode strictly.
    ///
    /// `id`, `status` and `updated` are required with their documented types, `object` (when
    /// present) is a string naming a known type, and money is read by ``MoneyField``.
    static func snapshot(object: JSONValue, expectedType: String?) -> ResourceSnapshot? {
        guard object.objectValue != nil, let id = StrictFields.string(object, "id"),
            StrictFields.isOptionalString(object, "object"),
            let type = object["object"]?.stringValue ?? expectedType, path(of: type) != nil,
            expectedType == nil || expectedType == type,
            let status = StrictFields.string(object, "status"), let updated = StrictFields.time(object, "updated"),
            case .valid(let money) = MoneyField(object)
        else { return nil }
        return ResourceSnapshot(
            resourceType: type,
            resourceID: id,
            status: status,
            updatedAt: updated,
            object: object,
            money: money
        )
    }

    /// Decodes an event envelope; nil when it is not one.
    static func event(_ envelope: JSONValue) -> ProviderEvent? {
        guard envelope.objectValue != nil, let id = StrictFields.string(envelope, "id"),
            let type = StrictFields.string(envelope, "type"), let created = StrictFields.time(envelope, "created"),
            let object = envelope["data"]?["object"], let resourceType = resourceType(ofEventType: type)
        else { return nil }
        let full = object["updated"] != nil || object["object"] != nil
        let decoded =
            full ? snapshot(object: object, expectedType: resourceType) : partialSnapshot(object, type: resourceType)
        guard var snapshot = decoded else { return nil }
        // The event's own time orders it; `event.created == object.updated` by contract.
        snapshot.updatedAt = created
        return ProviderEvent(
            eventID: id,
            eventType: type,
            resourceType: snapshot.resourceType,
            resourceID: snapshot.resourceID,
            occurredAt: created,
            snapshot: snapshot,
            payload: envelope
        )
    }

    /// The seed's example objects omit `object` and `updated`: accept them with the type from the event.
    ///
    /// The fields they do carry are still read strictly: `id` a string, `status` a string when
    /// present, money by ``MoneyField``.
    private static func partialSnapshot(_ object: JSONValue, type: String) -> ResourceSnapshot? {
        guard object.objectValue != nil, let id = StrictFields.string(object, "id"),
            StrictFields.isOptionalString(object, "status"), case .valid(let money) = MoneyField(object)
        else { return nil }
        return ResourceSnapshot(
            resourceType: type,
            resourceID: id,
            status: object["status"]?.stringValue,
            updatedAt: Date.distantPast,
            object: object,
            money: money
        )
    }

    /// What an unverified body names, for `invalid_signature` findings.
    static func hint(body: Data) -> ResourceHint? {
        guard let envelope = JSONValue.parse(body), envelope.objectValue != nil else { return nil }
        let object = envelope["data"]?["object"]
        return ResourceHint(
            eventID: envelope["id"]?.stringValue,
            resourceType: envelope["type"]?.stringValue.flatMap(resourceType(ofEventType:)),
            resourceID: object?["id"]?.stringValue
        )
    }
}
