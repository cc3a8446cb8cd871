import CreditWatchCore
import RuleLanguage
import Testing

@Suite struct FeaturePlanTests {
    static func program(_ text: String) -> RuleProgram {
        switch RuleCompiler.compile([SourceFile(path: "plan.cwr", text: text)], schema: Shipped.catalog.schema) {
        case .success(let program): return program
        case .failure(let diagnostics): fatalError("test rules do not compile:\n\(diagnostics)")
        }
    }

    static let rules = """
        feature paid_3mo_ly   = sum(tax.payment.amount, 3mo, offset 12mo)
        feature vat_months    = distinct_count(tax.payment.period, 6mo, where tax_type == "增值税" and amount > 0)
        feature enforcement   = count(court.enforcement, 90d)
        feature listed        = count(court.dishonest where removed_date is null)
        feature rep_changes   = changes(market.enterprise#history.legal_rep_name, 12mo)
        rule r () {
          title "r"
          category tax
          severity low
          when paid_3mo_ly > 0 and vat_months > 0 and enforcement > 0 and listed > 0 and rep_changes > 0
          cooldown 0d
          explain "r"
        }
        """

    @Test func theProgramNeedsTheFieldsItsAggregatesAndFiltersReadAndHowFarBack() {
        let needs = Self.program(Self.rules).recordNeeds
        #expect(needs["tax.payment"] == RecordNeed(fields: ["amount", "period", "tax_type"], months: 15))
        // 90 days touch at most 5 calendar months, counted generously.
        #expect(needs["court.enforcement"] == RecordNeed(fields: [], months: 5))
        #expect(needs["court.dishonest"] == RecordNeed(fields: ["removed_date"], months: nil))
        // `changes` needs the version before its window: no bound.
        #expect(needs["market.enterprise#history"] == RecordNeed(fields: ["legal_rep_name"], months: nil))
        #expect(needs["water.usage"] == nil)
    }

    @Test func thePlanKeepsWhatTheProgramReadsAndWhatMovesAnEntitysClock() {
        let plan = FeaturePlan(program: Self.program(Self.rules), catalog: Shipped.catalog)
        #expect(plan.fields["tax.payment"] == ["amount", "period", "tax_type"])
        // A topic the program does not read keeps only its end-time field, if it has one.
        #expect(plan.fields["water.usage"] == [])
        #expect(plan.fields["market.abnormal"] == ["removed_date"])
        #expect(plan.fields["court.dishonest"] == ["removed_date"])
        #expect(plan.historyFields == ["market.enterprise": ["legal_rep_name"]])
        #expect(plan.readTopics == ["tax.payment", "court.enforcement", "court.dishonest"])
        let row: [String: Value] = ["id": .string("P1"), "amount": .number(5), "tax_type": .string("增值税"), "name": .string("某公司")]
        #expect(plan.kept(row, topic: "tax.payment") == ["amount": .number(5), "tax_type": .string("增值税")])
        #expect(plan.kept(row, topic: "water.usage") == [:])
    }

    @Test func aStoreMissesWhatANewPlanKeepsBeyondWhatItHolds() {
        let narrow = FeaturePlan(program: Self.program("feature paid = sum(tax.payment.amount, 3mo)"), catalog: Shipped.catalog)
        let wide = FeaturePlan(program: Self.program(Self.rules), catalog: Shipped.catalog)
        #expect(narrow.description.contains("tax.payment:amount;"))
        #expect(wide.description.contains("tax.payment:amount,period,tax_type;"))
        #expect(wide.description.contains("market.enterprise#history:legal_rep_name"))
        #expect(wide.missing(from: narrow.description) == ["market.enterprise#history", "tax.payment.period", "tax.payment.tax_type"])
        // Keeping less needs nothing; a store from before plans kept every field.
        #expect(narrow.missing(from: wide.description) == [])
        #expect(wide.missing(from: nil) == [])
        #expect(wide.missing(from: wide.description) == [])
    }
}

/// What the feature store drops never changes a result: the shipped rule set evaluated on an
/// enterprise's whole history and on what the store retains gives the same evaluation and score,
/// month after month, over three years of every feed it reads.
@Suite struct RetentionTests {
    /// A small deterministic generator (the same history every run).
    struct Dice {
        var state: UInt64
        mutating func next(_ n: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(n))
        }
    }

    static let words = ["严重", "一般", "非正常", "正常", "C", "D", "A", "增值税", "企业所得税", "张三", "李四", "查封"]

    static func history() -> [String: [FactRecord]] {
        var dice = Dice(state: 7)
        let catalog = Shipped.catalog
        let plan = FeaturePlan(program: ShippedRules.program, catalog: catalog)
        let first = Month(year: 2023, month: 1)
        var records: [String: [FactRecord]] = [:]
        for topic in plan.readTopics.sorted() {
            guard let definition = catalog.topics[topic] else { continue }
            let monthly = definition.cadence.expected == .monthly
            for m in 0..<36 {
                let month = first + m
                for n in 0..<(monthly ? 2 : dice.next(3)) {
                    let day = month.firstDay + (monthly ? 14 : dice.next(28))
                    var fields: [String: Value] = [:]
                    for field in definition.fields {
                        switch field.type {
                        case .decimal, .int: fields[field.name] = dice.next(5) == 0 ? .number(0) : .number(Double(dice.next(200_000)))
                        case .bool: fields[field.name] = .bool(dice.next(2) == 0)
                        case .date: fields[field.name] = dice.next(4) == 0 ? .null : .date(day + dice.next(400) - 200)
                        case .timestamp: fields[field.name] = .timestamp(Int64(day.value) * 86_400_000)
                        case .string, .uscc, .idNumber:
                            fields[field.name] = field.format == .period
                                ? .string(month.description) : .string(words[dice.next(words.count)])
                        }
                    }
                    if let end = definition.endTime { fields[end] = dice.next(3) == 0 ? .date(day + 120) : .null }
                    records[topic, default: []].append(
                        FactRecord(topic: topic, key: "\(topic)-\(month)-\(n)", eventDay: day, fields: plan.kept(fields, topic: topic)))
                }
            }
        }
        return records
    }

    @Test func theShippedRulesGiveTheSameResultsOnWhatTheStoreRetains() {
        let program = ShippedRules.program
        let plan = FeaturePlan(program: program, catalog: Shipped.catalog)
        let snapshot = EntitySnapshot(catalog: Shipped.catalog)
        let all = Self.history()
        var expiredSeen = 0
        var firingsSeen = 0
        for m in 0..<36 {
            let end = (Month(year: 2023, month: 1) + m).lastDay
            let upTo = all.mapValues { $0.filter { $0.eventDay <= end } }
            var clock = FeedClock()
            for (topic, list) in upTo { for r in list { clock.observe(topic: topic, day: r.eventDay) } }
            let (kept, expired) = plan.retention(upTo)
            expiredSeen += expired.values.map(\.count).reduce(0, +)
            let whole = program.evaluateAndScore(snapshot.data(entity: "91430100MA4L000000", records: upTo, feeds: clock))
            let retained = program.evaluateAndScore(snapshot.data(entity: "91430100MA4L000000", records: kept, feeds: clock))
            firingsSeen += whole.evaluation.firings.count
            #expect(whole.evaluation == retained.evaluation, "as of \(end)")
            #expect(whole.score == retained.score, "as of \(end)")
        }
        // The check means something: records were dropped, and rules fired on what was kept.
        #expect(expiredSeen > 1000)
        #expect(firingsSeen > 20)
    }
}
