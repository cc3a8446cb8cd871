import CreditWatchCore
import RuleLanguage

/// The compact encoding of a record's typed fields inside a Redis hash value. A field is named by
/// its position among its topic's catalog fields (`FieldNames`; its name when the catalog does
/// not declare it); every value carries a one-letter type tag, and strings are length-prefixed so
/// that no byte of department data can break the framing.
///
///     <field> 0x1F <tag><value> 0x1E ...     tags: z null, b bool(0/1), n number, d day, t ms,
///                                            m month (a `YYYY-MM` string), s<len>:<bytes>
///
/// Numbers with no fraction are written without one (`n26`, not `n26.0`). Days, milliseconds and
/// months (`Month.index`) are in base 36: the `period` of a monthly feed takes 4 bytes, not 10.
enum RecordCodec {
    /// Encodes `fields` but those in `omitting` (numbers the ledger entry carries elsewhere), in
    /// the catalog's order of the topic (`layout(of:names:)` of their names).
    static func encode(_ fields: [String: Value], names: FieldNames.Topic?, omitting: Set<String> = [], into out: inout [UInt8]) {
        encode(fields, layout: layout(of: Set(fields.keys), names: names), omitting: omitting, into: &out)
    }

    /// The fields a store keeps of a topic in the order they are written, each with the name it is
    /// written under: declared ones in the catalog's order, then any other by name.
    typealias Layout = [(name: String, written: [UInt8])]

    static func layout(of kept: Set<String>, names: FieldNames.Topic?) -> Layout {
        let declared = names?.names.filter(kept.contains) ?? []
        return (declared + kept.subtracting(declared).sorted()).map { ($0, Array((names?.alias(of: $0) ?? $0).utf8)) }
    }

    /// Encodes the fields of `layout` that `fields` has, but those in `omitting`: one lookup a
    /// kept field (a backfill encodes every record it receives).
    static func encode(_ fields: [String: Value], layout: Layout, omitting: Set<String> = [], into out: inout [UInt8]) {
        for (name, written) in layout {
            guard let value = fields[name], omitting.isEmpty || !omitting.contains(name) else { continue }
            out.append(contentsOf: written)
            out.append(0x1F)
            switch value {
            case .null: out.append(UInt8(ascii: "z"))
            case .bool(let b): out.append(UInt8(ascii: "b")); out.append(b ? UInt8(ascii: "1") : UInt8(ascii: "0"))
            case .number(let n):
                out.append(UInt8(ascii: "n"))
                // Exactly representable integers (and not -0) print as integers; Double parses them back the same.
                if n.rounded() == n, abs(n) < 9.0e15, !(n == 0 && n.sign == .minus) {
                    JSONWriter.decimal(Int64(n), into: &out)
                } else {
                    out.append(contentsOf: n.description.utf8)
                }
            case .date(let d): out.append(UInt8(ascii: "d")); out.append(contentsOf: String(d.value, radix: 36).utf8)
            case .timestamp(let ms): out.append(UInt8(ascii: "t")); out.append(contentsOf: String(ms, radix: 36).utf8)
            case .string(let s):
                if let month = Self.month(s) {
                    out.append(UInt8(ascii: "m"))
                    out.append(contentsOf: String(month.index, radix: 36).utf8)
                } else {
                    out.append(UInt8(ascii: "s"))
                    JSONWriter.decimal(Int64(s.utf8.count), into: &out)
                    out.append(UInt8(ascii: ":"))
                    out.append(contentsOf: s.utf8)
                }
            }
            out.append(0x1E)
        }
    }

    /// The month a string names when it is exactly its `YYYY-MM` (so that it reads back the same).
    static func month(_ s: String) -> Month? {
        guard s.utf8.count == 7, let month = Month(iso: s), month.description == s else { return nil }
        return month
    }

