import RuleLanguage

/// A JSON value: how typed field values (`Value`) are stored in `jsonb` columns and shown by the
/// API. One mapping, used in both directions, so that the database, the API and the CLI agree:
///
/// | `Value`          | JSON                                   |
/// |------------------|----------------------------------------|
/// | `.null`          | `null`                                 |
/// | `.bool`          | `true` / `false`                       |
/// | `.number`        | a number (integral values without `.0`) |
/// | `.string`        | a string                               |
/// | `.date`          | `"YYYY-MM-DD"`                         |
/// | `.timestamp(ms)` | `"YYYY-MM-DDTHH:MM:SS.sssZ"` (UTC)     |
///
/// Dates and timestamps become strings, so reading a `Value` back needs the field's declared type
/// (`Value(json:type:)`); see `PostgresStore.init` for where the types come from.
public enum JSONValue: Hashable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    /// Keys are written sorted, so the same object always renders to the same text.
    case object([String: JSONValue])

    /// The JSON form of a typed field value (see the table above).
    public init(_ value: Value) {
        switch value {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .number(let n): self = n.isFinite ? .number(n) : .null
        case .string(let s): self = .string(s)
        case .date(let day): self = .string(day.description)
        case .timestamp(let ms): self = .string(Timestamp.iso8601(milliseconds: ms))
        }
    }

    /// Compact JSON text with sorted object keys, as stored in `jsonb` columns (U+0000, which
    /// PostgreSQL cannot store, becomes U+FFFD).
    public var text: String {
        var out = ""
        write(to: &out)
        return out
    }

    func write(to out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n): out += JSONValue.render(n)
        case .string(let s): JSONValue.writeString(s, to: &out)
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                item.write(to: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (i, key) in members.keys.sorted().enumerated() {
                if i > 0 { out += "," }
                JSONValue.writeString(key, to: &out)
                out += ":"
                members[key]!.write(to: &out)
            }
            out += "}"
        }
    }

    /// Integral values up to 2^53 print without a fraction (`1200`, not `1200.0`); others use
    /// Swift's shortest round-tripping form, which is valid JSON (`12345.67`, `1e-05`).
    static func render(_ n: Double) -> String {
        guard n.isFinite else { return "null" }
        if n == n.rounded(), abs(n) < 9_007_199_254_740_992 { return String(Int64(n)) }
        return n.description
    }

    static func writeString(_ s: String, to out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{0}":
                // PostgreSQL's jsonb cannot hold U+0000; stored text is never NUL-bearing.
                out += "\u{FFFD}"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}

extension JSONValue: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let b = try? container.decode(Bool.self) {
            self = .bool(b)
        } else if let n = try? container.decode(Double.self) {
            self = .number(n)
        } else if let s = try? container.decode(String.self) {
            self = .string(s)
        } else if let a = try? container.decode([JSONValue].self) {
            self = .array(a)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let b): try container.encode(b)
        case .number(let n):
            // Integral values encode as integers so that every encoder prints `1200`, not `1200.0`.
            if n == n.rounded(), abs(n) < 9_007_199_254_740_992 {
                try container.encode(Int64(n))
            } else {
                try container.encode(n)
            }
        case .string(let s): try container.encode(s)
        case .array(let a): try container.encode(a)
        case .object(let o): try container.encode(o)
        }
    }
}

extension Value {
    /// Reads a stored JSON value back as a field of the declared `type`; without a declared type
    /// (a field no longer in the catalog) the JSON type decides (strings stay strings). Returns nil
    /// when the JSON does not fit the type (e.g. a malformed date), which the store reports.
    public init?(json: JSONValue, type: FieldType?) {
        switch (json, type) {
        case (.null, _): self = .null
        case (.bool(let b), _): self = .bool(b)
        case (.number(let n), .some(.bool)): self = .bool(n != 0)
        case (.number(let n), _): self = .number(n)
        case (.string(let s), .some(.date)):
            guard let day = Day(iso: s) else { return nil }
            self = .date(day)
        case (.string(let s), .some(.timestamp)):
            guard let ms = Timestamp.milliseconds(iso8601: s) else { return nil }
            self = .timestamp(ms)
        case (.string(let s), .some(.decimal)), (.string(let s), .some(.int)):
            guard let n = Double(s) else { return nil }
            self = .number(n)
        case (.string(let s), _): self = .string(s)
        case (.array, _), (.object, _): return nil
        }
    }
}

/// ISO-8601 rendering and parsing of epoch-millisecond timestamps in UTC, without Foundation's
/// formatters (the shape is fixed, so parsing is exact and cheap).
public enum Timestamp {
    /// `YYYY-MM-DDTHH:MM:SS.sssZ`.
    public static func iso8601(milliseconds ms: Int64) -> String {
        let dayMs: Int64 = 86_400_000
        let days = ms >= 0 ? ms / dayMs : (ms - dayMs + 1) / dayMs
        let rest = ms - days * dayMs
        let h = rest / 3_600_000, m = rest / 60_000 % 60, s = rest / 1000 % 60, f = rest % 1000
        return "\(Day(Int(days)).description)T\(pad(h, 2)):\(pad(m, 2)):\(pad(s, 2)).\(pad(f, 3))Z"
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`; nil for any other shape.
    public static func milliseconds(iso8601 text: String) -> Int64? {
        let b = Array(text.utf8)
        guard b.count >= 20, b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: " "),
            let day = Day(iso: String(decoding: b[0..<10], as: UTF8.self)),
            b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":"),
            let h = digits(b[11..<13]), let m = digits(b[14..<16]), let s = digits(b[17..<19]),
            h < 24, m < 60, s < 61
        else { return nil }
        var i = 19
        var millis = 0
        if b[i] == UInt8(ascii: ".") {
            i += 1
            var scale = 100
            let start = i
            while i < b.count, b[i] >= 0x30, b[i] <= 0x39 {
                millis += Int(b[i] - 0x30) * scale
                scale /= 10
                i += 1
            }
            guard i > start else { return nil }
        }
        guard i < b.count else { return nil }
        var offsetMinutes = 0
        if b[i] == UInt8(ascii: "Z") {
            i += 1
        } else if b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
            guard b.count == i + 6, b[i + 3] == UInt8(ascii: ":"),
                let oh = digits(b[(i + 1)..<(i + 3)]), let om = digits(b[(i + 4)..<(i + 6)])
            else { return nil }
            offsetMinutes = (oh * 60 + om) * (b[i] == UInt8(ascii: "+") ? 1 : -1)
            i += 6
        } else {
            return nil
        }
        guard i == b.count else { return nil }
        let seconds = Int64(day.value) * 86_400 + Int64(h * 3600 + m * 60 + s) - Int64(offsetMinutes * 60)
        return seconds * 1000 + Int64(millis)
    }

    static func digits(_ bytes: ArraySlice<UInt8>) -> Int? {
        var n = 0
        for byte in bytes {
            guard byte >= 0x30, byte <= 0x39 else { return nil }
            n = n * 10 + Int(byte - 0x30)
        }
        return n
    }

    static func pad(_ n: Int64, _ width: Int) -> String {
        let s = String(n)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
}
