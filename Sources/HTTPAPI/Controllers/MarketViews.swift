import Access
import Marketplace
import PostgresStore
import RuleLanguage

/// The marketplace as the API shows it: money in whole fen (`*_fen`), rates in basis points
/// (`*_rate_bp`), days as `YYYY-MM-DD`; snake_case by the encoder.
struct ProductView: Encodable {
    let id: Int64
    let bankId: Int64
    let bankName: String
    let name: String
    let kind: String
    let minimumAmountFen: Int64
    let maximumAmountFen: Int64
    let minimumTermMonths: Int
    let maximumTermMonths: Int
    let minimumRateBp: Int64
    let maximumRateBp: Int64
    let methods: [String]
    let guarantee: String
    let industries: [String]
    let districts: [String]
    let eligibility: String
    let status: String
    let version: Int

    init(_ product: ProductRecord) {
        let t = product.terms
        id = product.id
        bankId = product.bank
        bankName = product.bankName
        name = t.name
        kind = t.kind.rawValue
        minimumAmountFen = t.minimumAmount.value
        maximumAmountFen = t.maximumAmount.value
        minimumTermMonths = t.minimumTermMonths
        maximumTermMonths = t.maximumTermMonths
        minimumRateBp = t.minimumRate.basisPoints
        maximumRateBp = t.maximumRate.basisPoints
        methods = t.methods.map(\.rawValue)
        guarantee = t.guarantee
        industries = t.industries
        districts = t.districts
        eligibility = t.eligibility
        status = product.status.rawValue
        version = product.version
    }
}

struct AuthorisationView: Encodable {
    let reference: String
    let scope: String
    let validFrom: String
    let validUntil: String

    init(_ a: QueryAuthorisation) {
        reference = a.reference
        scope = a.scope
        validFrom = a.validFrom
        validUntil = a.validUntil
    }
}

struct NeedView: Encodable {
    let id: Int64
    let uscc: String
    let amountFen: Int64
    let termMonths: Int
    let purpose: String
    let collateral: String
    let status: String
    let claimedBy: Int64?
    let applicationId: Int64?
    let version: Int
    let publishedOn: String

    init(_ need: NeedRecord) {
        id = need.id
        uscc = need.uscc
        amountFen = need.request.amount.value
        termMonths = need.request.termMonths
        purpose = need.request.purpose
        collateral = need.request.collateral
        status = need.status.rawValue
        claimedBy = need.claimedBy
        applicationId = need.applicationID
        version = need.version
        publishedOn = need.publishedOn
    }
}

struct ApprovalView: Encodable {
    let amountFen: Int64
    let termMonths: Int
    let rateBp: Int64
    let method: String
}

struct InstalmentView: Encodable {
    let number: Int
    let due: String
    let principalFen: Int64
    let interestFen: Int64
    let totalFen: Int64
    let paidFen: Int64
}

struct PositionView: Encodable {
    let asOf: String
    let repaidFen: Int64
    let outstandingPrincipalFen: Int64
    let overdueFen: Int64
    let daysPastDue: Int
    let bucket: String
    let paidOff: Bool
}

struct LoanView: Encodable {
    let id: Int64
    let tranche: Int
    let principalFen: Int64
    let rateBp: Int64
    let termMonths: Int
    let method: String
    let disbursedOn: String
    let position: PositionView
    let schedule: [InstalmentView]
    let repayments: [RepaymentView]

    struct RepaymentView: Encodable {
        let paidOn: String
        let amountFen: Int64
    }

    init(_ loan: LoanRecord, today: Day) {
        let p = loan.position(asOf: today)
        id = loan.id
        tranche = loan.tranche
        principalFen = loan.terms.principal.value
        rateBp = loan.terms.rate.basisPoints
        termMonths = loan.terms.termMonths
        method = loan.terms.method.rawValue
        disbursedOn = loan.disbursedOn.description
        position = PositionView(
            asOf: today.description, repaidFen: p.repaid.value, outstandingPrincipalFen: p.outstandingPrincipal.value, overdueFen: p.overdueAmount.value,
            daysPastDue: p.daysPastDue, bucket: p.bucket.rawValue, paidOff: p.paidOff)
        // What each instalment has received counts every repayment recorded, today's included.
        let covered = LoanPosition(schedule: loan.schedule, repayments: loan.repayments, asOf: Day(Int.max / 2)).covered
        schedule = zip(loan.schedule, covered).map { i, paid in
            InstalmentView(number: i.number, due: i.due.description, principalFen: i.principal.value, interestFen: i.interest.value, totalFen: i.total.value, paidFen: paid.value)
        }
        repayments = loan.repayments.map { RepaymentView(paidOn: $0.on.description, amountFen: $0.amount.value) }
    }
}

struct EventView: Encodable {
    let id: Int64
    let at: String
    let actor: String
    let organisation: String
    let action: String
    let detail: [String: String]
    let version: Int

    init(_ e: ApplicationEvent) {
        id = e.id
        at = e.at
        actor = e.actor
        organisation = e.organisation
        action = e.action
        detail = e.detail
        version = e.version
    }
}

struct ApplicationView: Encodable {
    let id: Int64
    let productId: Int64?
    let needId: Int64?
    let bankId: Int64
    let bankName: String
    let uscc: String
    let amountFen: Int64
    let termMonths: Int
    let method: String?
    let purpose: String
    let collateral: String
    let authorisation: AuthorisationView
    let status: String
    let version: Int
    let approval: ApprovalView?
    let disbursedFen: Int64
    let reason: String?
    let submittedOn: String
    let acceptBy: String
    let loans: [LoanView]
    var events: [EventView]?
    /// The applicant's active alerts (on the application's page: what the bank must know now).
    var alerts: [AlertView]?

    init(_ a: ApplicationRecord, today: Day) {
        id = a.id
        productId = a.productID
        needId = a.needID
        bankId = a.state.bank
        bankName = a.bankName
        uscc = a.state.uscc
        amountFen = a.request.amount.value
        termMonths = a.request.termMonths
        method = a.method?.rawValue
        purpose = a.request.purpose
        collateral = a.request.collateral
        authorisation = AuthorisationView(a.request.authorisation)
        status = a.state.status.rawValue
        version = a.state.version
        approval = a.state.approval.map {
            ApprovalView(amountFen: $0.amount.value, termMonths: $0.termMonths, rateBp: $0.rate.basisPoints, method: $0.method.rawValue)
        }
        disbursedFen = a.state.disbursed.value
        reason = a.reason
        submittedOn = a.submittedOn.description
        acceptBy = a.acceptBy.description
        loans = a.loans.map { LoanView($0, today: today) }
        events = nil
        alerts = nil
    }
}
