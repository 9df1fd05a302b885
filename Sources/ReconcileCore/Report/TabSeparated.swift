/// Text in a tab-separated table or a one-line field (`reconcile findings`): one row per line.
public enum TabSeparated {
    /// `text` with each tab, LF and CR a space, so that no text of the data can break a row.
    ///
    /// By UTF-8 bytes, not `Character`s: CR LF is one `Character`, equal to neither CR nor LF, and
    /// was kept whole (a line break inside the row).
    public static func cell(_ text: String) -> String {
        let isBreak = { (byte: UInt8) in
            byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r")
        }
        guard text.utf8.contains(where: isBreak) else { return text }
        return String(decoding: text.utf8.map { isBreak($0) ? UInt8(ascii: " ") : $0 }, as: UTF8.self)
    }
}
