import Foundation

/// The job's notion of now, read once: `--now`, else `RECONCILE_NOW`, else the system clock.
///
/// Every window and retry-window age is computed from this value, so a run can be replayed exactly.
public struct JobClock: Sendable {
    /// The instant the job treats as now.
    public let now: Date

    /// A clock at `now`, cut to whole milliseconds (the precision of the store and every provider query).
    public init(now: Date) { self.now = now.wholeMilliseconds }

    /// Resolves the clock from a `--now` option and the environment; a bad time is a usage failure.
    public static func resolve(option: String?, environment: [String: String]) throws -> JobClock {
        if let option {
            guard let date = RFC3339.parse(option) else {
                throw UsageFailure("--now is '\(option)'; expected an RFC 3339 UTC time such as 2026-07-04T09:15:22Z")
            }
            return JobClock(now: date)
        }
        if let value = environment["RECONCILE_NOW"], !value.isEmpty {
            guard let date = RFC3339.parse(value) else {
                throw UsageFailure(
                    "RECONCILE_NOW is '\(value)'; expected an RFC 3339 UTC time such as 2026-07-04T09:15:22Z"
                )
            }
            return JobClock(now: date)
        }
        return JobClock(now: Date())
    }
}

extension Date {
    /// This instant cut down to a whole millisecond.
    public var wholeMilliseconds: Date {
        Date(timeIntervalSince1970: (timeIntervalSince1970 * 1000).rounded(.down) / 1000)
    }
}
