import Foundation

/// Standard error as log lines and a live progress line share it, so that neither overwrites the other.
///
/// On a terminal a backfill's progress line is redrawn in place (`\r`, erase line). A log line
/// written while it shows would land in the middle of it; through this, the live line is erased
/// first, the log line written whole, and the live line drawn again below it.
public final class StandardErrorLines: @unchecked Sendable {
    /// The process's standard error.
    public static let shared = StandardErrorLines(output: writeToStandardError)

    /// Writes `text` to file descriptor 2 with `write(2)`, retrying on EINTR and dropping it on any
    /// other error: a full disk or a file-size limit on the log must fail what writes the store, not
    /// kill the process over a log line (Foundation's `FileHandle.write(_:)` traps on an error).
    public static func writeToStandardError(_ text: String) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { buffer -> Int in
                guard let base = buffer.baseAddress else { return 0 }
                return write(STDERR_FILENO, base + offset, buffer.count - offset)
            }
            if written > 0 {
                offset += written
            } else if written < 0, errno == EINTR {
                continue
            } else {
                return
            }
        }
    }

    /// Erases the terminal's current line and returns to its start.
    static let eraseLine = "\r\u{1B}[2K"

    private let lock = NSLock()
    private let output: @Sendable (String) -> Void
    /// The live line shown at the bottom, if any.
    private var live: String?

    /// Lines written to `output`, one call per write.
    public init(output: @escaping @Sendable (String) -> Void) {
        self.output = output
    }

    /// Writes whole lines (`text` ends with a newline), below which the live line is drawn again.
    public func writeLines(_ text: String) {
        lock.withLock {
            if let live {
                output(Self.eraseLine + text + live)
            } else {
                output(text)
            }
        }
    }

    /// Shows `text` as the live line, replacing the previous one.
    public func showLive(_ text: String) {
        lock.withLock {
            live = text
            output(Self.eraseLine + text)
        }
    }

    /// Ends the live line: `text` replaces it and stays as an ordinary line.
    public func endLive(_ text: String) {
        lock.withLock {
            live = nil
            output(Self.eraseLine + text + "\n")
        }
    }
}

/// swift-log's `StreamLogHandler` writing through ``StandardErrorLines/shared``.
public struct StandardErrorLogStream: TextOutputStream, Sendable {
    public init() {}

    public mutating func write(_ string: String) { StandardErrorLines.shared.writeLines(string) }
}
