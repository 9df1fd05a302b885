import Foundation

/// One version of a Crezco resource as the read API shows it.
///
/// `updatedAt` is a provider time, written ISO 8601 UTC with milliseconds. Money is `amount` in minor
/// units with an ISO 4217 `currency` (payables always; pay runs carry their total).
public struct CrezcoObject: Sendable, Hashable {
    /// The five Crezco resource kinds.
    public enum Kind: String, Sendable, CaseIterable {
        case payRun = "pay_run"
        case payable
        case organisation
        case bankAccount = "bank_account"
        case verification

        /// The webhook event `type` (`PayRun`, `Payable`, `OrganisationOnboarding`, `BankAccount`, `Verification`).
        public var eventType: String {
            switch self {
            case .payRun: "PayRun"
            case .payable: "Payable"
            case .organisation: "OrganisationOnboarding"
            case .bankAccount: "BankAccount"
            case .verification: "Verification"
            }
        }

        /// The kind whose events carry `type`, or `nil` for an unknown type.
        public init?(eventType: String) {
            guard let kind = Self.allCases.first(where: { $0.eventType == eventType }) else { return nil }
            self = kind
        }

        /// Whether the read API lists this kind (`/v1/payruns`, `/v1/payables`); the others are read one by one.
        public var isListable: Bool { self == .payRun || self == .payable }

        /// The read-API path of the object `id`, relative to the provider base.
        public func path(id: String) -> String {
            switch self {
            case .payRun: "/v1/payruns/\(id)"
            case .payable: "/v1/payables/\(id)"
            case .organisation: "/v1/organisations/\(id)/onboarding"
            case .bankAccount: "/v1/bank-accounts/\(id)"
            case .verification: "/v1/verifications/\(id)"
            }
        }
    }

    /// The resource kind; its raw value is the finding's resource type.
    public var kind: Kind
    /// The resource id (a UUID).
    public var id: String
    /// The status, one of the kind's statuses in providers.md (such as `Paid`).
    public var status: String
    /// When this version was made; equals the `timestamp` of the event that made it.
    public var updatedAt: Date
    /// The organisation the resource belongs to (the organisation's own id for an organisation).
    public var organisationID: String
    /// Amount in minor units (payables; pay-run totals).
    public var amount: Int64?
    /// ISO 4217 currency of `amount`.
    public var currency: String?
    /// The pay run of a payable.
    public var payRunID: String?

    /// Creates an object version.
    public init(
        kind: Kind,
        id: String,
        status: String,
        updatedAt: Date,
        organisationID: String,
        amount: Int64? = nil,
        currency: String? = nil,
        payRunID: String? = nil
    ) {
        self.kind = kind
        self.id = id
        self.status = status
        self.updatedAt = updatedAt
        self.organisationID = organisationID
        self.amount = amount
        self.currency = currency
        self.payRunID = payRunID
    }

    /// The next version of this object: a new `status` as of `updatedAt`.
    public func with(status: String, updatedAt: Date) -> CrezcoObject {
        var next = self
        next.status = status
        next.updatedAt = updatedAt
        return next
    }

    /// The object as the read API writes it.
    public var json: JSONValue {
        var members = [JSONField("id", .string(id)), JSONField("status", .string(status))]
        if let amount { members.append(JSONField("amount", .int(amount))) }
        if let currency { members.append(JSONField("currency", .string(currency))) }
        if let payRunID { members.append(JSONField("payRunId", .string(payRunID))) }
        members.append(JSONField("organisationId", .string(organisationID)))
        members.append(JSONField("updatedAt", .string(RFC3339.format(updatedAt, milliseconds: true))))
        return .object(members)
    }
}
