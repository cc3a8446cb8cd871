import Testing

@testable import RuleLanguage

/// Contagion in the language (issue 11): person rules, relation paths and declarations, relation
/// aggregates over related entities, `alerted`, `{feature:who}` and their diagnostics.
@Suite struct RelationTests {
    static let source = """
        relation sister = legal_representative.represents | shareholder.invests_in

        feature dishonest_active_count = count(court.dishonest where removed_date is null or removed_date > as_of)
        feature equity_frozen_count = count(court.equity_freeze where unfrozen_date is null or unfrozen_date > as_of)
        feature dishonest_max_amount = max(court.dishonest.amount)
        feature legal_rep_dishonest = any(legal_representative, dishonest_active_count >= 1)
        feature frozen_major_holders = count(shareholder where share_ratio >= 30%, equity_frozen_count >= 1)
        feature sisters_critical = count(sister, alerted(critical))
        feature sisters = count(sister)
        feature reps_big_debt = count(legal_representative, dishonest_max_amount > 100000)
        feature sister_debt_max = max(sister, dishonest_max_amount)
        feature sister_debt_min = min(sister, dishonest_max_amount)
        feature sister_debt_sum = sum(sister, dishonest_max_amount)
        feature sister_debt_avg = avg(sister, dishonest_max_amount)

        person rule person_dishonest {
          title    "个人失信"
          category judicial
          severity high
          when     dishonest_active_count >= 1
          explain  "本人有 {dishonest_active_count} 条未移除的失信记录"
        }

        rule enterprise_dishonest {
          title    "企业失信"
          category judicial
          severity critical
          when     dishonest_active_count >= 1
          explain  "企业有 {dishonest_active_count} 条未移除的失信记录"
        }

        rule legal_rep_dishonest {
          title    "法定代表人失信"
          category judicial
          severity high
          when     legal_rep_dishonest
          explain  "法定代表人 {legal_rep_dishonest:who} 被列为失信被执行人"
        }

        rule frozen_major_holders (min_holders = 1) {
          title    "大股东股权被冻结"
          category judicial
          severity medium
          when     frozen_major_holders >= min_holders
          explain  "持股30%以上的股东 {frozen_major_holders:who} 股权被冻结"
        }

        rule sisters_collapse (min_sisters = 2) {
          title    "关联企业集中出险"
          category judicial
          severity high
          when     count(sister, alerted(critical)) >= min_sisters
          explain  "{sisters_critical} 家关联企业有严重预警：{sisters_critical:who}"
        }
        """

    static let asOf = "2026-11-30"
    static let enterprise = "91430600MA4L0XXXX0"
    static let rep = "430602198001011234"

    static func program(_ text: String = source) throws -> RuleProgram { try Fixtures.compile(text) }

    static func dishonest(_ key: String, removed: String? = nil, amount: Double = 50_000) -> FactRecord {
        Fixtures.record(
            "court.dishonest", key, "2026-03-01",
            ["case_no": .s(key), "amount": .n(amount), "removed_date": removed.map(Value.d) ?? .null])
    }

    static func freeze(_ key: String, unfrozen: String? = nil) -> FactRecord {
        Fixtures.record("court.equity_freeze", key, "2026-05-01", ["freeze_no": .s(key), "unfrozen_date": unfrozen.map(Value.d) ?? .null])
    }

    /// An entity reached by a path: `via` are the edge records' keys, the first being the edge's.
    static func related(
        _ id: String, _ kind: SubjectKind, name: String?, edge: FactRecord, via: [String] = [], records: [FactRecord] = []
    ) -> RelatedEntity {
        RelatedEntity(
            edge: edge, via: via.isEmpty ? [edge.reference] : via, name: name,
            data: EntityData(entity: id, kind: kind, asOf: Fixtures.day(asOf), records: Dictionary(grouping: records, by: \.topic)))
    }

    static func holding(_ key: String, ratio: Double?) -> FactRecord {
        Fixtures.record("market.shareholder", key, "2025-01-01", ["id": .s(key), "share_ratio": ratio.map(Value.n) ?? .null])
    }

