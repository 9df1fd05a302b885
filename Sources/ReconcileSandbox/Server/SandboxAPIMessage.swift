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
    /// The `X-Crezco-Key` header, if any.
    var crezcoKey: String? = nil
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

    /// A JSON error in the Crezco and Credify shape `{"error":{"code":…,"message":…}}`.
    static func error(_ status: Int, code: String, message: String) -> SandboxAPIResponse {
        let body = JSONValue.object([
            JSONField(
                "error",
                .object([JSONField("code", .string(code)), JSONField("message", .string(message))])
            )
        ])
        return SandboxAPIResponse(status: status, body: body.serialized)
    }

    /// A JSON error of `kind` in the error format of `provider` (Credicorp's for an unknown provider).
    static func error(_ status: Int, _ kind: SandboxErrorKind, provider: String, message: String)
        -> SandboxAPIResponse
    {
        switch provider {
        case CrezcoAPI.providerName: .error(status, code: kind.crezcoCode, message: message)
        case CredifyAPI.providerName: .error(status, code: kind.credifyCode, message: message)
        default: .error(status, type: kind.credicorpType, message: message)
        }
    }
}

/// The error classes every provider answers, each spelled in its own way.
enum SandboxErrorKind: Sendable {
    case badRequest, unauthorized, notFound, rateLimited, serverError

    /// Credicorp's `error.type`.
    var credicorpType: String {
        switch self {
        case .badRequest: "invalid_request"
        case .unauthorized: "authentication"
        case .notFound: "not_found"
        case .rateLimited: "rate_limited"
        case .serverError: "api_error"
        }
    }

    /// Crezco's `error.code`.
    var crezcoCode: String {
        switch self {
        case .badRequest: "BadRequest"
        case .unauthorized: "Unauthorized"
        case .notFound: "NotFound"
        case .rateLimited: "TooManyRequests"
        case .serverError: "ServerError"
        }
    }

    /// Credify's `error.code`.
    var credifyCode: String {
        switch self {
        case .badRequest: "bad_request"
        case .unauthorized: "unauthorized"
        case .notFound: "not_found"
        case .rateLimited: "rate_limited"
        case .serverError: "internal"
        }
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
