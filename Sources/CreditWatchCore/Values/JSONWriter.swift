import RuleLanguage

/// A small, allocation-light compact JSON writer into UTF-8 bytes: no whitespace; strings escaped
/// per RFC 8259 (`"`, `\`, control characters), everything else — Chinese included — left as
/// UTF-8. The one JSON renderer of the package: `JSONValue.text` (stored JSON) and the
/// simulator's feed messages both write through it.
package struct JSONWriter {
    package var bytes: [UInt8] = []
    /// Whether U+0000 is written as U+FFFD rather than `\u0000` (PostgreSQL's `jsonb` cannot hold it).
    @usableFromInline let replacingNUL: Bool

    package init(capacity: Int = 256, replacingNUL: Bool = false) {
        bytes.reserveCapacity(capacity)
        self.replacingNUL = replacingNUL
    }

    /// A `JSONValue`: objects with their keys sorted, numbers as `number(_:)` writes them.
    package mutating func value(_ value: JSONValue) {
        switch value {
        case .null: raw("null")
        case .bool(let b): raw(b ? "true" : "false")
        case .integer(let n): integer(n)
        case .number(let n): number(n)
        case .string(let s): string(s)
        case .array(let items): array(items) { $0.value($1) }
        case .object(let members): object(members, value: { $0.value($1) })
        }
    }

    /// A record's typed fields as the JSON object `JSONValue.object(fields.mapValues(JSONValue.init))`
    /// writes, without building that object (the store of record writes one per change).
    package mutating func fields(_ fields: [String: Value]) {
        object(fields, value: { $0.value($1) })
    }

    /// `fields(_:)` with the members in the dictionary's order (for `jsonb`, which orders them itself).
    package mutating func unorderedFields(_ fields: [String: Value]) {
        bytes.append(UInt8(ascii: "{"))
        var first = true
        for (key, value) in fields {
            if !first { bytes.append(UInt8(ascii: ",")) }
            first = false
            string(key)
            bytes.append(UInt8(ascii: ":"))
            self.value(value)
        }
        bytes.append(UInt8(ascii: "}"))
    }

    /// A typed field as `value(JSONValue(value))` writes it.
    package mutating func value(_ value: Value) {
        switch value {
        case .null: raw("null")
        case .bool(let b): raw(b ? "true" : "false")
        case .number(let n): number(n)
        case .string(let s): string(s)
        case .date(let day): string(day.description)
        case .timestamp(let ms): string(Timestamp.iso8601(milliseconds: ms))
        }
    }

    /// Members sorted by key, each value written by `value`.
    private mutating func object<V>(_ members: [String: V], value: (inout JSONWriter, V) -> Void) {
        bytes.append(UInt8(ascii: "{"))
        for (i, member) in members.sorted(by: { $0.key < $1.key }).enumerated() {
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            string(member.key)
            bytes.append(UInt8(ascii: ":"))
            value(&self, member.value)
        }
        bytes.append(UInt8(ascii: "}"))
    }

    /// Whether the next `key` follows a member of the same object (see `openObject`).
    private var afterMember = false

    /// An object of a fixed shape, written without building it: `openObject()`, then `key(_:)` and
    /// its value for each member, in ascending key order (the order `value(_:)` sorts them into),
    /// then `closeObject()`. Objects nest, in members and in `array(_:element:)`.
    package mutating func openObject() {
        bytes.append(UInt8(ascii: "{"))
        afterMember = false
    }

    /// A member's key: a plain identifier, written as it is (no escaping).
    package mutating func key(_ key: StaticString) {
        if afterMember { bytes.append(UInt8(ascii: ",")) }
        bytes.append(UInt8(ascii: "\""))
        raw(key)
        raw("\":")
        afterMember = true
    }

    package mutating func closeObject() {
        bytes.append(UInt8(ascii: "}"))
        afterMember = true
    }

    package mutating func array<S: Sequence>(_ items: S, element: (inout JSONWriter, S.Element) -> Void) {
        bytes.append(UInt8(ascii: "["))
        for (i, item) in items.enumerated() {
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            element(&self, item)
        }
        bytes.append(UInt8(ascii: "]"))
        afterMember = true
    }

    /// Integral values up to 2^53 without a fraction (`1200`, not `1200.0`); others in Swift's
    /// shortest round-tripping form, which is valid JSON (`12345.67`, `1e-05`); non-finite → `null`.
    package mutating func number(_ n: Double) {
        if !n.isFinite {
            raw("null")
        } else if let i = JSONValue.integral(n) {
            integer(i)
        } else {
            raw(n.description)
        }
    }

    @inlinable package mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    @inlinable package mutating func raw(_ text: String) {
        bytes.append(contentsOf: text.utf8)
    }

    @inlinable package mutating func string(_ text: String) {
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

    @inlinable mutating func escape(_ byte: UInt8) {
        if byte == 0, replacingNUL {
            bytes.append(contentsOf: [0xEF, 0xBF, 0xBD])  // U+FFFD
            return
        }
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
            bytes.append(JSONWriter.hexDigit(byte >> 4))
            bytes.append(JSONWriter.hexDigit(byte & 0xF))
        }
    }

    @inlinable static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? nibble &+ 0x30 : nibble &+ (UInt8(ascii: "a") - 10)
    }

    @inlinable package mutating func integer(_ n: Int64) {
        Self.decimal(n, into: &bytes)
    }

    /// `n` in decimal, as `"\(n)"` writes it, appended without making that string.
    @inlinable package static func decimal(_ n: Int64, into bytes: inout [UInt8]) {
        if n < 0 { bytes.append(UInt8(ascii: "-")) }
        let magnitude = n.magnitude
        var divisor: UInt64 = 1
        while divisor <= magnitude / 10 { divisor *= 10 }
        var rest = magnitude
        while divisor > 0 {
            bytes.append(UInt8(truncatingIfNeeded: rest / divisor) &+ 0x30)
            rest %= divisor
            divisor /= 10
        }
    }
}
