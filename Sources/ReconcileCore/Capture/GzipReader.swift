import CZlib
import Foundation

/// Inflates gzip data read from a file descriptor, member after member, so a gzipped capture reads as its lines.
///
/// Archived captures are gzipped, and `cat a.gz b.gz` (or a log rotated and appended to) is one
/// stream of several members: each member is inflated in turn and its CRC checked by zlib. Data
/// that is not gzip, corrupt, or ends inside a member is an error that names the compressed byte.
final class GzipReader {
    let source: String
    private let fd: Int32
    private let stream: UnsafeMutablePointer<z_stream>
    private let input: UnsafeMutablePointer<UInt8>
    private let inputCapacity: Int
    /// Whether `read(2)` has said the file ended.
    private var rawEnded = false
    /// Whether the last member ended cleanly and no byte of a next one has been inflated since.
    private var atMemberEnd = false
    /// Compressed bytes taken from the descriptor (or given first), for errors.
    private var compressedRead = 0
    /// Whether zlib started: only then does `deinit` end it (the buffers are freed either way).
    private var started = false

    /// Starts inflating; `firstBytes` were already read from `fd` and come before what it still holds.
    init(fd: Int32, source: String, firstBytes: ArraySlice<UInt8> = [], inputCapacity: Int = 1 << 16)
        throws(CaptureInputError)
    {
        self.fd = fd
        self.source = source
        self.inputCapacity = Swift.max(inputCapacity, firstBytes.count, 1)
        input = .allocate(capacity: self.inputCapacity)
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        firstBytes.withUnsafeBufferPointer { bytes in
            if let base = bytes.baseAddress { input.update(from: base, count: bytes.count) }
        }
        compressedRead = firstBytes.count
        stream.pointee.next_in = input
        stream.pointee.avail_in = UInt32(firstBytes.count)
        guard reconcile_inflate_init_gzip(stream) == Z_OK else {
            throw .unreadable(source: source, reason: "zlib could not start inflating")
        }
        started = true
    }

    deinit {
        if started { inflateEnd(stream) }
        stream.deinitialize(count: 1)
        stream.deallocate()
        input.deallocate()
    }

    /// Inflates into `output` (up to its count); the number of bytes written, 0 only at the clean end.
    func read(into output: inout [UInt8]) throws(CaptureInputError) -> Int {
        guard !output.isEmpty else { return 0 }
        while true {
            if stream.pointee.avail_in == 0, !rawEnded {
                let count = try readRaw()
                if count == 0 { rawEnded = true }
            }
            if stream.pointee.avail_in == 0, rawEnded {
                if atMemberEnd { return 0 }
                throw .unreadable(
                    source: source,
                    reason:
                        "its gzip data ends inside a member after \(compressedRead) bytes (truncated, or still being written)"
                )
            }
            if atMemberEnd {
                // Another member follows: a new header, its own CRC.
                guard inflateReset(stream) == Z_OK else { throw corrupt("zlib could not start the next member") }
                atMemberEnd = false
            }
            let before = stream.pointee.avail_in
            let (status, produced) = output.withUnsafeMutableBufferPointer { buffer -> (Int32, Int) in
                stream.pointee.next_out = buffer.baseAddress
                stream.pointee.avail_out = UInt32(buffer.count)
                let status = inflate(stream, Z_NO_FLUSH)
                return (status, buffer.count - Int(stream.pointee.avail_out))
            }
            switch status {
            case Z_STREAM_END:
                atMemberEnd = true
            case Z_OK:
                break
            case Z_BUF_ERROR where produced > 0 || stream.pointee.avail_in < before:
                break
            default:
                let message = stream.pointee.msg.map { String(cString: $0) } ?? "zlib status \(status)"
                throw corrupt(message)
            }
            if produced > 0 { return produced }
        }
    }

    /// Reads the next compressed block from the descriptor into `input`, retrying on EINTR.
    private func readRaw() throws(CaptureInputError) -> Int {
        while true {
            let count = Foundation.read(fd, input, inputCapacity)
            if count >= 0 {
                stream.pointee.next_in = input
                stream.pointee.avail_in = UInt32(count)
                compressedRead += count
                return count
            }
            if errno == EINTR { continue }
            throw .unreadable(source: source, reason: String(cString: strerror(errno)))
        }
    }

    private func corrupt(_ detail: String) -> CaptureInputError {
        let at = compressedRead - Int(stream.pointee.avail_in)
        return .unreadable(source: source, reason: "its gzip data is corrupt at compressed byte \(at) (\(detail))")
    }
}
