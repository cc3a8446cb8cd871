/// Money and rates, exact: amounts are whole fen (分) in `Int64`, annual rates whole basis points
/// (0.01 %). No floating point touches money anywhere in the marketplace.

/// An amount of money in fen (1 yuan = 100 fen).
public struct Fen: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var value: Int64

    public init(_ value: Int64) { self.value = value }

    public static let zero = Fen(0)

    /// Parses yuan as written by people and PostgreSQL `numeric`: `1234`, `1234.5`, `1234.56`, an
    /// optional leading `-`; at most two decimals, at most 10^15 yuan. Nil otherwise.
    public init?(yuan text: String) {
        var digits = Substring(text)
        let negative = digits.first == "-"
        if negative { digits = digits.dropFirst() }
        let parts = digits.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let whole = parts.first, (1...15).contains(whole.count),
            whole.allSatisfy({ $0.isASCII && $0.isNumber })
        else { return nil }
        var fraction = parts.count == 2 ? parts[1] : "00"
        guard (1...2).contains(fraction.count), fraction.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        if fraction.count == 1 { fraction += "0" }
        guard let w = Int64(whole), let f = Int64(fraction) else { return nil }
        self.value = (w * 100 + f) * (negative ? -1 : 1)
    }

    /// Yuan with two decimals (`1234.50`), as PostgreSQL `numeric(18,2)` takes it.
    public var yuan: String {
        let magnitude = value.magnitude
        let fraction = magnitude % 100
        return "\(value < 0 ? "-" : "")\(magnitude / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    public var description: String { yuan }

    public static func < (a: Fen, b: Fen) -> Bool { a.value < b.value }
    public static func + (a: Fen, b: Fen) -> Fen { Fen(a.value + b.value) }
    public static func - (a: Fen, b: Fen) -> Fen { Fen(a.value - b.value) }
    public static func += (a: inout Fen, b: Fen) { a.value += b.value }
    public static func -= (a: inout Fen, b: Fen) { a.value -= b.value }

}

/// An annual interest rate in basis points: 345 is 3.45 % a year.
public struct AnnualRate: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var basisPoints: Int64

    public init(basisPoints: Int64) { self.basisPoints = basisPoints }

    /// `3.45%`.
    public var description: String {
        let fraction = basisPoints % 100
        return "\(basisPoints / 100).\(fraction < 10 ? "0" : "")\(fraction)%"
    }

    public static func < (a: AnnualRate, b: AnnualRate) -> Bool { a.basisPoints < b.basisPoints }

    /// One month's interest on `balance` (a twelfth of the annual rate), rounded half up to the fen.
    public func monthlyInterest(on balance: Fen) -> Fen {
        // balance × bp / 10 000 / 12, half up, in integers: (2·balance·bp + 120 000) / 240 000.
        let (product, overflow) = balance.value.multipliedReportingOverflow(by: 2 * basisPoints)
        precondition(!overflow, "amounts are bounded by Terms.maximumAmount")
        return Fen((product + 120_000) / 240_000)
    }

}
