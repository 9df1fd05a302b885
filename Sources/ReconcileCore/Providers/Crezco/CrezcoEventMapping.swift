import Foundation

/// How Crezco's events and objects map onto the contract's resources.
enum CrezcoEventMapping {
    /// Event `type` → resource type, and the path that reads one resource under `/v1`.
    static let kinds: [(eventType: String, resourceType: String, path: @Sendable (String) -> String)] = [
        ("PayRun", "pay_run", { "/v1/payruns/\($0)" }),
        ("Payable", "payable", { "/v1/payables/\($0)" }),
        ("OrganisationOnboarding", "organisation", { "/v1/organisations/\($0)/onboarding" }),
        ("BankAccount", "bank_account", { "/v1/bank-accounts/\($0)" }),
        ("Verification", "verification", { "/v1/verifications/\($0)" }),
    ]

    /// The listable kinds: resource type, list path and the answer's array key.
    static let lists: [(resourceType: String, path: String, key: String)] = [
        ("pay_run", "/v1/payruns", "payRuns"), ("payable", "/v1/payables", "payables"),
    ]

    static func resourceType(ofEventType type: String) -> String? {
        kinds.first { $0.eventType == type }?.resourceType
    }

    static func path(of resourceType: String, id: String) -> String? {
        kinds.first { $0.resourceType == resourceType }?.path(id)
    }

    /// An object of the read API; nil when it lacks `id`, `status` or `updatedAt`.
    static func snapshot(object: JSONValue, resourceType: String) -> ResourceSnapshot? {
        ResourceSnapshot(object: object, resourceType: resourceType, updatedKey: "updatedAt")
    }

    /// One event of a delivery or of the events list; nil when it does not decode strictly.
    ///
    /// `eventId`, `type`, `id`, `status` and `timestamp` are required strings, `organisationId`
    /// a string when present, `payload` an object when present, and its money reads by ``MoneyField``.
    static func event(_ json: JSONValue) -> ProviderEvent? {
        guard json.objectValue != nil, let eventID = StrictFields.string(json, "eventId"),
            let type = StrictFields.string(json, "type"), let resourceType = resourceType(ofEventType: type),
            let id = StrictFields.string(json, "id"), let status = StrictFields.string(json, "status"),
            let text = json["timestamp"]?.stringValue, let timestamp = RFC3339.parse(text),
            StrictFields.isOptionalString(json, "organisationId")
        else { return nil }
        let payload = json["payload"] ?? .object([:])
        guard let fields = payload.objectValue, case .valid(let money) = MoneyField(payload) else { return nil }
        var object: [String: JSONValue] = ["id": .string(id), "status": .string(status), "updatedAt": .string(text)]
        if let organisation = json["organisationId"] { object["organisationId"] = organisation }
        for (key, value) in fields where object[key] == nil { object[key] = value }
        return ProviderEvent(
            eventID: eventID,
            eventType: type,
            snapshot: ResourceSnapshot(
                resourceType: resourceType,
                resourceID: id,
                status: status,
                updatedAt: timestamp,
                object: .object(object),
                money: money
            ),
            payload: json
        )
    }

    /// Whether `item` is an event of a type outside the catalogue: a newer kind, not ours to reconcile.
    static func isNewerKind(_ item: JSONValue) -> Bool {
        guard let type = item["type"]?.stringValue, item["eventId"]?.stringValue != nil else { return false }
        return resourceType(ofEventType: type) == nil
    }

    /// The events of a delivery body `{"events":[…]}`; nil when an item is neither an event nor a newer kind.
    ///
    /// An item of a type outside the catalogue (a newer kind of event) is skipped, as the reader
    /// skips it: the rest of a validly signed batch still counts.
    static func events(body: Data) -> [ProviderEvent]? {
        guard let items = JSONValue.parse(body)?["events"]?.arrayValue, !items.isEmpty else { return nil }
        var events: [ProviderEvent] = []
        for (index, item) in items.enumerated() {
            if var event = event(item) {
                event.bodyPointer = "/events/\(index)"
                events.append(event)
            } else if isNewerKind(item) {
                continue
            } else {
                return nil
            }
        }
        return events
    }

    /// What an unverified body names (its first event), for `invalid_signature` findings.
    static func hint(body: Data) -> ResourceHint? {
        guard let first = JSONValue.parse(body)?["events"]?.arrayValue?.first else { return nil }
        return ResourceHint(
            eventID: first["eventId"]?.stringValue,
            resourceType: first["type"]?.stringValue.flatMap(resourceType(ofEventType:)),
            resourceID: first["id"]?.stringValue
        )
    }
}
