import CreditWatchCore
import Foundation
import RuleLanguage
import Testing

@Suite("Stored JSON of field values")
struct JSONValueTests {
    @Test func valuesRenderAsPlainJSON() {
        let object = JSONValue.object([
            "amount": JSONValue(.number(12345.67)),
            "count": JSONValue(.number(1200)),
            "negative": JSONValue(.number(-3)),
            "tiny": JSONValue(.number(0.00001)),
            "paid": JSONValue(.date(Day(iso: "2020-05-31")!)),
            "at": JSONValue(.timestamp(1_590_969_601_234)),
            "ok": JSONValue(.bool(true)),
            "none": JSONValue(.null),
            "name": JSONValue(.string("长沙\"湘江\"\n\u{1}")),
        ])
        #expect(object.text == #"{"amount":12345.67,"at":"2020-06-01T00:00:01.234Z","count":1200,"name":"长沙\"湘江\"\n\u0001","negative":-3,"none":null,"ok":true,"paid":"2020-05-31","tiny":1e-05}"#)
        // A record's fields are written the same way straight from their values (NUL replaced).
        let fields: [String: Value] = [
            "amount": .number(12345.67), "count": .number(1200), "negative": .number(-3), "tiny": .number(0.00001),
            "paid": .date(Day(iso: "2020-05-31")!), "at": .timestamp(1_590_969_601_234), "ok": .bool(true), "none": .null,
            "name": .string("长沙\"湘江\"\n\u{1}"), "inf": .number(.infinity), "Z": .string("a\u{0}b"),
        ]
        #expect(JSONValue.text(of: fields) == #"{"Z":"a\#u{FFFD}b","amount":12345.67,"at":"2020-06-01T00:00:01.234Z","count":1200,"inf":null,"name":"长沙\"湘江\"\n\u0001","negative":-3,"none":null,"ok":true,"paid":"2020-05-31","tiny":1e-05}"#)
        #expect(JSONValue.text(of: fields) == JSONValue.object(fields.mapValues(JSONValue.init)).text)
        #expect(JSONValue.text(of: [:]) == "{}")
        #expect(JSONValue(.number(.nan)) == .null)
        #expect(JSONValue.string("a\u{0}b").text == "\"a\u{FFFD}b\"")
    }

    @Test func storedJSONReadsBackByDeclaredType() {
        #expect(Value(json: .string("2020-05-31"), type: .date) == .date(Day(iso: "2020-05-31")!))
        #expect(Value(json: .string("2020-06-01T00:00:01.234Z"), type: .timestamp) == .timestamp(1_590_969_601_234))
        #expect(Value(json: .string("2020-05-31"), type: .string) == .string("2020-05-31"))
        #expect(Value(json: .string("2020-05-31"), type: nil) == .string("2020-05-31"))
        #expect(Value(json: .number(12.5), type: .decimal) == .number(12.5))
        #expect(Value(json: .string("12.50"), type: .decimal) == .number(12.5))
        #expect(Value(json: .number(1), type: .bool) == .bool(true))
        #expect(Value(json: .null, type: .date) == .null)
        #expect(Value(json: .string("2020-02-30"), type: .date) == nil)
        #expect(Value(json: .array([]), type: nil) == nil)
    }

    @Test func jsonCodableKeepsIntegersIntegral() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let value = JSONValue.object(["a": .number(1200), "b": .number(0.5), "c": .array([.bool(false), .null, .string("x")])])
        let text = String(decoding: try encoder.encode(value), as: UTF8.self)
        #expect(text == #"{"a":1200,"b":0.5,"c":[false,null,"x"]}"#)
        #expect(try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) == value)
    }

    @Test func integersAndControlCharacters() throws {
        #expect(JSONValue.array([.integer(-9_223_372_036_854_775_808), .integer(7), .number(7)]).text
            == "[-9223372036854775808,7,7]")
        #expect(JSONValue.string("\u{8}\u{C}\u{1F}\\").text == #""\b\f\u001f\\""#)
        #expect(Value(json: .integer(1), type: .bool) == .bool(true))
        #expect(Value(json: .integer(42), type: .int) == .number(42))
        #expect(Value(json: .integer(42), type: nil) == .number(42))
        let text = String(decoding: try JSONEncoder().encode(JSONValue.integer(9_007_199_254_740_993)), as: UTF8.self)
        #expect(text == "9007199254740993")
    }
}