    static let registration = Fixtures.record("market.enterprise", enterprise, "2024-01-01", ["uscc": .s(enterprise)])

    static func enterpriseData(_ related: [String: [RelatedEntity]], records: [FactRecord] = []) -> EntityData {
        EntityData(
            entity: enterprise, kind: .enterprise, asOf: Fixtures.day(asOf), records: Dictionary(grouping: records, by: \.topic),
            related: related)
    }

    /// Sister enterprises: A is reached by both paths, B and C by one each; A and C are dishonest.
    static var sisters: [String: [RelatedEntity]] {
        let a = "91430100AAAAAAAAA1"
        let b = "91430100BBBBBBBBB2"
        let c = "91430100CCCCCCCCC3"
        let viaRep = { (key: String) in ["market.enterprise/\(enterprise)", "market.enterprise/\(key)"] }
        return [
            "legal_representative.represents": [
                related(
                    a, .enterprise, name: "甲公司", edge: Fixtures.record("market.enterprise", a, "2024-01-01"), via: viaRep(a),
                    records: [dishonest("DA1", amount: 300_000)]),
                related(b, .enterprise, name: "乙公司", edge: Fixtures.record("market.enterprise", b, "2024-01-01"), via: viaRep(b)),
            ],
            "shareholder.invests_in": [
                related(
                    a, .enterprise, name: "甲公司", edge: holding("SH-A", ratio: 0.1), via: ["market.shareholder/SH-X", "market.shareholder/SH-A"],
                    records: [dishonest("DA1", amount: 300_000)]),
                related(
                    c, .enterprise, name: nil, edge: holding("SH-C", ratio: 0.2), via: ["market.shareholder/SH-X", "market.shareholder/SH-C"],
                    records: [dishonest("DC1", amount: 100_000), dishonest("DC2", removed: "2026-01-01", amount: 20_000)]),
            ],
        ]
    }

    // MARK: - What the engine needs

