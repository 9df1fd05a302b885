import Foundation
import Yams

/// Reads typed values out of YAML nodes, turning every mismatch into a `JobFileError` with a line.
struct NodeReader {
    let file: String
    let environment: [String: String]
    /// Whether secrets are read from the environment; when not (read-only commands), each
    /// variable name is still checked and the secret is an empty placeholder.
    var resolvesSecrets = true

    typealias Fields = [(key: String, keyNode: Node, value: Node)]

    /// The longest `name` (job or provider): it goes into file names, logs and metric labels.
    static let maxNameLength = 64
    /// The longest path (`store`, `reports`, `metrics`).
    static let maxPathLength = 1024
    /// The longest other string (URLs, ids).
    static let maxStringLength = 1024
    /// The longest environment variable name.
    static let maxVariableLength = 128

    func line(_ node: Node) -> Int { node.mark?.line ?? 1 }

    func shown(_ node: Node) -> String {
        if let scalar = node.scalar { return scalar.string }
        if node.sequence != nil { return "a list" }
        return "a mapping"
    }

    func mapping(_ node: Node, key: String, allowed: [String]) throws -> Fields {
        guard let mapping = node.mapping else {
            throw JobFileError.badValue(
                file: file,
                line: line(node),
                key: key,
                found: shown(node),
                expected: "a mapping of keys"
            )
        }
        var fields: Fields = []
        for (keyNode, value) in mapping {
            let name = keyNode.scalar?.string ?? ""
            if fields.contains(where: { $0.key == name }) {
                throw JobFileError.badValue(
                    file: file,
                    line: line(keyNode),
                    key: name,
                    found: "a key given twice",
                    expected: "each key once"
                )
            }
            guard allowed.contains(name) else {
                throw JobFileError.unknownKey(
                    file: file,
                    line: line(keyNode),
                    key: name,
                    expected: allowed.joined(separator: ", ")
                )
            }
            fields.append((name, keyNode, value))
        }
        return fields
    }

    func optional(_ fields: Fields, _ key: String) -> Node? {
        guard let field = fields.first(where: { $0.key == key }) else { return nil }
        if let scalar = field.value.scalar, scalar.tag.description == Tag.Name.null.rawValue || scalar.string.isEmpty {
            return nil
        }
        return field.value
    }

    func required(_ fields: Fields, _ key: String, parent: Node? = nil) throws -> Node {
        guard let node = optional(fields, key) else {
            throw JobFileError.missingKey(
                file: file,
                line: parent.map(line) ?? fields.first.map { line($0.keyNode) } ?? 1,
                key: key
            )
        }
        return node
    }

    func scalarString(_ node: Node, key: String, expected: String) throws -> String {
        guard let scalar = node.scalar else {
            throw JobFileError.badValue(file: file, line: line(node), key: key, found: shown(node), expected: expected)
        }
        return scalar.string
    }

    /// A required string of at most `maxLength` characters, none of them a control character.
    func string(
        _ fields: Fields,
        _ key: String,
        pattern: String = "a non-empty string",
        maxLength: Int = NodeReader.maxStringLength,
        parent: Node? = nil
    ) throws -> String {
        let node = try required(fields, key, parent: parent)
        return try bounded(
            try scalarString(node, key: key, expected: pattern),
            node: node,
            key: key,
            pattern: pattern,
            maxLength: maxLength
        )
    }

