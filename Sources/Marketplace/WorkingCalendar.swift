import RuleLanguage

/// Working days in the city: Monday to Friday, less the public holidays, plus the weekend days
/// made working days in exchange (调休). Read from a file, one day a line:
///
///     # 2026年部分节假日安排（国务院办公厅）
///     2026-10-01 holiday 国庆节
///     2026-10-10 workday 国庆节调休上班
public struct WorkingCalendar: Sendable, Hashable {
    public private(set) var holidays: Set<Day> = []
    public private(set) var workdays: Set<Day> = []

    public init(holidays: Set<Day> = [], workdays: Set<Day> = []) {
        self.holidays = holidays
        self.workdays = workdays
    }

    /// Parses the file's text; errors name `path:line:column`.
    public init(parsing text: String, path: String) throws(CalendarError) {
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            guard !words.isEmpty else { continue }
            func at(_ word: Substring) -> String { "\(path):\(index + 1):\(raw.distance(from: raw.startIndex, to: word.startIndex) + 1)" }
            guard let day = Day(iso: words[0]) else { throw CalendarError("\(at(words[0])): '\(words[0])' is not a date YYYY-MM-DD") }
            guard words.count >= 2 else { throw CalendarError("\(at(words[0])): say 'holiday' or 'workday' after the date") }
            switch words[1] {
            case "holiday": holidays.insert(day)
            case "workday": workdays.insert(day)
            default: throw CalendarError("\(at(words[1])): '\(words[1])' is neither 'holiday' nor 'workday'")
            }
            if holidays.contains(day), workdays.contains(day) { throw CalendarError("\(at(words[0])): \(day) is listed both as a holiday and as a workday") }
        }
    }

    /// 0 Monday … 6 Sunday (1970-01-01 was a Thursday).
    public static func weekday(_ day: Day) -> Int { ((day.value + 3) % 7 + 7) % 7 }

    public func isWorkingDay(_ day: Day) -> Bool {
        if workdays.contains(day) { return true }
        if holidays.contains(day) { return false }
        return Self.weekday(day) < 5
    }

    /// The `n`-th working day after `day` (`day` itself does not count).
    public func adding(workingDays n: Int, to day: Day) -> Day {
        var current = day
        var left = max(n, 0)
        while left > 0 {
            current = current + 1
            if isWorkingDay(current) { left -= 1 }
        }
        return current
    }
}

public struct CalendarError: Error, Sendable, Hashable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
