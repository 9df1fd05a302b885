import Foundation

/// Reads Crezco's `/v1` API: page-number lists of 100 read by ``WindowPager``, objects one by one.
struct CrezcoReader: JSONAPIReader {
    let json: JSONReader

    static let pageSize = 100

    /// Crezco has no endpoint route.
    func endpoint() async throws -> EndpointStatus? { nil }

    func readEvents(since: Date, until: Date, into sink: any RemoteRows) async throws {
        let pager = WindowPager<ProviderEvent>(time: \.occurredAt)
        let path = "/v1/events"
        let fetch: WindowPager<ProviderEvent>.Fetch = { from, index in
            let page = try await json.page(path, query: query(from: "from", to: "to", from, until, index))
            let items = try items(page, key: "events", path: path)
            let events = try items.compactMap { item -> ProviderEvent? in
                if CrezcoEventMapping.isNewerKind(item) { return nil }
                guard let event = CrezcoEventMapping.event(item) else {
                    throw json.garbage(path, "an item of events is not a Crezco event")
                }
                return event
            }
            return WindowPage(rows: events, hasMore: try hasMore(page, index: index, path: path))
        }
        try await json.readWindow(pager, since: since, until: until, path: path, fetch: fetch) { events in
            try await sink.keep(events: events)
        }
    }

    func event(id: String) async throws -> ProviderEvent? { nil }

    func readResources(since: Date, until: Date, into sink: any RemoteRows) async throws {
        let pager = WindowPager<ResourceSnapshot>(time: \.updatedAt)
        for list in CrezcoEventMapping.lists {
            let fetch: WindowPager<ResourceSnapshot>.Fetch = { from, index in
                let query = query(from: "updatedFrom", to: "updatedTo", from, until, index)
                let page = try await json.page(list.path, query: query)
                let rows = try items(page, key: list.key, path: list.path).map { item in
                    guard let snapshot = CrezcoEventMapping.snapshot(object: item, resourceType: list.resourceType)
                    else { throw json.garbage(list.path, "an item of \(list.key) has no id, status or updatedAt") }
                    return snapshot
                }
                return WindowPage(rows: rows, hasMore: try hasMore(page, index: index, path: list.path))
            }
            try await json.readWindow(pager, since: since, until: until, path: list.path, fetch: fetch) { snapshots in
                try sink.keep(resources: snapshots)
            }
        }
    }

    func resource(type: String, id: String) async throws -> ResourceSnapshot? {
        guard let path = CrezcoEventMapping.path(of: type, id: JSONReader.escape(id)) else { return nil }
        guard let object = try await json.object(path) else { return nil }
        guard let snapshot = CrezcoEventMapping.snapshot(object: object, resourceType: type),
            ExactID(snapshot.resourceID) == ExactID(id)
        else { throw json.garbage(path, "not the requested \(type)") }
        return snapshot
    }

    func publicKey(id: String) async throws -> PublishedKey? {
        let path = "/v1/webhooks/public-keys/\(JSONReader.escape(id))"
        guard let object = try await json.object(path) else { return nil }
        guard let pem = object["publicKey"]?.stringValue, CrezcoECDSA.publicKey(pem: pem) != nil,
            object["keyId"]?.stringValue.map({ ExactID($0) }) == ExactID(id)
        else { throw json.garbage(path, "not a P-256 public key for the requested key id") }
        return PublishedKey(keyID: id, algorithm: object["algorithm"]?.stringValue ?? "ES256", publicKey: pem)
    }

    private func query(from fromName: String, to toName: String, _ from: Date, _ until: Date, _ index: Int)
        -> [(String, String)]
    {
        [
            (fromName, RFC3339.formatMillis(from)), (toName, RFC3339.formatMillis(until)),
            ("page", String(index + 1)), ("pageSize", String(Self.pageSize)),
        ]
    }

    private func items(_ page: JSONValue, key: String, path: String) throws -> [JSONValue] {
        guard let items = page[key]?.arrayValue else { throw json.garbage(path, "no \(key) array") }
        return items
    }

    private func hasMore(_ page: JSONValue, index: Int, path: String) throws -> Bool {
        guard let total = page["totalPages"]?.integerValue, total >= 0 else {
            throw json.garbage(path, "no totalPages")
        }
        // A server that ignores `page` would answer page 1 forever: its echo must match.
        if let echoed = page["page"], echoed != .integer(Int64(index + 1)) {
            throw json.garbage(path, "page \(index + 1) was asked for and another was answered")
        }
        return Int64(index + 1) < total
    }
}
