import Dispatch
import Foundation

/// A request to stop at the next safe point, set by SIGINT or SIGTERM.
///
/// The HTTP client and the ingestor look at it between requests and lines; a run that sees it
/// stops reading, applies no further repair, writes its partial report (`status: interrupted`)
/// and exits 3. A second signal ends the process at once (the store stays consistent: every
/// write is a transaction, and the lock goes with the process).
public final class Interruption: @unchecked Sendable {
    /// The process-wide flag.
    public static let shared = Interruption()

    private let lock = NSLock()
    private var signalNumber: Int32?
    private var sources: [any DispatchSourceSignal] = []

    /// Whether a stop was requested.
    public var isRequested: Bool { lock.withLock { signalNumber != nil } }

    /// The signal that asked for the stop, if any.
    public var signal: Int32? { lock.withLock { signalNumber } }

    /// Asks for a stop (what a signal does).
    public func request(signal: Int32) {
        lock.withLock { signalNumber = signal }
    }

    /// Routes SIGINT and SIGTERM to ``request(signal:)``; the second one terminates the process.
    public func trapSignals(onFirst: @escaping @Sendable (Int32) -> Void = { _ in }) {
        lock.withLock {
            guard sources.isEmpty else { return }
            for number in [SIGINT, SIGTERM] {
                Foundation.signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
                source.setEventHandler { [weak self] in
                    guard let self else { return }
                    if self.isRequested {
                        Foundation.signal(number, SIG_DFL)
                        kill(getpid(), number)
                        return
                    }
                    self.request(signal: number)
                    onFirst(number)
                }
                source.resume()
                sources.append(source)
            }
        }
    }
}
