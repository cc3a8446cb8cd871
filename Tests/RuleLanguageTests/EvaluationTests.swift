import Testing

@testable import RuleLanguage

/// Aggregates, windows, current facts and unknowns over hand-built records. The evaluation day is
/// 2024-05-15: `3mo` = 2024-03-01…2024-05-31, `3mo offset 12mo` = 2023-03-01…2023-05-31,
/// `90d` = 2024-02-16…2024-05-15.
@Suite struct EvaluationTests {
    typealias F = Fixtures

    static let payments = [
        F.record("tax.payment", "p1", "2024-02-29", ["amount": .n(1000), "tax_type": .s("增值税")]),
        F.record("tax.payment", "p2", "2024-03-01", ["amount": .n(200), "tax_type": .s("增值税")]),
        F.record("tax.payment", "p3", "2024-04-10", ["amount": .n(300.5), "tax_type": .s("企业所得税")]),
        F.record("tax.payment", "p4", "2024-05-31", ["amount": .n(50), "tax_type": .s("增值税")]),
        F.record("tax.payment", "p5", "2024-06-01", ["amount": .n(7), "tax_type": .s("增值税")]),
        F.record("tax.payment", "p6", "2023-04-01", ["amount": .n(400), "tax_type": .s("增值税")]),
        F.record("tax.payment", "p7", "2023-02-28", ["amount": .n(9), "tax_type": .s("增值税")]),
        F.record("tax.payment", "p8", "2024-03-20", ["amount": .null, "tax_type": .s("增值税")]),
    ]

    private func features(_ source: String, _ records: [FactRecord], asOf: String = "2024-05-15") throws -> [String: Value] {
        try F.compile(source).evaluate(F.entity(asOf, records)).features
    }

