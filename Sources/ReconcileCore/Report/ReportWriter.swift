import Foundation

/// Writes a run's reports, each file atomically (a temporary file renamed into place).
public enum ReportWriter {
    /// Writes report.json, report.md, payments.csv and summary.txt under `reportsRoot/<run id>/`;
    /// returns that folder, absolute, and the bytes of report.json (which the run stores too).
    ///
    /// summary.txt is what the cron wrapper mails (see ``MarkdownReport/summary(_:exitStatus:folder:)``).
    /// report.json is made last, once the others are written and their working memory is freed: a
    /// large run's report.json is tens of megabytes, and the two peaks no longer add up.
    public static func write(_ report: RunReport, reportsRoot: String, extraJSON: String?, exitStatus: Int32) throws
        -> (folder: String, json: [UInt8])
    {
        let folder = URL(fileURLWithPath: reportsRoot).standardizedFileURL.appendingPathComponent(report.run.id).path
        var written: [String] = []
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            func write(_ text: String, _ name: String) throws {
                try atomicWrite(text, to: folder + "/" + name)
                written.append(folder + "/" + name)
            }
            do {
                // Worked out once for the three files (each worked them out again), and let go,
                // with this scope, before report.json is written.
                let rows = PaymentsCSV.rows(report)
                try write(MarkdownReport.render(report, rows: rows), "report.md")
                try write(PaymentsCSV.render(report, rows: rows), "payments.csv")
                try write(
                    MarkdownReport.summary(report, exitStatus: Int(exitStatus), folder: folder, rows: rows),
                    "summary.txt"
                )
            }
            FreedMemory.release()
            let json = report.jsonBytes()
            try atomicWrite(bytes: json, to: folder + "/report.json")
            written.removeAll()
            if let extraJSON { try atomicWrite(bytes: json, to: extraJSON) }
            return (folder, json)
        } catch {
            // A folder without its report.json is one retention could never prove is this job's
            // (a full disk fails the largest file, written last): what this call wrote goes.
            for path in written { try? FileManager.default.removeItem(atPath: path) }
            if !written.isEmpty { rmdir(folder) }
            throw ReportFailure(path: folder, reason: String(describing: error))
        }
    }

    /// Creates `folder` and any missing folder above it, each with `mode` whatever the umask.
    static func createFolders(_ folder: URL, mode: mode_t) throws {
        var missing: [URL] = []
        var current = folder.standardizedFileURL
        while !FileManager.default.fileExists(atPath: current.path), current.path != "/" {
            missing.append(current)
            current = current.deletingLastPathComponent()
        }
        for created in missing.reversed() {
            guard mkdir(created.path, mode) == 0 || errno == EEXIST, chmod(created.path, mode) == 0 else {
                throw ReportFailure(
                    path: created.path,
                    reason: "cannot create the folder: \(String(cString: strerror(errno)))"
                )
            }
        }
    }

    /// The files a run's report folder holds.
    static let reportFiles = ["report.json", "report.md", "payments.csv", "summary.txt"]

    /// Removes the report folders of `job` under `reportsRoot` whose run the store no longer keeps
    /// and whose `now` is before `cutoff`; returns how many went.
    ///
    /// A folder is only ever removed when its report.json names `job` (a reports folder may be
    /// shared by several jobs) and it holds nothing but the files a run writes (and their
    /// temporary files): anything else in it, or in the root, is left alone.
    public static func prune(reportsRoot: String, job: String, keptRuns: Set<String>, before cutoff: Date) -> Int {
        let root = URL(fileURLWithPath: reportsRoot)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: root.path) else { return 0 }
        var removed = 0
        for name in names.sorted() where !keptRuns.contains(name) {
            let folder = root.appendingPathComponent(name)
            // A real folder only: a symbolic link (reports moved to an archive and linked back) is left alone.
            var info = stat()
            guard lstat(folder.path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else { continue }
            guard let run = RunReport.runInfo(atPath: folder.appendingPathComponent("report.json").path),
                run.id == name, run.job == job, let now = RFC3339.parse(run.now), now < cutoff,
                let files = try? FileManager.default.contentsOfDirectory(atPath: folder.path),
                files.allSatisfy({ file in
                    reportFiles.contains(file) || (file.hasPrefix(".") && file.hasSuffix(".tmp"))
                })
            else { continue }
            for file in files { try? FileManager.default.removeItem(at: folder.appendingPathComponent(file)) }
            if rmdir(folder.path) == 0 { removed += 1 }
        }
        return removed
    }

    /// Writes `text` to `path` through a temporary file in the same folder and a rename.
    ///
    /// With `mode`, the file gets that mode whatever the umask, and the folders this call creates
    /// for it are readable and searchable by all (0755): a file meant for another user (the
    /// metrics file, for node_exporter) is no use in a folder that user cannot enter.
    public static func atomicWrite(_ text: String, to path: String, mode: mode_t? = nil) throws {
        try atomicWrite(bytes: Array(text.utf8), to: path, mode: mode)
    }

    /// Writes `bytes` to `path` as ``atomicWrite(_:to:mode:)`` writes text, without a copy of them.
    public static func atomicWrite(bytes: [UInt8], to path: String, mode: mode_t? = nil) throws {
        let url = URL(fileURLWithPath: path)
        if mode != nil {
            try createFolders(url.deletingLastPathComponent(), mode: 0o755)
        } else {
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(),
                withIntermediateDirectories: true
            )
        }
        let temporary = url.deletingLastPathComponent().appendingPathComponent(
            ".\(url.lastPathComponent).\(getpid()).\(UUID().uuidString.prefix(8)).tmp"
        )
        try bytes.withUnsafeBytes { buffer in
            guard let start = buffer.baseAddress else { return try Data().write(to: temporary) }
            try Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: start), count: buffer.count, deallocator: .none)
                .write(to: temporary)
        }
        // An explicit mode holds whatever the umask (the cron wrapper's 027 would hide the file from a collector).
        if let mode, chmod(temporary.path, mode) != 0 {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw ReportFailure(path: path, reason: "chmod failed: \(reason)")
        }
        // On disk before it takes the name: a crash leaves the old file or the new one, never a torn one.
        if let handle = try? FileHandle(forWritingTo: temporary) {
            try? handle.synchronize()
            try? handle.close()
        }
        // rename(2) replaces an existing file atomically: a reader sees the old file or the new one.
        guard rename(temporary.path, url.path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw ReportFailure(path: path, reason: "rename failed: \(reason)")
        }
    }
}

/// A report could not be written (exit status 3).
public struct ReportFailure: ReconcileFailure {
    public var path: String
    public var reason: String
    public var exitStatus: Int32 { 3 }
    public var description: String { "could not write reports to \(path): \(reason)" }
}
