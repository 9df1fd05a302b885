#!/usr/bin/env python3
"""Writes N signed capture lines (job.md format) for the ingest benchmark.

Usage: make-capture.py N OUT.ndjson [credicorp|credify]
       make-capture.py --credify-public-key   (prints the Credify public key, base64)
Credicorp (HMAC-SHA256): the public Standard Webhooks test secret (whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw).
Credify (Ed25519, needs Python's `cryptography`): a fixed benchmark key, signed for CREDIFY_URL.
"""
import base64
import datetime
import hashlib
import hmac
import json
import sys
import uuid

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
CREDIFY_URL = "https://hooks.example.com/credify"
# Not a secret: a fixed key so that every run signs the same capture.
CREDIFY_SEED = hashlib.sha256(b"webhook-reconcile ingest benchmark").digest()


def credify_key():
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    return Ed25519PrivateKey.from_private_bytes(CREDIFY_SEED)


def credify_public_key() -> str:
    from cryptography.hazmat.primitives import serialization
    raw = credify_key().public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def credify(count: int, path: str) -> None:
    """N BNPL order status events, one delivery each, on 50,000 orders."""
    key = credify_key()
    start = datetime.datetime(2026, 7, 1, tzinfo=datetime.timezone.utc)
    compact = {"separators": (",", ":")}
    statuses = ["PENDING", "APPROVED", "PAID"]
    with open(path, "w", encoding="utf-8") as out:
        for index in range(count):
            moment = start + datetime.timedelta(seconds=index)
            stamp = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
            event_id = str(uuid.UUID(int=index + 1))
            order = str(uuid.UUID(int=(index % 50000) + (1 << 100)))
            body = json.dumps({"type": "BNPL_ORDER_STATUS_UPDATED", "order_id": order,
                               "order_status": statuses[index % 3]}, **compact)
            digest = base64.urlsafe_b64encode(hashlib.sha256(body.encode()).digest()).decode().rstrip("=")
            message = f"POST\n{CREDIFY_URL}\n{event_id}\n{stamp}\n{digest}".encode()
            signature = base64.urlsafe_b64encode(key.sign(message)).decode().rstrip("=")
            headers = {"x-event-id": event_id, "x-event-timestamp": stamp, "x-signature-algorithm": "EdDSA",
                       "signature": signature}
            line = {"provider": "credify", "received_at": stamp, "method": "POST", "url": CREDIFY_URL,
                    "headers": headers, "body": body}
            out.write(json.dumps(line, **compact) + "\n")


def main() -> None:
    if sys.argv[1] == "--credify-public-key":
        print(credify_public_key())
        return
    count, path = int(sys.argv[1]), sys.argv[2]
    if len(sys.argv) > 3 and sys.argv[3] == "credify":
        credify(count, path)
        return
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
