import CreditWatchCore
import RuleLanguage
import Testing

/// A small rule set over the shipped catalog, so that the expected messages do not move when the
/// shipped rules are tuned.
enum TestRules {
    static let source = """
        feature dishonest_active_count = count(court.dishonest where removed_date is null or removed_date > as_of)
        feature enforcement_cases_90d = count(court.enforcement, 90d)

        rule dishonest_debtor () {
          title    "被列为失信被执行人"
          category judicial
          severity critical
          when     dishonest_active_count >= 1
          score    -200 in dimension judicial
          explain  "失信 {dishonest_active_count} 起"
        }

        rule enforcement_cases (min_cases = 2) {
          title    "近90天新增被执行案件"
          category judicial
          severity high
          when     enforcement_cases_90d >= min_cases
          score    -50 in dimension judicial
          explain  "{enforcement_cases_90d} 件"
        }

        industry rule crowded_division (min_population = 20) {
          title    "行业企业过多"
          category industry
          severity low
          when     population >= min_population
          explain  "{population}"
        }

        scorecard card "测试评分卡" {
          base  900
          range 0..1000
          dimension judicial "司法" {
            cap  -300..50
            item clean "无失信"  points +50 when dishonest_active_count == 0
          }
          override dishonest_cap "失信封顶 C" cap grade C when dishonest_active_count >= 1
          grades { A >= 700, B >= 600, C >= 500, D }
        }
        """

    static let program: RuleProgram = {
        switch RuleCompiler.compile([SourceFile(path: "test.cwr", text: source)], schema: Shipped.catalog.schema) {
        case .success(let program): return program
        case .failure(let diagnostics): fatalError("test rules do not compile:\n\(diagnostics)")
        }
    }()

    static let tester = RuleTester(program: program, catalog: Shipped.catalog)

    /// The problems of a case file that should not read, one per line.
    static func problems(_ text: String) -> [String] {
        do {
            _ = try tester.read(path: "t.yaml", text: text)
            return []
        } catch {
            return error.problems.map(\.description)
        }
    }
}

@Suite struct RuleCaseReadingTests {
    static let file = """
        enterprise: 91430100MA4L0JUD08
        defaults:
          court.dishonest: { name: 某公司, court: 某法院 }
        cases:
          - name: 失信
            given:
              - { topic: court.dishonest, key: DS1, fields: { listed_date: 2026-03-01, amount: "500000.50" } }
            expect:
              fires: [dishonest_debtor]
              silent: [enforcement_cases]
              grade: C
              score: 599
              features: { dishonest_active_count: 1, enforcement_cases_90d: 0 }
            then:
              - delete: [ { topic: court.dishonest, key: DS1 } ]
                expect: { alerts: [], grade: A, tags: [] }
        """

    @Test func readsCasesStepsAndTypedEvents() throws {
        let file = try TestRules.tester.read(path: "t.yaml", text: Self.file)
        #expect(file.cases.count == 1)
        let ruleCase = file.cases[0]
        #expect(ruleCase.name == "失信")
        #expect(ruleCase.enterprise == "91430100MA4L0JUD08")
        #expect(ruleCase.location == SourceLocation(path: "t.yaml", line: 5, column: 5))
        #expect(ruleCase.steps.count == 2)

        let event = try #require(ruleCase.steps[0].given.first)
        #expect(event.change.topic == "court.dishonest")
        #expect(event.change.key == "DS1")
        #expect(event.change.eventDay == Day(iso: "2026-03-01"))
        #expect(event.change.entity == .enterprise(try USCC(validating: "91430100MA4L0JUD08")))
        #expect(event.change.fields["party_type"] == .string("enterprise"))
        #expect(event.change.fields["amount"] == .number(500000.5))
        #expect(event.change.fields["court"] == .string("某法院"))
        #expect(event.change.fields["removed_date"] == .null)

        let expect = ruleCase.steps[0].expectation
        #expect(expect.fires.map(\.value) == ["dishonest_debtor"])
        #expect(expect.fires[0].location == SourceLocation(path: "t.yaml", line: 9, column: 15))
        #expect(expect.silent.map(\.value) == ["enforcement_cases"])
        #expect(expect.grade?.value == "C")
        #expect(expect.score?.value == 599)
        #expect(expect.features.map(\.value) == [
            FeatureExpectation(feature: "dishonest_active_count", value: .number(1)),
            FeatureExpectation(feature: "enforcement_cases_90d", value: .number(0)),
        ])

        let second = ruleCase.steps[1]
        #expect(second.given.isEmpty)
        #expect(second.deletions.map { "\($0.topic)/\($0.key)" } == ["court.dishonest/DS1"])
        #expect(second.expectation.alerts?.value == [])
        #expect(second.expectation.tags?.value == [])
    }

    @Test func aPassingFileReportsItsCounts() {
        let report = TestRules.tester.run([(path: "t.yaml", text: Self.file)])
        #expect(report.lines == ["1 case, 2 steps: all passed"])
        #expect(report.passed)
    }
}

