import RuleLanguage

/// A loan as the marketplace reports it to the credit information base: one row per loan on the
/// `finance.loan` feed (topics/finance.loan.yaml), sent again whenever what it says changes, so
/// the engine's rules and the scorecard's lending dimension read repayment behaviour like any
/// department's data.
public struct LoanReport: Sendable, Hashable, Codable {
    /// 正常, 逾期, 结清, 核销.
    public enum Status: String, Sendable, Hashable, Codable {
        case current = "正常"
        case overdue = "逾期"
        case closed = "结清"
        case writtenOff = "核销"
    }

    public var loanNo: String
    public var uscc: String
    public var bank: String
    /// Yuan with two decimals (the feed's `decimal`).
    public var principal: String
    public var outstanding: String
    public var disbursedDate: String
    public var maturityDate: String
    public var status: Status
    public var daysPastDue: Int
    public var bucket: OverdueBucket
    /// The business day the row describes.
    public var asOf: String
    /// Increases with every report of the loan (the feed's `version_field`).
    public var version: Int

    enum CodingKeys: String, CodingKey {
        case loanNo = "loan_no", uscc, bank, principal, outstanding, disbursedDate = "disbursed_date", maturityDate = "maturity_date", status,
            daysPastDue = "days_past_due", bucket, asOf = "as_of", version
    }

    /// The row of `loan` of `application` on `day`.
    public init(_ loan: LoanRecord, of application: ApplicationRecord, on day: Day, version: Int) {
        let position = loan.position(asOf: day)
        loanNo = Self.loanNo(loan.id)
        uscc = application.state.uscc
        bank = application.bankName
        principal = loan.terms.principal.yuan
        outstanding = position.outstandingPrincipal.yuan
        disbursedDate = loan.disbursedOn.description
        maturityDate = (loan.schedule.last?.due ?? loan.disbursedOn).description
        if application.state.status == .writtenOff, !position.paidOff {
            status = .writtenOff
        } else if position.paidOff {
            status = .closed
        } else {
            status = position.daysPastDue > 0 ? .overdue : .current
        }
        daysPastDue = position.daysPastDue
        bucket = position.bucket
        asOf = day.description
        self.version = version
    }

    /// The feed's key of a loan.
    public static func loanNo(_ id: Int64) -> String { "MK\(id)" }

    /// What a new report must differ in to be sent (not the day or the version).
    public var substance: String { "\(status.rawValue)|\(daysPastDue)|\(bucket.rawValue)|\(outstanding)" }
}

/// A report waiting in the outbox to be published.
public struct PendingLoanReport: Sendable, Hashable {
    public var id: Int64
    public var loanNo: String
    /// The row as JSON (`LoanReport`).
    public var payload: String

    public init(id: Int64, loanNo: String, payload: String) {
        self.id = id
        self.loanNo = loanNo
        self.payload = payload
    }
}
