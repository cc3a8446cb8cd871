import Access
import CreditWatchCore
import Foundation
import HTTPAPI
import Hummingbird
import HummingbirdTesting
import Logging
import Prometheus
import PostgresStore
import RuleLanguage
import Simulator
import Testing

@testable import creditwatch

/// Relations end to end (issue 11) on the real stack with the shipped catalog and rules: the
/// shareholder and equity-freeze feeds (declared by catalog files alone) flow from Kafka into the
/// relation graph; a person's listing raises the contagion alert on every enterprise they
/// represent and its removal withdraws them; sister enterprises' distress reaches their sisters;
/// a cycle of holdings terminates. In the serialized engine suite: the tests share Redis.
extension EngineIntegrationTests {
    /// The related enterprises and persons of `contagionIsRaisedWithdrawnAndExplainedThroughTheRelationGraph`.
    enum Related {
        static let a = Script.uscc("91430602MA4L0RL01")  // represented by P, listed later
        static let b = Script.uscc("91430602MA4L0RL02")  // represented by P too
        static let c = Script.uscc("91430602MA4L0RL03")  // P holds 35 % of it
        static let d = Script.uscc("91430602MA4L0RL04")  // Q holds 29 % of it; holds A, which holds it (a cycle)
        static let e = Script.uscc("91430602MA4L0RL05")  // represented by R, like F and G
        static let f = Script.uscc("91430602MA4L0RL06")
        static let g = Script.uscc("91430602MA4L0RL07")
        static let p = "430602198001011230"
        static let q = "430602198505051236"
        static let r = "430602199007071239"
        static let day = Day(year: 2026, month: 3, day: 2)!

        static let city: [SimulatedMessage] = [
            Script.registration(a, name: "邵阳关联一号有限公司", industry: "C3311", legalRep: "李建国", legalRepID: p),
            Script.registration(b, name: "邵阳关联二号有限公司", industry: "F5191", legalRep: "李建国", legalRepID: p),
            Script.registration(c, name: "邵阳关联三号有限公司", industry: "C3311", legalRep: "赵敏", legalRepID: q),
            Script.registration(d, name: "邵阳关联四号有限公司", industry: "C3311", legalRep: "赵敏", legalRepID: q),
            Script.registration(e, name: "邵阳关联五号有限公司", industry: "E4710", legalRep: "王秀英", legalRepID: r),
            Script.registration(f, name: "邵阳关联六号有限公司", industry: "E4710", legalRep: "王秀英", legalRepID: r),
            Script.registration(g, name: "邵阳关联七号有限公司", industry: "E4710", legalRep: "王秀英", legalRepID: r),
            Script.shareholder("GD-1", of: c, holder: p, name: "李建国", ratio: 0.35, day: Day(year: 2025, month: 6, day: 1)!),
            Script.shareholder("GD-2", of: d, holder: q, name: "赵敏", ratio: 0.29, day: Day(year: 2025, month: 6, day: 1)!),
            Script.shareholder("GD-3", of: d, holder: a, name: "邵阳关联一号有限公司", ratio: 0.4, day: Day(year: 2025, month: 6, day: 1)!),
            Script.shareholder("GD-4", of: a, holder: d, name: "邵阳关联四号有限公司", ratio: 0.4, day: Day(year: 2025, month: 6, day: 1)!),
        ]

        static func keys(_ alerts: [Alert]) -> [String] {
            alerts.map { "\($0.subjectID) \($0.rule) \($0.status)" }.sorted()
        }
    }

