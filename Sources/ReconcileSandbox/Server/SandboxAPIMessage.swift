import Foundation

/// A read-API request as a provider simulator sees it: the path is relative to the provider's base URL.
struct SandboxAPIRequest: Sendable {
    /// The HTTP method, such as `GET`.
    var method: String
    /// Path below the provider base, such as `/public/v1/events`.
    var path: String
    /// Decoded query parameters in order of appearance.
    var query: [(name: String, value: String)]
    /// The `Authorization` header, if any.
    var authorization: String?
}

/// A provider simulator's answer, independent of the HTTP server.
struct SandboxAPIResponse: Sendable {
    var status: Int
    /// `Content-Type` of the body.
    var contentType = "application/json"
    /// `Retry-After` in seconds, for `429`.
    var retryAfter: Int?
    var body: String

    /// A `200` with a JSON body.
    static func ok(_ json: JSONValue) -> SandboxAPIResponse {
        SandboxAPIResponse(status: 200, body: json.serialized)
    }

    /// A JSON error in the Credicorp shape `{"error":{"type":…,"message":…}}`.
    static func error(_ status: Int, type: String, message: String) -> SandboxAPIResponse {
        let body = JSONValue.object([
            JSONField(
                "error",
                .object([JSONField("type", .string(type)), JSONField("message", .string(message))])
            )
        ])
        return SandboxAPIResponse(status: status, body: body.serialized)
    }
}

extension SandboxAPIRequest {
    /// Splits a raw query string into percent-decoded pairs; `+` stays a literal plus.
    static func parseQuery(_ raw: String?) -> [(name: String, value: String)] {
        guard let raw, !raw.isEmpty else { return [] }
        return raw.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(parts[0]).removingPercentEncoding ?? String(parts[0])
            let value = parts.count > 1 ? (String(parts[1]).removingPercentEncoding ?? String(parts[1])) : ""
            return (name, value)
        }
    }
}
