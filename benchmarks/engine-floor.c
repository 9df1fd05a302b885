// The storage engine's floor for an ingest: replays the rows a `reconcile ingest` wrote into a
// fresh store, with the same statements, the same per-line order, the same batches of 500 lines
// (one transaction each) and the same connection settings, but none of the product's work (no
// parsing, no verification, no text made). The time it takes is what SQLite alone needs for that
// ingest on this machine: no ingest that writes these rows can be faster on one writing connection.
//
//   cc -O2 -o engine-floor benchmarks/engine-floor.c -lsqlite3
//   engine-floor SOURCE.sqlite DEST.sqlite [SCHEMA.sql]
//
// SOURCE is a store an ingest filled. DEST must not exist. A batch here is 500 recorded deliveries; the
// ingest's batches count input lines, which are the same when no line is a repeat or unreadable. SCHEMA (optional) is the DDL for the four
// tables and their indexes, to try another layout; without it DEST gets SOURCE's own DDL.
// FLOOR_DELIVERIES_ONLY=1 writes only the delivery rows: what keeping the raw lines alone costs.
// All rows are loaded into memory first (about 5 GB for 1,000,000 lines).
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    sqlite3_value **delivery;  // 17 columns, in table order
    sqlite3_value ***events;   // per event: 13 columns of `event`
    int eventCount;
    sqlite3_value ***states;   // per event: its resource's 10 columns of `resourceState`, or NULL
} Line;

static void fail(sqlite3 *db, const char *what) {
    fprintf(stderr, "engine-floor: %s: %s\n", what, db ? sqlite3_errmsg(db) : "");
    exit(1);
}

static sqlite3_stmt *prepare(sqlite3 *db, const char *sql) {
    sqlite3_stmt *statement = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &statement, NULL) != SQLITE_OK) fail(db, sql);
    return statement;
}

static sqlite3_value **row(sqlite3_stmt *statement) {
    int count = sqlite3_column_count(statement);
    sqlite3_value **values = malloc(sizeof *values * count);
    for (int i = 0; i < count; i++) values[i] = sqlite3_value_dup(sqlite3_column_value(statement, i));
    return values;
}

static void exec(sqlite3 *db, const char *sql) {
    char *message = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &message) != SQLITE_OK) {
        fprintf(stderr, "engine-floor: %s: %s\n", sql, message);
        exit(1);
    }
}

static int run(sqlite3 *db, sqlite3_stmt *statement) {
    int status = sqlite3_step(statement);
    if (status != SQLITE_DONE && status != SQLITE_ROW) fail(db, sqlite3_sql(statement));
    int changed = status == SQLITE_DONE ? sqlite3_changes(db) : 1;
    sqlite3_reset(statement);
    return changed;
}

static char *readFile(const char *path) {
    FILE *file = fopen(path, "rb");
    if (!file) {
        perror(path);
        exit(1);
    }
    fseek(file, 0, SEEK_END);
    long size = ftell(file);
    rewind(file);
    char *text = malloc(size + 1);
    if (fread(text, 1, size, file) != (size_t)size) exit(1);
    text[size] = 0;
    fclose(file);
    return text;
}

