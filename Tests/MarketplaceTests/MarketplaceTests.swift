import Access
import CreditWatchCore
import Foundation
import RuleLanguage
import Testing

@testable import Marketplace

func day(_ text: String) -> Day { Day(iso: text)! }

@Suite("Loan schedules, exact to the fen")
struct ScheduleTests {
    func rows(_ terms: LoanTerms, from start: String) -> [String] {
        terms.schedule(from: day(start)).map { "\($0.number) \($0.due) \($0.principal.value) \($0.interest.value)" }
    }

    @Test func equalInstalmentsOverALeapFebruaryAndMonthEnds() throws {
        // 120 000 yuan, 12 months, 4.35 %: the textbook payment is 10 237.19 yuan.
        let terms = try LoanTerms(principal: Fen(12_000_000), termMonths: 12, rate: AnnualRate(basisPoints: 435), method: .equalInstalment)
        #expect(rows(terms, from: "2023-12-31") == [
            "1 2024-01-31 980219 43500", "2 2024-02-29 983772 39947", "3 2024-03-31 987338 36381",
            "4 2024-04-30 990918 32801", "5 2024-05-31 994510 29209", "6 2024-06-30 998115 25604",
            "7 2024-07-31 1001733 21986", "8 2024-08-31 1005364 18355", "9 2024-09-30 1009009 14710",
            "10 2024-10-31 1012666 11053", "11 2024-11-30 1016337 7382", "12 2024-12-31 1020019 3698",
        ])
        #expect(terms.schedule(from: day("2023-12-31")).first?.total == Fen(1_023_719))
    }

    @Test func equalPrincipalLeavesTheRemainderToTheLastInstalment() throws {
        let terms = try LoanTerms(principal: Fen(10_000_000), termMonths: 6, rate: AnnualRate(basisPoints: 365), method: .equalPrincipal)
        #expect(rows(terms, from: "2024-01-31") == [
            "1 2024-02-29 1666666 30417", "2 2024-03-31 1666666 25347", "3 2024-04-30 1666666 20278",
            "4 2024-05-31 1666666 15208", "5 2024-06-30 1666666 10139", "6 2024-07-31 1666670 5069",
        ])
    }

    @Test func interestOnlyWithTheBulletAtMaturity() throws {
        let terms = try LoanTerms(principal: Fen(50_000_000), termMonths: 3, rate: AnnualRate(basisPoints: 500), method: .interestOnlyBullet)
        #expect(rows(terms, from: "2024-11-30") == ["1 2024-12-30 0 208333", "2 2025-01-30 0 208333", "3 2025-02-28 50000000 208333"])
    }

    @Test func aFreeLoanAndAThirtyYearOne() throws {
        let free = try LoanTerms(principal: Fen(100_001), termMonths: 3, rate: AnnualRate(basisPoints: 0), method: .equalInstalment)
        #expect(rows(free, from: "2025-01-15") == ["1 2025-02-15 33334 0", "2 2025-03-15 33334 0", "3 2025-04-15 33333 0"])
        let long = try LoanTerms(principal: Fen(300_000_000), termMonths: 360, rate: AnnualRate(basisPoints: 410), method: .equalInstalment)
        let schedule = long.schedule(from: day("2024-02-29"))
        #expect(schedule.count == 360)
        #expect(schedule.reduce(Fen.zero) { $0 + $1.principal } == Fen(300_000_000))
        #expect(schedule.reduce(Fen.zero) { $0 + $1.interest } == Fen(221_854_289))
        #expect(rows(long, from: "2024-02-29").prefix(2) == ["1 2024-03-29 424595 1025000", "2 2024-04-29 426046 1023549"])
        #expect(rows(long, from: "2024-02-29").suffix(2) == ["359 2054-01-29 1439740 9855", "360 2054-02-28 1444748 4936"])
    }

    @Test func termsOutsideTheBoundsAreRefusedWithTheReason() {
        #expect(throws: MarketRejection.invalid("amount must be between 0.01 and 100000000000.00 yuan, got 0.00")) {
            try LoanTerms(principal: .zero, termMonths: 12, rate: AnnualRate(basisPoints: 400), method: .equalPrincipal)
        }
        #expect(throws: MarketRejection.invalid("term_months must be between 1 and 360, got 361")) {
            try LoanTerms(principal: Fen(100), termMonths: 361, rate: AnnualRate(basisPoints: 400), method: .equalPrincipal)
        }
        #expect(throws: MarketRejection.invalid("annual rate must be between 0 and 36.00% (basis points 0…3600), got 3601 basis points")) {
            try LoanTerms(principal: Fen(100), termMonths: 12, rate: AnnualRate(basisPoints: 3601), method: .equalPrincipal)
        }
    }

    @Test func yuanTextParsesExactly() {
        #expect(Fen(yuan: "1234.5") == Fen(123_450))
        #expect(Fen(yuan: "0.07") == Fen(7))
        #expect(Fen(yuan: "-3") == Fen(-300))
        #expect(Fen(yuan: "1.234") == nil)
        #expect(Fen(yuan: "1e5") == nil)
        #expect(Fen(yuan: "") == nil)
        #expect(Fen(yuan: "1234567890123456") == nil)
        #expect(Fen(123_450).yuan == "1234.50")
        #expect(Fen(-7).yuan == "-0.07")
    }
}

