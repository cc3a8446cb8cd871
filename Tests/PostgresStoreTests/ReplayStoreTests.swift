import CreditWatchCore
import Foundation
import RuleLanguage
import Testing

@testable import PostgresStore

/// `creditwatch replay` on the store: a scripted half year of tax payments committed as the engine
/// commits them, two stored rule sets that differ in a threshold, and the exact comparison.
@Suite("Replay against PostgreSQL", .enabled(if: postgresConfigured))
struct ReplayStoreTests {
    /// The test catalog with tax payments on a daily cadence, so that the rule's one-month window
    /// ends with the enterprise's own payment day (monthly feeds end windows a month earlier).
    static let catalog = TopicCatalog(topics: TestCatalog.catalog.topics.values.map { topic in
        guard topic.name == "tax.payment" else { return topic }
        return TopicDefinition(
            name: topic.name, department: topic.department, description: topic.description, envelope: topic.envelope,
            fields: topic.fields, primaryKey: topic.primaryKey, versionField: topic.versionField,
            eventTime: topic.eventTime, entity: topic.entity, cadence: Cadence(expected: .daily, maxSilenceDays: 45))
    })

    static func files(threshold: Int) -> [(path: String, text: String)] {
        [
            (
                "rules/tax.cwr",
                """
                feature tax_paid_1mo = sum(tax.payment.amount, 1mo)
                rule low_tax (threshold = \(threshold)) {
                  title    "当月纳税偏低"
                  category tax
                  severity medium
                  when     tax_paid_1mo < threshold
                  score    -50 in dimension finance_tax
                  explain  "当月纳税 {tax_paid_1mo} 元"
                }
                """
            ),
            (
                "rules/scorecard.cwr",
                """
                scorecard card "评分卡" {
                  base  600
                  range 0..1000
                  dimension finance_tax "财务税务" {
                    cap 250
                  }
                  grades { A >= 700, B >= 600, C >= 500, D }
                }
                """
            ),
        ]
    }

    static func compile(_ files: [(path: String, text: String)]) throws -> RuleProgram {
        try RuleCompiler.compile(files.map { SourceFile(path: $0.path, text: $0.text) }, schema: catalog.schema).get()
    }

    /// Monthly payments Jan–Jun 2024 on the 15th (A: 500, 500, 1200, 1200, 500, 1200; B: 1200;
    /// C: 2000), with what must not count: A's March payment first stored as 500 then corrected to
    /// 1200, an extra May payment of A that was deleted, and an unlinked water record.
    static func script(_ store: PostgresStore) async throws {
        let amounts: [(String, [Double])] = [
            (TestUSCC.a, [500, 500, 1200, 1200, 500, 1200]),
            (TestUSCC.b, [1200, 1200, 1200, 1200, 1200, 1200]),
            (TestUSCC.c, [2000, 2000, 2000, 2000, 2000, 2000]),
        ]
        try await store.write(Make.effects(changes: amounts.map { Make.registration($0.0, name: "企业\($0.0.suffix(2))") }))
        for month in 1...6 {
            let paid = "2024-0\(month)-15"
            var changes = amounts.map { uscc, series in
                Make.payment("\(uscc.suffix(2))-\(month)", uscc: uscc, amount: series[month - 1], paid: paid)
            }
            if month == 3 {
                changes.insert(Make.payment("\(TestUSCC.a.suffix(2))-3", uscc: TestUSCC.a, amount: 500, paid: paid), at: 0)
                changes[1] = Make.payment("\(TestUSCC.a.suffix(2))-3", uscc: TestUSCC.a, amount: 1200, paid: paid, version: 2)
            }
            if month == 5 {
                changes.append(Make.payment("X-5", uscc: TestUSCC.a, amount: 1200, paid: paid))
                changes.append(Make.payment("X-5", uscc: TestUSCC.a, amount: 1200, paid: paid, version: 2, operation: .delete))
                changes.append(LinkedChange(
                    change: Make.waterChange("W-5", account: "ACC-9", name: "某公司", uscc: nil, volume: 12), entity: nil))
            }
            try await store.write(Make.effects(changes: changes))
        }
    }

