import Testing

@testable import RuleLanguage

/// Absence rules, lists, tags and industry leaders: parsing, diagnostics and evaluation.
@Suite struct LanguageExtensionParserTests {
    @Test func declarationsAndAtoms() throws {
        let text = """
            list watch "重点关注" = ["91A", "91B",]
            list empty "空名单" = []
            tag good "优质" when entity in watch and not tagged other explain "在名单中"
            tag other "其他" when entity not in empty
            industry leaders top 10 by paid
            rule r { absence tax.payment, hrss.insurance
              when tagged good }
            """
        let parsed = Parser.parse(SourceFile(path: "t.cwr", text: text), maxDepth: 64)
        #expect(parsed.diagnostics == [])
        guard parsed.declarations.count == 6,
            case .list(let watch) = parsed.declarations[0], case .list(let empty) = parsed.declarations[1],
            case .tag(let good) = parsed.declarations[2], case .tag(let other) = parsed.declarations[3],
            case .leaders(let leaders) = parsed.declarations[4], case .rule(let rule) = parsed.declarations[5]
        else {
            Issue.record("unexpected declarations \(parsed.declarations)")
            return
        }
        #expect(watch.name.name == "watch" && watch.title == "重点关注" && watch.items == ["91A", "91B"])
        #expect(empty.items == [])
        #expect(good.title == "优质" && good.explanation != nil && other.explanation == nil)
        guard case .and(let l, let r) = good.condition.kind, case .inNamedList(_, let list, negated: false) = l.kind,
            case .not(let n) = r.kind, case .tagged(let tag) = n.kind
        else {
            Issue.record("unexpected condition")
            return
        }
        #expect(list.name == "watch" && tag.name == "other")
        #expect(leaders.top.value == 10 && leaders.feature.name == "paid")
        #expect(leaders.canonicalText == "industry leaders top 10 by paid")
        guard case .absence(let topics) = rule.fields[0].value else {
            Issue.record("expected absence")
            return
        }
        #expect(topics.map(\.text) == ["tax.payment", "hrss.insurance"])
    }

    @Test func syntaxErrors() {
        #expect(
            Fixtures.diagnostics(
                """
                list a "A" = ["x", 3]
                list b = ["x"]
                industry leaders top many by x
                tag t "T" explain "x"
                """)
                == """
                rules/test.cwr:1:20: error: list items must be quoted strings, found '3'
                list a "A" = ["x", 3]
                                   ^
                rules/test.cwr:2:8: error: expected a quoted list title, found '='
                list b = ["x"]
                       ^
                rules/test.cwr:3:22: error: expected a whole number of leaders, as in 'top 10', found 'many'
                industry leaders top many by x
                                     ^
                rules/test.cwr:4:11: error: expected 'when', found 'explain'
                tag t "T" explain "x"
                          ^

                """)
    }
}

