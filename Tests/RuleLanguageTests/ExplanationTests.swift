import Foundation
import Testing

@testable import RuleLanguage

@Suite struct ExplanationTests {
    @Test(arguments: [
        (120000.0, "120000"), (1234.5, "1234.5"), (12345.67, "12345.67"), (50000.0, "50000"), (0.5, "0.5"),
        (0.125, "0.13"), (-40.0, "-40"), (-0.001, "0"), (1.0e15, "1000000000000000"), (99.999, "100"), (0.07, "0.07"),
        (1.0e20, "100000000000000000000"), (.nan, "未知"),
    ])
    func numbersRenderWithoutExponentAndAtMostTwoDecimals(value: Double, text: String) {
        #expect(Value.numberText(value) == text)
    }

    @Test func valuesRender() {
        #expect(Value.null.displayText == "未知")
        #expect(Value.bool(true).displayText == "是")
        #expect(Value.date(Day(iso: "2024-01-31")!).displayText == "2024-01-31")
        // 2024-01-31T16:30:00Z is 2024-02-01 00:30 in China Standard Time.
        #expect(Value.timestamp(1_706_718_600_000).displayText == "2024-02-01")
        #expect(Day(epochMilliseconds: -1).description == "1970-01-01")
        #expect(Day(epochMilliseconds: -1, utcOffsetSeconds: 0).description == "1969-12-31")
    }

    @Test func templatesFillFeaturesParametersAndBraces() throws {
        let program = try Fixtures.compile(
            """
            feature paid   = sum(tax.payment.amount, 3mo)
            feature share  = paid / 4000
            feature status = latest(tax.taxpayer.taxpayer_status)
            feature since  = min(tax.payment.paid_date, 3mo)
            rule r (min_base = 100_000, drop = 50%, ratio = 0.25) {
              title "t"; category tax; severity low
              when paid > 0
              explain "{{字面}} 纳税 {paid} 元，占 {share:%}/{share}，状态 {status}，自 {since}，基数 {min_base}，降幅 {drop}/{ratio}/{ratio:%}，截至 {as_of}\\n\\"完\\""
            }
            """)
        let records = [
            Fixtures.record("tax.payment", "a", "2024-04-02", ["amount": .n(1234.5), "paid_date": .d("2024-04-02")]),
            Fixtures.record("tax.payment", "b", "2024-05-02", ["amount": .n(100), "paid_date": .d("2024-05-02")]),
        ]
        let firing = try #require(program.evaluate(Fixtures.entity("2024-05-15", records)).firings.first)
        #expect(
            firing.explanation
                == "{字面} 纳税 1334.5 元，占 33.36%/0.33，状态 未知，自 2024-04-02，基数 100000，降幅 50%/0.25/25%，截至 2024-05-15\n\"完\"")
    }

    @Test func overriddenPercentParameterStillRendersAsPercent() throws {
        let source = """
            rule r (drop = 50%) {
              title "t"; category tax; severity low
              when drop > 0
              explain "降幅 {drop}"
            }
            """
        let program = try Fixtures.compile(source, overrides: ["r.drop": 0.6])
        #expect(program.rules[0].params == [NamedValue("drop", .n(0.6))])
        let firing = try #require(program.evaluate(Fixtures.entity("2024-05-15", [])).firings.first)
        #expect(firing.explanation == "降幅 60%")
    }
}

@Suite struct IndustryTests {
    static let source = """
        industry feature tax_3mo    = industry_sum(tax.payment.amount, 3mo)
        industry feature tax_3mo_ly = industry_sum(tax.payment.amount, 3mo, offset 12mo)

        industry rule tax_drop (min_population = 20, drop = 30%) {
          title    "行业纳税同比下降"
          category industry
          severity high
          when     population >= min_population and tax_3mo < tax_3mo_ly * (1 - drop)
          explain  "{division}：近3个月 {tax_3mo} 元，去年同期 {tax_3mo_ly} 元"
        }

        industry rule alert_share (min_population = 20, share = 20%) {
          title    "行业预警占比高"
          category industry
          severity medium
          when     population >= min_population and alerted_share >= share and division != "C99"
          explain  "{alerted}/{population} 家企业预警，占比 {alerted_share:%}"
        }
        """

