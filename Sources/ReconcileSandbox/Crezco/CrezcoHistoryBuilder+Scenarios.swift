import Foundation

extension CrezcoHistoryBuilder {
    /// Writes the whole story: ordinary traffic plus one scenario per Crezco finding kind.
    mutating func buildScenarios() {
        let day = Self.day
        let hour = Self.hour

        // Ordinary traffic over the ten days, delivered promptly in batches; the key rotation four
        // days ago falls among it.
        for index in 0..<6 {
            var plan = Plan()
            plan.payableCount = Int(rng.int(in: 1...3))
            plan.failLast = index % 3 == 2
            deliverPromptly(story(start: after(now - 9.5 * day, 0, 6.5 * day), plan).all)
        }
        deliverPromptly(story(start: rotatedAt - 3 * hour).all)

        // duplicate_delivery: a whole batch is delivered again, and one payable's Paid event alone.
        let duplicated = story(start: now - 6 * day)
        deliverPromptly(duplicated.all)
        if let batch = Self.batches(duplicated.all).first(where: { $0.count > 1 }), let last = batch.last {
            deliver(batch, at: after(last.timestamp, 300, 600))
        }
        if let paid = duplicated.payables.first?.last {
            deliver([paid], at: after(paid.timestamp, 600, 900))
        }

        // out_of_order: a payable's Created first arrives after its Paid had been received.
        let reordered = story(start: now - 5 * day)
        if let late = reordered.payables.first?.first, let paid = reordered.payables.first?.last {
            deliverPromptly(reordered.all.filter { $0.id != late.id })
            deliver([late], at: after(paid.timestamp, 300, 400))
        }

        // dropped_event + missing_locally: every event of a payable and of a verification (not
        // listable) was lost, long ago.
        var twoPayables = Plan()
        twoPayables.payableCount = 2
        let lost = story(start: now - 5.5 * day, twoPayables)
        let lostIDs = Set((lost.payables.last ?? []).map(\.id) + lost.verification.map(\.id))
        deliverPromptly(lost.all.filter { !lostIDs.contains($0.id) })

        // dropped_event + state_mismatch (cause dropped_event): a payable's Paid event was lost.
        let behind = story(start: now - 4.6 * day)
        let behindLost = behind.payables.first?.last?.id
        deliverPromptly(behind.all.filter { $0.id != behindLost })

        // pending_event + state_mismatch (cause pending_event): the pay run completed 5 h ago, not yet delivered.
        var late = Plan()
        late.completeAt = now - 5 * hour
        let pending = story(start: now - 30 * hour, late)
        let completionIDs = Set(pending.completion.map(\.id))
        deliverPromptly(pending.all.filter { !completionIDs.contains($0.id) })

        // pending_event + missing_locally: a bank account (not listable) registered 2 h ago, not delivered yet.
        _ = record(
            CrezcoObject(
                kind: .bankAccount,
                id: rng.uuid(),
                status: "Pending",
                updatedAt: after(now - 2 * hour, 0, 600),
                organisationID: rng.uuid()
            )
        )

        // invalid_signature: a rejected copy of a completion batch, then a valid retry.
        let defects: [Defect] = [.tamperedBody, .unknownKeyID, .staleTimestamp, .missingSignature]
        for (index, defect) in defects.enumerated() {
            let told = story(start: now - (3.6 - 0.35 * Double(index)) * day)
            let completion = told.completion
            let completionIDs = Set(completion.map(\.id))
            deliverPromptly(told.all.filter { !completionIDs.contains($0.id) })
            if let last = completion.last {
                deliver(completion, at: after(last.timestamp, 1, 3), defect: defect)
                deliver(completion, at: after(last.timestamp, 61, 70))
            }
        }
        deliverMalformed(at: after(now - 2.4 * day, 0, 60))

        // unknown_to_provider: a validly signed Payable event for a payable Crezco has no record of.
        let ghostTime = after(now - 2 * day, 0, 600)
        let ghost = CrezcoObject(
            kind: .payable,
            id: rng.uuid(),
            status: "Paid",
            updatedAt: ghostTime,
            organisationID: rng.uuid(),
            amount: rng.int(in: 50...5_000) * 100,
            currency: "GBP",
            payRunID: rng.uuid()
        )
        deliver([CrezcoEvent(id: rng.uuid(), object: ghost)], at: after(ghostTime, 1, 10))
    }
}
