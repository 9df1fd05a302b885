import Foundation
import Testing

@testable import ReconcileCore

/// The classifier's lookup of an endpoint's event types answers as the endpoint does.
@Suite struct SubscriptionTests {
    static let patterns: [[String]?] = [
        nil, [], ["*"], ["payment.succeeded"], ["payment.*"], ["payment.*", "refund.created"],
        ["paym\u{65}\u{301}nt.*"], ["pay.*", "payment.failed", "*"], [".*"], ["payment."],
    ]
    static let types = [
        "payment.succeeded", "payment.failed", "payment.", "payment", "refund.created", "refund.failed",
        "paym\u{e9}nt.created", "paym\u{65}\u{301}nt.created", "", ".x", "pay.x", "*",
    ]

    @Test func theClassifierAnswersAsTheEndpointForEveryPatternAndType() {
        for enabled in Self.patterns {
            let endpoint = enabled.map { EndpointStatus(id: "whend_1", status: "enabled", enabledEvents: $0) }
            let classifier = Classifier(
                adapter: CredicorpAdapter(config: Fixture.credicorpConfig()),
                endpoint: endpoint,
                now: Date(),
                since: Date(),
                until: Date(),
                eventSince: Date()
            )
            for type in Self.types {
                let expected = endpoint?.subscribes(to: type) ?? true
                #expect(classifier.subscribes(to: type) == expected, "\(String(describing: enabled)) \(type)")
            }
        }
        // Not every answer is the same one: the matrix tells patterns apart.
        let endpoint = EndpointStatus(id: "whend_1", status: "enabled", enabledEvents: ["payment.*"])
        #expect(endpoint.subscribes(to: "payment.failed") && !endpoint.subscribes(to: "refund.created"))
    }
}
