import Crypto
import Foundation
import Testing

@testable import ReconcileCore

@Suite struct StandardWebhooksV1Tests {
    let id = "msg_p5jXN8AQM9LWM0D4loKWxJek"
    let timestamp = "1614265330"
    let body = Data(#"{"test": 2432232314}"#.utf8)
    let expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

    @Test func publishedVectorSigns() {
        #expect(StandardWebhooksV1.sign(id: id, timestamp: timestamp, body: body, secret: Fixture.secret) == expected)
    }

    @Test func publishedVectorVerifies() throws {
        let key = try #require(StandardWebhooksV1.key(fromSecret: Fixture.secret))
        #expect(StandardWebhooksV1.verify(id: id, timestamp: timestamp, body: body, header: expected, keys: [key]))
    }

    @Test func anySignatureUnderAnySecretVerifiesDuringRotation() throws {
        let current = try #require(StandardWebhooksV1.key(fromSecret: Fixture.otherSecret))
        let previous = try #require(StandardWebhooksV1.key(fromSecret: Fixture.secret))
        let header = "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= " + expected
        #expect(
            StandardWebhooksV1.verify(
                id: id,
                timestamp: timestamp,
                body: body,
                header: header,
                keys: [current, previous]
            )
        )
        #expect(!StandardWebhooksV1.verify(id: id, timestamp: timestamp, body: body, header: header, keys: [current]))
    }

    @Test(arguments: [
        (#"{"test": 2432232315}"#, "1614265330", "msg_p5jXN8AQM9LWM0D4loKWxJek"),
        (#"{"test": 2432232314}"#, "1614265331", "msg_p5jXN8AQM9LWM0D4loKWxJek"),
        (#"{"test": 2432232314}"#, "1614265330", "msg_p5jXN8AQM9LWM0D4loKWxJel"),
    ])
    func tamperedMessagesFail(body: String, timestamp: String, id: String) throws {
        let key = try #require(StandardWebhooksV1.key(fromSecret: Fixture.secret))
        #expect(
            !StandardWebhooksV1.verify(
                id: id,
                timestamp: timestamp,
                body: Data(body.utf8),
                header: expected,
                keys: [key]
            )
        )
    }

    @Test(arguments: ["", "v1", "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", "v1,not-base64!"])
    func malformedHeadersFail(header: String) throws {
        let key = try #require(StandardWebhooksV1.key(fromSecret: Fixture.secret))
        #expect(!StandardWebhooksV1.verify(id: id, timestamp: timestamp, body: body, header: header, keys: [key]))
    }
}
