import Foundation

/// Why a capture input was refused as a whole (exit 2, naming it): nothing of it is recorded.
public enum CaptureInputError: ReconcileFailure, Equatable {
    /// The path does not exist.
    case missing(source: String)
    /// The path is a directory (or another kind of file that has no lines).
    case notAFile(source: String, kind: String)
    /// The input could not be opened or read.
    case unreadable(source: String, reason: String)
    /// The first block is compressed or binary data, not NDJSON text.
    case notText(source: String, what: String)

    public var exitStatus: Int32 { 2 }
    public var description: String {
        switch self {
        case .missing(let source): "capture file \(source) does not exist"
        case .notAFile(let source, let kind): "capture file \(source) is a \(kind), not a file of NDJSON lines"
        case .unreadable(let source, let reason): "cannot read capture file \(source): \(reason)"
        case .notText(let source, let what):
            "capture file \(source) is \(what), not NDJSON text; nothing of it was recorded"
        }
    }

    /// Whether a block starts as gzip data does (`1f 8b`): such an input is inflated, then read.
    static func isGzip(_ block: ArraySlice<UInt8>) -> Bool {
        block.count >= 2 && block[block.startIndex] == 0x1F && block[block.startIndex + 1] == 0x8B
    }

    /// Why the first (inflated) block of an input cannot be a capture, or nil when it may be one.
    ///
    static func refusal(_ block: ArraySlice<UInt8>) -> String? {
        nonText(block) ?? notNDJSON(block)
    }

    /// The most lines of the first block looked at for a JSON object.
    static let sniffedLines = 100

    /// Why a block of text is not NDJSON at all, or nil when one of its first lines starts as a JSON object.
    ///
    /// Text whose first ``sniffedLines`` non-blank lines (in the first block) all start with
    /// something other than `{` (after blanks and a byte order mark) is a log, a CSV or a report
    /// given by mistake: refused as a whole rather than recorded as thousands of malformed lines.
    /// One line that starts as an object is enough to read the file, so a capture whose first line
    /// was cut by a rotation still goes in, that line recorded as malformed.
    static func notNDJSON(_ block: ArraySlice<UInt8>) -> String? {
        var looked = 0
        var lineStart = block.startIndex
        while lineStart < block.endIndex, looked < sniffedLines {
            let lineEnd = block[lineStart...].firstIndex(of: 0x0A)
            var index = lineStart
            let end = lineEnd ?? block.endIndex
            if block[index..<end].starts(with: [0xEF, 0xBB, 0xBF]) { index += 3 }
            while index < end, [0x20, 0x09, 0x0D].contains(block[index]) { index += 1 }
            if index < end {
                if block[index] == UInt8(ascii: "{") { return nil }
                looked += 1
            }
            guard let lineEnd else { break }
            lineStart = lineEnd + 1
        }
        guard looked > 0 else { return nil }
        return "text of another kind (none of its first \(looked) lines starts a JSON object)"
    }

    /// What the first block of an input is when it is not text (gzip, binary…), or nil for text.
    ///
    /// Compressed data is recognised by its magic number (gzip `1f 8b`, zstd, xz, bzip2, zip);
    /// binary by any NUL byte, or by more than a tenth of the bytes being control characters
    /// (other than tab, newline, carriage return, form feed) or not UTF-8. A multi-byte sequence cut
    /// at the end of the block is not counted.
    static func nonText(_ block: ArraySlice<UInt8>) -> String? {
        let bytes = Array(block.prefix(1 << 16))
        let magics: [(String, [UInt8])] = [
            ("gzip-compressed", [0x1F, 0x8B]), ("zstd-compressed", [0x28, 0xB5, 0x2F, 0xFD]),
            ("xz-compressed", [0xFD, 0x37, 0x7A, 0x58, 0x5A]), ("bzip2-compressed", [0x42, 0x5A, 0x68]),
            ("a zip archive", [0x50, 0x4B, 0x03, 0x04]),
        ]
        for (name, magic) in magics where bytes.starts(with: magic) { return name }
        if bytes.contains(0) { return "binary (it holds NUL bytes)" }
        var suspicious = 0
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte < 0x80 {
                if byte < 0x20 && byte != 0x09 && byte != 0x0A && byte != 0x0D && byte != 0x0C || byte == 0x7F {
                    suspicious += 1
                }
                index += 1
                continue
            }
            let length = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC2 ? 2 : 0
            if length == 0 || byte > 0xF4 {
                suspicious += 1
                index += 1
                continue
            }
            if index + length > bytes.count { break }
            if bytes[(index + 1)..<(index + length)].allSatisfy({ $0 & 0xC0 == 0x80 }) {
                index += length
            } else {
                suspicious += 1
                index += 1
            }
        }
        return suspicious * 10 > bytes.count ? "binary (not UTF-8 text)" : nil
    }
}

