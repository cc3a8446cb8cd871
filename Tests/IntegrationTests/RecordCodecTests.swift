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

    /// Numbers are read from their bytes as the standard library reads their text.
    @Test func numbersReadFromBytesAsFromText() {
        let integers = [
            "0", "7", "-7", "+7", "007", "zz", "ZZ", "-zz", "1y2p0ij32e8e7", "1y2p0ij32e8e8", "-1y2p0ij32e8e8", "-1y2p0ij32e8e9",
            "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809", "", "-", "+", "1.5",
            "1 ", " 1", "\u{11}", "1-2", "é",
        ]
        for text in integers {
            for radix in [10, 36] {
                #expect(RecordCodec.integer(Array(text.utf8)[...], radix: Int64(radix)) == Int64(text, radix: radix), "\(text) in base \(radix)")
            }
        }
        let numbers = [
            "26", "-1250.5", "0", "-0", "007", "123456789012345", "-123456789012345", "1234567890123456", "9007199254740993",
            "1e17", "0.000001", "1e-7", "-0.0", "", "-", "1-2", "12a", "inf", "+5",
        ]
        for text in numbers {
            let read = RecordCodec.number(Array(text.utf8)[...])
            #expect(read?.bitPattern == Double(text)?.bitPattern, "\(text)")
        }
    }

    /// The month names the client gives the apply script are the script's own `%04d-%02d`, and left
    /// to it outside the years 0–9999.
    @Test func windowMonthNamesAreTheScriptsOwn() {
        #expect(FeatureWindows.monthName(Month(index: 0)) == "0000-01")
        #expect(FeatureWindows.monthName(Month(year: 2026, month: 5)) == "2026-05")
        #expect(FeatureWindows.monthName(Month(index: 119_999)) == "9999-12")
        #expect(FeatureWindows.monthName(Month(index: -1)) == "")
        #expect(FeatureWindows.monthName(Month(index: 120_000)) == "")
    }
}
