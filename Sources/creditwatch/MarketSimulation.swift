import Access
import AccessStore
import Marketplace
import MarketplaceStore
import RuleLanguage
import Simulator

/// Plays a simulated city's marketplace (`CitySimulator.marketplace()`) into the marketplace's
/// store, each step on its own business day: the banks and their products, every application
/// through review to a decision, disbursement and the repayments as received, then the loans'
/// positions at the window's end. The loan reports wait in the outbox for the daemon's publisher.
enum MarketSimulation {
    struct Summary {
        var applications = 0
        var loans = 0
        var repayments = 0
        var rejected = 0
        var needs = 0
        var claimed = 0
    }

    static func run(
        _ scenario: MarketScenario, market: MarketplaceStore, access: AccessStore, districts: [String: String]
    ) async throws -> Summary {
        var banks: [MarketCaller] = []
        for name in scenario.banks {
            let organisation = try await access.ensureOrganisation(name: name, kind: .bank, district: nil, uscc: nil)
            banks.append(MarketCaller(actor: .bank(organisation: organisation.id, admin: true), name: "模拟信贷员", organisation: organisation.id, organisationName: name))
        }
        var products: [ProductRecord] = []
        for product in scenario.products {
            let bank = banks[product.bank]
            let draft = try await market.createProduct(product.terms, by: bank)
            products.append(try await market.apply(.publish, toProduct: draft.id, expectedVersion: draft.version, by: bank).get())
        }
        var summary = Summary()
        for simulated in scenario.cases {
            let product = products[simulated.product]
            let bank = banks[scenario.products[simulated.product].bank]
            let applicant = MarketCaller(actor: .enterprise(uscc: simulated.uscc), name: "模拟企业", organisation: 0, organisationName: simulated.uscc)
            let method = product.terms.methods[0]
            let request = FinancingRequest(
                amount: simulated.amount, termMonths: MarketScenario.termMonths, purpose: "扩大生产", collateral: "", authorisation: MarketScenario.authorisation)
            let day = simulated.submitted
            let application = try await market.submitApplication(
                product: product, uscc: simulated.uscc, district: districts[simulated.uscc], request, method: method, today: day, acceptBy: day + 7,
                by: applicant, idempotency: nil
            ).get()
            summary.applications += 1
            var steps: [(ApplicationCommand, Day)] = [(.accept, day + 1), (.startReview, day + 2)]
            if let reason = simulated.rejection {
                steps.append((.reject(reason: reason), day + 3))
                summary.rejected += 1
            } else {
                let approval = Approval(amount: simulated.amount, termMonths: MarketScenario.termMonths, rate: MarketScenario.rate, method: method)
                steps += [(.approve(approval), day + 3), (.disburse(simulated.amount, on: day + 5), day + 5)]
            }
            var record = application
            for (command, on) in steps {
                record = try await market.apply(command, toApplication: application.id, expectedVersion: nil, by: bank, detail: [:], idempotency: nil, today: on, report: nil).get()
            }
            guard let loan = record.loans.first else { continue }
            summary.loans += 1
            for repayment in simulated.repayments {
                _ = try await market.recordRepayment(repayment, onLoan: loan.id, ofBank: record.state.bank, by: bank, idempotency: nil, today: repayment.on).get()
                summary.repayments += 1
            }
        }
        for need in scenario.needs {
            let enterprise = MarketCaller(actor: .enterprise(uscc: need.uscc), name: "模拟企业", organisation: 0, organisationName: need.uscc)
            let request = FinancingRequest(
                amount: need.amount, termMonths: need.termMonths, purpose: "补充流动资金", collateral: "", authorisation: MarketScenario.authorisation)
            let published = try await market.publishNeed(uscc: need.uscc, request, today: need.published, by: enterprise)
            summary.needs += 1
            guard let bank = need.claimedBy else { continue }
            _ = try await market.apply(
                .claim, toNeed: published.id, expectedVersion: nil, by: banks[bank], today: need.published + 2, district: districts[need.uscc], idempotency: nil
            ).get()
            summary.claimed += 1
        }
        _ = try await market.reportLoans(today: scenario.end)
        return summary
    }
}
