/// A key or signing secret read from the environment; it prints as `<redacted>` everywhere.
public struct Secret: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The environment variable the value came from (safe to show).
    public let variable: String
    /// The secret itself: pass it only to the code that signs, verifies or authenticates.
    public let value: String

    public init(variable: String, value: String) {
        self.variable = variable
        self.value = value
    }

    public var description: String { "<redacted \(variable)>" }
    public var debugDescription: String { description }
}