/// Opens capture inputs, refusing what cannot be a capture before anything is recorded.
public enum CaptureSource {
    /// Opens `path` for reading after checking what it is.
    ///
    /// A regular file must be readable and its first block text that may be NDJSON (see
    /// ``CaptureInputError/refusal(_:)``). A gzipped file is inflated to its end first, so a
    /// corrupt or truncated archive is refused before any of its lines is recorded, and its first
    /// inflated block is judged the same way. A FIFO or character device is opened as a stream (like
    /// standard input) and judged by the reader when its first block arrives; a directory, socket or
    /// missing path is refused.
    public static func open(_ path: String) throws(CaptureInputError) -> FileHandle {
        var info = stat()
        guard stat(path, &info) == 0 else {
            if errno == ENOENT || errno == ENOTDIR { throw .missing(source: path) }
            throw .unreadable(source: path, reason: String(cString: strerror(errno)))
        }
        let kind = info.st_mode & S_IFMT
        switch kind {
        case S_IFDIR: throw .notAFile(source: path, kind: "directory")
        case S_IFSOCK: throw .notAFile(source: path, kind: "socket")
        case S_IFREG, S_IFIFO, S_IFCHR, S_IFBLK: break
        default: throw .notAFile(source: path, kind: "special file")
        }
        let fd = Foundation.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .unreadable(source: path, reason: String(cString: strerror(errno))) }
        if kind == S_IFREG {
            var block = [UInt8](repeating: 0, count: 1 << 16)
            let count = block.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
            guard count >= 0 else {
                let reason = String(cString: strerror(errno))
                close(fd)
                throw .unreadable(source: path, reason: reason)
            }
            do throws(CaptureInputError) {
                if CaptureInputError.isGzip(block[0..<count]) {
                    try checkGzip(fd: fd, source: path)
                } else if let what = CaptureInputError.refusal(block[0..<count]) {
                    throw .notText(source: path, what: what)
                }
            } catch {
                close(fd)
                throw error
            }
        }
        return FileHandle(fileDescriptor: fd, closeOnDealloc: true)
    }

    /// Inflates the gzip file open on `fd` to its end, judging its first inflated block, then rewinds.
    static func checkGzip(fd: Int32, source: String) throws(CaptureInputError) {
        let reader = try GzipReader(fd: fd, source: source)
        var block = [UInt8](repeating: 0, count: 1 << 16)
        var filled = 0
        // The first block as the reader will see it: up to 64 KiB of inflated bytes.
        while filled < block.count {
            var part = [UInt8](repeating: 0, count: block.count - filled)
            let count = try reader.read(into: &part)
            if count == 0 { break }
            block.replaceSubrange(filled..<(filled + count), with: part[0..<count])
            filled += count
        }
        if let what = CaptureInputError.refusal(block[0..<filled]) {
            throw .notText(source: source, what: "gzip-compressed " + what)
        }
        while try reader.read(into: &block) > 0 {}
        guard lseek(fd, 0, SEEK_SET) == 0 else {
            throw .unreadable(source: source, reason: String(cString: strerror(errno)))
        }
    }
}
