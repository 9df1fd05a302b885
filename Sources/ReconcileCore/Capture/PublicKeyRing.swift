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
/// A key id the provider answers 404 for is remembered as unknown for the rest of the process. A
/// provider that cannot be reached throws: ingest stops rather than reject a delivery it could not judge.
public actor PublicKeyRing {
    let store: Store
    let logger: Logger
    private var known: [String: PublishedKey?] = [:]
    private var readers: [String: any ProviderReader] = [:]

    public init(store: Store, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    /// The key `keyID` of `adapter`'s provider, or nil when the provider does not know it.
    public func key(_ keyID: String, for adapter: any ProviderAdapter) async throws -> PublishedKey? {
        let provider = adapter.config.name
        let cacheKey = provider + "\u{0}" + keyID
        if let cached = known[cacheKey] { return cached }
        if let stored = try store.providerKey(provider: provider, keyID: keyID) {
            let key = PublishedKey(keyID: keyID, algorithm: "", publicKey: stored)
            known[cacheKey] = key
            return key
        }
        let reader = readers[provider] ?? adapter.makeReader(logger: logger)
        readers[provider] = reader
        let fetched = try await reader.publicKey(id: keyID)
        if let fetched {
            try store.saveProviderKey(
                provider: provider,
                keyID: keyID,
                algorithm: fetched.algorithm,
                publicKey: fetched.publicKey,
                at: Date()
            )
        }
        logger.info(
            "ingest.key_fetched",
            metadata: ["provider": "\(provider)", "key.id": "\(keyID)", "known": "\(fetched != nil)"]
        )
        known[cacheKey] = .some(fetched)
        return fetched
    }
}
