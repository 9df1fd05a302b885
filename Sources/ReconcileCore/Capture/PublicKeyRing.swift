import Foundation
import Logging

/// A key a provider publishes for its delivery signatures.
public struct PublishedKey: Sendable, Equatable {
    public var keyID: String
    public var algorithm: String
    /// The key as the provider gives it (Crezco: SPKI PEM).
    public var publicKey: String

    public init(keyID: String, algorithm: String, publicKey: String) {
        self.keyID = keyID
        self.algorithm = algorithm
        self.publicKey = publicKey
    }
}

/// Providers' published signature keys: read from the store, else fetched once from the provider and kept.
///
/// A key id the provider answers 404 for is remembered in the store (`providerKey.notFoundAt`) and
/// answered as unknown without asking again for ``notFoundMemory`` (24 h) after that answer, by the
/// job's clock (`--now` or the wall clock at ingest, not `received_at`); after that it is asked
/// once more, in case the provider has published it since. A provider that cannot be reached
/// throws: ingest stops rather than reject a delivery it could not judge.
public actor PublicKeyRing {
    /// How long a 404 for a key id is believed before the provider is asked again.
    public static let notFoundMemory: TimeInterval = 24 * 3600

    let store: any ReconcileStore
    let logger: Logger
    let now: Date
    /// By provider and key id, byte by byte (two spellings of one accented key id are two keys).
    private var known: [ResourceKey: PublishedKey?] = [:]
    private var readers: [String: any ProviderReader] = [:]
    private var fetching: [ResourceKey: Task<PublishedKey?, any Error>] = [:]

    /// A ring over `store`; `now` is the job clock's instant (the time a 404 is remembered at).
    public init(store: any ReconcileStore, logger: Logger, now: Date = Date()) {
        self.store = store
        self.logger = logger
        self.now = now
    }

    /// The key `keyID` of `adapter`'s provider, or nil when the provider does not know it.
    public func key(_ keyID: String, for adapter: any ProviderAdapter) async throws -> PublishedKey? {
        let provider = adapter.config.name
        let cacheKey = ResourceKey(provider, keyID)
        if let cached = known[cacheKey] { return cached }
        if let stored = try await store.providerKey(provider: provider, keyID: keyID) {
            let key = PublishedKey(keyID: keyID, algorithm: "", publicKey: stored)
            known[cacheKey] = key
            return key
        }
        if let answered = try await store.providerKeyNotFound(provider: provider, keyID: keyID),
            now.timeIntervalSince(answered) < Self.notFoundMemory, answered <= now
        {
            known[cacheKey] = .some(nil)
            return nil
        }
        // Lines are verified on several tasks at once: the first to need a key fetches it, the others
        // wait for it. The store is read with the ring free for others, so another task may have
        // fetched the key meanwhile.
        if let cached = known[cacheKey] { return cached }
        if let running = fetching[cacheKey] { return try await running.value }
        let fetch = Task { try await self.fetch(keyID, provider: provider, adapter: adapter) }
        fetching[cacheKey] = fetch
        defer { fetching[cacheKey] = nil }
        let fetched = try await fetch.value
        known[cacheKey] = .some(fetched)
        return fetched
    }

    /// Asks the provider for a key and keeps its answer (the key, or that it does not exist) in the store.
    private func fetch(_ keyID: String, provider: String, adapter: any ProviderAdapter) async throws -> PublishedKey? {
        let reader = readers[provider] ?? adapter.makeReader(logger: logger)
        readers[provider] = reader
        let fetched = try await reader.publicKey(id: keyID)
        if let fetched {
            try await store.saveProviderKey(
                provider: provider,
                keyID: keyID,
                algorithm: fetched.algorithm,
                publicKey: fetched.publicKey,
                at: now
            )
        } else {
            try await store.saveProviderKeyNotFound(provider: provider, keyID: keyID, at: now)
        }
        logger.info(
            "ingest.key_fetched",
            metadata: ["provider": "\(provider)", "key.id": "\(keyID)", "known": "\(fetched != nil)"]
        )
        return fetched
    }
}
