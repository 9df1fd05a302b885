import Crypto
import Foundation

@testable import ReconcileCore

/// Validly signed capture lines for the seed corpus, one per provider, made with the fixed fuzz keys.
enum FuzzSeeds {
    static let received = "2026-07-04T09:15:25.120Z"

    static func lines() -> [(String, String)] {
        var lines: [(String, String)] = []
        let credicorpBody =
            #"{"id":"evt_1","type":"payment.succeeded","created":"2026-07-04T09:15:22Z","livemode":false,"api_version":"2026-07-01","data":{"object":{"id":"pay_1","object":"payment","amount":125000,"currency":"GBP","status":"succeeded","decision":"dec_1","created":"2026-07-01T00:00:00Z","updated":"2026-07-04T09:15:22Z"}}}"#
        let timestamp = "1783156525"
        let signature =
            StandardWebhooksV1.sign(
                id: "evt_1",
                timestamp: timestamp,
                body: Data(credicorpBody.utf8),
                secret: FuzzKeys.secret
            )
            ?? ""
        lines.append(
            (
                "credicorp.ndjson",
                line(
                    "credicorp",
                    credicorpBody,
                    [
                        "webhook-id": "evt_1", "webhook-timestamp": timestamp, "webhook-signature": signature,
                    ]
                )
            )
        )
        let crezcoBody =
            #"{"events":[{"eventId":"e-1","type":"Payable","id":"p-1","status":"Paid","timestamp":"2026-07-04T09:15:22.164Z","organisationId":"o-1","version":"2024-06-30","payload":{"amount":125000,"currency":"GBP"}}]}"#
        let crezcoSignature =
            (try? FuzzKeys.crezco.signature(for: Data(crezcoBody.utf8)).derRepresentation.base64EncodedString()) ?? ""
        lines.append(
            (
                "crezco.ndjson",
                line(
                    "crezco",
                    crezcoBody,
                    [
                        "Crezco-Signature": crezcoSignature, "Crezco-Public-Key-Id": FuzzKeys.crezcoKeyID,
                        "Date": "Sat, 04 Jul 2026 09:15:24 GMT",
                    ]
                )
            )
        )
        let credifyBody = #"{"type":"BNPL_ORDER_STATUS_UPDATED","order_id":"ord_1","order_status":"APPROVED"}"#
        let eventTime = "2026-07-04T09:15:22Z"
        let message = CredifyEd25519.message(
            verb: "POST",
            url: FuzzKeys.webhookURL,
            eventID: "cev_1",
            timestamp: eventTime,
            body: Data(credifyBody.utf8)
        )
        let credifySignature = (try? FuzzKeys.credify.signature(for: message)).map(CredifyEd25519.base64URL) ?? ""
        lines.append(
            (
                "credify.ndjson",
                line(
                    "credify",
                    credifyBody,
                    [
                        "X-Event-Id": "cev_1", "X-Event-Timestamp": eventTime, "Signature": credifySignature,
                        "X-Signature-Algorithm": "EdDSA",
                    ]
                )
            )
        )
        return lines
    }

    static func line(_ provider: String, _ body: String, _ headers: [String: String]) -> String {
        JSONValue.object([
            "provider": .string(provider), "received_at": .string(received), "method": "POST",
            "url": .string("https://hooks.example.com/\(provider)"),
            "headers": .object(headers.mapValues { .string($0) }),
            "body": .string(body),
        ]).canonicalText
    }
}
