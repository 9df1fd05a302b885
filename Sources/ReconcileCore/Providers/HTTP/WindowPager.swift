import Foundation

/// One page of a list ordered ascending by (time, id).
struct WindowPage<Row: Sendable>: Sendable {
    var rows: [Row]
    /// Whether the provider says more rows follow this page.
    var hasMore: Bool
}

/// How many rows one list of one window may plausibly hold, so a list that never ends is an error, not a hang.
///
/// The cap is the smaller of the job file's `max_rows` (default 500,000 per list) and what the
/// window can plausibly hold: ``minimumRows`` plus ``rowsPerSecond`` per second of the window
/// (10,000 + 36,000 for one hour, about 6.9 million for 8 days, where `max_rows` decides).
/// Rows read again (paging restarts, updates during the read) count towards ``maxRowsRead``,
/// four times the cap; a page that adds nothing new while the provider says more follow is
/// allowed ``maxStalledPages`` times in a row.
struct ReadLimits: Sendable {
    static let minimumRows = 10_000
    static let rowsPerSecond = 10
    static let maxStalledPages = 2

    /// The most distinct rows kept.
    let maxRows: Int

    init(maxRows: Int, since: Date, until: Date) {
        let seconds = max(0, min(until.timeIntervalSince(since), 3650 * 86_400))
        let plausible = Self.minimumRows + Int(seconds) * Self.rowsPerSecond
        self.maxRows = max(1, min(maxRows, plausible))
    }

    /// The most rows read in all, repeats included (this also bounds the pages, none of them empty).
    var maxRowsRead: Int { maxRows.multipliedReportingOverflow(by: 4).overflow ? Int.max : maxRows * 4 }
}

/// Reads a list ordered ascending by (time, id) so that rows changing during the read are never missed.
///
/// Page-number and offset pagination over a list that changes while it is read can skip rows: a
/// row of an earlier page that is updated moves to the end and every later row shifts forward by
/// one. So each page restarts the query from the newest time seen so far (page 1 / offset 0 again),
/// and only pages forward while a whole page holds that same time. A row updated during the read
/// moves past the cursor and is read again; the caller keeps rows by id, the newest version.
///
/// Rows outside `[since, until)` are ignored (the provider's filter is not trusted); a row older
/// than the cursor but inside the window breaks the order the paging relies on and is an error.
/// The read is bounded by ``ReadLimits``.
struct WindowPager<Row: Sendable>: Sendable {
    /// Fetches the page `index` (0-based) of the rows with time at or after `from`.
    typealias Fetch = @Sendable (_ from: Date, _ index: Int) async throws -> WindowPage<Row>

    let time: @Sendable (Row) -> Date
    /// The job's `max_rows` for one list; the window may lower it (see ``ReadLimits``).
    var maxRows = ProviderConfig.defaultMaxRows
    /// Told after each page: its row count and the time the list has been read up to (the
    /// window's end on its last page).
    var onPage: (@Sendable (Int, Date?) async -> Void)?

    /// Reads every row with time in `[since, until)`, handing each page's rows to `keep`.
    ///
    /// `keep` keeps one version per id, the newest (see ``RemoteRows``), and says how many rows
    /// were new or newer: the distinct rows count towards ``ReadLimits/maxRows``, and a page that
    /// adds nothing while more are promised counts as stalled.
    func readAll(
        since: Date,
        until: Date,
        describe: String,
        fetch: Fetch,
        keep: ([Row]) async throws -> KeptRows
    ) async throws {
        let limits = ReadLimits(maxRows: maxRows, since: since, until: until)
        var cursor = since
        var index = 0
        var distinct = 0
        var read = 0
        var stalled = 0
        var page = try await fetch(cursor, index)
        while true {
            let more = page.hasMore && page.rows.last.map { time($0) < until } == true
            // The last page has read the list to the window's end, whatever its last row's time.
            await onPage?(page.rows.count, more ? page.rows.last.map(time) : until)
            read += page.rows.count
            guard read <= limits.maxRowsRead else {
                throw PagingError.endless("\(describe): more than \(limits.maxRowsRead) rows read for one window")
            }
            var inWindow: [Row] = []
            for row in page.rows {
                let rowTime = time(row)
                guard rowTime >= since, rowTime < until else { continue }
                guard rowTime >= cursor else {
                    throw PagingError.outOfOrder("\(describe): a row older than the requested start")
                }
                inWindow.append(row)
            }
            if let last = page.rows.last, more {
                if time(last) > cursor {
                    cursor = time(last)
                    index = 0
                } else {
                    index += 1
                }
            }
            // The next page is asked for before this one is kept, so the provider's time and ours
            // overlap; left unawaited when a check below throws, leaving the scope cancels and awaits it.
            let (from, position) = (cursor, index)
            async let following = more ? fetch(from, position) : nil
            let kept = try await keep(inWindow)
            distinct += kept.new
            guard distinct <= limits.maxRows else {
                throw PagingError.endless(
                    "\(describe): more than \(limits.maxRows) rows in one window (max_rows, or what the window can hold)"
                )
            }
            guard more else { return }
            stalled = kept.addedAny ? 0 : stalled + 1
            guard stalled <= ReadLimits.maxStalledPages else {
                throw PagingError.endless("\(describe): pages that add no new row while more are promised")
            }
            guard let next = try await following else { return }
            page = next
        }
    }
}

/// Why a paged list could not be read; the reader turns it into a ``ProviderError``.
enum PagingError: Error {
    case outOfOrder(String)
    case endless(String)

    var detail: String {
        switch self {
        case .outOfOrder(let detail), .endless(let detail): detail
        }
    }
}
