import Crypto
import Foundation

/// One line of a capture stream.
public struct CaptureLine: Sendable, Equatable {
    /// The 1-based line number, counting blank lines, as an editor shows it.
    public var lineNumber: Int
    /// The line's bytes without its `\n` (and trailing `\r`); when `oversized`, only its first KiB.
    public var bytes: Data
    /// Whether the line was longer than ``CaptureReader/maxLineLength`` and skipped unread.
    public var oversized: Bool
    /// For an oversized line, the SHA-256 (hex) of all its bytes, computed as it was skipped.
    public var oversizedFingerprint: String?

    init(lineNumber: Int, bytes: Data, oversized: Bool = false, oversizedFingerprint: String? = nil) {
        self.lineNumber = lineNumber
        self.bytes = bytes
        self.oversized = oversized
        self.oversizedFingerprint = oversizedFingerprint
    }
}

/// Streams the lines of a capture file (or standard input) without holding the file in memory.
///
/// Lines are split on `\n`; a trailing `\r` is dropped; blank lines are skipped but counted, so
/// line numbers match what an editor shows. Reading is linear in the input (each byte is copied a
/// bounded number of times), and memory is bounded: a line longer than `maxLineLength` (16 MiB
/// by default) is yielded as `oversized` with no bytes while the reader skips to the next newline.
/// The first block read is sniffed: gzip data is inflated as it is read (``GzipReader``); other
/// compressed data, NUL bytes, mostly non-text bytes, or text none of whose first lines starts a
/// JSON object stop the stream with ``CaptureInputError/notText(source:what:)`` before any line is
/// yielded. ``Interruption`` is looked at after every block, so a signal stops even an endless line.
public struct CaptureReader: Sequence {
    /// The longest line read, in bytes (16 MiB).
    public static let maxLineLength = 16 << 20

    let handle: FileHandle
    let chunkSize: Int
    let maxLineLength: Int
    let source: String

    /// Whether text none of whose first lines starts a JSON object is refused (see
    /// ``CaptureInputError/notNDJSON(_:)``); binary and compressed data other than gzip always are.
    let requiresJSONLines: Bool

    public init(
        handle: FileHandle,
        source: String = "-",
        chunkSize: Int = 1 << 16,
        maxLineLength: Int = maxLineLength,
        requiresJSONLines: Bool = true
    ) {
        self.handle = handle
        self.source = source
        self.chunkSize = Swift.max(1, chunkSize)
        self.maxLineLength = Swift.max(1, maxLineLength)
        self.requiresJSONLines = requiresJSONLines
    }

    public func makeIterator() -> Iterator {
        Iterator(
            handle: handle,
            source: source,
            chunkSize: chunkSize,
            maxLineLength: maxLineLength,
            requiresJSONLines: requiresJSONLines
        )
    }

    /// Yields every non-blank line; ``nextLine()`` says why it stopped, `next()` keeps it in `failure`.
    public struct Iterator: IteratorProtocol {
        /// Kept so that its descriptor stays open while the iterator reads it.
        let handle: FileHandle
        let fd: Int32
        let source: String
        let maxLineLength: Int
        var chunk: [UInt8]
        var buffer: [UInt8] = []
        /// Where the unread part of `buffer` starts.
        var start = 0
        /// How far past `start` the buffer is known to hold no newline.
        var scanned = 0
        /// The number of the last line yielded (or skipped).
        public private(set) var lineNumber = 0
        var finished = false
        var sniffed = false
        /// Set when the first block is gzip: every later block is inflated from the stream.
        var gzip: GzipReader?
        /// Whether reading stopped because ``Interruption`` asked it to.
        public private(set) var interrupted = false
        /// Why `next()` returned nil early, if it did.
        public private(set) var failure: CaptureInputError?

        let requiresJSONLines: Bool

        init(handle: FileHandle, source: String, chunkSize: Int, maxLineLength: Int, requiresJSONLines: Bool) {
            self.handle = handle
            self.requiresJSONLines = requiresJSONLines
            self.fd = handle.fileDescriptor
            self.source = source
            self.maxLineLength = maxLineLength
            self.chunk = [UInt8](repeating: 0, count: chunkSize)
        }

        public mutating func next() -> CaptureLine? {
            do throws(CaptureInputError) {
                return try nextLine()
            } catch {
                failure = error
                return nil
            }
        }

        /// The next non-blank line; nil at the end or when interrupted (then `interrupted` is true).
        public mutating func nextLine() throws(CaptureInputError) -> CaptureLine? {
            while true {
                if let newline = firstNewline() {
                    lineNumber += 1
                    let line = trimmed(start, newline)
                    start = newline + 1
                    scanned = 0
                    if let line { return CaptureLine(lineNumber: lineNumber, bytes: line, oversized: false) }
                    continue
                }
                if finished {
                    guard start < buffer.count else { return nil }
                    lineNumber += 1
                    let line = trimmed(start, buffer.count)
                    start = buffer.count
                    return line.map { CaptureLine(lineNumber: lineNumber, bytes: $0, oversized: false) }
                }
                if buffer.count - start > maxLineLength {
                    lineNumber += 1
                    let prefix = Data(buffer[start..<(start + Swift.min(1024, buffer.count - start))])
                    let fingerprint = try skipRestOfLine()
                    if interrupted { return nil }
                    return CaptureLine(
                        lineNumber: lineNumber,
                        bytes: prefix,
                        oversized: true,
                        oversizedFingerprint: fingerprint
                    )
                }
                if Interruption.shared.isRequested {
                    interrupted = true
                    return nil
                }
                try fill()
            }
        }