    /// `extra`: room for fields added after decoding (a ledger entry's contribution), so that the
    /// dictionary is allocated once at its final size: evaluation after a backfill decodes every
    /// record of the city.
    static func decode(_ bytes: ArraySlice<UInt8>, names: FieldNames.Topic?, extra: Int = 0) -> [String: Value]? {
        var fields: [String: Value] = Dictionary(minimumCapacity: bytes.count { $0 == 0x1E } + extra)
        var i = bytes.startIndex
        while i < bytes.endIndex {
            guard let sep = bytes[i...].firstIndex(of: 0x1F), sep + 1 < bytes.endIndex else { return nil }
            guard let name = FieldNames.name(bytes[i..<sep], in: names) else { return nil }
            let tag = bytes[sep + 1]
            var j = sep + 2
            let value: Value
            if tag == UInt8(ascii: "s") {
                guard let colon = bytes[j...].firstIndex(of: UInt8(ascii: ":")),
                    let count = integer(bytes[j..<colon], radix: 10), count >= 0,
                    count <= bytes.endIndex - colon - 1
                else { return nil }
                let start = colon + 1, end = start + Int(count)
                value = .string(String(decoding: bytes[start..<end], as: UTF8.self))
                j = end
            } else {
                guard let end = bytes[j...].firstIndex(of: 0x1E) else { return nil }
                let text = bytes[j..<end]
                j = end
                switch tag {
                case UInt8(ascii: "z"): value = .null
                case UInt8(ascii: "b"): value = .bool(text.count == 1 && text.first == UInt8(ascii: "1"))
                case UInt8(ascii: "n"): guard let n = number(text) else { return nil }; value = .number(n)
                case UInt8(ascii: "d"):
                    guard let d = integer(text, radix: 36), let day = Int(exactly: d) else { return nil }
                    value = .date(Day(day))
                case UInt8(ascii: "t"): guard let t = integer(text, radix: 36) else { return nil }; value = .timestamp(t)
                case UInt8(ascii: "m"):
                    guard let index = integer(text, radix: 36), (0..<120_000).contains(index) else { return nil }
                    value = .string(Month(index: Int(index)).description)
                default: return nil
                }
            }
            guard j < bytes.endIndex, bytes[j] == 0x1E else { return nil }
            fields[name] = value
            i = j + 1
        }
        return fields
    }

    /// An integer written in `radix` (10 or 36, an optional sign, digits in either case), read from
    /// its bytes as `Int64(_:radix:)` reads its text, without making the text.
    static func integer(_ bytes: ArraySlice<UInt8>, radix: Int64) -> Int64? {
        var i = bytes.startIndex
        var negative = false
        if i < bytes.endIndex, bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+") {
            negative = bytes[i] == UInt8(ascii: "-")
            i += 1
        }
        guard i < bytes.endIndex else { return nil }
        var value: Int64 = 0
        while i < bytes.endIndex {
            let byte = bytes[i]
            let digit: Int64
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = Int64(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): digit = Int64(byte - UInt8(ascii: "a")) + 10
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): digit = Int64(byte - UInt8(ascii: "A")) + 10
            default: return nil
            }
            guard digit < radix else { return nil }
            let (shifted, o1) = value.multipliedReportingOverflow(by: radix)
            let (next, o2) = negative ? shifted.subtractingReportingOverflow(digit) : shifted.addingReportingOverflow(digit)
            guard !o1, !o2 else { return nil }
            value = next
            i += 1
        }
        return value
    }

    /// A number as `Double(_:)` reads its text; whole numbers of up to 15 digits (what the encoder
    /// writes for most amounts) straight from their bytes, where the conversion is exact.
    static func number(_ bytes: ArraySlice<UInt8>) -> Double? {
        let digits = bytes.first == UInt8(ascii: "-") ? bytes.count - 1 : bytes.count
        if digits > 0, digits <= 15, bytes.allSatisfy({ $0 == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
            let whole = integer(bytes, radix: 10), whole != 0 || bytes.first != UInt8(ascii: "-")
        {
            return Double(whole)
        }
        return Double(String(decoding: bytes, as: UTF8.self))
    }
}

/// Short names for catalog fields inside ledger entries: a field's position among its topic's
/// declared fields, in decimal (`period` of `tax.payment` is written `3`). The positions follow
/// the catalog, so a Redis written under another catalog is cleared and rebuilt (`fingerprint`
/// is part of the store's layout marker).
public struct FieldNames: Sendable {
    struct Topic: Sendable {
        let aliases: [String: String]
        let names: [String]

        func alias(of name: String) -> String? { aliases[name] }
    }

    private let topics: [String: Topic]
    /// Identifies the positions: a hash of every topic's declared field names, in order.
    let fingerprint: String

    public init(catalog: TopicCatalog) {
        var topics: [String: Topic] = [:]
        var parts: [String] = []
        for topic in catalog.topics.values.sorted(by: { $0.name < $1.name }) {
            let names = topic.fields.map(\.name)
            topics[topic.name] = Topic(
                aliases: Dictionary(names.enumerated().map { ($0.element, String($0.offset)) }, uniquingKeysWith: { a, _ in a }), names: names)
            parts.append(topic.name + ":" + names.joined(separator: ","))
        }
        self.topics = topics
        self.fingerprint = ContentHash.of(parts)
    }

    subscript(topic: String) -> Topic? { topics[topic] }

    /// A written field name: a position (all digits) or a name the catalog did not declare.
    static func name(_ bytes: ArraySlice<UInt8>, in topic: Topic?) -> String? {
        guard let first = bytes.first else { return nil }
        guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else { return String(decoding: bytes, as: UTF8.self) }
        var position = 0
        for byte in bytes {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte), position < 1_000_000 else { return nil }
            position = position * 10 + Int(byte - UInt8(ascii: "0"))
        }
        guard let names = topic?.names, position < names.count else { return nil }
        return names[position]
    }
}

