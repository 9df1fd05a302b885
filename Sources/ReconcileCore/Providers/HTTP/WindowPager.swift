import Foundation

/// One page of a list ordered ascending by (time, id).
struct WindowPage<Row: Sendable>: Sendable {
    var rows: [Row]
    /// Whether the provider says more rows follow this page.
    var hasMore: Bool
}

/// Reads a list ordered ascending by (time, id) so that rows changing during the read are never missed.
///
/// Page-number and offset pagination over a list that changes while it is read can skip rows: a
/// row of an earlier page that is updated moves to the end and every later row shifts forward by
/// one. So each page restarts the query from the newest time seen so far (page 1 / offset 0 again),
/// and only pages forward while a whole page holds that same time. A row updated during the read
/// moves past the cursor and is read again; rows are kept by id, newest version last.
struct WindowPager<Row: Sendable>: Sendable {
    /// Fetches the page `index` (0-based) of the rows with time at or after `from`.
    typealias Fetch = @Sendable (_ from: Date, _ index: Int) async throws -> WindowPage<Row>

    let id: @Sendable (Row) -> String
    let time: @Sendable (Row) -> Date
    /// A bound on requests, so a provider that never stops paging is an error, not a hang.
    var maxPages = 100_000
    /// Told after each page: its row count and the time the list has been read up to.
    var onPage: (@Sendable (Int, Date?) async -> Void)?

    /// Every row with time in `[since, until)`, ascending by (time, id), one version per id.
    func readAll(since: Date, until: Date, describe: String, fetch: Fetch) async throws -> [Row] {
        var cursor = since
        var index = 0
        var rows: [String: Row] = [:]
        for _ in 0..<maxPages {
            let page = try await fetch(cursor, index)
            await onPage?(page.rows.count, page.rows.last.map(time))
            for row in page.rows {
                let rowTime = time(row)
                guard rowTime >= cursor else {
                    throw PagingError.outOfOrder("\(describe): a row older than the requested start")
                }
                if rowTime < until, rows[id(row)].map({ time($0) <= rowTime }) ?? true { rows[id(row)] = row }
            }
            guard page.hasMore, let last = page.rows.last, time(last) < until else {
                return rows.values.sorted { (time($0), id($0)) < (time($1), id($1)) }
            }
            if time(last) > cursor {
                cursor = time(last)
                index = 0
            } else {
                index += 1
            }
        }
        throw PagingError.endless("\(describe): more than \(maxPages) pages")
    }
}

/// Why a paged list could not be read; the reader turns it into ``ProviderError/garbage(provider:path:detail:)``.
enum PagingError: Error {
    case outOfOrder(String)
    case endless(String)

    var detail: String {
        switch self {
        case .outOfOrder(let detail), .endless(let detail): detail
        }
    }
}