@Suite("Days past due and the five categories")
struct DelinquencyTests {
    let schedule = try! LoanTerms(principal: Fen(12_000_000), termMonths: 12, rate: AnnualRate(basisPoints: 435), method: .equalInstalment)
        .schedule(from: day("2023-12-31"))

    @Test func aPartialRepaymentLeavesTheInstalmentOverdueAcrossMonthEnds() {
        let repayments = [Repayment(on: day("2024-01-31"), amount: Fen(1_023_719)), Repayment(on: day("2024-03-05"), amount: Fen(500_000))]
        let onDue = LoanPosition(schedule: schedule, repayments: repayments, asOf: day("2024-03-31"))
        #expect(onDue.daysPastDue == 31)
        #expect(onDue.overdueAmount == Fen(523_719))  // the third instalment is due that very day: not overdue
        #expect(onDue.outstandingPrincipal == Fen(12_000_000 - 980_219 - (500_000 - 39_947)))
        #expect(onDue.bucket == .watch)
        let next = LoanPosition(schedule: schedule, repayments: repayments, asOf: day("2024-04-01"))
        #expect(next.daysPastDue == 32)
        #expect(next.overdueAmount == Fen(523_719 + 1_023_719))
        // A repayment received after the day does not count on that day.
        let before = LoanPosition(schedule: schedule, repayments: repayments, asOf: day("2024-03-04"))
        #expect(before.repaid == Fen(1_023_719))
        #expect(before.daysPastDue == 4)
    }

    @Test func bucketsAt90_270And360Days() {
        let nothingAfterFirst = [Repayment(on: day("2024-01-31"), amount: Fen(1_023_719))]
        func bucket(_ asOf: String) -> String {
            let p = LoanPosition(schedule: schedule, repayments: nothingAfterFirst, asOf: day(asOf))
            return "\(p.daysPastDue) \(p.bucket.rawValue)"
        }
        #expect(bucket("2024-02-29") == "0 current")
        #expect(bucket("2024-03-01") == "1 watch")
        #expect(bucket("2024-05-29") == "90 watch")
        #expect(bucket("2024-05-30") == "91 substandard")
        #expect(bucket("2024-11-25") == "270 substandard")
        #expect(bucket("2024-11-26") == "271 doubtful")
        #expect(bucket("2025-02-23") == "360 doubtful")
        #expect(bucket("2025-02-24") == "361 loss")
        #expect(OverdueBucket.watch.isNonPerforming == false)
        #expect(OverdueBucket.substandard.isNonPerforming)
    }

    @Test func anEarlyFullRepaymentPaysTheLoanOff() {
        let total = schedule.reduce(Fen.zero) { $0 + $1.total }
        let position = LoanPosition(schedule: schedule, repayments: [Repayment(on: day("2024-01-10"), amount: total)], asOf: day("2025-06-01"))
        #expect(position.paidOff)
        #expect(position.outstandingPrincipal == .zero)
        #expect(position.daysPastDue == 0)
        #expect(LoanPosition.remaining(schedule: schedule, repayments: [Repayment(on: day("2024-01-10"), amount: total)]) == .zero)
    }
}

