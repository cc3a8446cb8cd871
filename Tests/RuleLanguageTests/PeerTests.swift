import Testing

@testable import RuleLanguage

/// Peers (issue 11): `share(COND)`, `members(COND)` and `percentile(FEATURE, P)` in industry features
/// and rules; the measures a program lists, an enterprise's values of them, the division's figures
/// as industry rules read them, `{feature:members}`, and the diagnostics.
@Suite struct PeerTests {
    /// The enterprise features and the rule as shipped (`rules/utility.cwr`, `rules/tax.cwr`), and the
    /// industry features and rule that read them.
    static let source = """
        feature water_months_overdue   = latest(water.arrears.months_overdue)
        feature water_amount_due       = latest(water.arrears.amount_due)
        feature tax_paid_3mo           = sum(tax.payment.amount, 3mo)
        feature tax_paid_3mo_ly        = sum(tax.payment.amount, 3mo, offset 12mo)
        feature tax_drop_ratio_yoy     = 1 - tax_paid_3mo / tax_paid_3mo_ly

        rule water_arrears (min_months = 3) {
          title    "水费欠费3个月以上"
          category utility
          severity medium
          when     water_months_overdue >= min_months
          score    -15 in dimension operations
          cooldown 30d
          explain  "水费已欠费 {water_months_overdue} 个月，欠费金额 {water_amount_due} 元"
        }

        industry feature utility_arrears_share = share(alerted(utility))
        industry feature arrears_3mo_share     = share(water_months_overdue >= 3)
        industry feature arrears_3mo_members   = members(water_months_overdue >= 3)
        industry feature tax_drop_p95          = percentile(tax_drop_ratio_yoy, 95%)

        industry rule utility_arrears_wave (min_population = 10, share = 50%) {
          title    "行业水费欠费企业集中出现"
          category industry
          severity high
          when     population >= min_population and arrears_3mo_share >= share
          cooldown 30d
          explain  "行业 {division} 的 {population} 家企业中 {arrears_3mo_share:%} 水费欠费3个月以上（阈值 {share}）：{arrears_3mo_share:members}"
        }
        """

    static let asOf = "2026-11-30"
    static let arrears = "water_months_overdue >= 3"
    static let utility = "alerted ( utility )"

    static func program(_ text: String = source, overrides: [String: Double] = [:]) throws -> RuleProgram {
        try Fixtures.compile(text, overrides: overrides)
    }

    /// USCC-like ids, sorted as numbered.
    static func uscc(_ i: Int) -> String { "9143010000000" + String(1000 + i) + "X" }

    static func arrearsRecord(months: Int) -> FactRecord {
        Fixtures.record("water.arrears", "WA1", "2026-11-01", ["id": .s("WA1"), "months_overdue": .n(Double(months)), "amount_due": .n(3600)])
    }

    static func payment(_ key: String, _ day: String, _ amount: Double) -> FactRecord {
        Fixtures.record("tax.payment", key, day, ["id": .s(key), "amount": .n(amount)])
    }

    static func division(population: Int = 20, peers: [String: PeerFigures]) -> IndustryData {
        IndustryData(division: "C30", asOf: Fixtures.day(asOf), population: population, alerted: 0, monthlySums: [:], peers: peers)
    }

    /// A division of `population` enterprises, the first `holding` of which are 3 months or more in arrears.
    static func arrearsDivision(population: Int, holding: Int) -> IndustryData {
        let values = Dictionary(uniqueKeysWithValues: (0..<population).map { (uscc($0), $0 < holding ? 1.0 : 0.0) })
        return division(population: population, peers: [arrears: PeerFigures(.condition, of: values)])
    }

    // MARK: - What the engine needs

