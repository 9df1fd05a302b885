/// An amount of money in integer minor units of one currency; never floating point.
public struct Money: Sendable, Hashable, Codable {
    /// The amount in the currency's minor unit (pence, cents).
    public var minorUnits: Int64
    /// The ISO 4217 code, upper case.
    public var currency: String

    public init(minorUnits: Int64, currency: String) {
        self.minorUnits = minorUnits
        self.currency = currency
    }

    /// The number of minor-unit digits of an ISO 4217 currency (2 unless listed).
    public static func exponent(of currency: String) -> Int {
        switch currency.uppercased() {
        case "JPY", "KRW", "VND", "CLP", "ISK", "UGX", "XAF", "XOF", "PYG", "RWF": 0
        case "BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND": 3
        default: 2
        }
    }

    /// The amount as a decimal string in major units, computed with integers: `1250.00`.
    public var decimalString: String {
        let exponent = Money.exponent(of: currency)
        guard exponent > 0 else { return String(minorUnits) }
        var divisor: Int64 = 1
        for _ in 0..<exponent { divisor *= 10 }
        let magnitude = minorUnits.magnitude
        let major = magnitude / UInt64(divisor)
        let minor = String(magnitude % UInt64(divisor))
        let sign = minorUnits < 0 ? "-" : ""
        return "\(sign)\(major).\(String(repeating: "0", count: exponent - minor.count))\(minor)"
    }
}
