import Foundation
import Testing

@testable import RuleLanguage

/// One line per explanation line: `kind dimension.name ±points text`.
private func describe(_ r: ScoreResult) -> [String] {
    r.lines.map { l in
        let points = l.points > 0 ? "+\(l.points)" : "\(l.points)"
        return "\(l.kind.rawValue) \(l.dimension.map { $0 + "." } ?? "")\(l.name) \(points) \(l.text)"
    }
}

/// The invariant every score keeps: its explanation adds up to the score minus the base.
private func expectExplained(_ r: ScoreResult, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
    #expect(r.lines.map(\.points).reduce(0, +) == r.score - r.base, sourceLocation: sourceLocation)
    #expect(
        r.dimensions.map(\.points).reduce(r.base, +) == r.score - r.lines.filter { $0.kind == .range || $0.kind == .override }
            .map(\.points).reduce(0, +),
        sourceLocation: sourceLocation)
}

/// Exact rendered diagnostics of broken scorecards.
@Suite struct ScorecardDiagnosticsTests {
    @Test func unknownDimensionInARuleScoreClause() {
        #expect(
            Fixtures.diagnostics(
                """
                feature paid = sum(tax.payment.amount, 3mo)
                rule low_tax () {
                  title "t"; category tax; severity low
                  when paid < 100
                  score -10 in dimension finance
                  explain "x"
                }
                rule no_loans () {
                  title "t"; category lending; severity low
                  when paid < 10
                  score -10 in dimension lendng
                  explain "x"
                }
                scorecard card "卡" {
                  base 600
                  range 0..1000
                  dimension finance_tax "财务税务" { cap 100 }
                  dimension lending "信贷" { cap 100 }
                  grades { A >= 700, B }
                }
                """)
                == """
                rules/test.cwr:5:26: error: unknown dimension 'finance'; expected one of finance_tax, lending
                  score -10 in dimension finance
                                         ^
                rules/test.cwr:11:26: error: unknown dimension 'lendng'; did you mean 'lending'?
                  score -10 in dimension lendng
                                         ^

                """)
    }

    @Test func gradeBandsAndBase() {
        #expect(
            Fixtures.diagnostics(
                """
                scorecard card {
                  base 1200
                  range 0..1000
                  dimension d "维度" { cap 10 }
                  override o "x" cap grade CC when 1 > 0
                  grades { AAA >= 900, AA >= 900, A >= 1100, B, C >= 100 }
                }
                """)
                == """
                rules/test.cwr:2:8: error: base 1200 is outside the score range 0..1000
                  base 1200
                       ^
                rules/test.cwr:5:28: error: unknown grade 'CC'; did you mean 'C'?
                  override o "x" cap grade CC when 1 > 0
                                           ^
                rules/test.cwr:6:30: error: grades must be in descending order: 'AA >= 900' is not below 'AAA >= 900'
                  grades { AAA >= 900, AA >= 900, A >= 1100, B, C >= 100 }
                                             ^
                rules/test.cwr:6:40: error: grade threshold 1100 must be above 0 and at most 1000 (the score range)
                  grades { AAA >= 900, AA >= 900, A >= 1100, B, C >= 100 }
                                                       ^
                rules/test.cwr:6:46: error: grade 'B' needs a threshold like 'B >= 500'; only the last grade has none
                  grades { AAA >= 900, AA >= 900, A >= 1100, B, C >= 100 }
                                                             ^
                rules/test.cwr:6:54: error: the last grade 'C' takes every lower score and has no threshold; write 'C' alone
                  grades { AAA >= 900, AA >= 900, A >= 1100, B, C >= 100 }
                                                                     ^

                """)
    }

    @Test func capsWeightsAndDuplicateNames() {
        #expect(
            Fixtures.diagnostics(
                """
                feature paid = sum(tax.payment.amount, 3mo)
                scorecard card {
                  base 600; range 0..1000
                  dimension a "甲" {
                    cap 0
                    weight 0
                    item x "x" points +1 when paid > 0
                  }
                  dimension b "乙" { cap 10..100; item x "again" points +2 when paid > 1 }
                  dimension a "甲" { cap -5..5 }
                  dimension c "丙" { item y "y" points -1 when paid > 2 }
                  override y "y" cap grade B when paid > 3
                  grades { A >= 700, B, A }
                }
                """)
                == """
                rules/test.cwr:5:9: error: a dimension's cap must be positive, found 0
                    cap 0
                        ^
                rules/test.cwr:6:12: error: a dimension's weight must be above 0 and at most 100, found 0
                    weight 0
                           ^
                rules/test.cwr:9:25: error: a dimension's cap must go from a negative number or 0 to a positive number or 0, found 10..100
                  dimension b "乙" { cap 10..100; item x "again" points +2 when paid > 1 }
                                        ^
                rules/test.cwr:9:39: error: duplicate item 'x' in scorecard 'card' (first declared at rules/test.cwr:7:10)
                  dimension b "乙" { cap 10..100; item x "again" points +2 when paid > 1 }
                                                      ^
                rules/test.cwr:10:13: error: duplicate dimension 'a' (first declared at rules/test.cwr:4:13)
                  dimension a "甲" { cap -5..5 }
                            ^
                rules/test.cwr:11:13: error: dimension 'c' is missing 'cap'
                  dimension c "丙" { item y "y" points -1 when paid > 2 }
                            ^
                rules/test.cwr:12:12: error: duplicate override 'y' in scorecard 'card' (first declared at rules/test.cwr:11:26)
                  override y "y" cap grade B when paid > 3
                           ^
                rules/test.cwr:13:22: error: grade 'B' needs a threshold like 'B >= 500'; only the last grade has none
                  grades { A >= 700, B, A }
                                     ^
                rules/test.cwr:13:25: error: duplicate grade 'A' (first declared at rules/test.cwr:13:12)
                  grades { A >= 700, B, A }
                                        ^

                """)
    }

    @Test func itemsAreTypeCheckedLikeRules() {
        #expect(
            Fixtures.diagnostics(
                """
                feature paid = sum(tax.payment.amount, 3mo)
                feature cases = count(court.enforcement, 90d)
                scorecard card {
                  base 600; range 0..1000
                  dimension a "甲" {
                    cap 100
                    item x "纳税 {paid} 元，{pad}" points = paid > 0
                    item y "y" points = clamp(paid / 1000, 0, 40) when paid
                    item z "z" points +5 when paid > cases
                    item w "w" points = clamp(paid, "0", 10) when unknown_thing > 1
                  }
                  override o "o" floor grade A when cases
                  grades { A >= 700, B }
                }
                """)
                == """
                rules/test.cwr:7:25: error: unknown placeholder '{pad}' in explanation; did you mean 'paid'?
                    item x "纳税 {paid} 元，{pad}" points = paid > 0
                                        ^
                rules/test.cwr:7:46: error: 'points' needs a number, found a condition
                    item x "纳税 {paid} 元，{pad}" points = paid > 0
                                                             ^
                rules/test.cwr:8:56: error: 'when' needs a condition, found money
                    item y "y" points = clamp(paid / 1000, 0, 40) when paid
                                                                       ^
                rules/test.cwr:9:36: error: cannot compare money with a count
                    item z "z" points +5 when paid > cases
                                                   ^
                rules/test.cwr:10:37: error: cannot clamp money with a string
                    item w "w" points = clamp(paid, "0", 10) when unknown_thing > 1
                                                    ^
                rules/test.cwr:10:51: error: unknown feature 'unknown_thing'
                    item w "w" points = clamp(paid, "0", 10) when unknown_thing > 1
                                                                  ^
                rules/test.cwr:12:37: error: 'when' needs a condition, found a count
                  override o "o" floor grade A when cases
                                                    ^

                """)
    }

    @Test func syntaxErrorsAndMissingFieldsAreAllReported() {
        #expect(
            Fixtures.diagnostics(
                """
                scorecard card {
                  bse 600
                  dimension a "甲" {
                    cap 100
                    item x "x" points +5
                    weigth 2
                    item y "y" points +5 when 1 > 0
                  }
                  dimension b 乙 { cap 10 }
                  grades { A >= 700 B >= 600 C }
                }
                scorecard card { base 1; range 0..1; dimension a "a" { cap 1 }; grades { A } }
                """)
                == """
                rules/test.cwr:1:11: error: scorecard 'card' is missing 'base'
                scorecard card {
                          ^
                rules/test.cwr:1:11: error: scorecard 'card' is missing 'range'
                scorecard card {
                          ^
                rules/test.cwr:2:3: error: unknown scorecard field 'bse'; did you mean 'base'?
                  bse 600
                  ^
                rules/test.cwr:6:5: error: expected 'when' and a condition after fixed points, found 'weigth'
                    weigth 2
                    ^
                rules/test.cwr:6:5: error: unknown dimension field 'weigth'; did you mean 'weight'?
                    weigth 2
                    ^
                rules/test.cwr:9:15: error: unexpected '乙'; names use ASCII letters, digits and '_', and text goes in quotes "..."
                  dimension b 乙 { cap 10 }
                              ^
                rules/test.cwr:9:17: error: expected a quoted dimension title, e.g. "财务税务", found '{'
                  dimension b 乙 { cap 10 }
                                ^
                rules/test.cwr:12:11: error: duplicate scorecard 'card' (first declared at rules/test.cwr:1:11)
                scorecard card { base 1; range 0..1; dimension a "a" { cap 1 }; grades { A } }
                          ^

                """)
    }

    @Test func scorecardItemsAreBoundedLikeRules() {
        var limits = RuleCompiler.Limits()
        limits.maxScorecardItems = 2
        limits.maxRuleCost = 30
        #expect(
            Fixtures.diagnostics(
                """
                feature paid = sum(tax.payment.amount, 3mo)
                feature cases = count(court.enforcement, 90d)
                scorecard card {
                  base 600; range 0..1000
                  dimension a "甲" {
                    cap 100
                    item x "x" points +5 when paid > 0
                    item y "y" points = paid / 1000 when cases == 0
                  }
                  override o "o" cap grade B when cases > 0
                  grades { A >= 700, B }
                }
                """, limits: limits)
                == """
                rules/test.cwr:3:11: error: scorecard 'card' has too many items and overrides (3, the limit is 2)
                scorecard card {
                          ^
                rules/test.cwr:8:10: error: item 'y' is too expensive to evaluate (cost 48, the limit is 30)
                    item y "y" points = paid / 1000 when cases == 0
                         ^

                """)
    }
}

