import Testing

@testable import RuleLanguage

/// `peer_rank(FEATURE [, district])` (issue 11): where an enterprise stands among its peers — the
/// ranked measures a program lists, the values of its first phase, the rank from the counts the
/// engine gives, and the diagnostics.
@Suite struct PeerRankTests {
    static let source = """
        feature tax_paid_3mo           = sum(tax.payment.amount, 3mo)
        feature tax_paid_3mo_ly        = sum(tax.payment.amount, 3mo, offset 12mo)
        feature tax_drop_ratio_yoy     = 1 - tax_paid_3mo / tax_paid_3mo_ly
        feature tax_drop_rank          = peer_rank(tax_drop_ratio_yoy)
        feature tax_drop_rank_district = peer_rank(tax_drop_ratio_yoy, district)

        rule tax_drop_industry_worst (worst = 95%, min_drop = 30%) {
          title    "纳税同比降幅居行业最差5%"
          category tax
          severity medium
          when     tax_drop_rank >= worst and tax_drop_ratio_yoy >= min_drop
          cooldown 30d
          explain  "降幅 {tax_drop_ratio_yoy:%}，行业排名 {tax_drop_rank:%}，区县排名 {tax_drop_rank_district:%}"
        }
        """

    static let byDivision = RankedMeasure(measure: PeerMeasure(key: "tax_drop_ratio_yoy", kind: .value), group: .division)
    static let byDistrict = RankedMeasure(measure: PeerMeasure(key: "tax_drop_ratio_yoy", kind: .value), group: .district)

    /// An enterprise whose tax over the 3 months to November fell from 100 000 to `now` yuan.
    static func enterprise(paidNow now: Double, ranks: [RankedMeasure: PeerRank] = [:]) -> EntityData {
        var data = Fixtures.entity(
            "2026-11-30",
            [
                Fixtures.record("tax.payment", "P1", "2025-11-10", ["id": .s("P1"), "amount": .n(100_000)]),
                Fixtures.record("tax.payment", "P2", "2026-11-10", ["id": .s("P2"), "amount": .n(now)]),
            ])
        data.ranks = ranks
        return data
    }

    @Test func programListsTheRankedMeasures() throws {
        let p = try Fixtures.compile(Self.source)
        #expect(p.rankedMeasures == [Self.byDivision, Self.byDistrict])
        // The ranked feature is a value measure too: divisions record every enterprise's value.
        #expect(p.peerMeasures == [PeerMeasure(key: "tax_drop_ratio_yoy", kind: .value)])
        #expect(try Fixtures.compile("feature x = 1").rankedMeasures == [])
    }

    @Test func firstPhaseValuesReadNoRanks() throws {
        let p = try Fixtures.compile(Self.source)
        #expect(p.rankedValues(Self.enterprise(paidNow: 40_000)) == ["tax_drop_ratio_yoy": 0.6])
        // Unknown (no tax a year earlier): absent.
        #expect(p.rankedValues(Fixtures.entity("2026-11-30", [])) == [:])
        let person = EntityData(entity: "430602198001011234", kind: .person, asOf: Fixtures.day("2026-11-30"), records: [:])
        #expect(p.rankedValues(person) == [:])
    }

    @Test func percentRankWithTiesAtTheirMidRank() {
        // The worst of 20 distinct values, the next, and a tie for the worst.
        #expect(PeerRank(20, among: (1...19).map(Double.init)).fraction == 0.975)
        #expect(PeerRank(19, among: (1...18).map(Double.init) + [20]).fraction == 0.925)
        #expect(PeerRank(19, among: (1...18).map(Double.init) + [19]).fraction == 0.95)
        #expect(PeerRank(5, among: [5, 5, 5]).fraction == 0.5)
        #expect(PeerRank(1, among: [2, 3, 4]).fraction == 0.125)
        // Fewer than 10 in the group never reach 95 %.
        #expect(PeerRank(9, among: (1...8).map(Double.init)).fraction == 8.5 / 9)
        // No peers, or counts that do not add up: unknown.
        #expect(PeerRank(1, among: []).fraction == nil)
        #expect(PeerRank(below: 3, equal: 2, peers: 4).fraction == nil)
        #expect(PeerRank(below: -1, equal: 0, peers: 4).fraction == nil)
    }

    @Test func rulesReadTheRankTheEngineGives() throws {
        let p = try Fixtures.compile(Self.source)
        let worst = PeerRank(0.6, among: (1...19).map { Double($0) / 100 })
        let evaluation = p.evaluate(Self.enterprise(paidNow: 40_000, ranks: [Self.byDivision: worst]))
        #expect(evaluation.features["tax_drop_rank"] == .n(0.975))
        #expect(evaluation.features["tax_drop_rank_district"] == .null)
        let firing = try #require(evaluation.firings.first)
        #expect(firing.rule == "tax_drop_industry_worst")
        #expect(firing.explanation == "降幅 60%，行业排名 97.5%，区县排名 未知")
        #expect(
            firing.values == [
                NamedValue("tax_drop_rank", .n(0.975)), NamedValue("worst", .n(0.95)), NamedValue("tax_drop_ratio_yoy", .n(0.6)),
                NamedValue("min_drop", .n(0.3)),
            ])

