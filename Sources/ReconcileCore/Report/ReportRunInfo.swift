import Foundation

extension RunReport {
    /// The `run` member of the report.json at `path`, read without decoding the rest; nil when
    /// the file cannot be read, is not a JSON object, has no `run`, or its `run` is not one.
    ///
    /// Retention reads the run of every report folder the store no longer knows, every night: a
    /// large run's report.json is tens of megabytes, and decoding each whole took a second and
    /// hundreds of megabytes apiece (docs/performance.md). The file is read 1 MiB at a time, and
    /// only the `run` object is kept and decoded.
    static func runInfo(atPath path: String) -> RunInfo? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        var scanner = TopLevelMemberScanner(key: Array("run".utf8))
        while let chunk = try? handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            switch scanner.feed(chunk) {
            case .needMore: continue
            case .notFound: return nil
            case .found(let bytes): return try? JSONDecoder().decode(RunInfo.self, from: Data(bytes))
            }
        }
        return nil
    }
}

/// Finds the value of one member of a JSON document's top-level object, fed in pieces.
///
/// It follows strings (with their escapes) and nesting only: the value it hands back is decoded
/// strictly by its caller, and a document that is not an object, or ends first, yields nothing.
/// A key is matched as written (an escaped spelling of it is another key).
struct TopLevelMemberScanner {
    enum Outcome: Equatable {
        case needMore
        case notFound
        case found([UInt8])
    }

    private let key: [UInt8]
    private var depth = 0
    private var inString = false
    private var escaped = false
    private var expectingKey = false
    /// The key being read, or the last key read, at depth 1.
    private var currentKey: [UInt8] = []
    private var readingKey = false
    /// The wanted member's value, from just after its `:`.
    private var value: [UInt8]?
    private var started = false

    init(key: [UInt8]) { self.key = key }

    mutating func feed(_ chunk: Data) -> Outcome {
        for byte in chunk {
            if let outcome = step(byte) { return outcome }
        }
        return .needMore
    }

    private mutating func step(_ byte: UInt8) -> Outcome? {
        if !started {
            if byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { return nil }
            guard byte == UInt8(ascii: "{") else { return .notFound }
            started = true
            depth = 1
            expectingKey = true
            return nil
        }
        if inString {
            if readingKey { currentKey.append(byte) }
            value?.append(byte)
            if escaped {
                escaped = false
            } else if byte == UInt8(ascii: "\\") {
                escaped = true
            } else if byte == UInt8(ascii: "\"") {
                inString = false
                if readingKey {
                    readingKey = false
                    currentKey.removeLast()
                }
            }
            return nil
        }
        switch byte {
        case UInt8(ascii: "\""):
            inString = true
            if depth == 1, expectingKey {
                expectingKey = false
                readingKey = true
                currentKey = []
            }
            value?.append(byte)
        case UInt8(ascii: ":") where depth == 1 && value == nil:
            if currentKey == key { value = [] }
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            depth += 1
            value?.append(byte)
        case UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"):
            if depth == 1 {
                if let value { return .found(value) }
                if byte == UInt8(ascii: ",") {
                    expectingKey = true
                    return nil
                }
                return .notFound
            }
            if byte != UInt8(ascii: ",") { depth -= 1 }
            value?.append(byte)
        default:
            value?.append(byte)
        }
        return nil
    }
}