@Suite struct RuleCaseFailureTests {
    @Test func aWrongExpectationFailsWithPositionCaseStepRuleAndValues() {
        let text = """
            enterprise: 91430100MA4L0JUD08
            defaults:
              court.dishonest: { name: 某公司, court: 某法院 }
            cases:
              - name: 列入失信被执行人
                given:
                  - { topic: court.dishonest, key: DS1, fields: { listed_date: 2026-03-01 } }
                expect: { fires: [dishonest_debtor], grade: C }
                then:
                  - given:
                      - { topic: court.dishonest, key: DS1, fields: { listed_date: 2026-03-01, removed_date: 2026-02-01 } }
                    expect:
                      fires: [dishonest_debtor]
                      silent: [enforcement_cases]
                      grade: B
                      score: 600
                      features: { dishonest_active_count: 1, enforcement_cases_90d: unknown }
                  - delete: [ { topic: court.dishonest, key: DS1 } ]
                    given:
                      - { topic: court.enforcement, key: E1, fields: { name: 某公司, court: 某法院, filed_date: 2026-03-01, amount: 10 } }
                      - { topic: court.enforcement, key: E2, fields: { name: 某公司, court: 某法院, filed_date: 2026-03-02, amount: 10 } }
                      - { topic: court.dishonest, key: DS2, fields: { listed_date: 2026-03-02 } }
                    expect: { silent: [enforcement_cases], alerts: [dishonest_debtor], grade: D, tags: [leading] }
            """
        let report = TestRules.tester.run([(path: "rules/tests/judicial.yaml", text: text)])
        let prefix = "rules/tests/judicial.yaml"
        #expect(report.lines == [
            "\(prefix):13:19: case '列入失信被执行人' step 2: rule dishonest_debtor: expected to fire, did not (dishonest_active_count = 0)",
            "\(prefix):17:23: case '列入失信被执行人' step 2: feature dishonest_active_count: expected 1, got 0",
            "\(prefix):17:50: case '列入失信被执行人' step 2: feature enforcement_cases_90d: expected unknown, got 0",
            "\(prefix):15:18: case '列入失信被执行人' step 2: grade: expected B, got A (score 950)",
            "\(prefix):16:18: case '列入失信被执行人' step 2: score: expected 600, got 950 (grade A; base 900, judicial +50)",
            "\(prefix):23:28: case '列入失信被执行人' step 3: rule enforcement_cases: expected to stay silent, fired (enforcement_cases_90d = 2, min_cases = 2)",
            "\(prefix):23:56: case '列入失信被执行人' step 3: alerts: expected [dishonest_debtor], got [dishonest_debtor, enforcement_cases]",
            "\(prefix):23:83: case '列入失信被执行人' step 3: grade: expected D, got C (score 599; override dishonest_cap)",
            "\(prefix):23:92: case '列入失信被执行人' step 3: tags: expected [leading], got []",
            "1 case, 3 steps: 2 failed",
        ])
        #expect(!report.passed)
        #expect(report.failedSteps == 2)
    }
}

@Suite struct BadRuleCaseFileTests {
    static func file(_ given: String, expect: String = "{ fires: [dishonest_debtor] }") -> String {
        """
        enterprise: 91430100MA4L0JUD08
        cases:
          - name: c
            given:
              - \(given)
            expect: \(expect)
        """
    }

