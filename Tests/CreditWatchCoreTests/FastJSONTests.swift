import Foundation
import Testing

@testable import CreditWatchCore

/// The decoder's fast JSON path against Foundation's `JSONSerialization`: whatever the fast parser
/// accepts, Foundation accepts with the same value, so the fast path changes no outcome.
@Suite("Decoding: fast JSON")
struct FastJSONTests {
    static func agree(_ bytes: [UInt8], _ name: String) -> Bool {
        guard let fast = try? FastJSON.parse(bytes, maxDepth: 32) else { return false }
        let slow = try? JSONReader.parseWithFoundation(bytes, maxDepth: 32)
        #expect(slow.map { same(fast, $0) } == true, "\(name): \(String(decoding: bytes, as: UTF8.self))")
        return true
    }

    /// Equal, numbers within an ulp (Foundation's parser can be one off; ours rounds correctly).
    static func same(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case (.number(let x), .number(let y)): return x == y || abs(x - y) <= max(x.ulp, y.ulp)
        case (.array(let x), .array(let y)): return x.count == y.count && zip(x, y).allSatisfy(same)
        case (.object(let x), .object(let y)):
            return x.keys.sorted() == y.keys.sorted() && x.allSatisfy { key, value in same(value, y[key]!) }
        default: return a == b
        }
    }

    @Test func valuesAreFoundationsValues() throws {
        let accepted = [
            "{}", "[]", "0", "-0", "1", "-1", "9223372036854775807", "-9223372036854775808", "9223372036854775808",
            "18446744073709551616", "1.5", "-0.0", "1e2", "1E+2", "2.5e-3", "1e308", "0.000000000000000000001", "true",
            "false", "null", #""""#, #""a\"b\\c\/d\b\f\n\r\t""#, #""\u00e9\u4e2d\uD83D\uDE00""#, #""长沙 — ok""#,
            " \t\n{ \"a\" : [ 1 , 2 , { \"b\" : null } ] , \"a\" : 3 }\r\n",
            #"{"op":"c","ts_ms":1717113600000,"after":{"amount":"12345.67","period":"2024-05"}}"#,
        ]
        for text in accepted {
            #expect(Self.agree(Array(text.utf8), "accepted"), "the fast path refused \(text)")
        }
        // Refused here: Foundation decides (and names the problem).
        let refused = [
            "", " ", "01", "1.", ".5", "+1", "-", "1e", "1e+", "NaN", "Infinity", "1e999", "-1e999", "tru", "nul",
            "{", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "[1 2]", "\"abc", "\"\\x\"", "\"\\u12\"", #""\ud800""#,
            #""\udc00""#, #""\ud800\u0041""#, "\"a\u{01}b\"", "{} x", "[] []",
        ]
        for text in refused {
            #expect(throws: FastJSON.Failure.self, "\(text)") { try FastJSON.parse(Array(text.utf8), maxDepth: 32) }
        }
        #expect(throws: FastJSON.Failure.self) { try FastJSON.parse([0x22, 0xC0, 0xAF, 0x22], maxDepth: 32) }  // overlong
        #expect(throws: FastJSON.Failure.self) { try FastJSON.parse([0x22, 0xED, 0xA0, 0x80, 0x22], maxDepth: 32) }  // surrogate
        #expect(throws: FastJSON.Failure.tooDeep) { try FastJSON.parse(Array("[[[1]]]".utf8), maxDepth: 2) }
        #expect(try FastJSON.parse(Array("[[1]]".utf8), maxDepth: 2) == .array([.array([.integer(1)])]))
    }

    @Test func mutatedEnvelopesOfEveryShippedTopicAgree() {
        var rng = SplitMix64(seed: 20_261_203)
        var fast = 0
        var total = 0
        for definition in Shipped.catalog.topics.values.sorted(by: { $0.name < $1.name }) {
            let seed = Array(DecoderFuzzTests.seed(definition).utf8)
            #expect(Self.agree(seed, definition.name), "the fast path refused a valid \(definition.name) envelope")
            for round in 0..<400 {
                var bytes = seed
                for _ in 0...(round % 4) { bytes = DecoderFuzzTests.mutate(bytes, &rng) }
                total += 1
                if Self.agree(bytes, definition.name) { fast += 1 }
            }
        }
        // Many mutations stay JSON; the fast path takes them (the rest is Foundation's to judge).
        #expect(fast > total / 5, "\(fast) of \(total)")
    }
}
