import Access
import CreditWatchCore
import Foundation
import AccessStore
import Marketplace
import MarketplaceStore
import PostgresStore
import RuleLanguage
import Testing

@testable import creditwatch

/// The marketplace coupled to the engine: a loan's reports go through Kafka (`finance.loan`) into
/// the feature windows, the lending rules and the scorecard's lending dimension.
@Suite("The marketplace's loans through the engine", .enabled(if: Stack.isAvailable), .serialized)
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
            product: product, uscc: Self.borrower, district: "430602", request, method: .equalInstalment, today: start, acceptBy: start + 7, by: Self.applicant)
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
}