@Suite("The application's state machine")
struct ApplicationTests {
    static let bank = MarketActor.bank(organisation: 7, admin: false)
    static let bankAdmin = MarketActor.bank(organisation: 7, admin: true)
    static let otherBank = MarketActor.bank(organisation: 8, admin: true)
    static let applicant = MarketActor.enterprise(uscc: "91330100MA27XK5L3T")
    static let approval = Approval(amount: Fen(1_000_000), termMonths: 12, rate: AnnualRate(basisPoints: 400), method: .equalPrincipal)

    static let commands: [(ApplicationCommand, MarketActor)] = [
        (.accept, bank), (.startReview, bank), (.approve(approval), bank), (.reject(reason: "经营流水不足"), bank),
        (.disburse(Fen(400_000), on: day("2026-03-01")), bank), (.repaymentReceived, bank), (.close(outstanding: .zero), bank),
        (.writeOff(reason: "核销"), bankAdmin), (.withdraw(reason: "已获他行贷款"), applicant), (.expire, .system),
    ]

    /// Every status × command: the status it leads to, or `409`. Written out, not derived.
    static let table: [ApplicationStatus: [String: String]] = [
        .submitted: ["accept": "accepted", "withdraw": "withdrawn", "expire": "expired"],
        .accepted: ["start_review": "under_review", "withdraw": "withdrawn"],
        .underReview: ["approve": "approved", "reject": "rejected", "withdraw": "withdrawn"],
        .approved: ["disburse": "disbursed"],
        .disbursed: ["disburse": "disbursed", "repayment": "repaying", "close": "closed", "write_off": "written_off"],
        .repaying: ["repayment": "repaying", "close": "closed", "write_off": "written_off"],
        .rejected: [:], .closed: [:], .writtenOff: [:], .withdrawn: [:], .expired: [:],
    ]

    @Test func everyLegalAndIllegalTransition() {
        var checked = 0
        for status in ApplicationStatus.allCases {
            for (command, actor) in Self.commands {
                let state = ApplicationState(status: status, bank: 7, uscc: "91330100MA27XK5L3T", approval: Self.approval, version: 3)
                let outcome: String
                switch decide(command, on: state, by: actor) {
                case .success(let next):
                    outcome = next.status.rawValue
                    #expect(next.version == 4)
                case .failure(.conflict): outcome = "409"
                case .failure(let other): outcome = "unexpected \(other)"
                }
                #expect(outcome == Self.table[status]?[command.name] ?? "409", "\(status.rawValue) + \(command.name)")
                checked += 1
            }
        }
        #expect(checked == 110)
    }

    @Test func onlyTheRightPartyGivesEachCommand() {
        let state = ApplicationState(status: .underReview, bank: 7, uscc: "91330100MA27XK5L3T")
        #expect(decide(.approve(Self.approval), on: state, by: Self.otherBank) == .failure(.notAllowed("only the application's bank may approve it")))
        #expect(decide(.approve(Self.approval), on: state, by: Self.applicant) == .failure(.notAllowed("only the application's bank may approve it")))
        #expect(decide(.withdraw(reason: "x"), on: state, by: Self.bank) == .failure(.notAllowed("only the applicant withdraws its application")))
        #expect(decide(.withdraw(reason: "x"), on: state, by: .enterprise(uscc: "91330100MA27XK5L4R")) == .failure(.notAllowed("only the applicant withdraws its application")))
        #expect(decide(.expire, on: ApplicationState(bank: 7, uscc: "u"), by: Self.bankAdmin) == .failure(.notAllowed("applications expire by themselves")))
        let live = ApplicationState(status: .repaying, bank: 7, uscc: "u", approval: Self.approval, disbursed: Fen(1_000_000))
        #expect(decide(.writeOff(reason: "损失"), on: live, by: Self.bank) == .failure(.notAllowed("a write-off needs the bank's admin")))
    }

