/// Why a job file was refused before anything ran (exit status 2).
public enum JobFileError: ReconcileFailure, Equatable {
    case unreadable(file: String, reason: String)
    case notYAML(file: String, line: Int, problem: String)
    case unknownKey(file: String, line: Int, key: String, expected: String)
    case missingKey(file: String, line: Int, key: String)
    case badValue(file: String, line: Int, key: String, found: String, expected: String)
    case missingEnvironment(file: String, line: Int, key: String, variable: String)
    case badSecret(file: String, line: Int, key: String, variable: String, expected: String)

    public var exitStatus: Int32 { 2 }

    /// The longest piece of the job file an error repeats.
    static let shownLength = 80

    /// `text`, cut to ``shownLength`` characters with its full length, and control characters escaped.
    ///
    /// A 50 MB `name` is refused with its first characters, not echoed whole.
    static func clip(_ text: String) -> String {
        let scalars = text.unicodeScalars
        let kept = scalars.prefix(shownLength).map { scalar in
            scalar.properties.generalCategory == .control ? scalar.escaped(asASCII: true) : String(scalar)
        }.joined()
        return scalars.count > shownLength ? kept + "… (\(scalars.count) characters)" : kept
    }

    public var description: String {
        switch self {
        case .unreadable(let file, let reason):
            "\(file): cannot read the job file: \(reason)"
        case .notYAML(let file, let line, let problem):
            "\(file):\(line): not a valid YAML job file: \(problem)"
        case .unknownKey(let file, let line, let key, let expected):
            "\(file):\(line): unknown key '\(Self.clip(key))'; expected one of \(expected)"
        case .missingKey(let file, let line, let key):
            "\(file):\(line): missing required key '\(key)'"
        case .badValue(let file, let line, let key, let found, let expected):
            "\(file):\(line): \(Self.clip(key)) is '\(Self.clip(found))'; expected \(expected)"
        case .missingEnvironment(let file, let line, let key, let variable):
            "\(file):\(line): \(key) names environment variable \(variable), which is not set"
        case .badSecret(let file, let line, let key, let variable, let expected):
            "\(file):\(line): \(key): the value of environment variable \(variable) is not \(expected)"
        }
    }
}
