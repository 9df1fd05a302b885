import Foundation

/// The Credify read API of providers.md, answered from a ``CredifyWorld``.
///
/// Paths are relative to the provider base (`/v1/…`). Every route needs `Authorization: Bearer <key>`;
/// errors are `{"error":{"code":…,"message":…}}` with `bad_request`, `not_found`, `unauthorized`.
/// There is no events route.
enum CredifyAPI {
    /// The path segment the server mounts Credify under.
    static let providerName = "credify"

    /// Answers one request.
    static func respond(to request: SandboxAPIRequest, world: CredifyWorld) -> SandboxAPIResponse {
        guard SandboxKeyCheck.matchesBearer(request.authorization, key: world.apiKey) else {
            return .error(401, code: "unauthorized", message: "missing or invalid bearer key")
        }
        guard request.method == "GET" else {
            return .error(405, code: "bad_request", message: "only GET is supported")
        }
        guard
            let kind = CredifyObject.Kind.allCases.first(where: {
                request.path == $0.collectionPath || request.path.hasPrefix($0.collectionPath + "/")
            })
        else {
            return .error(404, code: "not_found", message: "no route for \(request.path)")
        }
        let rest = request.path.dropFirst(kind.collectionPath.count)
        do throws(CredifyPageQuery.Invalid) {
            if rest.isEmpty {
                let query = try CredifyPageQuery(request.query)
                let rows = world.objects(of: kind).filter { query.contains($0.updatedAt) }
                return .ok(query.page(of: rows, member: kind.listMember, render: \.json))
            }
            let id = String(rest.dropFirst())
            guard !id.isEmpty, !id.contains("/") else {
                return .error(404, code: "not_found", message: "no route for \(request.path)")
            }
            if let first = request.query.first {
                throw CredifyPageQuery.Invalid(message: "unknown parameter '\(first.name)'")
            }
            guard let object = world.objects[id], object.kind == kind else {
                return .error(404, code: "not_found", message: "no such \(kind.rawValue): '\(id)'")
            }
            return .ok(object.json)
        } catch {
            return .error(400, code: "bad_request", message: error.message)
        }
    }
}
