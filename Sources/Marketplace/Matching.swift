/// Matching products to enterprises (产品匹配): each of a product's conditions — target industry
/// and district, the amount and term asked for, the eligibility condition — held or failed, with
/// the reason, so that an enterprise sees why a product fits or not and a bank why a need does.
public struct MatchCondition: Sendable, Hashable {
    /// 行业, 地区, 金额, 期限, 准入条件.
    public var name: String
    public var held: Bool
    public var detail: String

    public init(name: String, held: Bool, detail: String) {
        self.name = name
        self.held = held
        self.detail = detail
    }
}

public struct ProductMatch: Sendable, Hashable {
    public var product: ProductRecord
    public var conditions: [MatchCondition]
    /// Every condition holds.
    public var eligible: Bool { conditions.allSatisfy(\.held) }

    public init(product: ProductRecord, conditions: [MatchCondition]) {
        self.product = product
        self.conditions = conditions
    }
}

public enum Matching {
    /// `product` against an enterprise in `industryCode` and `district`, asking (when it says) for
    /// `amount` over `termMonths`, with the eligibility `verdict` (nil: the product has no condition).
    public static func match(
        _ product: ProductRecord, industryCode: String?, district: String?, amount: Fen?, termMonths: Int?, verdict: EligibilityVerdict?
    ) -> ProductMatch {
        let t = product.terms
        var conditions: [MatchCondition] = []
        if !t.industries.isEmpty {
            let held = t.industries.contains { industryCode?.hasPrefix($0) == true }
            conditions.append(MatchCondition(name: "行业", held: held, detail: "行业 \(industryCode ?? "未知")，产品面向 \(t.industries.joined(separator: "、"))"))
        }
        if !t.districts.isEmpty {
            let held = t.districts.contains { $0 == district }
            conditions.append(MatchCondition(name: "地区", held: held, detail: "地区 \(district ?? "未知")，产品面向 \(t.districts.joined(separator: "、"))"))
        }
        if let amount {
            let held = amount >= t.minimumAmount && amount <= t.maximumAmount
            conditions.append(
                MatchCondition(name: "金额", held: held, detail: "需求 \(amount.yuan) 元，产品 \(t.minimumAmount.yuan)–\(t.maximumAmount.yuan) 元"))
        }
        if let termMonths {
            let held = termMonths >= t.minimumTermMonths && termMonths <= t.maximumTermMonths
            conditions.append(
                MatchCondition(name: "期限", held: held, detail: "需求 \(termMonths) 个月，产品 \(t.minimumTermMonths)–\(t.maximumTermMonths) 个月"))
        }
        if let verdict {
            let values = verdict.values.sorted { $0.key < $1.key }.map { "\($0.key) = \($0.value)" }.joined(separator: "，")
            conditions.append(MatchCondition(name: "准入条件", held: verdict.holds, detail: "\(t.eligibility)（\(values)）"))
        }
        return ProductMatch(product: product, conditions: conditions)
    }

    /// Best fit first: eligible ones, then more conditions held, then the lower starting rate,
    /// then the older product.
    public static func ranked(_ matches: [ProductMatch]) -> [ProductMatch] {
        matches.sorted { a, b in
            if a.eligible != b.eligible { return a.eligible }
            let heldA = a.conditions.filter(\.held).count
            let heldB = b.conditions.filter(\.held).count
            if heldA != heldB { return heldA > heldB }
            if a.product.terms.minimumRate != b.product.terms.minimumRate { return a.product.terms.minimumRate < b.product.terms.minimumRate }
            return a.product.id < b.product.id
        }
    }
}