    static func sums(_ pairs: [(String, Double)]) -> [Month: Double] {
        Dictionary(uniqueKeysWithValues: pairs.map { (Month(iso: $0.0)!, $0.1) })
    }

    @Test func industryRulesFire() throws {
        let program = try Fixtures.compile(Self.source)
        #expect(program.industrySeries == ["tax.payment.amount"])
        #expect(program.topicsUsed == [])
        #expect(program.industryFeatureNames == ["tax_3mo", "tax_3mo_ly"])
        let series = Self.sums([
            ("2023-03", 100), ("2023-04", 200), ("2023-05", 300), ("2023-06", 5000),
            ("2024-02", 9000), ("2024-03", 50), ("2024-04", 100), ("2024-05", 150),
        ])
        let data = IndustryData(
            division: "C30", asOf: Fixtures.day("2024-05-15"), population: 40, alerted: 9,
            monthlySums: ["tax.payment.amount": series])
        let firings = program.evaluate(data)
        #expect(firings.map(\.rule) == ["tax_drop", "alert_share"])
        #expect(firings.map(\.explanation) == ["C30：近3个月 300 元，去年同期 600 元", "9/40 家企业预警，占比 22.5%"])
        #expect(
            firings.map(\.values) == [
                [NamedValue("population", .n(40)), NamedValue("min_population", .n(20)), NamedValue("tax_3mo", .n(300)),
                 NamedValue("tax_3mo_ly", .n(600)), NamedValue("drop", .n(0.3))],
                [NamedValue("population", .n(40)), NamedValue("min_population", .n(20)),
                 NamedValue("alerted_share", .n(0.225)), NamedValue("share", .n(0.2)), NamedValue("division", .s("C30"))],
            ])
        #expect(firings.map(\.sources) == [[], []])
        #expect(firings.map(\.window) == ["2024-05", "2024-05"])
        #expect(program.industryFeatures(data) == ["tax_3mo": .n(300), "tax_3mo_ly": .n(600)])
        // Enterprise evaluation ignores industry rules.
        #expect(program.evaluate(Fixtures.entity("2024-05-15", [])).firings.isEmpty)
    }

    @Test func smallOrEmptyIndustriesDoNotFire() throws {
        let program = try Fixtures.compile(Self.source)
        let small = IndustryData(
            division: "C30", asOf: Fixtures.day("2024-05-15"), population: 19, alerted: 19,
            monthlySums: ["tax.payment.amount": Self.sums([("2023-04", 1000)])])
        #expect(program.evaluate(small).isEmpty)
        let empty = IndustryData(division: "C30", asOf: Fixtures.day("2024-05-15"), population: 0, alerted: 0, monthlySums: [:])
        #expect(program.evaluate(empty).isEmpty)
        #expect(program.industryFeatures(empty) == ["tax_3mo": .null, "tax_3mo_ly": .null])
    }
}

@Suite struct VersionTests {
    static let tax = """
        feature paid = sum(tax.payment.amount, 3mo)
        rule low_tax (min = 100) {
          title "纳税偏低"; category tax; severity low
          when paid < min
          explain "{paid}"
        }
        """
    static let court = """
        feature cases = count(court.enforcement, 90d)
        rule many_cases (min = 2) {
          title "案件多"; category judicial; severity high
          when cases >= min
          explain "{cases}"
        }
        """

    private func compile(_ tax: String, _ court: String, overrides: [String: Double] = [:]) throws -> RuleProgram {
        try RuleCompiler.compile(
            [SourceFile(path: "rules/tax.cwr", text: tax), SourceFile(path: "rules/court.cwr", text: court)],
            schema: Fixtures.schema, overrides: overrides
        ).get()
    }

    private func versions(_ p: RuleProgram) -> [String: String] {
        Dictionary(uniqueKeysWithValues: p.rules.map { ($0.name, $0.version) })
    }

