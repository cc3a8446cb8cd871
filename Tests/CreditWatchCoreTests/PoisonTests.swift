import CreditWatchCore
import RuleLanguage
import Testing

/// Values that would break the stores or the daemon are rejected where they are decoded, each
/// with the precise reason (issue: one dirty number stopped the city's alerting).
@Suite("Decoding: poison input")
struct PoisonTests {
    @Test(
        "decimals beyond what the store keeps exactly to the fen",
        arguments: [
            ("1e17", "number 1e+17"), ("-1e17", "number -1e+17"), (#""100000000000000""#, "string '100000000000000'"),
            ("123456789012345678901234567890", "number 1.2345678901234568e+29"),
            ("9223372036854775807", "number 9223372036854775807"),
        ])
    func decimalOverflow(value: String, summary: String) {
        #expect(
            rejection("tax.payment", Message.with(Message.payment, ["amount": value]))
                == "field 'amount': \(summary) is outside ±90000000000000, the range kept exact to 0.01")
    }

    @Test("the largest decimals kept are accepted exactly")
    func decimalBound() throws {
        let change = try decodeRow("tax.payment", Message.with(Message.payment, ["amount": "-90000000000000"]))
        #expect(change.fields["amount"] == .number(-90_000_000_000_000))
        let text = try decodeRow("tax.payment", Message.with(Message.payment, ["amount": #""89999999999999.99""#]))
        #expect(text.fields["amount"] == .number(89_999_999_999_999.99))
    }

    @Test("numbers beyond Double, NaN and Infinity are not JSON numbers")
    func notRepresentable() {
        #expect(
            rejection("tax.payment", Message.with(Message.payment, ["amount": "1e999"]))
                == "not JSON: Number 1e999 is not representable in Swift")
        for literal in ["NaN", "-Infinity"] {
            let json = Message.debezium(after: Message.object(Message.with(Message.payment, ["amount": literal])))
            // The parser points at the first letter (after a sign).
            let letter = String(literal.drop { $0 == "-" })
            let at = json.split(separator: letter, maxSplits: 1)[0].utf8.count
            #expect(decode("tax.payment", json) == .rejected(reason: "not JSON: Invalid value around character \(at)"))
        }
    }

    @Test("integers beyond 2^53")
    func integerOverflow() {
        #expect(
            rejection("hrss.insurance", Message.with(Message.insurance, ["insured_count": "9007199254740993"]))
                == "field 'insured_count': number 9007199254740993 is outside ±9007199254740992, the integers kept exactly")
        #expect(
            rejection("hrss.insurance", Message.with(Message.insurance, ["insured_count": "1e300"]))
                == "field 'insured_count': expected int, got number 1e+300")
    }