static double seconds(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec + now.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: engine-floor SOURCE.sqlite DEST.sqlite [SCHEMA.sql]\n");
        return 2;
    }
    // As `reconcile` runs SQLite (SQLiteProcess.disableMemoryStatistics); FLOOR_MEMSTATUS=1 leaves them on.
    if (!getenv("FLOOR_MEMSTATUS")) sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    sqlite3 *source = NULL;
    if (sqlite3_open_v2(argv[1], &source, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) fail(source, argv[1]);

    // Load every line's rows first, so that the timed part reads nothing.
    int capacity = 1024, count = 0;
    Line *lines = malloc(sizeof *lines * capacity);
    sqlite3_stmt *deliveries = prepare(source, "SELECT * FROM delivery ORDER BY id");
    sqlite3_stmt *events = prepare(
        source,
        "SELECT e.* FROM deliveryEvent d JOIN event e ON e.provider = d.provider AND e.eventID = d.eventID "
        "WHERE d.deliveryID = ? ORDER BY d.rowid");
    sqlite3_stmt *states = prepare(
        source, "SELECT * FROM resourceState WHERE provider = ? AND resourceType = ? AND resourceID = ?");
    while (sqlite3_step(deliveries) == SQLITE_ROW) {
        if (count == capacity) lines = realloc(lines, sizeof *lines * (capacity *= 2));
        Line *line = &lines[count++];
        line->delivery = row(deliveries);
        line->eventCount = 0;
        line->events = NULL;
        line->states = NULL;
        sqlite3_bind_int64(events, 1, sqlite3_column_int64(deliveries, 0));
        while (sqlite3_step(events) == SQLITE_ROW) {
            line->events = realloc(line->events, sizeof *line->events * (line->eventCount + 1));
            line->states = realloc(line->states, sizeof *line->states * (line->eventCount + 1));
            line->events[line->eventCount] = row(events);
            for (int i = 0; i < 3; i++)
                sqlite3_bind_value(states, i + 1, sqlite3_column_value(events, i == 0 ? 0 : i + 2));
            line->states[line->eventCount] = sqlite3_step(states) == SQLITE_ROW ? row(states) : NULL;
            sqlite3_reset(states);
            line->eventCount++;
        }
        sqlite3_reset(events);
    }

    // The destination: the source's DDL for the four tables (or the given one), the product's settings.
    if (access(argv[2], F_OK) == 0) {
        fprintf(stderr, "engine-floor: %s exists: give a path to a new file\n", argv[2]);
        return 2;
    }
    sqlite3 *db = NULL;
    // As GRDB opens its connections: multi-thread mode, no mutex per call.
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(argv[2], &db, flags, NULL) != SQLITE_OK) fail(db, argv[2]);
    // As the store's writing connection: GRDB turns foreign keys on; the ingest's WAL settings.
    exec(db, "PRAGMA foreign_keys = ON; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; "
             "PRAGMA cache_size = -16384; PRAGMA wal_autocheckpoint = 8000");
    if (argc > 3) {
        exec(db, readFile(argv[3]));
    } else {
        sqlite3_stmt *ddl = prepare(
            source,
            "SELECT sql FROM sqlite_schema WHERE tbl_name IN ('delivery', 'deliveryEvent', 'event', 'resourceState') "
            "AND sql IS NOT NULL ORDER BY type DESC");
        while (sqlite3_step(ddl) == SQLITE_ROW) exec(db, (const char *)sqlite3_column_text(ddl, 0));
        sqlite3_finalize(ddl);
    }

    sqlite3_stmt *insertDelivery = prepare(
        db,
        "INSERT INTO delivery (fingerprint, provider, receivedAt, recordedAt, method, url, headers, body, verdict, "
        "reason, detail, eventID, resourceType, resourceID, sourceName, lineNumber) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (fingerprint) DO NOTHING");
    sqlite3_stmt *linkEvent =
        prepare(db, "INSERT OR IGNORE INTO deliveryEvent (deliveryID, provider, eventID) VALUES (?, ?, ?)");
    sqlite3_stmt *insertEvent = prepare(
        db,
        "INSERT OR IGNORE INTO event (provider, eventID, eventType, resourceType, resourceID, occurredAt, payload, "
        "payloadDelivery, payloadPointer, source, firstReceivedAt, recordedAt, runID) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    sqlite3_stmt *updateFirstReceived = prepare(
        db,
        "UPDATE event SET firstReceivedAt = ? WHERE provider = ? AND eventID = ? "
        "AND (firstReceivedAt IS NULL OR firstReceivedAt > ?)");
    sqlite3_stmt *readAsOf =
        prepare(db, "SELECT asOf FROM resourceState WHERE provider = ? AND resourceType = ? AND resourceID = ?");
    sqlite3_stmt *saveState = prepare(
        db,
        "INSERT INTO resourceState (provider, resourceType, resourceID, status, asOf, object, amountMinor, currency, "
        "updatedBy, updatedAt) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (provider, resourceType, resourceID) DO UPDATE SET status = excluded.status, "
        "asOf = excluded.asOf, object = excluded.object, amountMinor = excluded.amountMinor, "
        "currency = excluded.currency, updatedBy = excluded.updatedBy, updatedAt = excluded.updatedAt");

    // FLOOR_DELIVERIES_ONLY=1: only the delivery rows, to see what the raw lines alone cost.
    int deliveriesOnly = getenv("FLOOR_DELIVERIES_ONLY") != NULL;
    double start = seconds();
    for (int first = 0; first < count; first += 500) {
        exec(db, "BEGIN IMMEDIATE");
        for (int n = first; n < count && n < first + 500; n++) {
            Line *line = &lines[n];
            for (int i = 0; i < 16; i++) sqlite3_bind_value(insertDelivery, i + 1, line->delivery[i + 1]);
            if (!run(db, insertDelivery)) continue;
            if (deliveriesOnly) continue;
            sqlite3_int64 deliveryID = sqlite3_last_insert_rowid(db);
            for (int e = 0; e < line->eventCount; e++) {
                sqlite3_value **event = line->events[e];
                sqlite3_bind_int64(linkEvent, 1, deliveryID);
                sqlite3_bind_value(linkEvent, 2, event[0]);
                sqlite3_bind_value(linkEvent, 3, event[1]);
                run(db, linkEvent);
                for (int i = 0; i < 13; i++) sqlite3_bind_value(insertEvent, i + 1, event[i]);
                if (sqlite3_value_type(event[7]) != SQLITE_NULL) sqlite3_bind_int64(insertEvent, 8, deliveryID);
                if (!run(db, insertEvent)) {
                    // An event received before: its first receipt may move earlier.
                    sqlite3_bind_value(updateFirstReceived, 1, line->delivery[3]);
                    sqlite3_bind_value(updateFirstReceived, 2, event[0]);
                    sqlite3_bind_value(updateFirstReceived, 3, event[1]);
                    sqlite3_bind_value(updateFirstReceived, 4, line->delivery[3]);
                    run(db, updateFirstReceived);
                }
                sqlite3_value **state = line->states[e];
                if (!state) continue;
                // As the ingest: the row's asOf read, and the row written only for a newer event
                // (the same RFC 3339 text with milliseconds on both sides, so text order is time order).
                for (int i = 0; i < 3; i++) sqlite3_bind_value(readAsOf, i + 1, state[i]);
                int stored = sqlite3_step(readAsOf);
                if (stored != SQLITE_ROW && stored != SQLITE_DONE) fail(db, sqlite3_sql(readAsOf));
                int newer = stored == SQLITE_DONE ||
                            strcmp((const char *)sqlite3_column_text(readAsOf, 0),
                                   (const char *)sqlite3_value_text(event[5])) < 0;
                sqlite3_reset(readAsOf);
                if (!newer) continue;
                // The resource's last row, with the event's time as its asOf, so that the next event
                // of the resource is compared as the ingest compares it.
                for (int i = 0; i < 10; i++) sqlite3_bind_value(saveState, i + 1, i == 4 ? event[5] : state[i]);
                run(db, saveState);
            }
        }
        exec(db, "COMMIT");
    }
    double written = seconds();
    sqlite3_finalize(insertDelivery);
    sqlite3_finalize(linkEvent);
    sqlite3_finalize(insertEvent);
    sqlite3_finalize(updateFirstReceived);
    sqlite3_finalize(readAsOf);
    sqlite3_finalize(saveState);
    if (sqlite3_close(db) != SQLITE_OK) fail(db, "close");  // checkpoints and removes the WAL
    double closed = seconds();
    printf("%d lines: %.2f s written, %.2f s with the last checkpoint: %.1f us a line, %.0f lines/s\n", count,
           written - start, closed - start, (closed - start) * 1e6 / count, count / (closed - start));
    return 0;
}
