import Access
import CreditWatchCore
import Foundation
import Hummingbird
import Marketplace
import PostgresStore
import RuleLanguage

/// What the marketplace tells about itself:
/// - `GET /v1/market/matches/products?uscc=&amount_fen=&term_months=`: published products ranked
///   by fit for an enterprise (itself; the office and its banks name one in their scope), each
///   condition held or failed with the reason;
/// - `GET /v1/market/matches/needs`: for a bank, the open needs with the product of its that fits
///   each best;
/// - `GET /v1/market/stats?from=&to=`: the figures (the office: the city or its district; a bank or
///   an enterprise: its own business);
/// - `GET /v1/market/outcomes?from=&to=`: per rule, how many of the loans whose borrower it
///   alerted went 90+ days past due, against the base rate (the office).
extension MarketController {
    func addInsightRoutes(to group: some RouterMethods<APIRequestContext>) {
        group.get("market/matches/products", use: productMatches)
        group.get("market/matches/needs", use: needMatches)
        group.get("market/stats", use: statistics)
        group.get("market/outcomes", use: outcomes)
    }

    struct ConditionView: Encodable {
        let name: String
        let held: Bool
        let detail: String
    }

    struct MatchView: Encodable {
        let product: ProductView
        let eligible: Bool
        let conditions: [ConditionView]

        init(_ match: ProductMatch) {
            product = ProductView(match.product)
            eligible = match.eligible
            conditions = match.conditions.map { ConditionView(name: $0.name, held: $0.held, detail: $0.detail) }
        }
    }

    /// Every item of an id-ordered listing, read `pageSize` at a time.
    func everything<T: Sendable>(_ id: (T) -> Int64, _ page: @escaping @Sendable (_ after: Int64?, _ limit: Int) async throws -> [T]) async throws -> [T] {
        let pageSize = 500
        var all: [T] = []
        var after: Int64?
        while true {
            let cursor = after
            let items = try await access { try await page(cursor, pageSize) }
            all += items
            guard items.count == pageSize, let last = items.last else { return all }
            after = id(last)
        }
    }

    /// Every published product, oldest first.
    func publishedProducts() async throws -> [ProductRecord] {
        let market = try port()
        return try await everything(\.id) { try await market.products(after: $0, limit: $1, bank: nil) }.filter { $0.status == .published }
    }

    /// The product's match for an enterprise asking for `amount` over `termMonths`.
    func match(_ product: ProductRecord, uscc: String, registration: EnterpriseRegistration?, amount: Fen?, termMonths: Int?) async throws -> ProductMatch {
        var verdict: EligibilityVerdict?
        if !product.terms.eligibility.isEmpty {
            guard let engine else { throw APIError(.unavailable, "this server runs no rule set to judge eligibility") }
            verdict = try await access { try await engine.verdict(product.terms.eligibility, for: uscc) }
        }
        return Matching.match(
            product, industryCode: registration?.industryCode, district: registration?.district, amount: amount, termMonths: termMonths, verdict: verdict)
    }

    @Sendable func productMatches(_ request: Request, context: APIRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let query = try QueryParameters(request, accepted: ["uscc", "amount_fen", "term_months"])
        _ = try port()
        let uscc: String
        if principal.organisation.kind == .enterprise {
            uscc = principal.organisation.uscc ?? ""
        } else {
            guard let text = try query.single("uscc") else { throw APIError(.invalidParameter, "name the enterprise: uscc=…", parameter: "uscc") }
            do { uscc = try USCC(validating: text).value } catch { throw APIError(.invalidParameter, error.reason, parameter: "uscc") }
        }
        let amount = try query.single("amount_fen").map { text throws(APIError) -> Fen in
            guard let value = Int64(text), value > 0 else { throw APIError(.invalidParameter, "amount_fen must be a positive integer, got '\(text)'", parameter: "amount_fen") }
            return Fen(value)
        }
        let term = try query.single("term_months").map { text throws(APIError) -> Int in
            guard let value = Int(text), (1...LoanTerms.maximumTermMonths).contains(value) else {
                throw APIError(.invalidParameter, "term_months must be an integer from 1 to \(LoanTerms.maximumTermMonths), got '\(text)'", parameter: "term_months")
            }
            return value
        }
        let scope = principal.scope
        guard let record = try await access({ try await enterprises.enterprise(uscc, scope: scope) }) else {
            throw APIError(.notFound, "no enterprise with USCC \(uscc) is known", parameter: "uscc")
        }
        var matches: [ProductMatch] = []
        for product in try await publishedProducts() {
            matches.append(try await match(product, uscc: uscc, registration: record.profile.registration, amount: amount, termMonths: term))
        }
        struct Answer: Encodable {
            let uscc: String
            let items: [MatchView]
        }
        return try JSONResponse.make(Answer(uscc: uscc, items: Matching.ranked(matches).map(MatchView.init)))
    }

