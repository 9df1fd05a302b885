#!/usr/bin/env python3
"""The naive reconciler issue #10 measures against: Python's standard library and sqlite3, no care.

Usage: naive.py ingest STORE CAPTURE.ndjson
       naive.py run STORE BASE_URL [--dry-run] REPORT.json
Environment: CREDICORP_WHSEC and CREDICORP_WHSEC_PREVIOUS (ingest), CREDICORP_API_KEY (run),
RECONCILE_NOW (the clock). Credicorp only; a window of 8 days before RECONCILE_NOW.

It does what a first script would: verify each line's Standard Webhooks signature, keep the line,
its event and the newest state of its object; then list the window's events and objects from the
read API (pages of 100), report events never received (dropped or pending by the 72 h retry
window), states that differ, objects missing locally, out-of-order and duplicate deliveries, and
repair the store. It is the yardstick for `reconcile`'s speed (benchmarks/naive.sh), not a
reference for its findings: it checks less (no 404s for unknown resources, no endpoint, no
report history) and trusts the provider's answers.
"""
import base64
import datetime
import hashlib
import hmac
import json
import os
import sqlite3
import sys
import urllib.parse
import urllib.request

SCHEMA = """
CREATE TABLE IF NOT EXISTS delivery (id INTEGER PRIMARY KEY, fingerprint TEXT UNIQUE, event_id TEXT,
    received_at TEXT, headers TEXT, body TEXT, valid INTEGER);
CREATE TABLE IF NOT EXISTS event (id TEXT PRIMARY KEY, type TEXT, object_type TEXT, object_id TEXT,
    created TEXT, first_received TEXT, source TEXT, payload TEXT);
CREATE INDEX IF NOT EXISTS event_object ON event (object_type, object_id);
CREATE INDEX IF NOT EXISTS event_created ON event (created);
CREATE TABLE IF NOT EXISTS state (object_type TEXT, object_id TEXT, status TEXT, updated TEXT, object TEXT,
    PRIMARY KEY (object_type, object_id));
"""
RETRY_WINDOW = datetime.timedelta(hours=72)
LISTS = {"enquiry": "enquiries", "decision": "decisions", "payment": "payments"}


