import Foundation

/// How Credify's deliveries and objects map onto the contract's resources.
enum CredifyEventMapping {
    /// Resource types, their list paths, the answer's array key and the path of one object.
    static let lists: [(resourceType: String, path: String, key: String)] = [
        ("bnpl_order", "/v1/bnpl/orders", "orders"), ("offer_transaction", "/v1/offers/transactions", "transactions"),
    ]

    static let eventTypes: [String: String] = [
        "OFFER_TRANSACTION_STATUS_UPDATED": "offer_transaction", "DISPUTE_COMPLETED": "offer_transaction",
        "BNPL_ORDER_STATUS_UPDATED": "bnpl_order", "BNPL_DISBURSEMENT_STATUS_UPDATED": "bnpl_order",
    ]

    static func listPath(of resourceType: String) -> String? {
        lists.first { $0.resourceType == resourceType }?.path
    }

    /// An object of the read API; nil when it lacks `id`, `status` or `updated_at`.
    static func snapshot(object: JSONValue, resourceType: String) -> ResourceSnapshot? {
        ResourceSnapshot(object: object, resourceType: resourceType, updatedKey: "updated_at")
    }

    /// The event a verified delivery carries: id and time from the headers, the change from the body.
    ///
    /// A disbursement event carries no status: its snapshot has `status` nil and only
    /// `disbursement[requirement]` in its object (see ``CredifyAdapter/applying(_:to:)``).
    static func event(body: JSONValue, eventID: String, timestamp: Date) -> ProviderEvent? {
        guard body.objectValue != nil, let type = body["type"]?.stringValue, let resourceType = eventTypes[type]
        else { return nil }
        var object: [String: JSONValue] = [:]
        let id: String?
        var status: String?
        switch type {
        case "BNPL_ORDER_STATUS_UPDATED":
            id = StrictFields.string(body, "order_id")
            status = body["order_status"]?.stringValue
            guard status != nil else { return nil }
        case "BNPL_DISBURSEMENT_STATUS_UPDATED":
            id = StrictFields.string(body, "order_id")
            guard let requirement = body["requirement_type"]?.stringValue, !requirement.isEmpty,
                let fromProvider = body["from_provider"]?.boolValue, let fulfilled = body["is_fulfilled"]?.boolValue
            else { return nil }
            object["disbursement"] = .object([
                requirement: .object(["from_provider": .bool(fromProvider), "is_fulfilled": .bool(fulfilled)])
            ])
        default:
            id = StrictFields.string(body, "transaction_id")
            status = body["transaction_status"]?.stringValue
            guard status != nil else { return nil }
            guard StrictFields.isOptionalString(body, "credify_id"), StrictFields.isOptionalString(body, "offer_code")
            else { return nil }
            if let credifyID = body["credify_id"] { object["credify_id"] = credifyID }
            if let offerCode = body["offer_code"] { object["offer_code"] = offerCode }
        }
        // Empty, or holding a NUL (which ends a text where SQLite binds it): garbage (`StrictFields`).
        guard let id else { return nil }
        object["id"] = .string(id)
        if let status { object["status"] = .string(status) }
        return ProviderEvent(
            eventID: eventID,
            eventType: type,
            snapshot: ResourceSnapshot(
                resourceType: resourceType,
                resourceID: id,
                status: status,
                updatedAt: timestamp,
                object: .object(object),
                money: nil
            ),
            payload: body
        )
    }

    /// What an unverified delivery names, for `invalid_signature` findings.
    static func hint(body: Data, eventID: String?) -> ResourceHint? {
        let json = JSONValue.parse(body)
        let type = json?["type"]?.stringValue
        return ResourceHint(
            eventID: eventID,
            resourceType: type.flatMap { eventTypes[$0] },
            resourceID: json?["order_id"]?.stringValue ?? json?["transaction_id"]?.stringValue
        )
    }
}
