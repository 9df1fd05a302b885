import Foundation

/// The JSON side of a provider's read API: objects by path, 404 as nil, anything else strict.
struct JSONReader: Sendable {
    let provider: String
    let client: HTTPClient
    /// The job's `max_rows`: the most rows one list may hold (see ``ReadLimits``).
    var maxRows = ProviderConfig.defaultMaxRows

    init(provider: String, client: HTTPClient, maxRows: Int = ProviderConfig.defaultMaxRows) {
        self.provider = provider
        self.client = client
        self.maxRows = maxRows
    }

    /// The JSON object at `path`, or nil on 404; anything but a JSON object is garbage.
    func object(_ path: String, query: [(String, String)] = []) async throws -> JSONValue? {
        let response = try await client.get(path, query: query)
        if response.status == 404 { return nil }
        guard let json = JSONValue.parse(response.body), json.objectValue != nil else {
            throw garbage(path, "the body is not a JSON object")
        }
        return json
    }

    /// The JSON object of a list page; a 404 on a list is garbage too.
    func page(_ path: String, query: [(String, String)]) async throws -> JSONValue {
        guard let json = try await object(path, query: query) else { throw garbage(path, "404 on a list") }
        return json
    }

    /// Reports pages of `list` to the client's progress listener, if it has one.
    func progress(list: String) -> (@Sendable (Int, Date?) async -> Void)? {
        guard let progress = client.configuration.progress else { return nil }
        let provider = self.provider
        return { rows, reached in await progress.pageRead(provider: provider, list: list, rows: rows, reached: reached)
        }
    }

    /// Reads the list at `path` with `pager` into `keep`, reporting each page; a list that pages wrongly is garbage.
    func readWindow<Row: Sendable>(
        _ pager: WindowPager<Row>,
        since: Date,
        until: Date,
        path: String,
        fetch: WindowPager<Row>.Fetch,
        keep: ([Row]) async throws -> KeptRows
    ) async throws {
        var pager = pager
        pager.onPage = progress(list: path)
        pager.maxRows = maxRows
        do {
            try await pager.readAll(since: since, until: until, describe: path, fetch: fetch, keep: keep)
        } catch PagingError.endless(let detail) {
            throw ProviderError.endlessList(provider: provider, path: path, detail: detail)
        } catch let error as PagingError {
            throw garbage(path, error.detail)
        }
    }

    func garbage(_ path: String, _ detail: String) -> ProviderError {
        ProviderError.garbage(provider: provider, path: path, detail: detail)
    }

    /// An id as one path segment.
    static func escape(_ id: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return id.addingPercentEncoding(withAllowedCharacters: allowed) ?? id
    }
}

/// A reader whose requests all go through one ``JSONReader``: its counts are the client's.
protocol JSONAPIReader: ProviderReader {
    var json: JSONReader { get }
}

extension JSONAPIReader {
    func requestCount() async -> Int { await json.client.requestCount() }

    func requestOutcomes() async -> [String: Int] { await json.client.requestOutcomes() }

    func cachedAnswerCount() async -> Int { await json.client.cachedAnswerCount() }
}
