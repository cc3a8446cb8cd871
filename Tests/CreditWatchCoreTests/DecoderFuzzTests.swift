import RuleLanguage
import Testing

@testable import CreditWatchCore

/// Fuzzing the decoder with random and mutated envelopes of every shipped topic: whatever the
/// bytes, it returns (no trap, no hang), every rejection has a reason, the same bytes give the same
/// outcome, and every accepted change holds only what the stores can keep.
@Suite("Decoding: fuzz")
struct DecoderFuzzTests {
    /// A valid row of `topic` built from its catalog definition alone.
    static func seedRow(_ definition: TopicDefinition) -> String {
        let fields = definition.fields.map { field -> String in
            let value: String
            switch field.type {
            case .string:
                if let first = field.values?.first {
                    value = "\"\(first)\""
                } else {
                    switch field.format {
                    case .period?: value = #""2024-05""#
                    case .industryCode?: value = #""C3011""#
                    case .districtCode?: value = #""350102""#
                    case nil: value = #""91350100M000100Y43""#  // also valid where a USCC or an ID is expected
                    }
                }
            case .uscc: value = #""91350100M000100Y43""#
            case .idNumber: value = #""11010519491231002X""#
            case .date: value = #""2024-05-31""#
            case .timestamp: value = "1717113600000"
            case .decimal: value = #""12345.67""#
            case .int: value = "42"
            case .bool: value = "false"
            }
            return "\"\(field.name)\": \(value)"
        }
        return "{" + fields.joined(separator: ", ") + "}"
    }

    static func seed(_ definition: TopicDefinition) -> String {
        let row = seedRow(definition)
        return definition.envelope == .plain ? row : Message.debezium(after: row)
    }

    /// Values that have broken or could break a store or the daemon.
    static let poison = [
        "1e17", "-1e17", "1e308", "1e999", "-0", "NaN", "Infinity", "9223372036854775808", "-9223372036854775809",
        "18446744073709551616", "0.000000000000000000001", #""1e17""#, #""-""#, #""""#, "null", "true", "[]", "{}",
        #""\u0000""#, #""\ud800""#, #""\uDFFF\uD800""#, "[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]",
        "\"" + String(repeating: "长", count: 5000) + "\"", #""2024-13-45""#, "-99999999999", #""9999-12-31""#,
        #""0000-01-01""#, "2932897", "-719163", "253402300800000", #""\t \n""#, #""NULL""#,
    ]

