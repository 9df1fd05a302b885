import Foundation
import Logging

/// `--log-format json`: one JSON object per log line, for log shippers.
///
/// `{"time":"2026-07-10T08:00:00.123Z","level":"info","logger":"reconcile","message":"run.start",
/// "run.id":"…","since":"…"}`: the metadata flat beside the four fixed keys (a metadata key that
/// would clash with one is written as `metadata.KEY`), keys sorted, times in UTC with
/// milliseconds. Lines go through ``StandardErrorLines`` like the text format's.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    let label: String
    let lines: StandardErrorLines

    public init(label: String, lines: StandardErrorLines = .shared) {
        self.label = label
        self.lines = lines
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        lines.writeLines(Self.line(event, label: label, base: metadata, at: Date()) + "\n")
    }

    static let fixedKeys: Set<String> = ["time", "level", "logger", "message"]

    /// The JSON text of one log event (no newline).
    static func line(_ event: LogEvent, label: String, base: Logger.Metadata, at time: Date) -> String {
        var object: [String: JSONValue] = [
            "time": .string(RFC3339.formatMillis(time)), "level": .string(event.level.rawValue),
            "logger": .string(label), "message": .string(event.message.description),
        ]
        var merged = base
        merged.merge(event.metadata ?? [:]) { _, new in new }
        if let error = event.error { merged["error.message"] = "\(error)" }
        for (key, value) in merged {
            object[fixedKeys.contains(key) ? "metadata." + key : key] = json(value)
        }
        return JSONValue.object(object).canonicalText
    }

    static func json(_ value: Logger.MetadataValue) -> JSONValue {
        switch value {
        case .string(let text): .string(text)
        case .stringConvertible(let convertible): .string(convertible.description)
        case .array(let values): .array(values.map(json))
        case .dictionary(let values): .object(values.mapValues(json))
        }
    }
}
