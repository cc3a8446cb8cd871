import Access
import CreditWatchCore
import Foundation
import AccessStore
import Marketplace
import MarketplaceStore
import PostgresStore
import RuleLanguage
import Simulator
import Testing

@testable import creditwatch

extension EngineIntegrationTests {
    /// The marketplace coupled to the engine: a loan's reports go through Kafka (`finance.loan`) into
    /// the feature windows, the lending rules and the scorecard's lending dimension.
    /// Nested in the serialized integration suite: the servers (Redis above all) are shared.
    @Suite("The marketplace's loans through the engine")
    struct MarketplaceEngineTests {
        static let borrower = Script.uscc("91430500MA4L7D201")
        static let applicant = MarketCaller(actor: .enterprise(uscc: borrower), name: "李财务", organisation: 9, organisationName: "邵阳示范机械")

        /// Publishes the loan reports waiting in the outbox and waits until the engine has them.
        static func publish(_ engine: inout Engine) async throws -> Int {
            let published = try await engine.daemon.loanReports.publishBatch()
            engine.sent += published
            try await engine.caughtUp()
            return published
        }

        @Test func anOverdueLoanLowersTheBorrowersScoreAndRaisesTheLendingAlerts() async throws {
            var engine = try await Engine.start("market_engine", partitions: 1)
            try await engine.send([Script.registration(Self.borrower, name: "邵阳示范机械有限公司", industry: "C3011", established: Day(year: 2010, month: 5, day: 1)!)])
            let market = engine.daemon.market
            let lender = try await engine.daemon.access.ensureOrganisation(name: "城市商业银行", kind: .bank, district: nil, uscc: nil)
            let bank = MarketCaller(actor: .bank(organisation: lender.id, admin: true), name: "王信贷", organisation: lender.id, organisationName: lender.name)
            let terms = ProductTerms(
                name: "制造业信用贷", kind: .credit, minimumAmount: Fen(10_000_000), maximumAmount: Fen(500_000_000), minimumTermMonths: 6,
                maximumTermMonths: 36, minimumRate: AnnualRate(basisPoints: 300), maximumRate: AnnualRate(basisPoints: 600), methods: [.equalInstalment])
            let product = try await market.apply(.publish, toProduct: try await market.createProduct(terms, by: bank).id, expectedVersion: 0, by: bank).get()
            let start = Day(iso: "2026-01-05")!
            let request = FinancingRequest(
                amount: Fen(100_000_000), termMonths: 12, purpose: "购置设备", collateral: "",
                authorisation: QueryAuthorisation(reference: "SQ-1", scope: "贷前审查及贷后管理", validFrom: "2026-01-01", validUntil: "2027-12-31"))
            let application = try await market.submitApplication(
                product: product, uscc: Self.borrower, district: "430602", request, method: .equalInstalment, today: start, acceptBy: start + 7, by: Self.applicant,
                idempotency: nil
            ).get()
            for command: ApplicationCommand in [
                .accept, .startReview, .approve(Approval(amount: Fen(100_000_000), termMonths: 12, rate: AnnualRate(basisPoints: 435), method: .equalInstalment)),
                .disburse(Fen(100_000_000), on: start),
            ] {
                _ = try await market.apply(command, toApplication: application.id, expectedVersion: nil, by: bank, detail: [:], idempotency: nil, today: start, report: nil).get()
            }
            #expect(try await Self.publish(&engine) == 1)
            let performing = try #require(try await engine.store.score(of: Self.borrower))

            // Nothing paid by 20 March: the 5 February instalment is 43 days past due.
            #expect(try await market.reportLoans(today: Day(iso: "2026-03-20")!) == 1)
            #expect(try await market.reportLoans(today: Day(iso: "2026-03-20")!) == 0)
            #expect(try await Self.publish(&engine) == 1)
            let overdue = try #require(try await engine.store.score(of: Self.borrower))
            // The performing-loan item's +20 is gone and the overdue rule takes 40.
            #expect(overdue.score == performing.score - 60)
            var alerts = try await engine.alerts().filter { $0.subjectID == Self.borrower }
            #expect(alerts.map(\.rule) == ["loan_overdue"])
            #expect(alerts.first?.explanation == "在银企融资平台有 1 笔贷款逾期，最长逾期 43 天，逾期贷款本金余额 1000000 元")

            // By 10 May, 94 days: non-performing, the overdue alert gives way to the graver one.
            #expect(try await market.reportLoans(today: Day(iso: "2026-05-10")!) == 1)
            #expect(try await Self.publish(&engine) == 1)
            let nonPerforming = try #require(try await engine.store.score(of: Self.borrower))
            #expect(nonPerforming.score == performing.score - 140)
            alerts = try await engine.alerts().filter { $0.subjectID == Self.borrower }
            #expect(alerts.map { "\($0.rule) \($0.status)" } == ["loan_overdue withdrawn", "loan_non_performing active"])
            try await engine.stop()
        }

