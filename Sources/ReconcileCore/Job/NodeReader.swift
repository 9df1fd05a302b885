import Foundation
import Yams

/// Reads typed values out of YAML nodes, turning every mismatch into a `JobFileError` with a line.
struct NodeReader {
    let file: String
    let environment: [String: String]

    typealias Fields = [(key: String, keyNode: Node, value: Node)]

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

    func string(
        _ fields: Fields,
        _ key: String,
        pattern: String = "a non-empty string",
        isName: Bool = false,
        parent: Node? = nil
    ) throws -> String {
        let node = try required(fields, key, parent: parent)
        let value = try scalarString(node, key: key, expected: pattern)
        let nameCharacters = CharacterSet(
            charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"
        )
        if value.isEmpty || (isName && value.unicodeScalars.contains { !nameCharacters.contains($0) }) {
            throw JobFileError.badValue(file: file, line: line(node), key: key, found: value, expected: pattern)
        }
        return value
    }

    func optionalString(_ fields: Fields, _ key: String) throws -> String? {
        guard let node = optional(fields, key) else { return nil }
        return try scalarString(node, key: key, expected: "a string")
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

    private func durationValue(_ node: Node, key: String) throws -> TimeInterval {
        let expected = "a whole number above 0 followed by s, m, h or d (e.g. 72h)"
        let text = try scalarString(node, key: key, expected: expected)
        guard let value = JobFile.parseDuration(text) else {
            throw JobFileError.badValue(file: file, line: line(node), key: key, found: text, expected: expected)
        }
        return value
    }

    func secret(_ node: Node, key: String) throws -> Secret {
        let variable = try scalarString(node, key: key, expected: "the name of an environment variable")
        guard let value = environment[variable], !value.isEmpty else {
            throw JobFileError.missingEnvironment(file: file, line: line(node), key: key, variable: variable)
        }
        return Secret(variable: variable, value: value)
    }
}
