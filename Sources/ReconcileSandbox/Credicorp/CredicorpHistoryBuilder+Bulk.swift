import Foundation

extension CredicorpHistoryBuilder {
    /// Writes `chains` ordinary stories over the week before `now`, with losses at scale.
    ///
    /// Two in five of the older stories lose every payment event (dropped, missing locally),
    /// another fifth lose the payment's latest event (dropped, state behind), and some of the
    /// last three days' stories are delivered out of order or twice: enough work that a repair
    /// touches thousands of rows, for kill, concurrency and benchmark tests.
    ///
    /// With `progressUpdates`, each enquiry also gets that many `enquiry.updated` events, to which
    /// the endpoint then subscribes, delivered with it: about 1.3 listed events a resource become about 1.3 + progressUpdates / 3.
    mutating func buildBulk(chains: Int, progressUpdates: Int = 0) {
        // The endpoint subscribes to them, so they are delivered and local state keeps up.
        if progressUpdates > 0, !world.endpoint.enabledEvents.contains("enquiry.updated") {
            world.endpoint.enabledEvents.append("enquiry.updated")
        }
        let day = Self.day
        for _ in 0..<max(0, chains) {
            let start = wholeSecond(from: now - 7.5 * day, to: now - 1.2 * day)
            var plan = Plan()
            plan.progressUpdates = progressUpdates
            plan.approved = rng.int(in: 0...5) > 0
            plan.terminal = rng.int(in: 0...9) < 8 ? "succeeded" : "failed"
            plan.refund = rng.int(in: 0...4) == 0
            let story = chain(start: start, plan)
            let old = start < now - 3.2 * day
            switch rng.int(in: 0...99) {
            case 0..<40 where old:
                deliverPromptly(story.enquiry + story.decision)
            case 40..<60 where old:
                deliverPromptly(story.enquiry + story.decision + story.payment.dropLast())
            case 60..<67 where story.payment.count >= 2:
                // Reordered: the payment's later events arrive first, its first one minutes later.
                deliverPromptly(story.enquiry + story.decision + story.payment.dropFirst())
                if let first = story.payment.first, let last = story.payment.last {
                    deliver(first, at: after(last.created, 120, 600))
                }
            case 67..<72:
                deliverPromptly(story.all)
                if let last = story.all.last { deliver(last, at: after(last.created, 300, 900)) }
            default:
                deliverPromptly(story.all)
            }
        }
    }
}
