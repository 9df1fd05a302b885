import Foundation

extension CredifyHistoryBuilder {
    /// How an order's story goes.
    struct OrderPlan {
        /// Stop after the first disbursement update (status stays `APPROVED`).
        var stopAfterInvoice = false
        var cancel = false
        var refund = false
    }

    /// Creates a BNPL order `PENDING` → `APPROVED` → disbursement updates → `PAID` (or `CANCELED`,
    /// later perhaps `REFUNDED`) starting at `start`, recording its events; returns them in time order.
    mutating func order(start: Date, _ plan: OrderPlan = OrderPlan()) -> [CredifyEvent] {
        var order = CredifyObject(
            kind: .bnplOrder,
            id: rng.uuid(),
            status: "PENDING",
            updatedAt: later(start, 0, 60),
            amount: rng.int(in: 20...2_000) * 100,
            currency: rng.pick(["SGD", "SGD", "VND", "USD"])
        )
        var events = [record(.orderStatusUpdated, order)]
        order.status = "APPROVED"
        order.updatedAt = later(order.updatedAt, 600, 3600)
        events.append(record(.orderStatusUpdated, order))
        order.disbursement["INVOICE"] = .init(fromProvider: rng.int(in: 0...1) == 1, isFulfilled: false)
        order.updatedAt = later(order.updatedAt, 600, 1800)
        events.append(record(.disbursementStatusUpdated, order, requirement: "INVOICE"))
        guard !plan.stopAfterInvoice else { return events }
        order.disbursement["DELIVERY"] = .init(fromProvider: true, isFulfilled: true)
        order.updatedAt = later(order.updatedAt, 600, 3600)
        events.append(record(.disbursementStatusUpdated, order, requirement: "DELIVERY"))
        order.status = plan.cancel ? "CANCELED" : "PAID"
        order.updatedAt = later(order.updatedAt, 600, 3600)
        events.append(record(.orderStatusUpdated, order))
        let refunded = later(order.updatedAt, Self.day, 2 * Self.day)
        if plan.refund, !plan.cancel, refunded < now - Self.hour {
            order.status = "REFUNDED"
            order.updatedAt = refunded
            events.append(record(.orderStatusUpdated, order))
        }
        return events
    }

    /// Records an event of `type` making `object` current, with a fresh event id.
    mutating func record(_ type: CredifyEvent.EventType, _ object: CredifyObject, requirement: String? = nil)
        -> CredifyEvent
    {
        world.record(eventID: rng.uuid(), type: type, object: object, requirementType: requirement)
    }

    /// Creates an offer transaction `PENDING` → `COMPLETED` (then, with `dispute`, `DISPUTED` →
    /// `DISPUTE_COMPLETED`) starting at `start`, recording its events; returns them in time order.
    mutating func transaction(start: Date, dispute: Bool = false) -> [CredifyEvent] {
        var transaction = CredifyObject(
            kind: .offerTransaction,
            id: rng.uuid(),
            status: "PENDING",
            updatedAt: later(start, 0, 60),
            credifyID: rng.uuid(),
            offerCode: "OFFER-" + rng.token(6).uppercased()
        )
        var events = [record(.transactionStatusUpdated, transaction)]
        var steps: [(CredifyEvent.EventType, String, String?)] = [(.transactionStatusUpdated, "COMPLETED", nil)]
        if dispute {
            steps += [
                (.transactionStatusUpdated, "DISPUTED", "OPEN"), (.disputeCompleted, "DISPUTE_RESOLVED", "COMPLETED"),
            ]
        }
        for (type, status, disputeStatus) in steps {
            transaction.status = status
            transaction.disputeStatus = disputeStatus
            transaction.updatedAt = later(transaction.updatedAt, 300, 3 * Self.hour)
            events.append(record(type, transaction))
        }
        return events
    }
}
