import Foundation
import Yams

/// Reads and validates a job file, resolving secrets from the environment.
///
/// Everything is checked before anything runs: an unknown key, a missing key or environment
/// variable, a bad duration or an `http://` base URL on a non-loopback host is a `JobFileError`
/// naming the file, the line, the key and what was expected.
public enum JobFile {
    static let topKeys = [
        "name", "store", "store_password_env", "lookback", "reports", "metrics", "repair", "retention", "retry_budget",
        "providers",
    ]
    static let commonProviderKeys = [
        "name", "kind", "base_url", "api_key_env", "retry_window", "rate_limit", "deadline", "max_rows", "retry_budget",
    ]
    static let providerKeys: [ProviderKind: [String]] = [
        .credicorp: commonProviderKeys + ["signing_secrets_env", "endpoint_id"],
        .crezco: commonProviderKeys,
        .credify: commonProviderKeys + ["public_key_env", "webhook_url"],
    ]

    /// The largest job file read: a real one is about 1 KiB.
    public static let maxFileBytes = 1 << 20

    /// Loads the job file at `path`.
    ///
    /// A directory, a file over ``maxFileBytes`` or bytes that are not UTF-8 are refused before
    /// any YAML is parsed.
    ///
    /// With `resolvingSecrets: false` (the read-only commands, which never call a provider), the
    /// secrets' variable names are checked but their values are neither read nor required, and
    /// every secret of the result is empty.
    public static func load(path: String, environment: [String: String], resolvingSecrets: Bool = true) throws
        -> JobConfig
    {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw JobFileError.unreadable(file: path, reason: "no file at this path")
        }
        if isDirectory.boolValue {
            throw JobFileError.unreadable(file: path, reason: "this is a directory; give the job file's path")
        }
        let data: Data
        do {
            let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
            defer { try? handle.close() }
            data = try handle.read(upToCount: maxFileBytes + 1) ?? Data()
        } catch {
            throw JobFileError.unreadable(file: path, reason: "the file cannot be read")
        }
        guard data.count <= maxFileBytes else {
            throw JobFileError.unreadable(
                file: path,
                reason: "the file is larger than 1 MiB; a job file is a few lines"
            )
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw JobFileError.notYAML(
                file: path,
                line: firstInvalidUTF8Line(data),
                problem: "bytes that are not UTF-8"
            )
        }
        return try parse(text: text, file: path, environment: environment, resolvingSecrets: resolvingSecrets)
    }

    /// The line of the first byte sequence in `data` that is not UTF-8.
    static func firstInvalidUTF8Line(_ data: Data) -> Int {
        var iterator = data.makeIterator()
        var decoder = UTF8()
        var line = 1
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar): if scalar == "\n" { line += 1 }
            case .emptyInput: return line
            case .error: return line
            }
        }
    }

    /// Parses job file text; `file` names it in errors.
    public static func parse(
        text: String,
        file: String,
        environment: [String: String],
        resolvingSecrets: Bool = true
    ) throws -> JobConfig {
        guard text.utf8.count <= maxFileBytes else {
            throw JobFileError.unreadable(
                file: file,
                reason: "the file is larger than 1 MiB; a job file is a few lines"
            )
        }
        try NodeReader.prescan(text: text, file: file)
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
        let reader = NodeReader(file: file, environment: environment, resolvesSecrets: resolvingSecrets)
        let top = try reader.mapping(root, key: "job file", allowed: topKeys)
        let name = try reader.name(top, "name")
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
        // A job-wide retry budget is every provider's default; a provider's own key overrides it.
        let retryBudget =
            try reader.optionalDuration(top, "retry_budget", at: ProviderConfig.retryBudgetRange)
            ?? ProviderConfig.defaultRetryBudget
        var providers: [ProviderConfig] = []
        for item in sequence {
            let provider = try reader.provider(item, retryBudget: retryBudget)
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
        let retentionNode = reader.optional(top, "retention")
        let retention = try reader.optionalDuration(top, "retention") ?? defaultRetention
        let shortest = max(lookback, 30 * 86_400)
        if retention < shortest {
            // Without a `retention` key the default applies, and a lookback beyond it is the lookback's fault.
            let node = retentionNode ?? reader.optional(top, "lookback")
            throw JobFileError.badValue(
                file: file,
                line: node.map(reader.line) ?? 1,
                key: retentionNode == nil ? "lookback" : "retention",
                found: node.map(reader.shown) ?? "",
                expected: retentionNode == nil
                    ? "at most the retention, 90d by default; set retention: to at least the lookback"
                    : "at least \(Int(shortest / 86_400))d: the lookback and the 30-day event log "
                        + "a backfill can read need the deliveries of that long"
            )
        }
        let store = try reader.string(
            top,
            "store",
            pattern: "a path or a postgres:// URL",
            maxLength: NodeReader.maxPathLength
        )
        let storeLine = reader.optional(top, "store").map(reader.line) ?? 1
        let storePassword = try storePassword(store, line: storeLine, top: top, reader: reader)
        return JobConfig(
            file: file,
            name: name,
            store: store,
            storeLine: storeLine,
            storePassword: storePassword,
            lookback: lookback,
            reports: try reader.string(top, "reports", pattern: "a folder path", maxLength: NodeReader.maxPathLength),
            metrics: try reader.optionalString(top, "metrics", maxLength: NodeReader.maxPathLength),
            repair: try reader.optionalBool(top, "repair") ?? true,
            retention: retention,
            providers: providers
        )
    }

    /// The password of a PostgreSQL `store` (its URL checked first), or nil for a SQLite file.
    ///
    /// A URL is refused without being shown whole when it carries a password: the password goes
    /// in the variable `store_password_env` names, which every command reads.
    private static func storePassword(
        _ store: String,
        line: Int,
        top: NodeReader.Fields,
        reader: NodeReader
    ) throws -> Secret? {
        let passwordNode = reader.optional(top, "store_password_env")
        guard PostgresLocation.isURL(store) else {
            if let passwordNode {
                throw JobFileError.badValue(
                    file: reader.file,
                    line: reader.line(passwordNode),
                    key: "store_password_env",
                    found: "<not shown: it may be the password itself>",
                    expected:
                        "no such key: store is a SQLite file, which has no password (only a postgres:// store has)"
                )
            }
            return nil
        }
        do {
            _ = try PostgresLocation(url: store)
        } catch {
            throw JobFileError.badValue(
                file: reader.file,
                line: line,
                key: "store",
                found: PostgresLocation.shown(store),
                expected: "a store URL postgres://USER@HOST[:PORT]/DATABASE[?sslmode=disable|verify-full]: \(error)"
            )
        }
        guard let passwordNode else {
            throw JobFileError.missingKey(file: reader.file, line: line, key: "store_password_env")
        }
        return try reader.secret(passwordNode, key: "store_password_env", always: true)
    }

    /// Retention when the job file names none.
    public static let defaultRetention: TimeInterval = 90 * 86_400
    /// The longest duration any key accepts: ten years, far below where date arithmetic overflows.
    public static let maxDuration: TimeInterval = 3650 * 86_400

    /// Parses a duration such as `72h`: ASCII digits above 0 then s, m, h or d, at most ``maxDuration``; nil otherwise.
    ///
    /// The number is read with overflow checks, so `9223372036854775807s` or `200000000000d` is
    /// nil (refused) rather than a value that later overflows the clock.
    public static func parseDuration(_ text: String) -> TimeInterval? {
        guard let unit = text.last, text.count >= 2, text.count <= 12 else { return nil }
        let digits = text.dropLast()
        guard digits.allSatisfy({ $0.isASCII && $0.isNumber }), let count = Int(digits), count > 0 else { return nil }
        let multiplier: Int
        switch unit {
        case "s": multiplier = 1
        case "m": multiplier = 60
        case "h": multiplier = 3600
        case "d": multiplier = 86_400
        default: return nil
        }
        let (seconds, overflow) = count.multipliedReportingOverflow(by: multiplier)
        guard !overflow, TimeInterval(seconds) <= maxDuration else { return nil }
        return TimeInterval(seconds)
    }

    private static func yamlLine(_ error: YamlError) -> Int {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): mark.line
        case .duplicatedKeysInMapping(_, let context): context.mark.line
        default: 1
        }
    }

    private static func yamlProblem(_ error: YamlError) -> String {
        switch error {
        case .scanner(_, let problem, _, _), .parser(_, let problem, _, _), .composer(_, let problem, _, _): problem
        case .duplicatedKeysInMapping(let duplicates, _):
            "a key given twice: \(JobFileError.clip(duplicates.joined(separator: ", ")))"
        default: "unreadable YAML"
        }
    }
}
