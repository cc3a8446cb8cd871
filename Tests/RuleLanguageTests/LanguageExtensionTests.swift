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

@Suite struct LanguageExtensionEvaluationTests {
    typealias F = Fixtures

    /// Windows of an absence rule end at the feed's `windowEnd`; other rules keep the entity's.
    @Test func absenceWindowsEndAtTheFeed() throws {
        let program = try F.compile(
            """
            feature paid_3mo = sum(tax.payment.amount, 3mo)
            feature rows_3mo = count(tax.payment, 3mo)
            rule silent (limit = 0) {
              title "停缴"; category tax; severity high; absence tax.payment
              when paid_3mo <= limit
              explain "近3个月纳税 {paid_3mo} 元"
            }
            rule paying {
              title "在缴"; category tax; severity info
              when paid_3mo > 0
              explain "近3个月纳税 {paid_3mo} 元"
            }
            """)
        #expect(program.rules.map(\.absenceTopics) == [["tax.payment"], []])
        let records = [F.record("tax.payment", "p1", "2024-02-10", ["amount": .n(500)])]
        // The entity's own window ends in April (Feb–Apr: 500 paid); the feed has delivered through
        // July (May–Jul: nothing paid).
        let data = EntityData(
            entity: "91X", asOf: F.day("2024-07-20"), records: ["tax.payment": records],
            windowEnds: ["tax.payment": F.day("2024-04-30")],
            feeds: ["tax.payment": FeedState(windowEnd: F.day("2024-07-31"), fresh: true)])
        let e = program.evaluate(data)
        #expect(e.firings.map { "\($0.rule): \($0.explanation)" } == ["silent: 近3个月纳税 0 元", "paying: 近3个月纳税 500 元"])
        #expect(e.firings[0].values == [NamedValue("paid_3mo", .n(0)), NamedValue("limit", .n(0))])
        #expect(e.firings[0].sources == [])
        #expect(e.firings[1].sources == ["tax.payment/p1"])
        #expect(e.features["paid_3mo"] == .n(500))
        #expect(e.suspended == [])

        let stale = EntityData(
            entity: "91X", asOf: F.day("2024-07-20"), records: ["tax.payment": records],
            windowEnds: ["tax.payment": F.day("2024-04-30")],
            feeds: ["tax.payment": FeedState(windowEnd: F.day("2024-07-31"), fresh: false)])
        let s = program.evaluate(stale)
        #expect(s.firings.map(\.rule) == ["paying"])
        #expect(s.suspended == ["silent"])
    }

