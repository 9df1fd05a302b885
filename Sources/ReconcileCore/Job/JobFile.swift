import Foundation
import Yams

/// Reads and validates a job file, resolving secrets from the environment.
///
/// Everything is checked before anything runs: an unknown key, a missing key or environment
/// variable, a bad duration or an `http://` base URL on a non-loopback host is a `JobFileError`
/// naming the file, the line, the key and what was expected.
public enum JobFile {
    static let topKeys = ["name", "store", "lookback", "reports", "metrics", "repair", "retention", "providers"]
    static let providerKeys: [ProviderKind: [String]] = [
        .credicorp: [
            "name", "kind", "base_url", "api_key_env", "signing_secrets_env", "endpoint_id", "retry_window",
            "rate_limit",
        ],
        .crezco: ["name", "kind", "base_url", "api_key_env", "retry_window", "rate_limit"],
        .credify: [
            "name", "kind", "base_url", "api_key_env", "public_key_env", "webhook_url", "retry_window", "rate_limit",
        ],
    ]

    /// Loads the job file at `path`.
    public static func load(path: String, environment: [String: String]) throws -> JobConfig {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw JobFileError.unreadable(file: path, reason: "no readable UTF-8 file at this path")
        }
        return try parse(text: text, file: path, environment: environment)
    }

    /// Parses job file text; `file` names it in errors.
    public static func parse(text: String, file: String, environment: [String: String]) throws -> JobConfig {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw JobFileError.notYAML(file: file, line: 1, problem: "the file is empty")
            }
            root = node
        } catch let error as JobFileError {
            throw error
        } catch let error as YamlError {
            throw JobFileError.notYAML(file: file, line: yamlLine(error), problem: yamlProblem(error))
        } catch {
            throw JobFileError.notYAML(file: file, line: 1, problem: "unreadable YAML")
        }
        let reader = NodeReader(file: file, environment: environment)
        let top = try reader.mapping(root, key: "job file", allowed: topKeys)
        let name = try reader.string(top, "name", pattern: "a name of letters, digits, '-' or '_'", isName: true)
        let lookback = try reader.duration(top, "lookback")
        let providersNode = try reader.required(top, "providers")
        guard let sequence = providersNode.sequence, !sequence.isEmpty else {
            throw JobFileError.badValue(
                file: file,
                line: reader.line(providersNode),
                key: "providers",
                found: reader.shown(providersNode),
                expected: "a list of at least one provider"
            )
        }
        var providers: [ProviderConfig] = []
        for item in sequence {
            let provider = try reader.provider(item)
            if providers.contains(where: { $0.name == provider.name }) {
                throw JobFileError.badValue(
                    file: file,
                    line: reader.line(item),
                    key: "providers.name",
                    found: provider.name,
                    expected: "a name not used by another provider of this job"
                )
            }
            providers.append(provider)
        }
        let retention = try reader.optionalDuration(top, "retention") ?? 90 * 86_400
        let shortest = max(lookback, 30 * 86_400)
        if retention < shortest, let node = reader.optional(top, "retention") {
            throw JobFileError.badValue(
                file: file,
                line: reader.line(node),
                key: "retention",
                found: reader.shown(node),
                expected: "at least \(Int(shortest / 86_400))d: the lookback and the 30-day event log "
                    + "a backfill can read need the deliveries of that long"
            )
        }
        return JobConfig(
            file: file,
            name: name,
            store: try reader.string(top, "store"),
            storeLine: reader.optional(top, "store").map(reader.line) ?? 1,
            lookback: lookback,
            reports: try reader.string(top, "reports"),
            metrics: try reader.optionalString(top, "metrics"),
            repair: try reader.optionalBool(top, "repair") ?? true,
            retention: retention,
            providers: providers
        )
    }

    /// Parses a duration such as `72h`: a whole number followed by s, m, h or d; nil otherwise.
    public static func parseDuration(_ text: String) -> TimeInterval? {
        guard let unit = text.last, let count = Int(text.dropLast()), count > 0, text.first?.isNumber == true else {
            return nil
        }
        switch unit {
        case "s": return TimeInterval(count)
        case "m": return TimeInterval(count) * 60
        case "h": return TimeInterval(count) * 3600
        case "d": return TimeInterval(count) * 86_400
        default: return nil
        }
    }

    private static func yamlLine(_ error: YamlError) -> Int {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): mark.line
        default: 1
        }
    }

    private static func yamlProblem(_ error: YamlError) -> String {
        switch error {
        case .scanner(_, let problem, _, _), .parser(_, let problem, _, _), .composer(_, let problem, _, _): problem
        case .duplicatedKeysInMapping(let duplicates, _): "duplicate key \(duplicates.joined(separator: ", "))"
        default: "unreadable YAML"
        }
    }
}
