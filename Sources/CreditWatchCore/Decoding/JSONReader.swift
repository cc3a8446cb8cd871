import Foundation

/// How the decoder describes parsed values in rejection reasons.
extension JSONValue {
    /// How a rejection reason names a value: `boolean true`, `number 2.5`, `string 'abc'`, `object`.
    var summary: String {
        switch self {
        case .null: "null"
        case .bool(let b): "boolean \(b)"
        case .integer(let i): "number \(i)"
        case .number(let d): "number \(d)"
        case .string(let s): "string \(JSONValue.quoted(s))"
        case .array: "array"
        case .object: "object"
        }
    }

    /// `'text'`, cut after 40 characters so that a reason stays short.
    static func quoted(_ text: String) -> String {
        text.count <= 40 ? "'\(text)'" : "'\(text.prefix(40))…'"
    }

    /// The value as an exact integer: an integer, or a float without fractional part in range.
    var exactInteger: Int64? {
        switch self {
        case .integer(let i): return i
        case .number(let d):
            guard d.rounded(.towardZero) == d, d >= -9.223_372_036_854_775e18, d < 9.223_372_036_854_775e18 else {
                return nil
            }
            return Int64(d)
        default: return nil
        }
    }
}

extension JSONValue {
    /// JSON the platform wrote itself (a stored record's fields), read on the fast path: integers
    /// come as `.integer`, which `Value(json:type:)` takes as numbers. Nil when it is not JSON.
    public init?(storedJSON text: String) {
        guard let value = try? JSONReader.parse(Array(text.utf8), maxDepth: 256) else { return nil }
        self = value
    }
}

enum JSONReadError: Error, Sendable {
    case syntax(String)
    /// The bytes are not UTF-8: where and why.
    case encoding(String)
    /// Objects and arrays nested deeper than the given limit.
    case tooDeep(Int)
}

/// The one place that turns bytes into `JSONValue` (integers as `.integer`, other numbers as
/// `.number`). `FastJSON` parses what is strictly JSON; anything it refuses goes to Foundation's
/// `JSONSerialization` (which rejects invalid UTF-8, lone surrogates and numbers beyond Double),
/// whose verdict and message stand, so the fast path changes no outcome.
enum JSONReader {
    static func parse(_ bytes: [UInt8], maxDepth: Int) throws(JSONReadError) -> JSONValue {
        do {
            return try FastJSON.parse(bytes, maxDepth: maxDepth)
        } catch .tooDeep {
            throw .tooDeep(maxDepth)
        } catch {
            return try parseWithFoundation(bytes, maxDepth: maxDepth)
        }
    }

