import Access
import RuleLanguage

/// A bank's product as stored.
public struct ProductRecord: Sendable, Hashable {
    public var id: Int64
    public var bank: Int64
    public var bankName: String
    public var terms: ProductTerms
    public var status: ProductStatus
    public var version: Int

    public init(id: Int64, bank: Int64, bankName: String, terms: ProductTerms, status: ProductStatus, version: Int) {
        self.id = id
        self.bank = bank
        self.bankName = bankName
        self.terms = terms
        self.status = status
        self.version = version
    }
}

/// What an enterprise asks for, in a need or an application.
public struct FinancingRequest: Sendable, Hashable {
    public var amount: Fen
    public var termMonths: Int
    /// 用途, in the enterprise's words.
    public var purpose: String
    /// Collateral or guarantee offered (empty: none).
    public var collateral: String
    /// The enterprise's authorisation of the bank's credit queries for this financing.
    public var authorisation: QueryAuthorisation

    public init(amount: Fen, termMonths: Int, purpose: String, collateral: String, authorisation: QueryAuthorisation) {
        self.amount = amount
        self.termMonths = termMonths
        self.purpose = purpose
        self.collateral = collateral
        self.authorisation = authorisation
    }

    /// Everything wrong with it on `day`.
    public func problems(on day: Day) -> [String] {
        var problems: [String] = []
        if amount <= .zero || amount > LoanTerms.maximumAmount { problems.append("amount must be between 1 and \(LoanTerms.maximumAmount.value) fen") }
        if !(1...LoanTerms.maximumTermMonths).contains(termMonths) { problems.append("term_months must be between 1 and \(LoanTerms.maximumTermMonths)") }
        if let problem = reasonProblem(purpose) { problems.append("purpose: \(problem == "a reason is required" ? "required" : problem)") }
        if collateral.count > 500 { problems.append("collateral must be at most 500 characters") }
        if let problem = authorisation.problem(on: day) { problems.append(problem) }
        return problems
    }
}

/// A published financing need.
public struct NeedRecord: Sendable, Hashable {
    public var id: Int64
    public var uscc: String
    public var request: FinancingRequest
    public var status: NeedStatus
    /// The bank that claimed it, and the application the claim opened.
    public var claimedBy: Int64?
    public var applicationID: Int64?
    public var version: Int
    /// The business day it was published, `YYYY-MM-DD`.
    public var publishedOn: String

    public init(
        id: Int64, uscc: String, request: FinancingRequest, status: NeedStatus, claimedBy: Int64?, applicationID: Int64?, version: Int,
        publishedOn: String
    ) {
        self.id = id
        self.uscc = uscc
        self.request = request
        self.status = status
        self.claimedBy = claimedBy
        self.applicationID = applicationID
        self.version = version
        self.publishedOn = publishedOn
    }
}

/// An application as stored: its request, its state and where it came from.
public struct ApplicationRecord: Sendable, Hashable {
    public var id: Int64
    public var productID: Int64?
    public var needID: Int64?
    public var bankName: String
    /// The applicant's district when it was submitted.
    public var district: String?
    public var request: FinancingRequest
    public var method: RepaymentMethod?
    public var state: ApplicationState
    /// The day it was submitted and the last working day the bank has to accept it.
    public var submittedOn: Day
    public var acceptBy: Day
    /// Why it was rejected, withdrawn or written off.
    public var reason: String?
    public var loans: [LoanRecord]

    public init(
        id: Int64, productID: Int64?, needID: Int64?, bankName: String, district: String?, request: FinancingRequest, method: RepaymentMethod?,
        state: ApplicationState, submittedOn: Day, acceptBy: Day, reason: String?, loans: [LoanRecord]
    ) {
        self.id = id
        self.productID = productID
        self.needID = needID
        self.bankName = bankName
        self.district = district
        self.request = request
        self.method = method
        self.state = state
        self.submittedOn = submittedOn
        self.acceptBy = acceptBy
        self.reason = reason
        self.loans = loans
    }

    /// What the loans still owe in all.
    public var outstanding: Fen {
        loans.reduce(Fen.zero) { $0 + LoanPosition.remaining(schedule: $1.schedule, repayments: $1.repayments) }
    }
}

/// One disbursed tranche: its terms, schedule and repayments.
public struct LoanRecord: Sendable, Hashable {
    public var id: Int64
    public var applicationID: Int64
    public var tranche: Int
    public var terms: LoanTerms
    public var disbursedOn: Day
    public var schedule: [Instalment]
    public var repayments: [Repayment]

    public init(id: Int64, applicationID: Int64, tranche: Int, terms: LoanTerms, disbursedOn: Day, schedule: [Instalment], repayments: [Repayment]) {
        self.id = id
        self.applicationID = applicationID
        self.tranche = tranche
        self.terms = terms
        self.disbursedOn = disbursedOn
        self.schedule = schedule
        self.repayments = repayments
    }

    public func position(asOf day: Day) -> LoanPosition { LoanPosition(schedule: schedule, repayments: repayments, asOf: day) }
}

/// A step on an application, as recorded.
public struct ApplicationEvent: Sendable, Hashable {
    public var id: Int64
    public var at: String
    public var actor: String
    public var organisation: String
    public var action: String
    public var detail: [String: String]
    public var version: Int

    public init(id: Int64, at: String, actor: String, organisation: String, action: String, detail: [String: String], version: Int) {
        self.id = id
        self.at = at
        self.actor = actor
        self.organisation = organisation
        self.action = action
        self.detail = detail
        self.version = version
    }
}