/// The scoring arithmetic on a small hand-written scorecard: weights, caps, rules as items,
/// overrides, the range, rounding and unknowns.
@Suite struct ScoringTests {
    typealias F = Fixtures

    static let source = """
        feature paid   = sum(tax.payment.amount, 3mo)
        feature cases  = count(court.enforcement, 90d)
        feature rating = latest(tax.taxpayer.credit_rating)

        rule many_cases (min = 1) {
          title "被执行案件"; category judicial; severity high
          when cases >= min
          score -30 in dimension court
          explain "近90天被执行案件 {cases} 件"
        }

        scorecard test "测试评分卡" {
          base  500
          range 0..1000
          dimension tax "纳税" {
            weight 150%
            cap 100
            item paid_points "近3个月纳税 {paid} 元" points = paid / 1000
            item rating_a "纳税信用 A 级" points +25 when rating == "A"
          }
          dimension court "司法" {
            cap -50..10
            item no_cases "无被执行案件" points +10 when cases == 0
            item many "被执行案件 {cases} 件" points -40 when cases >= 2
          }
          override cases_cap "被执行案件 {cases} 件，等级最高为 B" cap grade B when cases >= 3
          override rating_floor "纳税信用 A 级，等级至少为 A" floor grade A when rating == "A"
          grades { AA >= 900, A >= 700, B >= 500, C }
        }
        """

