import CreditWatchCore
import RuleLanguage
import Testing

@Suite struct AlertLifecycleTests {
    static let uscc = "91430602MA4L000019"
    static func day(_ iso: String) -> Day { Day(iso: iso)! }

    static func alert(_ rule: String, asOf: String, cooldown: Int = 30) -> AlertRecord {
        let day = day(asOf)
        return AlertRecord(
            firing: Firing(
                rule: rule, ruleVersion: "rv", title: rule, severity: .high, category: .judicial, score: nil,
                cooldownDays: cooldown, explanation: "", values: [], sources: ["court.dishonest/C1"],
                window: day.month.description),
            subject: .entity(EntityKey(.enterprise, uscc)), ruleSetVersion: "rs", asOf: day,
            registration: Registration(division: "F51", district: nil))
    }

    static func state(_ id: Int64, _ rule: String, window: String, asOf: String, _ status: AlertState.Status) -> AlertState {
        AlertState(id: id, rule: rule, subjectID: uscc, window: window, asOf: day(asOf), status: status, sources: ["court.dishonest/C1"])
    }

    static func decide(
        _ firings: [AlertRecord], states: [AlertState], suspended: Set<String> = [], changes: [Change] = [],
        asOf: String = "2026-08-05"
    ) -> AlertDecisions {
        AlertLifecycle.decide(
            firings: firings, suspended: suspended, liveRules: ["dishonest_debtor", "tax_drop_yoy"],
            states: Dictionary(uniqueKeysWithValues: states.map { ($0.rule, $0) }), changes: changes, asOf: day(asOf),
            ruleSetVersion: "rs2", endTimes: ["court.dishonest": "removed_date"])
    }

    @Test func aRuleThatStartsToHoldRaisesOneAlertAndAStandingOneRaisesNothing() {
        let first = Self.decide([Self.alert("dishonest_debtor", asOf: "2026-07-03")], states: [])
        #expect(first.raised.map(\.firing.rule) == ["dishonest_debtor"])
        let standing = Self.decide(
            [Self.alert("dishonest_debtor", asOf: "2026-09-03")],
            states: [Self.state(7, "dishonest_debtor", window: "2026-07", asOf: "2026-07-03", .active)])
        #expect(standing.raised.isEmpty && standing.withdrawn.isEmpty && standing.reactivated.isEmpty)
    }

    @Test func aRuleThatStopsHoldingIsWithdrawnWithTheReason() {
        let lifted = Change(
            topic: "court.dishonest", key: "C1", operation: .update, version: 2,
            fields: ["removed_date": .date(Self.day("2026-08-05"))], eventDay: Self.day("2026-07-03"),
            entity: .unlinked(accountNo: nil, name: nil))
        let active = Self.state(7, "dishonest_debtor", window: "2026-07", asOf: "2026-07-03", .active)
        #expect(Self.decide([], states: [active], changes: [lifted]).withdrawn == [
            AlertWithdrawal(alertID: 7, asOf: Self.day("2026-08-05"), reason: "截至 2026-08-05 预警条件不再成立：court.dishonest/C1 已于 2026-08-05 移出", ruleSetVersion: "rs2")
        ])
        let deleted = Change(
            topic: "court.dishonest", key: "C1", operation: .delete, version: 3, fields: [:], eventDay: Self.day("2026-07-03"),
            entity: .unlinked(accountNo: nil, name: nil))
        #expect(Self.decide([], states: [active], changes: [deleted]).withdrawn.map(\.reason) == [
            "截至 2026-08-05 预警条件不再成立：court.dishonest/C1 已删除"
        ])
        #expect(Self.decide([], states: [active]).withdrawn.map(\.reason) == [
            "截至 2026-08-05 预警条件不再成立（依据的记录已超出规则的时间窗口，或新数据改变了统计结果）"
        ])
        // A rule taken out of the rule set.
        let gone = Self.state(8, "old_rule", window: "2026-07", asOf: "2026-07-03", .active)
        #expect(Self.decide([], states: [gone]).withdrawn.map(\.reason) == ["规则 old_rule 已不在规则集 rs2 中"])
    }

    /// When evaluation waited for a backlog, the change that withdraws an alert came in an earlier
    /// batch: the reason then comes from the current records the alert cites.
    @Test func withoutTheChangeTheReasonComesFromTheCurrentRecords() {
        let active = Self.state(7, "dishonest_debtor", window: "2026-07", asOf: "2026-07-03", .active)
        func reason(_ records: [FactRecord]) -> [String] {
            AlertLifecycle.decide(
                firings: [], suspended: [], liveRules: ["dishonest_debtor"], states: ["dishonest_debtor": active], changes: [],
                asOf: Self.day("2026-08-05"), ruleSetVersion: "rs2", endTimes: ["court.dishonest": "removed_date"],
                records: ["court.dishonest": records], readTopics: ["court.dishonest"]
            ).withdrawn.map(\.reason)
        }
        func listing(removed: String?) -> FactRecord {
            FactRecord(
                topic: "court.dishonest", key: "C1", eventDay: Self.day("2026-07-03"),
                fields: removed.map { ["removed_date": .date(Self.day($0))] } ?? [:])
        }
        #expect(reason([listing(removed: "2026-08-05")]) == ["截至 2026-08-05 预警条件不再成立：court.dishonest/C1 已于 2026-08-05 移出"])
        #expect(reason([]) == ["截至 2026-08-05 预警条件不再成立：court.dishonest/C1 已删除"])
        // Still there and not removed by the day evaluated (a removal dated later says nothing yet).
        let generic = "截至 2026-08-05 预警条件不再成立（依据的记录已超出规则的时间窗口，或新数据改变了统计结果）"
        #expect(reason([listing(removed: nil)]) == [generic])
        #expect(reason([listing(removed: "2026-09-01")]) == [generic])
    }

    @Test func aSuspendedRuleKeepsItsAlert() {
        let active = Self.state(7, "tax_drop_yoy", window: "2026-07", asOf: "2026-07-03", .active)
        #expect(Self.decide([], states: [active], suspended: ["tax_drop_yoy"]).withdrawn.isEmpty)
    }

    @Test func theSameWindowReactivatesAndTheCoolDownHoldsBackANewOne() {
        let withdrawn = Self.state(7, "tax_drop_yoy", window: "2026-08", asOf: "2026-08-01", .withdrawn)
        let again = Self.decide([Self.alert("tax_drop_yoy", asOf: "2026-08-20")], states: [withdrawn])
        #expect(again.reactivated.map(\.alertID) == [7])
        #expect(again.raised.isEmpty)
        // A cool-down of 30 days covers (as-of − 30, as-of]: 29 days after the last alert a new
        // window is held back, 30 days after it is raised.
        let soon = Self.state(7, "tax_drop_yoy", window: "2026-07", asOf: "2026-08-01", .withdrawn)
        #expect(Self.decide([Self.alert("tax_drop_yoy", asOf: "2026-08-30")], states: [soon]).raised.isEmpty)
        #expect(Self.decide([Self.alert("tax_drop_yoy", asOf: "2026-08-31")], states: [soon]).raised.count == 1)
    }
}
