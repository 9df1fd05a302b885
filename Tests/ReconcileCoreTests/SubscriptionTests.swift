import Foundation
import Testing

@testable import ReconcileCore

/// The endpoint's event types and the classifier's lookup of them answer as the endpoint's rule
/// reads, pattern by pattern.
@Suite struct SubscriptionTests {
    /// The rule, one pattern at a time: `*`, the type itself, or `prefix.*` and a type that starts
    /// with `prefix.`, compared as `String`s are.
    static func matches(_ pattern: String, _ type: String) -> Bool {
        pattern == "*" || pattern == type || (pattern.hasSuffix(".*") && type.hasPrefix(pattern.dropLast()))
    }

    static let patterns: [[String]?] = [
        nil, [], ["*"], ["payment.succeeded"], ["payment.*"], ["payment.*", "refund.created"],
        ["paym\u{65}\u{301}nt.*"], ["pay.*", "payment.failed", "*"], [".*"], ["payment."],
    ]
    static let types = [
        "payment.succeeded", "payment.failed", "payment.", "payment", "refund.created", "refund.failed",
        "paym\u{e9}nt.created", "paym\u{65}\u{301}nt.created", "", ".x", "pay.x", "*",
    ]

    @Test func theEndpointAndTheClassifierAnswerAsTheRuleForEveryPatternAndType() {
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
                let expected = enabled.map { $0.contains { Self.matches($0, type) } } ?? true
                #expect(classifier.subscribes(to: type) == expected, "\(String(describing: enabled)) \(type)")
                if let endpoint {
                    #expect(endpoint.subscribes(to: type) == expected, "\(String(describing: enabled)) \(type)")
                }
            }
        }
        // Not every answer is the same one: the matrix tells patterns apart.
        let endpoint = EndpointStatus(id: "whend_1", status: "enabled", enabledEvents: ["payment.*"])
        #expect(endpoint.subscribes(to: "payment.failed") && !endpoint.subscribes(to: "refund.created"))
    }
}
