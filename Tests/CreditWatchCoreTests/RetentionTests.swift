import CreditWatchCore
import RuleLanguage
import Testing

/// The feature store forgets an entity's records that no window reads any more: before the first
/// day any window over their topic reads (at the latest of the windows' ends), less the margin;
/// never those of a topic read without a window, nor those an active alert cites.
@Suite struct RetentionTests {
    static let rules = """
        feature paid_3mo_ly = sum(tax.payment.amount, 3mo, offset 12mo)
        feature enforcement = count(court.enforcement, 90d)
        feature listed      = count(court.dishonest where removed_date is null)
        rule r () {
          title "r"
          category tax
          severity low
          when paid_3mo_ly > 0 and enforcement > 0 and listed > 0
          cooldown 0d
          explain "r"
        }
        """

    static func day(_ y: Int, _ m: Int, _ d: Int) -> Day { Day(year: y, month: m, day: d)! }

    @Test func recordsBeforeEveryWindowAreForgottenButNotThoseReadWithoutOneOrCited() {
        let program = FeaturePlanTests.program(Self.rules)
        let plan = FeaturePlan(program: program, catalog: Shipped.catalog)
        #expect(program.windowedTopics == ["tax.payment", "court.enforcement"])
        let retention = Retention(program: program, plan: plan)
        // Thirty months of payments on the 10th, 2023-01 … 2025-06; three enforcement cases; an old listing.
        var payments: [FactRecord] = []
        for index in 0..<30 {
            let month = Month(year: 2023, month: 1) + index
            payments.append(FactRecord(topic: "tax.payment", key: "P\(month)", eventDay: month.firstDay + 9, fields: ["amount": .number(10)]))
        }
        let enforcement = [Self.day(2025, 4, 5), Self.day(2024, 1, 5), Self.day(2023, 6, 1)].enumerated().map {
            FactRecord(topic: "court.enforcement", key: "E\($0.offset)", eventDay: $0.element, fields: [:])
        }
        let listing = FactRecord(topic: "court.dishonest", key: "D1", eventDay: Self.day(2020, 1, 1), fields: ["removed_date": .null])
        let snapshot = EntitySnapshot(catalog: Shipped.catalog)
        let entity = EntityKey(.enterprise, "91330100MA2B3C4D5E")
        let data = snapshot.data(
            entity: entity.id, records: ["tax.payment": payments, "court.enforcement": enforcement, "court.dishonest": [listing]],
            feeds: FeedClock())
        let expired = retention.expired(entity, data, snapshot: snapshot, cited: ["tax.payment/P2023-02"])
        // Payments: windows end with 2025-05 (the last complete month); 3mo offset 12mo starts on
        // 2024-03-01; less 92 days: 2023-11-30. Enforcement: 90 days to 2025-06-10 start on
        // 2025-03-13; less 92 days: 2024-12-11.
        #expect(expired == [
            ExpiredRecords(
                entity: entity, topic: "court.enforcement", keys: ["E1", "E2"], before: Self.day(2024, 12, 11)),
            ExpiredRecords(
                entity: entity, topic: "tax.payment",
                keys: ["P2023-01", "P2023-03", "P2023-04", "P2023-05", "P2023-06", "P2023-07", "P2023-08", "P2023-09", "P2023-10", "P2023-11"],
                before: Self.day(2023, 11, 30)),
        ])
        // What is forgotten changes no feature.
        let kept = data.records.mapValues { records in
            records.filter { record in !expired.contains { $0.topic == record.topic && $0.keys.contains(record.key) } }
        }
        let trimmed = snapshot.data(entity: entity.id, records: kept, feeds: FeedClock())
        #expect(trimmed.asOf == data.asOf)
        let features: [String: Value] = ["paid_3mo_ly": .number(30), "enforcement": .number(1), "listed": .number(1)]
        #expect(program.evaluateAndScore(data).evaluation.features == features)
        #expect(program.evaluateAndScore(trimmed).evaluation.features == features)
    }

    /// An enterprise's monthly sums of an industry series topic go with its records; a division's
    /// months go before the first its windows read at the day it is judged, less the margin.
    @Test func monthlySumsGoWithTheRecordsAndADivisionsMonthsBeforeItsWindows() {
        let program = FeaturePlanTests.program("""
            feature paid_3mo = sum(tax.payment.amount, 3mo)
            industry feature division_3mo_ly = industry_sum(tax.payment.amount, 3mo, offset 12mo)
            """)
        let retention = Retention(program: program, plan: FeaturePlan(program: program, catalog: Shipped.catalog))
        let payments = (0..<30).map { index in
            let month = Month(year: 2023, month: 1) + index
            return FactRecord(topic: "tax.payment", key: "P\(month)", eventDay: month.firstDay + 9, fields: ["amount": .number(10)])
        }
        let snapshot = EntitySnapshot(catalog: Shipped.catalog)
        let entity = EntityKey(.enterprise, "91330100MA2B3C4D5E")
        let data = snapshot.data(entity: entity.id, records: ["tax.payment": payments], feeds: FeedClock())
        // The industry window reaches back furthest: 2024-03-01 from 2025-05, less 92 days.
        #expect(retention.expired(entity, data, snapshot: snapshot, cited: []) == [
            ExpiredRecords(
                entity: entity, topic: "tax.payment", keys: (1...11).map { "P\(Month(year: 2023, month: $0))" },
                before: Self.day(2023, 11, 30), sumsBefore: Month(year: 2023, month: 11))
        ])
        // Judged on 2025-06-10: 2024-04 … 2024-06 are read; 92 days before 2024-04-01 is 2023-12-31.
        #expect(retention.industryMonthsKept(asOf: Self.day(2025, 6, 10)) == ["tax.payment": Month(year: 2023, month: 12)])
    }

    @Test func aProgramWithoutWindowsForgetsNothing() {
        let program = FeaturePlanTests.program("feature listed = count(court.dishonest where removed_date is null)")
        #expect(Retention(program: program, plan: FeaturePlan(program: program, catalog: Shipped.catalog)).isEmpty)
    }
}
