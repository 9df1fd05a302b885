import ArgumentParser
import Foundation
import ReconcileCore

extension Reconcile {
    struct Findings: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List findings across the job's runs, with their age.",
            discussion: "Reads the store only: the job's secrets are not needed."
        )

        enum Format: String, ExpressibleByArgument { case table, json }

        @Argument(help: "Job file, e.g. Jobs/nightly.yml.") var job: String
        @Flag(help: "Only findings the newest complete run still reports and did not repair.") var open = false
        @Option(help: "Only this kind, e.g. dropped_event.") var kind: String?
        @Option(help: "Only this provider's findings.") var provider: String?
        @Option(help: "table or json.") var format: Format = .table
        @Option(help: "Age findings at this RFC 3339 UTC time (default: RECONCILE_NOW, else now).") var now: String?
        @Option(help: "Store path; overrides the job's 'store'.") var store: String?
        @OptionGroup var common: CommonOptions

        func run() async throws {
            _ = try common.makeLogger()
            let config = try loadJobForReading(job)
            let clock = try JobClock.resolve(option: now, environment: ProcessInfo.processInfo.environment)
            if let kind, FindingKind(rawValue: kind) == nil {
                throw UsageFailure(
                    "--kind is '\(kind)'; expected one of "
                        + FindingKind.allCases.map(\.rawValue).joined(separator: ", ")
                )
            }
            if let provider, config.provider(named: provider) == nil {
                throw UsageFailure(
                    "--provider \(provider): the job \(config.file) has no such provider; it has "
                        + config.providers.map(\.name).joined(separator: ", ")
                )
            }
            let stored = try await withStore(config: config, option: self.store, creation: .refusedForReading) {
                store,
                _ in try await store.findingHistories(job: config.name, providers: Set(config.providers.map(\.name)))
            }
            let histories = stored.filter { history in
                (!open || history.isOpen) && (kind == nil || history.kind.rawValue == kind)
                    && (provider == nil || history.provider == provider)
            }.sorted { lhs, rhs in
                if lhs.isOpen != rhs.isOpen { return lhs.isOpen }
                if lhs.kind != rhs.kind { return lhs.kind < rhs.kind }
                // Byte by byte, as the stores order text (two spellings of one accented id are two).
                var order = ByteOrder.compare(lhs.provider, rhs.provider)
                if order == 0 { order = ByteOrder.compare(lhs.resourceID, rhs.resourceID) }
                if order == 0 { order = ByteOrder.compare(lhs.eventID, rhs.eventID) }
                return (order != 0 ? order : ByteOrder.compare(lhs.id, rhs.id)) < 0
            }
            switch format {
            case .json:
                let list = JSONValue.array(histories.map { FindingText.json($0, now: clock.now) })
                print(list.canonicalText)
            case .table:
                print("id\tkind\tprovider\tresource\tevent\tfirst_seen\tage\truns\tstate\trepaired")
                for history in histories {
                    print(
                        [
                            history.id, history.kind.rawValue, history.provider ?? "-", FindingText.resource(history),
                            history.eventID ?? "-", RFC3339.format(history.firstSeen),
                            FindingText.age(clock.now.timeIntervalSince(history.firstSeen)),
                            String(history.occurrences.count), history.isOpen ? "open" : "resolved",
                            history.repaired ? "yes" : "no",
                        ].map(TabSeparated.cell).joined(separator: "\t")
                    )
                }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print one finding's history: the runs that reported it, its repairs, its deliveries.",
            discussion: "Reads the store only: the job's secrets are not needed."
        )

        enum Format: String, ExpressibleByArgument { case text, json }

        @Argument(help: "Job file, e.g. Jobs/nightly.yml.") var job: String
        @Argument(help: "The finding's id (the `id` of report.json, or a line of `reconcile findings`).")
        var findingID: String
        @Option(help: "text or json.") var format: Format = .text
        @Option(help: "Age the finding at this RFC 3339 UTC time (default: RECONCILE_NOW, else now).") var now: String?
        @Option(help: "Store path; overrides the job's 'store'.") var store: String?
        @OptionGroup var common: CommonOptions

        func run() async throws {
            _ = try common.makeLogger()
            let config = try loadJobForReading(job)
            let clock = try JobClock.resolve(option: now, environment: ProcessInfo.processInfo.environment)
            let (history, repairs, deliveries) = try await withStore(
                config: config,
                option: self.store,
                creation: .refusedForReading
            ) { store, _ in
                guard
                    let history = try await store.findingHistories(
                        job: config.name,
                        providers: Set(config.providers.map(\.name))
                    ).first(where: { $0.id == findingID }
                    )
                else {
                    throw UsageFailure(
                        "no finding \(findingID) in the runs of job \(config.name) that the store keeps; "
                            + "`reconcile findings \(job)` lists them"
                    )
                }
                return (history, try await store.repairs(of: history), try await store.deliveries(of: history))
            }
            switch format {
            case .json:
                var object = FindingText.json(history, now: clock.now).objectValue ?? [:]
                object["runs"] = .array(
                    history.occurrences.map { occurrence in
                        .object([
                            "run_id": .string(occurrence.runID), "kind": .string(occurrence.runKind),
                            "status": .string(occurrence.runStatus), "now": .string(RFC3339.format(occurrence.runNow)),
                            "new": .bool(occurrence.isNew), "repaired": .bool(occurrence.repaired),
                        ])
                    }
                )
                object["repairs"] = .array(
                    repairs.map { repair in
                        .object([
                            "run_id": .string(repair.runID), "action": .string(repair.action), "at": .string(repair.at),
                            "before": repair.before.flatMap { JSONValue.parse(Data($0.utf8)) } ?? .null,
                            "after": repair.after.flatMap { JSONValue.parse(Data($0.utf8)) } ?? .null,
                        ])
                    }
                )
                object["deliveries"] = .array(deliveries.map(FindingText.json))
                print(JSONValue.object(object).canonicalText)
            case .text:
                print(
                    FindingText.text(history, repairs: repairs, deliveries: deliveries, now: clock.now),
                    terminator: ""
                )
            }
        }
    }
}

