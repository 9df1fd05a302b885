#!/usr/bin/env python3
"""Writes N signed capture lines (job.md format) for the ingest benchmark.

Usage: make-capture.py N OUT.ndjson [credicorp|credify|crezco]
       make-capture.py --credify-public-key   (prints the Credify public key, base64)
       make-capture.py --crezco-key-answer    (prints Crezco's answer for key CREZCO_KEY_ID, SPKI PEM)
Credicorp (HMAC-SHA256): the public Standard Webhooks test secret (whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw).
Credify (Ed25519, needs Python's `cryptography`): a fixed benchmark key, signed for CREDIFY_URL.
Crezco (ECDSA P-256 over the body, needs Python's `cryptography`): a fixed benchmark key, one
event a delivery; the ingest fetches the public key from a loopback server once (ingest.sh).
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
CREZCO_KEY_ID = "bench-key-1"
CREZCO_URL = "https://hooks.example.com/crezco"


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


def crezco_key():
    from cryptography.hazmat.primitives.asymmetric import ec
    order = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
    return ec.derive_private_key(int.from_bytes(CREDIFY_SEED, "big") % (order - 1) + 1, ec.SECP256R1())


def crezco_key_answer() -> str:
    from cryptography.hazmat.primitives import serialization
    pem = crezco_key().public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return json.dumps({"keyId": CREZCO_KEY_ID, "algorithm": "ES256", "publicKey": pem})


def crezco(count: int, path: str) -> None:
    """N Payable events, one a delivery, on 50,000 payables."""
    from email.utils import format_datetime
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    key = crezco_key()
    start = datetime.datetime(2026, 7, 1, tzinfo=datetime.timezone.utc)
    compact = {"separators": (",", ":")}
    statuses = ["Created", "PaymentInitiated", "Paid"]
    organisation = str(uuid.UUID(int=7))
    with open(path, "w", encoding="utf-8") as out:
        for index in range(count):
            moment = start + datetime.timedelta(seconds=index)
            stamp = moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")
            event = {"eventId": str(uuid.UUID(int=index + 1)), "type": "Payable",
                     "id": str(uuid.UUID(int=(index % 50000) + (1 << 100))), "status": statuses[index % 3],
                     "timestamp": stamp, "organisationId": organisation, "version": "2024-06-30",
                     "payload": {"amount": 1000 + index, "currency": "GBP"}}
            body = json.dumps({"events": [event]}, **compact)
            signature = base64.b64encode(key.sign(body.encode(), ec.ECDSA(hashes.SHA256()))).decode()
            headers = {"Crezco-Signature": signature, "Crezco-Public-Key-Id": CREZCO_KEY_ID,
                       "Date": format_datetime(moment, usegmt=True)}
            line = {"provider": "crezco", "received_at": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "method": "POST", "url": CREZCO_URL, "headers": headers, "body": body}
            out.write(json.dumps(line, **compact) + "\n")


def main() -> None:
    if sys.argv[1] == "--credify-public-key":
        print(credify_public_key())
        return
    if sys.argv[1] == "--crezco-key-answer":
        print(crezco_key_answer())
        return
    count, path = int(sys.argv[1]), sys.argv[2]
    if len(sys.argv) > 3 and sys.argv[3] == "credify":
        credify(count, path)
        return
    if len(sys.argv) > 3 and sys.argv[3] == "crezco":
        crezco(count, path)
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
