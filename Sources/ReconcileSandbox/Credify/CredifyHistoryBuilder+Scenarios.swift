import Foundation

extension CredifyHistoryBuilder {
    /// Writes the whole story: ordinary traffic plus one scenario per Credify finding kind.
    mutating func buildScenarios() {
        let day = Self.day
        let hour = Self.hour

        // Ordinary traffic over the ten days, delivered promptly: orders with disbursement updates,
        // transactions, some cancelled, refunded or disputed.
        for index in 0..<5 {
            var plan = OrderPlan()
            plan.cancel = index == 3
            plan.refund = index == 1
            deliverPromptly(order(start: later(now - 9.5 * day, 0, 6 * 86_400), plan))
            deliverPromptly(transaction(start: later(now - 9.5 * day, 0, 6 * 86_400), dispute: index % 2 == 0))
        }

        // duplicate_delivery: an order's PAID event is delivered again minutes later.
        let duplicated = order(start: now - 6 * day)
        deliverPromptly(duplicated)
        if let paid = duplicated.last { deliver(paid, at: receipt(paid.timestamp, 300, 600)) }

        // out_of_order: a transaction's PENDING first arrives after its COMPLETED (no state harm).
        let reordered = transaction(start: now - 5 * day)
        if let pending = reordered.first, let completed = reordered.last {
            deliver(completed, at: receipt(completed.timestamp, 1, 5))
            deliver(pending, at: receipt(completed.timestamp, 240, 300))
        }

        // out_of_order + state_mismatch (cause out_of_order): APPROVED arrives after the later INVOICE
        // disbursement update, so it is ignored and the local status stays PENDING.
        var invoiced = OrderPlan()
        invoiced.stopAfterInvoice = true
        let stuck = order(start: now - 4.8 * day, invoiced)
        if stuck.count == 3 {
            deliverPromptly([stuck[0], stuck[2]])
            deliver(stuck[1], at: receipt(stuck[2].timestamp, 300, 400))
        }

        // state_mismatch (cause unknown, local status null): both status events were lost, the
        // disbursement update, the order's latest change, arrived.
        let statusless = order(start: now - 6.5 * day, invoiced)
        if let disbursement = statusless.last { deliverPromptly([disbursement]) }

        // state_mismatch (cause dropped_event): an order's PAID event was lost, long ago.
        deliverPromptly(Array(order(start: now - 5.2 * day).dropLast()))

        // state_mismatch (cause pending_event): a transaction completed 10 h ago, not delivered.
        let recent = transaction(start: now - 12 * hour)
        deliverPromptly(Array(recent.prefix(1)))

        // missing_locally (dropped_event): every event of an order lost long ago; (pending_event): a
        // new transaction not delivered yet.
        _ = order(start: now - 5.5 * day)
        _ = transaction(start: now - 3 * hour)

        // invalid_signature: a rejected copy of an order's last event, then a valid retry.
        let defects: [Defect] = [.tamperedBody, .wrongURL, .missingSignature]
        for (index, defect) in defects.enumerated() {
            let told = order(start: now - (3.5 - 0.4 * Double(index)) * day)
            deliverPromptly(Array(told.dropLast()))
            if let last = told.last {
                deliver(last, at: receipt(last.timestamp, 1, 3), defect: defect)
                deliver(last, at: receipt(last.timestamp, 61, 70))
            }
        }
        deliverMalformed(at: receipt(now - 2.4 * day, 0, 60))

        // unknown_to_provider: a validly signed order event for an order Credify has no record of.
        let ghost = CredifyObject(
            kind: .bnplOrder,
            id: rng.uuid(),
            status: "PAID",
            updatedAt: later(now - 2 * day, 0, 600),
            amount: rng.int(in: 20...2_000) * 100,
            currency: "SGD"
        )
        let ghostEvent = CredifyEvent(id: rng.uuid(), type: .orderStatusUpdated, object: ghost)
        deliver(ghostEvent, at: receipt(ghost.updatedAt, 1, 10))
    }
}
