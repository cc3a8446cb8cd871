import Foundation
import RuleLanguage
import Testing

@testable import PostgresStore

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

    @Test func base64() {
        #expect(Base64.encode([]) == "")
        #expect(Base64.encode(Array("f".utf8)) == "Zg==")
        #expect(Base64.encode(Array("fo".utf8)) == "Zm8=")
        #expect(Base64.encode(Array("foobar".utf8)) == "Zm9vYmFy")
        #expect(Base64.encode([0xFF, 0xFE, 0x00]) == "//4A")
    }

    @Test func configurationFromEnvironment() {
        let defaults = PostgresStore.Configuration(environment: [:])
        #expect(defaults == PostgresStore.Configuration(
            host: "127.0.0.1", port: 15432, username: "creditwatch", password: "creditwatch", database: "creditwatch",
            maximumConnections: 8, schema: nil))
        let custom = PostgresStore.Configuration(environment: [
            "CREDITWATCH_PG_HOST": "db", "CREDITWATCH_PG_PORT": "5432", "CREDITWATCH_PG_USER": "u",
            "CREDITWATCH_PG_PASSWORD": "secret", "CREDITWATCH_PG_DATABASE": "d", "CREDITWATCH_PG_MAX_CONNECTIONS": "3",
            "CREDITWATCH_PG_SCHEMA": "s",
        ])
        #expect(custom == PostgresStore.Configuration(
            host: "db", port: 5432, username: "u", password: "secret", database: "d", maximumConnections: 3, schema: "s"))
        #expect(custom.description == "u@db:5432/d schema s")
        #expect(PostgresStore.Configuration(environment: ["CREDITWATCH_PG_PORT": "x"]).port == 15432)
    }
}