    @Test func absenceOfSeveralFeedsNeedsAllFresh() throws {
        let program = try F.compile(
            """
            feature rows = count(tax.payment, 1mo) + count(hrss.insurance, 1mo)
            rule both {
              title "t"; category tax; severity low; absence tax.payment, hrss.insurance
              when rows == 0
              explain "x"
            }
            """)
        let fresh = FeedState(windowEnd: F.day("2024-05-31"), fresh: true)
        func run(_ feeds: [String: FeedState]) -> String {
            let e = program.evaluate(EntityData(entity: "91X", asOf: F.day("2024-05-15"), records: [:], feeds: feeds))
            return "fired \(e.firings.map(\.rule)) suspended \(e.suspended)"
        }
        #expect(run(["tax.payment": fresh, "hrss.insurance": fresh]) == "fired [\"both\"] suspended []")
        #expect(run(["tax.payment": fresh]) == "fired [] suspended [\"both\"]")
        #expect(
            run(["tax.payment": fresh, "hrss.insurance": FeedState(windowEnd: F.day("2024-05-31"), fresh: false)])
                == "fired [] suspended [\"both\"]")
    }

    @Test func listsAndTheEntity() throws {
        let program = try F.compile(
            """
            list watch "重点关注企业" = ["91WATCH", "91OTHER"]
            list bad_status "异常状态" = ["非正常", "注销"]
            list nobody "空名单" = []
            feature status = latest(tax.taxpayer.taxpayer_status)
            rule watched {
              title "重点关注"; category regulatory; severity info
              when entity in watch and status not in bad_status and entity not in nobody
              explain "状态 {status}"
            }
            """)
        #expect(program.lists == ["watch": ["91WATCH", "91OTHER"], "bad_status": ["非正常", "注销"], "nobody": []])
        let normal = [F.record("tax.taxpayer", "t", "2024-01-01", ["taxpayer_status": .s("正常")])]
        let abnormal = [F.record("tax.taxpayer", "t", "2024-01-01", ["taxpayer_status": .s("非正常")])]
        func fired(_ id: String, _ records: [FactRecord]) -> [String] {
            program.evaluate(F.entity("2024-05-15", records, id: id)).firings.map { "\($0.rule): \($0.explanation)" }
        }
        #expect(fired("91WATCH", normal) == ["watched: 状态 正常"])
        #expect(fired("91WATCH", abnormal) == [])
        #expect(fired("91ELSE", normal) == [])
        // An unknown status is neither in nor out of a list: the rule does not fire.
        #expect(fired("91WATCH", []) == [])
    }

    static let scored = """
        feature paid = sum(tax.payment.amount, 12mo)
        scorecard s {
          base 600
          range 0..1000
          dimension d "纳税" {
            cap 300
            item payer "纳税 {paid} 元" points +150 when tagged payer
          }
          grades { A >= 700, B >= 600, C }
        }
        tag payer "纳税企业" when paid > 0 explain "近12个月纳税 {paid} 元"
        tag top "优等" when grade == "A" and tagged payer explain "{grade} 级，{score} 分"
        tag top_or_low "优等或低分" when tagged top or score < 600
        tag unpaid "未纳税" when not tagged payer
        rule uses_tag {
          title "纳税企业"; category tax; severity info
          when tagged payer
          explain "{paid}"
        }
        """

    @Test func tagsBeforeAndAfterScoring() throws {
        let program = try F.compile(Self.scored)
        #expect(program.tags.map { "\($0.name) \($0.title) \($0.readsScore)" } == [
            "payer 纳税企业 false", "top 优等 true", "top_or_low 优等或低分 true", "unpaid 未纳税 false",
        ])
        let records = [F.record("tax.payment", "p1", "2024-03-10", ["amount": .n(1200)])]
        let data = F.entity("2024-05-15", records)

        let before = program.evaluate(data)
        #expect(before.tags.map { "\($0.tag): \($0.explanation)" } == ["payer: 近12个月纳税 1200 元"])
        #expect(before.firings.map(\.rule) == ["uses_tag"])
        #expect(before.firings[0].values == [NamedValue("payer", .bool(true))])
        #expect(before.firings[0].sources == ["tax.payment/p1"])

        let (after, score) = program.evaluateAndScore(data)
        #expect(score?.score == 750)
        #expect(score?.grade == "A")
        #expect(
            after.tags.map { "\($0.tag): \($0.explanation)" } == [
                "payer: 近12个月纳税 1200 元", "top: A 级，750 分", "top_or_low: 优等或低分",
            ])
        let top = after.tags[1]
        #expect(top.tagVersion == program.tags[1].version)
        #expect(top.title == "优等")
        #expect(top.values == [NamedValue("grade", .s("A")), NamedValue("payer", .bool(true))])
        #expect(top.sources == ["tax.payment/p1"])
        #expect(after.firings == before.firings)

        // Without tax: no payer, grade B (600), so neither top nor top_or_low; unpaid holds.
        let (none, noneScore) = program.evaluateAndScore(F.entity("2024-05-15", []))
        #expect(noneScore?.grade == "B")
        #expect(none.tags.map(\.tag) == ["unpaid"])
        #expect(none.tags[0].explanation == "未纳税")
        #expect(none.tags[0].values == [NamedValue("payer", .bool(false))])
    }

    @Test func tagVersionsFollowWhatTheyRead() throws {
        let base = try F.compile(Self.scored)
        let otherFeature = try F.compile(Self.scored.replacingOccurrences(of: "12mo)", with: "24mo)"))
        let otherCard = try F.compile(Self.scored.replacingOccurrences(of: "base 600", with: "base 610"))
        let relaidOut = try F.compile(Self.scored.replacingOccurrences(of: "tag unpaid \"未纳税\"", with: "tag  unpaid\n  \"未纳税\""))
        func versions(_ p: RuleProgram) -> [String] { p.tags.map(\.version) }
        #expect(Set(versions(base)).count == 4)
        #expect(zip(versions(base), versions(otherFeature)).allSatisfy { $0 != $1 })
        // The card changes only the tags that read the score.
        #expect(zip(versions(base), versions(otherCard)).map { $0 == $1 } == [true, false, false, true])
        #expect(versions(relaidOut) == versions(base))
        // A rule reading a tag changes with the tag.
        let otherTag = try F.compile(Self.scored.replacingOccurrences(of: "when paid > 0", with: "when paid > 1"))
        #expect(otherTag.rules[0].version != base.rules[0].version)
    }

    @Test func leaderBuiltins() throws {
        let program = try F.compile(
            """
            feature paid = sum(tax.payment.amount, 12mo)
            industry leaders top 3 by paid
            industry feature ratio = leaders_alerted / leaders
            industry rule leaders_watch {
              title "t"; category industry; severity low
              when leaders >= 0
              explain "{leaders} 家龙头，{leaders_alerted} 家预警，占比 {leaders_alerted_share:%}，{ratio}"
            }
            """)
        #expect(program.leaderRanking == LeaderRanking(feature: "paid", top: 3))
        func explain(_ leaders: [IndustryLeader]) -> String {
            let data = IndustryData(
                division: "C30", asOf: F.day("2024-05-15"), population: 10, alerted: 0, monthlySums: [:], leaders: leaders)
            return program.evaluate(data).map(\.explanation).joined()
        }
        let four = [true, false, false, true].enumerated().map { IndustryLeader(uscc: "L\($0)", measure: 10, alerted: $1) }
        // Only the top 3 count, even when the engine passes more.
        #expect(explain(four) == "3 家龙头，1 家预警，占比 33.33%，0.33")
        #expect(explain(Array(four.prefix(1))) == "1 家龙头，1 家预警，占比 100%，1")
        #expect(explain([]) == "0 家龙头，0 家预警，占比 未知，未知")
        let firing = try #require(
            program.evaluate(
                IndustryData(division: "C30", asOf: F.day("2024-05-15"), population: 10, alerted: 0, monthlySums: [:], leaders: four)
            ).first)
        #expect(firing.values == [NamedValue("leaders", .n(3))])
    }
}
