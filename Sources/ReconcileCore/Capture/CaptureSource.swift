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
    /// A regular file must be readable and its first block text (see ``CaptureInputError/nonText(_:)``);
    /// a FIFO or character device is opened as a stream (like standard input) and sniffed by the reader
    /// when its first block arrives; a directory, socket or missing path is refused.
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
            if let what = CaptureInputError.nonText(block[0..<count]) {
                close(fd)
                throw .notText(source: path, what: what)
            }
        }
        return FileHandle(fileDescriptor: fd, closeOnDealloc: true)
    }
}
