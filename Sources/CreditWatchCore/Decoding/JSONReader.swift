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

struct JSONSyntaxError: Error, Sendable {
    let message: String
}

/// The one place that turns bytes into `JSONValue` (integers as `.integer`, other numbers as
/// `.number`). It uses Foundation's `JSONSerialization` today; a faster parser (yyjson) replaces
/// this function alone.
enum JSONReader {
    static func parse(_ bytes: [UInt8]) throws(JSONSyntaxError) -> JSONValue {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
        } catch {
            let description = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String
            var message = description ?? "unreadable JSON"
            if message.hasSuffix(".") { message.removeLast() }
            throw JSONSyntaxError(message: message)
        }
        return convert(object)
    }

    /// The class `JSONSerialization` uses for `true`/`false` (`__NSCFBoolean` on Linux and Darwin).
    private static let booleanClass = ObjectIdentifier(type(of: NSNumber(value: true)))

    private static let stringType = ObjectIdentifier(String.self)
    private static let objectType = ObjectIdentifier([String: Any].self)
    private static let arrayType = ObjectIdentifier([Any].self)

    /// Exact-type checks come first: a failing dynamic cast (`as? String` on a dictionary) costs
    /// microseconds on Linux, several times the cost of the whole conversion.
    private static func convert(_ object: Any) -> JSONValue {
        let type = ObjectIdentifier(Swift.type(of: object))
        if type == stringType { return .string(object as! String) }
        if type == objectType { return .object((object as! [String: Any]).mapValues(convert)) }
        if let number = object as? NSNumber { return convert(number) }
        if type == arrayType { return .array((object as! [Any]).map(convert)) }
        // Other representations (bridged NSString/NSDictionary/NSArray on Darwin).
        if let string = object as? String { return .string(string) }
        if let dictionary = object as? [String: Any] { return .object(dictionary.mapValues(convert)) }
        if let array = object as? [Any] { return .array(array.map(convert)) }
        return .null
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
