import CreditWatchCore
import RuleLanguage

/// A JSON scalar, as the department feeds carry them.
///
/// `number` is money or a measurement: it is rendered with at most two decimals, trailing zeros
/// dropped, and never in exponent notation (`1234.5`, `0.07`, `-3`), exactly like a `numeric(…, 2)`
/// column. Non-finite numbers render as `null`.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    case number(Double)
    case string(String)

    /// A calendar date as Debezium renders a `date` column by default in text form: `"2025-05-31"`.
    public static func date(_ day: Day) -> JSONValue { .string(day.description) }

    /// A calendar date as an integer count of days since 1970-01-01 (Debezium's `io.debezium.time.Date`).
    public static func epochDays(_ day: Day) -> JSONValue { .int(Int64(day.value)) }

    /// A `YYYY-MM` period.
    public static func period(_ month: Month) -> JSONValue { .string(month.description) }

    /// A timestamp as ISO-8601 text: `2025-05-31T10:15:00Z` in UTC, or with an offset east of UTC
    /// in minutes, `2025-05-31T18:15:00+08:00` (China Standard Time). Milliseconds are dropped.
    public static func isoTimestamp(epochMilliseconds ms: Int64, utcOffsetMinutes: Int = 0) -> JSONValue {
        .string(
            Timestamp.iso8601(milliseconds: ms, utcOffsetSeconds: utcOffsetMinutes * 60, fractionalSeconds: false))
    }

    /// A decimal rendered as a JSON string (`"12345.67"`), Debezium's `decimal.handling.mode=string`.
    public static func decimalString(_ value: Double) -> JSONValue {
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

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
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
    public private(set) var values: [JSONValue]

    public init() {
        keys = []
        values = []
    }

    /// Keys in the given order; a repeated key keeps its first position and its last value.
    public init(_ pairs: [(String, JSONValue)]) {
        self.init()
        keys.reserveCapacity(pairs.count)
        values.reserveCapacity(pairs.count)
        for (key, value) in pairs { self[key] = value }
    }

    public init(dictionaryLiteral elements: (String, JSONValue)...) { self.init(elements) }

    /// The dictionary's keys in ascending (byte-wise) order, so the rendering is deterministic.
    public init(sorting dictionary: [String: JSONValue]) {
        self.init(dictionary.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) })
    }

    /// Keys known to be distinct, in order (the row builders' fast path).
    init(distinctKeys keys: [String], values: [JSONValue]) {
        self.keys = keys
        self.values = values
    }

    public var count: Int { keys.count }

    public subscript(key: String) -> JSONValue? {
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

/// A small, allocation-light compact JSON writer: no whitespace, strings escaped per RFC 8259
/// (`"`, `\`, control characters), everything else — Chinese included — left as UTF-8.
struct JSONWriter {
    var bytes: [UInt8] = []

    init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    mutating func value(_ value: JSONValue) {
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

    mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    mutating func raw(_ text: String) {
        bytes.append(contentsOf: text.utf8)
    }

    mutating func key(_ name: StaticString) {
        bytes.append(UInt8(ascii: "\""))
        raw(name)
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
    }

    mutating func string(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        let done: Void? = text.utf8.withContiguousStorageIfAvailable { utf8 in
            var run = 0
            for index in 0..<utf8.count {
                let byte = utf8[index]
                guard byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 else { continue }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[run..<index]))
                escape(byte)
                run = index + 1
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[run..<utf8.count]))
        }
        if done == nil {
            for byte in text.utf8 {
                if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 {
                    escape(byte)
                } else {
                    bytes.append(byte)
                }
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    mutating func escape(_ byte: UInt8) {
        bytes.append(UInt8(ascii: "\\"))
        switch byte {
        case 0x0A: bytes.append(UInt8(ascii: "n"))
        case 0x0D: bytes.append(UInt8(ascii: "r"))
        case 0x09: bytes.append(UInt8(ascii: "t"))
        case 0x08: bytes.append(UInt8(ascii: "b"))
        case 0x0C: bytes.append(UInt8(ascii: "f"))
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(byte)
        default:
            raw("u00")
            bytes.append(JSONWriter.hex[Int(byte >> 4)])
            bytes.append(JSONWriter.hex[Int(byte & 0xF)])
        }
    }

    static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    mutating func integer(_ n: Int64) {
        if n < 0 {
            bytes.append(UInt8(ascii: "-"))
            unsigned(n == .min ? UInt64(Int64.max) + 1 : UInt64(-n))
        } else {
            unsigned(UInt64(n))
        }
    }

    mutating func unsigned(_ n: UInt64) {
        var divisor: UInt64 = 1
        while divisor <= n / 10 { divisor *= 10 }
        var rest = n
        while divisor > 0 {
            bytes.append(UInt8(truncatingIfNeeded: rest / divisor) &+ 0x30)
            rest %= divisor
            divisor /= 10
        }
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
        unsigned(magnitude / 100)
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
