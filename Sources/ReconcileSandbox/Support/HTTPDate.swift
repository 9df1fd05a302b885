import Foundation

/// RFC 7231 `IMF-fixdate` times (`Sat, 04 Jul 2026 09:15:25 GMT`), as Crezco's `Date` header carries them.
public enum HTTPDate {
    private static let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// Formats `date` in GMT, whole seconds truncated toward the past.
    public static func format(_ date: Date) -> String {
        // RFC 3339 gives the civil fields: YYYY-MM-DDTHH:MM:SSZ.
        let text = Array(RFC3339.format(date))
        let year = String(text[0..<4])
        let month = Int(String(text[5..<7])) ?? 1
        let day = String(text[8..<10])
        let time = String(text[11..<19])
        let days = Int64((date.timeIntervalSince1970 / 86_400).rounded(.down))
        let weekday = Int(((days + 4) % 7 + 7) % 7)
        return "\(weekdays[weekday]), \(day) \(months[month - 1]) \(year) \(time) GMT"
    }

    /// Parses an `IMF-fixdate`; `nil` for anything else (the weekday is not checked).
    public static func parse(_ text: String) -> Date? {
        let parts = text.split(separator: " ").map(String.init)
        guard parts.count == 6, parts[0].hasSuffix(","), parts[5] == "GMT", parts[1].count == 2,
            parts[2].count == 3, parts[3].count == 4, parts[4].count == 8,
            let month = months.firstIndex(of: parts[2])
        else { return nil }
        let monthText = month + 1 < 10 ? "0\(month + 1)" : "\(month + 1)"
        return RFC3339.parse("\(parts[3])-\(monthText)-\(parts[1])T\(parts[4])Z")
    }
}
