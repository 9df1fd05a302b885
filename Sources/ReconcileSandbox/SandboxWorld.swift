import Foundation

/// Everything the sandbox providers know: each provider's world and the sandbox clock.
///
/// A value type; the running server keeps it in an actor and tests change it through
/// ``SandboxServer/updateWorld(_:)``. Crezco and Credify join as peers of ``credicorp``.
public struct SandboxWorld: Sendable {
    /// The sandbox's current time: retention windows and "future" events are judged against it.
    public var now: Date
    /// Credicorp's objects, events, endpoint and key.
    public var credicorp: CredicorpWorld

    /// Creates a world at `now`.
    public init(now: Date, credicorp: CredicorpWorld) {
        self.now = now
        self.credicorp = credicorp
    }
}