    static let program = Result { try F.compile(source) }

    private func score(_ records: [FactRecord]) throws -> ScoreResult {
        let result = try #require(try Self.program.get().score(F.entity("2024-05-15", records)))
        expectExplained(result)
        return result
    }

    @Test func compiledScorecard() throws {
        let card = try #require(try Self.program.get().scorecards.first)
        #expect(card.name == "test")
        #expect(card.title == "测试评分卡")
        #expect(card.base == 500)
        #expect(card.range == 0...1000)
        #expect(
            card.dimensions == [
                Scorecard.Dimension(
                    name: "tax", title: "纳税", weight: 1.5, minPoints: -100, maxPoints: 100, items: ["paid_points", "rating_a"],
                    rules: []),
                Scorecard.Dimension(
                    name: "court", title: "司法", weight: 1, minPoints: -50, maxPoints: 10, items: ["no_cases", "many"],
                    rules: ["many_cases"]),
            ])
        #expect(card.grades.map(\.name) == ["AA", "A", "B", "C"])
        #expect(card.grades.map(\.threshold) == [900, 700, 500, nil])
        #expect([1000, 900, 899, 700, 500, 499, 0].map(card.grade(of:)) == ["AA", "AA", "A", "A", "B", "C", "C"])
        #expect(card.location.description == "rules/test.cwr:12:11")
    }

    @Test func weightCapAndFloor() throws {
        let records = [
            F.record("tax.payment", "p1", "2024-04-10", ["amount": .n(45_500)]),
            F.record("tax.taxpayer", "t1", "2024-01-01", ["credit_rating": .s("A")]),
        ]
        let r = try score(records)
        #expect(
            describe(r) == [
                "item tax.paid_points +46 近3个月纳税 45500 元",
                "item tax.rating_a +25 纳税信用 A 级",
                "weight tax.tax +36 纳税维度权重 150%：71 分计为 107 分",
                "cap tax.tax -7 纳税维度得分 107 分，超过上限 100 分，按 100 分计",
                "item court.no_cases +10 无被执行案件",
                "override rating_floor +90 纳税信用 A 级，等级至少为 A",
            ])
        #expect(r.score == 700)
        #expect(r.grade == "A")
        #expect(
            r.dimensions == [
                DimensionScore(name: "tax", title: "纳税", raw: 71, weighted: 107, points: 100),
                DimensionScore(name: "court", title: "司法", raw: 10, weighted: 10, points: 10),
            ])
        #expect(r.lines[0].values == [NamedValue("paid", .n(45_500))])
        #expect(r.lines[0].sources == ["tax.payment/p1"])
        #expect(r.lines[1].values == [NamedValue("rating", .s("A"))])
        #expect(r.lines[1].sources == ["tax.taxpayer/t1"])
        #expect(r.overrides.map(\.name) == ["rating_floor"])
        #expect(r.appliedOverride?.name == "rating_floor")
        #expect(r.appliedOverride?.kind == .floor)
        #expect(r.appliedOverride?.grade == "A")
        #expect(r.unassessed == [])
        #expect(r.scorecard == "test")
        #expect(r.entity == "91430600MA4L0XXXX0")
        #expect(r.asOf == F.day("2024-05-15"))
        #expect(r.ruleSetVersion == (try Self.program.get().version))
        #expect(r.scorecardVersion == (try Self.program.get().scorecards[0].version))
    }

    @Test func ruleEffectsCountAsItemsAndCapsWinOverFloors() throws {
        let records = [
            F.record("court.enforcement", "e1", "2024-04-01"), F.record("court.enforcement", "e2", "2024-04-15"),
            F.record("court.enforcement", "e3", "2024-05-01"),
            F.record("tax.taxpayer", "t1", "2024-01-01", ["credit_rating": .s("A")]),
        ]
        let r = try score(records)
        #expect(
            describe(r) == [
                "item tax.rating_a +25 纳税信用 A 级",
                "weight tax.tax +13 纳税维度权重 150%：25 分计为 38 分",
                "item court.many -40 被执行案件 3 件",
                "rule court.many_cases -30 被执行案件：近90天被执行案件 3 件",
                "cap court.court +20 司法维度得分 -70 分，低于下限 -50 分，按 -50 分计",
                "override rating_floor +212 纳税信用 A 级，等级至少为 A",
                "override cases_cap -1 被执行案件 3 件，等级最高为 B",
            ])
        #expect(r.score == 699)
        #expect(r.grade == "B")
        let rule = r.lines[3]
        #expect(rule.values == [NamedValue("cases", .n(3)), NamedValue("min", .n(1))])
        #expect(rule.sources == ["court.enforcement/e1", "court.enforcement/e2", "court.enforcement/e3"])
        #expect(rule.ruleVersion == (try Self.program.get().rules[0].version))
        #expect(r.overrides.map { "\($0.name):\($0.points)" } == ["cases_cap:-1", "rating_floor:212"])
        #expect(r.appliedOverride?.name == "cases_cap")
        // The same rule fires as an alert with the same points.
        let evaluation = try Self.program.get().evaluate(F.entity("2024-05-15", records))
        #expect(evaluation.firings.map(\.score) == [Firing.ScoreEffect(points: -30, dimension: "court")])
    }

    @Test func unknownValuesContributeNothingAndAreListed() throws {
        let r = try score([])
        #expect(describe(r) == ["item court.no_cases +10 无被执行案件"])
        #expect(r.score == 510)
        #expect(r.grade == "B")
        #expect(
            r.unassessed == [
                UnassessedItem(dimension: "tax", name: "rating_a", text: "纳税信用 A 级", values: [NamedValue("rating", .null)]),
                UnassessedItem(
                    dimension: nil, name: "rating_floor", text: "纳税信用 A 级，等级至少为 A", values: [NamedValue("rating", .null)]),
            ])
        #expect(r.overrides == [])
        #expect(r.appliedOverride == nil)
    }

    @Test func anOverrideThatHoldsWithoutChangingTheScoreIsStillReported() throws {
        let records = (1...3).map { F.record("court.enforcement", "e\($0)", "2024-05-0\($0)") }
        let r = try score(records)
        #expect(
            describe(r) == [
                "item court.many -40 被执行案件 3 件", "rule court.many_cases -30 被执行案件：近90天被执行案件 3 件",
                "cap court.court +20 司法维度得分 -70 分，低于下限 -50 分，按 -50 分计",
            ])
        #expect(r.score == 450)
        #expect(r.grade == "C")
        #expect(
            r.appliedOverride
                == ScoreOverride(
                    name: "cases_cap", kind: .cap, grade: "B", text: "被执行案件 3 件，等级最高为 B", points: 0,
                    values: [NamedValue("cases", .n(3))], sources: ["court.enforcement/e1", "court.enforcement/e2", "court.enforcement/e3"]))
        #expect(r.unassessed.map(\.name) == ["rating_a", "rating_floor"])
    }

    @Test func rangeAndRounding() throws {
        let program = try F.compile(
            """
            feature paid = sum(tax.payment.amount, 3mo)
            scorecard high "高分" {
              base 990
              range 0..1000
              dimension d "维度" { cap 50; item grade_points "按纳税计分" points = clamp(paid, -100, 100) }
              grades { A >= 900, B }
            }
            """)
        func run(_ amount: Double) -> ScoreResult? {
            program.score(F.entity("2024-05-15", [F.record("tax.payment", "p", "2024-05-01", ["amount": .n(amount)])]))
        }
        let high = try #require(run(30))
        expectExplained(high)
        #expect(
            describe(high) == [
                "item d.grade_points +30 按纳税计分", "range range -20 总分 1020 分超出评分范围 0–1000 分，按 1000 分计",
            ])
        #expect(high.score == 1000)
        #expect(run(2.5).map(describe) == ["item d.grade_points +3 按纳税计分"])
        #expect(run(-2.5).map(describe) == ["item d.grade_points -3 按纳税计分"])
        #expect(run(0.49).map(describe) == [])
        let huge = try #require(run(1e300))
        #expect(huge.score == 1000)
        #expect(huge.dimensions == [DimensionScore(name: "d", title: "维度", raw: 100, weighted: 100, points: 50)])
        #expect(run(-1e300).map(\.score) == 940)
    }

    @Test func clampEverywhere() throws {
        let program = try F.compile(
            """
            feature paid = sum(tax.payment.amount, 3mo)
            feature bounded = clamp(paid, 100, 200)
            feature unknown_bound = clamp(paid, 0, avg(tax.payment.amount, 3mo))
            """)
        let values = program.evaluate(F.entity("2024-05-15", [F.record("tax.payment", "p", "2024-05-01", ["amount": .n(50)])]))
            .features
        #expect(values == ["paid": .n(50), "bounded": .n(100), "unknown_bound": .n(50)])
        #expect(program.evaluate(F.entity("2024-05-15", [])).features["unknown_bound"] == .null)
    }

    @Test func noScorecardMeansNoScore() throws {
        let program = try F.compile(VersionTests.tax)
        #expect(program.scorecards.isEmpty)
        #expect(program.score(F.entity("2024-05-15", [])) == nil)
        #expect(program.evaluateAndScore(F.entity("2024-05-15", [])).score == nil)
        #expect(try Self.program.get().score(F.entity("2024-05-15", []), scorecard: "other") == nil)
    }

    @Test func severalScorecards() throws {
        let program = try F.compile(
            Self.source + """

                scorecard startup "初创企业评分卡" {
                  base 600; range 0..1000
                  dimension court "司法" { cap 100 }
                  grades { A >= 700, B }
                }
                """)
        #expect(program.scorecards.map(\.name) == ["test", "startup"])
        let entity = F.entity("2024-05-15", [F.record("court.enforcement", "e1", "2024-05-01")])
        let startup = try #require(program.score(entity, scorecard: "startup"))
        #expect(describe(startup) == ["rule court.many_cases -30 被执行案件：近90天被执行案件 1 件"])
        #expect(startup.score == 570)
        #expect(program.score(entity)?.scorecard == "test")
    }
}

