import Testing

@testable import ReconcileSandbox

@Suite struct StandardWebhooksSignerTests {
    @Test func publishedVector() {
        let signature = StandardWebhooksSigner.sign(
            id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
            timestamp: 1_614_265_330,
            body: "{\"test\": 2432232314}",
            secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        )
        #expect(signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
    }

    @Test func tamperedBodyChangesSignature() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        let good = StandardWebhooksSigner.sign(id: "msg_1", timestamp: 1, body: "{\"a\":1}", secret: secret)
        let bad = StandardWebhooksSigner.sign(id: "msg_1", timestamp: 1, body: "{\"a\":2}", secret: secret)
        #expect(good != bad)
    }

    @Test func headerCarriesOneSignaturePerSecret() {
        let header = StandardWebhooksSigner.header(
            id: "msg_1",
            timestamp: 1,
            body: "{}",
            secrets: ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"]
        )
        let parts = header.split(separator: " ")
        #expect(parts.count == 2)
        #expect(parts.allSatisfy { $0.hasPrefix("v1,") })
    }
}
