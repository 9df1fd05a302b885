import Foundation

/// Streams the lines of a capture file (or standard input) without holding the file in memory.
///
/// Lines are split on `\n`; a trailing `\r` is dropped; blank lines are skipped but counted, so
/// line numbers match what an editor shows.
public struct CaptureReader: Sequence {
    let handle: FileHandle
    let chunkSize: Int

    public init(handle: FileHandle, chunkSize: Int = 1 << 16) {
        self.handle = handle
        self.chunkSize = chunkSize
    }

    public func makeIterator() -> Iterator { Iterator(handle: handle, chunkSize: chunkSize) }

    /// Yields `(lineNumber, bytes)` for every non-blank line.
    public struct Iterator: IteratorProtocol {
        let handle: FileHandle
        let chunkSize: Int
        var buffer = Data()
        var start = 0
        var lineNumber = 0
        var finished = false

        init(handle: FileHandle, chunkSize: Int) {
            self.handle = handle
            self.chunkSize = chunkSize
        }

        public mutating func next() -> (lineNumber: Int, bytes: Data)? {
            while true {
                if let newline = buffer[(buffer.startIndex + start)...].firstIndex(of: UInt8(ascii: "\n")) {
                    let lineStart = buffer.startIndex + start
                    var line = buffer[lineStart..<newline]
                    start = newline - buffer.startIndex + 1
                    lineNumber += 1
                    if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
                    if isBlank(line) { continue }
                    return (lineNumber, Data(line))
                }
                if finished {
                    guard start < buffer.count else { return nil }
                    var line = buffer[(buffer.startIndex + start)...]
                    start = buffer.count
                    lineNumber += 1
                    if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
                    if isBlank(line) { return nil }
                    return (lineNumber, Data(line))
                }
                let chunk = handle.readData(ofLength: chunkSize)
                if chunk.isEmpty {
                    finished = true
                } else {
                    buffer = Data(buffer[(buffer.startIndex + start)...]) + chunk
                    start = 0
                }
            }
        }

        private func isBlank(_ line: Data) -> Bool {
            line.allSatisfy { $0 == 32 || $0 == 9 || $0 == 13 }
        }
    }
}