    static func mutate(_ text: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        var bytes = text
        guard !bytes.isEmpty else { return [UInt8(truncatingIfNeeded: rng.next())] }
        switch rng.next() % 8 {
        case 0:  // replace a JSON value (after a colon) with poison
            let colons = bytes.indices.filter { bytes[$0] == UInt8(ascii: ":") }
            guard let colon = colons.randomElement(using: &rng) else { return bytes }
            var end = colon + 1
            var depth = 0
            var inString = false
            while end < bytes.count {
                let b = bytes[end]
                if inString {
                    if b == UInt8(ascii: "\\") { end += 1 } else if b == UInt8(ascii: "\"") { inString = false }
                } else if b == UInt8(ascii: "\"") {
                    inString = true
                } else if b == UInt8(ascii: "{") || b == UInt8(ascii: "[") {
                    depth += 1
                } else if b == UInt8(ascii: "}") || b == UInt8(ascii: "]") {
                    if depth == 0 { break }
                    depth -= 1
                } else if b == UInt8(ascii: ","), depth == 0 {
                    break
                }
                end += 1
            }
            bytes.replaceSubrange((colon + 1)..<min(end, bytes.count), with: Array(" \(poison.randomElement(using: &rng)!)".utf8))
        case 1:  // delete a span
            let start = Int(rng.next() % UInt64(bytes.count))
            bytes.removeSubrange(start..<min(bytes.count, start + 1 + Int(rng.next() % 12)))
        case 2:  // insert random bytes
            let at = Int(rng.next() % UInt64(bytes.count + 1))
            bytes.insert(contentsOf: (0..<(1 + rng.next() % 6)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, at: at)
        case 3:  // flip one byte
            let at = Int(rng.next() % UInt64(bytes.count))
            bytes[at] ^= UInt8(truncatingIfNeeded: 1 << (rng.next() % 8))
        case 4:  // truncate
            bytes = Array(bytes.prefix(Int(rng.next() % UInt64(bytes.count))))
        case 5:  // duplicate a span
            let start = Int(rng.next() % UInt64(bytes.count))
            let span = bytes[start..<min(bytes.count, start + 1 + Int(rng.next() % 40))]
            bytes.insert(contentsOf: span, at: Int(rng.next() % UInt64(bytes.count)))
        case 6:  // another operation
            let ops = [#""op": "c""#, #""op": "d""#, #""op": "u""#, #""op": "x""#, #""op": 1"#, #""op": null"#]
            var text = String(decoding: bytes, as: UTF8.self)
            if let range = text.range(of: #""op": "c""#) { text.replaceSubrange(range, with: ops.randomElement(using: &rng)!) }
            bytes = Array(text.utf8)
        default:  // wrap in arrays
            let depth = Int(rng.next() % 30)
            bytes = Array(repeating: UInt8(ascii: "["), count: depth) + bytes + Array(repeating: UInt8(ascii: "]"), count: depth)
        }
        return bytes
    }

    @Test("every shipped topic's seed row decodes")
    func seedsDecode() {
        for definition in Shipped.catalog.topics.values {
            let outcome = Shipped.decoder.decode(topic: definition.name, key: nil, value: Array(Self.seed(definition).utf8))
            guard case .change = outcome else {
                Issue.record("\(definition.name): \(outcome)")
                continue
            }
        }
    }

    @Test("mutated envelopes of every shipped topic, and random bytes")
    func fuzz() {
        var rng = SplitMix64(seed: 20_261_202)
        var accepted = 0
        var rejected = 0
        var tombstones = 0
        let topics = Shipped.catalog.topics.values.sorted { $0.name < $1.name }
        for definition in topics {
            let seed = Array(Self.seed(definition).utf8)
            for round in 0..<600 {
                var bytes = seed
                for _ in 0...(round % 4) { bytes = Self.mutate(bytes, &rng) }
                check(definition, bytes, &accepted, &rejected, &tombstones)
            }
            for _ in 0..<100 {
                let bytes = (0..<(rng.next() % 300)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                check(definition, bytes, &accepted, &rejected, &tombstones)
            }
        }
        // Every outcome is exercised; the numbers pin the generator (a change to it shows here).
        #expect(accepted + rejected + tombstones == topics.count * 700)
        #expect(accepted == 535)
        #expect(tombstones == 15)
    }

    /// What the fast path must read as the general path does: a declared name written with
    /// escapes, names outside ASCII, a name given twice (the last wins), members in another order
    /// and unknown ones, both sides of an envelope, a side given twice, the version from `ts_ms`,
    /// `source` or neither, nesting at the limit and past it — each decoded both ways, the fast
    /// path required to give the change where one is expected, and its values pinned.
    @Test("the fast path reads rows as the general path does")
    func fastPathAsGeneralPath() throws {
        let payment = #"{"id": "SK1", "uscc": "91350100M000100Y43", "name": "某某公司", "tax_type": "增值税", "period": "2024-05", "amount": 12.5, "paid_date": "2024-05-31"}"#
        /// Arrays nested `levels` deep: in a row (at depth 1 of its envelope) 14 are the most the
        /// default limit of 16 takes.
        func nested(_ levels: Int) -> String { String(repeating: "[", count: levels) + "1" + String(repeating: "]", count: levels) }
        let cases: [(topic: String, message: String)] = [
            ("tax.payment", Message.debezium(after: payment)),
            ("tax.payment", Message.debezium(after: #"{"id": "SK1", "uscc": "91350100M000100Y43", "name": "x", "tax_type": "t", "period": "2024-05", "amount": 7, "amount": 9, "paid_date": "2024-05-31", "备注": "无", "extra": {"a": [1, 2]}}"#)),
            ("tax.payment", Message.debezium(after: #"{"paid_date": "2024-05-31", "amount": "3.25", "period": "2024-05", "tax_type": "t", "name": "x", "uscc": "91350100m000100y43", "id": "SK2"}"#)),
            ("tax.payment", #"{"op": "d", "before": "#  + payment + #", "after": null, "source": {"ts_ms": 1717113600123}}"#),
            ("tax.payment", #"{"op": "u", "after": "# + payment + #", "after": null, "ts_ms": 5}"#),
            ("tax.payment", #"{"after": "# + payment + #", "op": "c", "ts_ms": null, "source": {"ts_ms": 77}, "ts_ms": 1}"#),
            ("tax.payment", #"{"after": "# + payment + #", "op": "c", "op": "r"}"#),
            ("tax.payment", #"{"after": "# + payment + #", "op": "c", "ts_ms": 1.5}"#),
            ("tax.payment", #"{"after": "# + payment.replacingOccurrences(of: "12.5", with: "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]") + #", "op": "c"}"#),
            ("tax.payment", #"{"after": "# + payment + #", "op": "c", "op": "x"}"#),
            ("tax.payment", #"{"after": "# + payment + #", "op": "c"} "#),
            ("tax.payment", #"{"after": "# + payment + #", "op": "c"}}"#),
            ("finance.loan", #"{"loan_no": "L1", "uscc": "91350100M000100Y43", "bank": "b", "principal": 100, "outstanding": 50.5, "disbursed_date": "2024-01-02", "maturity_date": "2025-01-02", "status": "正常", "days_past_due": 0, "bucket": "current", "as_of": "2024-06-01", "version": 3, "version": 4}"#),
            ("finance.loan", #"{"loan_no": "L1", "uscc": "91350100M000100Y43"}"#),
            ("tax.payment", Message.debezium(after: payment.replacingOccurrences(of: #""amount""#, with: #""am\u006fu\u006et""#))),
            ("tax.payment", #"{"op": "c", "after": "# + payment.replacingOccurrences(of: "}", with: #", "deep": "# + nested(14) + "}") + "}"),
            ("tax.payment", #"{"op": "c", "after": "# + payment.replacingOccurrences(of: "}", with: #", "deep": "# + nested(15) + "}") + "}"),
            ("tax.payment", #"{"op": "c", "after": "# + payment + "}"),
        ]
        for (topic, message) in cases {
            let bytes = Array(message.utf8)
            #expect(Shipped.decoder.decode(topic: topic, key: nil, value: bytes) == Shipped.decoder.decode(topic: topic, key: nil, value: bytes, fast: false), "\(message)")
        }
        func change(_ index: Int) -> Change? {
            guard case .change(let change) = Shipped.decoder.decode(topic: cases[index].topic, key: nil, value: Array(cases[index].message.utf8)) else { return nil }
            return change
        }
        // Where a change is expected the fast path gives it (it is not the general path's alone),
        // equal to the general path's.
        for accepted in [0, 1, 2, 3, 5, 6, 10, 12, 14, 15, 17] {
            let (topic, bytes) = (cases[accepted].topic, Array(cases[accepted].message.utf8))
            let plan = try #require(Shipped.decoder.plans[topic])
            let fast = try #require(Shipped.decoder.fastChange(plan: plan, value: bytes), "case \(accepted)")
            #expect(.change(fast) == Shipped.decoder.decode(topic: topic, key: nil, value: bytes, fast: false), "case \(accepted)")
        }
        #expect(try #require(change(1)).fields["amount"] == .number(9))
        #expect(try #require(change(14)).fields["amount"] == .number(12.5))
        #expect(try #require(change(17)).version == 0)
        #expect(try #require(change(2)).fields["uscc"] == .string("91350100M000100Y43"))
        let deleted = try #require(change(3))
        #expect(deleted.operation == .delete && deleted.version == 1_717_113_600_123 && deleted.fields["amount"] == .number(12.5))
        #expect(try #require(change(5)).version == 1)
        #expect(try #require(change(6)).operation == .snapshot)
        #expect(try #require(change(12)).version == 4)
        for rejected in [4, 7, 8, 9, 11, 13, 16] {
            guard case .rejected = Shipped.decoder.decode(topic: cases[rejected].topic, key: nil, value: Array(cases[rejected].message.utf8)) else {
                Issue.record("case \(rejected) was not rejected")
                continue
            }
        }
    }

    func check(
        _ definition: TopicDefinition, _ bytes: [UInt8], _ accepted: inout Int, _ rejected: inout Int,
        _ tombstones: inout Int
    ) {
        let outcome = Shipped.decoder.decode(topic: definition.name, key: nil, value: bytes)
        #expect(Shipped.decoder.decode(topic: definition.name, key: nil, value: bytes) == outcome)
        // The fast path (a row straight into its fields) decodes as the general one does.
        #expect(Shipped.decoder.decode(topic: definition.name, key: nil, value: bytes, fast: false) == outcome)
        switch outcome {
        case .tombstone:
            tombstones += 1
            #expect(ChangeDecoderProbe.isBlankOrNull(bytes))
        case .rejected(let reason):
            rejected += 1
            #expect(!reason.isEmpty && reason.utf8.count < 400, "reason: \(reason)")
        case .change(let change):
            accepted += 1
            #expect(change.key.utf8.count <= definition.limits.keyBytes)
            for (name, value) in change.fields {
                switch value {
                case .string(let text):
                    #expect(text.utf8.count <= definition.limits.fieldBytes, "\(name)")
                    #expect(!text.utf8.contains(0), "\(name)")
                case .number(let n):
                    #expect(n.isFinite && abs(n) <= 90_000_000_000_000, "\(name): \(n)")
                default: break
                }
            }
        }
    }
}

enum ChangeDecoderProbe {
    static func isBlankOrNull(_ bytes: [UInt8]) -> Bool {
        let blank: Set<UInt8> = [0x20, 0x09, 0x0A, 0x0D]
        let text = bytes.drop { blank.contains($0) }.reversed().drop { blank.contains($0) }.reversed()
        return text.isEmpty || Array(text) == Array("null".utf8)
    }
}

/// A tiny deterministic generator (Vigna's SplitMix64), so that every run fuzzes the same inputs.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE5_E9B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
