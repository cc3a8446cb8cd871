import CreditWatchCore
import RuleLanguage

/// A field value of a simulated feed row: a JSON scalar, as the department feeds carry them.
///
/// `number` is money or a measurement: it is rendered with at most two decimals, trailing zeros
/// dropped, and never in exponent notation (`1234.5`, `0.07`, `-3`), exactly like a `numeric(…, 2)`
/// column. Non-finite numbers render as `null`. (This is why it is not CreditWatchCore's
/// `JSONValue`, whose numbers render in full: feed rows are written, never read, and their bytes
/// must be exactly those of the departments' connectors.)
public enum FeedValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    case number(Double)
    case string(String)

    /// A calendar date as Debezium renders a `date` column by default in text form: `"2025-05-31"`.
    public static func date(_ day: Day) -> FeedValue { .string(day.description) }

    /// A calendar date as an integer count of days since 1970-01-01 (Debezium's `io.debezium.time.Date`).
    public static func epochDays(_ day: Day) -> FeedValue { .int(Int64(day.value)) }

    /// A `YYYY-MM` period.
    public static func period(_ month: Month) -> FeedValue { .string(month.description) }

    /// A timestamp as ISO-8601 text: `2025-05-31T10:15:00Z` in UTC, or with an offset east of UTC
    /// in minutes, `2025-05-31T18:15:00+08:00` (China Standard Time). Milliseconds are dropped.
    public static func isoTimestamp(epochMilliseconds ms: Int64, utcOffsetMinutes: Int = 0) -> FeedValue {
        .string(
            Timestamp.iso8601(milliseconds: ms, utcOffsetSeconds: utcOffsetMinutes * 60, fractionalSeconds: false))
    }

    /// A decimal rendered as a JSON string (`"12345.67"`), Debezium's `decimal.handling.mode=string`.
    public static func decimalString(_ value: Double) -> FeedValue {
        var writer = JSONWriter()
        writer.decimal(value)
        return .string(String(decoding: writer.bytes, as: UTF8.self))
    }

    /// The compact JSON text of this value.
    public var jsonBytes: [UInt8] {
        var writer = JSONWriter()
        writer.value(self)
        return writer.bytes
    }
}

extension FeedValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(nilLiteral: ()) { self = .null }
}

/// A JSON object whose keys keep the order they were declared in (the feeds' column order).
///
/// Setting an existing key replaces its value in place; setting a new key appends it; setting
/// `nil` removes the key.
public struct JSONObject: Sendable, Hashable, ExpressibleByDictionaryLiteral {
    public private(set) var keys: [String]
    public private(set) var values: [FeedValue]

    public init() {
        keys = []
        values = []
    }

    /// Keys in the given order; a repeated key keeps its first position and its last value.
    public init(_ pairs: [(String, FeedValue)]) {
        self.init()
        keys.reserveCapacity(pairs.count)
        values.reserveCapacity(pairs.count)
        for (key, value) in pairs { self[key] = value }
    }

    public init(dictionaryLiteral elements: (String, FeedValue)...) { self.init(elements) }

    /// The dictionary's keys in ascending (byte-wise) order, so the rendering is deterministic.
    public init(sorting dictionary: [String: FeedValue]) {
        self.init(dictionary.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) })
    }

    /// Keys known to be distinct, in order (the row builders' fast path).
    init(distinctKeys keys: [String], values: [FeedValue]) {
        self.keys = keys
        self.values = values
    }

    public var count: Int { keys.count }

    public subscript(key: String) -> FeedValue? {
        get { keys.firstIndex(of: key).map { values[$0] } }
        set {
            if let index = keys.firstIndex(of: key) {
                if let newValue {
                    values[index] = newValue
                } else {
                    keys.remove(at: index)
                    values.remove(at: index)
                }
            } else if let newValue {
                keys.append(key)
                values.append(newValue)
            }
        }
    }

    /// The compact JSON text of this object.
    public var jsonBytes: [UInt8] {
        var writer = JSONWriter()
        writer.object(self)
        return writer.bytes
    }
}

/// The feed rows' part of the package's JSON writer: feed values (money with at most two
/// decimals) and objects in their declared key order.
extension JSONWriter {
    mutating func value(_ value: FeedValue) {
        switch value {
        case .null: raw("null")
        case .bool(let b): raw(b ? "true" : "false")
        case .int(let n): integer(n)
        case .number(let d): decimal(d)
        case .string(let s): string(s)
        }
    }

    mutating func object(_ object: JSONObject) {
        bytes.append(UInt8(ascii: "{"))
        for index in object.keys.indices {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            string(object.keys[index])
            bytes.append(UInt8(ascii: ":"))
            value(object.values[index])
        }
        bytes.append(UInt8(ascii: "}"))
    }

    /// At most two decimals, trailing zeros dropped, no exponent; non-finite → `null`.
    mutating func decimal(_ d: Double) {
        guard d.isFinite, abs(d) < 9e15 else {
            raw("null")
            return
        }
        let cents = Int64((d * 100).rounded())
        if cents < 0 { bytes.append(UInt8(ascii: "-")) }
        let magnitude = cents.magnitude
        Self.decimal(Int64(magnitude / 100), into: &bytes)
        let fraction = magnitude % 100
        if fraction != 0 {
            bytes.append(UInt8(ascii: "."))
            bytes.append(UInt8(truncatingIfNeeded: fraction / 10) &+ 0x30)
            if fraction % 10 != 0 { bytes.append(UInt8(truncatingIfNeeded: fraction % 10) &+ 0x30) }
        }
    }
}

extension Day {
    static func pad2(_ n: Int) -> String { n < 10 ? "0" + String(n) : String(n) }
}