        // The same counts, but the enterprise's own value is unknown: no rank.
        let unknown = p.evaluate(Fixtures.entity("2026-11-30", [], id: "91430600MA4L0XXXX0"))
        #expect(unknown.features["tax_drop_rank"] == .null)
        #expect(unknown.firings == [])

        // One peer fell further: 92.5 %, quiet.
        let second = PeerRank(0.6, among: (1...18).map { Double($0) / 100 } + [0.7])
        #expect(p.evaluate(Self.enterprise(paidNow: 40_000, ranks: [Self.byDivision: second])).firings == [])
    }

    @Test func aRuleReadingPeerRankDirectlyNamesIt() throws {
        let p = try Fixtures.compile(
            """
            feature tax_paid_3mo = sum(tax.payment.amount, 3mo)
            rule low_payer (share = 10%) {
              title "t"
              category tax
              severity low
              when peer_rank(tax_paid_3mo, district) <= share
              explain "x"
            }
            """)
        let key = RankedMeasure(measure: PeerMeasure(key: "tax_paid_3mo", kind: .value), group: .district)
        #expect(p.rankedMeasures == [key])
        let firing = try #require(p.evaluate(Self.enterprise(paidNow: 10, ranks: [key: PeerRank(10, among: [20, 30, 40, 50, 60])])).firings.first)
        #expect(firing.values == [NamedValue("peer_rank(tax_paid_3mo, district)", .n(1.0 / 12)), NamedValue("share", .n(0.1))])
    }

    @Test func diagnostics() {
        #expect(
            Fixtures.diagnostics(
                """
                feature tax_paid_3mo = sum(tax.payment.amount, 3mo)
                feature status = latest(tax.taxpayer.taxpayer_status)
                feature reps = count(legal_representative)
                feature r = peer_rank(tax_paid_3mo)
                feature a = peer_rank(tax_paid_3mo, distrct)
                feature b = peer_rank(tax_paid_3mo * 2)
                feature c = peer_rank(status)
                feature d = peer_rank(reps)
                feature e = peer_rank(r)
                feature f = count(tax.payment, 3mo, where amount > peer_rank(tax_paid_3mo))
                industry feature g = peer_rank(tax_paid_3mo)
                person rule p {
                  title "t"
                  category judicial
                  severity low
                  when peer_rank(tax_paid_3mo) > 0.5
                  explain "x"
                }
                """) == """
                rules/test.cwr:5:37: error: unknown group 'distrct' to rank in; did you mean 'district'?
                feature a = peer_rank(tax_paid_3mo, distrct)
                                                    ^
                rules/test.cwr:6:23: error: 'peer_rank' needs the name of an enterprise feature, as in peer_rank(tax_drop_ratio_yoy)
                feature b = peer_rank(tax_paid_3mo * 2)
                                      ^
                rules/test.cwr:7:23: error: 'peer_rank' needs an enterprise feature that is a number; 'status' is a string
                feature c = peer_rank(status)
                                      ^
                rules/test.cwr:8:23: error: 'peer_rank' ranks a feature of the enterprise's own records; 'reps' reads related entities
                feature d = peer_rank(reps)
                                      ^
                rules/test.cwr:9:23: error: 'r' reads peer_rank; peer ranks do not nest
                feature e = peer_rank(r)
                                      ^
                rules/test.cwr:10:52: error: 'peer_rank' cannot be used inside 'where'
                feature f = count(tax.payment, 3mo, where amount > peer_rank(tax_paid_3mo))
                                                                   ^
                rules/test.cwr:11:22: error: 'peer_rank' places an enterprise among its peers; only enterprise rules and features can use it (industry rules have percentile)
                industry feature g = peer_rank(tax_paid_3mo)
                                     ^
                rules/test.cwr:16:8: error: 'peer_rank' places an enterprise among its peers; person rules cannot use it
                  when peer_rank(tax_paid_3mo) > 0.5
                       ^

                """)
    }

    @Test func relatedEntitiesAreNotRanked() {
        #expect(
            Fixtures.diagnostics(
                """
                feature tax_paid_3mo = sum(tax.payment.amount, 3mo)
                feature rank = peer_rank(tax_paid_3mo)
                relation sister = legal_representative.represents
                feature s = max(sister, rank)
                feature t = max(sister, peer_rank(tax_paid_3mo))
                """) == """
                rules/test.cwr:4:25: error: feature 'rank' reads peer_rank; related entities are not ranked
                feature s = max(sister, rank)
                                        ^
                rules/test.cwr:5:25: error: 'peer_rank' cannot be used for a related entity: related entities are not ranked
                feature t = max(sister, peer_rank(tax_paid_3mo))
                                        ^

                """)
    }
}
