import Testing

@testable import AlertDesk

@Suite("The alert desk's steps")
struct AlertDeskTests {
    func apply(_ commands: [DeskCommand], from state: DeskState = .new) -> [String] {
        var state = state
        return commands.map { command in
            switch decide(command, on: state) {
            case .success(let next):
                state = next
                return "\(command.name) → \(next.status.rawValue) v\(next.version) \(next.assignee ?? "-") \(next.disposition?.rawValue ?? "-")"
            case .failure(let rejection):
                return "\(command.name) refused: \(rejection)"
            }
        }
    }

    @Test func anAlertIsAcknowledgedAssignedResolvedAndReopened() {
        #expect(apply([
            .acknowledge, .assign(to: " 王分析 "), .comment("已电话核实"), .resolve(.confirmedRisk, note: "欠税属实"),
            .comment("移交稽查"), .reopen(reason: "企业申诉"), .resolve(.falsePositive, note: ""),
        ]) == [
            "acknowledge → acknowledged v1 - -",
            "assign → acknowledged v2 王分析 -",
            "comment → acknowledged v3 王分析 -",
            "resolve → resolved v4 王分析 confirmed_risk",
            "comment → resolved v5 王分析 confirmed_risk",
            "reopen → acknowledged v6 王分析 -",
            "resolve → resolved v7 王分析 false_positive",
        ])
    }

    @Test func stepsTheStateDoesNotAllowAreConflictsAndBadStepsInvalid() {
        #expect(apply([.acknowledge, .acknowledge]).last == #"acknowledge refused: conflict("the alert is already acknowledged")"#)
        #expect(apply([.reopen(reason: "why")]) == [#"reopen refused: conflict("only a resolved alert is reopened; it is open")"#])
        #expect(apply([.resolve(.noActionNeeded, note: ""), .resolve(.confirmedRisk, note: "")]).last
            == #"resolve refused: conflict("the alert is already resolved as no_action_needed")"#)
        #expect(apply([.resolve(.noActionNeeded, note: ""), .assign(to: "李")]).last
            == #"assign refused: conflict("the alert is resolved; reopen it first")"#)
        #expect(apply([.assign(to: "李"), .assign(to: "李")]).last == #"assign refused: conflict("the alert is already assigned to 李")"#)
        #expect(apply([.comment("  \n")]) == [#"comment refused: invalid("text must not be empty")"#])
        #expect(apply([.assign(to: "")]) == [#"assign refused: invalid("assignee must be a name of 1 to 100 characters")"#])
        #expect(apply([.comment(String(repeating: "字", count: 2001))]) == [#"comment refused: invalid("text must be at most 2000 characters")"#])
        #expect(apply([.resolve(.confirmedRisk, note: ""), .reopen(reason: " ")]).last == #"reopen refused: invalid("reason must not be empty")"#)
    }

    @Test func precisionCountsConfirmedAmongTheJudged() {
        let stats = RuleDeskStatistics(
            rule: "r", alerts: 10, acknowledged: 6, confirmedRisk: 3, falsePositive: 1, noActionNeeded: 2, medianSecondsToAcknowledge: 60)
        #expect(stats.precision == 0.75)
        #expect(RuleDeskStatistics(
            rule: "r", alerts: 1, acknowledged: 0, confirmedRisk: 0, falsePositive: 0, noActionNeeded: 1, medianSecondsToAcknowledge: nil
        ).precision == nil)
    }
}