        /// The index of the next `\n` in the unread part, remembering how far it looked.
        mutating func firstNewline() -> Int? {
            let from = start + scanned
            guard from < buffer.count else { return nil }
            let found = buffer.withUnsafeBufferPointer { bytes -> Int? in
                guard let base = bytes.baseAddress,
                    let hit = memchr(base + from, 0x0A, bytes.count - from)
                else { return nil }
                return base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
            }
            if found == nil { scanned = buffer.count - start }
            return found
        }

        /// The line `buffer[from..<to]` without a trailing `\r`, or nil when it is blank.
        func trimmed(_ from: Int, _ to: Int) -> Data? {
            var end = to
            if end > from && buffer[end - 1] == 0x0D { end -= 1 }
            var blank = true
            for index in from..<end where buffer[index] != 0x20 && buffer[index] != 0x09 && buffer[index] != 0x0D {
                blank = false
                break
            }
            return blank ? nil : Data(buffer[from..<end])
        }

        /// Reads one block, dropping what was consumed first (so the buffer never holds more than a line and a block).
        mutating func fill() throws(CaptureInputError) {
            let count = try readChunk()
            if !sniffed, count > 0 {
                sniffed = true
                try sniff(count)
                return
            }
            if count == 0 {
                finished = true
                return
            }
            if start > 0 {
                buffer.removeFirst(start)
                start = 0
            }
            buffer.append(contentsOf: chunk[0..<count])
        }

        /// Judges the first `count` bytes read (inflated, for gzip) before any line is yielded, then buffers them.
        ///
        /// A stream may hand over its start in pieces (a pipe's first `read(2)` can return part of a
        /// line): while the text so far has no line that starts a JSON object, reading goes on up to
        /// 64 KiB, ``CaptureInputError/sniffedLines`` lines or the end before it is refused.
        mutating func sniff(_ first: Int) throws(CaptureInputError) {
            var count = first
            var prefix = ""
            if CaptureInputError.isGzip(chunk[0..<count]) {
                let reader = try GzipReader(fd: fd, source: source, firstBytes: chunk[0..<count])
                gzip = reader
                count = try reader.read(into: &chunk)
                prefix = "gzip-compressed "
            }
            var block = Array(chunk[0..<count])
            var ended = count == 0
            let judgesLines = requiresJSONLines
            func refusal(_ block: [UInt8]) -> String? {
                CaptureInputError.nonText(block[...]) ?? (judgesLines ? CaptureInputError.notNDJSON(block[...]) : nil)
            }
            // Binary is plain from the first bytes; only "no line starts an object" may need more lines.
            while !ended, judgesLines, block.count < 1 << 16, CaptureInputError.nonText(block[...]) == nil,
                CaptureInputError.notNDJSON(block[...]) != nil,
                block.lazy.filter({ $0 == 0x0A }).count < CaptureInputError.sniffedLines
            {
                let more = try readChunk()
                if more == 0 { ended = true }
                block.append(contentsOf: chunk[0..<more])
            }
            if let what = refusal(block) { throw .notText(source: source, what: prefix + what) }
            finished = ended
            buffer.append(contentsOf: block)
        }

        /// Skips to just after the next newline (or the end), holding no more than a block; returns
        /// the SHA-256 of the whole line (a trailing `\r` included, unlike short lines: it is not seen in time).
        mutating func skipRestOfLine() throws(CaptureInputError) -> String {
            var hasher = SHA256()
            buffer[start...].withUnsafeBytes { hasher.update(bufferPointer: $0) }
            buffer.removeAll(keepingCapacity: false)
            start = 0
            scanned = 0
            while true {
                if Interruption.shared.isRequested {
                    interrupted = true
                    break
                }
                let count = try readChunk()
                if count == 0 {
                    finished = true
                    break
                }
                let found = chunk.withUnsafeBufferPointer { bytes -> Int? in
                    guard let base = bytes.baseAddress, let hit = memchr(base, 0x0A, count) else { return nil }
                    return base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
                }
                if let newline = found {
                    chunk[0..<newline].withUnsafeBytes { hasher.update(bufferPointer: $0) }
                    buffer.append(contentsOf: chunk[(newline + 1)..<count])
                    break
                }
                chunk[0..<count].withUnsafeBytes { hasher.update(bufferPointer: $0) }
            }
            return Hex.lowercase(hasher.finalize())
        }

        /// `read(2)` into `chunk` (inflated, for gzip), retrying on EINTR; 0 at the end.
        mutating func readChunk() throws(CaptureInputError) -> Int {
            if let gzip { return try gzip.read(into: &chunk) }
            while true {
                let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if count >= 0 { return count }
                if errno == EINTR { continue }
                throw .unreadable(source: source, reason: String(cString: strerror(errno)))
            }
        }
    }
}
