import RuleLanguage

/// A Debezium operation.
enum Op: String, Sendable {
    case create = "c"
    case update = "u"
    case delete = "d"
    case read = "r"
}

/// One row change waiting to be rendered into a message: when it happened (`ts`, the envelope's
/// `ts_ms`), on which feed, and the row before and after.
struct Change: Sendable {
    let ts: Int64
    let feed: Feed
    let op: Op
    let before: JSONObject?
    let after: JSONObject?
}

/// Builds one row in the feed's declared column order.
struct RowBuilder {
    private var keys: [String] = []
    private var values: [FeedValue] = []

    init(capacity: Int = 10) {
        keys.reserveCapacity(capacity)
        values.reserveCapacity(capacity)
    }

    mutating func add(_ key: String, _ value: FeedValue) {
        keys.append(key)
        values.append(value)
    }

    var row: JSONObject { JSONObject(distinctKeys: keys, values: values) }
}

/// How each department's connector renders dates, timestamps, decimals and booleans.
struct ConnectorEncoding: Sendable {
    let varied: Bool

    /// Debezium's default `io.debezium.time.Date` (days since epoch) for the tax and traffic
    /// departments; ISO text elsewhere.
    func date(_ day: Day, _ feed: Feed) -> FeedValue {
        guard varied else { return .date(day) }
        switch feed {
        case .taxTaxpayer, .taxPayment, .taxArrears, .trafficVehicle, .trafficDriver: return .epochDays(day)
        default: return .date(day)
        }
    }

    /// `decimal.handling.mode=string` for the tax and social-insurance departments.
    func decimal(_ value: Double, _ feed: Feed) -> FeedValue {
        guard varied else { return .number(value) }
        switch feed {
        case .taxPayment, .taxArrears, .hrssInsurance: return .decimalString(value)
        default: return .number(value)
        }
    }

    /// Epoch milliseconds for the tax and real-estate departments; ISO-8601 text elsewhere.
    func timestamp(_ ms: Int64, _ feed: Feed) -> FeedValue {
        guard varied else { return .isoTimestamp(epochMilliseconds: ms, utcOffsetMinutes: chinaStandardTimeMinutes) }
        switch feed {
        case .taxTaxpayer, .realestateRights: return .int(ms)
        default: return .isoTimestamp(epochMilliseconds: ms, utcOffsetMinutes: chinaStandardTimeMinutes)
        }
    }

    /// MySQL `tinyint(1)` (0/1) for real estate.
    func bool(_ value: Bool, _ feed: Feed) -> FeedValue {
        guard varied, feed == .realestateRights else { return .bool(value) }
        return .int(value ? 1 : 0)
    }

    func optionalDecimal(_ value: Double?, _ feed: Feed) -> FeedValue {
        value.map { decimal($0, feed) } ?? .null
    }

    func optionalDate(_ day: Day?, _ feed: Feed) -> FeedValue {
        day.map { date($0, feed) } ?? .null
    }
}

/// The city's clock: China Standard Time, UTC+8, no daylight saving.
let chinaStandardTimeMinutes = 8 * 60

/// Epoch milliseconds of a time on a local (China Standard Time) business date.
func epochMilliseconds(_ day: Day, minute: Int, millisecond: Int = 0) -> Int64 {
    Int64(day.value) * 86_400_000 + Int64(minute - chinaStandardTimeMinutes) * 60_000 + Int64(millisecond)
}

/// The local (China Standard Time) business day of an epoch-millisecond instant.
func dayOf(_ ms: Int64) -> Day {
    Day(epochMilliseconds: ms, utcOffsetSeconds: chinaStandardTimeMinutes * 60)
}

/// A time during office hours on `day`, with random seconds and milliseconds.
func officeHours(_ day: Day, _ rng: inout Rng) -> Int64 {
    epochMilliseconds(day, minute: rng.int(8 * 60..<19 * 60), millisecond: rng.int(0..<60_000))
}

/// `202505` for a month.
func compact(_ month: Month) -> String { String(month.year) + Day.pad2(month.month) }

/// Zero-padded decimal.
func padded(_ n: Int, _ width: Int) -> String {
    let s = String(n)
    return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
}

/// The day itself on Monday–Friday; a weekend day moves to the nearest working day of the same
/// month (business dates of filings, listings and payments).
func nearestWorkday(_ day: Day) -> Day {
    let weekday = (day.value + 3) % 7  // 0 = Monday (1970-01-01 was a Thursday)
    guard weekday >= 5 else { return day }
    let forward = day + (7 - weekday)
    return forward.month == day.month ? forward : day - (weekday - 4)
}