    @Test func sameInputSameHash() throws {
        let a = try compile(Self.tax, Self.court)
        let b = try RuleCompiler.compile(
            [SourceFile(path: "rules/court.cwr", text: Self.court), SourceFile(path: "rules/tax.cwr", text: Self.tax)],
            schema: Fixtures.schema
        ).get()
        #expect(a.version == b.version)
        #expect(versions(a) == versions(b))
        #expect(a.version.count == 16)
        #expect(a.rules.map(\.name) == ["many_cases", "low_tax"])
    }

    @Test func editingARuleChangesItsVersionAndTheSetVersionOnly() throws {
        let base = try compile(Self.tax, Self.court)
        let edited = try compile(Self.tax.replacingOccurrences(of: "paid < min", with: "paid <= min"), Self.court)
        #expect(edited.version != base.version)
        #expect(versions(edited)["low_tax"] != versions(base)["low_tax"])
        #expect(versions(edited)["many_cases"] == versions(base)["many_cases"])
    }

    @Test func layoutAndCommentsDoNotChangeRuleVersions() throws {
        let base = try compile(Self.tax, Self.court)
        let reformatted = try compile("// 注释\n" + Self.tax.replacingOccurrences(of: "when paid < min", with: "when   paid<min // 低于"), Self.court)
        #expect(reformatted.version != base.version)
        #expect(versions(reformatted) == versions(base))
    }

    @Test func editingAFeatureChangesTheRulesThatReadIt() throws {
        let base = try compile(Self.tax, Self.court)
        let edited = try compile(Self.tax.replacingOccurrences(of: "3mo", with: "6mo"), Self.court)
        #expect(versions(edited)["low_tax"] != versions(base)["low_tax"])
        #expect(versions(edited)["many_cases"] == versions(base)["many_cases"])
    }

    @Test func overridesChangeTheOverriddenRuleAndTheSet() throws {
        let base = try compile(Self.tax, Self.court)
        let city = try compile(Self.tax, Self.court, overrides: ["many_cases.min": 3])
        #expect(city.version != base.version)
        #expect(versions(city)["many_cases"] != versions(base)["many_cases"])
        #expect(versions(city)["low_tax"] == versions(base)["low_tax"])
        #expect(city.rules.first { $0.name == "many_cases" }?.params == [NamedValue("min", .n(3))])
        let records = (1...2).map { Fixtures.record("court.enforcement", "c\($0)", "2024-05-0\($0)") }
        #expect(base.evaluate(Fixtures.entity("2024-05-15", records)).firings.map(\.rule) == ["many_cases", "low_tax"])
        #expect(city.evaluate(Fixtures.entity("2024-05-15", records)).firings.map(\.rule) == ["low_tax"])
    }
}

extension ExplanationTests {
    /// A feature reading a personal field's value is masked in explanations and alert values; a
    /// count of its changes is not personal.
    @Test func personalFeaturesAreMaskedWhereShown() throws {
        let schema = Schema(topics: [
            TopicSchema(
                name: "reg", fields: ["rep": .string, "day": .date], eventTimeField: "day", entityKind: .enterprise,
                personal: ["rep": .name])
        ])
        let source = """
            feature rep = latest(reg.rep)
            feature rep_again = rep
            feature reps = distinct_count(reg.rep, 24mo)
            rule r { title "t" category regulatory severity low when reps >= 1 and rep_again != "" explain "代表 {rep}，{reps} 人" }
            """
        let program = try RuleCompiler.compile([SourceFile(path: "t.cwr", text: source)], schema: schema).get()
        #expect(program.personalFeatures == ["rep": .name, "rep_again": .name])
        let day = Day(year: 2024, month: 5, day: 1)!
        let firing = try #require(program.evaluate(EntityData(
            entity: "E", asOf: day, records: ["reg": [FactRecord(topic: "reg", key: "1", eventDay: day, fields: ["rep": .string("欧阳明")])]]
        )).firings.first)
        #expect(firing.explanation == "代表 欧*，1 人")
        #expect(firing.values.map(\.value).contains(.string("欧*")))
        #expect(!firing.values.map(\.value).contains(.string("欧阳明")))
    }
}
