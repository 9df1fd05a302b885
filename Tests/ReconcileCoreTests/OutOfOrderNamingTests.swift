import Foundation
import Testing

@testable import ReconcileCore

/// An `out_of_order` finding names the same newer event whatever order the store's events come
/// in: a run groups them through a dictionary, whose order changes from one process to the next.
@Suite struct OutOfOrderNamingTests {
    static let day = Date(timeIntervalSince1970: 1_783_123_200)  // 2026-07-04T00:00:00Z

    static func event(_ id: String, createdHour: Double, receivedHour: Double) -> LocalEvent {
        LocalEvent(
            eventID: id,
            eventType: "payment.updated",
            resourceType: "payment",
            resourceID: "pay-1",
            occurredAt: day.addingTimeInterval(createdHour * 3600),
            source: "webhook",
            firstReceipt: day.addingTimeInterval(receivedHour * 3600),
            payloadSource: .none
        )
    }

    /// A Credicorp classifier of the day after ``day``.
    static let classifier = Classifier(
        adapter: CredicorpAdapter(config: Fixture.credicorpConfig()),
        endpoint: nil,
        now: day.addingTimeInterval(86_400),
        since: day,
        until: day.addingTimeInterval(86_400),
        eventSince: day
    )

    /// Three newer events received at the same moment (one batch) before two late ones: each
    /// finding names the earliest created of them, then the least id, in every order.
    @Test func theNewerEventNamedIsTheSameInEveryOrder() throws {
        let classifier = Self.classifier
        let late = Self.event("evt-late", createdHour: 10, receivedHour: 12)
        let newer = [
            Self.event("evt-b", createdHour: 11, receivedHour: 11.5),
            Self.event("evt-c", createdHour: 10.5, receivedHour: 11.5),
            Self.event("evt-a", createdHour: 10.5, receivedHour: 11.5),
            Self.event("evt-after", createdHour: 10.25, receivedHour: 11.75),
        ]
        let orders = [
            [late] + newer, newer + [late], [newer[1], late, newer[3], newer[0], newer[2]], newer.reversed() + [late],
        ]
        for events in orders {
            // evt-after too arrived after the batch of newer events.
            let findings = try classifier.outOfOrder(events: events).sorted { ($0.eventID ?? "") < ($1.eventID ?? "") }
            #expect(findings.map(\.eventID) == ["evt-after", "evt-late"])
            #expect(findings.map { $0.details["newer_event_id"] } == ["evt-a", "evt-a"])
            #expect(
                findings.map { $0.details["newer_event_received_at"] }
                    == Array(repeating: "2026-07-04T11:30:00Z", count: 2)
            )
        }
    }

    /// Two newer events of one batch whose ids are two spellings of one accented id: the one named
    /// is the least by bytes (`e` + U+0301 before `é`), whichever order they come in.
    @Test func ofTwoSpellingsTheNewerEventNamedIsTheLeastByBytes() throws {
        let classifier = Self.classifier
        let late = Self.event("evt-late", createdHour: 10, receivedHour: 12)
        let composed = Self.event("evt-caf\u{E9}", createdHour: 11, receivedHour: 11.5)
        let decomposed = Self.event("evt-cafe\u{301}", createdHour: 11, receivedHour: 11.5)
        #expect(composed.eventID == decomposed.eventID, "Swift's String equality: canonical equivalence")
        for events in [[late, composed, decomposed], [late, decomposed, composed], [decomposed, composed, late]] {
            let findings = try classifier.outOfOrder(events: events)
            #expect(findings.map(\.eventID) == ["evt-late"])
            #expect(
                findings.map { Array($0.details["newer_event_id"]?.stringValue?.utf8 ?? "".utf8) }
                    == [Array("evt-cafe\u{301}".utf8)]
            )
        }
    }
}