    @Sendable func needMatches(_ request: Request, context: APIRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let query = try QueryParameters(request, accepted: ["after", "limit"])
        let market = try port()
        guard principal.organisation.kind == .bank else { throw APIError(.forbidden, "needs are matched to a bank's products") }
        let after = try query.cursor("after")
        let limit = try query.limit("limit", defaultValue: 20, maximum: 100)
        let own = try await publishedProducts().filter { $0.bank == principal.organisation.id }
        let needs = try await access { try await market.needs(after: after, limit: limit + 1, uscc: nil) }.filter { $0.status == .open }
        struct NeedMatch: Encodable {
            let need: NeedView
            let best: MatchView?
        }
        var items: [NeedMatch] = []
        for need in needs.prefix(limit) {
            let uscc = need.uscc
            let registration = try await access { try await enterprises.enterprise(uscc, scope: .city)?.profile.registration }
            var matches: [ProductMatch] = []
            for product in own {
                matches.append(try await match(product, uscc: uscc, registration: registration, amount: need.request.amount, termMonths: need.request.termMonths))
            }
            items.append(NeedMatch(need: NeedView(need), best: Matching.ranked(matches).first.map(MatchView.init)))
        }
        // Needs a product fits first, in need order otherwise.
        let ordered = items.filter { $0.best?.eligible == true } + items.filter { $0.best?.eligible != true }
        return try JSONResponse.make(Page(ordered, ids: needs.map(\.id), limit: limit))
    }

    /// `from`/`to` (YYYY-MM-DD), by default the year up to today.
    func period(_ query: QueryParameters) throws(APIError) -> ClosedRange<Day> {
        let day = today()
        let to = try Self.day(try query.single("to"), "to", default: day)
        let from = try Self.day(try query.single("from"), "from", default: to - 364)
        guard from <= to else { throw APIError(.invalidParameter, "from \(from) is after to \(to)", parameter: "from") }
        return from...to
    }

    /// Every application the filter selects, with its loans.
    func allApplications(_ filter: ApplicationFilter) async throws -> [ApplicationRecord] {
        let market = try port()
        return try await everything(\.id) { try await market.applications(filter, after: $0, limit: $1) }
    }

    struct StatisticsView: Encodable {
        let from: String
        let to: String
        let publishedProducts: Int
        let publishedProductsByKind: [String: Int]
        let needs: Int
        let needsClaimed: Int
        let claimRate: Double?
        let applications: Int
        let applicationsByStatus: [String: Int]
        let approvalRate: Double?
        let medianDaysToFirstResponse: Double?
        let medianDaysToDisbursement: Double?
        let approvedFen: Int64
        let disbursedFen: Int64
        let outstandingFen: Int64
        let nonPerformingFen: Int64
        let nonPerformingRatio: Double?
        let borrowers: Int
        let firstTimeBorrowers: Int
        let creditLoanShare: Double?
    }