    @Test func contagionIsRaisedWithdrawnAndExplainedThroughTheRelationGraph() async throws {
        var engine = try await Engine.start("relations")
        try await engine.send(Related.city)
        #expect(try await engine.alerts().isEmpty)

        // P is listed as a dishonest debtor: both enterprises P represents are alerted; C (which P
        // holds 35 % of) is not, as P's equity is not frozen.
        try await engine.send([Script.personDishonest(Related.p, name: "李建国", caseNo: "(2026)湘05执11号", listed: Related.day)])
        let keys1 = Related.keys(try await engine.alerts())
        #expect(keys1 == [
            "\(Related.a) legal_rep_dishonest active", "\(Related.b) legal_rep_dishonest active",
        ])
        let alert = try #require(try await engine.alerts().first { $0.subjectID == Related.a })
        #expect(alert.explanation == "法定代表人 李*（430***********1230） 被列为失信被执行人（未移出）")
        #expect(alert.sources == ["court.dishonest/(2026)湘05执11号", "market.enterprise/\(Related.a)"])

        // Equity frozen: P's (35 % of C) raises C's alert; Q's (29 % of D) does not (the case file tries 29.99 %: the simulator's writer keeps cents).
        try await engine.send([
            Script.equityFreeze("DJ-1", holder: Related.p, name: "李建国", in: Related.c, frozen: Related.day + 5),
            Script.equityFreeze("DJ-2", holder: Related.q, name: "赵敏", in: Related.d, frozen: Related.day + 5),
        ])
        let keys2 = Related.keys(try await engine.alerts())
        #expect(keys2 == [
            "\(Related.a) legal_rep_dishonest active", "\(Related.b) legal_rep_dishonest active", "\(Related.c) shareholder_equity_frozen active",
        ])

        // Two of R's three enterprises become dishonest debtors (critical): the third's sisters are
        // in distress; each listed one has one critical sister, not two.
        try await engine.send([
            Script.dishonest(Related.f, name: "邵阳关联六号有限公司", caseNo: "(2026)湘05执21号", listed: Related.day + 10, amount: 500_000),
            Script.dishonest(Related.g, name: "邵阳关联七号有限公司", caseNo: "(2026)湘05执22号", listed: Related.day + 12, amount: 700_000),
        ])
        let distress = try await engine.alerts().filter { $0.rule == "sister_distress" }
        #expect(distress.map(\.subjectID) == [Related.e])
        #expect(distress.first?.explanation == "2 家关联企业中 2 家有严重风险预警：邵阳关联六号有限公司（\(Related.f)）、邵阳关联七号有限公司（\(Related.g)）")

        // Through the API: A's profile shows its relation graph, and a one-click query of P assesses
        // P by the person rules (evaluated now).
        let app = engine.api()
        try await app.test(.router) { client in
            let profile = try await client.execute(uri: "/v1/enterprises/\(Related.a)", method: .get)
            #expect(profile.status == .ok)
            let body = try JSONSerialization.jsonObject(with: Data(String(buffer: profile.body).utf8)) as? [String: Any]
            let graph = body?["relations"] as? [String: Any]
            let nodes = (graph?["nodes"] as? [[String: Any]] ?? []).map { "\($0["kind"]!) \($0["depth"]!)" }
            // A; P and D (its shareholder, which it holds too); B (P's other enterprise), C (P holds it)
            // and Q (D's representative and holder).
            #expect(nodes.sorted() == ["enterprise 0", "enterprise 1", "enterprise 2", "enterprise 2", "person 1", "person 2"])
            let query = #"{"subject":"\#(Related.p)","purpose":"行政监管","authorisation":{"reference":"SQ-1","scope":"行政监管","valid_from":"2026-01-01","valid_until":"2099-12-31"}}"#
            let answer = try await client.execute(uri: "/v1/queries", method: .post, body: ByteBuffer(string: query))
            #expect(answer.status == .ok)
            let person = (try JSONSerialization.jsonObject(with: Data(String(buffer: answer.body).utf8)) as? [String: Any])?["person"] as? [String: Any]
            let assessment = person?["assessment"] as? [[String: Any]] ?? []
            #expect(assessment.map { "\($0["rule"]!): \($0["explanation"]!)" } == [
                "person_dishonest: 被列为失信被执行人 1 起（未移出），最早列入日期 2026-03-02"
            ])
        }

        // The listing is lifted: the alerts it raised are withdrawn, nothing else moves.
        try await engine.send([
            Script.personDishonest(Related.p, name: "李建国", caseNo: "(2026)湘05执11号", listed: Related.day, removed: Related.day + 30)
        ])
        let keys3 = Related.keys(try await engine.alerts())
        #expect(keys3 == [
            "\(Related.a) legal_rep_dishonest withdrawn", "\(Related.b) legal_rep_dishonest withdrawn", "\(Related.c) shareholder_equity_frozen active",
            "\(Related.e) sister_distress active", "\(Related.f) dishonest_debtor active", "\(Related.g) dishonest_debtor active",
        ])

        // G's legal representative changes from R to Q: E has one sister left (F), so its
        // distress is withdrawn — E is woken by the edge G no longer has.
        try await engine.send([
            Script.registration(
                Related.g, name: "邵阳关联七号有限公司", industry: "E4710", established: Related.day + 40, legalRep: "赵敏", legalRepID: Related.q)
        ])
        #expect(
            try await engine.alerts().filter { $0.rule == "sister_distress" }.map { "\($0.subjectID) \($0.status)" } == ["\(Related.e) withdrawn"])

        // The relation graph as stored: A and D hold each other (the cycle ended every walk).
        let edges = try await engine.store.relationEdges(
            touching: [EntityKey(.enterprise, Related.a)], relations: ["legal_representative", "shareholder"])
        #expect(edges.map { "\($0.subject.id) \($0.relation) \($0.target.id)" }.sorted() == [
            "\(Related.a) legal_representative \(Related.p)", "\(Related.a) shareholder \(Related.d)", "\(Related.d) shareholder \(Related.a)",
        ])
        try await engine.stop()
    }

    /// Peers: a division where 6 of its 10 enterprises are 3+ months behind on water raises the
    /// industry alert naming those 6; a division with 1 of 10 does not.
    @Test func aUtilityArrearsWaveRaisesTheIndustryAlertWithItsMembers() async throws {
        func enterprises(_ prefix: String, industry: String) -> [String] {
            (0..<10).map { Script.uscc("91430602MA4L\(prefix)\(String(format: "%03d", $0))") }
        }
        let wave = enterprises("PW", industry: "C1311")
        let calm = enterprises("PC", industry: "C1411")
        let month = Month(year: 2026, month: 3)
        var messages: [SimulatedMessage] = []
        for (list, industry) in [(wave, "C1311"), (calm, "C1411")] {
            for (i, uscc) in list.enumerated() {
                messages.append(Script.registration(uscc, name: "邵阳同业\(industry)第\(i)有限公司", industry: industry))
                messages.append(Script.taxPayment(uscc, month, amount: 50_000))
            }
        }
        let arrears = Day(year: 2026, month: 3, day: 20)!
        for uscc in wave.prefix(6) + calm.prefix(1) {
            messages.append(Script.waterArrears(uscc, account: "W-\(uscc.suffix(6))", customer: "同业", months: 4, asOf: arrears))
        }
        var engine = try await Engine.start("peers")
        try await engine.send(messages)
        let industryAlerts = try await engine.alerts().filter { $0.subjectKind == "industry" }
        #expect(industryAlerts.map { "\($0.subjectID) \($0.rule)" } == ["industry:C13 utility_arrears_wave"])
        let alert = try #require(industryAlerts.first)
        #expect(alert.sources == wave.prefix(6).sorted().map { "market.enterprise/\($0)" })
        #expect(alert.explanation == "行业 C13 的 10 家企业中 6 家水费欠费 3 个月以上，占比 60%（阈值 50%）：" + wave.prefix(6).sorted().joined(separator: "、"))
        try await engine.stop()
    }

    /// Peer ranks: in a division of 20 enterprises, the one whose tax fell most (60 %) is in the worst
    /// 5 % (97.5 %, 90 % among the 5 of its district) and is alerted; the next (36 %) is not. When
    /// another one's tax falls further (a deleted payment: 0 → 90 %), that one is alerted and the
    /// first, whose standing it passed, is ranked again and withdrawn, in the same batch.
    @Test func theWorstTaxDropOfItsIndustryIsAlertedAndRankedAgainWhenPassed() async throws {
        let division = (0..<20).map { Script.uscc("91430602MA4L0PR\(String(format: "%02d", $0))") }
        let lastYear = Month(year: 2025, month: 2)
        let thisYear = Month(year: 2026, month: 2)
        var messages: [SimulatedMessage] = []
        for (i, uscc) in division.enumerated() {
            messages.append(Script.registration(uscc, name: "邵阳同业排名第\(i)有限公司", industry: "C2611", district: i >= 15 ? "430603" : "430602"))
            messages.append(Script.taxPayment(uscc, lastYear, amount: 100_000))
            let drop = i == 19 ? 0.6 : Double(i) * 0.02
            if i == 0 {
                // Two payments of its own, 10 000 and 90 000: no drop until the second is deleted.
                messages.append(Script.taxPayment(uscc, Month(year: 2026, month: 1), amount: 10_000))
            }
            messages.append(Script.taxPayment(uscc, thisYear, amount: i == 0 ? 90_000 : 100_000 * (1 - drop)))
            // A payment in April completes March: the 3 months to March are compared.
            messages.append(Script.taxPayment(uscc, Month(year: 2026, month: 4), amount: 1))
        }
        var engine = try await Engine.start("ranks")
        try await engine.send(messages)
        func worst() async throws -> [Alert] { try await engine.alerts().filter { $0.rule == "tax_drop_industry_worst" } }
        #expect(try await worst().map { "\($0.subjectID) \($0.status)" } == ["\(division[19]) active"])
        let alert = try #require(try await worst().first)
        #expect(alert.explanation == "近3个月纳税同比下降 60%，在本行业同业中的降幅排名为 97.5%（阈值 95%），本区县同业中为 90%")

        let february = Script.taxRow(division[0], thisYear, amount: 90_000)
        try await engine.send([
            Script.message("tax.payment", key: ["id": february["id"]!], op: "d", before: february, after: nil, ts: Script.ms(thisYear.lastDay) + 86_400_000)
        ])
        #expect(
            Set(try await worst().map { "\($0.subjectID) \($0.status)" }) == ["\(division[19]) withdrawn", "\(division[0]) active"])
        let passed = try #require(try await worst().first { $0.subjectID == division[0] })
        #expect(passed.explanation == "近3个月纳税同比下降 90%，在本行业同业中的降幅排名为 97.5%（阈值 95%），本区县同业中为 96.67%")
        try await engine.stop()
    }
}
