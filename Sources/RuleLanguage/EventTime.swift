/// Event-time calendar: a `Day` is a count of days since 1970-01-01 (the Debezium `date` encoding),
/// a `Month` is a count of months since year 0 (`year * 12 + month - 1`). Both are proleptic
/// Gregorian and free of time zones: business dates in the feeds are local calendar dates.
public struct Day: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let value: Int

    public init(_ value: Int) { self.value = value }

    /// Days since 1970-01-01 of a civil date; nil when the date does not exist (e.g. 2023-02-29).
    public init?(year: Int, month: Int, day: Int) {
        guard (1...12).contains(month), day >= 1, day <= Day.daysIn(year: year, month: month) else { return nil }
        // Howard Hinnant's days_from_civil.
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        self.value = era * 146097 + doe - 719468
    }

    /// Parses `YYYY-MM-DD` (exactly that shape).
    public init?(iso text: Substring) {
        let b = Array(text.utf8)
        guard b.count == 10, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"),
            let y = Day.digits(b[0..<4]), let m = Day.digits(b[5..<7]), let d = Day.digits(b[8..<10])
        else { return nil }
        self.init(year: y, month: m, day: d)
    }

    public init?(iso text: String) { self.init(iso: Substring(text)) }

    public var civil: (year: Int, month: Int, day: Int) {
        let z = value + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    public var month: Month { let c = civil; return Month(year: c.year, month: c.month) }

    /// `YYYY-MM-DD`.
    public var description: String {
        let c = civil
        return "\(Day.pad(c.year, 4))-\(Day.pad(c.month, 2))-\(Day.pad(c.day, 2))"
    }

    public static func < (a: Day, b: Day) -> Bool { a.value < b.value }
    public static func + (a: Day, n: Int) -> Day { Day(a.value + n) }
    public static func - (a: Day, n: Int) -> Day { Day(a.value - n) }

    public static func daysIn(year: Int, month: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    static func digits(_ bytes: ArraySlice<UInt8>) -> Int? {
        var n = 0
        for b in bytes {
            guard b >= 0x30, b <= 0x39 else { return nil }
            n = n * 10 + Int(b - 0x30)
        }
        return n
    }

    static func pad(_ n: Int, _ width: Int) -> String {
        let s = String(n)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
}

public struct Month: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// `year * 12 + (month - 1)`.
    public let index: Int

    public init(index: Int) { self.index = index }
    public init(year: Int, month: Int) { self.index = year * 12 + month - 1 }

    /// Parses `YYYY-MM`.
    public init?(iso text: Substring) {
        let b = Array(text.utf8)
        guard b.count == 7, b[4] == UInt8(ascii: "-"),
            let y = Day.digits(b[0..<4]), let m = Day.digits(b[5..<7]), (1...12).contains(m)
        else { return nil }
        self.init(year: y, month: m)
    }

    public init?(iso text: String) { self.init(iso: Substring(text)) }

    public var year: Int { index / 12 }
    public var month: Int { index % 12 + 1 }
    public var firstDay: Day { Day(year: year, month: month, day: 1)! }
    public var lastDay: Day { Day(year: year, month: month, day: Day.daysIn(year: year, month: month))! }

    /// `YYYY-MM`.
    public var description: String { "\(Day.pad(year, 4))-\(Day.pad(month, 2))" }

    public static func < (a: Month, b: Month) -> Bool { a.index < b.index }
    public static func + (a: Month, n: Int) -> Month { Month(index: a.index + n) }
    public static func - (a: Month, n: Int) -> Month { Month(index: a.index - n) }
}
