import Foundation
import RuleLanguage
import Testing

@testable import CreditWatchCore

/// Replay on a hand-written history: three enterprises paying tax monthly (Jan–Jun 2024) and one
/// rule, "tax paid this month below a threshold", raised at 1000 (live) and 1500 (candidate).
///
///     month        01    02    03    04    05    06
///     A           500   500  1200  1200   500  1200
///     B          1200  1200  1200  1200  1200  1200
///     C          2000  2000  2000  2000  2000  2000
///
/// Live (< 1000): A raised in 01, withdrawn in 03, raised again in 05, withdrawn in 06.
/// Candidate (< 1500): A raised in 01 (never withdrawn), B raised in 01. C never.
/// So: A/01 changed (rule version), A/05 removed, B/01 added; final grades (score −50 while the
/// rule fires in June): A and B go B→C under the candidate.
@Suite("Replay") struct ReplayTests {
    static let catalog = TopicCatalog(topics: [
        TopicDefinition(
            name: "tax.payment", department: "税务局", description: "payments", envelope: .debezium,
            fields: [
                FieldDefinition(name: "id", type: .string),
                FieldDefinition(name: "uscc", type: .uscc),
                FieldDefinition(name: "amount", type: .decimal),
                FieldDefinition(name: "paid_date", type: .date),
            ],
            primaryKey: ["id"], versionField: nil, eventTime: "paid_date",
            entity: .enterprise(field: "uscc", link: nil), cadence: Cadence(expected: .daily, maxSilenceDays: 45)),
    ])

    static func program(threshold: Int, cooldown: String = "0d", industry: Bool = false) -> RuleProgram {
        var text = """
            feature tax_paid_1mo = sum(tax.payment.amount, 1mo)
            rule low_tax (threshold = \(threshold)) {
              title    "当月纳税偏低"
              category tax
              severity medium
              when     tax_paid_1mo < threshold
              score    -50 in dimension finance_tax
              cooldown \(cooldown)
              explain  "当月纳税 {tax_paid_1mo} 元"
            }
            scorecard card "评分卡" {
              base  600
              range 0..1000
              dimension finance_tax "财务税务" {
                cap 250
              }
              grades { A >= 700, B >= 600, C >= 500, D }
            }
            """
        if industry {
            text += """

                industry rule crowded_division (min_population = 100) {
                  title    "大类企业众多"
                  category industry
                  severity low
                  when     population >= min_population
                  explain  "{population} 家企业"
                }
                """
        }
        switch RuleCompiler.compile([SourceFile(path: "rules/tax.cwr", text: text)], schema: catalog.schema) {
        case .success(let program): return program
        case .failure(let diagnostics): fatalError("\(diagnostics)")
        }
    }

    static func history(_ amounts: [String: [Double]], day: Int = 15) -> ReplayHistory {
        var history = ReplayHistory()
        for (entity, series) in amounts {
            for (index, amount) in series.enumerated() {
                let paid = Day(year: 2024, month: index + 1, day: day)!
                let key = "\(entity)-\(index + 1)"
                history.add(
                    FactRecord(
                        topic: "tax.payment", key: key, eventDay: paid,
                        fields: [
                            "id": .string(key), "uscc": .string(entity), "amount": .number(amount), "paid_date": .date(paid),
                        ]),
                    enterprise: entity)
            }
        }
        return history
    }

    static let city = history([
        "A": [500, 500, 1200, 1200, 500, 1200],
        "B": [1200, 1200, 1200, 1200, 1200, 1200],
        "C": [2000, 2000, 2000, 2000, 2000, 2000],
    ])

    static func keys(_ alerts: [ReplayAlert]) -> [String] { alerts.map { "\($0.key.entity)/\($0.key.window)" } }

