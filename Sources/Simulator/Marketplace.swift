import Access
import Marketplace
import RuleLanguage

/// The simulated city's financing marketplace over its two years: three banks and their products;
/// a tenth of the enterprises, and every enterprise of a planted story, apply in the window's
/// third month; most are approved and disbursed a 24-month loan; repayments follow the stories
/// (the collapsed enterprise stops paying when production stops, half of the industry wave's
/// borrowers two months after the wave, the churning one pays late and catches up; one in fifty
/// others defaults for no reason the data shows). The ground truth — which loans go bad, and when —
/// comes with it, for the tests.
public struct MarketScenario: Sendable {
    public struct Product: Sendable {
        public let bank: Int
        public let terms: ProductTerms
    }

    public struct Case: Sendable {
        public let uscc: String
        public let product: Int
        public let amount: Fen
        public let submitted: Day
        /// Nil: approved and disbursed five days after submission.
        public let rejection: String?
        /// Repayments as received; the loan's schedule comes from the product's first method.
        public let repayments: [Repayment]
        /// The first day the loan is more than 90 days past due (ground truth), by the window's end.
        public let wentBad: Day?
    }

    /// A need an enterprise publishes; `claimedBy` the bank that claims it, if one does.
    public struct Need: Sendable {
        public let uscc: String
        public let amount: Fen
        public let termMonths: Int
        public let published: Day
        public let claimedBy: Int?
    }

    public let banks: [String]
    public let products: [Product]
    public let cases: [Case]
    public let needs: [Need]
    /// The last day of the simulated window: the marketplace's "today" at the end.
    public let end: Day
    public static let termMonths = 24
    public static let rate = AnnualRate(basisPoints: 435)

    public static let authorisation = QueryAuthorisation(reference: "SQ-SIM", scope: "贷前审查及贷后管理", validFrom: "2000-01-01", validUntil: "2099-12-31")
}

extension CitySimulator {
    /// The marketplace that goes with this city (same seed, same marketplace).
    public func marketplace() -> MarketScenario {
        let banks = ["城市商业银行", "农村商业银行", "工商银行市分行"]
        func product(_ bank: Int, _ name: String, _ kind: ProductKind, _ rate: Int64, _ eligibility: String) -> MarketScenario.Product {
            MarketScenario.Product(
                bank: bank,
                terms: ProductTerms(
                    name: name, kind: kind, minimumAmount: Fen(10_000_000), maximumAmount: Fen(1_000_000_000), minimumTermMonths: 6,
                    maximumTermMonths: 36, minimumRate: AnnualRate(basisPoints: rate), maximumRate: AnnualRate(basisPoints: rate + 200),
                    methods: [.equalInstalment, .equalPrincipal], eligibility: eligibility))
        }
        let products = [
            product(0, "税易贷", .credit, 385, "dishonest_active_count == 0"),
            product(1, "科创信用贷", .credit, 420, ""),
            product(2, "厂房抵押贷", .mortgage, 360, ""),
        ]
        let months = configuration.months
        guard months.count >= 6, let last = months.last else {
            return MarketScenario(banks: banks, products: products, cases: [], needs: [], end: Day(0))
        }
        let end = last.lastDay
        let submitted = (months[2]).firstDay + 9
        let stories = plantedStories
        var storyOf: [String: PlantedStory] = [:]
        for story in stories { for uscc in story.affected where storyOf[uscc] == nil { storyOf[uscc] = story } }
        var cases: [MarketScenario.Case] = []
        for (index, enterprise) in enterprises.enumerated() {
            let story = storyOf[enterprise.uscc]
            guard index % 10 == 3 || (story != nil && story?.kind != .industryWave) || (story?.kind == .industryWave && index % 2 == 0) else { continue }
            guard enterprise.established < submitted else { continue }
            var rng = Rng(configuration.seed, .market, index)
            let productIndex = rng.int(0..<products.count)
            let amount = Fen(Int64(rng.int(20...300)) * 1_000_000)
            if story == nil, rng.chance(0.12) {
                cases.append(MarketScenario.Case(
                    uscc: enterprise.uscc, product: productIndex, amount: amount, submitted: submitted, rejection: "经营流水不足以覆盖还款",
                    repayments: [], wentBad: nil))
                continue
            }
            let terms = try! LoanTerms(
                principal: amount, termMonths: MarketScenario.termMonths, rate: MarketScenario.rate, method: products[productIndex].terms.methods[0])
            let disbursed = submitted + 5
            let schedule = terms.schedule(from: disbursed)
            // The first instalment left unpaid (nil: all paid), and how late the others are paid.
            var stopsAt: Day?
            var lateDays = 0
            switch story?.kind {
            case .productionCollapse?: stopsAt = story!.month.firstDay
            case .industryWave?: if rng.chance(0.5) { stopsAt = (story!.month + 2).firstDay }
            case .legalRepresentativeChurn?: lateDays = 40
            default: if rng.chance(0.02) { stopsAt = (months[rng.int(6..<months.count)]).firstDay }
            }
            var repayments: [Repayment] = []
            var wentBad: Day?
            for instalment in schedule {
                if let stopsAt, instalment.due >= stopsAt {
                    let bad = instalment.due + 91
                    if bad <= end { wentBad = bad }
                    break
                }
                let paidOn = instalment.due + lateDays
                guard paidOn <= end else { break }
                repayments.append(Repayment(on: paidOn, amount: instalment.total))
            }
            cases.append(MarketScenario.Case(
                uscc: enterprise.uscc, product: productIndex, amount: amount, submitted: submitted, rejection: nil, repayments: repayments,
                wentBad: wentBad))
        }
        // One enterprise in twenty-five (of those not applying) publishes a need in the fifth month;
        // banks claim two in three of them within days.
        let applicants = Set(cases.map(\.uscc))
        var needs: [MarketScenario.Need] = []
        for (index, enterprise) in enterprises.enumerated() where index % 25 == 7 && !applicants.contains(enterprise.uscc) {
            guard enterprise.established < months[4].firstDay else { continue }
            var rng = Rng(configuration.seed, .market, index, 1)
            needs.append(MarketScenario.Need(
                uscc: enterprise.uscc, amount: Fen(Int64(rng.int(10...200)) * 1_000_000), termMonths: rng.pick([12, 24, 36]),
                published: months[4].firstDay + rng.int(0...20), claimedBy: rng.chance(2.0 / 3.0) ? rng.int(0..<banks.count) : nil))
        }
        return MarketScenario(banks: banks, products: products, cases: cases, needs: needs, end: end)
    }
}
