import Foundation

/// One version of a Credify resource (a BNPL order or an offer transaction) as the read API shows it.
///
/// `updatedAt` is the provider's `updated_at`: the time of the change that made this version (a
/// status change or, for orders, a disbursement requirement change), RFC 3339 UTC with milliseconds
/// on the wire. Money is `amount` in minor units with an ISO 4217 `currency` (orders).
public struct CredifyObject: Sendable, Hashable {
    /// The two Credify resource kinds; the raw value is the finding's resource type.
    public enum Kind: String, Sendable, CaseIterable {
        case bnplOrder = "bnpl_order"
        case offerTransaction = "offer_transaction"

        /// The read-API collection path relative to the provider base.
        public var collectionPath: String {
            switch self {
            case .bnplOrder: "/v1/bnpl/orders"
            case .offerTransaction: "/v1/offers/transactions"
            }
        }

        /// The list member holding the rows (`orders`, `transactions`).
        var listMember: String {
            switch self {
            case .bnplOrder: "orders"
            case .offerTransaction: "transactions"
            }
        }
    }

    /// One disbursement requirement of an order.
    public struct Disbursement: Sendable, Hashable {
        /// `true` when the proof of disbursement comes from the financial institution.
        public var fromProvider: Bool
        /// `true` when every disbursement requirement is fulfilled.
        public var isFulfilled: Bool

        /// Creates a requirement state.
        public init(fromProvider: Bool, isFulfilled: Bool) {
            self.fromProvider = fromProvider
            self.isFulfilled = isFulfilled
        }
    }

    /// Requirement types in the order the API writes them.
    public static let requirementTypes = ["INVOICE", "DOWN_PAYMENT", "FIRST_PAYMENT", "DELIVERY"]

    /// The resource kind.
    public var kind: Kind
    /// The resource id (a UUID).
    public var id: String
    /// Order `PENDING|APPROVED|PAID|CANCELED|REFUNDED`; transaction `PENDING|COMPLETED|CANCELED|DISPUTED|DISPUTE_RESOLVED`.
    public var status: String
    /// The provider's `updated_at`.
    public var updatedAt: Date
    /// Order amount in minor units.
    public var amount: Int64?
    /// ISO 4217 currency of `amount`.
    public var currency: String?
    /// Order disbursement requirements by type (`INVOICE`, …).
    public var disbursement: [String: Disbursement]
    /// Transaction `credify_id`.
    public var credifyID: String?
    /// Transaction `offer_code`.
    public var offerCode: String?
    /// Transaction `dispute.status`, `nil` when there is no dispute.
    public var disputeStatus: String?

    /// Creates an object version.
    public init(
        kind: Kind,
        id: String,
        status: String,
        updatedAt: Date,
        amount: Int64? = nil,
        currency: String? = nil,
        disbursement: [String: Disbursement] = [:],
        credifyID: String? = nil,
        offerCode: String? = nil,
        disputeStatus: String? = nil
    ) {
        self.kind = kind
        self.id = id
        self.status = status
        self.updatedAt = updatedAt
        self.amount = amount
        self.currency = currency
        self.disbursement = disbursement
        self.credifyID = credifyID
        self.offerCode = offerCode
        self.disputeStatus = disputeStatus
    }

    /// The object as the read API writes it (list rows and retrieval alike).
    public var json: JSONValue {
        let updated = JSONField("updated_at", .string(RFC3339.format(updatedAt, milliseconds: true)))
        switch kind {
        case .bnplOrder:
            let requirements = Self.requirementTypes.compactMap { type in
                disbursement[type].map { state in
                    JSONField(
                        type,
                        .object([
                            JSONField("from_provider", .bool(state.fromProvider)),
                            JSONField("is_fulfilled", .bool(state.isFulfilled)),
                        ])
                    )
                }
            }
            return .object([
                JSONField("id", .string(id)),
                JSONField("status", .string(status)),
                JSONField("amount", amount.map { .int($0) } ?? .null),
                JSONField("currency", currency.map { .string($0) } ?? .null),
                JSONField("disbursement", .object(requirements)),
                updated,
            ])
        case .offerTransaction:
            return .object([
                JSONField("id", .string(id)),
                JSONField("credify_id", .string(credifyID ?? "")),
                JSONField("status", .string(status)),
                JSONField("offer_code", .string(offerCode ?? "")),
                JSONField("dispute", disputeStatus.map { .object([JSONField("status", .string($0))]) } ?? .null),
                updated,
            ])
        }
    }
}
