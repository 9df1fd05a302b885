import Foundation
import Yams

extension NodeReader {
    /// Reads and validates one entry of `providers`; `retryBudget` applies unless it gives its own.
    func provider(_ node: Node, retryBudget: TimeInterval = ProviderConfig.defaultRetryBudget) throws -> ProviderConfig
    {
        let allKeys = Array(Set(JobFile.providerKeys.values.flatMap { $0 })).sorted()
        let fields = try mapping(node, key: "providers[]", allowed: allKeys)
        let kindNode = try required(fields, "kind", parent: node)
        let kindText = try scalarString(kindNode, key: "kind", expected: "credicorp, crezco or credify")
        guard let kind = ProviderKind(rawValue: kindText) else {
            throw JobFileError.badValue(
                file: file,
                line: line(kindNode),
                key: "kind",
                found: kindText,
                expected: "credicorp, crezco or credify"
            )
        }
        let allowed = JobFile.providerKeys[kind] ?? []
        for field in fields where !allowed.contains(field.key) {
            throw JobFileError.unknownKey(
                file: file,
                line: line(field.keyNode),
                key: field.key,
                expected: "a key of a \(kind.rawValue) provider: \(allowed.joined(separator: ", "))"
            )
        }
        let name = try self.name(fields, "name", parent: node)
        let baseURL = try self.baseURL(try required(fields, "base_url", parent: node))
        let apiKey = try secret(try required(fields, "api_key_env", parent: node), key: "api_key_env")
        var config = ProviderConfig(
            name: name,
            kind: kind,
            baseURL: baseURL,
            apiKey: apiKey,
            signingSecrets: [],
            endpointID: nil,
            publicKey: nil,
            webhookURL: nil,
            retryWindow: try optionalDuration(fields, "retry_window") ?? kind.defaultRetryWindow,
            rateLimit: try rateLimit(fields),
            deadline: try optionalDuration(fields, "deadline", at: ProviderConfig.deadlineRange)
                ?? ProviderConfig.defaultDeadline,
            maxRows: try maxRows(fields),
            retryBudget: try optionalDuration(fields, "retry_budget", at: ProviderConfig.retryBudgetRange)
                ?? retryBudget
        )
        switch kind {
        case .credicorp:
            config.signingSecrets = try signingSecrets(try required(fields, "signing_secrets_env", parent: node))
            config.endpointID = try optionalString(fields, "endpoint_id", maxLength: 200)
        case .crezco:
            break
        case .credify:
            let keyNode = try required(fields, "public_key_env", parent: node)
            let key = try secret(keyNode, key: "public_key_env")
            guard
                !resolvesSecrets
                    || Data(base64Encoded: key.value.trimmingCharacters(in: .whitespacesAndNewlines))?.count == 32
            else {
                throw JobFileError.badSecret(
                    file: file,
                    line: line(keyNode),
                    key: "public_key_env",
                    variable: key.variable,
                    expected: "a base64 Ed25519 public key of 32 bytes"
                )
            }
            config.publicKey = key
            config.webhookURL = try string(fields, "webhook_url", pattern: "the registered webhook URL", parent: node)
        }
        return config
    }

    private func rateLimit(_ fields: Fields) throws -> Double {
        guard let node = optional(fields, "rate_limit") else { return ProviderConfig.defaultRateLimit }
        let range = ProviderConfig.rateLimitRange
        let expected = "a decimal number of requests per second from \(range.lowerBound) to \(Int(range.upperBound))"
        let text = try scalarString(node, key: "rate_limit", expected: expected)
        let decimal =
            text.count <= 12 && text.allSatisfy { $0.isASCII && ($0.isNumber || $0 == ".") }
            && text.filter { $0 == "." }.count <= 1 && text.first?.isNumber == true
        guard decimal, let value = Double(text), range.contains(value) else {
            throw JobFileError.badValue(
                file: file,
                line: line(node),
                key: "rate_limit",
                found: text,
                expected: expected
            )
        }
        return value
    }

