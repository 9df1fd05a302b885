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
    static func resourceType(ofEventType type: String) -> String? {
        guard let prefix = type.split(separator: ".").first else { return nil }
        return path(of: String(prefix)) == nil ? nil : String(prefix)
    }

    /// Decodes an object (`data.object` or a read API answer); nil when it lacks the documented fields.
    static func snapshot(object: JSONValue, expectedType: String?) -> ResourceSnapshot? {
        guard let id = object["id"]?.stringValue, !id.isEmpty,
            let type = object["object"]?.stringValue ?? expectedType, path(of: type) != nil,
            expectedType == nil || expectedType == type,
            let updatedText = object["updated"]?.stringValue, let updated = RFC3339.parse(updatedText)
        else { return nil }
        let status = object["status"]?.stringValue
        return ResourceSnapshot(
            resourceType: type,
            resourceID: id,
            status: status,
            updatedAt: updated,
            object: object,
            money: Money(object: object)
        )
    }

    /// Decodes an event envelope; nil when it is not one.
    static func event(_ envelope: JSONValue) -> ProviderEvent? {
        guard let id = envelope["id"]?.stringValue, !id.isEmpty, let type = envelope["type"]?.stringValue,
            let createdText = envelope["created"]?.stringValue, let created = RFC3339.parse(createdText),
            let object = envelope["data"]?["object"], let resourceType = resourceType(ofEventType: type)
        else { return nil }
        guard var snapshot = snapshot(object: object, expectedType: nil) ?? partialSnapshot(object, type: resourceType)
        else { return nil }
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
    private static func partialSnapshot(_ object: JSONValue, type: String) -> ResourceSnapshot? {
        guard let id = object["id"]?.stringValue, !id.isEmpty, object.objectValue != nil else { return nil }
        return ResourceSnapshot(
            resourceType: type,
            resourceID: id,
            status: object["status"]?.stringValue,
            updatedAt: Date.distantPast,
            object: object,
            money: Money(object: object)
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
