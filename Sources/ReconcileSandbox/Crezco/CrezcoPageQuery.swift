import Foundation

/// The validated query of a Crezco list request: a time window and page-number pagination.
struct CrezcoPageQuery: Sendable {
    /// Lower bound in milliseconds, inclusive (`from` / `updatedFrom`).
    var from: Int64?
    /// Upper bound in milliseconds, exclusive (`to` / `updatedTo`).
    var to: Int64?
    /// The page, from 1.
    var page = 1
    /// Rows per page, 1–100, default 50.
    var pageSize = 50

    /// Why a query was refused; the message goes into a `400 BadRequest`.
    struct Invalid: Error {
        var message: String
    }

    /// Validates `query` for a list whose window parameters are `fromName` and `toName`.
    init(_ query: [(name: String, value: String)], fromName: String, toName: String) throws(Invalid) {
        var seen = Set<String>()
        for (name, value) in query {
            guard seen.insert(name).inserted else { throw Invalid(message: "parameter '\(name)' is given twice") }
            switch name {
            case fromName: from = try Self.time(name, value)
            case toName: to = try Self.time(name, value)
            case "page":
                guard let number = Int(value), number >= 1 else {
                    throw Invalid(message: "page is '\(value)'; expected a whole number from 1")
                }
                page = number
            case "pageSize":
                guard let number = Int(value), (1...100).contains(number) else {
                    throw Invalid(message: "pageSize is '\(value)'; expected a whole number from 1 to 100")
                }
                pageSize = number
            default:
                throw Invalid(message: "unknown parameter '\(name)'")
            }
        }
    }

    /// Whether `time` lies in [`from`, `to`).
    func contains(_ time: Date) -> Bool {
        let millis = time.sandboxMillis
        if let from, millis < from { return false }
        if let to, millis >= to { return false }
        return true
    }

    /// The page of `rows` (already filtered and sorted) as `{"<member>":[…],"page","pageSize","totalPages"}`.
    func page<Row>(of rows: [Row], member: String, render: (Row) -> JSONValue) -> JSONValue {
        let totalPages = (rows.count + pageSize - 1) / pageSize
        let start = page - 1 < totalPages ? (page - 1) * pageSize : rows.count
        let slice = rows[start..<min(rows.count, start + pageSize)]
        return .object([
            JSONField(member, .array(slice.map(render))),
            JSONField("page", .int(Int64(page))),
            JSONField("pageSize", .int(Int64(pageSize))),
            JSONField("totalPages", .int(Int64(totalPages))),
        ])
    }

    private static func time(_ name: String, _ value: String) throws(Invalid) -> Int64 {
        guard let date = RFC3339.parse(value) else {
            throw Invalid(message: "\(name) is '\(value)'; expected ISO 8601 UTC such as 2026-07-04T09:15:22.164Z")
        }
        return date.sandboxMillis
    }
}
