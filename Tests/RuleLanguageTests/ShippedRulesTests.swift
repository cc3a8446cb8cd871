import Foundation
import Testing

@testable import RuleLanguage

/// The city's `rules/` directory compiles cleanly against the EVENTS.md catalog, and every shipped
/// rule fires on a scenario made for it with its exact explanation (and no other rule fires).
@Suite struct ShippedRulesTests {
    typealias F = Fixtures

    /// Compiled once for all scenarios.
    static let compiled = Result { try RuleCompiler.compile(try F.shippedRuleFiles(), schema: F.schema).get() }

    static func program() throws -> RuleProgram { try compiled.get() }

    @Test func shippedRulesCompileCleanly() throws {
        let files = try F.shippedRuleFiles()
        #expect(
            files.map(\.path) == [
                "rules/industry.cwr", "rules/judicial.cwr", "rules/lending.cwr", "rules/regulatory.cwr", "rules/relations.cwr",
                "rules/scorecard.cwr", "rules/social_insurance.cwr", "rules/tags.cwr", "rules/tax.cwr", "rules/utility.cwr",
            ])
        let result = RuleCompiler.compile(files, schema: F.schema)
        if case .failure(let d) = result { Issue.record("\(d.rendered(sources: files))") }
        let program = try result.get()
        #expect(program.warnings == [])
        #expect(
            program.rules.map { "\($0.name):\($0.severity.rawValue):\($0.category.rawValue)" } == [
                "dishonest_debtor:critical:judicial", "enforcement_cases_90d:high:judicial", "property_seized:high:judicial",
                "loan_overdue:medium:lending", "loan_non_performing:high:lending", "loan_written_off:critical:lending",
                "abnormal_operations:medium:regulatory", "serious_penalty:high:regulatory",
                "legal_rep_frequent_change:medium:regulatory", "legal_rep_dishonest:high:related",
                "shareholder_equity_frozen:high:related", "sister_distress:high:related", "insured_headcount_drop:medium:social_insurance",
                "insurance_arrears:medium:social_insurance", "tax_drop_yoy:high:tax", "tax_drop_industry_worst:medium:tax",
                "taxpayer_abnormal:high:tax",
                "tax_credit_low:medium:tax", "tax_arrears_announced:high:tax", "tax_payments_stopped:high:tax",
                "water_usage_collapse:medium:utility", "water_arrears:medium:utility", "person_dishonest:high:judicial",
                "industry_tax_drop_yoy:high:industry",
                "industry_alert_share:high:industry", "industry_leaders_alerted:high:industry",
                "utility_arrears_wave:high:industry", "industry_tax_drop_tail:medium:industry",
            ])
        #expect(program.rules.first { $0.name == "tax_payments_stopped" }?.absenceTopics == ["tax.payment"])
        #expect(program.rules.filter { !$0.absenceTopics.isEmpty }.map(\.name) == ["tax_payments_stopped"])
        #expect(program.leaderRanking == LeaderRanking(feature: "tax_paid_12mo", top: 10))
        #expect(program.tags.map { "\($0.name):\($0.title):\($0.readsScore)" } == ["leading:龙头企业:false", "trustworthy:诚信企业:true", "startup:初创企业:false"])
        #expect(program.lists == ["active_statuses": ["存续", "在业"]])
        #expect(
            program.topicsUsed == [
                "court.dishonest", "court.enforcement", "realestate.rights", "finance.loan", "market.abnormal", "market.penalty",
                "market.enterprise", "market.enterprise#history", "hrss.insurance", "tax.payment", "tax.taxpayer",
                "tax.arrears", "water.usage", "water.arrears", "court.equity_freeze",
            ])
        #expect(program.industrySeries == ["tax.payment.amount"])
        #expect(program.relationPaths == [["legal_representative"], ["legal_representative", "represents"], ["shareholder"], ["shareholder", "invests_in"]])
        #expect(program.hasPersonRules)
        #expect(program.peerMeasures == [PeerMeasure(key: "tax_drop_ratio_yoy", kind: .value), PeerMeasure(key: "water_months_overdue >= 3", kind: .condition)])
        #expect(
            program.rankedMeasures.map(\.name) == ["peer_rank(tax_drop_ratio_yoy)", "peer_rank(tax_drop_ratio_yoy, district)"])
    }

    /// Evaluates the shipped rules for one scenario: the firings' rule names and explanations.
    private func fire(_ records: [FactRecord], asOf: String = "2024-05-15") throws -> [String] {
        try Self.program().evaluate(F.entity(asOf, records)).firings.map { "\($0.rule): \($0.explanation)" }
    }

    @Test func quietEnterpriseFiresNothing() throws {
        let records = [
            F.record("tax.taxpayer", "91X", "2024-01-01", ["taxpayer_status": .s("正常"), "credit_rating": .s("A")]),
            F.record("tax.payment", "p1", "2023-04-01", ["amount": .n(100_000)]),
            F.record("tax.payment", "p2", "2024-04-01", ["amount": .n(110_000)]),
            F.record("court.dishonest", "d1", "2022-01-01", ["listed_date": .d("2022-01-01"), "removed_date": .d("2023-01-01")]),
            F.record("realestate.rights", "r1", "2024-01-01", ["seized": .bool(false), "area_m2": .n(100)]),
        ]
        #expect(try fire(records) == [])
    }

    @Test func taxDropYearOnYear() throws {
        let records = [
            F.record("tax.payment", "p23-3", "2023-03-10", ["amount": .n(40_000)]),
            F.record("tax.payment", "p23-4", "2023-04-10", ["amount": .n(40_000)]),
            F.record("tax.payment", "p23-5", "2023-05-10", ["amount": .n(40_000)]),
            F.record("tax.payment", "p24-3", "2024-03-10", ["amount": .n(10_000)]),
            F.record("tax.payment", "p24-4", "2024-04-10", ["amount": .n(15_000)]),
            F.record("tax.payment", "p24-5", "2024-05-10", ["amount": .n(15_000)]),
        ]
        #expect(try fire(records) == ["tax_drop_yoy: 近3个月纳税 40000 元，去年同期 120000 元，同比下降 66.67%（阈值 50%）"])
        let firing = try #require(try Self.program().evaluate(F.entity("2024-05-15", records)).firings.first)
        #expect(firing.title == "纳税额同比大幅下降")
        #expect(firing.score == Firing.ScoreEffect(points: -40, dimension: "finance_tax"))
        #expect(firing.cooldownDays == 30)
        #expect(
            firing.values == [
                NamedValue("tax_paid_3mo_ly", .n(120_000)), NamedValue("min_base", .n(100_000)),
                NamedValue("tax_paid_3mo", .n(40_000)), NamedValue("drop", .n(0.5)),
            ])
        #expect(firing.sources == records.map(\.reference).sorted())
        // Below the minimum base the rule stays quiet.
        #expect(try fire(records.map { r in
            r.key.hasPrefix("p23") ? F.record("tax.payment", r.key, r.eventDay.description, ["amount": .n(30_000)]) : r
        }) == [])
    }

    @Test func taxpayerAbnormal() throws {
        #expect(
            try fire([F.record("tax.taxpayer", "91X", "2024-04-01", ["taxpayer_status": .s("非正常")])])
                == ["taxpayer_abnormal: 纳税人状态为 非正常（非正常户，未按期申报）"])
    }

    @Test func taxCreditRatingCOrD() throws {
        let taxpayer = F.record(
            "tax.taxpayer", "91X", "2024-04-01", ["taxpayer_status": .s("正常"), "credit_rating": .s("D"), "rating_year": .n(2023)])
        #expect(try fire([taxpayer]) == ["tax_credit_low: 纳税信用等级为 D 级（评价年度 2023）"])
    }

    @Test func taxArrearsAnnounced() throws {
        let records = [
            F.record("tax.arrears", "a1", "2023-09-01", ["amount": .n(50_000), "announced_date": .d("2023-09-01")]),
            F.record("tax.arrears", "a2", "2024-04-20", ["amount": .n(12_345.67), "announced_date": .d("2024-04-20")]),
            F.record("tax.arrears", "a0", "2023-05-31", ["amount": .n(99_999), "announced_date": .d("2023-05-31")]),
        ]
        #expect(
            try fire(records) == [
                "tax_arrears_announced: 近12个月被公告欠税 2 次，欠税金额合计 62345.67 元，最近公告日期 2024-04-20"
            ])
    }

    @Test func waterUsageCollapse() throws {
        var records: [FactRecord] = []
        for (i, month) in ["2023-06", "2023-07", "2023-08", "2023-09", "2023-10", "2023-11", "2023-12", "2024-01", "2024-02"]
            .enumerated()
        {
            records.append(F.record("water.usage", "w\(i)", month, ["volume_m3": .n(200), "period": .s(month)]))
        }
        records.append(F.record("water.usage", "w9", "2024-03", ["volume_m3": .n(10)]))
        records.append(F.record("water.usage", "w10", "2024-04", ["volume_m3": .n(10)]))
        records.append(F.record("water.usage", "w11", "2024-05", ["volume_m3": .n(0)]))
        #expect(
            try fire(records) == [
                "water_usage_collapse: 近3个月用水 20 立方米，仅为近12个月月均用水 151.67 立方米×3 的 4.4%（阈值 30%）"
            ])
    }

    @Test func waterArrearsThreeMonths() throws {
        let records = [
            F.record("water.arrears", "wa1", "2024-02-01", ["months_overdue": .n(1), "amount_due": .n(800)]),
            F.record("water.arrears", "wa2", "2024-05-01", ["months_overdue": .n(4), "amount_due": .n(3260.5)]),
        ]
        #expect(try fire(records) == ["water_arrears: 水费已欠费 4 个月，欠费金额 3260.5 元"])
    }

    @Test func insuredHeadcountDrop() throws {
        let records = [
            F.record("hrss.insurance", "h1", "2023-05", ["insured_count": .n(50), "arrears_amount": .null]),
            F.record("hrss.insurance", "h2", "2024-04", ["insured_count": .n(35), "arrears_amount": .n(0)]),
            F.record("hrss.insurance", "h3", "2024-05", ["insured_count": .n(30)]),
        ]
        #expect(try fire(records) == ["insured_headcount_drop: 参保人数由一年前的 50 人降至 30 人，下降 40%（阈值 30%）"])
    }

    @Test func insuranceArrears() throws {
        let records = [
            F.record("hrss.insurance", "h1", "2024-03", ["insured_count": .n(20), "arrears_amount": .n(0)]),
            F.record("hrss.insurance", "h2", "2024-04", ["insured_count": .n(20), "arrears_amount": .n(8000)]),
            F.record("hrss.insurance", "h3", "2024-05", ["insured_count": .n(20), "arrears_amount": .n(12_000.5)]),
        ]
        #expect(try fire(records) == ["insurance_arrears: 近3个月有 2 个月社保欠费，最高欠费 12000.5 元"])
    }

    @Test func dishonestDebtorListedAndNotRemoved() throws {
        let records = [
            F.record(
                "court.dishonest", "(2023)湘06执123号", "2023-03-01",
                ["listed_date": .d("2023-03-01"), "amount": .n(500_000), "removed_date": .null]),
            F.record(
                "court.dishonest", "(2021)湘06执9号", "2022-01-01",
                ["listed_date": .d("2022-01-01"), "amount": .n(70_000), "removed_date": .d("2023-01-01")]),
        ]
        #expect(
            try fire(records) == [
                "dishonest_debtor: 被列为失信被执行人 1 起（未移出），涉及金额 500000 元，最早列入日期 2023-03-01"
            ])
        let firing = try #require(try Self.program().evaluate(F.entity("2024-05-15", records)).firings.first)
        #expect(firing.severity == .critical)
        #expect(firing.sources == ["court.dishonest/(2023)湘06执123号"])
        // A removal withdraws the signal.
        let removed = F.record(
            "court.dishonest", "(2023)湘06执123号", "2023-03-01",
            ["listed_date": .d("2023-03-01"), "amount": .n(500_000), "removed_date": .d("2024-05-01")])
        #expect(try fire([removed]) == [])
    }

    @Test func enforcementCasesIn90Days() throws {
        let records = [
            F.record("court.enforcement", "e1", "2024-03-01", ["amount": .n(300_000)]),
            F.record("court.enforcement", "e2", "2024-05-01", ["amount": .n(250_000.5)]),
            F.record("court.enforcement", "e0", "2024-02-15", ["amount": .n(900_000)]),
        ]
        #expect(try fire(records) == ["enforcement_cases_90d: 近90天新增被执行案件 2 件，执行标的合计 550000.5 元"])
    }

    @Test func propertySeized() throws {
        let records = [
            F.record("realestate.rights", "r1", "2024-02-01", ["seized": .bool(true), "area_m2": .n(1200.5)]),
            F.record("realestate.rights", "r2", "2024-02-01", ["seized": .bool(false), "area_m2": .n(300)]),
        ]
        #expect(try fire(records) == ["property_seized: 名下 1 处不动产被查封，面积合计 1200.5 平方米"])
    }

    @Test func abnormalOperationsListing() throws {
        let records = [
            F.record("market.abnormal", "a1", "2024-02-01", ["listed_date": .d("2024-02-01"), "removed_date": .null]),
            F.record("market.abnormal", "a0", "2023-01-01", ["listed_date": .d("2023-01-01"), "removed_date": .d("2023-06-01")]),
        ]
        #expect(try fire(records) == ["abnormal_operations: 列入经营异常名录 1 次（未移出），最近列入日期 2024-02-01"])
    }

    @Test func seriousPenaltyWithin12Months() throws {
        let records = [
            F.record("market.penalty", "pen1", "2023-11-11", ["severity": .s("严重"), "fine_amount": .n(200_000)]),
            F.record("market.penalty", "pen2", "2024-01-01", ["severity": .s("一般"), "fine_amount": .n(5000)]),
            F.record("market.penalty", "pen0", "2023-05-01", ["severity": .s("严重"), "fine_amount": .n(1)]),
        ]
        #expect(try fire(records) == ["serious_penalty: 近12个月受到严重行政处罚 1 次，罚款合计 200000 元"])
    }

    @Test func frequentLegalRepresentativeChanges() throws {
        let h = "market.enterprise#history"
        let records = [
            F.record("market.enterprise", "91X", "2024-04-01", ["legal_rep_name": .s("王五")]),
            F.record(h, "91X@2019-06-01", "2019-06-01", ["legal_rep_name": .s("张三")]),
            F.record(h, "91X@2023-12-01", "2023-12-01", ["legal_rep_name": .s("李四")]),
            F.record(h, "91X@2024-04-01", "2024-04-01", ["legal_rep_name": .s("王五")]),
        ]
        #expect(try fire(records) == ["legal_rep_frequent_change: 近12个月法定代表人变更 2 次，现任法定代表人 王五"])
        // One change is not frequent.
        #expect(try fire(records.filter { $0.key != "91X@2024-04-01" }) == [])
    }

    @Test func industryTaxDropYearOnYear() throws {
        let sums = IndustryTests.sums([
            ("2023-03", 1_000_000), ("2023-04", 1_000_000), ("2023-05", 1_000_000),
            ("2024-03", 600_000), ("2024-04", 600_000), ("2024-05", 600_000),
        ])
        let data = IndustryData(
            division: "C30", asOf: F.day("2024-05-15"), population: 25, alerted: 2, monthlySums: ["tax.payment.amount": sums])
        #expect(
            try Self.program().evaluate(data).map { "\($0.rule): \($0.explanation)" } == [
                "industry_tax_drop_yoy: 行业 C30（25 家企业）近3个月纳税 1800000 元，去年同期 3000000 元，同比下降 40%（阈值 30%）"
            ])
    }

    @Test func industryAlertShare() throws {
        let data = IndustryData(division: "C30", asOf: F.day("2024-05-15"), population: 25, alerted: 6, monthlySums: [:])
        #expect(
            try Self.program().evaluate(data).map { "\($0.rule): \($0.explanation)" } == [
                "industry_alert_share: 行业 C30 的 25 家企业中 6 家存在高风险预警，占比 24%（阈值 20%）"
            ])
        let small = IndustryData(division: "C30", asOf: F.day("2024-05-15"), population: 19, alerted: 19, monthlySums: [:])
        #expect(try Self.program().evaluate(small) == [])
    }

    @Test func cityOverridesApply() throws {
        let files = try F.shippedRuleFiles()
        let program = try RuleCompiler.compile(files, schema: F.schema, overrides: ["water_arrears.min_months": 6]).get()
        let records = [F.record("water.arrears", "wa", "2024-05-01", ["months_overdue": .n(4), "amount_due": .n(1)])]
        #expect(program.evaluate(F.entity("2024-05-15", records)).firings.isEmpty)
        guard case .failure(let d) = RuleCompiler.compile(files, schema: F.schema, overrides: ["water_arrears.min_month": 6]) else {
            Issue.record("expected an error")
            return
        }
        #expect(
            d.items.map(\.description) == [
                "<overrides>: error: unknown override 'water_arrears.min_month': rule 'water_arrears' has no parameter 'min_month'; did you mean 'min_months'?"
            ])
    }
}
