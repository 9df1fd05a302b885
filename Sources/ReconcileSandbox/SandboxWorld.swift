import Foundation

/// Everything the sandbox providers know: each provider's world and the sandbox clock.
///
/// A value type; the running server keeps it in an actor and tests change it through
/// ``SandboxServer/updateWorld(_:)``. Crezco and Credify are peers of ``credicorp``; each is empty
/// unless given.
public struct SandboxWorld: Sendable {
    /// The sandbox's current time: retention windows and "future" events are judged against it.
    public var now: Date
    /// Credicorp's objects, events, endpoint and key.
    public var credicorp: CredicorpWorld
    /// Crezco's objects, event log, public keys and key.
    public var crezco: CrezcoWorld
    /// Credify's orders, transactions and key.
    public var credify: CredifyWorld

    /// Creates a world at `now` with Credicorp only; Crezco and Credify are empty.
    public init(now: Date, credicorp: CredicorpWorld) {
        self.init(now: now, credicorp: credicorp, crezco: CrezcoWorld(), credify: CredifyWorld())
    }

    /// Creates a world at `now` with all three providers.
    public init(now: Date, credicorp: CredicorpWorld, crezco: CrezcoWorld, credify: CredifyWorld) {
        self.now = now
        self.credicorp = credicorp
        self.crezco = crezco
        self.credify = credify
    }
}
