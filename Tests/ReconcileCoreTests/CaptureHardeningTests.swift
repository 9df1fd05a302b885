import Foundation
import Testing

@testable import ReconcileCore

@Suite struct CaptureHardeningTests {
    static let head = #"{"provider":"credicorp","received_at":"2026-07-04T09:15:25Z","#

    func malformed(_ line: String) -> MalformedCapture? { malformed(bytes: Data(line.utf8)) }

    func malformed(bytes: Data) -> MalformedCapture? {
        do {
            _ = try CapturedDelivery.parse(line: bytes)
            return nil
        } catch {
            return error
        }
    }

    @Test(arguments: [
        (#"{"provider":7,"received_at":"2026-07-04T09:15:25Z","body":""}"#, "provider must be a string"),
        (head + #""headers":[],"body":""}"#, "headers must be an object mapping names to strings"),
        (head + #""headers":{"a":1},"body":""}"#, "header 'a' must be a string"),
        (head + #""body":{}}"#, "body must be a string"),
        (head + #""body_base64":"%%%"}"#, "body_base64 is not base64"),
        (head + #""method":["POST"],"body":""}"#, "method must be a string"),
        (head + #""headers":{"a":"x\u0000y"},"body":""}"#, "header 'a' contains a NUL character"),
        (head + #""body":"a\u0000"}"#, "body contains a NUL character"),
        ("[1]", "the line is not a JSON object"),
    ])
    func wrongTypesAreMalformedWithAClearDetail(line: String, detail: String) throws {
        let error = try #require(malformed(line))
        #expect(error.detail == detail)
    }

    @Test func duplicateKeysInvalidUTF8AndDeepNestingAreMalformed() throws {
        let duplicate = try #require(malformed(Self.head + #""body":"a","body":"b"}"#))
        #expect(duplicate.detail == "not JSON: duplicate object key at byte 72")
        #expect(duplicate.provider == "credicorp", "the provider still comes from the line's start")
        let header = try #require(malformed(Self.head + #""headers":{"a":"1","a":"2"},"body":""}"#))
        #expect(header.detail.hasPrefix("not JSON: duplicate object key"))
        var bytes = Data((Self.head + #""body":""#).utf8)
        bytes.append(contentsOf: [0xC3, 0x28])
        bytes.append(contentsOf: Data(#""}"#.utf8))
        #expect(try #require(malformed(bytes: bytes)).detail.hasPrefix("not JSON: invalid UTF-8 at byte"))
        let raw = try #require(malformed(bytes: Data((Self.head + "\"body\":\"a\u{0}\"}").utf8)))
        #expect(raw.detail.hasPrefix("not JSON: control character 0x0"))
        let deep = Self.head + #""x":"# + String(repeating: "[", count: 500) + String(repeating: "]", count: 500) + "}"
        #expect(try #require(malformed(deep)).detail == "not JSON: nesting deeper than 128 at byte 192")
    }

    @Test func headerNamesDifferingOnlyInCaseAreAmbiguousWhateverTheirOrder() throws {
        let forward = Self.head + #""headers":{"webhook-signature":"v1,a","Webhook-Signature":"v1,b"},"body":""}"#
        let backward = Self.head + #""headers":{"Webhook-Signature":"v1,b","webhook-signature":"v1,a"},"body":""}"#
        for line in [forward, backward] {
            let error = try #require(malformed(line))
            #expect(error.detail == "ambiguous header 'webhook-signature': given more than once with different case")
            #expect(error.provider == "credicorp")
        }
        let fine = try CapturedDelivery.parse(
            line: Data((Self.head + #""headers":{"Webhook-Id":"e"},"body":""}"#).utf8)
        )
        #expect(fine.header("webhook-id") == "e")
    }

    func pipe(_ data: Data) -> FileHandle {
        let pipe = Pipe()
        let writer = pipe.fileHandleForWriting
        Thread.detachNewThread {
            writer.write(data)
            try? writer.close()
        }
        return pipe.fileHandleForReading
    }

    @Test func aLongLineIsReadInLinearTime() throws {
        let long = Data(repeating: UInt8(ascii: "a"), count: 12 << 20)
        var input = long
        input.append(contentsOf: Data("\nb\n".utf8))
        let started = Date()
        let lines = Array(CaptureReader(handle: pipe(input), chunkSize: 4096, requiresJSONLines: false))
        #expect(Date().timeIntervalSince(started) < 10, "re-copying the buffer per 4 KiB block took minutes")
        #expect(lines.map(\.lineNumber) == [1, 2])
        #expect(lines.first?.bytes.count == 12 << 20)
        #expect(lines.last?.bytes == Data("b".utf8))
    }

    @Test func aLineOverTheLimitIsSkippedWithoutHoldingIt() throws {
        var input = Data("first\n".utf8)
        let long = Data(repeating: UInt8(ascii: "x"), count: 3 << 20)
        input.append(long)
        input.append(contentsOf: Data("\r\nlast".utf8))
        var iterator = CaptureReader(
            handle: pipe(input),
            chunkSize: 1 << 16,
            maxLineLength: 1 << 20,
            requiresJSONLines: false
        )
        .makeIterator()
        var lines: [CaptureLine] = []
        while let line = try iterator.nextLine() {
            lines.append(line)
            #expect(iterator.buffer.capacity < 2 << 20, "the buffer holds at most a line of the limit and a block")
        }
        #expect(lines.map(\.lineNumber) == [1, 2, 3])
        #expect(lines.map(\.oversized) == [false, true, false])
        #expect(lines[1].bytes.count == 1024, "only a prefix is kept, for the provider")
        var whole = long
        whole.append(0x0D)
        #expect(lines[1].oversizedFingerprint == CapturedDelivery.fingerprint(of: whole))
        #expect(lines[2].bytes == Data("last".utf8))
    }

    @Test(
        arguments: [
            ([0x7B, 0x00, 0x7D], "binary (it holds NUL bytes)"),
            ([0x28, 0xB5, 0x2F, 0xFD, 0x01], "zstd-compressed"),
            ([0xFF, 0xFE, 0x90, 0x91, 0x80, 0x7B], "binary (not UTF-8 text)"),
        ] as [([UInt8], String)]
    )
    func aBinaryOrCompressedStreamIsRefusedBeforeAnyLine(bytes: [UInt8], what: String) {
        var iterator = CaptureReader(handle: pipe(Data(bytes + Array("\n{}\n".utf8))), source: "-").makeIterator()
        #expect(throws: CaptureInputError.notText(source: "-", what: what)) { try iterator.nextLine() }
    }

    @Test func textWithAFewStrayBytesIsStillText() {
        var text = Array(String(repeating: #"{"provider":"credicorp"}"# + "\n", count: 40).utf8)
        text[5] = 0xFF
        #expect(CaptureInputError.nonText(text[...]) == nil)
        #expect(CaptureInputError.nonText(Array("é€😀\n".utf8)[...]) == nil)
    }
}

extension CaptureHardeningTests {
    @Test func namesQuotedInDetailsShowNoControlCharacters() throws {
        let line = Self.head + #""headers":{"x\u001b[2J":"1","X\u001B[2J":"2"},"body":""}"#
        let error = try #require(malformed(line))
        #expect(error.detail == "ambiguous header 'x?[2j': given more than once with different case")
        let time = try #require(malformed(#"{"provider":"p","received_at":"now\nrejected x","body":""}"#))
        #expect(time.detail == "received_at 'now?rejected x' is not an RFC 3339 time")
    }
}

extension CaptureHardeningTests {
    /// Random streams, block sizes and limits: the reader yields what splitting the whole input on `\n` gives.
    ///
    /// A line up to the limit comes whole; one longer than the limit plus a block is oversized; one in
    /// between may be either (the limit is checked when a block arrives), but never wrong.
    @Test func randomStreamsSplitAsTheWholeInputWould() throws {
        var random = SplitMix64(seed: 9)
        // Whole characters only ("é" as its two bytes): a stray byte is the sniffing test's business.
        let alphabet: [[UInt8]] = [[0x61], [0x61], [0x61], [0x20], [0x0D], [0x0A], [0x0A], [0x09], [0xC3, 0xA9]]
        for round in 0..<300 {
            let input = (0..<Int.random(in: 0..<300, using: &random)).flatMap { _ in
                alphabet.randomElement(using: &random) ?? [0x61]
            }
            let chunk = Int.random(in: 1...32, using: &random)
            let limit = Int.random(in: 1...64, using: &random)
            var expected: [(Int, [UInt8])] = []
            var segments = input.split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init)
            if segments.last?.isEmpty == true { segments.removeLast() }
            for (index, segment) in segments.enumerated() { expected.append((index + 1, segment)) }
            var iterator = CaptureReader(
                handle: pipe(Data(input)),
                chunkSize: chunk,
                maxLineLength: limit,
                requiresJSONLines: false
            )
            .makeIterator()
            var got: [CaptureLine] = []
            while let line = try iterator.nextLine() { got.append(line) }
            var next = got.makeIterator()
            var line = next.next()
            for (number, segment) in expected {
                let trimmed = segment.last == 0x0D ? Array(segment.dropLast()) : segment
                let blank = trimmed.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
                guard let current = line, current.lineNumber == number else {
                    #expect(blank && segment.count <= limit + chunk, "round \(round): line \(number) missing")
                    continue
                }
                if current.oversized {
                    #expect(segment.count > limit, "round \(round): line \(number) oversized at \(segment.count)")
                    #expect(current.oversizedFingerprint == CapturedDelivery.fingerprint(of: Data(segment)))
                    // The prefix is what was buffered when the limit was passed: over the limit, at most a KiB.
                    #expect(segment.starts(with: current.bytes))
                    #expect(current.bytes.count == min(1024, current.bytes.count) && current.bytes.count > limit)
                } else {
                    #expect(segment.count <= limit + chunk, "round \(round): line \(number) not oversized")
                    #expect(current.bytes == Data(trimmed), "round \(round): line \(number)")
                    #expect(!blank)
                }
                line = next.next()
            }
            #expect(line == nil, "round \(round): an extra line \(String(describing: line))")
        }
    }
}

/// Gzipped captures, inflated as they are read, and text that is not NDJSON at all.
extension CaptureHardeningTests {
    /// `data` gzipped by the system's `gzip` (a real archiver, not our own encoder).
    static func gzip(_ data: Data) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/gzip")
        process.arguments = ["-c", "-n"]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        let writer = input.fileHandleForWriting
        Thread.detachNewThread {
            writer.write(data)
            try? writer.close()
        }
        let compressed = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return compressed
    }

    static func lines(_ reader: CaptureReader) throws -> [CaptureLine] {
        var iterator = reader.makeIterator()
        var lines: [CaptureLine] = []
        while let line = try iterator.nextLine() { lines.append(line) }
        return lines
    }

    /// Random NDJSON-like text, gzipped in one or several members (as `cat a.gz b.gz` makes), reads
    /// as the same lines as the text itself, whatever the block size.
    @Test func aGzippedStreamReadsAsItsTextInOneOrManyMembers() throws {
        var random = SplitMix64(seed: 11)
        for round in 0..<12 {
            let count = Int.random(in: 1..<4000, using: &random)
            var rows: [String] = []
            for index in 0..<count {
                let pad = String(repeating: "é", count: Int.random(in: 0..<200, using: &random))
                rows.append(#"{"n":\#(index),"pad":"\#(pad)"}"#)
            }
            let text = rows.joined(separator: round.isMultiple(of: 2) ? "\n" : "\r\n\n")
            let plain = Data(text.utf8)
            let cut = Int.random(in: 0...plain.count, using: &random)
            let members: [Data] =
                round.isMultiple(of: 3) ? [plain] : [Data(plain.prefix(cut)), Data(plain.suffix(from: cut))]
            let compressed = try members.reduce(into: Data()) { $0.append(try Self.gzip($1)) }
            #expect(CaptureInputError.isGzip(Array(compressed)[...]))
            let chunk = [2, 7, 4096, 1 << 16][round % 4]
            let expected = try Self.lines(CaptureReader(handle: pipe(plain), chunkSize: chunk))
            let got = try Self.lines(CaptureReader(handle: pipe(compressed), chunkSize: chunk))
            #expect(got == expected, "round \(round): \(members.count) members, blocks of \(chunk)")
            #expect(got.count == count)
        }
    }

    /// A gzip stream cut short or with a byte changed is an error, never lines of garbage.
    @Test func aTruncatedOrCorruptGzipStreamIsAnError() throws {
        let plain = Data((0..<3000).map { #"{"n":\#($0)}"# }.joined(separator: "\n").utf8)
        let compressed = try Self.gzip(plain)
        let truncated = compressed.prefix(compressed.count - 20)
        #expect {
            _ = try Self.lines(CaptureReader(handle: pipe(Data(truncated)), source: "t.gz"))
        } throws: { error in
            guard case .unreadable(let source, let reason) = error as? CaptureInputError else { return false }
            return source == "t.gz" && reason.hasPrefix("its gzip data ends inside a member after")
        }
        var corrupt = compressed
        corrupt[corrupt.count - 6] ^= 0xFF  // a byte of the CRC-32 trailer
        #expect {
            _ = try Self.lines(CaptureReader(handle: pipe(corrupt), source: "c.gz"))
        } throws: { error in
            guard case .unreadable(_, let reason) = error as? CaptureInputError else { return false }
            return reason.hasPrefix("its gzip data is corrupt at compressed byte") && reason.contains("check")
        }
        // Gzip that holds binary, or gzip inside gzip, is refused as such.
        let binary = try Self.gzip(Data([0x7B, 0x00, 0x7D, 0x0A]))
        var iterator = CaptureReader(handle: pipe(binary), source: "-").makeIterator()
        #expect(throws: CaptureInputError.notText(source: "-", what: "gzip-compressed binary (it holds NUL bytes)")) {
            try iterator.nextLine()
        }
        var twice = CaptureReader(handle: pipe(try Self.gzip(compressed)), source: "-").makeIterator()
        #expect(throws: CaptureInputError.notText(source: "-", what: "gzip-compressed gzip-compressed")) {
            try twice.nextLine()
        }
    }

    /// Text none of whose first lines starts a JSON object is refused whole; one such line is enough to read it.
    @Test func textThatIsNotNDJSONAtAllIsRefusedWhole() throws {
        let csv = "provider,received_at,body\ncredicorp,2026-07-04T09:15:25Z,x\n\n  \ncrezco,2026-07-04,y\n"
        var iterator = CaptureReader(handle: pipe(Data(csv.utf8)), source: "a.csv").makeIterator()
        #expect(
            throws: CaptureInputError.notText(
                source: "a.csv",
                what: "text of another kind (none of its first 3 lines starts a JSON object)"
            )
        ) { try iterator.nextLine() }
        // A first line cut by a rotation, then captures: read, the cut line left to be recorded as malformed.
        let cut = "ived_at\":\"x\"}\n\u{FEFF} {\"provider\":\"credicorp\"}\n"
        let lines = try Self.lines(CaptureReader(handle: pipe(Data(cut.utf8)), source: "-"))
        #expect(lines.map(\.lineNumber) == [1, 2])
        // Past the first 100 lines nothing is judged: a file that starts well is read to its end.
        #expect(CaptureInputError.notNDJSON(Array((String(repeating: "x\n", count: 100) + "{}\n").utf8)[...]) != nil)
        #expect(CaptureInputError.notNDJSON(Array((String(repeating: "x\n", count: 99) + "{}\n").utf8)[...]) == nil)
        #expect(CaptureInputError.notNDJSON(Array("\n \r\n".utf8)[...]) == nil, "blank text holds no line to judge")
    }
}

extension CaptureHardeningTests {
    /// A pipe that hands over a capture's first line in small pieces is read, not refused for its
    /// first piece: the judgement waits for a whole line (or 64 KiB, or the end).
    @Test func aStreamWhoseFirstLineArrivesInPiecesIsRead() throws {
        let pipe = Pipe()
        let writer = pipe.fileHandleForWriting
        let text = "cut-by-rotation\"}\n" + #"{"provider":"credicorp"}"# + "\n"
        Thread.detachNewThread {
            for byte in Array(text.utf8) {
                writer.write(Data([byte]))
                usleep(2000)
            }
            try? writer.close()
        }
        let lines = try Self.lines(CaptureReader(handle: pipe.fileHandleForReading, source: "-"))
        #expect(lines.map(\.lineNumber) == [1, 2])
        #expect(lines.last?.bytes == Data(#"{"provider":"credicorp"}"#.utf8))
    }
}
