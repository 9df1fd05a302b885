import Foundation

extension SandboxHistory {
    /// Crezco's retry window (48 hours).
    public static let crezcoRetryWindow: TimeInterval = 48 * 3600
    /// Credify's default retry window (72 hours).
    public static let credifyRetryWindow: TimeInterval = 72 * 3600

    /// A Crezco world and its signed capture lines over the ten days before `now`, fixed by `seed`.
    ///
    /// The history covers every Crezco finding kind: normal and batched deliveries (a pay run's
    /// change and its payables' in one body); `duplicate_delivery` (a whole batch again, and a single
    /// event); `out_of_order`; `dropped_event` with `missing_locally` (a payable and a verification
    /// whose events were all lost) and with `state_mismatch` (a payable's last event lost);
    /// `pending_event` with `state_mismatch` (a pay run completed 5 h ago) and with `missing_locally`
    /// (a bank account 2 h old); `unknown_to_provider`; `invalid_signature` for a tampered body
    /// (`bad_signature`), an unknown key id, a stale `Date`, a missing signature and a malformed
    /// line. Keys rotate four days before `now`: earlier deliveries name ``CrezcoHistory/previousKeyID``,
    /// later ones ``CrezcoHistory/currentKeyID``; the read API serves both. ECDSA signatures are
    /// randomized, so only the `Crezco-Signature` values differ between two calls.
    ///
    /// Oracle rules: local state is the newest validly received event per resource by `timestamp`;
    /// a batch is a delivery of each of its events; `invalid_signature` names the batch's first event;
    /// an unreceived provider event is `dropped_event` when older than 48 h before `now`, else
    /// `pending_event`; the cause of a `state_mismatch` or `missing_locally` is decided by the newest
    /// unreceived provider event newer than the row (dropped or pending by its age), else
    /// `out_of_order` when the resource had such a finding, else `unknown`.
    ///
    /// - Parameters:
    ///   - seed: The same seed and `now` give the same history (signature values aside).
    ///   - now: The sandbox clock at the end of the history; a whole second.
    ///   - providerName: The `provider` of each capture line and of the oracle's findings.
    /// - Returns: The world, capture lines, key ids, API key and expected findings.
    public static func crezco(seed: UInt64, now: Date, providerName: String = "crezco") -> CrezcoHistory {
        var builder = CrezcoHistoryBuilder(seed: seed, now: now, provider: providerName)
        builder.buildScenarios()
        let deliveries = builder.deliveries
        return CrezcoHistory(
            providerName: providerName,
            now: now,
            world: SandboxWorld(
                now: now,
                credicorp: emptyCredicorp(now: now),
                crezco: builder.world,
                credify: CredifyWorld()
            ),
            deliveries: deliveries,
            apiKey: builder.world.apiKey,
            previousKeyID: builder.previousKeyID,
            currentKeyID: builder.currentKeyID,
            unknownKeyID: builder.strayKeyID,
            rotatedAt: builder.rotatedAt,
            webhookURL: builder.url,
            retryWindow: crezcoRetryWindow,
            expectedFindings: CrezcoOracle.findings(
                world: builder.world,
                deliveries: deliveries,
                provider: providerName,
                now: now,
                retryWindow: crezcoRetryWindow
            ),
            previousKey: builder.previousKey,
            currentKey: builder.currentKey
        )
    }

    /// A Credify world and its signed capture lines over the ten days before `now`, fixed by `seed`.
    ///
    /// Credify has no event log, so lost events show only as `state_mismatch` (an order's `PAID` lost
    /// long ago: cause `dropped_event`; a transaction completed 10 h ago: `pending_event`) or
    /// `missing_locally` (an old order and a new transaction whose events were all lost). The history
    /// also holds `duplicate_delivery`; `out_of_order` by `X-Event-Timestamp`, once harmless and once
    /// leaving the status behind (cause `out_of_order`); an order whose only received event is a
    /// disbursement update (local status null, cause `unknown`); `unknown_to_provider`; and
    /// `invalid_signature` for a tampered body and a delivery signed for another webhook URL (both
    /// `bad_signature`), a missing signature and a malformed line.
    ///
    /// Oracle rules: local state is the newest validly received event per resource by
    /// `X-Event-Timestamp`, never moving back, disbursement events setting only their requirement;
    /// the cause of a `state_mismatch` or `missing_locally` is, when the provider's `updated_at` is
    /// newer than the row, `dropped_event` if `updated_at` is more than 72 h before `now` else
    /// `pending_event`; otherwise `out_of_order` if the resource had such a finding, else `unknown`.
    ///
    /// - Parameters:
    ///   - seed: The same seed, `now` and URL give the same history, byte for byte.
    ///   - now: The sandbox clock at the end of the history; a whole second.
    ///   - providerName: The `provider` of each capture line and of the oracle's findings.
    ///   - webhookURL: The registered webhook URL: signed into every valid delivery and each line's `url`.
    /// - Returns: The world, capture lines, public key, API key and expected findings.
    public static func credify(
        seed: UInt64,
        now: Date,
        providerName: String = "credify",
        webhookURL: String = "https://hooks.example.com/credify"
    ) -> CredifyHistory {
        var builder = CredifyHistoryBuilder(seed: seed, now: now, provider: providerName, webhookURL: webhookURL)
        builder.buildScenarios()
        let deliveries = builder.deliveries
        return CredifyHistory(
            providerName: providerName,
            now: now,
            world: SandboxWorld(
                now: now,
                credicorp: emptyCredicorp(now: now),
                crezco: CrezcoWorld(),
                credify: builder.world
            ),
            deliveries: deliveries,
            apiKey: builder.world.apiKey,
            webhookURL: webhookURL,
            publicKeyBase64: builder.key.publicKey.rawRepresentation.base64EncodedString(),
            retryWindow: credifyRetryWindow,
            expectedFindings: CredifyOracle.findings(
                world: builder.world,
                deliveries: deliveries,
                provider: providerName,
                now: now,
                retryWindow: credifyRetryWindow
            ),
            signingKey: builder.key
        )
    }

    /// One world with all three providers, their merged capture and every expected finding, fixed by `seed`.
    ///
    /// Each provider's history comes from its own entry point with a seed derived from `seed`;
    /// provider names are the defaults (`credicorp`, `crezco`, `credify`).
    public static func all(seed: UInt64, now: Date) -> SandboxCombinedHistory {
        var rng = SplitMix64(seed: seed)
        let credicorp = credicorp(seed: rng.next(), now: now)
        let crezco = crezco(seed: rng.next(), now: now)
        let credify = credify(seed: rng.next(), now: now)
        return SandboxCombinedHistory(credicorp: credicorp, crezco: crezco, credify: credify)
    }

    /// A Credicorp world with no objects and a key nothing matches, for single-provider worlds.
    static func emptyCredicorp(now: Date) -> CredicorpWorld {
        CredicorpWorld(
            apiKey: "",
            endpoint: CredicorpEndpoint(id: "whend_none", url: "", enabledEvents: [], created: now)
        )
    }
}
