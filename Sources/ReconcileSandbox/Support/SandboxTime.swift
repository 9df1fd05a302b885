import Foundation

extension Date {
    /// This time in whole milliseconds since 1970, rounded to the nearest.
    ///
    /// The Crezco and Credify simulators compare times in milliseconds, so a query bound parsed from
    /// text always equals the stored time it names.
    var sandboxMillis: Int64 { Int64((timeIntervalSince1970 * 1000).rounded()) }

    /// The time `millis` milliseconds since 1970.
    init(sandboxMillis millis: Int64) {
        self.init(timeIntervalSince1970: Double(millis) / 1000)
    }
}

extension SplitMix64 {
    /// A random version 4 UUID in lowercase text, such as `6f1c2a3e-…`.
    mutating func uuid() -> String {
        var bytes = self.bytes(16)
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let hex = bytes.map { byte in
            let digits = String(byte, radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }
        return [hex[0..<4], hex[4..<6], hex[6..<8], hex[8..<10], hex[10..<16]].map { $0.joined() }.joined(
            separator: "-"
        )
    }
}
