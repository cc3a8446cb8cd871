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

    @Test func theProgramNeedsTheFieldsItsAggregatesAndFiltersRead() {
        let needs = Self.program(Self.rules).recordFields
        #expect(needs == [
            "tax.payment": ["amount", "period", "tax_type"], "court.enforcement": [], "court.dishonest": ["removed_date"],
            "market.enterprise#history": ["legal_rep_name"],
        ])
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
        #expect(wide.missing(from: narrow.description) == [
            "market.enterprise#history", "tax.payment.period", "tax.payment.tax_type", "tax.payment@lookback",
        ])
        // Keeping less needs nothing; a store from before plans kept every field.
        #expect(narrow.missing(from: wide.description) == [])
        #expect(wide.missing(from: nil) == [])
        #expect(wide.missing(from: wide.description) == [])
    }

    /// Look-backs at the reference end 2001-01-31: 3mo from 2000-11-01 (91 days), 3mo offset 12mo
    /// from 1999-11-01 (457), 90d (89).
    @Test func aStoreThatForgotRecordsMissesWhatAProgramReadsFurtherBack() {
        let narrow = FeaturePlan(program: Self.program("feature paid = sum(tax.payment.amount, 3mo)"), catalog: Shipped.catalog)
        let wide = FeaturePlan(program: Self.program(Self.rules), catalog: Shipped.catalog)
        #expect(narrow.lookback == ["tax.payment": 91])
        // court.dishonest is read without a window: nothing of it is forgotten.
        #expect(wide.lookback == ["tax.payment": 457, "court.enforcement": 89])
        #expect(narrow.description.contains("tax.payment@lookback:91"))
        let unbounded = FeaturePlan(program: Self.program("feature cases = count(court.enforcement)"), catalog: Shipped.catalog)
        #expect(unbounded.missing(from: wide.description) == ["court.enforcement@lookback"])
        #expect(narrow.missing(from: wide.description) == [])
        // A store keeps the shorter look-back it had, also of a topic the new plan does not read.
        let after = narrow.description(after: wide.description)
        #expect(after.contains("tax.payment@lookback:91") && after.contains("court.enforcement@lookback:89"))
        #expect(wide.description(after: narrow.description).contains("tax.payment@lookback:91"))
        #expect(narrow.description(after: nil) == narrow.description)
    }

    /// A topic only summed for industries keeps its look-back too (its divisions' older months are
    /// deleted): an industry window that reaches further back needs the store rebuilt.
    @Test func anIndustrySeriesThatReachesFurtherBackIsMissing() {
        let near = FeaturePlan(program: Self.program("industry feature d = industry_sum(tax.payment.amount, 3mo)"), catalog: Shipped.catalog)
        let far = FeaturePlan(
            program: Self.program("industry feature d = industry_sum(tax.payment.amount, 3mo, offset 12mo)"), catalog: Shipped.catalog)
        #expect(!near.readTopics.contains("tax.payment"))
        #expect(near.lookback == ["tax.payment": 91])
        #expect(far.lookback == ["tax.payment": 457])
        #expect(far.missing(from: near.description) == ["tax.payment@lookback"])
        #expect(near.missing(from: far.description) == [])
    }

    @Test func aNewIndustrySeriesIsMissingFromAStoreThatDidNotSumIt() {
        let before = FeaturePlan(program: Self.program("feature paid = sum(tax.payment.amount, 3mo)"), catalog: Shipped.catalog)
        let after = FeaturePlan(
            program: Self.program("""
                industry feature division_tax = industry_sum(tax.payment.amount, 3mo)
                feature paid = sum(tax.payment.amount, 3mo)
                """),
            catalog: Shipped.catalog)
        #expect(after.description.contains("tax.payment@series:amount"))
        #expect(after.missing(from: before.description) == ["tax.payment@series"])
        #expect(before.missing(from: after.description) == [])
    }
}
