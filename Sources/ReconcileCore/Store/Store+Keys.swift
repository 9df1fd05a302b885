import Foundation
import GRDB

extension Store {
    /// A public key the provider published for its signatures, as fetched once (PEM or base64 text).
    public func providerKey(provider: String, keyID: String) throws(StoreFailure) -> String? {
        try read("read a provider key") { db in
            try String.fetchOne(
                db,
                sql: "SELECT publicKey FROM providerKey WHERE provider = ? AND keyID = ?",
                arguments: [provider, keyID]
            )
        }
    }

    /// Keeps a fetched public key; a key id already kept is left as it is.
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
                    INSERT OR IGNORE INTO providerKey (provider, keyID, algorithm, publicKey, fetchedAt)
                    VALUES (?, ?, ?, ?, ?)
                    """,
                arguments: [provider, keyID, algorithm, publicKey, Store.text(time)]
            )
        }
    }
}
