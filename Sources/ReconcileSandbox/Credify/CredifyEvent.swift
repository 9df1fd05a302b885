import Foundation

/// One Credify webhook event: one change of one order or transaction.
///
/// Its `X-Event-Timestamp` is the changed object's `updated_at`. A disbursement event changes only one
/// requirement of the order, not its status.
public struct CredifyEvent: Sendable, Hashable {
    /// The four event types.
    public enum EventType: String, Sendable, CaseIterable {
        case orderStatusUpdated = "BNPL_ORDER_STATUS_UPDATED"
        case disbursementStatusUpdated = "BNPL_DISBURSEMENT_STATUS_UPDATED"
        case transactionStatusUpdated = "OFFER_TRANSACTION_STATUS_UPDATED"
        case disputeCompleted = "DISPUTE_COMPLETED"
    }

    /// The event id (`X-Event-Id`, a UUID).
    public var id: String
    /// The event type.
    public var type: EventType
    /// The object version after the change.
    public var object: CredifyObject
    /// For a disbursement event, the requirement it changed (`INVOICE`, …).
    public var requirementType: String?

    /// Creates an event for the version `object`.
    public init(id: String, type: EventType, object: CredifyObject, requirementType: String? = nil) {
        self.id = id
        self.type = type
        self.object = object
        self.requirementType = requirementType
    }

    /// When the change happened (`X-Event-Timestamp`): the object's `updated_at`.
    public var timestamp: Date { object.updatedAt }

    /// Whether the event carries the resource's status (every type but the disbursement update).
    public var carriesStatus: Bool { type != .disbursementStatusUpdated }

    /// The delivery body.
    public var json: JSONValue {
        switch type {
        case .orderStatusUpdated:
            return .object([
                JSONField("type", .string(type.rawValue)),
                JSONField("order_id", .string(object.id)),
                JSONField("order_status", .string(object.status)),
            ])
        case .disbursementStatusUpdated:
            let requirement = requirementType ?? "INVOICE"
            let state = object.disbursement[requirement] ?? .init(fromProvider: false, isFulfilled: false)
            return .object([
                JSONField("type", .string(type.rawValue)),
                JSONField("order_id", .string(object.id)),
                JSONField("requirement_type", .string(requirement)),
                JSONField("from_provider", .bool(state.fromProvider)),
                JSONField("is_fulfilled", .bool(state.isFulfilled)),
            ])
        case .transactionStatusUpdated, .disputeCompleted:
            return .object([
                JSONField("type", .string(type.rawValue)),
                JSONField("transaction_id", .string(object.id)),
                JSONField("credify_id", .string(object.credifyID ?? "")),
                JSONField("transaction_status", .string(object.status)),
                JSONField("offer_code", .string(object.offerCode ?? "")),
            ])
        }
    }

    /// The raw delivery body: the compact event text.
    public var body: String { json.serialized }
}