    @Test func aChangedThresholdOnStoredHistory() async throws {
        try await withTestStore(catalog: Self.catalog) { store in
            try await Self.script(store)
            let live = try Self.compile(Self.files(threshold: 1000))
            let candidate = try Self.compile(Self.files(threshold: 1500))
            try await store.recordRuleSet(version: live.version, files: Self.files(threshold: 1000))
            #expect(try await store.liveRuleSetVersion() == live.version)

            let history = try await store.replayHistory(historyTopics: ReplayHistory.historyTopics(of: [live, candidate]))
            #expect(history.enterprises.count == 3)
            // 3 registrations and 18 payments (the deleted one and the unlinked water record excluded).
            #expect(history.recordCount == 21)

            let stored = try #require(try await store.ruleSet(version: live.version))
            let report = Replay.compare(
                history: history, live: try Self.compile(stored), candidate: candidate, catalog: Self.catalog)
            #expect(report.liveVersion == live.version)
            #expect(report.liveAlerts == 2)
            #expect(report.candidateAlerts == 2)
            #expect(report.added.map { "\($0.key.entity)/\($0.key.window)" } == ["\(TestUSCC.b)/2024-01"])
            #expect(report.removed.map { "\($0.key.entity)/\($0.key.window)" } == ["\(TestUSCC.a)/2024-05"])
            #expect(report.changed.map { "\($0.live.key.entity)/\($0.live.key.window)" } == ["\(TestUSCC.a)/2024-01"])
            #expect(report.rules == [ReplayReport.RuleCounts(rule: "low_tax", live: 2, candidate: 2, added: 1, removed: 1, changed: 1)])
            #expect(report.gradeTransitions == ["B→C": 2])
            #expect(report.gradeChanges.map(\.entity) == [TestUSCC.a, TestUSCC.b])
            #expect(report.scoreChanges.map(\.delta) == [-50, -50])
        }
    }

    @Test func ruleSetsAreRecordedByVersionAndTheLatestLoadIsLive() async throws {
        try await withTestStore(catalog: Self.catalog) { store in
            #expect(try await store.liveRuleSetVersion() == nil)
            #expect(try await store.ruleSet(version: "nope") == nil)
            try await store.recordRuleSet(version: "v1", files: Array(Self.files(threshold: 1000).reversed()))
            try await store.recordRuleSet(version: "v2", files: Self.files(threshold: 1500))
            #expect(try await store.liveRuleSetVersion() == "v2")
            try await store.recordRuleSet(version: "v1", files: Self.files(threshold: 1000))
            #expect(try await store.liveRuleSetVersion() == "v1")
            #expect(try await store.count("rule_set") == 2)
            let files = try #require(try await store.ruleSet(version: "v1"))
            #expect(files.map(\.path) == ["rules/scorecard.cwr", "rules/tax.cwr"])
            #expect(files.last?.text == Self.files(threshold: 1000)[0].text)
        }
    }

    @Test func historyVersionsAreLoadedForHistoryTopics() async throws {
        try await withTestStore(catalog: Self.catalog) { store in
            try await Self.script(store)
            let history = try await store.replayHistory(historyTopics: ["tax.payment"])
            let a = try #require(history.enterprises[TestUSCC.a])
            let march = a["tax.payment#history"]?.filter { $0.key.hasPrefix("\(TestUSCC.a.suffix(2))-3|") }
            #expect(march?.map(\.key).sorted() == ["\(TestUSCC.a.suffix(2))-3|1", "\(TestUSCC.a.suffix(2))-3|2"])
            #expect(march?.sorted { $0.key < $1.key }.map { $0.fields["amount"] } == [Value.number(500), Value.number(1200)])
            // Versions of every payment (the deleted one's create included, its delete not): 18 + 1 + 1.
            #expect(history.enterprises.values.reduce(0) { $0 + ($1["tax.payment#history"]?.count ?? 0) } == 20)
            #expect(a["tax.payment"]?.count == 6)
        }
    }
}
