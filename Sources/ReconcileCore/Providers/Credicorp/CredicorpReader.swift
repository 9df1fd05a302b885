import Foundation

/// Reads Credicorp's `/public/v1` API: cursor pages of 100, every answer decoded strictly.
struct CredicorpReader: JSONAPIReader {
    let config: ProviderConfig
    let json: JSONReader

    func endpoint() async throws -> EndpointStatus? {
        guard let endpointID = config.endpointID else { return nil }
        let path = "/partner/v1/webhook_endpoints/\(JSONReader.escape(endpointID))"
        guard let endpoint = try await json.object(path) else {
            throw ProviderError.rejected(
                provider: config.name,
                path: path,
                status: 404,
                message: "endpoint_id \(endpointID) is unknown"
            )
        }
        guard let status = endpoint["status"]?.stringValue, let events = endpoint["enabled_events"]?.arrayValue else {
            throw garbage(path, "no status or enabled_events")
        }
        let enabled = try events.map { value in
            guard let text = value.stringValue else { throw garbage(path, "enabled_events holds a non-string") }
            return text
        }
        return EndpointStatus(id: endpointID, status: status, enabledEvents: enabled)
    }

    func readEvents(since: Date, until: Date, into sink: any RemoteRows) async throws {
        try await list(
            "/public/v1/events",
            field: "created",
            since: since,
            until: until
        ) { path, data, slice in
            var elsewhere = Elsewhere()
            let events = try data.compactMap { item -> ProviderEvent? in
                // A type outside the catalogue is a newer kind of event: not ours to reconcile.
                if let type = item["type"]?.stringValue, item["id"]?.stringValue != nil,
                    CredicorpEventMapping.resourceType(ofEventType: type) == nil
                {
                    return nil
                }
                guard let event = CredicorpEventMapping.event(item) else {
                    throw garbage(path, "an item of data is not an event envelope")
                }
                // Outside the window asked for: not this run's to judge (never a dropped or pending
                // event). Inside it but outside this chain's slice: another chain's to keep.
                guard slice.contains(event.occurredAt) else {
                    elsewhere.count(event.occurredAt, since: since, until: until)
                    return nil
                }
                return event
            }
            _ = try await sink.keep(events: events)
            return elsewhere
        }
    }

    func event(id: String) async throws -> ProviderEvent? {
        let path = "/public/v1/events/\(JSONReader.escape(id))"
        guard let envelope = try await json.object(path) else { return nil }
        guard let event = CredicorpEventMapping.event(envelope), ExactID(event.eventID) == ExactID(id) else {
            throw garbage(path, "not the requested event")
        }
        return event
    }

