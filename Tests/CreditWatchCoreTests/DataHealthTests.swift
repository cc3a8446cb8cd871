import CreditWatchCore
import DataHealth
import RuleLanguage
import Testing

@Suite struct DataHealthTests {
    static func day(_ iso: String) -> Day { Day(iso: iso)! }

    static let figures = CityFigures(
        feeds: [
            FeedFigures(topic: "tax.payment", latestDay: day("2026-10-15"), records: 200, byKey: 200),
            FeedFigures(
                topic: "water.usage", latestDay: day("2026-10-01"), records: 100,
                monthly: [Month(year: 2024, month: 10): 9, Month(year: 2024, month: 11): 2, Month(year: 2026, month: 10): 5],
                byKey: 70, byAccount: 20, byName: 6, unlinked: 4, quarantined: 3,
                continuity: Continuity(enterprises: 90, enterprisesWithGaps: 2, missingMonths: 3)),
            FeedFigures(topic: "court.enforcement", latestDay: day("2026-08-01"), records: 10, byKey: 10),
            // A licence's valid_until, years ahead: fresh, and not the city's clock.
            FeedFigures(topic: "traffic.driver", latestDay: day("2035-09-26"), records: 30, byKey: 30),
            // Dated by an update timestamp after the clock: fresh.
            FeedFigures(topic: "market.enterprise", latestDay: day("2026-10-20"), records: 50, byKey: 50),
        ],
        enterprises: 50, persons: 30, computedAt: "2026-12-03T08:00:00.000Z")

    @Test func feedsAreJudgedAgainstTheCitysClockAndTheirCadence() throws {
        let health = DataHealthAssessment.assess(Self.figures, catalog: Shipped.catalog)
        #expect(health.asOf == Self.day("2026-10-15"))
        #expect(health.feeds.count == Shipped.catalog.topics.count)
        #expect(health.feeds.map(\.topic) == Shipped.catalog.topics.keys.sorted())

        let water = try #require(health.feed("water.usage"))
        #expect(water.coveredUntil == Self.day("2026-10-31"))
        #expect(water.silentDays == 0)
        #expect(water.fresh && water.staleDays == 0)

        // court.enforcement: daily, max_silence_days 7; 75 days silent, so stale for 68.
        let court = try #require(health.feed("court.enforcement"))
        #expect(court.silentDays == 75)
        #expect(!court.fresh && court.staleDays == 68)

        // A feed that never delivered is stale, with no silence to measure.
        let dishonest = try #require(health.feed("court.dishonest"))
        #expect(!dishonest.fresh && dishonest.silentDays == nil && dishonest.staleDays == nil && dishonest.figures.records == 0)

        #expect(health.feeds.filter(\.fresh).map(\.topic) == ["market.enterprise", "tax.payment", "traffic.driver", "water.usage"])
        #expect(health.freshShare == 4.0 / Double(Shipped.catalog.topics.count))
    }

    @Test func linkingSharesAndMonthsAreExact() throws {
        let health = DataHealthAssessment.assess(Self.figures, catalog: Shipped.catalog)
        let water = try #require(health.feed("water.usage"))
        #expect(water.keyCoverage == 0.70)
        #expect(water.accountShare == 0.20)
        #expect(water.nameShare == 0.06)
        #expect(water.unlinkedShare == 0.04)
        #expect(water.months.count == 24)
        #expect(water.months.first == MonthCount(month: Month(year: 2024, month: 11), records: 2))
        #expect(water.months.last == MonthCount(month: Month(year: 2026, month: 10), records: 5))
        #expect(water.months.map(\.records).reduce(0, +) == 7)  // 2024-10 is outside the 24 months

        #expect(health.records == 390)
        #expect(health.unlinked == 4)
        #expect(health.quarantined == 3)
        #expect(health.keyCoverage == 360.0 / 390.0)
        #expect(health.feed("court.dishonest")?.keyCoverage == nil)
    }

    @Test func nothingDeliveredYetHasNoClockAndNoMonths() {
        let health = DataHealthAssessment.assess(CityFigures(feeds: [], enterprises: 0, persons: 0, computedAt: ""), catalog: Shipped.catalog)
        #expect(health.asOf == nil)
        #expect(health.freshFeeds == 0)
        #expect(health.feeds.allSatisfy { $0.months.isEmpty && !$0.fresh })
        #expect(health.keyCoverage == nil)
    }
}