@Suite struct LanguageExtensionDiagnosticsTests {
    @Test func absenceTopics() {
        #expect(
            Fixtures.diagnostics(
                """
                feature paid = sum(tax.payment.amount, 3mo)
                rule r {
                  title "t"; category tax; severity low; explain "x"
                  absence tax.paymnt, tax.payment, tax.payment
                  when paid == 0
                }
                industry rule i {
                  title "t"; category industry; severity low; explain "x"
                  absence tax.payment
                  when population > 0
                }
                """)
                == """
                rules/test.cwr:4:11: error: unknown topic 'tax.paymnt'; did you mean 'tax.payment'?
                  absence tax.paymnt, tax.payment, tax.payment
                          ^
                rules/test.cwr:4:36: error: topic 'tax.payment' is listed twice in 'absence'
                  absence tax.paymnt, tax.payment, tax.payment
                                                   ^
                rules/test.cwr:9:3: error: 'absence' applies to enterprise rules; an industry has no feeds of its own
                  absence tax.payment
                  ^

                """)
    }

    @Test func lists() {
        #expect(
            Fixtures.diagnostics(
                """
                list watch "名单" = ["91A"]
                list watch "又一个" = []
                feature a = entity in wach
                feature b = sum(tax.payment.amount, 3mo) not in watch
                feature c = entity in watch
                industry feature d = division in watch and entity == "x"
                """)
                == """
                rules/test.cwr:2:6: error: duplicate list 'watch' (first declared at rules/test.cwr:1:6)
                list watch "又一个" = []
                     ^
                rules/test.cwr:3:23: error: unknown list 'wach'; did you mean 'watch'?
                feature a = entity in wach
                                      ^
                rules/test.cwr:4:42: error: cannot compare money with a string
                feature b = sum(tax.payment.amount, 3mo) not in watch
                                                         ^
                rules/test.cwr:6:44: error: 'entity' is only available in enterprise rules, features, scorecards and tags
                industry feature d = division in watch and entity == "x"
                                                           ^

                """)
    }

    @Test func tags() {
        #expect(
            Fixtures.diagnostics(
                """
                feature paid = sum(tax.payment.amount, 12mo)
                tag a "A" when tagged b and paid > 0
                tag b "B" when tagged c
                tag c "C" when tagged a
                tag d "D" when tagged nope or tagged aa
                tag a "again" when paid > 0
                feature f = tagged a
                tag e "E" when score > 700 explain "{grade}"
                """)
                == """
                rules/test.cwr:4:16: error: cyclic tag definition: a -> b -> c -> a
                tag c "C" when tagged a
                               ^
                rules/test.cwr:5:23: error: unknown tag 'nope'
                tag d "D" when tagged nope or tagged aa
                                      ^
                rules/test.cwr:5:38: error: unknown tag 'aa'; did you mean 'a'?
                tag d "D" when tagged nope or tagged aa
                                                     ^
                rules/test.cwr:6:5: error: duplicate tag 'a' (first declared at rules/test.cwr:2:5)
                tag a "again" when paid > 0
                    ^
                rules/test.cwr:7:13: error: a feature cannot read a tag; use 'tagged a' in a rule, a scorecard or a tag
                feature f = tagged a
                            ^
                rules/test.cwr:8:16: error: 'score' needs a scorecard in the rule set
                tag e "E" when score > 700 explain "{grade}"
                               ^
                rules/test.cwr:8:37: error: 'grade' needs a scorecard in the rule set
                tag e "E" when score > 700 explain "{grade}"
                                                    ^

                """)
    }

    static let card = """
        scorecard s {
          base 600
          range 0..1000
          dimension d "维度" {
            cap 100
            item i "标签" points +10 when tagged top
          }
          override o "封顶" cap grade B when tagged top
          grades { A >= 700, B }
        }
        """

    @Test func scoreReadingTagsAreOnlyForTags() {
        #expect(
            Fixtures.diagnostics(
                Self.card + """

                    tag top "优" when grade == "A"
                    tag top2 "优2" when tagged top and score >= 700
                    rule r {
                      title "t"; category tax; severity low
                      when tagged top2 or score > 1
                      explain "{score}"
                    }
                    """)
                == """
                rules/test.cwr:6:33: error: tag 'top' reads the score or grade, which are computed after rules and scorecards; only other tags can use it
                    item i "标签" points +10 when tagged top
                                                ^
                rules/test.cwr:8:36: error: tag 'top' reads the score or grade, which are computed after rules and scorecards; only other tags can use it
                  override o "封顶" cap grade B when tagged top
                                                   ^
                rules/test.cwr:15:8: error: tag 'top2' reads the score or grade, which are computed after rules and scorecards; only other tags can use it
                  when tagged top2 or score > 1
                       ^
                rules/test.cwr:15:23: error: 'score' is only available in tags, which are evaluated after scoring
                  when tagged top2 or score > 1
                                      ^
                rules/test.cwr:16:12: error: 'score' is only available in tags, which are evaluated after scoring
                  explain "{score}"
                           ^

                """)
    }

    @Test func leaders() {
        #expect(
            Fixtures.diagnostics(
                """
                feature paid = sum(tax.payment.amount, 12mo)
                feature status = latest(tax.taxpayer.taxpayer_status)
                industry leaders top 0 by paid
                industry leaders top 5 by status
                industry rule r {
                  title "t"; category industry; severity low
                  when leaders_alerted >= 1
                  explain "{leaders}"
                }
                """)
                == """
                rules/test.cwr:3:22: error: the number of leaders must be between 1 and 1000, found 0
                industry leaders top 0 by paid
                                     ^
                rules/test.cwr:4:1: error: duplicate 'industry leaders' declaration (first declared at rules/test.cwr:3:1)
                industry leaders top 5 by status
                ^

                """)
        #expect(
            Fixtures.diagnostics(
                """
                feature status = latest(tax.taxpayer.taxpayer_status)
                industry feature total = industry_sum(tax.payment.amount, 3mo)
                industry leaders top 5 by stats
                """)
                == """
                rules/test.cwr:3:27: error: unknown feature 'stats'; did you mean 'status'?
                industry leaders top 5 by stats
                                          ^

                """)
        #expect(
            Fixtures.diagnostics("feature status = latest(tax.taxpayer.taxpayer_status)\nindustry leaders top 5 by status")
                == """
                rules/test.cwr:2:27: error: leaders are ranked by a number; 'status' is a string
                industry leaders top 5 by status
                                          ^

                """)
        #expect(
            Fixtures.diagnostics(
                """
                industry rule r {
                  title "t"; category industry; severity low
                  when leaders_alerted >= 1
                  explain "{leaders_alerted_share:%}"
                }
                """)
                == """
                rules/test.cwr:3:8: error: 'leaders_alerted' needs a declaration 'industry leaders top N by FEATURE'
                  when leaders_alerted >= 1
                       ^
                rules/test.cwr:4:12: error: 'leaders_alerted_share' needs a declaration 'industry leaders top N by FEATURE'
                  explain "{leaders_alerted_share:%}"
                           ^

                """)
    }
}
