import CreditWatchCore
import RuleLanguage
import Testing

@Suite struct EventTimeTests {
    static let snapshot = EntitySnapshot(catalog: Shipped.catalog)
    static func day(_ iso: String) -> Day { Day(iso: iso)! }

    @Test func aFeedIsFreshWithinItsCadenceOfTheCitysClock() {
        // tax.payment: monthly, max_silence_days 45; its latest payment in April covers April.
        var clock = FeedClock()
        clock.observe(topic: "tax.payment", day: Self.day("2026-04-15"))
        clock.observe(topic: "court.enforcement", day: Self.day("2026-06-14"))
        var states = Self.snapshot.feedStates(clock)
        #expect(states["tax.payment"] == FeedState(windowEnd: Self.day("2026-03-31"), fresh: true))  // 06-14 − 04-30 = 45 days
        #expect(states["court.enforcement"] == FeedState(windowEnd: Self.day("2026-06-14"), fresh: true))
        clock.observe(topic: "court.enforcement", day: Self.day("2026-06-15"))
        states = Self.snapshot.feedStates(clock)
        #expect(states["tax.payment"]?.fresh == false)  // 46 days
        // Timestamp-dated feeds (market.enterprise: updated_at) do not move the city's clock.
        clock.observe(topic: "market.enterprise", day: Self.day("2027-01-01"))
        #expect(Self.snapshot.cityClock(clock) == Self.day("2026-06-15"))
        #expect(Self.snapshot.feedStates(FeedClock()).isEmpty)
    }

    @Test func aPersonFeedDatedInTheFutureDoesNotMoveTheCitysClock() {
        // traffic.driver's event time is a licence's valid_until, years ahead: were it the city's
        // clock, every enterprise feed would be stale and every absence rule suspended.
        var clock = FeedClock()
        clock.observe(topic: "tax.payment", day: Self.day("2026-10-15"))
        clock.observe(topic: "traffic.driver", day: Self.day("2035-09-26"))
        #expect(Self.snapshot.cityClock(clock) == Self.day("2026-10-15"))
        #expect(Self.snapshot.feedStates(clock)["tax.payment"]?.fresh == true)
        #expect(Self.snapshot.silentDays(topic: "tax.payment", latest: Self.day("2026-08-15"), clock: Self.day("2026-10-15")) == 45)
        #expect(Self.snapshot.coveredUntil(topic: "court.enforcement", latest: Self.day("2026-08-15")) == Self.day("2026-08-15"))
    }

    @Test func aRemovalDateIsABusinessDateOfItsRecord() {
        let listing: [String: Value] = ["listed_date": .date(Self.day("2026-03-01")), "removed_date": .date(Self.day("2026-05-01"))]
        #expect(Self.snapshot.businessDay(topic: "court.dishonest", eventDay: Self.day("2026-03-01"), fields: listing) == Self.day("2026-05-01"))
        #expect(Self.snapshot.businessDay(topic: "court.dishonest", eventDay: Self.day("2026-03-01"), fields: ["removed_date": .null]) == Self.day("2026-03-01"))
        // Other topics have no end_time.
        #expect(Self.snapshot.businessDay(topic: "court.enforcement", eventDay: Self.day("2026-03-01"), fields: listing) == Self.day("2026-03-01"))
        let records = ["court.dishonest": [FactRecord(topic: "court.dishonest", key: "C1", eventDay: Self.day("2026-03-01"), fields: listing)]]
        #expect(Self.snapshot.data(entity: "E", records: records, feeds: FeedClock()).asOf == Self.day("2026-05-01"))
    }
}