/// How `findings` and `show` write a finding.
enum FindingText {
    static func resource(_ history: FindingHistory) -> String {
        guard let type = history.resourceType else { return "-" }
        return type + " " + (history.resourceID ?? "?")
    }

    /// `3d 4h`, `5h 12m`, `42s`: how long a finding has been open.
    static func age(_ seconds: TimeInterval) -> String {
        let total = max(0, Int(seconds.rounded()))
        let (days, hours, minutes) = (total / 86_400, total % 86_400 / 3600, total % 3600 / 60)
        if days > 0 { return "\(days)d \(hours)h" }
        if hours > 0 { return "\(hours)h \(minutes)m" }
        if minutes > 0 { return "\(minutes)m" }
        return "\(total)s"
    }

    static func json(_ history: FindingHistory, now: Date) -> JSONValue {
        .object([
            "id": .string(history.id), "kind": .string(history.kind.rawValue),
            "provider": history.provider.map(JSONValue.string) ?? .null,
            "resource_type": history.resourceType.map(JSONValue.string) ?? .null,
            "resource_id": history.resourceID.map(JSONValue.string) ?? .null,
            "event_id": history.eventID.map(JSONValue.string) ?? .null,
            "first_seen": .string(RFC3339.format(history.firstSeen)),
            "last_seen": .string(RFC3339.format(history.lastSeen)),
            "age_seconds": .integer(Int64(max(0, now.timeIntervalSince(history.firstSeen)).rounded())),
            "runs": .integer(Int64(history.occurrences.count)), "open": .bool(history.isOpen),
            "repaired": .bool(history.repaired), "details": .object(history.details),
        ])
    }

    static func json(_ delivery: DeliveryRecord) -> JSONValue {
        .object([
            "id": .integer(delivery.id), "received_at": delivery.receivedAt.map(JSONValue.string) ?? .null,
            "recorded_at": .string(delivery.recordedAt), "verdict": .string(delivery.verdict),
            "reason": delivery.reason.map(JSONValue.string) ?? .null,
            "detail": delivery.detail.map(JSONValue.string) ?? .null,
        ])
    }

    static func text(
        _ history: FindingHistory,
        repairs: [RepairRecord],
        deliveries: [DeliveryRecord],
        now: Date
    ) -> String {
        var out = ["finding \(history.id): \(history.kind.rawValue)"]
        out.append("  provider:   \(TabSeparated.cell(history.provider ?? "-"))")
        out.append("  resource:   \(TabSeparated.cell(resource(history)))")
        if let event = history.eventID { out.append("  event:      \(TabSeparated.cell(event))") }
        out.append(
            "  first seen: \(RFC3339.format(history.firstSeen)) (\(age(now.timeIntervalSince(history.firstSeen))) ago); "
                + "last seen \(RFC3339.format(history.lastSeen)); reported by \(history.occurrences.count) run(s)"
        )
        out.append("  state:      \(history.isOpen ? "open" : "resolved")\(history.repaired ? ", repaired" : "")")
        out.append("details (last report):")
        for key in history.details.keys.sorted() {
            guard let value = history.details[key] else { continue }
            out.append("  \(key): \(TabSeparated.cell(value.stringValue ?? value.canonicalText))")
        }
        out.append("runs:")
        for occurrence in history.occurrences {
            let flags = [occurrence.isNew ? "new" : "seen before", occurrence.repaired ? "repaired" : nil]
                .compactMap { $0 }.joined(separator: ", ")
            out.append(
                "  \(occurrence.runID)  \(occurrence.runKind)  now \(RFC3339.format(occurrence.runNow))  "
                    + "\(occurrence.runStatus)  \(flags)"
            )
        }
        out.append("repairs:" + (repairs.isEmpty ? " none" : ""))
        for repair in repairs {
            out.append("  \(repair.runID)  \(repair.action)  at \(repair.at)")
            out.append("    before: \(TabSeparated.cell(repair.before ?? "(none)"))")
            out.append("    after:  \(TabSeparated.cell(repair.after ?? "(none)"))")
        }
        out.append("deliveries:" + (deliveries.isEmpty ? " none stored" : ""))
        for delivery in deliveries {
            var line = "  #\(delivery.id)  received \(delivery.receivedAt ?? "?")  \(delivery.verdict)"
            if let reason = delivery.reason { line += "  \(reason)" }
            if let detail = delivery.detail { line += ": \(TabSeparated.cell(detail))" }
            out.append(line)
        }
        return out.joined(separator: "\n") + "\n"
    }
}
