import Foundation

/// The Crezco read API of providers.md, answered from a ``CrezcoWorld``.
///
/// Paths are relative to the provider base (`/v1/…`). Every route needs `X-Crezco-Key: <key>`;
/// errors are `{"error":{"code":…,"message":…}}` with `NotFound`, `BadRequest`, `Unauthorized`.
enum CrezcoAPI {
    /// The path segment the server mounts Crezco under.
    static let providerName = "crezco"

    /// Answers one request at the sandbox time `now`.
    static func respond(to request: SandboxAPIRequest, world: CrezcoWorld, now: Date) -> SandboxAPIResponse {
        guard SandboxKeyCheck.matches(request.crezcoKey, key: world.apiKey) else {
            return .error(401, code: "Unauthorized", message: "missing or invalid X-Crezco-Key")
        }
        guard request.method == "GET" else {
            return .error(405, code: "BadRequest", message: "only GET is supported")
        }
        let segments = request.path.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map(String.init)
        guard segments.count >= 2, segments[0] == "v1" else { return noRoute(request) }
        let route = Array(segments.dropFirst())
        do throws(CrezcoPageQuery.Invalid) {
            switch route.count {
            case 1 where route[0] == "events":
                let query = try CrezcoPageQuery(request.query, fromName: "from", toName: "to")
                let events = world.retainedEvents(now: now).filter { query.contains($0.timestamp) }
                return .ok(query.page(of: events, member: "events", render: \.json))
            case 1 where route[0] == "payruns" || route[0] == "payables":
                let kind: CrezcoObject.Kind = route[0] == "payruns" ? .payRun : .payable
                let query = try CrezcoPageQuery(request.query, fromName: "updatedFrom", toName: "updatedTo")
                let objects = world.objects(of: kind).filter { query.contains($0.updatedAt) }
                return .ok(query.page(of: objects, member: kind == .payRun ? "payRuns" : "payables", render: \.json))
            case 2 where ["payruns", "payables", "bank-accounts", "verifications"].contains(route[0]),
                3 where route[0] == "organisations" && route[2] == "onboarding":
                try requireNoParameters(request)
                let kind: CrezcoObject.Kind =
                    switch route[0] {
                    case "payruns": .payRun
                    case "payables": .payable
                    case "bank-accounts": .bankAccount
                    case "verifications": .verification
                    default: .organisation
                    }
                guard let object = world.object(kind, id: route[1]) else {
                    return .error(404, code: "NotFound", message: "no such \(kind.rawValue): '\(route[1])'")
                }
                return .ok(object.json)
            case 3 where route[0] == "webhooks" && route[1] == "public-keys":
                try requireNoParameters(request)
                guard let pem = world.publicKeys[route[2]] else {
                    return .error(404, code: "NotFound", message: "no such public key: '\(route[2])'")
                }
                return .ok(
                    .object([
                        JSONField("keyId", .string(route[2])),
                        JSONField("algorithm", .string("ES256")),
                        JSONField("publicKey", .string(pem)),
                    ])
                )
            default:
                return noRoute(request)
            }
        } catch {
            return .error(400, code: "BadRequest", message: error.message)
        }
    }

    private static func requireNoParameters(_ request: SandboxAPIRequest) throws(CrezcoPageQuery.Invalid) {
        if let first = request.query.first {
            throw CrezcoPageQuery.Invalid(message: "unknown parameter '\(first.name)'")
        }
    }

    private static func noRoute(_ request: SandboxAPIRequest) -> SandboxAPIResponse {
        .error(404, code: "NotFound", message: "no route for \(request.path)")
    }
}
