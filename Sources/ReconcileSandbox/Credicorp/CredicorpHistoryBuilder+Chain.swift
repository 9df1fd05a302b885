import Foundation

extension CredicorpHistoryBuilder {
    /// Creates one enquiry → decision → payment story starting at `start` and records its events in the world.
    mutating func chain(start: Date, _ plan: Plan = Plan()) -> Chain {
        var chain = Chain()
        let enquiryID = newID("enq_")
        let created = wholeSecond(from: start, to: start.addingTimeInterval(60))
        var enquiry = CredicorpObject.enquiry(
            id: enquiryID,
            form: rng.pick(["contact-us", "funding-application", "callback"]),
            dept: rng.pick(["support", "lending", "sales"]),
            status: "new",
            created: created,
            updated: created
        )
        chain.enquiry.append(world.record(eventID: newID("evt_"), type: "enquiry.created", object: enquiry))
        for update in 0..<max(0, plan.progressUpdates) {
            // A minute apart, within the half hour before an `enquiryUpdates` update would come.
            enquiry = enquiry.with(status: "in_progress", updated: created + 60 * Double(update + 1))
            chain.enquiry.append(world.record(eventID: newID("evt_"), type: "enquiry.updated", object: enquiry))
        }
        if plan.enquiryUpdates {
            enquiry = enquiry.with(status: "in_progress", updated: wholeSecond(from: created + 600, to: created + 1800))
            chain.enquiry.append(world.record(eventID: newID("evt_"), type: "enquiry.updated", object: enquiry))
        }
        guard !plan.stopAfterEnquiry else { return chain }

        let decided = wholeSecond(from: created + Self.hour, to: created + 6 * Self.hour)
        let amount = rng.int(in: 50...5_000) * 100
        let currency = rng.pick(["GBP", "GBP", "GBP", "EUR"])
        let decision = CredicorpObject.decision(
            id: newID("dec_"),
            enquiry: enquiryID,
            outcome: plan.approved ? "approved" : rng.pick(["declined", "referred"]),
            amount: amount,
            currency: currency,
            status: "completed",
            created: created + 1800,
            updated: decided
        )
        chain.decision.append(world.record(eventID: newID("evt_"), type: "decision.completed", object: decision))
        if plan.enquiryUpdates {
            let closed = enquiry.with(status: "closed", updated: decided + 300)
            chain.enquiry.append(world.record(eventID: newID("evt_"), type: "enquiry.updated", object: closed))
        }
        guard plan.approved else { return chain }

        let paymentCreated = wholeSecond(from: decided + 300, to: decided + 3600)
        let payment = CredicorpObject.payment(
            id: newID("pay_"),
            amount: amount,
            currency: currency,
            decision: decision.id,
            status: "pending",
            created: paymentCreated,
            updated: paymentCreated
        )
        chain.payment.append(world.record(eventID: newID("evt_"), type: "payment.created", object: payment))
        let settled =
            plan.settleAt
            ?? plan.settleAfter.map { paymentCreated + $0 }
            ?? wholeSecond(from: paymentCreated + 60, to: paymentCreated + 1800)
        let final = payment.with(status: plan.terminal, updated: settled)
        chain.payment.append(world.record(eventID: newID("evt_"), type: "payment.\(plan.terminal)", object: final))
        let refunded = wholeSecond(from: settled + Self.day, to: settled + 2 * Self.day)
        if plan.refund, plan.terminal == "succeeded", refunded < now - Self.hour {
            let refund = final.with(status: "refunded", updated: refunded)
            chain.payment.append(world.record(eventID: newID("evt_"), type: "payment.refunded", object: refund))
        }
        return chain
    }
}