    @Test func aChangedThresholdAddsRemovesAndChangesAlerts() throws {
        let report = Replay.compare(
            history: Self.city, live: Self.program(threshold: 1000), candidate: Self.program(threshold: 1500),
            catalog: Self.catalog)
        #expect(report.enterprises == 3)
        #expect(report.through == "2024-06")
        #expect(report.liveEvaluations == 18)
        #expect(report.candidateEvaluations == 18)
        #expect(report.liveAlerts == 2)
        #expect(report.candidateAlerts == 2)
        #expect(Self.keys(report.added) == ["B/2024-01"])
        #expect(Self.keys(report.removed) == ["A/2024-05"])
        #expect(report.changed.count == 1)
        #expect(report.changed.first?.live.key.window == "2024-01")
        #expect(report.changed.first?.fields == ["rule_version"])
        #expect(report.rules == [ReplayReport.RuleCounts(rule: "low_tax", live: 2, candidate: 2, added: 1, removed: 1, changed: 1)])
        // The lifecycle: A's live alerts were withdrawn when June's payment rose above 1000.
        #expect(report.removed.first?.withdrawnWindow == "2024-06")
        #expect(report.added.first?.withdrawnWindow == nil)
    }

    @Test func gradeChangesAreTheFinalGradesThatDiffer() {
        let report = Replay.compare(
            history: Self.city, live: Self.program(threshold: 1000), candidate: Self.program(threshold: 1500),
            catalog: Self.catalog)
        #expect(report.gradeChanges.map(\.entity) == ["A", "B"])
        #expect(report.gradeTransitions == ["B→C": 2])
        #expect(report.scoreChanges.map(\.delta) == [-50, -50])
        #expect(report.scoreChanges.map(\.liveScore) == [600, 600])
        #expect(report.scoreChanges.map(\.candidateScore) == [550, 550])
    }

    @Test func theSameSetChangesNothing() {
        let program = Self.program(threshold: 1000)
        let report = Replay.compare(history: Self.city, live: program, candidate: program, catalog: Self.catalog)
        #expect(report.liveAlerts == 2)
        #expect(report.added.isEmpty && report.removed.isEmpty && report.changed.isEmpty)
        #expect(report.scoreChanges.isEmpty)
    }

    @Test func fromLimitsTheReportNotTheLifecycle() {
        let report = Replay.compare(
            history: Self.city, live: Self.program(threshold: 1000), candidate: Self.program(threshold: 1500),
            catalog: Self.catalog, from: Month(year: 2024, month: 3))
        #expect(report.from == "2024-03")
        // A's candidate alert raised in 01 stays active: nothing new is raised from 03 on.
        #expect(report.candidateAlerts == 0)
        #expect(report.liveAlerts == 1)
        #expect(Self.keys(report.removed) == ["A/2024-05"])
        #expect(report.added.isEmpty && report.changed.isEmpty)
        // Grades are the final ones whatever the reported months.
        #expect(report.gradeTransitions == ["B→C": 2])
    }

    /// 500 in Jan, 1200 in Feb, then 500: raised 2024-01-15, withdrawn in Feb; Mar 15 is 60 days
    /// after the last alert's as-of (within a 90-day cool-down), Apr 15 is 91 days after.
    @Test func coolDownCountsFromThePreviousAlertsAsOf() {
        let history = Self.history(["A": [500, 1200, 500, 500, 500, 500]])
        let report = Replay.compare(
            history: history, live: Self.program(threshold: 1000, cooldown: "0d"),
            candidate: Self.program(threshold: 1000, cooldown: "90d"), catalog: Self.catalog)
        // Without cool-down: raised in 01 and again in 03; with 90 days: in 01 and 04.
        #expect(Self.keys(report.removed) == ["A/2024-03"])
        #expect(Self.keys(report.added) == ["A/2024-04"])
        #expect(report.rules.first?.live == 2)
        #expect(report.rules.first?.candidate == 2)
        // Both raised A/2024-01 (the rule version differs: its cool-down changed).
        #expect(report.changed.map(\.live.key.window) == ["2024-01"])
        let live = Replay.compare(
            history: history, live: Self.program(threshold: 1000, cooldown: "90d"),
            candidate: Self.program(threshold: 1000, cooldown: "90d"), catalog: Self.catalog)
        #expect(live.liveAlerts == 2)
    }

