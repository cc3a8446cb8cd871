import Testing

@testable import RuleLanguage

/// The shipped absence rule, quality-enterprise tags and industry-leader rule on scenarios made for
/// them, with exact explanations.
@Suite struct ShippedLibraryTests {
    typealias F = Fixtures

    static func program() throws -> RuleProgram { try ShippedRulesTests.program() }

    /// Tax paid every month from 2023-02 to 2024-01 (12 months), nothing since.
    static let stoppedPayer: [FactRecord] = (0..<12).map { i in
        let month = Month(year: 2023, month: 2) + i
        return F.record("tax.payment", "p\(i)", month.description, ["amount": .n(20_000), "period": .s(month.description)])
    }

    private func entity(_ records: [FactRecord], feeds: [String: FeedState]) -> EntityData {
        EntityData(entity: "91X", asOf: F.day("2024-05-15"), records: Dictionary(grouping: records, by: \.topic), feeds: feeds)
    }

    @Test func taxPaymentsStoppedFiresOnlyWhileTheFeedIsFresh() throws {
        let fresh = ["tax.payment": FeedState(windowEnd: F.day("2024-04-30"), fresh: true)]
        let evaluation = try Self.program().evaluate(entity(Self.stoppedPayer, feeds: fresh))
        #expect(evaluation.suspended == [])
        #expect(
            evaluation.firings.map { "\($0.rule): \($0.explanation)" } == [
                "tax_payments_stopped: 近3个月有 0 个月缴税，此前12个月中有 12 个月缴税（阈值 10 个月）"
            ])
        let firing = try #require(evaluation.firings.first)
        #expect(firing.score == Firing.ScoreEffect(points: -50, dimension: "finance_tax"))
        #expect(
            firing.values == [
                NamedValue("tax_months_paid_3mo", .n(0)), NamedValue("max_recent_months", .n(0)),
                NamedValue("tax_months_paid_prior_12mo", .n(12)), NamedValue("min_prior_months", .n(10)),
            ])
        #expect(firing.sources == Self.stoppedPayer.map(\.reference).sorted())

        // A stale feed or none: suspended, neither fired nor quiet.
        for feeds in [["tax.payment": FeedState(windowEnd: F.day("2024-04-30"), fresh: false)], [:]] {
            let e = try Self.program().evaluate(entity(Self.stoppedPayer, feeds: feeds))
            #expect(e.firings == [])
            #expect(e.suspended == ["tax_payments_stopped"])
        }
        // Paying again in April: quiet, not suspended.
        let resumed = Self.stoppedPayer + [F.record("tax.payment", "p-apr", "2024-04", ["amount": .n(1), "period": .s("2024-04")])]
        let quiet = try Self.program().evaluate(entity(resumed, feeds: fresh))
        #expect(quiet.firings == [] && quiet.suspended == [])
    }

    @Test func taxPaymentsStoppedScoresInFinanceTax() throws {
        let fresh = ["tax.payment": FeedState(windowEnd: F.day("2024-04-30"), fresh: true)]
        let scored = try #require(try Self.program().score(entity(Self.stoppedPayer, feeds: fresh)))
        #expect(scored.lines.filter { $0.kind == .rule }.map { "\($0.name) \($0.points)" } == ["tax_payments_stopped -50"])
        let suspended = try #require(try Self.program().score(entity(Self.stoppedPayer, feeds: [:])))
        #expect(suspended.lines.filter { $0.kind == .rule } == [])
    }

    @Test func qualityEnterpriseTags() throws {
        let leader = [
            F.record(
                "market.enterprise", "91X", "2024-01-01",
                ["established_date": .d("2014-05-15"), "status": .s("存续"), "registered_capital": .n(50_000_000)]),
            F.record("tax.payment", "t1", "2023-09-10", ["amount": .n(3_000_000), "period": .s("2023-09")]),
            F.record("tax.payment", "t2", "2024-03-10", ["amount": .n(2_500_000), "period": .s("2024-03")]),
        ]
        let (evaluation, score) = try Self.program().evaluateAndScore(F.entity("2024-05-15", leader))
        #expect(
            evaluation.tags.map { "\($0.tag): \($0.explanation)" } == ["leading: 近12个月纳税 5500000 元，成立 10.01 年"])
        let leading = try #require(evaluation.tags.first)
        #expect(leading.title == "龙头企业")
        #expect(leading.tagVersion == (try Self.program()).tags[0].version)
        #expect(leading.values == [NamedValue("tax_paid_12mo", .n(5_500_000)), NamedValue("established_years", .n(3653.0 / 365))])
        #expect(leading.sources == ["market.enterprise/91X", "tax.payment/t1", "tax.payment/t2"])
        #expect(score?.grade == "A")

        let startup = [
            F.record("market.enterprise", "91Y", "2024-01-01", ["established_date": .d("2023-05-15"), "status": .s("在业")])
        ]
        #expect(
            try Self.program().evaluate(F.entity("2024-05-15", startup)).tags.map { "\($0.tag): \($0.explanation)" } == [
                "startup: 成立 1 年，登记状态为 在业"
            ])
    }

    @Test func industryLeadersAlerted() throws {
        let leaders = (0..<12).map { i in IndustryLeader(uscc: "L\(i)", measure: Double(100 - i), alerted: [1, 4, 7, 11].contains(i)) }
        let data = IndustryData(
            division: "C30", asOf: F.day("2024-05-15"), population: 25, alerted: 4, monthlySums: [:], leaders: leaders)
        #expect(
            try Self.program().evaluate(data).map { "\($0.rule): \($0.explanation)" } == [
                "industry_leaders_alerted: 行业 C30 纳税额前 10 名的龙头企业中 3 家存在高风险预警，占比 30%（阈值 3 家）"
            ])
        let two = IndustryData(
            division: "C30", asOf: F.day("2024-05-15"), population: 25, alerted: 2, monthlySums: [:],
            leaders: Array(leaders.prefix(5)))
        #expect(try Self.program().evaluate(two) == [])
    }
}