    @Test func tranchesStayWithinTheApprovalAndReasonsAreRequired() {
        var state = ApplicationState(status: .approved, bank: 7, uscc: "u", approval: Self.approval)
        state = try! decide(.disburse(Fen(600_000), on: day("2026-03-01")), on: state, by: Self.bank).get()
        state = try! decide(.disburse(Fen(400_000), on: day("2026-04-01")), on: state, by: Self.bank).get()
        #expect(state.disbursed == Fen(1_000_000))
        #expect(state.status == .disbursed)
        #expect(decide(.disburse(Fen(1), on: day("2026-04-02")), on: state, by: Self.bank)
            == .failure(.conflict("the tranche of 0.01 would take the disbursed total past the approved 10000.00 (disbursed so far 10000.00)")))
        #expect(decide(.close(outstanding: Fen(5)), on: state, by: Self.bank) == .failure(.conflict("the loans still owe 0.05")))
        // A tranche of any size is refused, never overflows.
        var half = state
        half.disbursed = Fen(600_000)
        #expect(decide(.disburse(Fen(Int64.max), on: day("2026-04-02")), on: half, by: Self.bank)
            == .failure(.conflict("the tranche of \(Fen(Int64.max).yuan) would take the disbursed total past the approved 10000.00 (disbursed so far 6000.00)")))
        let review = ApplicationState(status: .underReview, bank: 7, uscc: "u")
        #expect(decide(.reject(reason: "  "), on: review, by: Self.bank) == .failure(.invalid("a reason is required")))
        let bad = Approval(amount: Fen(1_000), termMonths: 0, rate: AnnualRate(basisPoints: 400), method: .equalInstalment)
        #expect(decide(.approve(bad), on: review, by: Self.bank) == .failure(.invalid("term_months must be between 1 and 360, got 0")))
    }
}

@Suite("Products, needs, working days, eligibility")
struct MarketRulesTests {
    let terms = ProductTerms(
        name: "科创信用贷", kind: .credit, minimumAmount: Fen(10_000_000), maximumAmount: Fen(300_000_000), minimumTermMonths: 6,
        maximumTermMonths: 36, minimumRate: AnnualRate(basisPoints: 330), maximumRate: AnnualRate(basisPoints: 480),
        methods: [.equalInstalment, .interestOnlyBullet], industries: ["C39", "I"], districts: ["331002"])

