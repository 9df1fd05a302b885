import Foundation

/// A finding a correct reconciler must report for a generated history (the oracle's answer).
///
/// Compare on `kind`, `resourceType`, `resourceID` and, where set, `eventID`. `at` is the time that
/// decides whether a run window `[since, until)` covers the finding (the event's provider time for
/// event findings, the resource's `updated`/`updatedAt`/`updated_at` for resource findings,
/// `received_at` for delivery findings); it is `nil` where no time applies (`endpoint_disabled`, a
/// line that does not parse). Crezco organisations, bank accounts and verifications cannot be
/// listed, so a run finds them through their events: their resource findings also carry
/// `windowTimes`, and a window covers them when it holds `at` or any of those. Use
/// ``isCovered(since:until:)``.
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
    /// The resource type, `nil` for an unparsable line: Credicorp `enquiry`, `decision`, `payment`,
    /// `webhook_endpoint`; Crezco `pay_run`, `payable`, `organisation`, `bank_account`, `verification`;
    /// Credify `bnpl_order`, `offer_transaction`.
    public var resourceType: String?
    /// The resource id; `nil` for an unparsable line.
    public var resourceID: String?
    /// The event id where the finding has one.
    public var eventID: String?
    /// `state_mismatch` (and, for Crezco and Credify, `missing_locally`) cause: `dropped_event`,
    /// `pending_event`, `out_of_order` or `unknown`.
    public var cause: String?
    /// `invalid_signature` reason: `bad_signature`, `stale_timestamp`, `unknown_key_id` (Crezco),
    /// `missing_signature` or `malformed`.
    public var reason: String?
    /// `duplicate_delivery`: how many valid deliveries.
    public var deliveries: Int?
    /// The time that places the finding in a run window.
    public var at: Date?
    /// Further times that also place the finding in a window (the provider events of a non-listable
    /// Crezco resource); empty for most findings.
    public var windowTimes: [Date]

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
        at: Date?,
        windowTimes: [Date] = []
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
        self.windowTimes = windowTimes
    }

    /// Whether a run over `[since, until)` reports this finding: `at` or one of `windowTimes` lies in
    /// the window, or the finding has no time at all.
    public func isCovered(since: Date, until: Date) -> Bool {
        guard let at else { return true }
        return ([at] + windowTimes).contains { $0 >= since && $0 < until }
    }
}
