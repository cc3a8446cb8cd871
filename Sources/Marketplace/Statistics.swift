import RuleLanguage

/// The marketplace in figures for the office and the dashboard (or a bank, over its own
/// business): products, needs and their claim rate, applications and their approval rate, days to
/// the first response and to the money, amounts approved and disbursed, borrowers and first-time
/// borrowers (首贷户), the share of credit loans (信用贷), the non-performing ratio.
public struct MarketStatistics: Sendable, Hashable {
    public var publishedProducts = 0
    public var publishedProductsByKind: [String: Int] = [:]
    public var needs = 0
    public var needsClaimed = 0
    public var claimRate: Double?
    public var applications = 0
    public var applicationsByStatus: [String: Int] = [:]
    /// Approved (and beyond) over approved and rejected.
    public var approvalRate: Double?
    public var medianDaysToFirstResponse: Double?
    public var medianDaysToDisbursement: Double?
    public var approvedFen: Int64 = 0
    public var disbursedFen: Int64 = 0
    /// Principal still owed on `asOf`, and the part of it in loans more than 90 days past due.
    public var outstandingFen: Int64 = 0
    public var nonPerformingFen: Int64 = 0
    public var nonPerformingRatio: Double?
    public var borrowers = 0
    /// Borrowers whose first loan on the platform was disbursed in the period.
    public var firstTimeBorrowers = 0
    /// The part of the amount disbursed in the period that went out as credit loans (信用贷).
    public var creditLoanShare: Double?

    /// Over the needs published and the applications submitted in `period`, with every
    /// application known (for first-time borrowers), their products, and the day each was first
    /// answered (accepted, claimed or rejected).
    public init(
        products: [ProductRecord], needs: [NeedRecord], applications: [ApplicationRecord], firstResponses: [Int64: Day],
        period: ClosedRange<Day>, asOf: Day
    ) {
        let published = products.filter { $0.status == .published }
        publishedProducts = published.count
        publishedProductsByKind = Dictionary(grouping: published, by: \.terms.kind.rawValue).mapValues(\.count)
        let periodNeeds = needs.filter { Day(iso: $0.publishedOn).map(period.contains) ?? false }
        self.needs = periodNeeds.count
        needsClaimed = periodNeeds.filter { $0.status == .claimed }.count
        let open = periodNeeds.filter { $0.status != .withdrawn }.count
        claimRate = open == 0 ? nil : Double(needsClaimed) / Double(open)

        let inPeriod = applications.filter { period.contains($0.submittedOn) }
        self.applications = inPeriod.count
        applicationsByStatus = Dictionary(grouping: inPeriod, by: \.state.status.rawValue).mapValues(\.count)
        let approved = inPeriod.filter { $0.state.approval != nil }
        let rejected = inPeriod.filter { $0.state.status == .rejected }
        approvalRate = approved.count + rejected.count == 0 ? nil : Double(approved.count) / Double(approved.count + rejected.count)
        medianDaysToFirstResponse = Self.median(inPeriod.compactMap { a in firstResponses[a.id].map { Double($0.value - a.submittedOn.value) } })
        medianDaysToDisbursement = Self.median(inPeriod.compactMap { a in a.loans.map(\.disbursedOn).min().map { Double($0.value - a.submittedOn.value) } })
        approvedFen = approved.reduce(0) { $0 + ($1.state.approval?.amount.value ?? 0) }

        let kinds = Dictionary(products.map { ($0.id, $0.terms.kind) }, uniquingKeysWith: { a, _ in a })
        var disbursedInPeriod: Int64 = 0
        var creditInPeriod: Int64 = 0
        var firstLoan: [String: Day] = [:]
        var borrowersInPeriod: Set<String> = []
        for application in applications {
            for loan in application.loans {
                let uscc = application.state.uscc
                firstLoan[uscc] = min(firstLoan[uscc] ?? loan.disbursedOn, loan.disbursedOn)
                if period.contains(loan.disbursedOn) {
                    disbursedInPeriod += loan.terms.principal.value
                    borrowersInPeriod.insert(uscc)
                    if application.productID.flatMap({ kinds[$0] }) == .credit { creditInPeriod += loan.terms.principal.value }
                }
                // The book on `asOf`: what is still owed, and how much of it is non-performing.
                let position = loan.position(asOf: asOf)
                outstandingFen += position.outstandingPrincipal.value
                if position.bucket.isNonPerforming || application.state.status == .writtenOff {
                    nonPerformingFen += position.outstandingPrincipal.value
                }
            }
        }
        disbursedFen = disbursedInPeriod
        creditLoanShare = disbursedInPeriod == 0 ? nil : Double(creditInPeriod) / Double(disbursedInPeriod)
        nonPerformingRatio = outstandingFen == 0 ? nil : Double(nonPerformingFen) / Double(outstandingFen)
        borrowers = borrowersInPeriod.count
        firstTimeBorrowers = borrowersInPeriod.filter { firstLoan[$0].map(period.contains) ?? false }.count
    }

    static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}