/// The city's default scorecard in `rules/scorecard.cwr`, on hand-built enterprises (as of
/// 2024-05-15).
@Suite struct ShippedScorecardTests {
    typealias F = Fixtures

    static func program() throws -> RuleProgram { try ShippedRulesTests.program() }

    /// The 12 months 2023-06 … 2024-05.
    static let months = (0..<12).map { (Month(year: 2023, month: 6) + $0).description }

    /// Established 2012, registered capital 5 million, tax credit A, 100,000 yuan of tax, 60 insured
    /// and 500 m³ of water every month, no negative record.
    static func healthy() -> [FactRecord] {
        var records = [
            F.record(
                "market.enterprise", "91X", "2024-01-02",
                ["established_date": .d("2012-03-01"), "registered_capital": .n(5_000_000), "status": .s("存续")]),
            F.record(
                "tax.taxpayer", "91X", "2024-01-01",
                ["taxpayer_status": .s("正常"), "credit_rating": .s("A"), "rating_year": .n(2023)]),
        ]
        for m in months {
            records.append(F.record("tax.payment", "tax-\(m)", "\(m)-10", ["amount": .n(100_000), "period": .s(m)]))
            records.append(F.record("hrss.insurance", "hr-\(m)", m, ["insured_count": .n(60), "arrears_amount": .n(0), "period": .s(m)]))
            records.append(F.record("water.usage", "w-\(m)", m, ["volume_m3": .n(500), "period": .s(m)]))
        }
        return records
    }

