import RuleLanguage

/// A JSON value: the decoder's parse tree of a feed message, and how typed field values (`Value`)
/// are stored in `jsonb` columns and shown by the API.
///
/// Integers and floating-point numbers stay apart (`.integer`, `.number`) so that the decoder can
/// tell `1` from `1.0` and integers keep all their digits. The stored form has one number type:
/// `init(_:)` and `Decodable` produce `.number` for every number.
///
/// Typed field values map to JSON in one way, used in both directions, so that the database, the
/// API and the CLI agree:
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
/// (`Value(json:type:)`).
public enum JSONValue: Hashable, Sendable {
    case null
    case bool(Bool)
    /// An integer as written, without a fraction or exponent (only the decoder's parser makes these).
    case integer(Int64)
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
        var writer = JSONWriter(replacingNUL: true)
        writer.value(self)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    /// `JSONValue.object(fields.mapValues(JSONValue.init)).text`, written straight from the fields.
    public static func text(of fields: [String: Value]) -> String {
        var writer = JSONWriter(replacingNUL: true)
        writer.fields(fields)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    /// `text(of:)` with the members in the dictionary's own order, for a `jsonb` column (which
    /// orders an object's members itself): the store of record writes one per change received
    /// (straight into its `text[]` parameter, `JSONTextArray`).
    public static func jsonbText(of fields: [String: Value]) -> String {
        var writer = JSONWriter(replacingNUL: true)
        writer.unorderedFields(fields)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    /// `n` as an `Int64` when it is integral and below 2^53 in magnitude (so exact); such numbers
    /// print without a fraction (`1200`, not `1200.0`).
    static func integral(_ n: Double) -> Int64? {
        n == n.rounded() && abs(n) < 9_007_199_254_740_992 ? Int64(n) : nil
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
        case .integer(let i): try container.encode(i)
        case .number(let n):
            // Integral values encode as integers so that every encoder prints `1200`, not `1200.0`.
            if let i = JSONValue.integral(n) {
                try container.encode(i)
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
        case (.integer(let i), .some(.bool)): self = .bool(i != 0)
        case (.integer(let i), _): self = .number(Double(i))
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
