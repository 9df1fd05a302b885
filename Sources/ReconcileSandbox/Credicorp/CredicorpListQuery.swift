import Foundation

/// The validated query of a Credicorp list request (`events` or an object collection).
struct CredicorpListQuery: Sendable {
    /// Lower bound, inclusive (`created_gte` / `updated_gte`).
    var since: Date?
    /// Upper bound, exclusive (`created_lt` / `updated_lt`).
    var until: Date?
    /// `type` filter (events only): an exact type or a prefix ending in `*`.
    var type: String?
    /// Page size, 1–100, default 20.
    var limit = 20
    /// The last id of the previous page.
    var startingAfter: String?

    /// Why a query was refused; the message goes into a `400 invalid_request`.
    struct Invalid: Error {
        var message: String
    }

    /// Validates `query` for a list whose time parameters are `timeField` (`created` or `updated`).
    init(_ query: [(name: String, value: String)], timeField: String, allowsType: Bool) throws(Invalid) {
        var seen = Set<String>()
        for (name, value) in query {
            guard seen.insert(name).inserted else { throw Invalid(message: "parameter '\(name)' is given twice") }
            switch name {
            case "\(timeField)_gte": since = try Self.time(name, value)
            case "\(timeField)_lt": until = try Self.time(name, value)
            case "type" where allowsType:
                guard !value.isEmpty else { throw Invalid(message: "type is empty") }
                type = value
            case "limit":
                guard let number = Int(value), (1...100).contains(number) else {
                    throw Invalid(message: "limit is '\(value)'; expected a whole number from 1 to 100")
                }
                limit = number
            case "starting_after":
                guard !value.isEmpty else { throw Invalid(message: "starting_after is empty") }
                startingAfter = value
            default:
                throw Invalid(message: "unknown parameter '\(name)'")
            }
        }
    }

    /// Whether an event type passes the `type` filter.
    func matches(type eventType: String) -> Bool {
        guard let type else { return true }
        if type.hasSuffix("*") { return eventType.hasPrefix(String(type.dropLast())) }
        return eventType == type
    }

    /// Whether `time` lies in [`since`, `until`).
    func contains(_ time: Date) -> Bool {
        if let since, time < since { return false }
        if let until, time >= until { return false }
        return true
    }

    private static func time(_ name: String, _ value: String) throws(Invalid) -> Date {
        guard let date = RFC3339.parse(value) else {
            throw Invalid(message: "\(name) is '\(value)'; expected an RFC 3339 UTC time such as 2026-07-04T09:15:22Z")
        }
        return date
    }
}

extension CredicorpListQuery {
    /// One page of `sorted` (every item, ascending by `key`, whose first part is the listed time):
    /// the first `limit` items in [`since`, `until`) that pass `include`, after `startingAfter`.
    ///
    /// The start is found by binary search, so a page of a large world (the run benchmark's) costs
    /// its own items, not a pass over the whole list (every page used to filter the whole list).
    /// An unknown `startingAfter` is refused.
    func page<Item>(
        ofSorted sorted: [Item],
        key: (Item) -> (Date, String),
        include: (Item) -> Bool,
        anchor: (String) -> (Date, String)?,
        render: (Item) -> JSONValue
    ) throws(Invalid) -> JSONValue {
        /// The first index whose item's key is not `before`.
        func firstIndex(after before: (Date, String) -> Bool) -> Int {
            var low = 0
            var high = sorted.count
            while low < high {
                let middle = (low + high) / 2
                if before(key(sorted[middle]).0, key(sorted[middle]).1) { low = middle + 1 } else { high = middle }
            }
            return low
        }
        var start = 0
        if let since { start = firstIndex { time, _ in time < since } }
        if let startingAfter {
            guard let after = anchor(startingAfter) else {
                throw Invalid(message: "starting_after '\(startingAfter)' is not a known id")
            }
            start = max(start, firstIndex { time, id in (time, id) <= after })
        }
        var page: [Item] = []
        var hasMore = false
        for item in sorted[start...] {
            if let until, key(item).0 >= until { break }
            guard include(item) else { continue }
            guard page.count < limit else {
                hasMore = true
                break
            }
            page.append(item)
        }
        return .object([
            JSONField("object", .string("list")),
            JSONField("data", .array(page.map(render))),
            JSONField("has_more", .bool(hasMore)),
        ])
    }
}