    @Test func productTermsAreCheckedWithEveryProblem() {
        #expect(terms.problems.isEmpty)
        var bad = terms
        bad.name = " "
        bad.minimumAmount = Fen(400_000_000)
        bad.methods = []
        bad.industries = ["C3", "c39", "C391"]
        bad.districts = ["33100"]
        #expect(bad.problems == [
            "name must be 1 to 100 characters",
            "amounts must satisfy 0 < minimum_amount ≤ maximum_amount ≤ 10000000000000 fen, got 400000000…300000000",
            "methods must name at least one repayment method",
            "industries: 'C3' is neither a GB/T 4754 section (a letter A–T) nor a division (a letter and two digits, e.g. C30)",
            "industries: 'c39' is neither a GB/T 4754 section (a letter A–T) nor a division (a letter and two digits, e.g. C30)",
            "industries: 'C391' is neither a GB/T 4754 section (a letter A–T) nor a division (a letter and two digits, e.g. C30)",
            "districts: '33100' is not a 6-digit district code",
        ])
        #expect(terms.targetProblems(industryCode: "C3911", district: "331002").isEmpty)
        #expect(terms.targetProblems(industryCode: "I6510", district: "331002").isEmpty)
        #expect(terms.targetProblems(industryCode: "C3011", district: "331003") == [
            "industry C3011 is not among C39, I", "district 331003 is not among 331002",
        ])
        #expect(terms.requestProblems(amount: Fen(5_000_000), termMonths: 48, method: .equalPrincipal) == [
            "amount 50000.00 is outside the product's 100000.00…3000000.00 yuan",
            "term of 48 months is outside the product's 6…36",
            "the product is not repaid by equal_principal (it offers equal_instalment, interest_only_bullet)",
        ])
    }

    @Test func productAndNeedSteps() {
        let bank = MarketActor.bank(organisation: 3, admin: false)
        #expect(decide(ProductCommand.publish, on: .draft, bank: 3, by: bank) == .success(.published))
        #expect(decide(ProductCommand.publish, on: .published, bank: 3, by: bank) == .failure(.conflict("publish does not apply to a published product")))
        #expect(decide(ProductCommand.withdraw, on: .published, bank: 3, by: bank) == .success(.withdrawn))
        #expect(decide(ProductCommand.publish, on: .draft, bank: 4, by: bank) == .failure(.notAllowed("only the product's bank may publish it")))
        #expect(decide(NeedCommand.claim, on: .open, uscc: "E", by: bank) == .success(.claimed))
        #expect(decide(NeedCommand.claim, on: .claimed, uscc: "E", by: .bank(organisation: 4, admin: true)) == .failure(.conflict("the need is claimed, no longer open")))
        #expect(decide(NeedCommand.withdraw, on: .open, uscc: "E", by: .enterprise(uscc: "E")) == .success(.withdrawn))
        #expect(decide(NeedCommand.withdraw, on: .open, uscc: "E", by: .enterprise(uscc: "F")) == .failure(.notAllowed("only the enterprise withdraws its need")))
        #expect(decide(NeedCommand.claim, on: .open, uscc: "E", by: .enterprise(uscc: "E")) == .failure(.notAllowed("only a bank claims a need")))
    }

    @Test func workingDaysSkipHolidaysAndCountMakeUpDays() throws {
        let calendar = try WorkingCalendar(parsing: """
            # 国庆节
            2026-10-01 holiday 国庆节
            2026-10-02 holiday
            2026-10-05 holiday
            2026-10-06 holiday
            2026-10-07 holiday
            2026-10-10 workday 调休上班
            """, path: "holidays.txt")
        // Wednesday 30 September: Thursday 8, Friday 9 and the make-up Saturday 10 October.
        #expect(calendar.adding(workingDays: 3, to: day("2026-09-30")) == day("2026-10-10"))
        #expect(calendar.adding(workingDays: 1, to: day("2026-10-10")) == day("2026-10-12"))
        #expect(calendar.isWorkingDay(day("2026-10-03")) == false)  // a Saturday
        #expect(throws: CalendarError("holidays.txt:2:12: 'holyday' is neither 'holiday' nor 'workday'")) {
            try WorkingCalendar(parsing: "# x\n2026-10-01 holyday", path: "holidays.txt")
        }
        #expect(throws: CalendarError("holidays.txt:1:3: '2026-13-01' is not a date YYYY-MM-DD")) {
            try WorkingCalendar(parsing: "  2026-13-01 holiday", path: "holidays.txt")
        }
    }

    /// The shipped rule set and topic catalog: a product is checked against the live rules.
    static let root = URL(filePath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static func files(_ folder: String, _ suffix: String) -> [(path: String, text: String)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root.appending(path: folder).path)) ?? []
        return names.filter { $0.hasSuffix(suffix) }.sorted().map {
            (path: "\(folder)/\($0)", text: (try? String(contentsOf: root.appending(path: folder).appending(path: $0), encoding: .utf8)) ?? "")
        }
    }
    static let schema = try! TopicCatalog.parse(files("topics", ".yaml")).schema
    static let rules = files("rules", ".cwr").map { SourceFile(path: $0.path, text: $0.text) }

    @Test func eligibilityIsCheckedAgainstTheRuleSetWithPositions() {
        let rules = Self.rules
        #expect(rules.count >= 7)
        #expect(Eligibility.check("grade >= \"B\" and dishonest_active_count == 0 and established_years >= 2", ruleSources: rules, schema: Self.schema) == [])
        #expect(Eligibility.check("", ruleSources: rules, schema: Self.schema) == [])
        let problems = Eligibility.check("grade >= \"B\"\n  and dishonest_count == 0", ruleSources: rules, schema: Self.schema)
        #expect(problems.count == 1)
        #expect(problems.first?.hasPrefix("eligibility:2:7: unknown") == true, "\(problems)")
        #expect(Eligibility.check("1 == 1\nfeature x = count(court.dishonest)", ruleSources: rules, schema: Self.schema)
            == ["eligibility:1:1: the condition must be one expression, not declarations"])
    }

    /// An enterprise established on `established` with, optionally, one unremoved dishonest listing.
    static func enterprise(established: String, dishonest: Bool) -> EntityData {
        let uscc = "91430500MA4DEM101Y"
        var records: [String: [FactRecord]] = [
            "market.enterprise": [
                FactRecord(
                    topic: "market.enterprise", key: uscc, eventDay: day(established),
                    fields: ["uscc": .string(uscc), "name": .string("邵阳示范机械有限公司"), "established_date": .date(day(established)),
                             "status": .string("存续"), "industry_code": .string("C3011"), "district_code": .string("430502")])
            ]
        ]
        if dishonest {
            records["court.dishonest"] = [
                FactRecord(
                    topic: "court.dishonest", key: "(2025)湘05执9号", eventDay: day("2025-09-01"),
                    fields: ["case_no": .string("(2025)湘05执9号"), "party_type": .string("enterprise"), "uscc": .string(uscc),
                             "listed_date": .date(day("2025-09-01")), "amount": .number(120_000)])
            ]
        }
        return EntityData(entity: uscc, asOf: day("2026-06-01"), records: records)
    }

    @Test func eligibilityIsJudgedOnTheEnterprisesFeaturesWithTheValuesItRead() throws {
        let condition = "established_years >= 2 and dishonest_active_count == 0"
        let program = try Eligibility.compile(condition, ruleSources: Self.rules, schema: Self.schema).get()
        let clean = Eligibility.verdict(program, condition: condition, entity: Self.enterprise(established: "2020-03-01", dishonest: false))
        #expect(clean.holds)
        #expect(clean.values["dishonest_active_count"] == "0")
        #expect(clean.values["established_years"].flatMap(Double.init).map { $0 > 6.2 && $0 < 6.3 } == true, "\(clean.values)")
        let listed = Eligibility.verdict(program, condition: condition, entity: Self.enterprise(established: "2020-03-01", dishonest: true))
        #expect(listed.holds == false)
        #expect(listed.values["dishonest_active_count"] == "1")
        let young = Eligibility.verdict(program, condition: condition, entity: Self.enterprise(established: "2025-03-01", dishonest: false))
        #expect(young.holds == false)
        #expect(Set(young.values.keys) == ["established_years", "dishonest_active_count"])
        // No condition: everyone is eligible.
        #expect(Eligibility.verdict(nil, condition: "", entity: Self.enterprise(established: "2025-03-01", dishonest: true)).holds)
    }
}

