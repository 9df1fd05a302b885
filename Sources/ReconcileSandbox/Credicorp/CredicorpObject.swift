import Foundation

/// One version of a Credicorp resource (`enquiry`, `decision` or `payment`) as the read API shows it.
///
/// `created` and `updated` are provider times (RFC 3339 UTC on the wire). Money is `amount` in minor
/// units with an ISO 4217 `currency`; the remaining type fields (`form`, `dept`, `enquiry`,
/// `outcome`, `decision`) are strings in `fields`.
public struct CredicorpObject: Sendable, Hashable {
    /// The three Credicorp resource types.
    public enum Kind: String, Sendable, CaseIterable {
        case enquiry, decision, payment

        /// The collection segment of the read API (`enquiries`, `decisions`, `payments`).
        public var collection: String {
            switch self {
            case .enquiry: "enquiries"
            case .decision: "decisions"
            case .payment: "payments"
            }
        }

        /// The id prefix (`enq_`, `dec_`, `pay_`).
        public var idPrefix: String {
            switch self {
            case .enquiry: "enq_"
            case .decision: "dec_"
            case .payment: "pay_"
            }
        }
    }

    /// The resource type (`object` on the wire).
    public var kind: Kind
    /// The resource id, such as `pay_3KD9`.
    public var id: String
    /// The status: enquiry `new|in_progress|closed`, decision `pending|completed`,
    /// payment `pending|succeeded|failed|refunded`.
    public var status: String
    /// When the resource was created.
    public var created: Date
    /// When this version was made; equals the `created` of the event that carries it.
    public var updated: Date
    /// Amount in minor units (decisions and payments).
    public var amount: Int64?
    /// ISO 4217 currency of `amount`.
    public var currency: String?
    /// Other string fields, written in key order.
    public var fields: [String: String]

    /// Creates an object version.
    public init(
        kind: Kind,
        id: String,
        status: String,
        created: Date,
        updated: Date,
        amount: Int64? = nil,
        currency: String? = nil,
        fields: [String: String] = [:]
    ) {
        self.kind = kind
        self.id = id
        self.status = status
        self.created = created
        self.updated = updated
        self.amount = amount
        self.currency = currency
        self.fields = fields
    }

    /// An enquiry version.
    public static func enquiry(
        id: String,
        form: String,
        dept: String,
        status: String,
        created: Date,
        updated: Date
    ) -> CredicorpObject {
        .init(
            kind: .enquiry,
            id: id,
            status: status,
            created: created,
            updated: updated,
            fields: ["form": form, "dept": dept]
        )
    }

    /// A decision version for `enquiry` with `outcome` `approved|declined|referred`.
    public static func decision(
        id: String,
        enquiry: String,
        outcome: String,
        amount: Int64,
        currency: String,
        status: String,
        created: Date,
        updated: Date
    ) -> CredicorpObject {
        .init(
            kind: .decision,
            id: id,
            status: status,
            created: created,
            updated: updated,
            amount: amount,
            currency: currency,
            fields: ["enquiry": enquiry, "outcome": outcome]
        )
    }

    /// A payment version for `decision`.
    public static func payment(
        id: String,
        amount: Int64,
        currency: String,
        decision: String,
        status: String,
        created: Date,
        updated: Date
    ) -> CredicorpObject {
        .init(
            kind: .payment,
            id: id,
            status: status,
            created: created,
            updated: updated,
            amount: amount,
            currency: currency,
            fields: ["decision": decision]
        )
    }

    /// The next version of this object: a new `status` as of `updated`.
    public func with(status: String, updated: Date) -> CredicorpObject {
        var next = self
        next.status = status
        next.updated = updated
        return next
    }

    /// The object as the read API writes it.
    public var json: JSONValue {
        var members = [JSONField("id", .string(id)), JSONField("object", .string(kind.rawValue))]
        if let amount { members.append(JSONField("amount", .int(amount))) }
        if let currency { members.append(JSONField("currency", .string(currency))) }
        for key in fields.keys.sorted() { members.append(JSONField(key, .string(fields[key] ?? ""))) }
        members.append(JSONField("status", .string(status)))
        members.append(JSONField("created", .string(RFC3339.format(created))))
        members.append(JSONField("updated", .string(RFC3339.format(updated))))
        return .object(members)
    }
}