    @Sendable func statistics(_ request: Request, context: APIRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let query = try QueryParameters(request, accepted: ["from", "to"])
        let market = try port()
        let period = try period(query)
        let filter = try filter(principal)
        let applications = try await allApplications(filter)
        let bank = filter.bank
        var products = try await everything(\.id) { try await market.products(after: $0, limit: $1, bank: bank) }
        if let bank { products = products.filter { $0.bank == bank } }
        var needs = try await everything(\.id) { try await market.allNeeds(after: $0, limit: $1) }
        if let bank = filter.bank { needs = needs.filter { $0.claimedBy == bank } }
        if let uscc = filter.uscc { needs = needs.filter { $0.uscc == uscc } }
        if filter.district != nil {
            let claimed = Set(applications.compactMap(\.needID))
            needs = needs.filter { claimed.contains($0.id) }
        }
        let ids = applications.map(\.id)
        let responses = try await access { try await market.firstResponses(ofApplications: ids) }
        let s = MarketStatistics(products: products, needs: needs, applications: applications, firstResponses: responses, period: period, asOf: period.upperBound)
        return try JSONResponse.make(
            StatisticsView(
                from: period.lowerBound.description, to: period.upperBound.description, publishedProducts: s.publishedProducts,
                publishedProductsByKind: s.publishedProductsByKind, needs: s.needs, needsClaimed: s.needsClaimed, claimRate: s.claimRate,
                applications: s.applications, applicationsByStatus: s.applicationsByStatus, approvalRate: s.approvalRate,
                medianDaysToFirstResponse: s.medianDaysToFirstResponse, medianDaysToDisbursement: s.medianDaysToDisbursement,
                approvedFen: s.approvedFen, disbursedFen: s.disbursedFen, outstandingFen: s.outstandingFen, nonPerformingFen: s.nonPerformingFen,
                nonPerformingRatio: s.nonPerformingRatio, borrowers: s.borrowers, firstTimeBorrowers: s.firstTimeBorrowers,
                creditLoanShare: s.creditLoanShare))
    }

    struct OutcomesView: Encodable {
        let from: String
        let to: String
        let loans: Int
        let badLoans: Int
        let baseRate: Double?
        let rules: [RuleView]

        struct RuleView: Encodable {
            let rule: String
            let alertedLoans: Int
            let badLoans: Int
            let badRate: Double?
            let lift: Double?
        }
    }

    @Sendable func outcomes(_ request: Request, context: APIRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let query = try QueryParameters(request, accepted: ["from", "to"])
        _ = try port()
        let period = try period(query)
        let day = today()
        let applications = try await allApplications(try filter(principal))
        let loans = applications.flatMap { application in
            application.loans.map { LoanOutcome($0, uscc: application.state.uscc, writtenOff: application.state.status == .writtenOff, today: day) }
        }
        // The borrowers' alerts, every rule, raised or since withdrawn.
        let borrowers = Set(loans.map(\.uscc))
        var marks: [AlertMark] = []
        var after: Int64?
        while !borrowers.isEmpty {
            let cursor = after
            let page = try await access { try await alerts.alerts(AlertFilter(), after: cursor, limit: 500, scope: .subjects(borrowers)) }
            // The lending rules read the loans themselves: they foretell nothing about them.
            marks += page.alerts.filter { $0.category != "lending" }.compactMap { alert in
                Day(iso: String(alert.asOf.prefix(10))).map { AlertMark(uscc: alert.subjectID, rule: alert.rule, asOf: $0) }
            }
            guard page.hasMore, let next = page.nextCursor else { break }
            after = next
        }
        let report = OutcomeReport(loans: loans, alerts: marks, period: period, today: day)
        return try JSONResponse.make(
            OutcomesView(
                from: period.lowerBound.description, to: period.upperBound.description, loans: report.loans, badLoans: report.badLoans,
                baseRate: report.baseRate,
                rules: report.rules.map { .init(rule: $0.rule, alertedLoans: $0.alertedLoans, badLoans: $0.badLoans, badRate: $0.badRate, lift: $0.lift) }))
    }
}
