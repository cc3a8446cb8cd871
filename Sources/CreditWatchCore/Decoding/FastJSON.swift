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
        // Feed rows and envelopes have 5–20 members: one table instead of growing through four
        // (`init(minimumCapacity:)`, not `reserveCapacity`, which the profile showed running
        // unspecialized, instantiating generic metadata on every call).
        var members = [String: JSONValue](minimumCapacity: 16)
        try self.members(depth: depth) { parser throws(Failure) in try parser.string() } value: { parser, key, depth throws(Failure) in
            members[key] = try parser.value(depth: depth)
        }
        return .object(members)
    }

    /// The members of the object at `i` (its opening brace): each one's name read by `name` (at its
    /// opening quote), then its value by `value` (given the name and the value's depth).
    private mutating func members<Name>(
        depth: Int, name: (inout FastJSON) throws(Failure) -> Name, value: (inout FastJSON, Name, Int) throws(Failure) -> Void
    ) throws(Failure) {
        guard depth < maxDepth else { throw .tooDeep }
        i += 1
        skipWhitespace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "}") {
            i += 1
            return
        }
        while true {
            guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw .refused }
            let key = try name(&self)
            skipWhitespace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw .refused }
            i += 1
            skipWhitespace()
            try value(&self, key, depth + 1)
            skipWhitespace()
            guard i < bytes.count else { throw .refused }
            if bytes[i] == UInt8(ascii: ",") {
                i += 1
                skipWhitespace()
                continue
            }
            guard bytes[i] == UInt8(ascii: "}") else { throw .refused }
            i += 1
            return
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

/// The decoder's fast path: a change's row parsed straight into the topic's declared fields, by
/// their position, with no dictionary of the row or of the envelope and no string made of a member's
/// name (a name is matched by its bytes). Members no field names are parsed — the whole message
/// must be JSON, as for `parse` — and dropped; a name given twice keeps its last value, as an
/// object's member does.
extension FastJSON {
    /// A Debezium envelope's members the decoder reads; a side is nil unless it is an object, and
    /// of an object `source` only its `ts_ms` is kept.
    struct Envelope {
        var op: JSONValue?, tsMs: JSONValue?, source: JSONValue?
        var before: [JSONValue?]?, after: [JSONValue?]?
    }

    private static let envelopeNames: [[UInt8]] = ["op", "before", "after", "ts_ms", "source"].map { Array($0.utf8) }
    private static let sourceNames: [[UInt8]] = [Array("ts_ms".utf8)]

    /// A message whose top object is the row.
    static func row(_ input: [UInt8], maxDepth: Int, names: [[UInt8]]) throws(Failure) -> [JSONValue?] {
        try whole(input, maxDepth: maxDepth) { parser throws(Failure) in try parser.row(depth: 0, names: names) }
    }

    static func envelope(_ input: [UInt8], maxDepth: Int, names: [[UInt8]]) throws(Failure) -> Envelope {
        try whole(input, maxDepth: maxDepth) { parser throws(Failure) in
            var envelope = Envelope()
            try parser.object(depth: 0, names: envelopeNames) { parser, member, depth throws(Failure) in
                switch member {
                case 0: envelope.op = try parser.value(depth: depth)
                case 1, 2:
                    var side: [JSONValue?]?
                    if parser.atObject {
                        side = try parser.row(depth: depth, names: names)
                    } else {
                        _ = try parser.value(depth: depth)
                    }
                    if member == 1 { envelope.before = side } else { envelope.after = side }
                case 3: envelope.tsMs = try parser.value(depth: depth)
                case 4:
                    // Only its `ts_ms` is read: the rest of the source is checked, not kept.
                    if parser.atObject {
                        var source: [String: JSONValue] = [:]
                        try parser.object(depth: depth, names: sourceNames) { parser, member, depth throws(Failure) in
                            let value = try parser.value(depth: depth)
                            if member != nil { source["ts_ms"] = value }
                        }
                        envelope.source = .object(source)
                    } else {
                        envelope.source = try parser.value(depth: depth)
                    }
                default: _ = try parser.value(depth: depth)
                }
            }
            return envelope
        }
    }

    private static func whole<T>(
        _ input: [UInt8], maxDepth: Int, _ body: (inout FastJSON) throws(Failure) -> T
    ) throws(Failure) -> T {
        let result: Result<T, Failure> = input.withUnsafeBufferPointer { buffer in
            var parser = FastJSON(bytes: buffer, maxDepth: maxDepth)
            do throws(Failure) {
                parser.skipWhitespace()
                let value = try body(&parser)
                parser.skipWhitespace()
                guard parser.i == buffer.count else { return .failure(.refused) }
                return .success(value)
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// Whether an object starts at `i`.
    private var atObject: Bool { i < bytes.count && bytes[i] == UInt8(ascii: "{") }

    private mutating func row(depth: Int, names: [[UInt8]]) throws(Failure) -> [JSONValue?] {
        var slots = [JSONValue?](repeating: nil, count: names.count)
        try object(depth: depth, names: names) { parser, field, depth throws(Failure) in
            let value = try parser.value(depth: depth)
            if let field { slots[field] = value }
        }
        return slots
    }

    /// An object at `i`, each member's value parsed by `member` (given the index of the name it
    /// has among `names`, nil for another, and the depth of its value).
    private mutating func object(
        depth: Int, names: [[UInt8]], _ member: (inout FastJSON, Int?, Int) throws(Failure) -> Void
    ) throws(Failure) {
        guard atObject else { throw .refused }
        var expected = 0  // rows list their columns in one order: the name after the last one first
        try members(depth: depth) { parser throws(Failure) in
            let index = try parser.name(among: names, expected: expected)
            if let index { expected = index + 1 }
            return index
        } value: { parser, index, depth throws(Failure) in
            try member(&parser, index, depth)
        }
    }

    /// The member name at `i` (its opening quote): the index of the one of `names` it is, nil for
    /// none. Plain ASCII is compared byte for byte (trying `expected` first); anything else is made
    /// a string, as `string()` makes it, and its bytes compared: field names are
    /// `[a-z][a-z0-9_]*`, which no other text equals as a string either (canonical equivalence).
    private mutating func name(among names: [[UInt8]], expected: Int) throws(Failure) -> Int? {
        let start = i + 1
        var end = start
        while end < bytes.count, bytes[end] != UInt8(ascii: "\""), bytes[end] != UInt8(ascii: "\\"), bytes[end] >= 0x20, bytes[end] < 0x80 {
            end += 1
        }
        if end < bytes.count, bytes[end] == UInt8(ascii: "\"") {
            let raw = UnsafeBufferPointer(rebasing: bytes[start..<end])
            i = end + 1
            if expected < names.count, names[expected].elementsEqual(raw) { return expected }
            return names.firstIndex { $0.elementsEqual(raw) }
        }
        let text = try string()
        return names.firstIndex { $0.elementsEqual(text.utf8) }
    }
}
