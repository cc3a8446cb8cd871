/// A strict RFC 8259 parser from UTF-8 bytes straight to `JSONValue`: the decoder's hot path.
///
/// Foundation's `JSONSerialization` builds `Any` trees of bridged objects that then need dynamic
/// casts; this parser does neither (measured: it was a third of the daemon's CPU). It accepts a
/// subset of what `JSONSerialization` accepts — strict grammar, valid UTF-8 in strings, no lone
/// surrogates, finite numbers — and gives the same values (numbers correctly rounded, where
/// Foundation's can be an ulp off: `0.000000000000000000001`); whatever it refuses, `JSONReader`
/// hands to `JSONSerialization`, whose verdict (and error message) stands.
struct FastJSON {
    enum Failure: Error { case refused, tooDeep }

    private let bytes: UnsafeBufferPointer<UInt8>
    private var i = 0
    private let maxDepth: Int

    static func parse(_ input: [UInt8], maxDepth: Int) throws(Failure) -> JSONValue {
        let result: Result<JSONValue, Failure> = input.withUnsafeBufferPointer { buffer in
            var parser = FastJSON(bytes: buffer, maxDepth: maxDepth)
            do {
                parser.skipWhitespace()
                let value = try parser.value(depth: 0)
                parser.skipWhitespace()
                guard parser.i == buffer.count else { return .failure(.refused) }
                return .success(value)
            } catch let failure as Failure {
                return .failure(failure)
            } catch {
                return .failure(.refused)
            }
        }
        return try result.get()
    }

