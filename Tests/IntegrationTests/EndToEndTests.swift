import Access
import CreditWatchCore
import Foundation
import HTTPAPI
import Hummingbird
import HummingbirdTesting
import Logging
import PostgresStore
import Prometheus
import RuleLanguage
import Simulator
import Testing

@testable import creditwatch

/// The engine end to end on the real stack: scripted department feeds → Kafka → Redis windows →
/// rules → alerts in PostgreSQL → the HTTP API. One serialized suite: the tests share Redis.
@Suite(.serialized, .enabled(if: Stack.isAvailable, "needs the servers of ops/servers.sh"))
struct EngineIntegrationTests {
    // A handful of enterprises with valid USCCs.
    static let e1 = Script.uscc("91430602MA4L00011")  // manufacturer: taxes and water collapse
    static let e2 = Script.uscc("91430602MA4L00022")  // wholesaler: listed as a dishonest debtor
    static let e3 = Script.uscc("91430602MA4L00033")  // software: water records lose their USCC, arrears by account
    static let e4 = Script.uscc("91430602MA4L00044")  // construction: arrears linked by name only
    static let e5 = Script.uscc("91430602MA4L00055")  // healthy food producer

    static let registrations: [SimulatedMessage] = [
        Script.registration(e1, name: "湘中精密机械有限公司", industry: "C3311"),
        Script.registration(e2, name: "邵阳恒通贸易有限公司", industry: "F5191"),
        Script.registration(e3, name: "邵阳云帆软件有限公司", industry: "I6510"),
        Script.registration(e4, name: "邵阳市(测试)建工有限公司", industry: "E4710"),
        Script.registration(e5, name: "邵阳绿源食品有限公司", industry: "C1311"),
    ]

    /// One month of the regular feeds; the manufacturer's taxes and water collapse from April 2026.
    static func month(_ m: Month) -> [SimulatedMessage] {
        let collapsed = m >= Month(year: 2026, month: 4)
        return [
            Script.taxPayment(e1, m, amount: collapsed ? 40_000 : 150_000),
            Script.taxPayment(e2, m, amount: 50_000),
            Script.taxPayment(e3, m, amount: 80_000),
            Script.taxPayment(e4, m, amount: 60_000),
            Script.taxPayment(e5, m, amount: 100_000),
            Script.waterUsage(e1, account: "W-0001", customer: "湘中精密机械有限公司", m, volume: collapsed ? 100 : 1000),
            // From 2026 the water company stops sending E3's USCC: linked by its account number.
            Script.waterUsage(m < Month(year: 2026, month: 1) ? e3 : nil, account: "W-0003", customer: "邵阳云帆软件", m, volume: 300),
            Script.waterUsage(e5, account: "W-0005", customer: "邵阳绿源食品有限公司", m, volume: 500),
        ]
    }

    /// July 2026 closes June (monthly windows cover complete months) and brings the events.
    static let july = Month(year: 2026, month: 7)
    static let events: [SimulatedMessage] = [
        Script.dishonest(e2, name: "邵阳恒通贸易有限公司", caseNo: "(2026)湘05执1234号", listed: Day(year: 2026, month: 7, day: 3)!, amount: 800_000),
        Script.waterArrears(nil, account: "W-0003", customer: "邵阳云帆软件", months: 4, asOf: Day(year: 2026, month: 7, day: 20)!),
        Script.waterArrears(nil, account: "W-9999", customer: "邵阳市（测试）建工有限责任公司", months: 3, asOf: Day(year: 2026, month: 7, day: 20)!),
    ]

    /// Sends the scripted history month by month (each month processed before the next starts).
    static func sendHistory(_ engine: inout Engine) async throws {
        try await engine.send(registrations)
        for m in Script.months { try await engine.send(month(m)) }
        try await engine.send(month(july) + events)
    }

    static let expectedAlerts: Set<String> = [
        // The water collapse's third month (June) is a billing period: complete when it arrives.
        "\(e1) tax_drop_yoy 2026-07", "\(e1) water_usage_collapse 2026-06", "\(e2) dishonest_debtor 2026-07",
        "\(e3) water_arrears 2026-07", "\(e4) water_arrears 2026-07",
    ]

    static func keys(_ alerts: [Alert]) -> Set<String> { Set(alerts.map { "\($0.subjectID) \($0.rule) \($0.window)" }) }

    @Test func scriptedHistoryProducesExactlyTheExpectedAlertsThroughTheAPI() async throws {
        var engine = try await Engine.start("e2e")
        try await Self.sendHistory(&engine)
        let alerts = try await engine.alerts()
        #expect(Self.keys(alerts) == Self.expectedAlerts)
        #expect(alerts.count == 5)

        let drop = try #require(alerts.first { $0.rule == "tax_drop_yoy" })
        #expect(drop.explanation == "近3个月纳税 120000 元，去年同期 450000 元，同比下降 73.33%（阈值 50%）")
        #expect(drop.severity == "high")
        #expect(drop.category == "tax")
        #expect(drop.division == "C33")
        #expect(drop.district == "430602")
        #expect(drop.asOf == "2026-07-15")
        #expect(drop.sources.count == 6)  // the 3 months of this year and the 3 of last year
        let arrears = alerts.filter { $0.rule == "water_arrears" }.sorted { $0.subjectID < $1.subjectID }
        #expect(arrears.map(\.explanation) == [
            "水费已欠费 4 个月，欠费金额 16000 元", "水费已欠费 3 个月，欠费金额 12000 元",
        ])

        // The same alerts through the API, with the enterprise's profile and features.
        let app = engine.api()
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/alerts?limit=2", method: .get) { response in
                #expect(response.status == .ok)
                let page = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as! [String: Any]
                #expect((page["items"] as! [[String: Any]]).count == 2)
                #expect(page["has_more"] as? Bool == true)
            }
            try await client.execute(uri: "/v1/alerts?severity=critical", method: .get) { response in
                let items = (try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as! [String: Any])["items"] as! [[String: Any]]
                #expect(items.map { $0["rule"] as? String } == ["dishonest_debtor"])
                #expect(items.first?["subject_id"] as? String == Self.e2)
            }
            try await client.execute(uri: "/v1/enterprises/\(Self.e1)", method: .get) { response in
                #expect(response.status == .ok)
                let body = String(buffer: response.body)
                #expect(body.contains("\"tax_paid_3mo\""))
                #expect(body.contains("湘中精密机械有限公司"))
            }
        }
        let profile = try #require(try await engine.store.enterprise(Self.e1))
        #expect(Set(profile.alerts.map(\.rule)) == ["tax_drop_yoy", "water_usage_collapse"])
        let features = try await EngineFeatures(processor: engine.daemon.processor).features(of: Self.e1)
        #expect(features.first { $0.name == "tax_paid_3mo" }?.value == .number(120_000))
        #expect(features.first { $0.name == "tax_paid_3mo_ly" }?.value == .number(450_000))
        try await engine.stop()
    }
}