    @Test("a 1 MiB message and a 1 MiB field")
    func oversized() {
        let huge = String(repeating: "长", count: 349_526)  // 1 MiB of UTF-8
        let json = Message.debezium(after: Message.object(Message.with(Message.payment, ["name": "\"\(huge)\""])))
        #expect(
            decode("tax.payment", json)
                == .rejected(reason: "message is \(json.utf8.count) bytes, over the limit of 262144 (limits.max_message_bytes)"))
        let field = String(repeating: "x", count: 8193)
        #expect(
            rejection("tax.payment", Message.with(Message.payment, ["name": "\"\(field)\""]))
                == "field 'name': 8193 bytes, over the limit of 8192 (limits.max_field_bytes)")
    }

    @Test("a 10 KiB message key and a 10 KiB primary key")
    func longKeys() {
        let key = String(repeating: "k", count: 10_240)
        #expect(
            decode("tax.payment", Message.debezium(after: Message.object(Message.payment)), key: key)
                == .rejected(reason: "message key is 10240 bytes, over the limit of 512 (limits.max_key_bytes)"))
        #expect(
            rejection("tax.payment", Message.with(Message.payment, ["id": "\"\(String(key.prefix(600)))\""]))
                == "primary key is 600 bytes, over the limit of 512 (limits.max_key_bytes)")
    }

    @Test("deeply nested JSON, in an ignored column or as the whole message")
    func deepNesting() {
        let nested = String(repeating: "[", count: 40) + String(repeating: "]", count: 40)
        #expect(
            rejection("tax.payment", Message.with(Message.payment, ["extra": nested]))
                == "JSON nested deeper than 16 levels (limits.max_depth)")
        let deeper = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(decode("tax.payment", deeper) == .rejected(reason: "JSON nested deeper than 16 levels (limits.max_depth)"))
    }

    @Test("invalid UTF-8 and U+0000")
    func badText() {
        let json = Array(Message.debezium(after: Message.object(Message.payment)).utf8)
        let at = json.firstIndex(of: "福".utf8.first!)!
        var stray = json
        stray[at] = 0xFF
        #expect(
            Shipped.decoder.decode(topic: "tax.payment", key: nil, value: stray)
                == .rejected(reason: "not UTF-8: byte 0xFF at offset \(at) cannot start a character"))
        var cut = json
        cut[at + 1] = 0x41  // "福" is E7 A6 8F: the second byte is no continuation byte
        #expect(
            Shipped.decoder.decode(topic: "tax.payment", key: nil, value: cut)
                == .rejected(reason: "not UTF-8: the character at offset \(at) is cut short"))
        var overlong = json
        overlong.replaceSubrange(at..<(at + 3), with: [0xE0, 0x80, 0xAF])  // "/" in three bytes
        #expect(
            Shipped.decoder.decode(topic: "tax.payment", key: nil, value: overlong)
                == .rejected(reason: "not UTF-8: overlong or surrogate encoding at offset \(at)"))
        #expect(
            rejection("tax.payment", Message.with(Message.payment, ["name": #""福州\u0000公司""#]))
                == "field 'name': contains U+0000 at byte 6, which the store cannot hold")
    }

    @Test("limits from the catalog: per topic and per field")
    func catalogLimits() throws {
        let catalog = try TopicCatalog.parse([
            ("topics/t.yaml", Self.topic(field: "{ name: note, type: string, max_bytes: 4 }",
                limits: "{ max_message_bytes: 200, max_key_bytes: 3, max_depth: 1 }"))
        ])
        #expect(catalog.topics["t.small"]?.limits == MessageLimits(messageBytes: 200, keyBytes: 3, fieldBytes: 8192, depth: 1))
        let decoder = ChangeDecoder(catalog: catalog)
        func outcome(_ json: String) -> DecodeOutcome {
            decoder.decode(topic: "t.small", key: nil, value: Array(json.utf8))
        }
        let good = #"{"id": "a1", "note": "ok", "day": "2024-01-02", "uscc": "91350100M000100Y43"}"#
        guard case .change = outcome(good) else {
            Issue.record("expected a change, got \(outcome(good))")
            return
        }
        #expect(
            outcome(#"{"id": "a1", "note": "12345", "day": "2024-01-02", "uscc": "91350100M000100Y43"}"#)
                == .rejected(reason: "field 'note': 5 bytes, over the limit of 4 (max_bytes)"))
        #expect(
            outcome(#"{"id": "abcd", "note": "x", "day": "2024-01-02", "uscc": "91350100M000100Y43"}"#)
                == .rejected(reason: "primary key is 4 bytes, over the limit of 3 (limits.max_key_bytes)"))
        #expect(
            outcome(#"{"id": "a1", "x": [1], "day": "2024-01-02", "uscc": "91350100M000100Y43"}"#)
                == .rejected(reason: "JSON nested deeper than 1 levels (limits.max_depth)"))
        #expect(
            outcome(good + String(repeating: " ", count: 200))
                == .rejected(reason: "message is \(good.utf8.count + 200) bytes, over the limit of 200 (limits.max_message_bytes)"))
    }

    @Test("bad limits are catalog errors with positions")
    func badLimits() {
        let text = Self.topic(field: "{ name: n, type: int, max_bytes: 4 }", limits: "{ max_message_bytes: 0, max_rows: 3 }")
        #expect(throws: CatalogError.self) { try TopicCatalog.parse([("topics/t.yaml", text)]) }
        do {
            _ = try TopicCatalog.parse([("topics/t.yaml", text)])
        } catch {
            #expect(
                error.problems.map(\.description) == [
                    "topics/t.yaml:7:38: field 'n': 'max_bytes' requires type string, not int",
                    "topics/t.yaml:14:30: limits: max_message_bytes must be a positive integer",
                    "topics/t.yaml:14:33: limits: unknown key 'max_rows'",
                ])
        }
    }

    /// A small plain topic with one extra field (line 7) and the given limits (line 14).
    static func topic(field: String, limits: String) -> String {
        """
        name: t.small
        department: 测试
        description: limits
        envelope: plain
        fields:
          - { name: id, type: string }
          - \(field)
          - { name: day, type: date }
          - { name: uscc, type: uscc }
        primary_key: [id]
        event_time: day
        entity: { kind: enterprise, field: uscc }
        cadence: { expected: event, max_silence_days: 30 }
        limits: \(limits)
        """
    }
}
