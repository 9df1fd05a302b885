import Foundation
import PostgresNIO

extension PostgresStore: ProviderKeyStore {
    public func providerKey(provider: String, keyID: String) async throws(StoreFailure) -> String? {
        try await rows(
            "read a provider key",
            """
            SELECT public_key FROM provider_key
            WHERE provider = \(provider) AND key_id = \(keyID) AND not_found_at IS NULL
            """,
            as: String.self
        ).first
    }

    /// Keeps a fetched public key; a key already kept is left as it is, a remembered 404 is replaced.
    public func saveProviderKey(
        provider: String,
        keyID: String,
        algorithm: String,
        publicKey: String,
        at time: Date
    ) async throws(StoreFailure) {
        _ = try await query(
            "keep a provider key",
            """
            INSERT INTO provider_key (provider, key_id, algorithm, public_key, fetched_at)
            VALUES (\(provider), \(keyID), \(algorithm), \(publicKey), \(Self.instant(time)))
            ON CONFLICT (provider, key_id) DO UPDATE SET
                algorithm = excluded.algorithm, public_key = excluded.public_key,
                fetched_at = excluded.fetched_at, not_found_at = NULL
            WHERE provider_key.not_found_at IS NOT NULL
            """
        )
    }

    public func providerKeyNotFound(provider: String, keyID: String) async throws(StoreFailure) -> Date? {
        try await rows(
            "read a provider key",
            """
            SELECT not_found_at FROM provider_key
            WHERE provider = \(provider) AND key_id = \(keyID) AND not_found_at IS NOT NULL
            """,
            as: Date.self
        ).first.map(Self.instant)
    }

    public func saveProviderKeyNotFound(provider: String, keyID: String, at time: Date) async throws(StoreFailure) {
        _ = try await query(
            "remember an unknown provider key",
            """
            INSERT INTO provider_key (provider, key_id, algorithm, public_key, fetched_at, not_found_at)
            VALUES (\(provider), \(keyID), '', '', \(Self.instant(time)), \(Self.instant(time)))
            ON CONFLICT (provider, key_id) DO UPDATE SET not_found_at = excluded.not_found_at,
                fetched_at = excluded.fetched_at
            WHERE provider_key.not_found_at IS NOT NULL
            """
        )
    }
}
