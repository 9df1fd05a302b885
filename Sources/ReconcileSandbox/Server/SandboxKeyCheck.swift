/// Constant-time comparison of a presented API key with the expected one.
enum SandboxKeyCheck {
    /// Whether `given` equals `key`; an empty expected key matches nothing.
    static func matches(_ given: String?, key: String) -> Bool {
        guard let given, !key.isEmpty else { return false }
        let presented = Array(given.utf8)
        let expected = Array(key.utf8)
        guard presented.count == expected.count else { return false }
        return zip(presented, expected).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// Whether `header` is `Bearer <key>` (scheme case-insensitive).
    static func matchesBearer(_ header: String?, key: String) -> Bool {
        guard let header, header.count > 7, header.prefix(7).lowercased() == "bearer " else { return false }
        return matches(String(header.dropFirst(7)), key: key)
    }
}
