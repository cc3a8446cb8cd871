import RuleLanguage

/// Whether the alerts foretold the loans' outcomes (预警有效性): per rule, of the loans whose
/// borrower it alerted before the loan went bad, how many went 90+ days past due, against the
/// base rate of all loans of the period (lift). The loop that closes early warning.
public struct LoanOutcome: Sendable, Hashable {
    public var uscc: String
    public var disbursedOn: Day
    /// The first day the loan was more than 90 days past due (or written off); nil: never, so far.
    public var wentBad: Day?

    public init(uscc: String, disbursedOn: Day, wentBad: Day?) {
        self.uscc = uscc
        self.disbursedOn = disbursedOn
        self.wentBad = wentBad
    }

    /// The outcome of `loan` by `today`: the first day an instalment was still unpaid 91 days after
    /// its due day (`writtenOff` on `today` when a written-off loan never got there).
    public init(_ loan: LoanRecord, uscc: String, writtenOff: Bool, today: Day) {
        self.uscc = uscc
        disbursedOn = loan.disbursedOn
        var cumulativeDue = Fen.zero
        var bad: Day?
        let repayments = loan.repayments.sorted { $0.on < $1.on }
        for instalment in loan.schedule {
            cumulativeDue += instalment.total
            let limit = instalment.due + 91
            guard limit <= today else { break }
            // Paid in full (with everything before it) by the day it would have turned 91 days late?
            let paid = repayments.filter { $0.on < limit }.reduce(Fen.zero) { $0 + $1.amount }
            if paid < cumulativeDue {
                bad = limit
                break
            }
        }
        wentBad = bad ?? (writtenOff ? today : nil)
    }
}

/// An alert as the outcome report reads it.
public struct AlertMark: Sendable, Hashable {
    public var uscc: String
    public var rule: String
    public var asOf: Day

    public init(uscc: String, rule: String, asOf: Day) {
        self.uscc = uscc
        self.rule = rule
        self.asOf = asOf
    }
}

public struct RuleOutcome: Sendable, Hashable {
    public var rule: String
    /// Loans whose borrower the rule alerted before the loan went bad (or before today).
    public var alertedLoans: Int
    /// Of those, the loans that went 90+ days past due.
    public var badLoans: Int
    public var badRate: Double?
    /// The bad rate among alerted loans over the base rate; nil when either is undefined.
    public var lift: Double?
}

public struct OutcomeReport: Sendable, Hashable {
    public var loans: Int
    public var badLoans: Int
    public var baseRate: Double?
    public var rules: [RuleOutcome]

    /// Over the loans disbursed in `period`: an alert counts for a loan when it was raised on the
    /// borrower no later than the day the loan went bad (for a loan that did not, by `today`).
    public init(loans: [LoanOutcome], alerts: [AlertMark], period: ClosedRange<Day>, today: Day) {
        let inPeriod = loans.filter { period.contains($0.disbursedOn) }
        self.loans = inPeriod.count
        badLoans = inPeriod.filter { $0.wentBad != nil }.count
        let base = inPeriod.isEmpty ? nil : Double(badLoans) / Double(inPeriod.count)
        baseRate = base
        let byEnterprise = Dictionary(grouping: alerts, by: \.uscc)
        var rules: [String: (alerted: Int, bad: Int)] = [:]
        for loan in inPeriod {
            let horizon = loan.wentBad ?? today
            let alerted = Set((byEnterprise[loan.uscc] ?? []).filter { $0.asOf <= horizon }.map(\.rule))
            for rule in alerted {
                rules[rule, default: (0, 0)].alerted += 1
                if loan.wentBad != nil { rules[rule, default: (0, 0)].bad += 1 }
            }
        }
        self.rules = rules.keys.sorted().map { rule in
            let (alerted, bad) = rules[rule]!
            let rate = alerted == 0 ? nil : Double(bad) / Double(alerted)
            let lift = rate.flatMap { r in base.flatMap { $0 > 0 ? r / $0 : nil } }
            return RuleOutcome(rule: rule, alertedLoans: alerted, badLoans: bad, badRate: rate, lift: lift)
        }
    }
}
