import Foundation

/// Deterministic provider histories for the demo and for tests.
public enum SandboxHistory {
    /// Credicorp's retry window (72 hours).
    public static let credicorpRetryWindow: TimeInterval = 72 * 3600

    /// A Credicorp world and its signed capture lines over the ten days before `now`, fixed by `seed`.
    ///
    /// The history covers every Credicorp finding kind of job.md: normal, duplicate and out-of-order
    /// deliveries; dropped events (one resource entirely, one resource's latest event); pending
    /// events; rejected lines (tampered body, wrong secret, stale timestamp, missing signature,
    /// malformed); a validly signed event unknown to the provider; unsubscribed `enquiry.updated`
    /// events; and a secret rotation four days before `now` with a 24-hour dual-signature overlap.
    /// `now` should be a whole second.
    ///
    /// - Parameters:
    ///   - seed: The same seed and `now` always give the same history, byte for byte.
    ///   - now: The sandbox clock at the end of the history.
    ///   - providerName: The `provider` of each capture line and of the oracle's findings.
    ///   - endpointDisabled: Whether the webhook endpoint reports `disabled` (`endpoint_disabled`).
    /// - Returns: The world, the capture lines, the secrets and key, and the expected findings.
    public static func credicorp(
        seed: UInt64,
        now: Date,
        providerName: String = "credicorp",
        endpointDisabled: Bool = true
    ) -> CredicorpHistory {
        var builder = CredicorpHistoryBuilder(
            seed: seed,
            now: now,
            provider: providerName,
            endpointDisabled: endpointDisabled
        )
        builder.buildScenarios()
        return history(of: builder, withOracle: true)
    }

    /// A Credicorp world of `chains` enquiry → decision → payment stories with losses at scale.
    ///
    /// For tests and benchmarks that need volume (thousands of repairs): ordinary traffic over the
    /// week before `now`, two in five of the older stories' payment events dropped entirely, a fifth
    /// with the latest payment event dropped, some delivered out of order or twice. The endpoint
    /// is enabled; the oracle is not computed (`expectedFindings` is empty): compare with a
    /// reference run instead. `progressUpdates` gives each enquiry that many more events (see
    /// `buildBulk`), for a world of many events per resource.
    public static func credicorpBulk(
        seed: UInt64,
        now: Date,
        chains: Int,
        progressUpdates: Int = 0,
        providerName: String = "credicorp"
    ) -> CredicorpHistory {
        var builder = CredicorpHistoryBuilder(seed: seed, now: now, provider: providerName, endpointDisabled: false)
        builder.buildBulk(chains: chains, progressUpdates: progressUpdates)
        return history(of: builder, withOracle: false)
    }

    /// The history a builder wrote, with the oracle's expected findings when asked for.
    private static func history(of builder: CredicorpHistoryBuilder, withOracle: Bool) -> CredicorpHistory {
        let world = SandboxWorld(now: builder.now, credicorp: builder.world)
        let deliveries = builder.deliveries
        return CredicorpHistory(
            providerName: builder.provider,
            now: builder.now,
            world: world,
            deliveries: deliveries,
            currentSecret: builder.currentSecret,
            previousSecret: builder.previousSecret,
            rotatedAt: builder.rotatedAt,
            apiKey: builder.world.apiKey,
            endpointID: builder.world.endpoint.id,
            retryWindow: credicorpRetryWindow,
            expectedFindings: withOracle
                ? CredicorpOracle.findings(
                    world: world,
                    deliveries: deliveries,
                    provider: builder.provider,
                    retryWindow: credicorpRetryWindow
                ) : []
        )
    }

    /// The Standard Webhooks v1 signature `v1,<base64>` of `id.timestamp.body` under `secret` (`whsec_…`).
    public static func signStandardWebhooks(id: String, timestamp: Int64, body: String, secret: String) -> String {
        StandardWebhooksSigner.sign(id: id, timestamp: timestamp, body: body, secret: secret)
    }
}