    /// Reads the resource lists (enquiries, decisions, payments) at once.
    ///
    /// A list too short to be cut into slices is one cursor chain, a round trip a page: one after
    /// another, three such lists paced a run at one round trip a page where the rate limit allows
    /// several (at 25 requests/s and 100 ms a round trip, a third of the rate).
    func readResources(since: Date, until: Date, into sink: any RemoteRows) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (type, path) in CredicorpEventMapping.listPaths {
                group.addTask {
                    try await readResources(
                        type: type,
                        path: "/public/v1/\(path)",
                        since: since,
                        until: until,
                        into: sink
                    )
                }
            }
            // Not `waitForAll()`, which waits for every list before it throws the first error: the
            // first list to fail leaves the loop, and the group cancels the others.
            for try await _ in group {}
        }
    }

    /// Reads the list of `type` at `path`.
    private func readResources(type: String, path: String, since: Date, until: Date, into sink: any RemoteRows)
        async throws
    {
        try await list(path, field: "updated", since: since, until: until) { path, data, slice in
            var elsewhere = Elsewhere()
            let snapshots = try data.compactMap { item -> ResourceSnapshot? in
                guard let snapshot = CredicorpEventMapping.snapshot(object: item, expectedType: type) else {
                    throw garbage(path, "an item of data is not a \(type) object with id, status and updated")
                }
                guard slice.contains(snapshot.updatedAt) else {
                    elsewhere.count(snapshot.updatedAt, since: since, until: until)
                    return nil
                }
                return snapshot
            }
            _ = try sink.keep(resources: snapshots)
            return elsewhere
        }
    }

    func resource(type: String, id: String) async throws -> ResourceSnapshot? {
        guard let listPath = CredicorpEventMapping.path(of: type) else { return nil }
        let path = "/public/v1/\(listPath)/\(JSONReader.escape(id))"
        guard let object = try await json.object(path) else { return nil }
        guard let snapshot = CredicorpEventMapping.snapshot(object: object, expectedType: type),
            ExactID(snapshot.resourceID) == ExactID(id)
        else { throw garbage(path, "not the requested \(type)") }
        return snapshot
    }

    /// Where the rows of a page that a chain did not keep lie: in the window but in another
    /// chain's slice, or outside the window.
    struct Elsewhere: Sendable {
        var otherSlice = 0
        var outsideWindow = 0

        /// Counts a row of time `time` that the chain did not keep, in the window `[since, until)` or not.
        mutating func count(_ time: Date, since: Date, until: Date) {
            if time >= since && time < until { otherSlice += 1 } else { outsideWindow += 1 }
        }
    }

    /// Keeps the rows of one page of a list that fall in `slice`, and says where the others lie.
    typealias Take = @Sendable (_ path: String, _ rows: [JSONValue], _ slice: Range<Date>) async throws -> Elsewhere

    /// The most chains that read a long list at once.
    ///
    /// A list is ordered by time and paged by cursor, so one chain waits for each page before it
    /// can ask for the next: its pace is one round trip per page, however fast both ends are.
    /// Cut into slices of time, each read by a chain of its own, the round trips overlap (the
    /// client's rate limit still spaces every request).
    static let chains = 8

    /// The pages a list's rest must be expected to hold for each of its slices: slicing costs at
    /// most one request per slice more than one chain (each slice's last page is partly empty,
    /// and the last slice is asked once more), so the extra requests stay within 5 % of the minimum.
    static let pagesPerSlice = 20

    /// The fewest slices a list is cut into, if it is cut at all: a list whose rest is expected
    /// to hold fewer than `pagesPerSlice × fewestSlices` pages is read on in one chain.
    static let fewestSlices = 4

    /// Reads the list at `path` over `[since, until)` by `field` (`created` or `updated`), handing
    /// each page's `data` to `take` with the slice of time it keeps.
    ///
    /// The first page is read over the whole window. A list whose rest it shows to be long (see
    /// ``slices(after:rows:until:)``) is then read in slices at once: the first chain follows the
    /// cursor until its rows pass its slice, each other chain reads its slice from the start. A
    /// shorter list is read on in one chain, as it always was.
    ///
    /// An object updated while the list is read moves to its end, where one chain still finds it,
    /// because it reads the end last. The last slice's chain may end before the others, so once
    /// all have ended it is asked once more from its last cursor.
    ///
    /// The chains share ``ReadLimits``: the rows each keeps, and the rows outside the window that
    /// the first chain reads, count towards ``ReadLimits/maxRows``; every row read counts towards
    /// ``ReadLimits/maxRowsRead``.
    ///
    /// A provider that ignores the bounds, with the whole list in the window, looks dense from
    /// the first page alone; each slice's chain would then read the list from its start (about
    /// 4.5 times its rows with 8 slices). A slice's first page from before the slice shows it:
    /// the chains stop, and the list is read in one chain from the first page.
    private func list(
        _ path: String,
        field: String,
        since: Date,
        until: Date,
        take: @escaping Take
    ) async throws {
        let window = [(field + "_gte", RFC3339.formatMillis(since)), (field + "_lt", RFC3339.formatMillis(until))]
        let budget = RowBudget(ReadLimits(maxRows: json.maxRows, since: since, until: until))
        let progress = json.progress(list: path)
        let first = try await json.page(path, query: window + [("limit", "100")])
        let rows = try listed(first, path: path)
        // Only a first page within the window says how dense the rest is (a provider that ignores
        // the window's bounds is read in one chain, which keeps none of its other rows).
        var cuts: [Date] = []
        if rows.hasMore, let from = rows.data.first.flatMap({ Self.time(of: $0, field) }),
            let to = rows.data.last.flatMap({ Self.time(of: $0, field) }), from >= since, from <= to, to < until
        {
            cuts = Self.slices(after: from...to, rows: rows.data.count, until: until)
        }
        let whole = Chain(path: path, field: field, window: window, slice: since..<until, queriesItsSlice: false)
        guard !cuts.isEmpty else {
            try await chain(whole, budget: budget, take: take, first: first) { await progress?($0, $1) }
            return
        }
        let bounds = [since] + cuts + [until]
        let coverage = SliceCoverage(since: since, bounds: bounds)
        let chains = bounds.indices.dropLast().map { index in
            let slice = bounds[index]..<bounds[index + 1]
            // The first goes on from the first page, whose cursor is of the whole window's query.
            return index == 0
                ? Chain(path: path, field: field, window: window, slice: slice, queriesItsSlice: false)
                : Chain(
                    path: path,
                    field: field,
                    window: Self.window(field, slice),
                    slice: slice,
                    queriesItsSlice: true
                )
        }
        let report: @Sendable (Int) -> (@Sendable (Int, Date?) async -> Void) = { index in
            { count, reached in await progress?(count, coverage.reached(slice: index, at: reached)) }
        }
        let lastEnd: ChainEnd
        do {
            lastEnd = try await slicesAtOnce(chains, budget: budget, take: take, first: first, report: report)
        } catch is BoundsIgnored {
            // Each slice's chain would read the list from its start: read it once, in one chain,
            // from the first page again (rows kept twice are kept once), against a budget of its own.
            let fresh = RowBudget(ReadLimits(maxRows: json.maxRows, since: since, until: until))
            try await chain(whole, budget: fresh, take: take, first: first) { await progress?($0, $1) }
            return
        }
        // Not after rows past the window's end: the provider ignored its bounds, nothing moves there.
        if let tail = chains.last, case .listEnded(let cursor) = lastEnd {
            try await chain(tail, budget: budget, take: take, after: cursor, report: report(chains.count - 1))
        }
    }

    /// Reads `chains` at once, the first from `first`; returns how the last one ended.
    private func slicesAtOnce(
        _ chains: [Chain],
        budget: RowBudget,
        take: @escaping Take,
        first: JSONValue,
        report: @escaping @Sendable (Int) -> (@Sendable (Int, Date?) async -> Void)
    ) async throws -> ChainEnd {
        try await withThrowingTaskGroup(of: (Int, ChainEnd).self) { group in
            for (index, chain) in chains.enumerated() {
                group.addTask {
                    let end = try await self.chain(
                        chain,
                        budget: budget,
                        take: take,
                        first: index == 0 ? first : nil,
                        report: report(index)
                    )
                    return (index, end)
                }
            }
            var last = ChainEnd.passed
            for try await (index, end) in group where index == chains.count - 1 { last = end }
            return last
        }
    }

    /// A slice's first page holds a row from before the slice, which its query's bounds exclude:
    /// the provider ignores them.
    private struct BoundsIgnored: Error {}

    /// How a chain ended.
    private enum ChainEnd: Sendable {
        /// The list ended (`has_more` false); the cursor after its last row, nil when it had none.
        case listEnded(cursor: String?)
        /// Its rows passed its slice: the rest of the list is other chains'.
        case passed
    }

    /// One cursor chain of a list: its query's window, and the slice of time whose rows it keeps.
    private struct Chain: Sendable {
        var path: String
        var field: String
        var window: [(String, String)]
        var slice: Range<Date>
        /// Whether its query asks for its slice alone (every chain but a list's first): the
        /// provider's answer starts at the slice, unless it ignores the bounds.
        var queriesItsSlice: Bool

        /// Whether rows outside the list's window count towards ``ReadLimits/maxRows`` in this
        /// chain: only in the one whose query is the whole window's (a list's first), so that a
        /// provider ignoring the bounds is not counted once per chain.
        var countsOutside: Bool { !queriesItsSlice }
    }

    /// The query bounds of `slice` by `field`.
    private static func window(_ field: String, _ slice: Range<Date>) -> [(String, String)] {
        [
            (field + "_gte", RFC3339.formatMillis(slice.lowerBound)),
            (field + "_lt", RFC3339.formatMillis(slice.upperBound)),
        ]
    }

    /// Follows `starting_after` cursors from `first` (or from `after`, or from the start of the
    /// chain's window) until `has_more` is false or the rows pass the chain's slice, handing each
    /// page's `data` to `take`.
    ///
    /// The next page is asked for as soon as a page names its cursor, and is read and parsed while
    /// `take` keeps this one, so the provider's time and ours overlap; only a page that `has_more`
    /// promises is asked for. A cursor that does not advance (an empty page, or a last id seen
    /// before) is garbage; more rows than the budget allows end the read as an endless list.
    ///
    /// - Returns: How it ended: the list's end, with the cursor after its last row, or its slice passed.
    @discardableResult
    private func chain(
        _ chain: Chain,
        budget: RowBudget,
        take: Take,
        first: JSONValue? = nil,
        after: String? = nil,
        report: (Int, Date?) async -> Void
    ) async throws -> ChainEnd {
        let path = chain.path
        let query = chain.window + [("limit", "100")]
        var seen = Set<ExactID>()
        var cursor = after
        var page: JSONValue
        if let first {
            page = first
        } else {
            page = try await json.page(path, query: query + (after.map { [("starting_after", $0)] } ?? []))
            // A slice's own query from its start: a row before it means the bounds are ignored.
            if after == nil, chain.queriesItsSlice, let rows = try? listed(page, path: path),
                let start = rows.data.first.flatMap({ Self.time(of: $0, chain.field) }), start < chain.slice.lowerBound
            {
                throw BoundsIgnored()
            }
        }
        while true {
            let (data, hasMore) = try listed(page, path: path)
            let reached = data.last.flatMap { Self.time(of: $0, chain.field) }
            cursor = data.last?["id"]?.stringValue ?? cursor
            // Past the slice: the rest of the list is other chains'.
            let passed = reached.map { $0 >= chain.slice.upperBound } ?? false
            guard hasMore && !passed else {
                try await keep(data, chain, budget: budget, take: take)
                // The chain's slice is read whole, though its last row may lie well before its end.
                await report(data.count, chain.slice.upperBound)
                return passed ? .passed : .listEnded(cursor: cursor)
            }
            guard let last = data.last?["id"]?.stringValue, seen.insert(ExactID(last)).inserted else {
                throw garbage(path, "has_more is true but the page gives no new cursor")
            }
            // Left unawaited when `take` throws: leaving the scope cancels and awaits it.
            async let following = json.page(path, query: query + [("starting_after", last)])
            try await keep(data, chain, budget: budget, take: take)
            await report(data.count, reached)
            page = try await following
        }
    }

    /// Hands a page's rows to `take`, and counts them against the list's budget.
    private func keep(_ data: [JSONValue], _ chain: Chain, budget: RowBudget, take: Take) async throws {
        let elsewhere = try await take(chain.path, data, chain.slice)
        let counted = data.count - elsewhere.otherSlice - (chain.countsOutside ? 0 : elsewhere.outsideWindow)
        try budget.count(counted, of: data.count, path: chain.path, json)
    }

    /// A list page's `data` and `has_more`; anything else is garbage.
    private func listed(_ page: JSONValue, path: String) throws -> (data: [JSONValue], hasMore: Bool) {
        guard page["object"]?.stringValue == "list", let data = page["data"]?.arrayValue,
            let hasMore = page["has_more"]?.boolValue
        else { throw garbage(path, "not a list object with data and has_more") }
        return (data, hasMore)
    }

    /// A row's list time: its `field`, `created` for events and `updated` for objects (which
    /// have a `created` too).
    private static func time(of row: JSONValue, _ field: String) -> Date? {
        row[field]?.stringValue.flatMap(RFC3339.parse)
    }

    /// Where to cut the rest of a list's window, after `span` and before `until`, into slices of
    /// equal time: one per ``pagesPerSlice`` pages the rest is expected to hold, up to ``chains``;
    /// none when that is fewer than ``fewestSlices``.
    ///
    /// `rows` rows over `span` (the first page's first and last row's times) give the list's
    /// density; a list denser later than at its start is still read whole, only less evenly at
    /// once. Each cut is a whole second, so that the query's bound (`created_gte`, `created_lt`)
    /// and the bound the rows are kept by are the same time.
    static func slices(after span: ClosedRange<Date>, rows: Int, until: Date) -> [Date] {
        let rest = until.timeIntervalSince(span.upperBound)
        let seconds = max(span.upperBound.timeIntervalSince(span.lowerBound), 0.001)
        guard rows > 0, rest > 0 else { return [] }
        let pages = Double(rows) / seconds * rest / 100
        let count = min(Double(chains), (pages / Double(pagesPerSlice)).rounded(.down))
        guard count >= Double(fewestSlices) else { return [] }
        let slices = Int(count)
        var cuts: [Date] = []
        for index in 1..<slices {
            let raw = span.upperBound.timeIntervalSince1970 + rest * Double(index) / Double(slices)
            let cut = Date(timeIntervalSince1970: raw.rounded(.down))
            if cut > span.upperBound, cut < until, cuts.last.map({ cut > $0 }) ?? true { cuts.append(cut) }
        }
        return cuts
    }

    private func garbage(_ path: String, _ detail: String) -> ProviderError { json.garbage(path, detail) }
}