    @Test func programListsTheMeasuresItReads() throws {
        let p = try Self.program()
        #expect(
            p.peerMeasures == [
                PeerMeasure(key: "alerted ( utility )", kind: .condition),
                PeerMeasure(key: "tax_drop_ratio_yoy", kind: .value),
                PeerMeasure(key: "water_months_overdue >= 3", kind: .condition),
            ])
        #expect(p.industryFeatureNames == ["utility_arrears_share", "arrears_3mo_share", "arrears_3mo_members", "tax_drop_p95"])
        // The topics the conditions read are the enterprises' to load.
        #expect(p.topicsUsed == ["tax.payment", "water.arrears"])
        #expect(try Self.program("feature x = count(tax.payment)").peerMeasures == [])
    }

    /// The shipped peer features (arrears share, tax-drop percentile) and one over the shipped
    /// rules' own firings, over the shipped enterprise features and rules.
    @Test func overTheShippedRules() throws {
        let peers = "industry feature zz_utility_alert_share = share(alerted(utility))"
        let files = try Fixtures.shippedRuleFiles() + [SourceFile(path: "rules/zz_peers.cwr", text: peers)]
        let p = try RuleCompiler.compile(files, schema: Fixtures.schema).get()
        let keys = Set(p.peerMeasures.map(\.key))
        #expect(keys.isSuperset(of: [Self.utility, Self.arrears, "tax_drop_ratio_yoy"]))
        let e = p.evaluate(Fixtures.entity(Self.asOf, [Self.arrearsRecord(months: 4)]))
        #expect(e.firings.map(\.rule).contains("water_arrears"))
        #expect(e.peers[Self.utility] == 1 && e.peers[Self.arrears] == 1 && e.peers["tax_drop_ratio_yoy"] == nil)
    }

    @Test func conditionKeysShowTheirParametersValues() throws {
        let text = """
            feature water_months_overdue = latest(water.arrears.months_overdue)
            industry rule arrears_many (months = 3, min_members = 5) {
              title    "欠费企业多"
              category industry
              severity medium
              when     members(water_months_overdue   >= months) >= min_members
              explain  "{population}"
            }
            """
        let p = try Self.program(text)
        #expect(p.peerMeasures == [PeerMeasure(key: "water_months_overdue >= 3", kind: .condition)])
        let overridden = try Self.program(text, overrides: ["arrears_many.months": 2.5])
        #expect(overridden.peerMeasures == [PeerMeasure(key: "water_months_overdue >= 2.5", kind: .condition)])
        #expect(Checker.keyNumber(0.5) == "0.5")
        #expect(Checker.keyNumber(-100_000) == "-100000")
    }

    @Test func readersAreVersionedWithWhatTheirConditionsRead() throws {
        let p = try Self.program()
        let edited = try Self.program(
            Self.source.replacingOccurrences(
                of: "latest(water.arrears.months_overdue)", with: "max(water.arrears.months_overdue, 3mo)"))
        let before = p.rules.first { $0.name == "utility_arrears_wave" }?.version
        let after = edited.rules.first { $0.name == "utility_arrears_wave" }?.version
        #expect(before != nil && before != after)
    }

    // MARK: - An enterprise's values

    @Test func enterpriseValuesOfEachMeasure() throws {
        let p = try Self.program()
        let payments = [
            Self.payment("P1", "2025-10-10", 60_000), Self.payment("P2", "2025-11-10", 40_000),
            Self.payment("P3", "2026-10-10", 15_000), Self.payment("P4", "2026-11-10", 5_000),
        ]
        // Four months overdue: its own medium water-arrears alert is a utility one.
        let inArrears = p.evaluate(Fixtures.entity(Self.asOf, [Self.arrearsRecord(months: 4)] + payments))
        #expect(inArrears.firings.map(\.rule) == ["water_arrears"])
        #expect(inArrears.peers == [Self.utility: 1, Self.arrears: 1, "tax_drop_ratio_yoy": 0.8])
        #expect(p.evaluateAndScore(Fixtures.entity(Self.asOf, [Self.arrearsRecord(months: 4)] + payments)).evaluation.peers == inArrears.peers)

        // Two months: neither holds; no tax last year: the drop is unknown, so absent.
        let twoMonths = p.evaluate(Fixtures.entity(Self.asOf, [Self.arrearsRecord(months: 2), Self.payment("P4", "2026-11-10", 5_000)]))
        #expect(twoMonths.firings == [])
        #expect(twoMonths.peers == [Self.utility: 0, Self.arrears: 0])

        // No arrears record: unknown, not 0; not alerted is known.
        let unknown = p.evaluate(Fixtures.entity(Self.asOf, []))
        #expect(unknown.peers == [Self.utility: 0])

        // Persons have no peers.
        let person = EntityData(entity: "430602198001011234", kind: .person, asOf: Fixtures.day(Self.asOf), records: [:])
        #expect(p.evaluate(person).peers == [:])
    }

    @Test func alertedReadsTheEnterprisesFinalFirings() throws {
        let p = try Self.program(
            Self.source + """

                feature legal_rep_dishonest = any(legal_representative, count(court.dishonest) >= 1)
                rule legal_rep_dishonest {
                  title    "法定代表人失信"
                  category related
                  severity high
                  when     legal_rep_dishonest
                  explain  "法定代表人 {legal_rep_dishonest:who} 失信"
                }
                industry feature related_share = share(alerted(related) and not alerted(critical))
                """)
        let key = "alerted ( related ) and not alerted ( critical )"
        let rep = RelatedEntity(
            edge: Fixtures.record("market.enterprise", "91430600MA4L0XXXX0", "2024-01-01"), via: ["market.enterprise/91430600MA4L0XXXX0"],
            name: "张三",
            data: EntityData(
                entity: "430602198001011234", kind: .person, asOf: Fixtures.day(Self.asOf),
                records: ["court.dishonest": [Fixtures.record("court.dishonest", "D1", "2026-03-01", ["case_no": .s("D1")])]]))
        let entity = EntityData(
            entity: "91430600MA4L0XXXX0", asOf: Fixtures.day(Self.asOf), records: [:], related: ["legal_representative": [rep]])
        // A rule that reads relations is among the enterprise's own firings.
        let e = p.evaluate(entity)
        #expect(e.firings.map(\.rule) == ["legal_rep_dishonest"])
        #expect(e.peers[key] == 1)
        #expect(p.evaluate(Fixtures.entity(Self.asOf, [])).peers[key] == 0)
    }

    @Test func figuresFromTheEnterprisesValues() {
        let condition = PeerFigures(.condition, of: ["B": 1, "A": 1, "C": 0])
        #expect(condition == PeerFigures(known: 3, holding: 2, members: ["A", "B"]))
        let many = PeerFigures(.condition, of: Dictionary(uniqueKeysWithValues: (0..<150).map { (Self.uscc($0), 1.0) }))
        #expect(many.known == 150 && many.holding == 150 && many.members == (0..<100).map(Self.uscc))
        #expect(PeerFigures(.value, of: ["A": 3, "B": -1, "C": 2.5]) == PeerFigures(known: 3, values: [-1, 2.5, 3]))
        #expect(PeerFigures(.value, of: [:]) == PeerFigures(known: 0))
    }

    // MARK: - Industry evaluation

    @Test func mostOfADivisionInArrearsRaisesAnAlertNamingThem() throws {
        let p = try Self.program()
        let firings = p.evaluate(Self.arrearsDivision(population: 20, holding: 12))
        #expect(firings.map(\.rule) == ["utility_arrears_wave"])
        let firing = try #require(firings.first)
        let members = (0..<12).map(Self.uscc)
        #expect(
            firing.explanation
                == "行业 C30 的 20 家企业中 60% 水费欠费3个月以上（阈值 50%）：" + members.joined(separator: "、"))
        #expect(firing.sources == members.map { "market.enterprise/\($0)" })
        #expect(
            firing.values == [
                NamedValue("population", .n(20)), NamedValue("min_population", .n(10)), NamedValue("arrears_3mo_share", .n(0.6)),
                NamedValue("share", .n(0.5)),
            ])
        #expect(
            p.industryFeatures(Self.arrearsDivision(population: 20, holding: 12)) == [
                "utility_arrears_share": .null, "arrears_3mo_share": .n(0.6), "arrears_3mo_members": .n(12), "tax_drop_p95": .null,
            ])
    }

    @Test func aFewInArrearsDoNotFire() throws {
        let p = try Self.program()
        #expect(p.evaluate(Self.arrearsDivision(population: 20, holding: 2)) == [])
        // Too small a division, however many.
        #expect(p.evaluate(Self.arrearsDivision(population: 9, holding: 9)) == [])
        // No figures: unknown, not 0.
        #expect(p.evaluate(Self.division(peers: [:])) == [])
        #expect(p.industryFeatures(Self.division(peers: [:]))["arrears_3mo_members"] == .null)
        // None known (no enterprise has arrears records): none of the 20 holds it.
        let none = Self.division(peers: [Self.arrears: PeerFigures(known: 0)])
        #expect(p.industryFeatures(none)["arrears_3mo_share"] == .n(0))
        // An empty division has no share.
        #expect(p.industryFeatures(Self.division(population: 0, peers: [Self.arrears: PeerFigures(known: 0)]))["arrears_3mo_share"] == .null)
        #expect(p.industryFeatures(none)["arrears_3mo_members"] == .n(0))
        // Figures that do not add up are unknown.
        let broken = Self.division(peers: [Self.arrears: PeerFigures(known: 2, holding: 3, members: ["A", "B", "C"])])
        #expect(p.industryFeatures(broken)["arrears_3mo_share"] == .null)
    }

    @Test func membersBeyondTwentyAreCounted() throws {
        let p = try Self.program()
        let firing = try #require(p.evaluate(Self.arrearsDivision(population: 50, holding: 30)).first)
        let shown = (0..<20).map(Self.uscc).joined(separator: "、")
        #expect(firing.explanation == "行业 C30 的 50 家企业中 60% 水费欠费3个月以上（阈值 50%）：\(shown)等 30 家")
        #expect(firing.sources == (0..<30).map { "market.enterprise/\(Self.uscc($0))" })
    }

    @Test func conditionsWrittenInTheRule() throws {
        let p = try Self.program(
            """
            feature water_months_overdue = latest(water.arrears.months_overdue)
            industry feature arrears_members = members(water_months_overdue >= 3)
            industry rule arrears_many (min_members = 3) {
              title    "欠费企业多"
              category industry
              severity medium
              when     members(water_months_overdue >= 3) >= min_members and share(water_months_overdue >= 6) < 50%
              explain  "{arrears_members} 家：{arrears_members:members}"
            }
            """)
        let data = Self.division(peers: [
            Self.arrears: PeerFigures(known: 10, holding: 3, members: ["C", "A", "B"]),
            "water_months_overdue >= 6": PeerFigures(known: 10, holding: 1, members: ["D"]),
        ])
        let firing = try #require(p.evaluate(data).first)
        #expect(firing.explanation == "3 家：A、B、C")
        #expect(firing.sources == ["market.enterprise/A", "market.enterprise/B", "market.enterprise/C", "market.enterprise/D"])
        #expect(
            firing.values == [
                NamedValue("members(water_months_overdue >= 3)", .n(3)), NamedValue("min_members", .n(3)),
                // The share of the division's 20 enterprises, not of the 10 with arrears records.
                NamedValue("share(water_months_overdue >= 6)", .n(0.05)),
            ])
    }

    @Test func percentileByNearestRank() throws {
        let p = try Self.program(
            """
            feature tax_paid_3mo       = sum(tax.payment.amount, 3mo)
            feature tax_paid_3mo_ly    = sum(tax.payment.amount, 3mo, offset 12mo)
            feature tax_drop_ratio_yoy = 1 - tax_paid_3mo / tax_paid_3mo_ly
            industry feature p0   = percentile(tax_drop_ratio_yoy, 0%)
            industry feature p5   = percentile(tax_drop_ratio_yoy, 5%)
            industry feature p50  = percentile(tax_drop_ratio_yoy, 50%)
            industry feature p95  = percentile(tax_drop_ratio_yoy, 95%)
            industry feature p100 = percentile(tax_drop_ratio_yoy, 100%)
            industry feature paid_p50 = percentile(tax_paid_3mo, 50%)
            industry rule tax_paid_low (p = 7%, max_paid = 1000) {
              title    "行业纳税普遍偏低"
              category industry
              severity low
              when     percentile(tax_paid_3mo, p) < max_paid
              explain  "{paid_p50} 元"
            }
            """)
        let key = "tax_drop_ratio_yoy"
        let population = PeerFigures(.value, of: Dictionary(uniqueKeysWithValues: (1...20).map { (Self.uscc($0), Double(21 - $0)) }))
        #expect(population.values == (1...20).map(Double.init))
        let values = p.industryFeatures(Self.division(peers: [key: population]))
        #expect(values["p0"] == .n(1) && values["p5"] == .n(1) && values["p50"] == .n(10) && values["p95"] == .n(19) && values["p100"] == .n(20))
        let empty = p.industryFeatures(Self.division(peers: [key: PeerFigures(known: 0)]))
        #expect(["p0", "p5", "p50", "p95", "p100"].map { empty[$0] } == Array(repeating: .null, count: 5))
        // 7% of 100 is rank 7 exactly (not 8 by rounding error).
        let hundred = PeerFigures(known: 100, values: (1...100).map(Double.init))
        #expect(hundred.percentile(0.07) == 7 && hundred.percentile(0.071) == 8 && hundred.percentile(1.5) == nil)
        // The feature's unit is kept: money compares with money.
        let paid = PeerFigures(known: 3, values: [200, 800, 5000])
        let firing = try #require(p.evaluate(Self.division(peers: ["tax_paid_3mo": paid])).first)
        #expect(
            firing.values == [NamedValue("p", .n(0.07)), NamedValue("percentile(tax_paid_3mo, 7%)", .n(200)), NamedValue("max_paid", .n(1000))])
        #expect(firing.explanation == "800 元")
        #expect(firing.sources == [])
    }

    // MARK: - Diagnostics

    @Test func peersOnlyInIndustryExpressions() {
        #expect(
            Fixtures.diagnostics(
                """
                feature water_months_overdue = latest(water.arrears.months_overdue)
                feature s = share(water_months_overdue >= 3)
                rule r {
                  title "t"
                  category utility
                  severity low
                  when  members(water_months_overdue >= 3) >= 1 or percentile(water_months_overdue, 50%) > 1
                  explain "x"
                }
                industry feature nested = share(members(water_months_overdue >= 3) >= 1)
                industry feature a = alerted(high)
                """) == """
                rules/test.cwr:2:13: error: 'share' is only available in industry rules and industry features
                feature s = share(water_months_overdue >= 3)
                            ^
                rules/test.cwr:7:9: error: 'members' is only available in industry rules and industry features
                  when  members(water_months_overdue >= 3) >= 1 or percentile(water_months_overdue, 50%) > 1
                        ^
                rules/test.cwr:7:52: error: 'percentile' is only available in industry rules and industry features
                  when  members(water_months_overdue >= 3) >= 1 or percentile(water_months_overdue, 50%) > 1
                                                                   ^
                rules/test.cwr:10:33: error: 'members' cannot be used inside 'share'; they do not nest
                industry feature nested = share(members(water_months_overdue >= 3) >= 1)
                                                ^
                rules/test.cwr:11:22: error: 'alerted(…)' asks about one enterprise's alerts; an industry rule counts them with share(alerted(…)) or members(alerted(…))
                industry feature a = alerted(high)
                                     ^

                """)
    }

    @Test func whatAConditionMayRead() {
        #expect(
            Fixtures.diagnostics(
                """
                feature water_months_overdue = latest(water.arrears.months_overdue)
                tag big "大" when water_months_overdue > 0
                industry feature i = population
                industry feature a = share(water_months_overdue)
                industry feature b = share(alerted_share > 1)
                industry feature c = share(tagged big)
                industry feature d = members(i > 1)
                industry feature e = share(alerted(hgh))
                industry feature f = members(count(water.arrears, 3mo) >= 1 and entity in watch)
                list watch "关注" = ["A"]
                """) == """
                rules/test.cwr:4:28: error: 'share' needs a condition for each enterprise, found a count
                industry feature a = share(water_months_overdue)
                                           ^
                rules/test.cwr:5:28: error: 'alerted_share' is a figure of the division; the condition of 'share' reads each enterprise's features, parameters and alerted(…)
                industry feature b = share(alerted_share > 1)
                                           ^
                rules/test.cwr:6:28: error: 'tagged' cannot be used here; the condition of 'share' reads each enterprise's features, parameters and alerted(…)
                industry feature c = share(tagged big)
                                           ^
                rules/test.cwr:7:30: error: 'i' is an industry feature; the condition of 'members' reads each enterprise's features, parameters and alerted(…)
                industry feature d = members(i > 1)
                                             ^
                rules/test.cwr:8:36: error: unknown severity or category 'hgh'; did you mean 'high'?
                industry feature e = share(alerted(hgh))
                                                   ^

                """)
    }

    @Test func scoreIsNotAPeerCondition() {
        #expect(
            Fixtures.diagnostics(
                """
                industry feature s = share(score > 600)
                industry feature g = share(grade == "A")
                scorecard c {
                  base 600
                  range 0..1000
                  dimension d "维度" { cap 100 }
                  grades { A >= 700, B }
                }
                """) == """
                rules/test.cwr:1:28: error: 'score' cannot be used here; the condition of 'share' reads each enterprise's features, parameters and alerted(…)
                industry feature s = share(score > 600)
                                           ^
                rules/test.cwr:2:28: error: 'grade' cannot be used here; the condition of 'share' reads each enterprise's features, parameters and alerted(…)
                industry feature g = share(grade == "A")
                                           ^

                """)
    }

    @Test func percentileOfANumericEnterpriseFeature() {
        #expect(
            Fixtures.diagnostics(
                """
                feature water_months_overdue = latest(water.arrears.months_overdue)
                feature taxpayer_status = latest(tax.taxpayer.taxpayer_status)
                feature any_rep = count(legal_representative)
                industry feature i = population
                industry feature a = percentile(taxpayer_status, 50%)
                industry feature b = percentile(water_months_overdue * 2, 50%)
                industry feature c = percentile(i, 50%)
                industry feature d = percentile(water_months_overdu, 50%)
                industry feature e = percentile(water_months_overdue, 150%)
                industry feature f = percentile(water_months_overdue, 95)
                industry feature g = percentile(water_months_overdue, i)
                industry feature h = percentile(count(legal_representative), 50%)
                industry feature ok = percentile(any_rep, 50%)
                """) == """
                rules/test.cwr:5:33: error: 'percentile' needs an enterprise feature that is a number; 'taxpayer_status' is a string
                industry feature a = percentile(taxpayer_status, 50%)
                                                ^
                rules/test.cwr:6:54: error: 'percentile' needs the name of an enterprise feature, as in percentile(tax_paid_12mo, 95%)
                industry feature b = percentile(water_months_overdue * 2, 50%)
                                                                     ^
                rules/test.cwr:7:33: error: 'i' is an industry feature; 'percentile' reads an enterprise feature of each enterprise
                industry feature c = percentile(i, 50%)
                                                ^
                rules/test.cwr:8:33: error: unknown feature 'water_months_overdu'; did you mean 'water_months_overdue'?
                industry feature d = percentile(water_months_overdu, 50%)
                                                ^
                rules/test.cwr:9:55: error: the percentile must be from 0% to 100%, found 150%
                industry feature e = percentile(water_months_overdue, 150%)
                                                                      ^
                rules/test.cwr:10:55: error: the percentile must be from 0% to 100%, found 9500%
                industry feature f = percentile(water_months_overdue, 95)
                                                                      ^
                rules/test.cwr:11:55: error: the percentile must be a percentage like 95% or a rule parameter
                industry feature g = percentile(water_months_overdue, i)
                                                                      ^
                rules/test.cwr:12:33: error: 'percentile' needs the name of an enterprise feature, as in percentile(tax_paid_12mo, 95%)
                industry feature h = percentile(count(legal_representative), 50%)
                                                ^

                """)
        // A parameter out of range, by an override, is reported where it is read.
        #expect(
            Fixtures.diagnostics(
                """
                feature water_months_overdue = latest(water.arrears.months_overdue)
                industry rule r (p = 90%) {
                  title "t"
                  category industry
                  severity low
                  when  percentile(water_months_overdue, p) >= 3
                  explain "x"
                }
                """, overrides: ["r.p": 2]) == """
                rules/test.cwr:6:42: error: the percentile must be from 0% to 100%, found 200%
                  when  percentile(water_months_overdue, p) >= 3
                                                         ^

                """)
    }

    @Test func membersPlaceholderMisuse() {
        #expect(
            Fixtures.diagnostics(
                """
                feature water_months_overdue = latest(water.arrears.months_overdue)
                industry feature s = share(water_months_overdue >= 3)
                industry feature twice = 2 * share(water_months_overdue >= 3)
                rule r {
                  title "t"
                  category utility
                  severity low
                  when  water_months_overdue >= 3
                  explain "{water_months_overdue:members}"
                }
                industry rule i {
                  title "t"
                  category industry
                  severity low
                  when  s > 50%
                  explain "{twice:members} {population:members} {s:member}"
                }
                """) == """
                rules/test.cwr:9:12: error: '{water_months_overdue:members}' lists a division's enterprises; only industry rules can use it
                  explain "{water_months_overdue:members}"
                           ^
                rules/test.cwr:16:12: error: '{twice:members}' lists the enterprises a condition holds for, but feature 'twice' is not share(…) or members(…)
                  explain "{twice:members} {population:members} {s:member}"
                           ^
                rules/test.cwr:16:28: error: unknown industry feature 'population' in '{population:members}'
                  explain "{twice:members} {population:members} {s:member}"
                                           ^
                rules/test.cwr:16:49: error: unknown format ':member' in '{s:member}'; use {name}, {name:%}, {name:who} or {name:members}
                  explain "{twice:members} {population:members} {s:member}"
                                                                ^

                """)
    }
}
