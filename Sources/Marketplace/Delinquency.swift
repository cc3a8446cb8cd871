import RuleLanguage

/// A payment received on a loan.
public struct Repayment: Sendable, Hashable {
    public var on: Day
    public var amount: Fen

    public init(on: Day, amount: Fen) {
        self.on = on
        self.amount = amount
    }
}

/// The five-category classification by days past due (五级分类, as lending systems derive it):
/// overdue is not a state but a number of days, read into buckets.
public enum OverdueBucket: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
    /// 正常: nothing overdue.
    case current
    /// 关注: any amount overdue, up to 90 days.
    case watch
    /// 次级: more than 90 days.
    case substandard
    /// 可疑: more than 270 days.
    case doubtful
    /// 损失: more than 360 days.
    case loss

    public init(daysPastDue: Int) {
        switch daysPastDue {
        case ...0: self = .current
        case 1...90: self = .watch
        case 91...270: self = .substandard
        case 271...360: self = .doubtful
        default: self = .loss
        }
    }

    /// Non-performing (不良): substandard, doubtful or loss.
    public var isNonPerforming: Bool { self >= .substandard }

    public static func < (a: OverdueBucket, b: OverdueBucket) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// Where a loan stands on a day, from its schedule and the repayments received by then.
public struct LoanPosition: Sendable, Hashable {
    public var asOf: Day
    public var repaid: Fen
    /// Principal not yet repaid.
    public var outstandingPrincipal: Fen
    /// Due before `asOf` and not paid (principal and interest).
    public var overdueAmount: Fen
    /// Days since the oldest instalment still unpaid fell due; 0 when none is.
    public var daysPastDue: Int
    public var bucket: OverdueBucket
    /// Every instalment is paid.
    public var paidOff: Bool
    /// What each instalment has received, in schedule order.
    public var covered: [Fen]

    /// Repayments are applied in the order received to the instalments in due order, each one's
    /// interest before its principal; an instalment paid on its due day is on time. A repayment
    /// after `asOf` does not count (the position on a past day is what was known that day).
    public init(schedule: [Instalment], repayments: [Repayment], asOf: Day) {
        var available = repayments.filter { $0.on <= asOf }.reduce(Fen.zero) { $0 + $1.amount }
        self.asOf = asOf
        self.repaid = available
        var principalPaid = Fen.zero
        var overdue = Fen.zero
        var oldestUnpaid: Day?
        covered = []
        for instalment in schedule {
            let paid = min(available, instalment.total)
            available -= paid
            covered.append(paid)
            principalPaid += max(paid - instalment.interest, .zero)
            if paid < instalment.total, instalment.due < asOf {
                overdue += instalment.total - paid
                oldestUnpaid = oldestUnpaid ?? instalment.due
            }
        }
        let principal = schedule.reduce(Fen.zero) { $0 + $1.principal }
        outstandingPrincipal = principal - principalPaid
        overdueAmount = overdue
        daysPastDue = oldestUnpaid.map { asOf.value - $0.value } ?? 0
        bucket = OverdueBucket(daysPastDue: daysPastDue)
        paidOff = zip(schedule, covered).allSatisfy { $0.total == $1 }
    }

    /// What is left to pay on the whole schedule.
    public static func remaining(schedule: [Instalment], repayments: [Repayment]) -> Fen {
        schedule.reduce(Fen.zero) { $0 + $1.total } - repayments.reduce(Fen.zero) { $0 + $1.amount }
    }
}
