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
            window: [("created_gte", RFC3339.formatMillis(since)), ("created_lt", RFC3339.formatMillis(until))],
            limits: ReadLimits(maxRows: json.maxRows, since: since, until: until)
        ) { path, data in
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
                // Outside the window asked for: not this run's to judge (never a dropped or pending event).
                return event.occurredAt >= since && event.occurredAt < until ? event : nil
            }
            _ = try await sink.keep(events: events)
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

    func readResources(since: Date, until: Date, into sink: any RemoteRows) async throws {
        for (type, path) in CredicorpEventMapping.listPaths {
            try await list(
                "/public/v1/\(path)",
                window: [("updated_gte", RFC3339.formatMillis(since)), ("updated_lt", RFC3339.formatMillis(until))],
                limits: ReadLimits(maxRows: json.maxRows, since: since, until: until)
            ) { path, data in
                let snapshots = try data.compactMap { item -> ResourceSnapshot? in
                    guard let snapshot = CredicorpEventMapping.snapshot(object: item, expectedType: type) else {
                        throw garbage(path, "an item of data is not a \(type) object with id, status and updated")
                    }
                    return snapshot.updatedAt >= since && snapshot.updatedAt < until ? snapshot : nil
                }
                _ = try sink.keep(resources: snapshots)
            }
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

    /// Follows `starting_after` cursors until `has_more` is false, handing each page's `data` to `take`.
    ///
    /// The next page is asked for as soon as a page names its cursor, and is read and parsed while
    /// `take` keeps this one, so the provider's time and ours overlap; only a page that `has_more`
    /// promises is asked for. A cursor that does not advance (an empty page, or a last id seen
    /// before) is garbage; more rows than `limits` allow end the read as an endless list.
    private func list(
        _ path: String,
        window: [(String, String)],
        limits: ReadLimits,
        take: (String, [JSONValue]) async throws -> Void
    ) async throws {
        let first = window + [("limit", "100")]
        var read = 0
        var seen = Set<ExactID>()
        let progress = json.progress(list: path)
        var page = try await json.page(path, query: first)
        while true {
            guard page["object"]?.stringValue == "list", let data = page["data"]?.arrayValue,
                let hasMore = page["has_more"]?.boolValue
            else { throw garbage(path, "not a list object with data and has_more") }
            read += data.count
            guard read <= limits.maxRows else {
                throw ProviderError.endlessList(
                    provider: config.name,
                    path: path,
                    detail: "more than \(limits.maxRows) rows in one window (max_rows, or what the window can hold)"
                )
            }
            let reached = data.last.flatMap { $0["created"]?.stringValue ?? $0["updated"]?.stringValue }
            guard hasMore else {
                try await take(path, data)
                await progress?(data.count, reached.flatMap(RFC3339.parse))
                return
            }
            guard let last = data.last?["id"]?.stringValue, seen.insert(ExactID(last)).inserted else {
                throw garbage(path, "has_more is true but the page gives no new cursor")
            }
            // Left unawaited when `take` throws: leaving the scope cancels and awaits it.
            async let following = json.page(path, query: first + [("starting_after", last)])
            try await take(path, data)
            await progress?(data.count, reached.flatMap(RFC3339.parse))
            page = try await following
        }
    }

    private func garbage(_ path: String, _ detail: String) -> ProviderError { json.garbage(path, detail) }
}
