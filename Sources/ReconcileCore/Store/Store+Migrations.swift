import GRDB

extension Store {
    /// Forward-only, named migrations; a shipped migration is never edited.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1 deliveries, events, state, runs") { db in
            try db.execute(
                sql: """
                    CREATE TABLE delivery (
                        id INTEGER PRIMARY KEY,
                        fingerprint TEXT NOT NULL UNIQUE,
                        provider TEXT,
                        receivedAt TEXT,
                        recordedAt TEXT NOT NULL,
                        method TEXT,
                        url TEXT,
                        headers TEXT,
                        body BLOB,
                        verdict TEXT NOT NULL CHECK (verdict IN ('accepted', 'rejected')),
                        reason TEXT,
                        detail TEXT,
                        eventID TEXT,
                        resourceType TEXT,
                        resourceID TEXT,
                        sourceName TEXT,
                        lineNumber INTEGER
                    );
                    CREATE INDEX delivery_received ON delivery(provider, receivedAt);
                    CREATE TABLE deliveryEvent (
                        deliveryID INTEGER NOT NULL REFERENCES delivery(id) ON DELETE CASCADE,
                        provider TEXT NOT NULL,
                        eventID TEXT NOT NULL,
                        PRIMARY KEY (deliveryID, eventID)
                    );
                    CREATE INDEX deliveryEvent_event ON deliveryEvent(provider, eventID);
                    CREATE TABLE event (
                        provider TEXT NOT NULL,
                        eventID TEXT NOT NULL,
                        eventType TEXT NOT NULL,
                        resourceType TEXT NOT NULL,
                        resourceID TEXT NOT NULL,
                        occurredAt TEXT NOT NULL,
                        payload TEXT NOT NULL,
                        source TEXT NOT NULL CHECK (source IN ('webhook', 'reconciliation')),
                        firstReceivedAt TEXT,
                        recordedAt TEXT NOT NULL,
                        runID TEXT,
                        PRIMARY KEY (provider, eventID)
                    );
                    CREATE INDEX event_occurred ON event(provider, occurredAt);
                    CREATE INDEX event_resource ON event(provider, resourceType, resourceID);
                    CREATE TABLE resourceState (
                        provider TEXT NOT NULL,
                        resourceType TEXT NOT NULL,
                        resourceID TEXT NOT NULL,
                        status TEXT,
                        asOf TEXT NOT NULL,
                        object TEXT NOT NULL DEFAULT '{}',
                        amountMinor INTEGER,
                        currency TEXT CHECK (currency IS NULL OR length(currency) = 3),
                        updatedBy TEXT NOT NULL DEFAULT 'application',
                        updatedAt TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
                        PRIMARY KEY (provider, resourceType, resourceID)
                    );
                    CREATE TABLE run (
                        id TEXT PRIMARY KEY,
                        job TEXT NOT NULL,
                        command TEXT NOT NULL,
                        startedAt TEXT NOT NULL,
                        finishedAt TEXT,
                        now TEXT NOT NULL,
                        since TEXT NOT NULL,
                        until TEXT NOT NULL,
                        dryRun INTEGER NOT NULL,
                        status TEXT NOT NULL,
                        exitStatus INTEGER,
                        report TEXT
                    );
                    CREATE INDEX run_job ON run(job, startedAt);
                    CREATE TABLE finding (
                        id INTEGER PRIMARY KEY,
                        runID TEXT NOT NULL REFERENCES run(id) ON DELETE CASCADE,
                        findingKey TEXT NOT NULL,
                        kind TEXT NOT NULL,
                        provider TEXT,
                        resourceType TEXT,
                        resourceID TEXT,
                        eventID TEXT,
                        deliveryID INTEGER,
                        isNew INTEGER NOT NULL,
                        repaired INTEGER NOT NULL,
                        details TEXT NOT NULL
                    );
                    CREATE INDEX finding_key ON finding(findingKey);
                    CREATE INDEX finding_run ON finding(runID);
                    CREATE TABLE repair (
                        id INTEGER PRIMARY KEY,
                        runID TEXT NOT NULL REFERENCES run(id) ON DELETE CASCADE,
                        provider TEXT NOT NULL,
                        resourceType TEXT NOT NULL,
                        resourceID TEXT NOT NULL,
                        eventID TEXT,
                        action TEXT NOT NULL,
                        before TEXT,
                        after TEXT,
                        at TEXT NOT NULL
                    );
                    CREATE INDEX repair_run ON repair(runID);
                    """
            )
        }
        migrator.registerMigration("v2 provider public keys") { db in
            try db.execute(
                sql: """
                    CREATE TABLE providerKey (
                        provider TEXT NOT NULL,
                        keyID TEXT NOT NULL,
                        algorithm TEXT NOT NULL,
                        publicKey TEXT NOT NULL,
                        fetchedAt TEXT NOT NULL,
                        PRIMARY KEY (provider, keyID)
                    );
                    """
            )
        }
        migrator.registerMigration("v3 backfill checkpoints") { db in
            try db.execute(
                sql: """
                    CREATE TABLE backfill (
                        id TEXT PRIMARY KEY,
                        job TEXT NOT NULL,
                        provider TEXT NOT NULL,
                        since TEXT NOT NULL,
                        until TEXT NOT NULL,
                        status TEXT NOT NULL CHECK (status IN ('running', 'complete')),
                        startedAt TEXT NOT NULL,
                        updatedAt TEXT NOT NULL
                    );
                    CREATE TABLE backfillPage (
                        backfillID TEXT NOT NULL REFERENCES backfill(id) ON DELETE CASCADE,
                        requestKey TEXT NOT NULL,
                        status INTEGER NOT NULL,
                        body BLOB NOT NULL,
                        savedAt TEXT NOT NULL,
                        PRIMARY KEY (backfillID, requestKey)
                    );
                    """
            )
        }
        migrator.registerMigration("v4 provider keys answered 404") { db in
            // A key id the provider answered 404 for: a row with empty key and the time of the answer.
            try db.execute(sql: "ALTER TABLE providerKey ADD COLUMN notFoundAt TEXT")
        }
        migrator.registerMigration("v5 webhook event payloads kept once, in their delivery") { db in
            // A webhook event's payload is part of its delivery's raw body: the row keeps where
            // (the delivery and a JSON Pointer into its body) instead of a second copy. `payload`
            // holds the text only for events a repair recorded, and for webhook events whose
            // delivery retention removed (it copies the payload out first). Rows written before
            // keep their text. SQLite cannot relax NOT NULL in place: the table is rebuilt.
            try db.execute(
                sql: """
                    CREATE TABLE event_v5 (
                        provider TEXT NOT NULL,
                        eventID TEXT NOT NULL,
                        eventType TEXT NOT NULL,
                        resourceType TEXT NOT NULL,
                        resourceID TEXT NOT NULL,
                        occurredAt TEXT NOT NULL,
                        payload TEXT,
                        payloadDelivery INTEGER,
                        payloadPointer TEXT,
                        source TEXT NOT NULL CHECK (source IN ('webhook', 'reconciliation')),
                        firstReceivedAt TEXT,
                        recordedAt TEXT NOT NULL,
                        runID TEXT,
                        PRIMARY KEY (provider, eventID),
                        CHECK ((payload IS NULL) = (payloadDelivery IS NOT NULL)),
                        CHECK ((payloadDelivery IS NULL) = (payloadPointer IS NULL))
                    );
                    INSERT INTO event_v5 (provider, eventID, eventType, resourceType, resourceID, occurredAt, payload,
                        source, firstReceivedAt, recordedAt, runID)
                    SELECT provider, eventID, eventType, resourceType, resourceID, occurredAt, payload,
                        source, firstReceivedAt, recordedAt, runID FROM event;
                    DROP TABLE event;
                    ALTER TABLE event_v5 RENAME TO event;
                    CREATE INDEX event_occurred ON event(provider, occurredAt);
                    CREATE INDEX event_resource ON event(provider, resourceType, resourceID);
                    """
            )
        }
        migrator.registerMigration("v6 local rows found by provider time") { db in
            // A run reads the local rows whose `asOf` is in its window, comparing by `julianday`
            // (the application may write `…22Z` or `…22.000Z`); without this it read every row.
            try db.execute(sql: "CREATE INDEX resourceState_asOf ON resourceState(provider, julianday(asOf))")
        }
        migrator.registerMigration("v7 the entries each run read, and rounds of shared runs") { db in
            // Rounds are PostgreSQL's (runs of many hosts sharing a night); a SQLite store serves
            // one host, but keeps the same records so that both engines answer alike. An entry is
            // recorded once per round (the unique index), whatever two hosts believe.
            try db.execute(
                sql: """
                    ALTER TABLE run ADD COLUMN round TEXT;
                    CREATE INDEX run_round ON run(job, round) WHERE round IS NOT NULL;
                    CREATE TABLE runEntry (
                        runID TEXT NOT NULL REFERENCES run(id) ON DELETE CASCADE,
                        job TEXT NOT NULL,
                        round TEXT,
                        provider TEXT NOT NULL,
                        status TEXT NOT NULL,
                        report TEXT,
                        PRIMARY KEY (runID, provider)
                    );
                    CREATE INDEX runEntry_provider ON runEntry(job, provider, status);
                    CREATE UNIQUE INDEX runEntry_once ON runEntry(job, round, provider)
                        WHERE round IS NOT NULL AND status != 'interrupted';
                    """
            )
        }
        migrator.registerMigration("v8 rejected deliveries found without reading the others") { db in
            // A run reports the rejected deliveries of its window, per provider and then for lines
            // of no provider of the job: a few rows, which were found by reading every delivery row
            // of the window (per provider), or of the file (the others), bodies and all: 0.05 s a
            // run on the #10 world's 94,055 deliveries. Only rejected rows are in this index.
            try db.execute(
                sql: "CREATE INDEX delivery_rejected ON delivery(provider, receivedAt) WHERE verdict = 'rejected'"
            )
        }
        return migrator
    }
}