/// The rows the chains of one list have read, against its ``ReadLimits``.
private final class RowBudget: @unchecked Sendable {
    private let lock = NSLock()
    private let limits: ReadLimits
    private var kept = 0
    private var read = 0

    init(_ limits: ReadLimits) { self.limits = limits }

    /// Counts a page of `all` rows, `counted` of them towards ``ReadLimits/maxRows`` (those not
    /// another chain's); past either limit the list is endless.
    func count(_ counted: Int, of all: Int, path: String, _ json: JSONReader) throws {
        let (keptNow, readNow) = lock.withLock {
            kept += counted
            read += all
            return (kept, read)
        }
        guard keptNow <= limits.maxRows, readNow <= limits.maxRowsRead else {
            throw ProviderError.endlessList(
                provider: json.provider,
                path: path,
                detail: keptNow > limits.maxRows
                    ? "more than \(limits.maxRows) rows in one window (max_rows, or what the window can hold)"
                    : "more than \(limits.maxRowsRead) rows read for one window"
            )
        }
    }
}

/// How much of a list's window its slices have covered, as one time for the progress line.
///
/// Each slice is read from its start; the time given is the window's start plus the time every
/// slice has covered, so it grows as the one chain's time did.
private final class SliceCoverage: @unchecked Sendable {
    private let lock = NSLock()
    private let since: Date
    private let bounds: [Date]
    private var covered: [TimeInterval]

    init(since: Date, bounds: [Date]) {
        self.since = since
        self.bounds = bounds
        covered = Array(repeating: 0, count: max(0, bounds.count - 1))
    }

    /// The whole list's time after slice `index` was read up to `reached`.
    func reached(slice index: Int, at reached: Date?) -> Date? {
        lock.withLock {
            if let reached {
                let width = bounds[index + 1].timeIntervalSince(bounds[index])
                covered[index] = max(covered[index], min(width, max(0, reached.timeIntervalSince(bounds[index]))))
            }
            return since.addingTimeInterval(covered.reduce(0, +))
        }
    }
}
