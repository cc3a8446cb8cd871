import RuleLanguage
import Testing

@testable import Simulator

@Suite("The simulated marketplace")
struct MarketScenarioTests {
    static let simulator = CitySimulator(configuration: CityConfiguration(enterprises: 120, persons: 40, seed: 11, badInputRate: 0))

    @Test func repaymentsFollowThePlantedStories() throws {
        let scenario = Self.simulator.marketplace()
        let stories = Self.simulator.plantedStories
        for story in stories where story.kind != .industryWave {
            #expect(scenario.cases.contains { $0.uscc == story.uscc && $0.rejection == nil }, "\(story.kind) applies and borrows")
        }
        // The collapsed enterprise pays nothing due from its collapse month on, and goes bad 91 days after.
        let collapse = try #require(stories.first { $0.kind == .productionCollapse })
        let collapsed = try #require(scenario.cases.first { $0.uscc == collapse.uscc })
        #expect(collapsed.repayments.allSatisfy { $0.on < collapse.month.firstDay })
        let firstUnpaid = (collapsed.submitted + 5).addingMonths(collapsed.repayments.count + 1)
        #expect(firstUnpaid >= collapse.month.firstDay)
        #expect(collapsed.wentBad == firstUnpaid + 91)
        // The churning enterprise pays every instalment 40 days late and never goes bad.
        let churn = try #require(stories.first { $0.kind == .legalRepresentativeChurn })
        let churned = try #require(scenario.cases.first { $0.uscc == churn.uscc })
        #expect(churned.wentBad == nil)
        #expect(churned.repayments.enumerated().allSatisfy { index, repayment in
            repayment.on == (churned.submitted + 5).addingMonths(index + 1) + 40
        })
        // Rejected applications borrow nothing; the same seed gives the same marketplace.
        #expect(scenario.cases.filter { $0.rejection != nil }.allSatisfy { $0.repayments.isEmpty && $0.wentBad == nil })
        #expect(Self.simulator.marketplace().cases.map(\.uscc) == scenario.cases.map(\.uscc))
        #expect(scenario.needs.allSatisfy { need in !scenario.cases.contains { $0.uscc == need.uscc } })
    }
}
