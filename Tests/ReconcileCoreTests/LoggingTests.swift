import Foundation
import Logging
import Testing

@testable import ReconcileCore

/// Log lines and the live progress line on one standard error; JSON log lines.
struct LoggingTests {
    /// What was written, one element per write.
    final class Sink: @unchecked Sendable {
        private let lock = NSLock()
        private var writes: [String] = []
        func append(_ text: String) { lock.withLock { writes.append(text) } }
        var all: [String] { lock.withLock { writes } }
    }

    /// A log line written while a progress line shows erases it first, stands on its own line, and
    /// the progress line is drawn again below it; without a live line, lines go out as they are.
    @Test func logLinesNeverLandInsideTheProgressLine() {
        let sink = Sink()
        let lines = StandardErrorLines { sink.append($0) }
        lines.writeLines("before\n")
        lines.showLive("crezco: 3 pages")
        lines.writeLines("2026-07-10T08:00:00+0000 warning reconcile: [reconcile] provider.retry\n")
        lines.showLive("crezco: 4 pages")
        lines.endLive("crezco: complete, 4 pages")
        lines.writeLines("after\n")
        #expect(
            sink.all == [
                "before\n",
                "\r\u{1B}[2Kcrezco: 3 pages",
                "\r\u{1B}[2K2026-07-10T08:00:00+0000 warning reconcile: [reconcile] provider.retry\ncrezco: 3 pages",
                "\r\u{1B}[2Kcrezco: 4 pages",
                "\r\u{1B}[2Kcrezco: complete, 4 pages\n",
                "after\n",
            ]
        )
        // What a terminal shows: every log line whole, the progress line last.
        let screen = sink.all.joined().split(separator: "\n").map { line in
            String(line.components(separatedBy: "\r\u{1B}[2K").last ?? "")
        }
        #expect(
            screen == [
                "before", "2026-07-10T08:00:00+0000 warning reconcile: [reconcile] provider.retry",
                "crezco: complete, 4 pages", "after",
            ]
        )
    }

    /// ProgressLine on a terminal and off it, through the shared lines.
    @Test func theProgressLineIsLiveOnATerminalAndPlainOffIt() async {
        for terminal in [true, false] {
            let sink = Sink()
            let progress = ProgressLine(terminal: terminal, interval: 0, lines: StandardErrorLines { sink.append($0) })
            let since = Date(timeIntervalSince1970: 0)
            await progress.providerStarted("crezco", lists: 1, since: since, until: since.addingTimeInterval(100))
            await progress.pageRead(
                provider: "crezco",
                list: "/v1/events",
                rows: 100,
                reached: since.addingTimeInterval(50)
            )
            await progress.providerFinished("crezco", findings: 3, status: "complete")
            let text = sink.all.joined()
            #expect(text.contains("crezco: 1 pages, 100 rows, 50% of window"))
            let last = text.split(separator: "\n").last.map { $0.split(separator: "\r\u{1B}[2K").last ?? $0 }
            #expect(last?.hasPrefix("crezco: complete, 1 pages, 100 rows read, 3 findings, ") == true, "\(text)")
            #expect(text.hasSuffix(" s\n"))
            #expect(text.contains("\r\u{1B}[2K") == terminal)
        }
    }

    /// Lists read at once (Credicorp's resource lists) each count as far as they have reached,
    /// whichever reported last; a list's last page reports the window's end.
    @Test func theProgressLineCountsListsReadAtOnceEachByItsOwnTime() async {
        let sink = Sink()
        let progress = ProgressLine(terminal: false, interval: 0, lines: StandardErrorLines { sink.append($0) })
        let since = Date(timeIntervalSince1970: 0)
        await progress.providerStarted("credicorp", lists: 2, since: since, until: since.addingTimeInterval(100))
        for (list, at) in [("/payments", 50.0), ("/decisions", 100), ("/payments", 80), ("/payments", 70)] {
            await progress.pageRead(provider: "credicorp", list: list, rows: 100, reached: since.addingTimeInterval(at))
        }
        let percents = sink.all.joined().split(separator: "\n").compactMap { line in
            line.split(separator: ",").first { $0.hasSuffix("% of window") }.map {
                $0.dropLast(11).trimmingCharacters(in: .whitespaces)
            }
        }
        // 25 %, then (50 + 100) / 2, then (80 + 100) / 2; a page behind the list's time takes nothing back.
        #expect(percents == ["25", "75", "90", "90"], "\(sink.all)")
    }

    /// A paged list's last page reports the window's end, though its last row lies before it.
    @Test func aPagedListsLastPageReportsTheWindowsEnd() async throws {
        let since = Date(timeIntervalSince1970: 0)
        let until = since.addingTimeInterval(100)
        let reported = Sink()
        var pager = WindowPager<Date>(time: { $0 })
        pager.onPage = { _, reached in reported.append(reached.map { "\($0.timeIntervalSince(since))" } ?? "none") }
        try await pager.readAll(
            since: since,
            until: until,
            describe: "list",
            fetch: { from, _ in
                from < since.addingTimeInterval(10)
                    ? WindowPage(rows: [since.addingTimeInterval(5), since.addingTimeInterval(10)], hasMore: true)
                    : WindowPage(rows: [since.addingTimeInterval(10), since.addingTimeInterval(40)], hasMore: false)
            },
            keep: { rows in KeptRows(new: rows.count) }
        )
        #expect(reported.all == ["10.0", "100.0"])
    }

    @Test func aJSONLogLineIsOneObjectWithTheMetadataFlat() throws {
        let event = LogEvent(
            level: .warning,
            message: "provider.retry",
            metadata: ["provider": "crezco", "attempt": "2", "message": "clash", "list": .array(["a", "b"])],
            source: "reconcile",
            file: #fileID,
            function: #function,
            line: #line
        )
        let text = JSONLogHandler.line(
            event,
            label: "reconcile",
            base: ["run.id": "r1"],
            at: Date(timeIntervalSince1970: 1_783_670_400.25)
        )
        #expect(!text.contains("\n"))
        let object = try #require(JSONValue.parse(Data(text.utf8))?.objectValue)
        #expect(object["time"] == .string("2026-07-10T08:00:00.250Z"))
        #expect(object["level"] == .string("warning"))
        #expect(object["logger"] == .string("reconcile"))
        #expect(object["message"] == .string("provider.retry"))
        #expect(object["metadata.message"] == .string("clash"), "a clashing key keeps the fixed one intact")
        #expect(object["provider"] == .string("crezco") && object["run.id"] == .string("r1"))
        #expect(object["list"] == .array([.string("a"), .string("b")]))
    }
}
