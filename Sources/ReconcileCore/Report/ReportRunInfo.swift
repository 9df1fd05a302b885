import Foundation

extension RunReport {
    /// The `run` member of the report.json at `path`, read without decoding the rest; nil when
    /// the file cannot be read, is not one whole JSON object, its `schema` is not this build's, or
    /// its `run` is not one.
    ///
    /// Retention reads the run of every report folder the store no longer knows, every night: a
    /// large run's report.json is tens of megabytes, and decoding each whole took a second and
    /// hundreds of megabytes apiece (docs/performance.md). The file is read 1 MiB at a time, and
    /// only the `run` and `schema` members are kept and decoded.
    static func runInfo(atPath path: String) -> RunInfo? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        var scanner = TopLevelMemberScanner(keys: ["run", "schema"])
        do {
            while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
                if scanner.feed(chunk) == .invalid { return nil }
            }
        } catch {
            return nil
        }
        guard case .complete(let members) = scanner.outcome, let run = members["run"],
            let schema = members["schema"],
            (try? JSONDecoder().decode(String.self, from: Data(schema))) == currentSchema
        else { return nil }
        return try? JSONDecoder().decode(RunInfo.self, from: Data(run))
    }
}

/// Finds the values of some members of a JSON document's top-level object, fed in pieces.
///
/// It follows strings (with their escapes) and nesting only: the values it hands back are decoded
/// strictly by its caller. A document that is not an object, names a wanted key twice, or has
/// anything but white space after its object is invalid; one that ends first needs more. A key is
/// matched as written (an escaped spelling of it is another key).
struct TopLevelMemberScanner {
    enum Outcome: Equatable {
        case needMore
        case invalid
        /// The whole object was read (only from ``outcome``, once the document has ended): the wanted
        /// members it has, each value's bytes.
        case complete([String: [UInt8]])
    }

    private let keys: Set<[UInt8]>
    private var depth = 0
    private var started = false
    private var finished = false
    private var inString = false
    private var escaped = false
    private var expectingKey = false
    private var readingKey = false
    /// The key being read, or the last key read, at depth 1.
    private var currentKey: [UInt8] = []
    /// The wanted member being read, from just after its `:`.
    private var value: (key: [UInt8], bytes: [UInt8])?
    private var found: [String: [UInt8]] = [:]

    init(keys: Set<String>) { self.keys = Set(keys.map { Array($0.utf8) }) }

    /// Reads the next piece: `.invalid` as soon as the document cannot be one, else `.needMore`.
    ///
    /// Inside a string, or a nested value, that is not a wanted member's, only a few bytes change
    /// anything: the rest are skipped in a tight loop, not stepped through one by one. Retention reads
    /// whole report files of several megabytes this way (145 MB/s stepping byte by byte).
    mutating func feed(_ chunk: Data) -> Outcome {
        // Read once: a `static let` is checked for its first use at every access.
        let endsOrEscapes = Self.endsOrEscapes
        let nests = Self.nests
        return chunk.withUnsafeBytes { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            var index = 0
            while index < bytes.count {
                if started, !finished, value == nil, !readingKey, !escaped {
                    if inString {
                        while index < bytes.count, !endsOrEscapes[Int(bytes[index])] { index += 1 }
                    } else if depth >= 2 {
                        while index < bytes.count, !nests[Int(bytes[index])] { index += 1 }
                    }
                    if index == bytes.count { break }
                }
                if let outcome = step(bytes[index]) { return outcome }
                index += 1
            }
            return .needMore
        }
    }

    /// The bytes that matter inside a string: its end and an escape.
    private static let endsOrEscapes = table("\"\\")
    /// The bytes that matter in a nested value outside strings: a string's start and the brackets.
    private static let nests = table("\"{}[]")

    private static func table(_ bytes: String) -> [Bool] {
        var table = [Bool](repeating: false, count: 256)
        for byte in bytes.utf8 { table[Int(byte)] = true }
        return table
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }

    private mutating func step(_ byte: UInt8) -> Outcome? {
        if finished { return Self.isSpace(byte) ? nil : .invalid }
        if !started {
            if Self.isSpace(byte) { return nil }
            guard byte == UInt8(ascii: "{") else { return .invalid }
            started = true
            depth = 1
            expectingKey = true
            return nil
        }
        if inString {
            if readingKey { currentKey.append(byte) }
            value?.bytes.append(byte)
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
            value?.bytes.append(byte)
        case UInt8(ascii: ":") where depth == 1:
            if keys.contains(currentKey) {
                guard found[String(decoding: currentKey, as: UTF8.self)] == nil else { return .invalid }
                value = (currentKey, [])
            }
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            depth += 1
            value?.bytes.append(byte)
        case UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"):
            guard depth == 1 else {
                if byte != UInt8(ascii: ",") { depth -= 1 }
                value?.bytes.append(byte)
                return nil
            }
            if let value { found[String(decoding: value.key, as: UTF8.self)] = value.bytes }
            value = nil
            switch byte {
            case UInt8(ascii: ","): expectingKey = true
            case UInt8(ascii: "}"):
                depth = 0
                finished = true
            default: return .invalid
            }
        default:
            value?.bytes.append(byte)
        }
        return nil
    }

    /// What the bytes fed so far came to: complete once the object closed and only white space followed.
    var outcome: Outcome { finished ? .complete(found) : .needMore }
}
