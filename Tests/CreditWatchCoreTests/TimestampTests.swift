import CreditWatchCore
import RuleLanguage
import Testing

@Suite("ISO-8601 timestamps")
struct TimestampTests {
    @Test func timestampsRoundTrip() {
        for ms: Int64 in [0, 1, 999, 1_590_969_601_234, -1, -86_400_001, 253_402_300_799_999] {
            #expect(Timestamp.milliseconds(iso8601: Timestamp.iso8601(milliseconds: ms)) == ms)
        }
        #expect(Timestamp.iso8601(milliseconds: -1) == "1969-12-31T23:59:59.999Z")
        #expect(Timestamp.milliseconds(iso8601: "2020-06-01T08:00:01+08:00") == 1_590_969_601_000)
        #expect(Timestamp.milliseconds(iso8601: "2020-06-01T00:00:01.5Z") == 1_590_969_601_500)
        #expect(Timestamp.milliseconds(iso8601: "2020-06-01T00:00:01") == nil)
        #expect(Timestamp.milliseconds(iso8601: "2020-06-01T00:00:01.Z") == nil)
    }

    @Test func textWithoutAnOffsetTakesTheDefaultOffset() {
        #expect(Timestamp.milliseconds(iso8601: "2020-06-01T08:00:01", defaultUTCOffsetSeconds: 8 * 3600) == 1_590_969_601_000)
        #expect(Timestamp.milliseconds(iso8601: "2020-06-01T08:00:01Z", defaultUTCOffsetSeconds: 8 * 3600) == 1_590_998_401_000)
    }

    @Test func renderingInAnOffsetAndWithoutMilliseconds() {
        #expect(Timestamp.iso8601(milliseconds: 1_748_686_500_999, utcOffsetSeconds: 8 * 3600) == "2025-05-31T18:15:00.999+08:00")
        #expect(Timestamp.iso8601(milliseconds: 1_748_686_500_999, utcOffsetSeconds: -90 * 60) == "2025-05-31T08:45:00.999-01:30")
        #expect(Timestamp.iso8601(milliseconds: -1, fractionalSeconds: false) == "1969-12-31T23:59:59Z")
        #expect(Timestamp.iso8601(milliseconds: 1_748_620_799_999, utcOffsetSeconds: 8 * 3600, fractionalSeconds: false)
            == "2025-05-30T23:59:59+08:00")
    }
}
