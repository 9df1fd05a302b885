import Foundation

/// A finding a correct reconciler must report for a generated history (the oracle's answer).
///
/// Compare on `kind`, `resourceType`, `resourceID` and, where set, `eventID`. `at` is the time that
/// decides whether a run window `[since, until)` covers the finding (the event's provider time for
/// event findings, the resource's `updated` for resource findings, `received_at` for delivery
/// findings); it is `nil` where no time applies (`endpoint_disabled`, a line that does not parse).
public struct SandboxExpectedFinding: Sendable, Hashable {
    /// Finding kinds of job.md, spelled as in the report.
    public enum Kind: String, Sendable, CaseIterable {
        case droppedEvent = "dropped_event"
        case pendingEvent = "pending_event"
        case outOfOrder = "out_of_order"
        case duplicateDelivery = "duplicate_delivery"
        case stateMismatch = "state_mismatch"
        case missingLocally = "missing_locally"
        case unknownToProvider = "unknown_to_provider"
        case invalidSignature = "invalid_signature"
        case endpointDisabled = "endpoint_disabled"
    }

    /// What was found.
    public var kind: Kind
    /// The provider entry name, such as `credicorp`.
    public var provider: String
    /// `enquiry`, `decision`, `payment` or `webhook_endpoint`; `nil` for an unparsable line.
    public var resourceType: String?
    /// The resource id; `nil` for an unparsable line.
    public var resourceID: String?
    /// The event id where the finding has one.
    public var eventID: String?
    /// `state_mismatch` cause: `dropped_event`, `pending_event` or `unknown`.
    public var cause: String?
    /// `invalid_signature` reason: `bad_signature`, `stale_timestamp`, `missing_signature` or `malformed`.
    public var reason: String?
    /// `duplicate_delivery`: how many valid deliveries.
    public var deliveries: Int?
    /// The time that places the finding in a run window.
    public var at: Date?

    /// Creates an expected finding.
    public init(
        kind: Kind,
        provider: String,
        resourceType: String?,
        resourceID: String?,
        eventID: String? = nil,
        cause: String? = nil,
        reason: String? = nil,
        deliveries: Int? = nil,
        at: Date?
    ) {
        self.kind = kind
        self.provider = provider
        self.resourceType = resourceType
        self.resourceID = resourceID
        self.eventID = eventID
        self.cause = cause
        self.reason = reason
        self.deliveries = deliveries
        self.at = at
    }
}
