import Foundation
import Testing

@testable import ReconcileCore

/// `retention` removing report folders: only this job's, only what a run wrote, never through a link.
struct ReportPruneTests {
    static let cutoff = Date(timeIntervalSince1970: 1_783_670_400)  // 2026-07-10T08:00:00Z

    static func report(id: String, job: String, now: Date) -> RunReport {
        RunReport(
            run: .init(
                id: id,
                job: job,
                startedAt: RFC3339.format(now),
                finishedAt: RFC3339.format(now),
                now: RFC3339.format(now),
                dryRun: false,
                repair: true,
                status: "complete",
                store: nil
            ),
            providers: [],
            counts: [:],
            repairs: 0,
            findings: []
        )
    }

    @Test func onlyThisJobsOldFoldersHoldingOnlyReportFilesGo() async throws {
        try await withTemporaryDirectory { folder in
            let root = folder.appendingPathComponent("reports")
            let old = Self.cutoff.addingTimeInterval(-86_400)
            func write(_ id: String, job: String = "nightly", now: Date = old) throws {
                _ = try ReportWriter.write(
                    Self.report(id: id, job: job, now: now),
                    reportsRoot: root.path,
                    extraJSON: nil,
                    exitStatus: 0
                )
            }
            try write("20260701T000000000Z-0001")  // pruned
            try write("20260701T000000000Z-0002")  // kept: the store still keeps the run
            try write("20260701T000000000Z-0003", job: "other")  // kept: another job's
            try write("20260701T000000000Z-0004", now: Self.cutoff.addingTimeInterval(60))  // kept: too young
            try write("20260701T000000000Z-0005")  // kept: someone's notes beside the report
            try "mine".write(
                to: root.appendingPathComponent("20260701T000000000Z-0005/notes.txt"),
                atomically: true,
                encoding: .utf8
            )
            // A folder moved to an archive and linked back: neither the link nor the archive is touched.
            let archive = folder.appendingPathComponent("archive")
            _ = try ReportWriter.write(
                Self.report(id: "20260701T000000000Z-0006", job: "nightly", now: old),
                reportsRoot: archive.path,
                extraJSON: nil,
                exitStatus: 0
            )
            try FileManager.default.createSymbolicLink(
                atPath: root.appendingPathComponent("20260701T000000000Z-0006").path,
                withDestinationPath: archive.appendingPathComponent("20260701T000000000Z-0006").path
            )

            let removed = ReportWriter.prune(
                reportsRoot: root.path,
                job: "nightly",
                keptRuns: ["20260701T000000000Z-0002"],
                before: Self.cutoff
            )
            #expect(removed == 1)
            let left = Set(try FileManager.default.contentsOfDirectory(atPath: root.path))
            #expect(
                left == [
                    "20260701T000000000Z-0002", "20260701T000000000Z-0003", "20260701T000000000Z-0004",
                    "20260701T000000000Z-0005", "20260701T000000000Z-0006",
                ]
            )
            let notes = root.appendingPathComponent("20260701T000000000Z-0005")
            #expect(Set(try FileManager.default.contentsOfDirectory(atPath: notes.path)).count == 5, "nothing taken")
            let archived = archive.appendingPathComponent("20260701T000000000Z-0006")
            #expect(
                Set(try FileManager.default.contentsOfDirectory(atPath: archived.path))
                    == ["report.json", "report.md", "payments.csv", "summary.txt"]
            )
        }
    }
}