    private func score(_ records: [FactRecord]) throws -> ScoreResult {
        let r = try #require(try Self.program().score(F.entity("2024-05-15", records)))
        expectExplained(r)
        return r
    }

    static let healthyLines = [
        "item basic_info.established +30 成立 12.21 年",
        "item basic_info.capital_medium +10 注册资本 5000000 元（100万至1000万元）",
        "item finance_tax.tax_rating_a +40 纳税信用等级 A 级（评价年度 2023）",
        "item finance_tax.steady_tax +30 近12个月中有 12 个月纳税",
        "item finance_tax.tax_scale +24 近12个月纳税 1200000 元",
        "item judicial.clean_judicial +50 近3年无被执行案件，无未移出的失信记录，无不动产查封",
        "item compliance.clean_compliance +40 近3年无行政处罚，未列入经营异常名录",
        "item social_responsibility.insured_headcount +15 参保 60 人",
        "item social_responsibility.insurance_in_full +20 近12个月 12 个月参保且无欠费",
        "item operations.steady_water +20 近12个月中有 12 个月正常用水",
    ]

    @Test func shippedScorecardCompiles() throws {
        let card = try #require(try Self.program().scorecards.first)
        #expect(try Self.program().scorecards.count == 1)
        #expect(card.name == "city_default")
        #expect(card.title == "企业信用评分卡")
        #expect(card.base == 600)
        #expect(card.range == 0...1000)
        #expect(
            card.dimensions.map { "\($0.name) \($0.title) \($0.minPoints)..\($0.maxPoints) \($0.rules.joined(separator: ","))" } == [
                "basic_info 基本信息 -100..50 legal_rep_frequent_change",
                "finance_tax 财务税务 -250..120 tax_drop_yoy,tax_drop_industry_worst,taxpayer_abnormal,tax_credit_low,tax_arrears_announced,tax_payments_stopped",
                "judicial 司法 -300..50 dishonest_debtor,enforcement_cases_90d,property_seized,legal_rep_dishonest,shareholder_equity_frozen,sister_distress",
                "compliance 监管合规 -150..40 abnormal_operations,serious_penalty",
                "social_responsibility 社会责任 -100..50 insured_headcount_drop,insurance_arrears",
                "lending 信贷 -200..40 loan_overdue,loan_non_performing,loan_written_off",
                "operations 生产经营 -60..20 water_usage_collapse,water_arrears",
            ])
        #expect(card.dimensions.allSatisfy { $0.weight == 1 })
        #expect(card.grades.map { "\($0.name)\($0.threshold.map { ">=\($0)" } ?? "")" } == ["AAA>=900", "AA>=800", "A>=700", "B>=600", "C>=500", "D"])
        // Every enterprise rule with a score effect scores in some dimension.
        let scored = try Self.program().rules.filter { $0.kind == .enterprise && $0.score != nil }.map(\.name)
        #expect(Set(card.dimensions.flatMap(\.rules)) == Set(scored))
        #expect(scored.count == 22)
    }

    @Test func healthyEnterpriseGetsAA() throws {
        let r = try score(Self.healthy())
        #expect(describe(r) == Self.healthyLines)
        #expect(r.score == 879)
        #expect(r.grade == "AA")
        #expect(r.unassessed == [])
        #expect(r.overrides == [])
        #expect(
            r.dimensions.map { "\($0.name):\($0.points)" } == [
                "basic_info:40", "finance_tax:94", "judicial:50", "compliance:40", "social_responsibility:35", "lending:0",
                "operations:20",
            ])
        let steady = r.lines[3]
        #expect(steady.values == [NamedValue("tax_months_paid_12mo", .n(12))])
        #expect(steady.sources == Self.months.map { "tax.payment/tax-\($0)" })
        #expect(r.lines[0].values == [NamedValue("established_years", .n(4458.0 / 365))])
        #expect(r.lines[0].sources == ["market.enterprise/91X"])
        // Scoring with the rules in one pass gives the same score and no alert.
        let both = try Self.program().evaluateAndScore(F.entity("2024-05-15", Self.healthy()))
        #expect(both.score == r)
        #expect(both.evaluation.firings == [])
        // Graded AA without a dishonest listing: trustworthy, a tag assigned only after scoring.
        #expect(
            both.evaluation.tags.map { "\($0.tag): \($0.explanation)" } == ["trustworthy: 信用等级 AA（879 分），无未移出的失信被执行人记录"])
        #expect(both.evaluation.tags[0].values == [NamedValue("grade", .s("AA")), NamedValue("dishonest_active_count", .n(0))])
        #expect(try Self.program().evaluate(F.entity("2024-05-15", Self.healthy())).tags == [])
    }

    /// An evaluation asked for some features' values reports those only, and decides exactly as
    /// one that reports every feature (rules, tags and the score compute what they read).
    @Test func anEvaluationReportsTheFeaturesAskedForAndDecidesTheSame() throws {
        let program = try Self.program()
        var records = Self.healthy()
        records.append(F.record("tax.arrears", "a1", "2024-04-20", ["amount": .n(50_000), "announced_date": .d("2024-04-20")]))
        let data = F.entity("2024-05-15", records)
        let all = program.evaluateAndScore(data)
        let some = program.evaluateAndScore(data, features: .only(["tax_paid_12mo", "no_such_feature"]))
        let none = program.evaluateAndScore(data, features: .only([]))
        #expect(all.evaluation.features.count == program.features.filter { $0.kind == .enterprise }.count)
        #expect(all.evaluation.features["tax_paid_12mo"] == .n(1_200_000))
        #expect(some.evaluation.features == ["tax_paid_12mo": .n(1_200_000)])
        #expect(none.evaluation.features == [:])
        #expect(all.evaluation.firings.map(\.rule) == ["tax_arrears_announced"])
        for other in [some, none] {
            #expect(other.score == all.score)
            #expect(other.evaluation.firings == all.evaluation.firings)
            #expect(other.evaluation.tags == all.evaluation.tags)
            #expect(other.evaluation.peers == all.evaluation.peers)
            #expect(other.evaluation.suspended == all.evaluation.suspended)
        }
    }

    @Test func taxDropAndArrearsLowerTheGrade() throws {
        var records = Self.healthy().filter { $0.topic != "tax.payment" && $0.key != "hr-2024-04" }
        for m in ["2023-03", "2023-04", "2023-05"] + Self.months {
            let amount = m >= "2024-03" ? 20_000.0 : 100_000
            records.append(F.record("tax.payment", "tax-\(m)", "\(m)-10", ["amount": .n(amount), "period": .s(m)]))
        }
        records.append(F.record("tax.arrears", "a1", "2024-04-20", ["amount": .n(50_000), "announced_date": .d("2024-04-20")]))
        records.append(
            F.record("hrss.insurance", "hr-2024-04", "2024-04", ["insured_count": .n(60), "arrears_amount": .n(8000), "period": .s("2024-04")]))
        let r = try score(records)
        #expect(
            describe(r) == [
                "item basic_info.established +30 成立 12.21 年",
                "item basic_info.capital_medium +10 注册资本 5000000 元（100万至1000万元）",
                "item finance_tax.tax_rating_a +40 纳税信用等级 A 级（评价年度 2023）",
                "item finance_tax.steady_tax +30 近12个月中有 12 个月纳税",
                "item finance_tax.tax_scale +19 近12个月纳税 960000 元",
                "rule finance_tax.tax_drop_yoy -40 纳税额同比大幅下降：近3个月纳税 60000 元，去年同期 300000 元，同比下降 80%（阈值 50%）",
                "rule finance_tax.tax_arrears_announced -40 被公告欠税：近12个月被公告欠税 1 次，欠税金额合计 50000 元，最近公告日期 2024-04-20",
                "item judicial.clean_judicial +50 近3年无被执行案件，无未移出的失信记录，无不动产查封",
                "item compliance.clean_compliance +40 近3年无行政处罚，未列入经营异常名录",
                "item social_responsibility.insured_headcount +15 参保 60 人",
                "rule social_responsibility.insurance_arrears -20 社保欠费：近3个月有 1 个月社保欠费，最高欠费 8000 元",
                "item operations.steady_water +20 近12个月中有 12 个月正常用水",
            ])
        #expect(r.score == 754)
        #expect(r.grade == "A")
        #expect(r.lines[6].sources == ["tax.arrears/a1"])
        #expect(r.lines[6].ruleVersion == (try Self.program().rules.first { $0.name == "tax_arrears_announced" }?.version))
    }

    static let dishonest = F.record(
        "court.dishonest", "(2023)湘06执123号", "2023-03-01",
        ["listed_date": .d("2023-03-01"), "amount": .n(500_000), "removed_date": .null])

    @Test func dishonestListingCapsTheGradeAtC() throws {
        let r = try score(Self.healthy() + [Self.dishonest])
        var expected = Self.healthyLines.filter { !$0.contains("clean_judicial") }
        expected.insert(
            "rule judicial.dishonest_debtor -200 被列为失信被执行人：被列为失信被执行人 1 起（未移出），涉及金额 500000 元，最早列入日期 2023-03-01",
            at: 5)
        expected.append("override dishonest_cap -30 存在未移出的失信被执行人记录 1 起，信用等级最高为 C")
        #expect(describe(r) == expected)
        // 629 points would be B; the live listing caps the grade at C (the C band's top score).
        #expect(r.dimensions.map(\.points).reduce(r.base, +) == 629)
        #expect(r.score == 599)
        #expect(r.grade == "C")
        let applied = try #require(r.appliedOverride)
        #expect(applied.name == "dishonest_cap")
        #expect(applied.kind == .cap)
        #expect(applied.grade == "C")
        #expect(applied.points == -30)
        #expect(applied.values == [NamedValue("dishonest_active_count", .n(1))])
        #expect(applied.sources == ["court.dishonest/(2023)湘06执123号"])

        // The removal of the listing restores the grade.
        let removed = F.record(
            "court.dishonest", "(2023)湘06执123号", "2023-03-01",
            ["listed_date": .d("2023-03-01"), "amount": .n(500_000), "removed_date": .d("2024-05-01")])
        let restored = try score(Self.healthy() + [removed])
        #expect(restored.score == 879)
        #expect(restored.grade == "AA")
        #expect(restored.overrides == [])
    }

    @Test func deregisteredEnterpriseIsD() throws {
        var records = Self.healthy()
        records[0] = F.record(
            "market.enterprise", "91X", "2024-01-02",
            ["established_date": .d("2012-03-01"), "registered_capital": .n(5_000_000), "status": .s("吊销")])
        let r = try score(records)
        #expect(r.grade == "D")
        #expect(r.score == 499)
        #expect(
            describe(r).filter { $0.hasPrefix("override") || $0.contains("deregistered") } == [
                "item basic_info.deregistered -100 登记状态为 吊销", "override deregistered_cap -280 登记状态为 吊销，信用等级为 D",
            ])
    }

    @Test func unknownFeaturesAreListedNotScored() throws {
        let records = [
            F.record("market.enterprise", "91X", "2024-01-02", ["established_date": .null, "registered_capital": .null, "status": .s("存续")])
        ]
        let r = try score(records)
        #expect(
            describe(r) == [
                "item judicial.clean_judicial +50 近3年无被执行案件，无未移出的失信记录，无不动产查封",
                "item compliance.clean_compliance +40 近3年无行政处罚，未列入经营异常名录",
            ])
        #expect(r.score == 690)
        #expect(r.grade == "B")
        #expect(
            r.unassessed.map { "\($0.dimension ?? "-").\($0.name) \($0.text) \($0.values.map { "\($0.name)=\($0.value.displayText)" })" } == [
                "basic_info.established 成立 未知 年 [\"established_years=未知\"]",
                "basic_info.capital_large 注册资本 未知 元（1000万元及以上） [\"registered_capital=未知\"]",
                "basic_info.capital_medium 注册资本 未知 元（100万至1000万元） [\"registered_capital=未知\"]",
                "finance_tax.tax_rating_a 纳税信用等级 A 级（评价年度 未知） [\"tax_credit_rating=未知\"]",
                "finance_tax.tax_rating_b 纳税信用等级 B 级（评价年度 未知） [\"tax_credit_rating=未知\"]",
                "social_responsibility.insured_headcount 参保 未知 人 [\"insured_recent=未知\"]",
            ])
    }

    @Test func scoresAreDeterministic() throws {
        let records = Self.healthy() + [Self.dishonest]
        let a = try score(records)
        let b = try score(records.reversed())
        #expect(a == b)
    }

    @Test func versionsFollowTheScorecardAndItsRules() throws {
        let files = try F.shippedRuleFiles()
        /// The shipped set with one text replaced in one file.
        func compile(_ file: String = "", replacing old: String = "", with new: String = "", prefix: String = "") throws
            -> RuleProgram
        {
            let edited = files.map { f in
                f.path == "rules/\(file)" ? SourceFile(path: f.path, text: prefix + f.text.replacingOccurrences(of: old, with: new)) : f
            }
            #expect(edited != files || file.isEmpty)
            return try RuleCompiler.compile(edited, schema: F.schema).get()
        }
        func versions(_ p: RuleProgram) -> [String: String] { Dictionary(uniqueKeysWithValues: p.rules.map { ($0.name, $0.version) }) }
        let base = try compile()

        // Editing the scorecard changes the set and the scorecard, not the rules.
        let rebased = try compile("scorecard.cwr", replacing: "base  600", with: "base  610")
        #expect(rebased.version != base.version)
        #expect(rebased.scorecards[0].version != base.scorecards[0].version)
        #expect(versions(rebased) == versions(base))
        #expect(rebased.score(F.entity("2024-05-15", Self.healthy()))?.score == 889)

        // Comments and layout change the set's hash only.
        let commented = try compile("scorecard.cwr", replacing: "base  600", with: "base 600", prefix: "// 注释\n")
        #expect(commented.version != base.version)
        #expect(commented.scorecards[0].version == base.scorecards[0].version)

        // Editing a rule that scores in the card, or a feature an item reads, changes the card's version.
        let rule = try compile("tax.cwr", replacing: "drop = 50%", with: "drop = 40%")
        #expect(rule.scorecards[0].version != base.scorecards[0].version)
        let feature = try compile(
            "social_insurance.cwr", replacing: "last(hrss.insurance.insured_count, 3mo)", with: "last(hrss.insurance.insured_count, 2mo)")
        #expect(feature.scorecards[0].version != base.scorecards[0].version)
        #expect(base.score(F.entity("2024-05-15", []))?.scorecardVersion == base.scorecards[0].version)
    }
}