    private func maxRows(_ fields: Fields) throws -> Int {
        guard let node = optional(fields, "max_rows") else { return ProviderConfig.defaultMaxRows }
        let range = ProviderConfig.maxRowsRange
        let expected = "a whole number of rows per list from \(range.lowerBound) to \(range.upperBound)"
        let text = try scalarString(node, key: "max_rows", expected: expected)
        guard text.count <= 9, text.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(text),
            range.contains(value)
        else {
            throw JobFileError.badValue(file: file, line: line(node), key: "max_rows", found: text, expected: expected)
        }
        return value
    }

    private func signingSecrets(_ node: Node) throws -> [Secret] {
        let expected = "a list of environment variable names holding whsec_ secrets"
        let items: [Node]
        if let sequence = node.sequence {
            items = Array(sequence)
        } else if node.scalar != nil {
            items = [node]
        } else {
            throw JobFileError.badValue(
                file: file,
                line: line(node),
                key: "signing_secrets_env",
                found: shown(node),
                expected: expected
            )
        }
        guard !items.isEmpty else {
            throw JobFileError.badValue(
                file: file,
                line: line(node),
                key: "signing_secrets_env",
                found: "[]",
                expected: expected
            )
        }
        return try items.map { item in
            let secret = try self.secret(item, key: "signing_secrets_env")
            guard !resolvesSecrets || StandardWebhooksV1.key(fromSecret: secret.value) != nil else {
                throw JobFileError.badSecret(
                    file: file,
                    line: line(item),
                    key: "signing_secrets_env",
                    variable: secret.variable,
                    expected: "a Standard Webhooks secret: whsec_ followed by base64"
                )
            }
            return secret
        }
    }

    private func baseURL(_ node: Node) throws -> String {
        let expected = "an https:// URL, or http:// on a loopback host (127.0.0.1, ::1, localhost)"
        let text = try scalarString(node, key: "base_url", expected: expected)
        let components = URLComponents(string: text)
        // The user and password of a URL are credentials: never in the file, never echoed.
        if components?.user != nil || components?.password != nil || text.contains("@") {
            throw JobFileError.badValue(
                file: file,
                line: line(node),
                key: "base_url",
                found: Self.withoutUserinfo(text),
                expected: "a URL without credentials in it; the API key comes from api_key_env"
            )
        }
        _ = try bounded(text, node: node, key: "base_url", pattern: expected, maxLength: Self.maxStringLength)
        guard let components, let scheme = components.scheme?.lowercased(),
            let host = components.host, !host.isEmpty, components.query == nil, components.fragment == nil
        else {
            throw JobFileError.badValue(file: file, line: line(node), key: "base_url", found: text, expected: expected)
        }
        switch scheme {
        case "https":
            break
        case "http" where Self.isLoopback(host):
            break
        default:
            throw JobFileError.badValue(file: file, line: line(node), key: "base_url", found: text, expected: expected)
        }
        return text.hasSuffix("/") ? String(text.dropLast()) : text
    }

    /// `url` with everything between `://` and the last `@` of its authority replaced, for error messages.
    static func withoutUserinfo(_ url: String) -> String {
        let schemeEnd = url.range(of: "://")?.upperBound ?? url.startIndex
        let rest = url[schemeEnd...]
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        guard let at = rest[..<authorityEnd].lastIndex(of: "@") else {
            return rest.contains("@") ? String(url[..<schemeEnd]) + "<not shown>" : url
        }
        return String(url[..<schemeEnd]) + "<credentials removed>" + String(url[at...])
    }

    /// Whether `host` names this machine: `localhost`, `::1` or an address in 127.0.0.0/8.
    static func isLoopback(_ host: String) -> Bool {
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).lowercased()
        if bare == "localhost" || bare == "::1" { return true }
        let parts = bare.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "127" else { return false }
        return parts.allSatisfy { part in UInt8(part) != nil }
    }
}
