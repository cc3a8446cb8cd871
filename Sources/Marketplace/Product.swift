import Foundation

/// A loan product's kind (产品类型).
public enum ProductKind: String, Sendable, Hashable, Codable, CaseIterable {
    case credit = "信用贷"
    case mortgage = "抵押贷"
    case guarantee = "担保贷"
    case supplyChain = "供应链"
    case intellectualPropertyPledge = "知识产权质押"
    case receivablesPledge = "应收账款质押"
    case inventoryPledge = "存货质押"
}

/// A product's lifecycle: written as a draft, published to enterprises, withdrawn.
public enum ProductStatus: String, Sendable, Hashable, Codable, CaseIterable {
    case draft
    case published
    case withdrawn
}

/// What a bank offers: who may borrow, how much, how long, at what rate, repaid how.
public struct ProductTerms: Sendable, Hashable {
    public var name: String
    public var kind: ProductKind
    public var minimumAmount: Fen
    public var maximumAmount: Fen
    public var minimumTermMonths: Int
    public var maximumTermMonths: Int
    public var minimumRate: AnnualRate
    public var maximumRate: AnnualRate
    public var methods: [RepaymentMethod]
    /// Guarantee or collateral the bank asks for, in its words (empty: none).
    public var guarantee: String
    /// GB/T 4754 sections (`C`) or divisions (`C30`) the product targets; empty: every industry.
    public var industries: [String]
    /// 6-digit district codes; empty: the whole city.
    public var districts: [String]
    /// A condition in the rule language over the enterprise's features, score and grade.
    public var eligibility: String

    public init(
        name: String, kind: ProductKind, minimumAmount: Fen, maximumAmount: Fen, minimumTermMonths: Int, maximumTermMonths: Int,
        minimumRate: AnnualRate, maximumRate: AnnualRate, methods: [RepaymentMethod], guarantee: String = "",
        industries: [String] = [], districts: [String] = [], eligibility: String = ""
    ) {
        self.name = name
        self.kind = kind
        self.minimumAmount = minimumAmount
        self.maximumAmount = maximumAmount
        self.minimumTermMonths = minimumTermMonths
        self.maximumTermMonths = maximumTermMonths
        self.minimumRate = minimumRate
        self.maximumRate = maximumRate
        self.methods = methods
        self.guarantee = guarantee
        self.industries = industries
        self.districts = districts
        self.eligibility = eligibility
    }

    /// Everything wrong with the terms (the eligibility condition is checked against the rule set
    /// separately); empty when they are sound.
    public var problems: [String] {
        var problems: [String] = []
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty || name.count > 100 { problems.append("name must be 1 to 100 characters") }
        if minimumAmount <= .zero || maximumAmount > LoanTerms.maximumAmount || minimumAmount > maximumAmount {
            problems.append("amounts must satisfy 0 < minimum_amount ≤ maximum_amount ≤ \(LoanTerms.maximumAmount.value) fen, got \(minimumAmount.value)…\(maximumAmount.value)")
        }
        if minimumTermMonths < 1 || maximumTermMonths > LoanTerms.maximumTermMonths || minimumTermMonths > maximumTermMonths {
            problems.append("terms must satisfy 1 ≤ minimum_term_months ≤ maximum_term_months ≤ \(LoanTerms.maximumTermMonths), got \(minimumTermMonths)…\(maximumTermMonths)")
        }
        if minimumRate.basisPoints < 0 || maximumRate > LoanTerms.maximumRate || minimumRate > maximumRate {
            problems.append("rates must satisfy 0 ≤ minimum_rate_bp ≤ maximum_rate_bp ≤ \(LoanTerms.maximumRate.basisPoints), got \(minimumRate.basisPoints)…\(maximumRate.basisPoints)")
        }
        if methods.isEmpty { problems.append("methods must name at least one repayment method") }
        if guarantee.count > 500 { problems.append("guarantee must be at most 500 characters") }
        for code in industries where !Self.isIndustry(code) {
            problems.append("industries: '\(code)' is neither a GB/T 4754 section (a letter A–T) nor a division (a letter and two digits, e.g. C30)")
        }
        for code in districts where !(code.count == 6 && code.allSatisfy { $0.isASCII && $0.isNumber }) {
            problems.append("districts: '\(code)' is not a 6-digit district code")
        }
        if eligibility.utf8.count > 4000 { problems.append("eligibility must be at most 4000 bytes") }
        return problems
    }

    static func isIndustry(_ code: String) -> Bool {
        let bytes = Array(code.utf8)
        guard let section = bytes.first, section >= UInt8(ascii: "A"), section <= UInt8(ascii: "T") else { return false }
        return bytes.count == 1 || (bytes.count == 3 && bytes[1...].allSatisfy { $0 >= 0x30 && $0 <= 0x39 })
    }

    /// Why an enterprise in `industryCode` and `district` is outside the product's targets; empty
    /// when it is inside.
    public func targetProblems(industryCode: String?, district: String?) -> [String] {
        var problems: [String] = []
        if !industries.isEmpty, !industries.contains(where: { industryCode?.hasPrefix($0) == true }) {
            problems.append("industry \(industryCode ?? "unknown") is not among \(industries.joined(separator: ", "))")
        }
        if !districts.isEmpty, !districts.contains(where: { $0 == district }) {
            problems.append("district \(district ?? "unknown") is not among \(districts.joined(separator: ", "))")
        }
        return problems
    }

    /// Why a request for `amount` over `termMonths`, repaid by `method`, is outside the product.
    public func requestProblems(amount: Fen, termMonths: Int, method: RepaymentMethod?) -> [String] {
        var problems: [String] = []
        if amount < minimumAmount || amount > maximumAmount {
            problems.append("amount \(amount.yuan) is outside the product's \(minimumAmount.yuan)…\(maximumAmount.yuan) yuan")
        }
        if termMonths < minimumTermMonths || termMonths > maximumTermMonths {
            problems.append("term of \(termMonths) months is outside the product's \(minimumTermMonths)…\(maximumTermMonths)")
        }
        if let method, !methods.contains(method) {
            problems.append("the product is not repaid by \(method.rawValue) (it offers \(methods.map(\.rawValue).joined(separator: ", ")))")
        }
        return problems
    }
}

/// A step in a product's life.
public enum ProductCommand: String, Sendable, Hashable, CaseIterable {
    case publish
    case withdraw
}

/// Applies `command` by `actor` to a product of `bank` in `status`.
public func decide(_ command: ProductCommand, on status: ProductStatus, bank: Int64, by actor: MarketActor) -> Result<ProductStatus, MarketRejection> {
    guard case .bank(let organisation, _) = actor, organisation == bank else {
        return .failure(.notAllowed("only the product's bank may \(command.rawValue) it"))
    }
    switch (command, status) {
    case (.publish, .draft): return .success(.published)
    case (.withdraw, .published), (.withdraw, .draft): return .success(.withdrawn)
    default: return .failure(.conflict("\(command.rawValue) does not apply to a \(status.rawValue) product"))
    }
}