    @Test func aggregatesOverWindowsOffsetsAndFilters() throws {
        let values = try features(
            """
            feature sum_3mo      = sum(tax.payment.amount, 3mo)
            feature sum_3mo_ly   = sum(tax.payment.amount, 3mo, offset 12mo)
            feature sum_90d      = sum(tax.payment.amount, 90d)
            feature sum_90d_o60  = sum(tax.payment.amount, 90d, offset 60d)
            feature sum_all      = sum(tax.payment.amount)
            feature records_3mo  = count(tax.payment, 3mo)
            feature amounts_3mo  = count(tax.payment.amount, 3mo)
            feature vat_3mo      = sum(tax.payment.amount, 3mo, where tax_type == "增值税")
            feature vat_3mo_b    = sum(tax.payment.amount, 3mo where tax_type in ["增值税"] and amount >= 100)
            feature avg_3mo      = avg(tax.payment.amount, 3mo)
            feature min_3mo      = min(tax.payment.amount, 3mo)
            feature max_3mo      = max(tax.payment.amount, 3mo)
            feature last_3mo     = last(tax.payment.amount, 3mo)
            feature types_3mo    = distinct_count(tax.payment.tax_type, 3mo)
            feature sum_1y_ago   = sum(tax.payment.amount, 1y, offset 1y)
            """, Self.payments)
        #expect(
            values == [
                "sum_3mo": .n(550.5), "sum_3mo_ly": .n(400), "sum_90d": .n(1500.5), "sum_90d_o60": .n(1200),
                "sum_all": .n(1966.5), "records_3mo": .n(4), "amounts_3mo": .n(3), "vat_3mo": .n(250), "vat_3mo_b": .n(200),
                "avg_3mo": .n(183.5), "min_3mo": .n(50), "max_3mo": .n(300.5), "last_3mo": .n(50), "types_3mo": .n(2),
                "sum_1y_ago": .n(409),
            ])
    }

    @Test func monthWindowsFollowTheCalendar() {
        // 3mo at 2024-03-31 with offset 1mo: the anchor is 2024-02-29 (clamped), months Dec…Feb.
        let r = EvaluationRun.dayRange(
            asOf: F.day("2024-03-31"), window: WindowSpec(count: 3, unit: .months), offset: WindowSpec(count: 1, unit: .months))
        #expect(Day(r.lowerBound).description == "2023-12-01")
        #expect(Day(r.upperBound).description == "2024-02-29")
        let d = EvaluationRun.dayRange(asOf: F.day("2024-01-05"), window: WindowSpec(count: 10, unit: .days), offset: nil)
        #expect(Day(d.lowerBound).description == "2023-12-27")
        #expect(Day(d.upperBound).description == "2024-01-05")
    }

    @Test func currentFactsAndDates() throws {
        let records = [
            F.record("tax.taxpayer", "t1", "2023-01-01", ["taxpayer_status": .s("正常")]),
            F.record(
                "tax.taxpayer", "t2", "2024-03-01",
                // 2024-02-29T16:30:00Z = 2024-03-01 00:30 China Standard Time.
                ["taxpayer_status": .s("非正常"), "credit_rating": .null, "updated_at": .timestamp(1_709_224_200_000)]),
            F.record("court.dishonest", "d1", "2023-05-15", ["listed_date": .d("2023-05-15"), "removed_date": .d("2024-01-01")]),
            F.record("court.dishonest", "d2", "2024-05-05", ["listed_date": .d("2024-05-05"), "removed_date": .d("2024-06-01")]),
        ]
        let values = try features(
            """
            feature status        = latest(tax.taxpayer.taxpayer_status)
            feature rating        = latest(tax.taxpayer.credit_rating)
            feature abnormal      = latest(tax.taxpayer.taxpayer_status) == "非正常"
            feature listed        = exists(court.dishonest where removed_date is null or removed_date > as_of)
            feature listed_2024   = exists(court.dishonest where listed_date >= "2024-01-01" and listed_date < as_of - 5d)
            feature ever_removed  = exists(court.dishonest where removed_date is not null)
            feature days_listed   = days_since(court.dishonest.listed_date)
            feature days_record   = days_since(court.dishonest)
            feature days_tax      = days_since(tax.payment)
            feature listed_gap    = as_of - max(court.dishonest.listed_date)
            feature first_listed  = min(court.dishonest.listed_date)
            feature month_start   = as_of - 14d
            feature updated_march = exists(tax.taxpayer where updated_at >= "2024-03-01" and updated_at < as_of)
            feature updated_days  = days_since(tax.taxpayer.updated_at)
            """, records)
        #expect(
            values == [
                "status": .s("非正常"), "rating": .null, "abnormal": .bool(true), "listed": .bool(true),
                "listed_2024": .bool(true), "ever_removed": .bool(true), "days_listed": .n(10), "days_record": .n(10),
                "days_tax": .null, "listed_gap": .n(10), "first_listed": .d("2023-05-15"), "month_start": .d("2024-05-01"),
                "updated_march": .bool(true), "updated_days": .n(75),
            ])
    }

    @Test func unknownsAreThreeValued() throws {
        let values = try features(
            """
            feature avg_empty   = avg(tax.payment.amount, 3mo, offset 24mo)
            feature sum_empty   = sum(tax.payment.amount, 3mo, offset 24mo)
            feature count_empty = count(tax.payment, 3mo, offset 24mo)
            feature sum_3mo     = sum(tax.payment.amount, 3mo)
            feature cmp         = avg_empty > 1
            feature or_true     = cmp or sum_3mo > 0
            feature or_unknown  = cmp or sum_3mo < 0
            feature and_false   = cmp and sum_3mo < 0
            feature and_unknown = cmp and sum_3mo > 0
            feature negated     = not cmp
            feature is_unknown  = avg_empty is unknown
            feature is_known    = avg_empty is known
            feature div_zero    = sum_3mo / sum_empty
            feature div_null    = div_zero is null
            feature in_unknown  = latest(tax.taxpayer.credit_rating) in ["C", "D"]
            feature not_in_unk  = latest(tax.taxpayer.credit_rating) not in ["C", "D"]
            """, Self.payments)
        #expect(
            values == [
                "avg_empty": .null, "sum_empty": .n(0), "count_empty": .n(0), "sum_3mo": .n(550.5), "cmp": .null,
                "or_true": .bool(true), "or_unknown": .null, "and_false": .bool(false), "and_unknown": .null,
                "negated": .null, "is_unknown": .bool(true), "is_known": .bool(false), "div_zero": .null,
                "div_null": .bool(true), "in_unknown": .null, "not_in_unk": .null,
            ])
    }

    @Test func aConditionThatEndsUnknownDoesNotFire() throws {
        let program = try F.compile(
            """
            feature avg_empty = avg(tax.payment.amount, 3mo, offset 24mo)
            rule unknown_cmp (x = 1) {
              title "a"; category tax; severity low
              when avg_empty < x
              explain "{avg_empty}"
            }
            rule negated_unknown (x = 1) {
              title "b"; category tax; severity low
              when not (avg_empty < x)
              explain "{avg_empty}"
            }
            rule handles_unknown (x = 1) {
              title "c"; category tax; severity low
              when avg_empty is unknown or avg_empty < x
              explain "平均值 {avg_empty}"
            }
            """)
        let firings = program.evaluate(F.entity("2024-05-15", Self.payments)).firings
        #expect(firings.map(\.rule) == ["handles_unknown"])
        #expect(firings.map(\.explanation) == ["平均值 未知"])
        #expect(firings.map(\.values) == [[NamedValue("avg_empty", .null), NamedValue("x", .n(1))]])
    }

    @Test func aFiringCarriesValuesSourcesAndWindow() throws {
        let program = try F.compile(
            """
            feature tax_paid_3mo    = sum(tax.payment.amount, 3mo)
            feature tax_paid_3mo_ly = sum(tax.payment.amount, 3mo, offset 12mo)
            feature growth          = tax_paid_3mo / tax_paid_3mo_ly
            rule tax_up (min_base = 100, rise = 25%) {
              title    "纳税增长"
              category tax
              severity info
              when     tax_paid_3mo_ly >= min_base and growth >= 1 + rise
                       and exists(tax.taxpayer where taxpayer_status == "正常")
              score    +5 in dimension finance_tax
              cooldown 7d
              explain  "近3个月纳税 {tax_paid_3mo} 元，是去年同期 {tax_paid_3mo_ly} 元的 {growth:%}（阈值 {rise}）"
            }
            """)
        let records = Self.payments + [F.record("tax.taxpayer", "91X", "2020-01-01", ["taxpayer_status": .s("正常")])]
        let firing = try #require(program.evaluate(F.entity("2024-05-15", records)).firings.first)
        #expect(firing.rule == "tax_up")
        #expect(firing.title == "纳税增长")
        #expect(firing.severity == .info)
        #expect(firing.category == .tax)
        #expect(firing.score == Firing.ScoreEffect(points: 5, dimension: "finance_tax"))
        #expect(firing.cooldownDays == 7)
        #expect(firing.window == "2024-05")
        #expect(firing.ruleVersion == program.rules[0].version)
        #expect(firing.explanation == "近3个月纳税 550.5 元，是去年同期 400 元的 137.63%（阈值 25%）")
        #expect(
            firing.values == [
                NamedValue("tax_paid_3mo_ly", .n(400)), NamedValue("min_base", .n(100)),
                NamedValue("growth", .n(1.37625)), NamedValue("rise", .n(0.25)),
            ])
        #expect(
            firing.sources == [
                "tax.payment/p2", "tax.payment/p3", "tax.payment/p4", "tax.payment/p6", "tax.taxpayer/91X",
            ])
    }

    @Test func changesCountsValueChangesAgainstTheLastVersionBeforeTheWindow() throws {
        let program = try F.compile(
            """
            feature rep_changes = changes(market.enterprise#history.legal_rep_name, 12mo)
            feature rep_changes_old = changes(market.enterprise#history.legal_rep_name, 12mo, offset 12mo)
            feature reps = distinct_count(market.enterprise#history.legal_rep_name, 12mo)
            rule rep_churn (min_changes = 2) {
              title "法定代表人频繁变更"; category regulatory; severity medium
              when rep_changes >= min_changes
              explain "近12个月变更 {rep_changes} 次"
            }
            """)
        #expect(program.topicsUsed == ["market.enterprise#history"])
        let h = "market.enterprise#history"
        let records = [
            F.record(h, "e@1", "2022-01-10", ["legal_rep_name": .s("张三")]),
            F.record(h, "e@2", "2023-08-01", ["legal_rep_name": .s("张三"), "address": .s("新地址")]),
            F.record(h, "e@3", "2023-12-01", ["legal_rep_name": .s("李四")]),
            F.record(h, "e@4", "2024-04-01", ["legal_rep_name": .s("王五")]),
            F.record(h, "e@5", "2024-05-10", ["legal_rep_name": .s("王五")]),
        ]
        let result = program.evaluate(F.entity("2024-05-15", records))
        #expect(result.features == ["rep_changes": .n(2), "rep_changes_old": .n(0), "reps": .n(3)])
        #expect(result.firings.map(\.explanation) == ["近12个月变更 2 次"])
        #expect(result.firings.map(\.sources) == [["\(h)/e@2", "\(h)/e@3", "\(h)/e@4"]])
        // Without the version of 2023-08, the baseline is the version of 2022: the change to 李四 still counts.
        let sparse = program.evaluate(F.entity("2024-05-15", records.filter { $0.key != "e@2" }))
        #expect(sparse.features["rep_changes"] == .n(2))
        #expect(sparse.firings.map(\.sources) == [["\(h)/e@1", "\(h)/e@3", "\(h)/e@4"]])
    }

    @Test func evaluationIsTotalOnOddData() throws {
        let program = try F.compile(
            """
            feature a = sum(tax.payment.amount, 3mo)
            feature b = max(court.dishonest.listed_date, 3mo)
            feature c = as_of - 30d
            feature d = days_since(court.dishonest.listed_date)
            feature e = a / 0
            """)
        // Wrong value kinds (an engine bug) and extreme dates are ignored, not trapped on.
        let odd = [
            F.record("tax.payment", "x1", "2024-05-01", ["amount": .s("abc")]),
            F.record("tax.payment", "x2", "2024-05-01", ["amount": .n(.infinity)]),
            F.record("court.dishonest", "y1", "2024-05-01", ["listed_date": .n(3)]),
            FactRecord(topic: "court.dishonest", key: "y2", eventDay: Day(Int.min), fields: ["listed_date": .date(Day(Int.min))]),
        ]
        #expect(
            program.evaluate(F.entity("2024-05-15", odd)).features == [
                "a": .n(0), "b": .null, "c": .d("2024-04-15"), "d": .null, "e": .null,
            ])
        let farFuture = program.evaluate(EntityData(entity: "x", asOf: Day(Int.max), records: [:]))
        #expect(farFuture.features == ["a": .null, "b": .null, "c": .null, "d": .null, "e": .null])
    }

    @Test func sharedAggregatesAreComputedOnce() throws {
        let program = try F.compile(
            """
            feature a = sum(tax.payment.amount, 3mo)
            feature b = sum(tax.payment.amount, 3mo) * 2
            feature c = sum(tax.payment.amount, 3mo where amount > 0)
            """)
        #expect(program.aggregates.count == 2)
        #expect(program.featureNames == ["a", "b", "c"])
        #expect(program.topicsUsed == ["tax.payment"])
    }
}
