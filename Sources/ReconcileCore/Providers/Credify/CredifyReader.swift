import Foundation

/// Reads Credify's `/v1` API: offset lists of 100 read by ``WindowPager``, objects one by one; no event log.
struct CredifyReader: JSONAPIReader {
    let json: JSONReader

    static let pageSize = 100

    func endpoint() async throws -> EndpointStatus? { nil }

    /// Credify has no event log.
    func readEvents(since: Date, until: Date, into sink: any RemoteRows) async throws {}

    func event(id: String) async throws -> ProviderEvent? { nil }

    /// Orders and transactions updated in `[since, until)`.
    ///
    /// `updated_after` is exclusive and has millisecond precision, so each page asks from one
    /// millisecond before the cursor; the list has no upper bound, so reading stops past `until`.
    func readResources(since: Date, until: Date, into sink: any RemoteRows) async throws {
        for list in CredifyEventMapping.lists {
            let pager = WindowPager<ResourceSnapshot>(time: \.updatedAt)
            let fetch: WindowPager<ResourceSnapshot>.Fetch = { from, index in
                let offset = index * Self.pageSize
                let page = try await json.page(
                    list.path,
                    query: [
                        ("updated_after", RFC3339.formatMillis(from.addingTimeInterval(-0.001))),
                        ("limit", String(Self.pageSize)), ("offset", String(offset)),
                    ]
                )
                guard let items = page[list.key]?.arrayValue, let total = page["total"]?.integerValue else {
                    throw json.garbage(list.path, "no \(list.key) array or total")
                }
                let rows = try items.map { item in
                    guard let snapshot = CredifyEventMapping.snapshot(object: item, resourceType: list.resourceType)
                    else { throw json.garbage(list.path, "an item of \(list.key) has no id, status or updated_at") }
                    return snapshot
                }
                return WindowPage(rows: rows, hasMore: !rows.isEmpty && Int64(offset + rows.count) < total)
            }
            try await json.readWindow(pager, since: since, until: until, path: list.path, fetch: fetch) { snapshots in
                try sink.keep(resources: snapshots)
            }
        }
    }

    func resource(type: String, id: String) async throws -> ResourceSnapshot? {
        guard let list = CredifyEventMapping.listPath(of: type) else { return nil }
        let path = list + "/" + JSONReader.escape(id)
        guard let object = try await json.object(path) else { return nil }
        guard let snapshot = CredifyEventMapping.snapshot(object: object, resourceType: type),
            ExactID(snapshot.resourceID) == ExactID(id)
        else { throw json.garbage(path, "not the requested \(type)") }
        return snapshot
    }
}
