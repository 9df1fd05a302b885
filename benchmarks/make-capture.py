#!/usr/bin/env python3
"""Writes N signed Credicorp capture lines (job.md format) for the ingest benchmark.

Usage: make-capture.py N OUT.ndjson
Secret: the public Standard Webhooks test secret (whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw).
"""
import base64
import datetime
import hashlib
import hmac
import json
import sys

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def main() -> None:
    count, path = int(sys.argv[1]), sys.argv[2]
    key = base64.b64decode(SECRET[len("whsec_"):])
    start = datetime.datetime(2026, 7, 1, tzinfo=datetime.timezone.utc)
    compact = {"separators": (",", ":")}
    with open(path, "w", encoding="utf-8") as out:
        for index in range(count):
            moment = start + datetime.timedelta(seconds=index)
            stamp = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
            event_id = f"evt_{index:08d}"
            payment = {
                "id": f"pay_{index % 50000:06d}", "object": "payment", "amount": 1000 + index,
                "currency": "GBP", "status": "succeeded", "created": stamp, "updated": stamp,
            }
            body = json.dumps(
                {"id": event_id, "type": "payment.succeeded", "created": stamp, "livemode": False,
                 "api_version": "2026-07-01", "data": {"object": payment}},
                **compact,
            )
            unix = str(int(moment.timestamp()))
            digest = hmac.new(key, f"{event_id}.{unix}.{body}".encode(), hashlib.sha256).digest()
            headers = {"webhook-id": event_id, "webhook-timestamp": unix,
                       "webhook-signature": "v1," + base64.b64encode(digest).decode()}
            line = {"provider": "credicorp", "received_at": stamp, "method": "POST",
                    "url": "https://hooks.example.com/credicorp", "headers": headers, "body": body}
            out.write(json.dumps(line, **compact) + "\n")


if __name__ == "__main__":
    main()