def parse_time(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def verify(headers, body, keys, received_at):
    headers = {k.lower(): v for k, v in headers.items()}
    event_id, stamp = headers.get("webhook-id", ""), headers.get("webhook-timestamp", "")
    if not stamp.isdigit() or abs(int(stamp) - received_at.timestamp()) > 300:
        return False
    signed = f"{event_id}.{stamp}.{body}".encode()
    for key in keys:
        expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
        for part in headers.get("webhook-signature", "").split():
            if part.startswith("v1,") and hmac.compare_digest(part[3:], expected):
                return True
    return False


def keep_state(db, obj):
    row = db.execute("SELECT updated FROM state WHERE object_type = ? AND object_id = ?",
                     (obj["object"], obj["id"])).fetchone()
    if row is None or row[0] < obj["updated"]:
        db.execute("INSERT OR REPLACE INTO state VALUES (?, ?, ?, ?, ?)",
                   (obj["object"], obj["id"], obj.get("status"), obj["updated"], json.dumps(obj)))


def ingest(store, capture):
    keys = [base64.b64decode(os.environ[name][len("whsec_"):])
            for name in ("CREDICORP_WHSEC", "CREDICORP_WHSEC_PREVIOUS") if os.environ.get(name)]
    db = sqlite3.connect(store)
    db.executescript(SCHEMA)
    accepted = duplicates = rejected = 0
    with open(capture, encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            record = json.loads(line)
            fingerprint = hashlib.sha256(line.encode()).hexdigest()
            received = parse_time(record["received_at"])
            valid = verify(record["headers"], record["body"], keys, received)
            cursor = db.execute("INSERT OR IGNORE INTO delivery (fingerprint, event_id, received_at, headers, body, valid)"
                                " VALUES (?, ?, ?, ?, ?, ?)",
                                (fingerprint, record["headers"].get("webhook-id"), record["received_at"],
                                 json.dumps(record["headers"]), record["body"], int(valid)))
            if cursor.rowcount == 0:
                duplicates += 1
                continue
            if not valid:
                rejected += 1
                continue
            accepted += 1
            event = json.loads(record["body"])
            obj = event["data"]["object"]
            db.execute("INSERT OR IGNORE INTO event VALUES (?, ?, ?, ?, ?, ?, 'webhook', ?)",
                       (event["id"], event["type"], obj["object"], obj["id"], event["created"],
                        record["received_at"], record["body"]))
            db.execute("UPDATE event SET first_received = min(first_received, ?) WHERE id = ?",
                       (record["received_at"], event["id"]))
            keep_state(db, obj)
            if number % 1000 == 0:
                db.commit()
    db.commit()
    print(f"ingest: {accepted} accepted, {duplicates} duplicates, {rejected} rejected")


def listing(base_url, key, path, params, counter):
    after = None
    while True:
        query = dict(params, limit="100")
        if after:
            query["starting_after"] = after
        request = urllib.request.Request(f"{base_url}{path}?{urllib.parse.urlencode(query)}",
                                         headers={"Authorization": f"Bearer {key}"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            page = json.loads(answer.read())
        counter[0] += 1
        yield from page["data"]
        if not page["has_more"] or not page["data"]:
            return
        after = page["data"][-1]["id"]


def run(store, base_url, dry_run, report_path):
    key = os.environ["CREDICORP_API_KEY"]
    now = parse_time(os.environ["RECONCILE_NOW"])
    since, until = now - datetime.timedelta(days=8), now
    stamp = lambda moment: moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    window = {"created_gte": stamp(since), "created_lt": stamp(until)}
    db = sqlite3.connect(store)
    requests, findings, repairs = [0], [], 0
    for event in listing(base_url, key, "/public/v1/events", window, requests):
        if db.execute("SELECT 1 FROM event WHERE id = ?", (event["id"],)).fetchone():
            continue
        obj = event["data"]["object"]
        dropped = now - parse_time(event["created"]) > RETRY_WINDOW
        findings.append({"kind": "dropped_event" if dropped else "pending_event", "event_id": event["id"],
                         "resource_type": obj["object"], "resource_id": obj["id"]})
        if dropped and not dry_run:
            db.execute("INSERT INTO event VALUES (?, ?, ?, ?, ?, NULL, 'reconciliation', ?)",
                       (event["id"], event["type"], obj["object"], obj["id"], event["created"], json.dumps(event)))
            repairs += 1
    for object_type, path in LISTS.items():
        updated = {"updated_gte": stamp(since), "updated_lt": stamp(until)}
        for obj in listing(base_url, key, f"/public/v1/{path}", updated, requests):
            row = db.execute("SELECT status, updated FROM state WHERE object_type = ? AND object_id = ?",
                             (object_type, obj["id"])).fetchone()
            if row is None:
                findings.append({"kind": "missing_locally", "resource_type": object_type, "resource_id": obj["id"]})
            elif row[0] != obj.get("status") or row[1] < obj["updated"]:
                if row[1] > obj["updated"]:
                    continue
                findings.append({"kind": "state_mismatch", "resource_type": object_type, "resource_id": obj["id"],
                                 "local": row[0], "remote": obj.get("status")})
            else:
                continue
            if not dry_run:
                keep_state(db, obj)
                repairs += 1
    for event_id, object_type, object_id in db.execute(
            "SELECT e.id, e.object_type, e.object_id FROM event e WHERE e.created >= ? AND e.created < ?"
            " AND e.first_received IS NOT NULL AND EXISTS (SELECT 1 FROM event n WHERE n.object_type = e.object_type"
            " AND n.object_id = e.object_id AND n.created > e.created AND n.first_received < e.first_received)",
            (stamp(since), stamp(until))).fetchall():
        findings.append({"kind": "out_of_order", "event_id": event_id, "resource_type": object_type,
                         "resource_id": object_id})
    for event_id, count in db.execute(
            "SELECT event_id, COUNT(*) FROM delivery WHERE valid = 1 AND received_at >= ? AND received_at < ?"
            " GROUP BY event_id HAVING COUNT(*) > 1", (stamp(since), stamp(until))).fetchall():
        findings.append({"kind": "duplicate_delivery", "event_id": event_id, "deliveries": count})
    db.commit()
    with open(report_path, "w", encoding="utf-8") as out:
        json.dump({"findings": findings, "repairs": repairs,
                   "providers": [{"name": "credicorp", "api_requests": requests[0]}]}, out, indent=2)


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "ingest":
        ingest(sys.argv[2], sys.argv[3])
    elif len(sys.argv) >= 5 and sys.argv[1] == "run":
        run(sys.argv[2], sys.argv[3], "--dry-run" in sys.argv[4:], sys.argv[-1])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