    static func parseWithFoundation(_ bytes: [UInt8], maxDepth: Int) throws(JSONReadError) -> JSONValue {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
        } catch {
            // The parser's word on bad UTF-8 and deep nesting is vague; ours names the byte and
            // the limit (looked for only when parsing failed).
            if let problem = UTF8Check.firstProblem(bytes) { throw .encoding(problem) }
            if nestingExceeds(maxDepth, bytes) { throw .tooDeep(maxDepth) }
            let description = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String
            var message = description ?? "unreadable JSON"
            if message.hasSuffix(".") { message.removeLast() }
            throw .syntax(message)
        }
        return try convert(object, depth: 0, maxDepth: maxDepth)
    }

    /// Whether objects and arrays nest deeper than `limit` (brackets inside strings do not count).
    static func nestingExceeds(_ limit: Int, _ bytes: [UInt8]) -> Bool {
        var depth = 0
        var inString = false
        var escaped = false
        for byte in bytes {
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                if depth > limit { return true }
            case UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
            default: break
            }
        }
        return false
    }

    /// The class `JSONSerialization` uses for `true`/`false` (`__NSCFBoolean` on Linux and Darwin).
    private static let booleanClass = ObjectIdentifier(type(of: NSNumber(value: true)))

    private static let stringType = ObjectIdentifier(String.self)
    private static let objectType = ObjectIdentifier([String: Any].self)
    private static let arrayType = ObjectIdentifier([Any].self)

    /// Exact-type checks come first: a failing dynamic cast (`as? String` on a dictionary) costs
    /// microseconds on Linux, several times the cost of the whole conversion. `depth` counts the
    /// objects and arrays around `object`.
    private static func convert(_ object: Any, depth: Int, maxDepth: Int) throws(JSONReadError) -> JSONValue {
        let type = ObjectIdentifier(Swift.type(of: object))
        if type == stringType { return .string(object as! String) }
        if type == objectType { return try convert(object as! [String: Any], depth: depth, maxDepth: maxDepth) }
        if let number = object as? NSNumber { return convert(number) }
        if type == arrayType { return try convert(object as! [Any], depth: depth, maxDepth: maxDepth) }
        // Other representations (bridged NSString/NSDictionary/NSArray on Darwin).
        if let string = object as? String { return .string(string) }
        if let dictionary = object as? [String: Any] { return try convert(dictionary, depth: depth, maxDepth: maxDepth) }
        if let array = object as? [Any] { return try convert(array, depth: depth, maxDepth: maxDepth) }
        return .null
    }

    private static func convert(_ dictionary: [String: Any], depth: Int, maxDepth: Int) throws(JSONReadError) -> JSONValue {
        guard depth < maxDepth else { throw .tooDeep(maxDepth) }
        var members = [String: JSONValue](minimumCapacity: dictionary.count)
        for (key, value) in dictionary { members[key] = try convert(value, depth: depth + 1, maxDepth: maxDepth) }
        return .object(members)
    }

    private static func convert(_ array: [Any], depth: Int, maxDepth: Int) throws(JSONReadError) -> JSONValue {
        guard depth < maxDepth else { throw .tooDeep(maxDepth) }
        var elements: [JSONValue] = []
        elements.reserveCapacity(array.count)
        for value in array { elements.append(try convert(value, depth: depth + 1, maxDepth: maxDepth)) }
        return .array(elements)
    }

    private static func convert(_ number: NSNumber) -> JSONValue {
        if ObjectIdentifier(type(of: number)) == booleanClass { return .bool(number.boolValue) }
        if number is NSDecimalNumber { return .number(number.doubleValue) }
        switch UInt8(bitPattern: number.objCType.pointee) {
        case UInt8(ascii: "d"), UInt8(ascii: "f"):
            return .number(number.doubleValue)
        case UInt8(ascii: "Q"):
            let unsigned = number.uint64Value
            return unsigned <= UInt64(Int64.max) ? .integer(Int64(unsigned)) : .number(number.doubleValue)
        case UInt8(ascii: "c"), UInt8(ascii: "B"):
            return .bool(number.boolValue)
        default:
            return .integer(number.int64Value)
        }
    }
}

/// Where a byte sequence stops being UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing
/// beyond U+10FFFF), said so that a department can find the byte.
enum UTF8Check {
    static func firstProblem(_ bytes: [UInt8]) -> String? {
        var i = 0
        let n = bytes.count
        while i < n {
            let lead = bytes[i]
            if lead < 0x80 {
                i += 1
                continue
            }
            var length = 0
            var second: ClosedRange<UInt8> = 0x80...0xBF
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; second = 0xA0...0xBF
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; second = 0x80...0x9F
            case 0xF0: length = 4; second = 0x90...0xBF
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; second = 0x80...0x8F
            case 0xC0, 0xC1: return "overlong or surrogate encoding at offset \(i)"
            default:
                return "byte 0x\(String(lead, radix: 16, uppercase: true)) at offset \(i) cannot start a character"
            }
            for k in 1..<length {
                guard i + k < n, bytes[i + k] & 0xC0 == 0x80 else { return "the character at offset \(i) is cut short" }
            }
            guard second.contains(bytes[i + 1]) else { return "overlong or surrogate encoding at offset \(i)" }
            i += length
        }
        return nil
    }
}
