import Foundation

/// What a run tells about its progress, provider by provider.
public protocol RunProgress: ReadProgress {
    /// Reading of `provider` starts; it will read `lists` lists over `[since, until)`.
    func providerStarted(_ provider: String, lists: Int, since: Date, until: Date) async
    /// The provider is done: its findings and section status.
    func providerFinished(_ provider: String, findings: Int, status: String) async
}

/// A progress line per provider on standard error: live on a terminal, a plain line every few seconds otherwise.
///
/// Shows pages and rows read, how much of the window the lists have covered, the row rate and an
/// ETA from that coverage; at the end, the provider's findings.
public actor ProgressLine: RunProgress {
    struct State {
        var lists = 1
        var since = Date()
        var until = Date()
        var started = Date()
        var pages = 0
        var rows = 0
        /// Each list's time read up to (the window's end once it is read whole): lists may be read
        /// at once.
        var reached: [String: Date] = [:]
    }

    let terminal: Bool
    let interval: TimeInterval
    let lines: StandardErrorLines
    private var states: [String: State] = [:]
    private var lastWrite = Date.distantPast

    /// - Parameters:
    ///   - terminal: Whether standard error is a terminal (live line) or not (a line every `interval`).
    ///   - interval: Seconds between plain lines when there is no terminal.
    ///   - lines: Where lines go: standard error, shared with the log lines, by default.
    public init(
        terminal: Bool = isatty(STDERR_FILENO) == 1,
        interval: TimeInterval = 5,
        lines: StandardErrorLines = .shared
    ) {
        self.terminal = terminal
        self.interval = interval
        self.lines = lines
    }

    public func providerStarted(_ provider: String, lists: Int, since: Date, until: Date) {
        states[provider] = State(lists: max(1, lists), since: since, until: until, started: Date())
    }

    public func pageRead(provider: String, list: String, rows: Int, reached: Date?) {
        var state = states[provider] ?? State()
        state.pages += 1
        state.rows += rows
        if let reached { state.reached[list] = max(reached, state.reached[list] ?? reached) }
        states[provider] = state
        let now = Date()
        guard now.timeIntervalSince(lastWrite) >= (terminal ? 0.2 : interval) else { return }
        lastWrite = now
        emit(Self.line(provider, state, now: now))
    }

    public func providerFinished(_ provider: String, findings: Int, status: String) {
        let state = states[provider] ?? State()
        let seconds = Int(Date().timeIntervalSince(state.started).rounded())
        let line =
            "\(provider): \(status), \(state.pages) pages, \(state.rows) rows read, \(findings) findings, \(seconds) s"
        if terminal { lines.endLive(line) } else { lines.writeLines(line + "\n") }
    }

    private func emit(_ line: String) {
        if terminal { lines.showLive(line) } else { lines.writeLines(line + "\n") }
    }

    /// The fraction of the window the lists have covered so far, from 0 to 1: each list as far as
    /// it has reached (a list's last page reports the window's end, whatever its last row's time).
    static func fraction(_ state: State) -> Double {
        let span = state.until.timeIntervalSince(state.since)
        let covered = state.reached.values.reduce(0.0) { sum, reached in
            sum + (span > 0 ? min(1, max(0, reached.timeIntervalSince(state.since) / span)) : 1)
        }
        return min(1, covered / Double(state.lists))
    }

    static func line(_ provider: String, _ state: State, now: Date) -> String {
        let elapsed = max(0.001, now.timeIntervalSince(state.started))
        let fraction = fraction(state)
        let rate = Int((Double(state.rows) / elapsed).rounded())
        var text =
            "\(provider): \(state.pages) pages, \(state.rows) rows, \(Int((fraction * 100).rounded()))% of window, \(rate) rows/s"
        if fraction > 0.01 {
            let remaining = Int((elapsed * (1 - fraction) / fraction).rounded())
            text += ", ETA \(remaining / 60)m\(String(format: "%02d", remaining % 60))s"
        }
        return text
    }
}