@Suite("Matching, statistics and outcomes")
struct MarketInsightTests {
    static let authorisation = QueryAuthorisation(reference: "SQ-1", scope: "贷前审查", validFrom: "2025-01-01", validUntil: "2027-12-31")

    static func product(_ id: Int64, kind: ProductKind = .credit, rate: Int64 = 400, status: ProductStatus = .published) -> ProductRecord {
        ProductRecord(
            id: id, bank: 7, bankName: "城市商业银行",
            terms: ProductTerms(
                name: "产品\(id)", kind: kind, minimumAmount: Fen(10_000_000), maximumAmount: Fen(300_000_000), minimumTermMonths: 6,
                maximumTermMonths: 36, minimumRate: AnnualRate(basisPoints: rate), maximumRate: AnnualRate(basisPoints: 600), methods: [.equalPrincipal],
                industries: ["C39", "I"], districts: ["331002"], eligibility: "established_years >= 2"),
            status: status, version: 1)
    }

    static func loan(_ id: Int64, _ principal: Int64, months: Int = 12, on start: String, repaid: [Repayment] = []) -> LoanRecord {
        let terms = try! LoanTerms(principal: Fen(principal), termMonths: months, rate: AnnualRate(basisPoints: 0), method: .equalPrincipal)
        return LoanRecord(id: id, applicationID: id, tranche: 1, terms: terms, disbursedOn: day(start), schedule: terms.schedule(from: day(start)), repayments: repaid)
    }