        /// The simulated city with its marketplace: the outcome report counts exactly the loans the
        /// scenario made and those it let go bad, and the early-warning rules foretold the collapse.
        @Test func theOutcomeReportOnTheSimulatedCity() async throws {
            var configuration = CityConfiguration(enterprises: 120, persons: 40, seed: 11, badInputRate: 0)
            configuration.duplicateRate = 0
            let simulator = CitySimulator(configuration: configuration)
            // Month by month, as a live city arrives, so that each alert is raised in the month it became true.
            var engine = try await Engine.start("market_city", partitions: 1, backlog: simulator.registrations())
            try await engine.caughtUp()
            for month in simulator.months { try await engine.send(simulator.month(month)) }
            let scenario = simulator.marketplace()
            let districts = Dictionary(simulator.enterprises.map { ($0.uscc, $0.districtCode) }, uniquingKeysWith: { a, _ in a })
            let summary = try await MarketSimulation.run(scenario, market: engine.daemon.market, access: engine.daemon.access, districts: districts)
            #expect(summary.loans == scenario.cases.filter { $0.rejection == nil }.count)
            while try await Self.publish(&engine) > 0 {}

            var applications: [ApplicationRecord] = []
            var after: Int64?
            repeat {
                let page = try await engine.daemon.market.applications(ApplicationFilter(), after: after, limit: 200)
                applications += page
                after = page.count == 200 ? page.last?.id : nil
            } while after != nil
            let outcomes = applications.flatMap { a in a.loans.map { LoanOutcome($0, uscc: a.state.uscc, writtenOff: false, today: scenario.end) } }
            // The store's schedules and repayments give back the scenario's ground truth, loan by loan.
            let truth = Dictionary(scenario.cases.filter { $0.rejection == nil }.map { ($0.uscc, $0.wentBad) }, uniquingKeysWith: { a, _ in a })
            #expect(Dictionary(outcomes.map { ($0.uscc, $0.wentBad) }, uniquingKeysWith: { a, _ in a }) == truth)

            let alerts = try await engine.alerts().compactMap { alert in
                Day(iso: String(alert.asOf.prefix(10))).map { AlertMark(uscc: alert.subjectID, rule: alert.rule, asOf: $0) }
            }
            let report = OutcomeReport(loans: outcomes, alerts: alerts, period: simulator.months[0].firstDay...scenario.end, today: scenario.end)
            #expect(report.loans == summary.loans)
            #expect(report.badLoans == scenario.cases.filter { $0.wentBad != nil }.count)
            #expect(report.badLoans >= 2, "the collapse and some of the wave default")
            // The collapsed enterprise's loan went bad after the engine had alerted it.
            let collapse = try #require(simulator.plantedStories.first { $0.kind == .productionCollapse })
            let collapseBad = try #require(truth[collapse.uscc] ?? nil)
            let foretold = Set(alerts.filter { $0.uscc == collapse.uscc && $0.asOf <= collapseBad }.map(\.rule))
            #expect(!foretold.isEmpty, "no alert on \(collapse.uscc) before \(collapseBad): \(alerts.filter { $0.uscc == collapse.uscc })")
            for rule in foretold { #expect(report.rules.first { $0.rule == rule }.map { $0.badLoans >= 1 } == true, "\(rule)") }
            // And the engine read the default back: the lending rule is active on the collapsed borrower.
            let lending = try await engine.alerts().filter { $0.subjectID == collapse.uscc && $0.rule == "loan_non_performing" }
            #expect(lending.map(\.status) == ["active"])
            try await engine.stop()
        }
    }
}
