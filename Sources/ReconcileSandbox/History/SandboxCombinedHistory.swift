import Foundation

/// Histories of all three providers in one world: one server answers them all, one capture file holds them all.
public struct SandboxCombinedHistory: Sendable {
    /// The Credicorp history (secrets, endpoint id, its own deliveries).
    public var credicorp: CredicorpHistory
    /// The Crezco history (key ids, its own deliveries).
    public var crezco: CrezcoHistory
    /// The Credify history (public key, webhook URL, its own deliveries).
    public var credify: CredifyHistory
    /// Every provider's world, ready for ``SandboxServer/start(world:logger:startTimeout:)``.
    public var world: SandboxWorld
    /// Every capture line of the three providers, stably sorted by `received_at`.
    ///
    /// A line without a readable `received_at` (the malformed ones) keeps the place after the line
    /// before it in its own provider's capture.
    public var captureLines: [String]
    /// Every expected finding of the three providers.
    public var expectedFindings: [SandboxExpectedFinding]

    /// Combines three histories that end at the same `now`.
    public init(credicorp: CredicorpHistory, crezco: CrezcoHistory, credify: CredifyHistory) {
        self.credicorp = credicorp
        self.crezco = crezco
        self.credify = credify
        world = SandboxWorld(
            now: credicorp.now,
            credicorp: credicorp.world.credicorp,
            crezco: crezco.world.crezco,
            credify: credify.world.credify
        )
        let sources: [[(line: String, receivedAt: Date?)]] = [
            credicorp.deliveries.map { ($0.line, $0.receivedAt) },
            crezco.deliveries.map { ($0.line, $0.receivedAt) },
            credify.deliveries.map { ($0.line, $0.receivedAt) },
        ]
        var keyed: [(key: Date, source: Int, index: Int, line: String)] = []
        for (source, lines) in sources.enumerated() {
            var previous = Date.distantPast
            for (index, entry) in lines.enumerated() {
                previous = entry.receivedAt ?? previous
                keyed.append((previous, source, index, entry.line))
            }
        }
        captureLines = keyed.sorted { ($0.key, $0.source, $0.index) < ($1.key, $1.source, $1.index) }.map(\.line)
        expectedFindings = credicorp.expectedFindings + crezco.expectedFindings + credify.expectedFindings
    }

    /// The sandbox clock the histories end at.
    public var now: Date { world.now }

    /// The merged capture file: every line followed by a newline.
    public var captureNDJSON: String { captureLines.map { $0 + "\n" }.joined() }

    /// Findings a run over `[since, until)` reports (see ``SandboxExpectedFinding/isCovered(since:until:)``).
    public func expectedFindings(since: Date, until: Date) -> [SandboxExpectedFinding] {
        expectedFindings.filter { $0.isCovered(since: since, until: until) }
    }
}

extension SandboxCombinedHistory: CustomStringConvertible, CustomDebugStringConvertible {
    /// A summary that never shows secrets or keys.
    public var description: String {
        "SandboxCombinedHistory(now: \(RFC3339.format(now)), lines: \(captureLines.count), "
            + "expectedFindings: \(expectedFindings.count), \(credicorp), \(crezco), \(credify))"
    }

    /// Same as ``description``.
    public var debugDescription: String { description }
}
