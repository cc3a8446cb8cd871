import Testing

@testable import RuleLanguage

/// Exact rendered diagnostics of broken rule files.
@Suite struct DiagnosticsTests {
    @Test func unknownFeatureWithSuggestion() {
        #expect(
            Fixtures.diagnostics(
                """
                feature tax_paid_90d = sum(tax.payment.amount, 90d)

                rule low_tax (min = 100) {
                  title    "纳税偏低"
                  category tax
                  severity low
                  when     tax_paid_90 < min
                  explain  "近90天纳税 {tax_paid_90d} 元"
                }
                """, path: "rules/tax.cwr")
                == """
                rules/tax.cwr:7:12: error: unknown feature 'tax_paid_90'; did you mean 'tax_paid_90d'?
                  when     tax_paid_90 < min
                           ^

                """)
    }

    @Test func unknownTopicAndFieldWithSuggestions() {
        #expect(
            Fixtures.diagnostics(
                """
                feature a = sum(tax.payment.amout, 3mo)
                feature b = count(tax.paymnt, 3mo)
                feature c = exists(court.dishonest where removed_dat is null)
                """)
                == """
                rules/test.cwr:1:29: error: unknown field 'amout' in topic 'tax.payment'; did you mean 'amount'?
                feature a = sum(tax.payment.amout, 3mo)
                                            ^
                rules/test.cwr:2:19: error: unknown topic 'tax.paymnt'; did you mean 'tax.payment'?
                feature b = count(tax.paymnt, 3mo)
                                  ^
                rules/test.cwr:3:42: error: unknown field 'removed_dat' in topic 'court.dishonest'; did you mean 'removed_date'?
                feature c = exists(court.dishonest where removed_dat is null)
                                                         ^

                """)
    }

    @Test func typeMismatches() {
        #expect(
            Fixtures.diagnostics(
                """
                feature paid = sum(tax.payment.amount, 3mo)
                feature cases = count(court.enforcement, 90d)
                feature m1 = paid > "很多"
                feature m2 = max(court.dishonest.listed_date) > 20240101
                feature m3 = paid > cases
                feature m4 = paid + cases
                feature m5 = exists(court.dishonest where listed_date > "2024-13-01")
                feature m6 = latest(tax.taxpayer.taxpayer_status) and paid > 0
                """)
                == """
                rules/test.cwr:3:19: error: cannot compare money with a string
                feature m1 = paid > "很多"
                                  ^
                rules/test.cwr:4:47: error: cannot compare a date with a number
                feature m2 = max(court.dishonest.listed_date) > 20240101
                                                              ^
                rules/test.cwr:5:19: error: cannot compare money with a count
                feature m3 = paid > cases
                                  ^
                rules/test.cwr:6:19: error: cannot add money and a count
                feature m4 = paid + cases
                                  ^
                rules/test.cwr:7:57: error: '2024-13-01' is not a date; write dates as "YYYY-MM-DD"
                feature m5 = exists(court.dishonest where listed_date > "2024-13-01")
                                                                        ^
                rules/test.cwr:8:14: error: 'and' needs conditions on both sides, found a string
                feature m6 = latest(tax.taxpayer.taxpayer_status) and paid > 0
                             ^

                """)
    }

    @Test func aggregateOverNonNumericField() {
        #expect(
            Fixtures.diagnostics(
                """
                feature names = sum(tax.payment.name, 3mo)
                feature periods = avg(water.usage.period, 12mo)
                feature since = days_since(tax.payment.amount)
                """)
                == """
                rules/test.cwr:1:33: error: 'sum' needs a numeric field; 'tax.payment.name' is a string
                feature names = sum(tax.payment.name, 3mo)
                                                ^
                rules/test.cwr:2:35: error: 'avg' needs a numeric field; 'water.usage.period' is a string
                feature periods = avg(water.usage.period, 12mo)
                                                  ^
                rules/test.cwr:3:40: error: 'days_since' needs a date field; 'tax.payment.amount' is money
                feature since = days_since(tax.payment.amount)
                                                       ^

                """)
    }

    @Test func unterminatedString() {
        #expect(
            Fixtures.diagnostics(
                """
                rule r () {
                  title    "未结束的标题
                  category tax
                  severity high
                  when     1 > 0
                  explain  "x"
                }
                """)
                == """
                rules/test.cwr:2:12: error: unterminated string; close it with " on the same line
                  title    "未结束的标题
                           ^

                """)
    }

    @Test func missingRequiredFields() {
        #expect(
            Fixtures.diagnostics(
                """
                rule no_condition (x = 1) {
                  title    "缺少条件"
                  category tax
                  explain  "x = {x}"
                }
                """)
                == """
                rules/test.cwr:1:6: error: rule 'no_condition' is missing 'severity'
                rule no_condition (x = 1) {
                     ^
                rules/test.cwr:1:6: error: rule 'no_condition' is missing 'when'
                rule no_condition (x = 1) {
                     ^

                """)
    }

    @Test func unknownPlaceholder() {
        #expect(
            Fixtures.diagnostics(
                """
                feature tax_paid_3mo = sum(tax.payment.amount, 3mo)
                rule r (min_base = 100) {
                  title    "t"
                  category tax
                  severity high
                  when     tax_paid_3mo < min_base
                  explain  "近3个月纳税 {tax_paid_3m} 元，低于 {minbase} 元，{entity}"
                }
                """)
                == """
                rules/test.cwr:7:20: error: unknown placeholder '{tax_paid_3m}' in explanation; did you mean 'tax_paid_3mo'?
                  explain  "近3个月纳税 {tax_paid_3m} 元，低于 {minbase} 元，{entity}"
                                   ^
                rules/test.cwr:7:39: error: unknown placeholder '{minbase}' in explanation; did you mean 'min_base'?
                  explain  "近3个月纳税 {tax_paid_3m} 元，低于 {minbase} 元，{entity}"
                                                      ^
                rules/test.cwr:7:51: error: unknown placeholder '{entity}' in explanation
                  explain  "近3个月纳税 {tax_paid_3m} 元，低于 {minbase} 元，{entity}"
                                                                  ^

                """)
    }

    @Test func manyErrorsInOneFileAtOnce() {
        #expect(
            Fixtures.diagnostics(
                """
                feature q = sum(tax.payment.amount, 3m)
                feature paid = sum(tax.payment.amount, 3mo)
                feature paid = count(tax.payment, 30d)
                rule r (drop = 50%, drop = 40%) {
                  title    "t"
                  category taxes
                  severity hgh
                  when     paid < drop @
                  score    -10 in dimension finance
                  cooldown 1mo
                  explain  "{paid"
                }
                rule r () {
                  title "again"
                }
                """)
                == """
                rules/test.cwr:1:37: error: bad window '3m'; write days like 90d or months like 3mo
                feature q = sum(tax.payment.amount, 3m)
                                                    ^
                rules/test.cwr:3:9: error: duplicate feature 'paid' (first declared at rules/test.cwr:2:9)
                feature paid = count(tax.payment, 30d)
                        ^
                rules/test.cwr:4:21: error: duplicate parameter 'drop' in rule 'r'
                rule r (drop = 50%, drop = 40%) {
                                    ^
                rules/test.cwr:6:12: error: unknown category 'taxes'; did you mean 'tax'?
                  category taxes
                           ^
                rules/test.cwr:7:12: error: unknown severity 'hgh'; did you mean 'high'?
                  severity hgh
                           ^
                rules/test.cwr:8:24: error: unexpected character '@'
                  when     paid < drop @
                                       ^
                rules/test.cwr:10:12: error: cooldown must be given in days, like 30d
                  cooldown 1mo
                           ^
                rules/test.cwr:11:13: error: unclosed '{' in explanation
                  explain  "{paid"
                            ^
                rules/test.cwr:13:6: error: duplicate rule 'r' (first declared at rules/test.cwr:4:6)
                rule r () {
                     ^

                """)
    }

    @Test func severityCategoryAndCycles() {
        #expect(
            Fixtures.diagnostics(
                """
                feature a = b + 1
                feature b = c * 2
                feature c = a - 1
                rule r () {
                  title "t"; category lendng; severity urgent
                  when 1 > 0
                  explain "x"
                  title "again"
                }
                """)
                == """
                rules/test.cwr:3:13: error: cyclic feature definition: a -> b -> c -> a
                feature c = a - 1
                            ^
                rules/test.cwr:5:23: error: unknown category 'lendng'; did you mean 'lending'?
                  title "t"; category lendng; severity urgent
                                      ^
                rules/test.cwr:5:40: error: unknown severity 'urgent'; expected one of info, low, medium, high, critical
                  title "t"; category lendng; severity urgent
                                                       ^
                rules/test.cwr:8:3: error: 'title' is given twice in rule 'r'
                  title "again"
                  ^

                """)
    }

    @Test func scopeErrors() {
        #expect(
            Fixtures.diagnostics(
                """
                feature paid = sum(tax.payment.amount, 3mo)
                industry feature total = industry_sum(tax.payment.amount, 3mo)
                feature x = sum(tax.payment.amount, 3mo, where amount > paid)
                feature y = total + population
                feature z = industry_sum(tax.payment.amount, 3mo) + latst(tax.taxpayer.credit_rating)
                industry feature w = sum(tax.payment.amount, 3mo) + industry_sum(tax.payment.amount, 90d)
                feature v = latest(tax.taxpayer.credit_rating, 3mo) == "A" and last(tax.payment.amount) > 0
                feature u = exists(tax.payment.amount) and count(tax.payment, offset 12mo) > 0
                """)
                == """
                rules/test.cwr:3:57: error: feature 'paid' cannot be used inside 'where'; only fields of 'tax.payment', parameters and as_of can
                feature x = sum(tax.payment.amount, 3mo, where amount > paid)
                                                                        ^
                rules/test.cwr:4:13: error: 'total' is an industry feature; enterprise rules and features cannot use it
                feature y = total + population
                            ^
                rules/test.cwr:4:21: error: 'population' is only available in industry rules and industry features
                feature y = total + population
                                    ^
                rules/test.cwr:5:13: error: 'industry_sum' is only available in industry rules and industry features
                feature z = industry_sum(tax.payment.amount, 3mo) + latst(tax.taxpayer.credit_rating)
                            ^
                rules/test.cwr:5:53: error: unknown function 'latst'; did you mean 'last'?
                feature z = industry_sum(tax.payment.amount, 3mo) + latst(tax.taxpayer.credit_rating)
                                                                    ^
                rules/test.cwr:6:22: error: 'sum' is not available in industry rules; use industry_sum(topic.field, window)
                industry feature w = sum(tax.payment.amount, 3mo) + industry_sum(tax.payment.amount, 90d)
                                     ^
                rules/test.cwr:6:86: error: industry_sum works on calendar months; use a window like 3mo
                industry feature w = sum(tax.payment.amount, 3mo) + industry_sum(tax.payment.amount, 90d)
                                                                                                     ^
                rules/test.cwr:7:48: error: 'latest' reads all current records; use last(topic.field, window) for a window
                feature v = latest(tax.taxpayer.credit_rating, 3mo) == "A" and last(tax.payment.amount) > 0
                                                               ^
                rules/test.cwr:7:64: error: 'last' needs a window, e.g. last(tax.payment.amount, 3mo)
                feature v = latest(tax.taxpayer.credit_rating, 3mo) == "A" and last(tax.payment.amount) > 0
                                                                               ^
                rules/test.cwr:8:32: error: 'exists' takes a topic, not a field: exists(tax.payment where …)
                feature u = exists(tax.payment.amount) and count(tax.payment, offset 12mo) > 0
                                               ^
                rules/test.cwr:8:70: error: 'offset' needs a window before it
                feature u = exists(tax.payment.amount) and count(tax.payment, offset 12mo) > 0
                                                                                     ^

                """)
    }

    @Test func unusedParameterIsAWarningNotAnError() throws {
        let program = try Fixtures.compile(
            """
            rule r (used = 1, spare = 2) {
              title "t"; category tax; severity low
              when 1 >= used
              explain "x"
            }
            """)
        #expect(program.warnings.map(\.description) == ["rules/test.cwr:1:19: warning: parameter 'spare' of rule 'r' is never used"])
    }

    @Test func overrideKeysAreChecked() {
        let source = """
            rule tax_drop (min_base = 100, drop = 50%) {
              title "t"; category tax; severity low
              when min_base > drop
              explain "x"
            }
            """
        #expect(
            Fixtures.diagnostics(source, overrides: ["tax_drop.drop": 0.6, "tax_drop.min_bas": 1, "tax_dorp.drop": 1, "drop": 2])
                == """
                <overrides>: error: override 'drop' must be written 'rule_name.parameter'
                <overrides>: error: unknown override 'tax_dorp.drop': no rule 'tax_dorp'; did you mean 'tax_drop'?
                <overrides>: error: unknown override 'tax_drop.min_bas': rule 'tax_drop' has no parameter 'min_bas'; did you mean 'min_base'?

                """)
    }

    @Test func limits() {
        var limits = RuleCompiler.Limits()
        limits.maxRules = 2
        limits.maxRuleCost = 60
        limits.maxSourceBytes = 600
        let rule = { (name: String) in
            """
            rule \(name) () {
              title "t"; category tax; severity low
              when sum(tax.payment.amount, 3mo) > sum(tax.payment.amount, 6mo) + sum(tax.payment.amount, 9mo)
              explain "x"
            }

            """
        }
        let file = SourceFile(path: "rules/a.cwr", text: rule("a") + rule("b") + rule("c"))
        let big = SourceFile(path: "rules/big.cwr", text: String(repeating: "// padding\n", count: 60))
        guard case .failure(let d) = RuleCompiler.compile([big, file], schema: Fixtures.schema, limits: limits) else {
            Issue.record("expected errors")
            return
        }
        #expect(
            d.items.map(\.description) == [
                "rules/a.cwr:1:6: error: rule 'a' is too expensive to evaluate (cost 65, the limit is 60)",
                "rules/a.cwr:6:6: error: rule 'b' is too expensive to evaluate (cost 65, the limit is 60)",
                "rules/a.cwr:11:6: error: too many rules (the limit is 2)",
                "rules/a.cwr:11:6: error: rule 'c' is too expensive to evaluate (cost 65, the limit is 60)",
                "rules/big.cwr:1:1: error: file is too large (660 bytes, the limit is 600)",
            ])
    }

    @Test func diagnosticsAreCapped() {
        var limits = RuleCompiler.Limits()
        limits.maxDiagnostics = 3
        let text = (1...5).map { "feature f\($0) = nope\($0)" }.joined(separator: "\n")
        let file = SourceFile(path: "t.cwr", text: text)
        guard case .failure(let d) = RuleCompiler.compile([file], schema: Fixtures.schema, limits: limits) else {
            Issue.record("expected errors")
            return
        }
        #expect(
            d.items.map(\.description) == [
                "t.cwr:1:14: error: unknown feature 'nope1'",
                "t.cwr:2:14: error: unknown feature 'nope2'",
                "t.cwr:3:14: error: unknown feature 'nope3'",
                "t.cwr: error: too many errors; 2 more not shown",
            ])
    }

    @Test func caretKeepsTabsAndCountsChineseAsOneColumn() {
        let file = SourceFile(path: "t.cwr", text: "\tfeature 甲 = 1\n")
        let d = Diagnostics(items: [Diagnostic(path: "t.cwr", line: 1, column: 10, message: "unexpected character '甲'")])
        #expect(d.rendered(sources: [file]) == "t.cwr:1:10: error: unexpected character '甲'\n\tfeature 甲 = 1\n\t        ^\n")
    }
}