    /// A job or provider name: 1 to ``maxNameLength`` letters, digits, `-` or `_`, starting with a letter or digit.
    func name(_ fields: Fields, _ key: String, parent: Node? = nil) throws -> String {
        let pattern =
            "a name of 1 to \(Self.maxNameLength) letters, digits, '-' or '_', starting with a letter or digit"
        let node = try required(fields, key, parent: parent)
        let value = try scalarString(node, key: key, expected: pattern)
        let isNameScalar: (Unicode.Scalar) -> Bool = { scalar in
            scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || scalar == "-" || scalar == "_")
        }
        guard let first = value.unicodeScalars.first, first.isASCII, CharacterSet.alphanumerics.contains(first),
            value.unicodeScalars.count <= Self.maxNameLength, value.unicodeScalars.allSatisfy(isNameScalar)
        else {
            throw JobFileError.badValue(file: file, line: line(node), key: key, found: value, expected: pattern)
        }
        return value
    }

    /// `value` when it is non-empty, at most `maxLength` characters and free of control characters.
    func bounded(_ value: String, node: Node, key: String, pattern: String, maxLength: Int) throws -> String {
        if value.isEmpty || value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw JobFileError.badValue(file: file, line: line(node), key: key, found: value, expected: pattern)
        }
        if value.unicodeScalars.count > maxLength {
            throw JobFileError.badValue(
                file: file,
                line: line(node),
                key: key,
                found: value,
                expected: "\(pattern) of at most \(maxLength) characters"
            )
        }
        return value
    }

    func optionalString(_ fields: Fields, _ key: String, maxLength: Int = NodeReader.maxStringLength) throws -> String?
    {
        guard let node = optional(fields, key) else { return nil }
        let value = try scalarString(node, key: key, expected: "a string")
        return try bounded(value, node: node, key: key, pattern: "a string", maxLength: maxLength)
    }

    func optionalBool(_ fields: Fields, _ key: String) throws -> Bool? {
        guard let node = optional(fields, key) else { return nil }
        switch try scalarString(node, key: key, expected: "true or false") {
        case "true": return true
        case "false": return false
        case let other:
            throw JobFileError.badValue(file: file, line: line(node), key: key, found: other, expected: "true or false")
        }
    }

    func duration(_ fields: Fields, _ key: String, parent: Node? = nil) throws -> TimeInterval {
        let node = try required(fields, key, parent: parent)
        return try durationValue(node, key: key)
    }

    func optionalDuration(_ fields: Fields, _ key: String) throws -> TimeInterval? {
        guard let node = optional(fields, key) else { return nil }
        return try durationValue(node, key: key)
    }

    /// An optional duration that must also lie in `range` (seconds).
    func optionalDuration(_ fields: Fields, _ key: String, at range: ClosedRange<TimeInterval>) throws -> TimeInterval?
    {
        guard let node = optional(fields, key), let value = try optionalDuration(fields, key) else { return nil }
        guard range.contains(value) else {
            throw JobFileError.badValue(
                file: file,
                line: line(node),
                key: key,
                found: shown(node),
                expected: "a duration from \(Int(range.lowerBound))s to \(Int(range.upperBound / 3600))h"
            )
        }
        return value
    }

    private func durationValue(_ node: Node, key: String) throws -> TimeInterval {
        let expected = "a whole number above 0 followed by s, m, h or d (e.g. 72h), at most 3650d"
        let text = try scalarString(node, key: key, expected: expected)
        guard let value = JobFile.parseDuration(text) else {
            throw JobFileError.badValue(file: file, line: line(node), key: key, found: text, expected: expected)
        }
        return value
    }

    /// The secret in the environment variable that `node` names.
    ///
    /// A value that is not a variable name (letters, digits, `_`, not starting with a digit) is
    /// not shown in the error: it may be the secret itself, pasted in by mistake. `always`
    /// resolves it even for a command that reads no other secret (the store's password).
    func secret(_ node: Node, key: String, always: Bool = false) throws -> Secret {
        let variable = try scalarString(node, key: key, expected: "the name of an environment variable")
        let isVariableScalar: (Unicode.Scalar) -> Bool = { scalar in
            scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || scalar == "_")
        }
        guard let first = variable.unicodeScalars.first, !CharacterSet.decimalDigits.contains(first),
            variable.unicodeScalars.count <= Self.maxVariableLength,
            variable.unicodeScalars.allSatisfy(isVariableScalar)
        else {
            throw JobFileError.badValue(
                file: file,
                line: line(node),
                key: key,
                found: "<not shown: not a variable name>",
                expected: "the name of an environment variable (letters, digits and _), never the secret itself"
            )
        }
        guard resolvesSecrets || always else { return Secret(variable: variable, value: "") }
        guard let value = environment[variable], !value.isEmpty else {
            throw JobFileError.missingEnvironment(file: file, line: line(node), key: key, variable: variable)
        }
        return Secret(variable: variable, value: value)
    }
}