    @Test func unknownTopicAndField() {
        #expect(TestRules.problems(Self.file("{ topic: court.dishonst, key: A }")) == [
            "t.yaml:5:18: unknown topic 'court.dishonst'; did you mean 'court.dishonest'?"
        ])
        #expect(TestRules.problems(Self.file("{ topic: court.dishonest, key: A, fields: { listed: 2026-03-01 } }")) == [
            "t.yaml:5:53: topic 'court.dishonest' declares no field 'listed'",
            "t.yaml:5:51: court.dishonest: missing required field 'name'",
        ])
        #expect(TestRules.problems(Self.file("{ topic: court.dishonest, key: A, fields: { amout: 1 } }")) == [
            "t.yaml:5:53: topic 'court.dishonest' declares no field 'amout'; did you mean 'amount'?",
            "t.yaml:5:51: court.dishonest: missing required field 'name'",
        ])
    }

    @Test func valuesOfTheWrongTypeAndMissingFields() {
        let event = "{ topic: court.dishonest, key: A, fields: { name: n, court: c, listed_date: 2026-03-01, amount: lots } }"
        #expect(TestRules.problems(Self.file(event)) == [
            "t.yaml:5:51: court.dishonest: field 'amount': 'lots' is not a decimal"
        ])
        #expect(TestRules.problems(Self.file("{ topic: court.dishonest, key: A, fields: { listed_date: 2026-03-01 } }")) == [
            "t.yaml:5:51: court.dishonest: missing required field 'name'"
        ])
        let other = "{ topic: court.dishonest, key: A, fields: { uscc: 91430100MA4L0TAX02, name: n, court: c, listed_date: 2026-03-01 } }"
        #expect(TestRules.problems(Self.file(other)) == [
            "t.yaml:5:9: court.dishonest: the record is not about the case's enterprise 91430100MA4L0JUD08"
        ])
    }

    @Test func industryCasesGiveADivisionsAggregates() {
        let file = """
            industry_cases:
              - name: 20 家
                division: C17
                as_of: 2026-05-31
                population: 20
                expect: { fires: [crowded_division] }
              - name: 19 家
                division: C17
                as_of: 2026-05-31
                population: 19
                expect: { fires: [crowded_division] }
            """
        let report = TestRules.tester.run([(path: "i.yaml", text: file)])
        #expect(report.lines == [
            "i.yaml:11:23: case '19 家' step 1: rule crowded_division: expected to fire, did not ()",
            "2 cases, 2 steps: 1 failed",
        ])
        #expect(TestRules.problems("""
            industry_cases:
              - name: x
                division: C17
                as_of: 2026-13-01
                population: -1
                expect: { fires: [dishonest_debtor] }
            """) == [
            "t.yaml:4:12: as_of must be a date (YYYY-MM-DD): where the division's windows end",
            "t.yaml:5:17: population must be a whole number ≥ 0",
            "t.yaml:6:23: unknown industry rule 'dishonest_debtor'",
        ])
    }

    @Test func unknownRulesFeaturesAndGrades() {
        let event = "{ topic: court.dishonest, key: A, fields: { name: n, court: c, listed_date: 2026-03-01 } }"
        #expect(TestRules.problems(Self.file(event, expect: "{ fires: [dishonest_debter], silent: [crowded_division] }")) == [
            "t.yaml:6:23: unknown rule 'dishonest_debter'; did you mean 'dishonest_debtor'?",
            "t.yaml:6:51: 'crowded_division' is an industry rule: test it in 'industry_cases'",
        ])
        #expect(TestRules.problems(Self.file(event, expect: "{ features: { dishonest_count: 1 }, grade: AAA, score: 1.5 }")) == [
            "t.yaml:6:27: unknown feature 'dishonest_count'",
            "t.yaml:6:56: grade 'AAA' is not one of A, B, C, D (scorecard card)",
            "t.yaml:6:68: 'score' must be a whole number of points",
        ])
        #expect(TestRules.problems(Self.file(event, expect: "{ fires: [dishonest_debtor], silent: [dishonest_debtor], firs: [] }")) == [
            "t.yaml:6:70: unknown key 'firs' (one of fires, silent, alerts, suspended, features, grade, score, tags); did you mean 'fires'?",
            "t.yaml:6:51: rule 'dishonest_debtor' is expected both to fire and to stay silent",
        ])
    }

    @Test func fileLevelProblems() {
        #expect(TestRules.problems("enterprise: 91430100MA4L0JUD09\ncases: []") == [
            "t.yaml:1:13: enterprise '91430100MA4L0JUD09': USCC check character is '9', expected '8'",
            "t.yaml:2:8: 'cases' (or 'industry_cases') must be a non-empty list",
        ])
        #expect(TestRules.problems("cases:\n  - name: c\n    delete: [ { topic: court.dishonest, key: A } ]\n") == [
            "t.yaml:2:5: case 'c': no 'enterprise' (give one for the file or the case)"
        ])
        #expect(TestRules.problems("enterprise: 91430100MA4L0JUD08\ncases:\n  - name: c\n    delete: [ { topic: court.dishonest, key: A } ]\n") == [
            "t.yaml:4:15: nothing to delete: no record court.dishonest/A was given before",
            "t.yaml:3:5: a step needs 'expect'",
        ])
        #expect(TestRules.problems("cases: [ {") == [
            "t.yaml:2:1: not valid YAML: while parsing a flow node (line 2, column 1): did not find expected node content"
        ])
    }
}