/// A command the marketplace did not apply, with the state it met (for the 409's `current`).
public struct MarketRefusal: Error, Sendable, Hashable {
    public var rejection: MarketRejection
    public var current: [String: String]

    public init(_ rejection: MarketRejection, current: [String: String] = [:]) {
        self.rejection = rejection
        self.current = current
    }
}

/// Who acts, as the audit and event logs name them.
public struct MarketCaller: Sendable, Hashable {
    public var actor: MarketActor
    public var name: String
    public var organisation: Int64
    public var organisationName: String

    public init(actor: MarketActor, name: String, organisation: Int64, organisationName: String) {
        self.actor = actor
        self.name = name
        self.organisation = organisation
        self.organisationName = organisationName
    }
}

/// A retry-safe command: the same `key` from the same organisation with the same `fingerprint`
/// (a digest of the request) answers what the first answered; with another fingerprint, it is refused.
public struct Idempotency: Sendable, Hashable {
    public var key: String
    public var fingerprint: String

    public init(key: String, fingerprint: String) {
        self.key = key
        self.fingerprint = fingerprint
    }
}

/// Which applications a list shows.
public struct ApplicationFilter: Sendable, Hashable {
    public var bank: Int64?
    public var uscc: String?
    public var status: ApplicationStatus?
    /// The applicant's district (a district office's view).
    public var district: String?

    public init(bank: Int64? = nil, uscc: String? = nil, status: ApplicationStatus? = nil, district: String? = nil) {
        self.bank = bank
        self.uscc = uscc
        self.status = status
        self.district = district
    }
}

/// The marketplace's store port (`MarketplaceStore` on PostgreSQL). Commands run under a lock on
/// their subject with optimistic concurrency (`expectedVersion`), and are recorded in the
/// subject's event log; the API audits them.
public protocol MarketplacePort: Sendable {
    func createProduct(_ terms: ProductTerms, by caller: MarketCaller) async throws -> ProductRecord
    func product(_ id: Int64) async throws -> ProductRecord?
    /// Published products, and the caller bank's own in any status (`bank`), by id.
    func products(after: Int64?, limit: Int, bank: Int64?) async throws -> [ProductRecord]
    func apply(_ command: ProductCommand, toProduct id: Int64, expectedVersion: Int?, by caller: MarketCaller) async throws
        -> Result<ProductRecord, MarketRefusal>

    func publishNeed(uscc: String, _ request: FinancingRequest, today: Day, by caller: MarketCaller) async throws -> NeedRecord
    func need(_ id: Int64) async throws -> NeedRecord?
    /// Open needs, and the enterprise's own in any status (`uscc`), by id.
    func needs(after: Int64?, limit: Int, uscc: String?) async throws -> [NeedRecord]
    /// Every need in any status, by id (statistics).
    func allNeeds(after: Int64?, limit: Int) async throws -> [NeedRecord]
    /// The day (in the city's time) each application was first answered: accepted, claimed or rejected.
    func firstResponses(ofApplications ids: [Int64]) async throws -> [Int64: Day]
    /// A claim opens an accepted application for the claiming bank; retried under the same
    /// `idempotency` key it answers the need as the first claim left it.
    func apply(
        _ command: NeedCommand, toNeed id: Int64, expectedVersion: Int?, by caller: MarketCaller, today: Day, district: String?, idempotency: Idempotency?
    ) async throws -> Result<NeedRecord, MarketRefusal>

    /// Retried under the same `idempotency` key, it answers the application the first one created.
    func submitApplication(
        product: ProductRecord, uscc: String, district: String?, _ request: FinancingRequest, method: RepaymentMethod?, today: Day,
        acceptBy: Day, by caller: MarketCaller, idempotency: Idempotency?
    ) async throws -> Result<ApplicationRecord, MarketRefusal>
    func application(_ id: Int64) async throws -> ApplicationRecord?
    func applications(_ filter: ApplicationFilter, after: Int64?, limit: Int) async throws -> [ApplicationRecord]
    func events(ofApplication id: Int64) async throws -> [ApplicationEvent]
    /// Applies a step; the application's loans are reported as of `today` when what they say
    /// changed. `report` (JSON) is frozen with the application in the same transaction (the
    /// credit report a review starts with).
    func apply(
        _ command: ApplicationCommand, toApplication id: Int64, expectedVersion: Int?, by caller: MarketCaller, detail: [String: String],
        idempotency: Idempotency?, today: Day, report: String?
    ) async throws -> Result<ApplicationRecord, MarketRefusal>
    /// The frozen credit report (JSON) and when it was frozen; nil before the review started.
    func creditReport(ofApplication id: Int64) async throws -> (report: String, frozenAt: String)?
    /// Records a repayment on a loan (moving its application to repaying, and closing it when
    /// everything approved was disbursed and repaid).
    /// A loan of another bank is answered as one that does not exist (`invalid("no loan ID")`).
    func recordRepayment(
        _ repayment: Repayment, onLoan id: Int64, ofBank bank: Int64, by caller: MarketCaller, idempotency: Idempotency?, today: Day
    ) async throws -> Result<ApplicationRecord, MarketRefusal>
    /// Expires the submitted applications whose deadline passed before `today`; their ids.
    func expireApplications(today: Day) async throws -> [Int64]

    /// Reports every live loan whose row changed by `today` (days past due grow by themselves); how many.
    func reportLoans(today: Day) async throws -> Int
    /// Reports waiting to be published, oldest first.
    func pendingLoanReports(limit: Int) async throws -> [PendingLoanReport]
    func markPublished(_ ids: [Int64]) async throws
}
