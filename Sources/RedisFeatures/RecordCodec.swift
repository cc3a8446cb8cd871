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
    /// Encodes `fields` but those in `omitting` (numbers the ledger entry carries elsewhere).
    static func encode(_ fields: [String: Value], names: FieldNames.Topic?, omitting: Set<String> = [], into out: inout [UInt8]) {
        for name in fields.keys.sorted() where !omitting.contains(name) {
            out.append(contentsOf: (names?.alias(of: name) ?? name).utf8)
            out.append(0x1F)
            switch fields[name]! {
            case .null: out.append(UInt8(ascii: "z"))
            case .bool(let b): out.append(contentsOf: b ? Array("b1".utf8) : Array("b0".utf8))
            case .number(let n):
                out.append(UInt8(ascii: "n"))
                // Exactly representable integers (and not -0) print as integers; Double parses them back the same.
                if n.rounded() == n, abs(n) < 9.0e15, !(n == 0 && n.sign == .minus) {
                    out.append(contentsOf: "\(Int64(n))".utf8)
                } else {
                    out.append(contentsOf: "\(n)".utf8)
                }
            case .date(let d): out.append(UInt8(ascii: "d")); out.append(contentsOf: String(d.value, radix: 36).utf8)
            case .timestamp(let ms): out.append(UInt8(ascii: "t")); out.append(contentsOf: String(ms, radix: 36).utf8)
            case .string(let s) where Self.month(s) != nil:
                out.append(UInt8(ascii: "m"))
                out.append(contentsOf: String(Self.month(s)!.index, radix: 36).utf8)
            case .string(let s):
                let bytes = Array(s.utf8)
                out.append(UInt8(ascii: "s"))
                out.append(contentsOf: "\(bytes.count):".utf8)
                out.append(contentsOf: bytes)
            }
            out.append(0x1E)
        }
    }

    /// The month a string names when it is exactly its `YYYY-MM` (so that it reads back the same).
    static func month(_ s: String) -> Month? {
        guard s.utf8.count == 7, let month = Month(iso: s), month.description == s else { return nil }
        return month
    }

    static func decode(_ bytes: ArraySlice<UInt8>, names: FieldNames.Topic?) -> [String: Value]? {
        var fields: [String: Value] = [:]
        var i = bytes.startIndex
        while i < bytes.endIndex {
            guard let sep = bytes[i...].firstIndex(of: 0x1F), sep + 1 < bytes.endIndex else { return nil }
            guard let name = FieldNames.name(bytes[i..<sep], in: names) else { return nil }
            let tag = bytes[sep + 1]
            var j = sep + 2
            let value: Value
            if tag == UInt8(ascii: "s") {
                guard let colon = bytes[j...].firstIndex(of: UInt8(ascii: ":")),
                    let count = Int(String(decoding: bytes[j..<colon], as: UTF8.self)), count >= 0,
                    colon + 1 + count <= bytes.endIndex
                else { return nil }
                value = .string(String(decoding: bytes[(colon + 1)..<(colon + 1 + count)], as: UTF8.self))
                j = colon + 1 + count
            } else {
                guard let end = bytes[j...].firstIndex(of: 0x1E) else { return nil }
                let text = String(decoding: bytes[j..<end], as: UTF8.self)
                j = end
                switch tag {
                case UInt8(ascii: "z"): value = .null
                case UInt8(ascii: "b"): value = .bool(text == "1")
                case UInt8(ascii: "n"): guard let n = Double(text) else { return nil }; value = .number(n)
                case UInt8(ascii: "d"): guard let d = Int(text, radix: 36) else { return nil }; value = .date(Day(d))
                case UInt8(ascii: "t"): guard let t = Int64(text, radix: 36) else { return nil }; value = .timestamp(t)
                case UInt8(ascii: "m"):
                    guard let index = Int(text, radix: 36), (0..<120_000).contains(index) else { return nil }
                    value = .string(Month(index: index).description)
                default: return nil
                }
            }
            guard j < bytes.endIndex, bytes[j] == 0x1E else { return nil }
            fields[name] = value
            i = j + 1
        }
        return fields
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

    /// `amount=123450,volume_m3=3000` for the numeric fields of `fields` among `columns`, and
    /// those of them the hundredths give back exactly (the record's copy of them can be left out).
    static func encode(_ fields: [String: Value], columns: [String]) -> (text: String, exact: Set<String>) {
        var parts: [String] = []
        var exact: Set<String> = []
        for column in columns {
            guard case .number(let n)? = fields[column] else { continue }
            let h = hundredths(n)
            parts.append("\(column)=\(h)")
            if Double(h) / 100 == n { exact.insert(column) }
        }
        return (parts.joined(separator: ","), exact)
    }

    /// Adds to `fields` the columns of a contribution they lack (left out as `exact`).
    static func restore(_ text: ArraySlice<UInt8>, into fields: inout [String: Value]) {
        for part in text.split(separator: UInt8(ascii: ",")) {
            guard let eq = part.firstIndex(of: UInt8(ascii: "=")) else { continue }
            let column = String(decoding: part[part.startIndex..<eq], as: UTF8.self)
            guard fields[column] == nil, let h = Int64(String(decoding: part[(eq + 1)...], as: UTF8.self)) else { continue }
            fields[column] = .number(Double(h) / 100)
        }
    }
}