    @Test func programTellsTheEngineWhatToFill() throws {
        let p = try Self.program()
        #expect(
            p.relationPaths == [
                ["legal_representative"], ["legal_representative", "represents"], ["shareholder"], ["shareholder", "invests_in"],
            ])
        #expect(p.relationPaths.map(RuleProgram.pathText) == [
            "legal_representative", "legal_representative.represents", "shareholder", "shareholder.invests_in",
        ])
        #expect(p.hasPersonRules)
        #expect(try !Self.program("feature x = count(court.dishonest)").hasPersonRules)
        #expect(try Self.program("feature x = count(court.dishonest)").relationPaths == [])
        #expect(p.rules.map(\.name) == ["enterprise_dishonest", "legal_rep_dishonest", "frozen_major_holders", "sisters_collapse", "person_dishonest"])
        #expect(p.rules.map(\.kind) == [.enterprise, .enterprise, .enterprise, .enterprise, .person])
        #expect(p.rules.map(\.readsRelations) == [false, true, true, true, false])
        #expect(p.edgeFields == ["market.shareholder": ["share_ratio"]])
        // The edges' topics are not the entity's own records.
        #expect(p.topicsUsed == ["court.dishonest", "court.equity_freeze"])
    }

    @Test func relationDeclarationsAreVersionedWithTheirReaders() throws {
        let p = try Self.program()
        let edited = try Self.program(Self.source.replacingOccurrences(of: "| shareholder.invests_in", with: ""))
        func versions(_ p: RuleProgram) -> [String: String] { Dictionary(uniqueKeysWithValues: p.rules.map { ($0.name, $0.version) }) }
        let before = versions(p)
        let after = versions(edited)
        #expect(before["sisters_collapse"] != after["sisters_collapse"])
        for unchanged in ["enterprise_dishonest", "legal_rep_dishonest", "frozen_major_holders", "person_dishonest"] {
            #expect(before[unchanged] == after[unchanged])
        }
        #expect(edited.relationPaths == [["legal_representative"], ["legal_representative", "represents"], ["shareholder"]])
    }

    // MARK: - Evaluation

    @Test func legalRepresentativeListedAsDishonest() throws {
        let p = try Self.program()
        let person = Self.related(
            Self.rep, .person, name: "张三", edge: Self.registration, records: [Self.dishonest("DN1"), Self.dishonest("DN0", removed: "2025-01-01")])
        let e = p.evaluate(Self.enterpriseData(["legal_representative": [person]]))
        #expect(e.features["legal_rep_dishonest"] == .bool(true))
        // The enterprise's own count, not the representative's.
        #expect(e.features["dishonest_active_count"] == .n(0))
        let firing = try #require(e.firings.first { $0.rule == "legal_rep_dishonest" })
        #expect(firing.explanation == "法定代表人 张*（430***********1234） 被列为失信被执行人")
        #expect(firing.sources == ["court.dishonest/DN1", "market.enterprise/91430600MA4L0XXXX0"])
        #expect(firing.values == [NamedValue("legal_rep_dishonest", .bool(true))])
        #expect(e.firings.map(\.rule) == ["legal_rep_dishonest"])

        // A representative without active listings: no; none at all: no.
        let cleared = Self.related(Self.rep, .person, name: "张三", edge: Self.registration, records: [Self.dishonest("DN0", removed: "2025-01-01")])
        #expect(p.evaluate(Self.enterpriseData(["legal_representative": [cleared]])).features["legal_rep_dishonest"] == .bool(false))
        #expect(p.evaluate(Self.enterpriseData([:])).features["legal_rep_dishonest"] == .bool(false))
        #expect(p.evaluate(Self.enterpriseData([:])).firings == [])
    }

    @Test func personRulesFireForPersonsAndEnterpriseRulesForEnterprises() throws {
        let p = try Self.program()
        let records = [Self.dishonest("DN1")]
        let person = EntityData(
            entity: Self.rep, kind: .person, asOf: Fixtures.day(Self.asOf), records: Dictionary(grouping: records, by: \.topic))
        let e = p.evaluate(person)
        #expect(e.firings.map(\.rule) == ["person_dishonest"])
        #expect(e.firings.first?.explanation == "本人有 1 条未移除的失信记录")
        #expect(e.firings.first?.sources == ["court.dishonest/DN1"])
        #expect(e.features["dishonest_active_count"] == .n(1))
        #expect(e.tags == [])
        let enterprise = p.evaluate(Self.enterpriseData([:], records: records))
        #expect(enterprise.firings.map(\.rule) == ["enterprise_dishonest"])
    }

    @Test func majorShareholdersWithFrozenEquity() throws {
        let p = try Self.program()
        let holders = [
            // 50 %, frozen: counts.
            Self.related(
                "91440300MA5XXXXX01", .enterprise, name: "深圳甲公司", edge: Self.holding("SH1", ratio: 0.5), records: [Self.freeze("F1")]),
            // 29.99 %, frozen: below the threshold.
            Self.related("430602199002023456", .person, name: "李四", edge: Self.holding("SH2", ratio: 0.2999), records: [Self.freeze("F2")]),
            // 35 %, the freeze lifted.
            Self.related(
                "430602199103035678", .person, name: "王五", edge: Self.holding("SH3", ratio: 0.35),
                records: [Self.freeze("F3", unfrozen: "2026-01-01")]),
            // 40 %, frozen, a person: counts, masked.
            Self.related("430602199204047890", .person, name: "赵六六", edge: Self.holding("SH4", ratio: 0.4), records: [Self.freeze("F4")]),
            // Unknown share: the edge filter is not true.
            Self.related("91440300MA5XXXXX05", .enterprise, name: "戊公司", edge: Self.holding("SH5", ratio: nil), records: [Self.freeze("F5")]),
        ]
        let e = p.evaluate(Self.enterpriseData(["shareholder": holders]))
        #expect(e.features["frozen_major_holders"] == .n(2))
        let firing = try #require(e.firings.first { $0.rule == "frozen_major_holders" })
        #expect(firing.explanation == "持股30%以上的股东 赵*（430***********7890）、深圳甲公司（91440300MA5XXXXX01） 股权被冻结")
        #expect(
            firing.sources == ["court.equity_freeze/F1", "court.equity_freeze/F4", "market.shareholder/SH1", "market.shareholder/SH4"])
        #expect(firing.values == [NamedValue("frozen_major_holders", .n(2)), NamedValue("min_holders", .n(1))])
    }

    @Test func sistersReachedByBothPathsCountOnce() throws {
        let p = try Self.program()
        let e = p.evaluate(Self.enterpriseData(Self.sisters))
        #expect(e.features["sisters"] == .n(3))
        #expect(e.features["sisters_critical"] == .n(2))
        let firing = try #require(e.firings.first { $0.rule == "sisters_collapse" })
        // C has no name: only its USCC.
        #expect(firing.explanation == "2 家关联企业有严重预警：甲公司（91430100AAAAAAAAA1）、91430100CCCCCCCCC3")
        #expect(
            firing.sources == [
                "court.dishonest/DA1", "court.dishonest/DC1",
                "market.enterprise/91430100AAAAAAAAA1", "market.enterprise/91430600MA4L0XXXX0",
                "market.shareholder/SH-A", "market.shareholder/SH-C", "market.shareholder/SH-X",
            ])
        #expect(firing.values == [NamedValue("min_sisters", .n(2))])
        #expect(e.features["sister_debt_max"] == .n(300_000))
        #expect(e.features["sister_debt_min"] == .n(100_000))
        // B has no listing (unknown); C's largest is 100000, its removed listing included.
        #expect(e.features["sister_debt_sum"] == .n(400_000))
        #expect(e.features["sister_debt_avg"] == .n(200_000))
    }

    @Test func unknownsStayUnknown() throws {
        let p = try Self.program()
        let known = Self.related(Self.rep, .person, name: "张三", edge: Self.registration, records: [Self.dishonest("DN1", amount: 50_000)])
        let unknown = Self.related("430602198502025555", .person, name: "钱七", edge: Self.registration)  // no records: max is unknown
        let big = Self.related("430602198603036666", .person, name: "孙八", edge: Self.registration, records: [Self.dishonest("DN2", amount: 200_000)])
        func features(_ reps: [RelatedEntity]) -> [String: Value] {
            p.evaluate(Self.enterpriseData(["legal_representative": reps])).features
        }
        // count counts the yes: an unknown is not counted.
        #expect(features([known, unknown])["reps_big_debt"] == .n(0))
        #expect(features([known, unknown, big])["reps_big_debt"] == .n(1))
        let anyProgram = try Self.program(
            """
            feature dishonest_max_amount = max(court.dishonest.amount)
            feature rep_big_debt = any(legal_representative, dishonest_max_amount > 100000)
            feature rep_debt_max = max(legal_representative, dishonest_max_amount)
            feature rep_debt_sum = sum(legal_representative, dishonest_max_amount)
            feature rep_debt_avg = avg(legal_representative, dishonest_max_amount)
            """)
        func anyFeatures(_ reps: [RelatedEntity]) -> [String: Value] {
            anyProgram.evaluate(Self.enterpriseData(["legal_representative": reps])).features
        }
        #expect(anyFeatures([known])["rep_big_debt"] == .bool(false))
        #expect(anyFeatures([known, unknown])["rep_big_debt"] == .null)
        #expect(anyFeatures([known, unknown, big])["rep_big_debt"] == .bool(true))
        #expect(anyFeatures([])["rep_big_debt"] == .bool(false))
        #expect(anyFeatures([unknown])["rep_debt_max"] == .null)
        #expect(anyFeatures([unknown])["rep_debt_sum"] == .n(0))
        #expect(anyFeatures([unknown])["rep_debt_avg"] == .null)
        #expect(anyFeatures([known, unknown])["rep_debt_avg"] == .n(50_000))
    }

    @Test func alertedReadsOnlyBaseRulesBySeverityOrCategory() throws {
        let p = try Self.program(
            """
            feature dishonest_active_count = count(court.dishonest where removed_date is null or removed_date > as_of)
            feature rep_dishonest = any(legal_representative, dishonest_active_count >= 1)
            feature reps_high = count(legal_representative, alerted(high))
            feature reps_critical = count(legal_representative, alerted(critical))
            feature reps_judicial = count(legal_representative, alerted(judicial))
            feature reps_tax = count(legal_representative, alerted(tax))
            person rule person_dishonest {
              title "个人失信"  category judicial  severity high
              when dishonest_active_count >= 1  explain "失信"
            }
            // Reads relations: not a base rule, so never what alerted() sees.
            person rule person_critical {
              title "关联" category judicial severity critical
              when count(represents) >= 0 explain "关联"
            }
            """)
        let rep = Self.related(Self.rep, .person, name: "张三", edge: Self.registration, records: [Self.dishonest("DN1")])
        let f = p.evaluate(Self.enterpriseData(["legal_representative": [rep]])).features
        #expect(f["reps_high"] == .n(1))
        #expect(f["reps_critical"] == .n(0))
        #expect(f["reps_judicial"] == .n(1))
        #expect(f["reps_tax"] == .n(0))
    }

    @Test func relatedEntitiesAreEvaluatedOncePerEvaluation() throws {
        let p = try Self.program()
        let data = Self.enterpriseData(Self.sisters)
        let run = EvaluationRun(data, program: p)
        _ = p.evaluate(data, run: run)
        // A (reached twice), B and C.
        #expect(run.relatedRuns.runs.keys.map { "\($0.kind.rawValue):\($0.id)" }.sorted() == [
            "enterprise:91430100AAAAAAAAA1", "enterprise:91430100BBBBBBBBB2", "enterprise:91430100CCCCCCCCC3",
        ])
    }

    @Test func aRelationNamedLikeATopicsPrefixLeavesTheTopicAlone() throws {
        let p = try Self.program(
            """
            relation court = legal_representative
            feature listings = count(court.dishonest)
            feature reps = count(court)
            """)
        #expect(p.relationPaths == [["legal_representative"]])
        #expect(p.topicsUsed == ["court.dishonest"])
    }

    @Test func scorecardsRateEnterprisesOnly() throws {
        let p = try Self.program(
            """
            scorecard card {
              base 600
              range 0..1000
              dimension d "维度" { cap 100; item i "x" points +10 when 1 > 0 }
              grades { A >= 500, B }
            }
            """)
        let person = EntityData(entity: Self.rep, kind: .person, asOf: Fixtures.day(Self.asOf), records: [:])
        #expect(p.score(person) == nil)
        #expect(p.evaluateAndScore(person).score == nil)
        #expect(p.score(Self.enterpriseData([:]))?.score == 610)
    }

    @Test func ratiosAndSharesArePlainNumbers() throws {
        #expect(NumberUnit.of(field: "share_ratio", type: .decimal) == .scalar)
        #expect(NumberUnit.of(field: "alerted_share", type: .decimal) == .scalar)
        #expect(NumberUnit.of(field: "paid_in_capital", type: .decimal) == .money)
        #expect(try Self.program("feature r = max(market.shareholder.share_ratio) >= 30%").relationPaths == [])
    }

    /// Every prefix of the relation source, and the source with a character dropped or a `|`, `(`
    /// or `.` inserted at many points, compiles to a result (no trap), with positions in the file.
    @Test func brokenRelationSourcesNeverTrap() {
        let chars = Array(Self.source)
        var failures = 0
        for cut in stride(from: 0, to: chars.count, by: 7) {
            let head = String(chars[..<cut])
            let tail = String(chars[cut...])
            let variants: [String] = [head, head + String(tail.dropFirst()), head + "|" + tail, head + "(" + tail, head + "." + tail]
            for text in variants {
                let file = SourceFile(path: "rules/test.cwr", text: text)
                guard case .failure(let d) = RuleCompiler.compile([file], schema: Fixtures.schema) else { continue }
                failures += 1
                #expect(d.items.count <= 51)
                #expect(d.items.allSatisfy { $0.line == 0 || $0.column >= 1 })
            }
        }
        #expect(failures > 500)
    }

    // MARK: - Diagnostics

    @Test func unknownStepsTooLongPathsAndStepsThatDoNotFit() {
        #expect(
            Fixtures.diagnostics(
                """
                feature a = any(legal_represntative, alerted(high))
                feature b = count(shareholder.foo)
                feature c = count(shareholder.invests_in.shareholder.invests_in)
                feature d = count(legal_representative.legal_representative)
                relation e = represents.represents
                """)
                == """
                rules/test.cwr:1:17: error: unknown relation step 'legal_represntative'; did you mean 'legal_representative'?
                feature a = any(legal_represntative, alerted(high))
                                ^
                rules/test.cwr:2:31: error: unknown relation step 'foo'; expected one of invests_in, legal_representative, represents, shareholder
                feature b = count(shareholder.foo)
                                              ^
                rules/test.cwr:3:54: error: relation path 'shareholder.invests_in.shareholder.invests_in' is too long (4 steps, the limit is 3)
                feature c = count(shareholder.invests_in.shareholder.invests_in)
                                                                     ^
                rules/test.cwr:4:40: error: relation step 'legal_representative' starts at an enterprise, but 'legal_representative' arrives at a person
                feature d = count(legal_representative.legal_representative)
                                                       ^
                rules/test.cwr:5:25: error: relation step 'represents' starts at a person, but 'represents' arrives at an enterprise
                relation e = represents.represents
                                        ^

                """)
    }

    @Test func declarationsNestingAlertedAndWhere() {
        #expect(
            Fixtures.diagnostics(
                """
                relation sister = legal_representative.represents
                relation sister = shareholder.invests_in
                relation shareholder = shareholder.invests_in
                relation kin = legal_representative.represents | shareholder.invests_in
                feature rep_dishonest = any(legal_representative, count(court.dishonest) >= 1)
                feature nested = any(shareholder, rep_dishonest)
                feature nested2 = count(shareholder, count(sister) > 1)
                feature w = count(shareholder where share_pct >= 30%)
                feature w2 = count(kin where share_ratio >= 30%)
                feature al = count(sister, alerted(hgh))
                feature al2 = count(sister, alerted(industry))
                feature al3 = alerted(high)
                """)
                == """
                rules/test.cwr:2:10: error: duplicate relation 'sister' (first declared at rules/test.cwr:1:10)
                relation sister = shareholder.invests_in
                         ^
                rules/test.cwr:3:10: error: relation 'shareholder' is named like a step of the catalog's relations; choose another name
                relation shareholder = shareholder.invests_in
                         ^
                rules/test.cwr:6:35: error: feature 'rep_dishonest' reads relations; relation features do not nest
                feature nested = any(shareholder, rep_dishonest)
                                                  ^
                rules/test.cwr:7:38: error: 'count(sister, …)' reads relations of a related entity; relation aggregates do not nest
                feature nested2 = count(shareholder, count(sister) > 1)
                                                     ^
                rules/test.cwr:8:37: error: unknown field 'share_pct' in topic 'market.shareholder'
                feature w = count(shareholder where share_pct >= 30%)
                                                    ^
                rules/test.cwr:9:42: error: 'where' on 'kin' would read edges of several topics (market.enterprise, market.shareholder); filter a relation whose paths end in one topic
                feature w2 = count(kin where share_ratio >= 30%)
                                                         ^
                rules/test.cwr:10:36: error: unknown severity or category 'hgh'; did you mean 'high'?
                feature al = count(sister, alerted(hgh))
                                                   ^
                rules/test.cwr:11:37: error: unknown severity or category 'industry'; expected one of info, low, medium, high, critical, tax, utility, social_insurance, judicial, regulatory, lending, related
                feature al2 = count(sister, alerted(industry))
                                                    ^
                rules/test.cwr:12:15: error: 'alerted' is only available for a related entity, as in any(legal_representative, alerted(high))
                feature al3 = alerted(high)
                              ^

                """)
    }

    @Test func functionsOverRelationsAndRecords() {
        #expect(
            Fixtures.diagnostics(
                """
                feature t = any(court.dishonest, true)
                feature t2 = count(court.dishonest, true)
                feature t3 = last(sister, 3mo)
                feature t4 = max(legal_representative)
                feature t5 = count(legal_representative, 3mo)
                industry feature i = count(legal_representative)
                industry rule ir {
                  title "x" category industry severity low
                  when any(legal_representative, alerted(high)) explain "x"
                }
                relation sister = legal_representative.represents
                """)
                == """
                rules/test.cwr:1:13: error: 'any' takes a relation, as in any(legal_representative, COND); for records use exists(court.dishonest where …)
                feature t = any(court.dishonest, true)
                            ^
                rules/test.cwr:2:37: error: 'count' over records takes no expression after them; only relation aggregates do
                feature t2 = count(court.dishonest, true)
                                                    ^
                rules/test.cwr:3:14: error: 'last' does not apply to relations; use any, count, max, min, sum or avg over 'sister'
                feature t3 = last(sister, 3mo)
                             ^
                rules/test.cwr:4:14: error: 'max' needs an expression for each related entity, as in max(legal_representative, a_feature)
                feature t4 = max(legal_representative)
                             ^
                rules/test.cwr:5:42: error: relation aggregates take no window; related entities are read as they are now
                feature t5 = count(legal_representative, 3mo)
                                                         ^
                rules/test.cwr:6:22: error: relation aggregates are not available in industry rules and industry features
                industry feature i = count(legal_representative)
                                     ^
                rules/test.cwr:9:8: error: relation aggregates are not available in industry rules and industry features
                  when any(legal_representative, alerted(high)) explain "x"
                       ^

                """)
    }

    @Test func whoAndWhatPersonRulesMayNotRead() {
        #expect(
            Fixtures.diagnostics(
                """
                feature n = count(court.dishonest)
                feature r = any(legal_representative, n >= 1)
                tag big "大" when n > 1
                rule e1 {
                  title "x" category judicial severity low
                  when count(represents) >= 1 explain "{n:who} {r:who} {nope:who}"
                }
                person rule p1 {
                  title "x" category industry severity low
                  when tagged big or population > 1 or score > 1 or count(legal_representative) > 1
                  score -10 in dimension judicial
                  explain "{score}"
                }
                person rule p2 {
                  title "x" category regulatry severity low
                  when count(represents) > 1 explain "x"
                }
                """)
                == """
                rules/test.cwr:6:14: error: relation step 'represents' starts at a person, not at the enterprise evaluated here
                  when count(represents) >= 1 explain "{n:who} {r:who} {nope:who}"
                             ^
                rules/test.cwr:6:40: error: '{n:who}' lists related entities, but feature 'n' is not a relation aggregate such as any(legal_representative, …)
                  when count(represents) >= 1 explain "{n:who} {r:who} {nope:who}"
                                                       ^
                rules/test.cwr:6:56: error: unknown feature 'nope' in '{nope:who}'
                  when count(represents) >= 1 explain "{n:who} {r:who} {nope:who}"
                                                                       ^
                rules/test.cwr:9:22: error: a person rule cannot have category 'industry'; use one of tax, utility, social_insurance, judicial, regulatory, lending, related
                  title "x" category industry severity low
                                     ^
                rules/test.cwr:10:8: error: person rules cannot read tags; tags are for enterprises
                  when tagged big or population > 1 or score > 1 or count(legal_representative) > 1
                       ^
                rules/test.cwr:10:22: error: 'population' is only available in industry rules and industry features
                  when tagged big or population > 1 or score > 1 or count(legal_representative) > 1
                                     ^
                rules/test.cwr:10:40: error: 'score' is only available in tags, which are evaluated after scoring
                  when tagged big or population > 1 or score > 1 or count(legal_representative) > 1
                                                       ^
                rules/test.cwr:10:59: error: relation step 'legal_representative' starts at an enterprise, not at the person evaluated here
                  when tagged big or population > 1 or score > 1 or count(legal_representative) > 1
                                                                          ^
                rules/test.cwr:11:3: error: person rules do not score; scorecards rate enterprises
                  score -10 in dimension judicial
                  ^
                rules/test.cwr:12:12: error: 'score' is only available in tags, which are evaluated after scoring
                  explain "{score}"
                           ^
                rules/test.cwr:15:22: error: unknown category 'regulatry'; did you mean 'regulatory'?
                  title "x" category regulatry severity low
                                     ^

                """)
    }
}
