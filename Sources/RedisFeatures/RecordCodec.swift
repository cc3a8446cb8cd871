import CreditWatchCore
import RuleLanguage

/// The compact encoding of a record's typed fields inside a Redis hash value. Field names are
/// catalog identifiers; every value carries a one-letter type tag, and strings are
/// length-prefixed so that no byte of department data can break the framing.
///
///     <name> 0x1F <tag><value> 0x1E ...      tags: z null, b bool(0/1), n number, d day, t ms, s<len>:<bytes>
enum RecordCodec {
    static func encode(_ fields: [String: Value], into out: inout [UInt8]) {
        for name in fields.keys.sorted() {
            out.append(contentsOf: name.utf8)
            out.append(0x1F)
            switch fields[name]! {
            case .null: out.append(UInt8(ascii: "z"))
            case .bool(let b): out.append(contentsOf: b ? Array("b1".utf8) : Array("b0".utf8))
            case .number(let n): out.append(UInt8(ascii: "n")); out.append(contentsOf: "\(n)".utf8)
            case .date(let d): out.append(UInt8(ascii: "d")); out.append(contentsOf: "\(d.value)".utf8)
            case .timestamp(let ms): out.append(UInt8(ascii: "t")); out.append(contentsOf: "\(ms)".utf8)
            case .string(let s):
                let bytes = Array(s.utf8)
                out.append(UInt8(ascii: "s"))
                out.append(contentsOf: "\(bytes.count):".utf8)
                out.append(contentsOf: bytes)
            }
            out.append(0x1E)
        }
    }

    static func decode(_ bytes: ArraySlice<UInt8>) -> [String: Value]? {
        var fields: [String: Value] = [:]
        var i = bytes.startIndex
        while i < bytes.endIndex {
            guard let sep = bytes[i...].firstIndex(of: 0x1F), sep + 1 < bytes.endIndex else { return nil }
            let name = String(decoding: bytes[i..<sep], as: UTF8.self)
            let tag = bytes[sep + 1]
            var j = sep + 2
            let value: Value
            if tag == UInt8(ascii: "s") {
                guard let colon = bytes[j...].firstIndex(of: UInt8(ascii: ":")),
                    let count = Int(String(decoding: bytes[j..<colon], as: UTF8.self)),
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
                case UInt8(ascii: "d"): guard let d = Int(text) else { return nil }; value = .date(Day(d))
                case UInt8(ascii: "t"): guard let t = Int64(text) else { return nil }; value = .timestamp(t)
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

    /// `amount=123450,volume_m3=3000` for the numeric fields of `fields` among `columns`.
    static func encode(_ fields: [String: Value], columns: [String]) -> String {
        var parts: [String] = []
        for column in columns {
            if case .number(let n)? = fields[column] { parts.append("\(column)=\(hundredths(n))") }
        }
        return parts.joined(separator: ",")
    }
}
