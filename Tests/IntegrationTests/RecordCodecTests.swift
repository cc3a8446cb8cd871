import CreditWatchCore
import RuleLanguage
import Testing

@testable import RedisFeatures

/// The ledger's record encoding read back exactly (no servers: the codec is pure).
@Suite struct RecordCodecTests {
    @Test func everyKindOfValueReadsBackTheSame() throws {
        let fields: [String: Value] = [
            "none": .null, "yes": .bool(true), "no": .bool(false), "whole": .number(26), "negative": .number(-1250.5),
            "tiny": .number(0.000001), "before1970": .date(Day(-4000)), "day": .date(Day(20_000)),
            "at": .timestamp(1_717_113_600_123), "early": .timestamp(-86_400_000), "period": .string("2024-05"),
            "name": .string("长沙湘江机械有限公司\u{1F}\u{1E}:9"), "empty": .string(""), "notAMonth": .string("2024-5"),
        ]
        var bytes: [UInt8] = []
        RecordCodec.encode(fields, names: nil, into: &bytes)
        #expect(RecordCodec.decode(bytes[...], names: nil) == fields)
    }

    @Test func aDamagedEntryIsRefused() {
        for text in ["a\u{1F}s5:abc\u{1E}", "a\u{1F}s-1:\u{1E}", "a\u{1F}dz!\u{1E}", "a\u{1F}n12", "a\u{1F}x1\u{1E}"] {
            #expect(RecordCodec.decode(Array(text.utf8)[...], names: nil) == nil, "\(text)")
        }
    }
}