    static func application(
        _ id: Int64, product: Int64, uscc: String, submitted: String, status: ApplicationStatus, approved: Int64? = nil, loans: [LoanRecord] = []
    ) -> ApplicationRecord {
        let request = FinancingRequest(amount: Fen(1_000_000), termMonths: 12, purpose: "经营", collateral: "", authorisation: authorisation)
        let approval = approved.map { Approval(amount: Fen($0), termMonths: 12, rate: AnnualRate(basisPoints: 0), method: .equalPrincipal) }
        let state = ApplicationState(status: status, bank: 7, uscc: uscc, approval: approval, disbursed: Fen(loans.reduce(0) { $0 + $1.terms.principal.value }))
        return ApplicationRecord(
            id: id, productID: product, needID: nil, bankName: "城市商业银行", district: "331002", request: request, method: .equalPrincipal, state: state,
            submittedOn: day(submitted), acceptBy: day(submitted) + 7, reason: nil, loans: loans)
    }

    static func need(_ id: Int64, created: String, status: NeedStatus) -> NeedRecord {
        NeedRecord(
            id: id, uscc: "E\(id)", request: FinancingRequest(amount: Fen(1), termMonths: 12, purpose: "经营", collateral: "", authorisation: authorisation),
            status: status, claimedBy: status == .claimed ? 7 : nil, applicationID: nil, version: 1, publishedOn: created)
    }

