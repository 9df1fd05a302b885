import Foundation
import GRDB

extension Store {
    /// A public key the provider published for its signatures, as fetched once (PEM or base64 text).
    public func providerKey(provider: String, keyID: String) throws(StoreFailure) -> String? {
        try read("read a provider key") { db in
            try String.fetchOne(
                db,
                sql: "SELECT publicKey FROM providerKey WHERE provider = ? AND keyID = ? AND notFoundAt IS NULL",
                arguments: [provider, keyID]
            )
        }
    }

    /// Keeps a fetched public key; a key already kept is left as it is, a remembered 404 is replaced.
    public func saveProviderKey(
        provider: String,
        keyID: String,
        algorithm: String,
        publicKey: String,
        at time: Date
    ) throws(StoreFailure) {
        try write("keep a provider key") { db in
            try db.execute(
                sql: """
                    INSERT INTO providerKey (provider, keyID, algorithm, publicKey, fetchedAt)
                    VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (provider, keyID) DO UPDATE SET
                        algorithm = excluded.algorithm, publicKey = excluded.publicKey,
                        fetchedAt = excluded.fetchedAt, notFoundAt = NULL
                    WHERE providerKey.notFoundAt IS NOT NULL
                    """,
                arguments: [provider, keyID, algorithm, publicKey, Store.text(time)]
            )
        }
    }

    /// When the provider last answered 404 for `keyID`, or nil when it did not (or the key is known).
    public func providerKeyNotFound(provider: String, keyID: String) throws(StoreFailure) -> Date? {
        let text = try read("read a provider key") { db in
            try String.fetchOne(
                db,
                sql: "SELECT notFoundAt FROM providerKey WHERE provider = ? AND keyID = ? AND notFoundAt IS NOT NULL",
                arguments: [provider, keyID]
            )
        }
        return Store.date(text)
    }

    /// Remembers that the provider answered 404 for `keyID` at `time`; a known key is never replaced.
    public func saveProviderKeyNotFound(provider: String, keyID: String, at time: Date) throws(StoreFailure) {
        try write("remember an unknown provider key") { db in
            try db.execute(
                sql: """
                    INSERT INTO providerKey (provider, keyID, algorithm, publicKey, fetchedAt, notFoundAt)
                    VALUES (?, ?, '', '', ?, ?)
                    ON CONFLICT (provider, keyID) DO UPDATE SET notFoundAt = excluded.notFoundAt,
                        fetchedAt = excluded.fetchedAt
                    WHERE providerKey.notFoundAt IS NOT NULL
                    """,
                arguments: [provider, keyID, Store.text(time), Store.text(time)]
            )
        }
    }
}