    /// An enterprise is replayed from the month of its first record; the clock at each month's end
    /// is the city's (all enterprises' records up to that day).
    @Test func enterprisesStartWithTheirFirstRecord() {
        var history = Self.history(["A": [1200, 1200, 1200, 1200, 1200, 1200]])
        let paid = Day(year: 2024, month: 5, day: 3)!
        history.add(
            FactRecord(
                topic: "tax.payment", key: "D-5", eventDay: paid,
                fields: ["id": .string("D-5"), "uscc": .string("D"), "amount": .number(100), "paid_date": .date(paid)]),
            enterprise: "D")
        let report = Replay.compare(
            history: history, live: Self.program(threshold: 1000), candidate: Self.program(threshold: 1000),
            catalog: Self.catalog)
        // A: 6 months; D: May and June (no payment in June: its as-of stays May 3 and the rule keeps firing).
        #expect(report.liveEvaluations == 8)
        #expect(report.liveAlerts == 1)
    }

    /// The feeds' clock at a month's end is built from every enterprise's records up to that day.
    @Test func theCityClockFollowsTheMonths() {
        var history = Self.history(["A": [1200, 1200]], day: 10)
        let late = Day(year: 2024, month: 2, day: 20)!
        history.add(FactRecord(topic: "tax.payment", key: "B-2", eventDay: late, fields: [:]), enterprise: "B")
        history.add(FactRecord(topic: "tax.payment#history", key: "B-2|1", eventDay: late + 5, fields: [:]), enterprise: "B")
        let timeline = ReplayTimeline(history, snapshot: EntitySnapshot(catalog: Self.catalog))!
        #expect(timeline.last == Month(year: 2024, month: 2))
        #expect(timeline.clock(at: Month(year: 2023, month: 12)).latest.isEmpty)
        #expect(timeline.clock(at: Month(year: 2024, month: 1)).latest == ["tax.payment": Day(year: 2024, month: 1, day: 10)!])
        #expect(timeline.clock(at: Month(year: 2024, month: 2)).latest == ["tax.payment": late])
        #expect(ReplayHistory.historyTopics(of: [Self.program(threshold: 1)]).isEmpty)
        #expect(ReplayTimeline(ReplayHistory(), snapshot: EntitySnapshot(catalog: Self.catalog)) == nil)
    }

    @Test func industryRulesAreListedAsNotReplayed() {
        let report = Replay.compare(
            history: Self.city, live: Self.program(threshold: 1000),
            candidate: Self.program(threshold: 1000, industry: true), catalog: Self.catalog)
        #expect(report.skippedIndustryRules == ["crowded_division"])
        #expect(report.rules.map(\.rule) == ["low_tax"])
        #expect(report.table.contains("industry rules not replayed: crowded_division"))
    }

    @Test func theReportIsDeterministic() throws {
        let run = {
            Replay.compare(
                history: Self.city, live: Self.program(threshold: 1000), candidate: Self.program(threshold: 1500),
                catalog: Self.catalog)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        #expect(try encoder.encode(run()) == encoder.encode(run()))
        #expect(run().table == run().table)
        let lines = run().table.split(separator: "\n").map(String.init)
        #expect(lines.contains("rule     live  candidate  added  removed  changed"))
        #expect(lines.contains("low_tax     2          2      1        1        1"))
        #expect(lines.contains("  B→C  2"))
    }

    @Test func suspendedRulesKeepTheirAlerts() {
        let firing = Firing(
            rule: "r", ruleVersion: "v", title: "t", severity: .high, category: .tax, score: nil, cooldownDays: 0,
            explanation: "", values: [], sources: [], window: "2024-01")
        var lifecycle = ReplayAlerts(entity: "A", liveRules: ["r"], ruleSetVersion: "rs")
        lifecycle.apply(
            EntityEvaluation(entity: "A", asOf: Day(year: 2024, month: 1, day: 31)!, firings: [firing], features: [:]),
            window: Month(year: 2024, month: 1))
        lifecycle.apply(
            EntityEvaluation(entity: "A", asOf: Day(year: 2024, month: 2, day: 29)!, firings: [], features: [:], suspended: ["r"]),
            window: Month(year: 2024, month: 2))
        #expect(lifecycle.alerts.map(\.withdrawnWindow) == [nil])
        lifecycle.apply(
            EntityEvaluation(entity: "A", asOf: Day(year: 2024, month: 3, day: 31)!, firings: [], features: [:]),
            window: Month(year: 2024, month: 3))
        #expect(lifecycle.alerts.map(\.key.window) == ["2024-01"])
        #expect(lifecycle.alerts.map(\.withdrawnWindow) == ["2024-03"])
    }
}