    @Test func everyConditionOfAMatchSaysWhyAndTheBestFitComesFirst() {
        let verdict = EligibilityVerdict(holds: false, values: ["established_years": "1"])
        let match = Matching.match(Self.product(1), industryCode: "C3011", district: "331002", amount: Fen(5_000_000), termMonths: 12, verdict: verdict)
        #expect(match.conditions == [
            MatchCondition(name: "行业", held: false, detail: "行业 C3011，产品面向 C39、I"),
            MatchCondition(name: "地区", held: true, detail: "地区 331002，产品面向 331002"),
            MatchCondition(name: "金额", held: false, detail: "需求 50000.00 元，产品 100000.00–3000000.00 元"),
            MatchCondition(name: "期限", held: true, detail: "需求 12 个月，产品 6–36 个月"),
            MatchCondition(name: "准入条件", held: false, detail: "established_years >= 2（established_years = 1）"),
        ])
        #expect(match.eligible == false)
        let holds = EligibilityVerdict(holds: true, values: [:])
        let fits = [Self.product(1, rate: 480), Self.product(2, rate: 330)].map {
            Matching.match($0, industryCode: "C3911", district: "331002", amount: nil, termMonths: nil, verdict: holds)
        }
        let unfit = Matching.match(Self.product(3, rate: 300), industryCode: "C3911", district: "331002", amount: nil, termMonths: nil, verdict: verdict)
        #expect(Matching.ranked([unfit] + fits).map(\.product.id) == [2, 1, 3])
    }

    @Test func theLoanWentBadOnTheDayAnInstalmentWasStill91DaysUnpaid() {
        let terms = try! LoanTerms(principal: Fen(12_000_000), termMonths: 12, rate: AnnualRate(basisPoints: 435), method: .equalInstalment)
        let loan = LoanRecord(
            id: 1, applicationID: 1, tranche: 1, terms: terms, disbursedOn: day("2023-12-31"), schedule: terms.schedule(from: day("2023-12-31")),
            repayments: [Repayment(on: day("2024-01-31"), amount: Fen(1_023_719))])
        // The 29 February instalment is 91 days late on 30 May.
        #expect(LoanOutcome(loan, uscc: "A", writtenOff: false, today: day("2024-06-01")).wentBad == day("2024-05-30"))
        #expect(LoanOutcome(loan, uscc: "A", writtenOff: false, today: day("2024-05-29")).wentBad == nil)
        #expect(LoanOutcome(loan, uscc: "A", writtenOff: true, today: day("2024-05-29")).wentBad == day("2024-05-29"))
    }

    @Test func perRuleOutcomesAgainstTheBaseRate() {
        let loans = [
            LoanOutcome(uscc: "A", disbursedOn: day("2025-01-10"), wentBad: day("2025-06-01")),
            LoanOutcome(uscc: "A", disbursedOn: day("2025-03-01"), wentBad: nil),
            LoanOutcome(uscc: "B", disbursedOn: day("2025-02-01"), wentBad: day("2025-09-01")),
            LoanOutcome(uscc: "C", disbursedOn: day("2025-04-01"), wentBad: nil),
            LoanOutcome(uscc: "D", disbursedOn: day("2024-12-01"), wentBad: day("2025-03-01")),
        ]
        let alerts = [
            AlertMark(uscc: "A", rule: "tax_drop_yoy", asOf: day("2025-05-01")),
            // Raised after B's loan went bad: it foretold nothing.
            AlertMark(uscc: "B", rule: "tax_drop_yoy", asOf: day("2025-10-01")),
            AlertMark(uscc: "C", rule: "tax_drop_yoy", asOf: day("2025-07-01")),
            AlertMark(uscc: "B", rule: "dishonest_debtor", asOf: day("2025-08-15")),
            AlertMark(uscc: "D", rule: "dishonest_debtor", asOf: day("2025-01-01")),
        ]
        let report = OutcomeReport(loans: loans, alerts: alerts, period: day("2025-01-01")...day("2025-12-31"), today: day("2026-01-01"))
        #expect(report.loans == 4)
        #expect(report.badLoans == 2)
        #expect(report.baseRate == 0.5)
        #expect(report.rules.map { "\($0.rule) \($0.alertedLoans) \($0.badLoans)" } == ["dishonest_debtor 1 1", "tax_drop_yoy 3 1"])
        #expect(report.rules[0].lift == 2.0)
        #expect(report.rules[1].badRate == 1.0 / 3.0)
        #expect(report.rules[1].lift == (1.0 / 3.0) / 0.5)
    }

    @Test func theMarketplaceInFigures() {
        let applications = [
            Self.application(1, product: 1, uscc: "E1", submitted: "2026-02-01", status: .repaying, approved: 1_000_000,
                             loans: [Self.loan(1, 1_000_000, on: "2026-02-10")]),
            Self.application(2, product: 2, uscc: "E2", submitted: "2026-03-01", status: .rejected),
            Self.application(3, product: 2, uscc: "E3", submitted: "2026-04-01", status: .disbursed, approved: 500_000,
                             loans: [Self.loan(3, 500_000, on: "2026-12-20")]),
            Self.application(4, product: 1, uscc: "E1", submitted: "2025-05-01", status: .closed, approved: 200_000,
                             loans: [Self.loan(4, 200_000, months: 1, on: "2025-05-10", repaid: [Repayment(on: day("2025-06-10"), amount: Fen(200_000))])]),
            Self.application(5, product: 1, uscc: "E5", submitted: "2026-05-01", status: .submitted),
        ]
        let s = MarketStatistics(
            products: [Self.product(1), Self.product(2, kind: .mortgage), Self.product(3, status: .draft)],
            needs: [Self.need(1, created: "2026-03-01", status: .claimed), Self.need(2, created: "2026-03-05", status: .open),
                    Self.need(3, created: "2026-04-01", status: .withdrawn), Self.need(4, created: "2025-01-01", status: .claimed)],
            applications: applications,
            firstResponses: [1: day("2026-02-03"), 2: day("2026-03-04"), 3: day("2026-04-11"), 4: day("2025-05-02")],
            period: day("2026-01-01")...day("2026-12-31"), asOf: day("2026-12-31"))
        #expect(s.publishedProducts == 2)
        #expect(s.publishedProductsByKind == ["信用贷": 1, "抵押贷": 1])
        #expect(s.needs == 3)
        #expect(s.needsClaimed == 1)
        #expect(s.claimRate == 0.5)
        #expect(s.applications == 4)
        #expect(s.applicationsByStatus == ["repaying": 1, "rejected": 1, "disbursed": 1, "submitted": 1])
        #expect(s.approvalRate == 2.0 / 3.0)
        #expect(s.medianDaysToFirstResponse == 3)
        #expect(s.medianDaysToDisbursement == 136)
        #expect(s.approvedFen == 1_500_000)
        #expect(s.disbursedFen == 1_500_000)
        #expect(s.creditLoanShare == 1_000_000.0 / 1_500_000.0)
        // The first loan is 296 days past due on 31 December (doubtful): non-performing.
        #expect(s.outstandingFen == 1_500_000)
        #expect(s.nonPerformingFen == 1_000_000)
        #expect(s.nonPerformingRatio == 1_000_000.0 / 1_500_000.0)
        #expect(s.borrowers == 2)
        #expect(s.firstTimeBorrowers == 1)
    }
}
