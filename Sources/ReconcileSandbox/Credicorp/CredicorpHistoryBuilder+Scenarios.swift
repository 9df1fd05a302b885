import Foundation

extension CredicorpHistoryBuilder {
    /// Writes the whole story: ordinary traffic plus one scenario per finding kind.
    mutating func buildScenarios() {
        let day = Self.day
        let hour = Self.hour

        // Ordinary traffic over the ten days, all delivered promptly.
        for _ in 0..<14 {
            let start = wholeSecond(from: now - 9.5 * day, to: now - 1.5 * day)
            var plan = Plan()
            plan.approved = rng.int(in: 0...3) > 0
            plan.terminal = rng.int(in: 0...9) < 7 ? "succeeded" : "failed"
            plan.refund = rng.int(in: 0...3) == 0
            deliverPromptly(chain(start: start, plan).all)
        }

        // duplicate_delivery: the payment's last event is delivered again minutes later, re-signed.
        let duplicated = chain(start: now - 6 * day)
        deliverPromptly(duplicated.all)
        if let last = duplicated.payment.last {
            deliver(last, at: after(last.created, 5 * 60, 10 * 60))
        }

        // out_of_order: payment.created first arrives after payment.succeeded.
        var quick = Plan()
        quick.settleAfter = 120
        let reordered = chain(start: now - 5 * day, quick)
        deliverPromptly(reordered.enquiry + reordered.decision)
        if let created = reordered.payment.first, let settled = reordered.payment.last {
            deliver(settled, at: after(settled.created, 1, 5))
            deliver(created, at: after(settled.created, 4 * 60, 5 * 60))
        }

        // dropped_event + missing_locally: every event of a payment was lost, long ago.
        let lost = chain(start: now - 5.5 * day)
        deliverPromptly(lost.enquiry + lost.decision)

        // dropped_event + state_mismatch (cause dropped_event): the payment's latest event was lost.
        let behind = chain(start: now - 4.6 * day)
        deliverPromptly(behind.enquiry + behind.decision + behind.payment.dropLast())

        // pending_event + state_mismatch (cause pending_event): settled 5 h ago, not yet delivered.
        var late = Plan()
        late.settleAt = now - 5 * hour
        let pending = chain(start: now - 30 * hour, late)
        deliverPromptly(pending.enquiry + pending.decision + pending.payment.dropLast())

        // pending_event + missing_locally: a brand-new enquiry not delivered yet.
        var enquiryOnly = Plan()
        enquiryOnly.stopAfterEnquiry = true
        _ = chain(start: now - 2 * hour, enquiryOnly)

        // invalid_signature: a rejected copy of a payment's last event, then a valid retry.
        let defects: [Defect] = [.tamperedBody, .wrongSecret, .staleTimestamp, .missingSignature]
        for (index, defect) in defects.enumerated() {
            let story = chain(start: now - (3.6 - 0.35 * Double(index)) * day)
            deliverPromptly(story.enquiry + story.decision + story.payment.dropLast())
            if let last = story.payment.last {
                deliver(last, at: after(last.created, 1, 3), defect: defect)
                deliver(last, at: after(last.created, 61, 70))
            }
        }
        deliverMalformed(at: after(now - 2.4 * day, 0, 60))

        // unknown_to_provider: a validly signed payment event the provider has no record of.
        let ghostTime = wholeSecond(from: now - 2 * day, to: now - 2 * day + 600)
        let ghost = CredicorpObject.payment(
            id: newID("pay_"),
            amount: rng.int(in: 50...5_000) * 100,
            currency: "GBP",
            decision: newID("dec_"),
            status: "succeeded",
            created: ghostTime - 900,
            updated: ghostTime
        )
        let ghostEvent = CredicorpEvent(id: newID("evt_"), type: "payment.succeeded", object: ghost)
        deliver(ghostEvent, at: after(ghostTime, 1, 10))

        // Unsubscribed enquiry.updated events: never delivered, never "missing"; the enquiry's
        // state is behind (state_mismatch, cause unknown).
        var updates = Plan()
        updates.enquiryUpdates = true
        for start in [now - 7 * day, now - 2.2 * day] {
            deliverPromptly(chain(start: start, updates).all)
        }

        // Secret rotation overlap: deliveries signed with both secrets, and a refund later.
        var rotation = Plan()
        rotation.refund = true
        deliverPromptly(chain(start: rotatedAt + hour, rotation).all)
    }
}
