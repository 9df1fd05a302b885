import Foundation

/// The Credicorp read API of providers.md, answered from a ``CredicorpWorld``.
///
/// Paths are relative to the provider base (`/public/v1/…`, `/partner/v1/…`). Every route needs
/// `Authorization: Bearer <key>`; errors are `{"error":{"type":…,"message":…}}`.
enum CredicorpAPI {
    /// The path segment the server mounts Credicorp under.
    static let providerName = "credicorp"

    /// Answers one request at the sandbox time `now`.
    static func respond(to request: SandboxAPIRequest, world: CredicorpWorld, now: Date) -> SandboxAPIResponse {
        guard isAuthorized(request.authorization, key: world.apiKey) else {
            return .error(401, type: "authentication", message: "missing or invalid bearer key")
        }
        guard request.method == "GET" else {
            return .error(405, type: "invalid_request", message: "only GET is supported")
        }
        let segments = request.path.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map(String.init)
        do throws(CredicorpListQuery.Invalid) {
            switch segments.count {
            case 3 where segments[0] == "public" && segments[1] == "v1":
                return try list(segments[2], request: request, world: world, now: now)
            case 4 where segments[0] == "public" && segments[1] == "v1":
                try requireNoParameters(request)
                return retrieve(segments[2], id: segments[3], world: world, now: now)
            case 4 where segments[0] == "partner" && segments[1] == "v1" && segments[2] == "webhook_endpoints":
                try requireNoParameters(request)
                guard segments[3] == world.endpoint.id else { return notFound("webhook endpoint", segments[3]) }
                return .ok(world.endpoint.json)
            default:
                return .error(404, type: "not_found", message: "no route for \(request.path)")
            }
        } catch {
            return .error(400, type: "invalid_request", message: error.message)
        }
    }

    private static func list(
        _ collection: String,
        request: SandboxAPIRequest,
        world: CredicorpWorld,
        now: Date
    ) throws(CredicorpListQuery.Invalid) -> SandboxAPIResponse {
        if collection == "events" {
            let query = try CredicorpListQuery(request.query, timeField: "created", allowsType: true)
            let page = try query.page(
                ofSorted: world.allEvents,
                key: { ($0.created, $0.id) },
                include: { CredicorpWorld.isRetained($0, now: now) && query.matches(type: $0.type) },
                anchor: { id in world.event(id: id, now: now).map { ($0.created, $0.id) } },
                render: \.json
            )
            return .ok(page)
        }
        guard let kind = CredicorpObject.Kind.allCases.first(where: { $0.collection == collection }) else {
            return .error(404, type: "not_found", message: "no route for \(request.path)")
        }
        let query = try CredicorpListQuery(request.query, timeField: "updated", allowsType: false)
        let page = try query.page(
            ofSorted: world.objects(of: kind),
            key: { ($0.updated, $0.id) },
            include: { _ in true },
            anchor: { id in world.objects[id].flatMap { $0.kind == kind ? ($0.updated, $0.id) : nil } },
            render: \.json
        )
        return .ok(page)
    }

    private static func retrieve(_ collection: String, id: String, world: CredicorpWorld, now: Date)
        -> SandboxAPIResponse
    {
        if collection == "events" {
            guard let event = world.event(id: id, now: now) else { return notFound("event", id) }
            return .ok(event.json)
        }
        guard let kind = CredicorpObject.Kind.allCases.first(where: { $0.collection == collection }) else {
            return .error(404, type: "not_found", message: "no route for /public/v1/\(collection)/\(id)")
        }
        guard let object = world.objects[id], object.kind == kind else { return notFound(kind.rawValue, id) }
        return .ok(object.json)
    }

    private static func requireNoParameters(_ request: SandboxAPIRequest) throws(CredicorpListQuery.Invalid) {
        if let first = request.query.first {
            throw CredicorpListQuery.Invalid(message: "unknown parameter '\(first.name)'")
        }
    }

    private static func notFound(_ what: String, _ id: String) -> SandboxAPIResponse {
        .error(404, type: "not_found", message: "no such \(what): '\(id)'")
    }

    private static func isAuthorized(_ header: String?, key: String) -> Bool {
        guard let header, header.count > 7, header.prefix(7).lowercased() == "bearer " else { return false }
        let given = Array(header.dropFirst(7).utf8)
        let expected = Array(key.utf8)
        guard given.count == expected.count else { return false }
        return zip(given, expected).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