    private init(bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    private mutating func skipWhitespace() {
        while i < bytes.count {
            switch bytes[i] {
            case 0x20, 0x0A, 0x0D, 0x09: i += 1
            default: return
            }
        }
    }

    private mutating func value(depth: Int) throws(Failure) -> JSONValue {
        guard i < bytes.count else { throw .refused }
        switch bytes[i] {
        case UInt8(ascii: "{"): return try object(depth: depth)
        case UInt8(ascii: "["): return try array(depth: depth)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        default: return try number()
        }
    }

    private mutating func literal(_ word: StaticString) throws(Failure) {
        let count = word.utf8CodeUnitCount
        guard bytes.count - i >= count else { throw .refused }
        let text = word.utf8Start
        for k in 0..<count where bytes[i + k] != text[k] { throw .refused }
        i += count
    }

    private mutating func object(depth: Int) throws(Failure) -> JSONValue {
        guard depth < maxDepth else { throw .tooDeep }
        i += 1
        skipWhitespace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "}") {
            i += 1
            return .object([:])
        }
        // Feed rows and envelopes have 5–20 members: one table instead of growing through four
        // (`init(minimumCapacity:)`, not `reserveCapacity`, which the profile showed running
        // unspecialized, instantiating generic metadata on every call).
        var members = [String: JSONValue](minimumCapacity: 16)
        while true {
            guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw .refused }
            let key = try string()
            skipWhitespace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw .refused }
            i += 1
            skipWhitespace()
            members[key] = try value(depth: depth + 1)
            skipWhitespace()
            guard i < bytes.count else { throw .refused }
            if bytes[i] == UInt8(ascii: ",") {
                i += 1
                skipWhitespace()
                continue
            }
            guard bytes[i] == UInt8(ascii: "}") else { throw .refused }
            i += 1
            return .object(members)
        }
    }

    private mutating func array(depth: Int) throws(Failure) -> JSONValue {
        guard depth < maxDepth else { throw .tooDeep }
        i += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "]") {
            i += 1
            return .array(elements)
        }
        while true {
            elements.append(try value(depth: depth + 1))
            skipWhitespace()
            guard i < bytes.count else { throw .refused }
            if bytes[i] == UInt8(ascii: ",") {
                i += 1
                skipWhitespace()
                continue
            }
            guard bytes[i] == UInt8(ascii: "]") else { throw .refused }
            i += 1
            return .array(elements)
        }
    }

    /// A string at `i` (its opening quote). Without escapes it is one validated slice.
    private mutating func string() throws(Failure) -> String {
        i += 1
        let start = i
        var seen: UInt8 = 0  // every byte or-ed: below 0x80 means ASCII
        while i < bytes.count {
            let byte = bytes[i]
            if byte == UInt8(ascii: "\"") {
                defer { i += 1 }
                return try text(start..<i, ascii: seen < 0x80)
            }
            if byte == UInt8(ascii: "\\") { return try escapedString(from: start) }
            guard byte >= 0x20 else { throw .refused }
            seen |= byte
            i += 1
        }
        throw .refused
    }

    /// ASCII (keys, codes, numbers, dates: most strings) is valid UTF-8 as it is, and
    /// `String(decoding:)` takes it without `String(validating:)`'s unspecialised generic path
    /// (measured: 6 % of the daemon's CPU in a backfill).
    private func text(_ range: Range<Int>, ascii: Bool) throws(Failure) -> String {
        let slice = UnsafeBufferPointer(rebasing: bytes[range])
        if ascii { return String(decoding: slice, as: UTF8.self) }
        guard let text = String(validating: slice, as: UTF8.self) else { throw .refused }
        return text
    }

    private mutating func escapedString(from start: Int) throws(Failure) -> String {
        var utf8: [UInt8] = Array(bytes[start..<i])
        while i < bytes.count {
            let byte = bytes[i]
            if byte == UInt8(ascii: "\"") {
                i += 1
                guard let text = String(validating: utf8, as: UTF8.self) else { throw .refused }
                return text
            }
            guard byte >= 0x20 else { throw .refused }
            guard byte == UInt8(ascii: "\\") else {
                utf8.append(byte)
                i += 1
                continue
            }
            guard i + 1 < bytes.count else { throw .refused }
            i += 2
            switch bytes[i - 1] {
            case UInt8(ascii: "\""): utf8.append(UInt8(ascii: "\""))
            case UInt8(ascii: "\\"): utf8.append(UInt8(ascii: "\\"))
            case UInt8(ascii: "/"): utf8.append(UInt8(ascii: "/"))
            case UInt8(ascii: "b"): utf8.append(0x08)
            case UInt8(ascii: "f"): utf8.append(0x0C)
            case UInt8(ascii: "n"): utf8.append(0x0A)
            case UInt8(ascii: "r"): utf8.append(0x0D)
            case UInt8(ascii: "t"): utf8.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800...0xDBFF).contains(scalar) {
                    // A high surrogate must be followed by an escaped low one.
                    guard bytes.count - i >= 6, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else { throw .refused }
                    i += 2
                    let low = try hex4()
                    guard (0xDC00...0xDFFF).contains(low) else { throw .refused }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(scalar) {
                    throw .refused
                }
                guard let unicode = Unicode.Scalar(scalar) else { throw .refused }
                utf8.append(contentsOf: UTF8.encode(unicode)!)
            default:
                throw .refused
            }
        }
        throw .refused
    }

    private mutating func hex4() throws(Failure) -> UInt32 {
        guard bytes.count - i >= 4 else { throw .refused }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[i]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw .refused
            }
            value = value << 4 | UInt32(digit)
            i += 1
        }
        return value
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`: an integer that fits Int64 is
    /// `.integer`, anything else a finite `.number`.
    private mutating func number() throws(Failure) -> JSONValue {
        let start = i
        if bytes[i] == UInt8(ascii: "-") { i += 1 }
        guard i < bytes.count else { throw .refused }
        if bytes[i] == UInt8(ascii: "0") {
            i += 1
        } else if (UInt8(ascii: "1")...UInt8(ascii: "9")).contains(bytes[i]) {
            while i < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[i]) { i += 1 }
        } else {
            throw .refused
        }
        var integral = true
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            integral = false
            i += 1
            try digits()
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            integral = false
            i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            try digits()
        }
        if integral, let integer = integer(start..<i) { return .integer(integer) }
        let text = try text(start..<i, ascii: true)
        // As Foundation: a negative integer beyond -Int64.max is a Double.
        if integral, let integer = Int64(text), integer != .min { return .integer(integer) }
        guard let double = Double(text), double.isFinite else { throw .refused }
        return .number(double)
    }

    /// A well-formed integer literal of up to 18 digits, without making a `String` of it (longer
    /// ones take the general path).
    private func integer(_ range: Range<Int>) -> Int64? {
        var k = range.lowerBound
        let negative = bytes[k] == UInt8(ascii: "-")
        if negative { k += 1 }
        guard range.upperBound - k <= 18 else { return nil }
        var value: Int64 = 0
        while k < range.upperBound {
            value = value * 10 + Int64(bytes[k] - UInt8(ascii: "0"))
            k += 1
        }
        return negative ? -value : value
    }

    private mutating func digits() throws(Failure) {
        let start = i
        while i < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[i]) { i += 1 }
        guard i > start else { throw .refused }
    }
}
