import RuleLanguage
import Testing

@testable import Simulator

@Suite struct EnvelopeTests {
    func text(_ bytes: [UInt8]?) -> String { bytes.map { String(decoding: $0, as: UTF8.self) } ?? "<nil>" }

    @Test func debeziumExactBytesWithSortedKeys() {
        let bytes = Envelope.debezium(
            topic: "tax.payment", op: "c", before: nil,
            after: [
                "id": "SK2020050112", "uscc": "91430600MA4L0XXXXX", "amount": 12345.67, "period": "2020-05",
                "paid_date": .epochDays(Day(year: 2020, month: 6, day: 1)!),
            ], tsMs: 1_590_969_601_234, db: "tax", table: "tax_payment", sourceTsMs: 1_590_969_600_000)
        #expect(
            text(bytes)
                == #"{"before":null,"after":{"amount":12345.67,"id":"SK2020050112","paid_date":18414,"period":"2020-05","uscc":"91430600MA4L0XXXXX"},"source":{"connector":"postgresql","db":"tax","table":"tax_payment","ts_ms":1590969600000},"op":"c","ts_ms":1590969601234}"#
        )
    }

    @Test func debeziumDefaultsDeriveDatabaseAndTableFromTheTopic() {
        let bytes = Envelope.debezium(
            topic: "market.abnormal", op: "u", before: ["id": "YC1", "removed_date": nil],
            after: ["id": "YC1", "removed_date": "2026-03-02"], tsMs: 42)
        #expect(
            text(bytes)
                == #"{"before":{"id":"YC1","removed_date":null},"after":{"id":"YC1","removed_date":"2026-03-02"},"source":{"connector":"postgresql","db":"market","table":"market_abnormal","ts_ms":42},"op":"u","ts_ms":42}"#
        )
        let delete = Envelope.debezium(topic: "water.usage", op: "d", before: ["id": "YS1"], after: nil, tsMs: 7)
        #expect(
            text(delete)
                == #"{"before":{"id":"YS1"},"after":null,"source":{"connector":"postgresql","db":"water","table":"water_usage","ts_ms":7},"op":"d","ts_ms":7}"#
        )
    }

    @Test func declaredOrderObjectsKeepTheirOrder() {
        let row: JSONObject = ["uscc": "914306", "name": "岳阳市巴陵纸业（集团）有限公司", "seized": false, "area_m2": 120]
        #expect(
            text(Envelope.plain(row)) == #"{"uscc":"914306","name":"岳阳市巴陵纸业（集团）有限公司","seized":false,"area_m2":120}"#)
        #expect(text(Envelope.plain(["b": 1, "a": .null])) == #"{"a":null,"b":1}"#)
        #expect(text(Envelope.key(["id": "SK2020050112"])) == #"{"id":"SK2020050112"}"#)
        var edited = row
        edited["name"] = nil
        edited["uscc"] = "X"
        edited["status"] = "存续"
        #expect(text(edited.jsonBytes) == #"{"uscc":"X","seized":false,"area_m2":120,"status":"存续"}"#)
    }

    @Test func numbersHaveAtMostTwoDecimalsAndNoExponent() {
        let cases: [(Double, String)] = [
            (1234.5, "1234.5"), (0.07, "0.07"), (-3, "-3"), (12345.678, "12345.68"), (0.004, "0"), (-0.25, "-0.25"),
            (1e12, "1000000000000"), (99.999, "100"), (2_386_500, "2386500"), (.nan, "null"), (.infinity, "null"),
        ]
        for (value, expected) in cases {
            #expect(text(FeedValue.number(value).jsonBytes) == expected, "\(value)")
        }
        #expect(text(FeedValue.int(-9_223_372_036_854_775_808).jsonBytes) == "-9223372036854775808")
        #expect(text(FeedValue.int(0).jsonBytes) == "0")
        #expect(FeedValue.decimalString(12345.6) == .string("12345.6"))
    }

    @Test func stringsAreEscapedAndChineseStaysUTF8() {
        let value = FeedValue.string("岳阳\"引号\"\\反斜杠\n\t\u{01}\r")
        #expect(text(value.jsonBytes) == #""岳阳\"引号\"\\反斜杠\n\t\u0001\r""#)
        #expect(value.jsonBytes.count == 2 + 6 + 2 + 6 + 2 + 2 + 9 + 2 + 2 + 6 + 2)
        // Feeds keep U+0000 as an escape (only stored JSON replaces it).
        #expect(text(FeedValue.string("a\u{0}b\u{8}").jsonBytes) == #""a\u0000b\b""#)
    }

    @Test func calendarValues() {
        let day = Day(year: 2025, month: 5, day: 31)!
        #expect(FeedValue.date(day) == .string("2025-05-31"))
        #expect(FeedValue.epochDays(day) == .int(20239))
        #expect(FeedValue.period(Month(year: 2025, month: 5)) == .string("2025-05"))
        #expect(FeedValue.isoTimestamp(epochMilliseconds: 1_748_686_500_999) == .string("2025-05-31T10:15:00Z"))
        #expect(FeedValue.isoTimestamp(epochMilliseconds: -1) == .string("1969-12-31T23:59:59Z"))
        #expect(
            FeedValue.isoTimestamp(epochMilliseconds: 1_748_686_500_999, utcOffsetMinutes: 480)
                == .string("2025-05-31T18:15:00+08:00"))
        // Business times are China Standard Time: a whole local day maps back to itself.
        #expect(epochMilliseconds(day, minute: 0) == 1_748_620_800_000)
        #expect(dayOf(epochMilliseconds(day, minute: 0)) == day)
        #expect(dayOf(epochMilliseconds(day, minute: 24 * 60 - 1)) == day)
    }

    @Test func changeMessagesCarryThePrimaryKeyAndDeletesATombstone() {
        let row: JSONObject = ["case_no": "（2026）湘0602执301号", "party_type": "enterprise"]
        let create = SimulatedMessage.change(.courtEnforcement, op: "c", after: row, tsMs: 5)
        #expect(text(create.key) == #"{"case_no":"（2026）湘0602执301号"}"#)
        #expect(create.topic == "court.enforcement")
        #expect(create.defect == nil)
        let keyless = SimulatedMessage.change(
            .courtEnforcement, op: "c", after: ["case_no": "x"], tsMs: 5, withKey: false)
        #expect(keyless.key == nil)
        let delete = SimulatedMessage.deletion(.courtEnforcement, row: row, tsMs: 9)
        #expect(delete.count == 2)
        #expect(delete[1].isTombstone && delete[1].key == create.key && delete[1].topic == "court.enforcement")
        #expect(text(delete[0].value).hasPrefix(#"{"before":{"case_no":"#))
        #expect(text(delete[0].value).contains(#""after":null"#))
    }

    @Test func feedCatalogueMatchesTheContract() {
        #expect(Feed.allCases.count == 14)
        #expect(Feed.taxPayment.database == "tax" && Feed.taxPayment.table == "tax_payment")
        #expect(Feed.realestateRights.primaryKey == "certificate_no")
        #expect(Feed.marketEnterprise.fieldNames.count == 11)
        #expect(Feed.courtDishonest.requiredFieldNames == ["case_no", "party_type", "name", "court", "listed_date"])
        #expect(Feed.waterUsage.fields.first { $0.name == "uscc" }?.optional == true)
    }

    @Test func censusCountsBadInputTombstonesAndKeys() {
        let messages = [
            SimulatedMessage(topic: "a", key: [1], value: [2]),
            SimulatedMessage(topic: "a", key: [1], value: nil),
            SimulatedMessage(topic: "b", key: nil, value: [0xFF], defect: .notJSON),
        ]
        let census = FeedCensus(messages)
        #expect(census.messages == 3 && census.bad == 1 && census.tombstones == 1 && census.keyless == 1)
        #expect(census.badByDefect == [.notJSON: 1])
        #expect(census.byTopic == ["a": 2, "b": 1])
        #expect(census.bytes == 4)
    }
}
