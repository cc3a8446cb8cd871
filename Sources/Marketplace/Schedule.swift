import Foundation
import RuleLanguage

/// How a loan is repaid (还款方式).
public enum RepaymentMethod: String, Sendable, Hashable, Codable, CaseIterable {
    /// 等额本息: the same payment every month, interest first.
    case equalInstalment = "equal_instalment"
    /// 等额本金: the same principal every month, interest on the balance.
    case equalPrincipal = "equal_principal"
    /// 先息后本: interest every month, the principal at maturity.
    case interestOnlyBullet = "interest_only_bullet"
}

/// One instalment of a loan's schedule.
public struct Instalment: Sendable, Hashable {
    /// 1, 2, … in due order.
    public var number: Int
    public var due: Day
    public var principal: Fen
    public var interest: Fen
    public var total: Fen { principal + interest }

    public init(number: Int, due: Day, principal: Fen, interest: Fen) {
        self.number = number
        self.due = due
        self.principal = principal
        self.interest = interest
    }
}

/// What a loan is for: amount, term, rate and method, checked.
public struct LoanTerms: Sendable, Hashable {
    public var principal: Fen
    public var termMonths: Int
    public var rate: AnnualRate
    public var method: RepaymentMethod

    /// 100 billion yuan: keeps every product of amounts and rates far inside `Int64`.
    public static let maximumAmount = Fen(10_000_000_000_000)
    public static let maximumTermMonths = 360
    /// 36 % a year: above the judicial protection line for private lending, let alone bank loans.
    public static let maximumRate = AnnualRate(basisPoints: 3600)

    public init(principal: Fen, termMonths: Int, rate: AnnualRate, method: RepaymentMethod) throws(MarketRejection) {
        guard principal > .zero, principal <= Self.maximumAmount else {
            throw .invalid("amount must be between 0.01 and \(Self.maximumAmount.yuan) yuan, got \(principal.yuan)")
        }
        guard (1...Self.maximumTermMonths).contains(termMonths) else {
            throw .invalid("term_months must be between 1 and \(Self.maximumTermMonths), got \(termMonths)")
        }
        guard rate.basisPoints >= 0, rate <= Self.maximumRate else {
            throw .invalid("annual rate must be between 0 and \(Self.maximumRate) (basis points 0…3600), got \(rate.basisPoints) basis points")
        }
        self.principal = principal
        self.termMonths = termMonths
        self.rate = rate
        self.method = method
    }

    /// The schedule of a loan disbursed on `start`: instalment k is due k months later on the same
    /// day of the month, or on the month's last day when it has no such day (31 January → 29
    /// February in a leap year → 31 March). Interest is a twelfth of the annual rate on the balance
    /// each month, rounded half up to the fen; the last instalment takes what rounding left, so the
    /// principals sum exactly to the amount.
    public func schedule(from start: Day) -> [Instalment] {
        let n = termMonths
        let payment = method == .equalInstalment ? Self.level(principal, rate, n) : .zero
        var balance = principal
        var instalments: [Instalment] = []
        instalments.reserveCapacity(n)
        for k in 1...n {
            let interest = rate.monthlyInterest(on: balance)
            let principalPart: Fen
            if k == n {
                principalPart = balance
            } else {
                switch method {
                case .equalInstalment: principalPart = min(max(payment - interest, .zero), balance)
                case .equalPrincipal: principalPart = Fen(principal.value / Int64(n))
                case .interestOnlyBullet: principalPart = .zero
                }
            }
            balance -= principalPart
            instalments.append(Instalment(number: k, due: start.addingMonths(k), principal: principalPart, interest: interest))
        }
        return instalments
    }

    /// The level monthly payment of 等额本息, P·r·(1+r)^n / ((1+r)^n − 1) with r a twelfth of the
    /// annual rate, in decimal arithmetic (38 digits), rounded half up to the fen.
    static func level(_ principal: Fen, _ rate: AnnualRate, _ n: Int) -> Fen {
        if rate.basisPoints == 0 { return Fen((principal.value + Int64(n) - 1) / Int64(n)) }
        let r = Decimal(rate.basisPoints) / Decimal(120_000)
        let growth = pow(1 + r, n)
        var exact = Decimal(principal.value) * r * growth / (growth - 1)
        var rounded = Decimal()
        NSDecimalRound(&rounded, &exact, 0, .plain)
        return Fen(NSDecimalNumber(decimal: rounded).int64Value)
    }
}

extension Day {
    /// The same day of the month `months` later, or that month's last day when it is shorter.
    public func addingMonths(_ months: Int) -> Day {
        let c = civil
        let target = Month(year: c.year, month: c.month) + months
        return Day(year: target.year, month: target.month, day: min(c.day, Day.daysIn(year: target.year, month: target.month)))!
    }
}