/// A contribution of one record to a window bucket: its numeric fields in hundredths (so that
/// sums stay exact integers in Redis and an update or delete subtracts exactly what was added).
struct Contribution {
    /// The decoder keeps decimals within ±9e13 (`ChangeDecoder.decimalLimit`), so hundredths fit
    /// with room to spare; the conversion still never traps (a bound hit yields the bound).
    static func hundredths(_ x: Double) -> Int64 {
        let h = (x * 100).rounded()
        if let exact = Int64(exactly: h) { return exact }
        return h.isNaN ? 0 : (h < 0 ? .min : .max)
    }

    /// A window column as ledger entries and window fields name it: its catalog position (`3` for
    /// `tax.payment.amount`), or its name when the catalog does not declare it.
    static func written(_ column: String, in topic: FieldNames.Topic?) -> String {
        topic?.alias(of: column) ?? column
    }

    /// `3=123450,5=3000` (written column = hundredths) for the numeric fields of `fields` among
    /// `columns` (name and written name), `=` when it has none of them (the record still counts in
    /// its month), and those of them the hundredths give back exactly (the record's copy of them
    /// can be left out).
    static func encode(_ fields: [String: Value], columns: [(name: String, written: String)]) -> (text: String, exact: Set<String>) {
        var parts: [String] = []
        var exact: Set<String> = []
        for column in columns {
            guard case .number(let n)? = fields[column.name] else { continue }
            let h = hundredths(n)
            parts.append("\(column.written)=\(h)")
            if Double(h) / 100 == n { exact.insert(column.name) }
        }
        return (parts.isEmpty ? "=" : parts.joined(separator: ","), exact)
    }

    /// Adds to `fields` the columns of a contribution they lack (left out as `exact`).
    static func restore(_ text: ArraySlice<UInt8>, names: FieldNames.Topic?, into fields: inout [String: Value]) {
        var start = text.startIndex
        while start < text.endIndex {
            let end = text[start...].firstIndex(of: UInt8(ascii: ",")) ?? text.endIndex
            defer { start = end + 1 }
            guard let eq = text[start..<end].firstIndex(of: UInt8(ascii: "=")), let column = FieldNames.name(text[start..<eq], in: names),
                fields[column] == nil, let h = RecordCodec.integer(text[(eq + 1)..<end], radix: 10)
            else { continue }
            fields[column] = .number(Double(h) / 100)
        }
    }

    /// How many columns a contribution names (room to reserve for them).
    static func columns(_ text: ArraySlice<UInt8>) -> Int {
        text.isEmpty ? 0 : text.count { $0 == UInt8(ascii: ",") } + 1
    }
}
