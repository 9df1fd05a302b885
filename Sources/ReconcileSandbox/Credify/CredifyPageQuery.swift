import Foundation

/// The validated query of a Credify list request: `updated_after` (exclusive) and offset pagination.
struct CredifyPageQuery: Sendable {
    /// Rows must be updated strictly after this, in milliseconds.
    var updatedAfter: Int64?
    /// Rows per page, 1–100, default 50.
    var limit = 50
    /// Rows to skip, from 0.
    var offset = 0

    /// Why a query was refused; the message goes into a `400 bad_request`.
    struct Invalid: Error {
        var message: String
    }

    /// Validates `query`.
    init(_ query: [(name: String, value: String)]) throws(Invalid) {
        var seen = Set<String>()
        for (name, value) in query {
            guard seen.insert(name).inserted else { throw Invalid(message: "parameter '\(name)' is given twice") }
            switch name {
            case "updated_after":
                guard let date = RFC3339.parse(value) else {
                    throw Invalid(
                        message: "updated_after is '\(value)'; expected RFC 3339 UTC such as 2026-07-04T09:15:22.164Z"
                    )
                }
                updatedAfter = date.sandboxMillis
            case "limit":
                guard let number = Int(value), (1...100).contains(number) else {
                    throw Invalid(message: "limit is '\(value)'; expected a whole number from 1 to 100")
                }
                limit = number
            case "offset":
                guard let number = Int(value), number >= 0 else {
                    throw Invalid(message: "offset is '\(value)'; expected a whole number from 0")
                }
                offset = number
            default:
                throw Invalid(message: "unknown parameter '\(name)'")
            }
        }
    }

    /// Whether a row updated at `time` passes the filter.
    func contains(_ time: Date) -> Bool {
        updatedAfter.map { time.sandboxMillis > $0 } ?? true
    }

    /// The page of `rows` (already filtered and sorted) as `{"<member>":[…],"total":M}`.
    func page<Row>(of rows: [Row], member: String, render: (Row) -> JSONValue) -> JSONValue {
        let start = min(offset, rows.count)
        let slice = rows[start..<min(rows.count, start + limit)]
        return .object([JSONField(member, .array(slice.map(render))), JSONField("total", .int(Int64(rows.count)))])
    }
}
