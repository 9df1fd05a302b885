import Foundation

extension CrezcoHistoryBuilder {
    /// The events of one organisation's story, each list in time order.
    struct Story {
        var organisation: [CrezcoEvent] = []
        var verification: [CrezcoEvent] = []
        var bankAccount: [CrezcoEvent] = []
        var payRun: [CrezcoEvent] = []
        /// One list per payable.
        var payables: [[CrezcoEvent]] = []

        var all: [CrezcoEvent] {
            (organisation + verification + bankAccount + payRun + payables.flatMap { $0 }).sorted {
                ($0.timestamp, $0.id) < ($1.timestamp, $1.id)
            }
        }

        /// The pay run's completion and its payables' final events: one batch.
        var completion: [CrezcoEvent] {
            (payRun.suffix(1) + payables.compactMap(\.last)).sorted { ($0.timestamp, $0.id) < ($1.timestamp, $1.id) }
        }
    }

    /// How a story ends.
    struct Plan {
        var payableCount = 2
        /// When the pay run completes; random a few hours after processing when `nil`.
        var completeAt: Date?
        /// Whether the last payable fails instead of being paid.
        var failLast = false
    }

    /// Creates one story starting at `start`: onboarding, verification, bank account, then a pay run of
    /// payables through `Draft` → `Completed`, and records its events in the world.
    ///
    /// The pay run's `Draft` and its payables' `Created` fall within a second (one batch), and so do
    /// `Processing` with `PaymentInitiated` and `Completed` with `Paid`; one resource's events are
    /// minutes apart. The story spans at most about ten hours unless `completeAt` says otherwise.
    mutating func story(start: Date, _ plan: Plan = Plan()) -> Story {
        var story = Story()
        let organisationID = rng.uuid()
        let begun = after(start, 0, 60)
        var organisation = CrezcoObject(
            kind: .organisation,
            id: organisationID,
            status: "Pending",
            updatedAt: begun,
            organisationID: organisationID
        )
        story.organisation.append(record(organisation))
        for (status, minimum, maximum) in [
            ("InReview", Self.hour, 2 * Self.hour), ("Approved", Self.hour, 3 * Self.hour),
        ] {
            organisation = organisation.with(status: status, updatedAt: after(organisation.updatedAt, minimum, maximum))
            story.organisation.append(record(organisation))
        }
        let verification = CrezcoObject(
            kind: .verification,
            id: rng.uuid(),
            status: "Pending",
            updatedAt: after(begun, 300, 600),
            organisationID: organisationID
        )
        story.verification.append(record(verification))
        let verified = verification.with(status: "Passed", updatedAt: after(verification.updatedAt, 1200, 3600))
        story.verification.append(record(verified))
        let account = CrezcoObject(
            kind: .bankAccount,
            id: rng.uuid(),
            status: "Pending",
            updatedAt: after(begun, 700, 900),
            organisationID: organisationID
        )
        story.bankAccount.append(record(account))
        story.bankAccount.append(
            record(account.with(status: "Verified", updatedAt: after(account.updatedAt, 1800, 7200)))
        )
        payRunStory(into: &story, organisationID: organisationID, after: organisation.updatedAt, plan)
        return story
    }

    private mutating func payRunStory(
        into story: inout Story,
        organisationID: String,
        after approved: Date,
        _ plan: Plan
    ) {
        let drafted = after(approved, 600, 3600)
        let currency = rng.pick(["GBP", "GBP", "EUR"])
        let payRunID = rng.uuid()
        var payables: [CrezcoObject] = (0..<plan.payableCount).map { index in
            CrezcoObject(
                kind: .payable,
                id: rng.uuid(),
                status: "Created",
                updatedAt: Date(sandboxMillis: drafted.sandboxMillis + 1 + Int64(index) * 97),
                organisationID: organisationID,
                amount: rng.int(in: 50...5_000) * 100,
                currency: currency,
                payRunID: payRunID
            )
        }
        var payRun = CrezcoObject(
            kind: .payRun,
            id: payRunID,
            status: "Draft",
            updatedAt: drafted,
            organisationID: organisationID,
            amount: payables.compactMap(\.amount).reduce(0, +),
            currency: currency
        )
        story.payRun.append(record(payRun))
        story.payables = payables.map { [record($0)] }
        payRun = payRun.with(status: "Submitted", updatedAt: after(drafted, 600, 1800))
        story.payRun.append(record(payRun))
        let processing = after(payRun.updatedAt, 300, 1800)
        let completed = plan.completeAt ?? after(processing, Self.hour, 4 * Self.hour)
        story.payRun.append(record(payRun.with(status: "Processing", updatedAt: processing)))
        for (moment, finalStatus) in [(processing, "PaymentInitiated"), (completed, "Paid")] {
            for index in payables.indices {
                let status =
                    finalStatus == "Paid" && plan.failLast && index == payables.count - 1 ? "Failed" : finalStatus
                payables[index] = payables[index].with(
                    status: status,
                    updatedAt: Date(sandboxMillis: moment.sandboxMillis + 1 + Int64(index) * 97)
                )
                story.payables[index].append(record(payables[index]))
            }
        }
        story.payRun.append(record(payRun.with(status: "Completed", updatedAt: completed)))
    }
}
