import Access
import CreditWatchCore
import Dashboard
import DataHealth
import Foundation
@testable import HTTPAPI
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import PostgresStore
import Prometheus
import RuleLanguage
import Synchronization
import Testing

/// The dashboard's figures in memory, recording the scope of every call.
final class RecordingStatistics: StatisticsReadModel, DataHealthReading, SeriesCatalog, Sendable {
    let calls = Mutex<[String]>([])

    private func record(_ call: String, _ scope: Scope) {
        calls.withLock { $0.append("\(call) \(scope.kind)\(scope.subjectIDs.map { " " + $0.sorted().joined(separator: ",") } ?? "")") }
    }

    func overview(scope: Scope) async throws -> CityOverview {
        record("overview", scope)
        var overview = CityOverview()
        overview.enterprises = 3
        overview.activeAlerts = AlertCounts(total: 2, bySeverity: ["high": 2], byCategory: ["tax": 1, "utility": 1])
        return overview
    }

    func industry(_ division: String, series: [SeriesField], scope: Scope) async throws -> IndustryFigures? {
        record("industry \(division) \(series.map(\.name).joined(separator: ","))", scope)
        return nil
    }

    func enterpriseSeries(_ uscc: String, series: [SeriesField], scope: Scope) async throws -> MonthlySeries? {
        record("series \(uscc)", scope)
        return MonthlySeries(months: [Month(year: 2026, month: 9), Month(year: 2026, month: 10)], series: series.map { ($0, [1.5, nil]) })
    }

    func current() async throws -> CityDataHealth {
        calls.withLock { $0.append("feeds") }
        let figures = CityFigures(
            feeds: [FeedFigures(topic: "tax.payment", latestDay: Day(year: 2026, month: 10, day: 15), records: 4, byKey: 3, unlinked: 1)],
            enterprises: 2, persons: 0, computedAt: "2026-12-03T08:00:00.000Z")
        let catalog = try TopicCatalog.parse([("tax.payment.yaml", DashboardTests.taxTopic)])
        return DataHealthAssessment.assess(figures, catalog: catalog)
    }

    func enterpriseSeries() async -> [SeriesField] { [SeriesField(topic: "tax.payment", field: "amount")] }
    func industrySeries() async -> [SeriesField] { [SeriesField(topic: "tax.payment", field: "amount")] }
}

@Suite("The dashboard's session and figures, without a database")
struct DashboardTests {
    static let taxTopic = """
        name: tax.payment
        department: 税务局
        description: 缴税
        envelope: debezium
        fields:
          - { name: id, type: string }
          - { name: uscc, type: uscc }
          - { name: amount, type: decimal }
          - { name: paid_date, type: date }
        primary_key: [id]
        event_time: paid_date
        entity: { kind: enterprise, field: uscc }
        cadence: { expected: monthly, max_silence_days: 45 }
        """

    static let site = DashboardSite(
        assets: [
            "index.html": .init(bytes: Array("<!doctype html><title>城市征信预警</title>".utf8), contentType: "text/html; charset=utf-8"),
            "app.js": .init(bytes: Array("'use strict';".utf8), contentType: "text/javascript; charset=utf-8"),
        ],
        problems: ["ECharts not found at /nowhere/echarts.min.js"])

    static let districtAnalyst = TestKeys.key(9, "district")
    static let keys = TestKeys.directory(bankScope: [TestUSCC.b, TestUSCC.c], extra: [
        APIKey(presented: districtAnalyst)!: Principal(
            name: "district office", organisation: Organisation(id: 9, name: "北塔区金融办", kind: .districtOffice), role: .officeAnalyst,
            scope: .district("430511")),
    ])

    func withDashboard(_ statistics: RecordingStatistics = RecordingStatistics(), _ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        var models = RecordingReadModels().readModels
        models.statistics = statistics
        models.dataHealth = statistics
        models.series = statistics
        let app = buildApplication(
            configuration: APIConfiguration(), keys: Self.keys, readModels: models, personalFields: [:], features: FixedFeatures(),
            metrics: PrometheusCollectorRegistry(), logger: Logger(label: "test"), dashboard: Self.site)
        try await app.test(.router) { try await body($0) }
    }

    /// A Set-Cookie's parts (its attributes come in any order).
    static func attributes(_ header: String?) -> Set<String> {
        Set((header ?? "").split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) })
    }

    /// What the page's own script sends.
    static let page: HTTPFields = [.contentType: "application/json", DashboardSession.csrfHeader: "1"]

    static func cookie(_ key: String) -> HTTPFields { [.cookie: "\(DashboardSession.cookie)=\(key)"] }

    @Test func signingInSetsASessionCookieThePageCannotReadAndSigningOutClearsIt() async throws {
        try await withDashboard { client in
            // A cross-site form cannot send the header.
            let forged = try await client.execute(
                uri: "/dashboard/session", method: .post, headers: [.contentType: "text/plain"],
                body: ByteBuffer(string: #"{"key":"\#(TestKeys.office)"}"#))
            #expect(forged.status == .forbidden)
            #expect(forged.headers[.setCookie] == nil)
            let signIn = try await client.execute(
                uri: "/dashboard/session", method: .post, headers: Self.page,
                body: ByteBuffer(string: #"{"key":" \#(TestKeys.office) "}"#))
            #expect(signIn.status == .ok)
            #expect(Self.attributes(signIn.headers[.setCookie]) == ["cw_session=\(TestKeys.office)", "Max-Age=28800", "Path=/", "Secure", "HttpOnly", "SameSite=Strict"])
            #expect(signIn.text.contains(#""role":"office_analyst""#) && signIn.text.contains(#""scope":"city""#))

            let wrong = try await client.execute(
                uri: "/dashboard/session", method: .post, headers: Self.page,
                body: ByteBuffer(string: #"{"key":"cwk_0123456789ab_\#(String(repeating: "Z", count: 32))"}"#))
            #expect(wrong.status == .unauthorized)
            #expect(wrong.headers[.setCookie] == nil)
            #expect(wrong.text == #"{"error":{"code":"unauthorized","message":"unknown, expired or revoked API key"}}"#)
            let malformed = try await client.execute(
                uri: "/dashboard/session", method: .post, headers: Self.page, body: ByteBuffer(string: #"{"secret":1}"#))
            #expect(malformed.status == .badRequest)
            #expect(malformed.text == #"{"error":{"code":"invalid_parameter","message":"the body lacks 'key'","parameter":"key"}}"#)

            let signOut = try await client.execute(uri: "/dashboard/session", method: .delete)
            #expect(signOut.status == .noContent)
            #expect(Self.attributes(signOut.headers[.setCookie]) == ["cw_session=", "Max-Age=0", "Path=/", "Secure", "HttpOnly", "SameSite=Strict"])
        }
    }

    @Test func theCookieAuthenticatesAsItsKeyAndAChangeNeedsTheCSRFHeader() async throws {
        try await withDashboard { client in
            let me = try await client.execute(uri: "/v1/me", method: .get, headers: Self.cookie(TestKeys.bank))
            #expect(me.status == .ok)
            #expect(me.text.contains(#""role":"bank_officer""#) && me.text.contains(#""scope":"subjects""#))
            // The bank's rights, not more: data health is the office's.
            #expect(try await client.execute(uri: "/v1/feeds", method: .get, headers: Self.cookie(TestKeys.bank)).status == .forbidden)
            // And the city's: an office of one district does not see it.
            let district = try await client.execute(uri: "/v1/feeds", method: .get, headers: TestKeys.bearer(Self.districtAnalyst))
            #expect(district.text == #"{"error":{"code":"forbidden","message":"role office_analyst does not have the right 'read_data_health' and a city-wide scope"}}"#)

            // A forged form posts with the cookie but cannot add the header.
            let forged = try await client.execute(uri: "/v1/rules/reload", method: .post, headers: Self.cookie(TestKeys.ops))
            #expect(forged.status == .forbidden)
            #expect(forged.text == #"{"error":{"code":"forbidden","message":"a change made with the dashboard's session needs the header 'X-CreditWatch-CSRF: 1'"}}"#)
            var page = Self.cookie(TestKeys.ops)
            page[DashboardSession.csrfHeader] = "1"
            let reload = try await client.execute(uri: "/v1/rules/reload", method: .post, headers: page)
            #expect(reload.status == .notFound)  // authorised: this server has no rule set to reload

            let revoked = try await client.execute(uri: "/v1/me", method: .get, headers: Self.cookie("cwk_0123456789ab_\(String(repeating: "Z", count: 32))"))
            #expect(revoked.status == .unauthorized)
            // The header wins over the cookie: an API client is never taken for a browser.
            var both = Self.cookie(TestKeys.bank)
            both[.authorization] = "Bearer \(TestKeys.office)"
            #expect(try await client.execute(uri: "/v1/me", method: .get, headers: both).text.contains(#""scope":"city""#))
        }
    }

    @Test func thePagesAreServedWithAStrictContentSecurityPolicy() async throws {
        try await withDashboard { client in
            let page = try await client.execute(uri: "/dashboard", method: .get)
            #expect(page.status == .ok)
            #expect(page.headers[.contentType] == "text/html; charset=utf-8")
            #expect(page.text == "<!doctype html><title>城市征信预警</title>")
            #expect(page.headers[HTTPField.Name("Content-Security-Policy")!]?.hasPrefix("default-src 'self'; script-src 'self';") == true)
            #expect(page.headers[HTTPField.Name("X-Frame-Options")!] == "DENY")
            let script = try await client.execute(uri: "/dashboard/assets/app.js", method: .get)
            #expect(script.headers[.contentType] == "text/javascript; charset=utf-8")
            let missing = try await client.execute(uri: "/dashboard/assets/echarts.min.js", method: .get)
            #expect(missing.status == .notFound)
            #expect(missing.text == #"{"error":{"code":"not_found","message":"no dashboard asset 'echarts.min.js': ECharts not found at /nowhere/echarts.min.js","parameter":"file"}}"#)
        }
    }

    @Test func everyFigureTakesTheCallersScope() async throws {
        let statistics = RecordingStatistics()
        try await withDashboard(statistics) { client in
            for key in [TestKeys.bank, TestKeys.office] {
                for uri in ["/v1/stats/overview", "/v1/industries/C17", "/v1/enterprises/\(TestUSCC.b)/series"] {
                    _ = try await client.execute(uri: uri, method: .get, headers: TestKeys.bearer(key))
                }
            }
            let bad = try await client.execute(uri: "/v1/industries/C99", method: .get, headers: TestKeys.bearer(TestKeys.office))
            #expect(bad.status == .badRequest)
            let none = try await client.execute(uri: "/v1/industries/C17", method: .get, headers: TestKeys.bearer(TestKeys.bank))
            #expect(none.text == #"{"error":{"code":"not_found","message":"no enterprise of division C17 is in your scope","parameter":"division"}}"#)
        }
        let bank = "subjects " + [TestUSCC.b, TestUSCC.c].sorted().joined(separator: ",")
        #expect(statistics.calls.withLock { $0 } == [
            "overview \(bank)", "industry C17 tax.payment.amount \(bank)", "series \(TestUSCC.b) \(bank)",
            "overview city", "industry C17 tax.payment.amount city", "series \(TestUSCC.b) city", "industry C17 tax.payment.amount \(bank)",
        ])
    }

    @Test func figuresHaveOneStableShape() async throws {
        try await withDashboard { client in
            let office = TestKeys.bearer(TestKeys.office)
            let overview = try await client.execute(uri: "/v1/stats/overview", method: .get, headers: office)
            #expect(overview.text == """
                {"active_alerts":{"by_category":[{"category":"tax","count":1},{"category":"utility","count":1}],"by_severity":[{"count":0,"severity":"critical"},{"count":2,"severity":"high"},{"count":0,"severity":"medium"},{"count":0,"severity":"low"},{"count":0,"severity":"info"}],"enterprises":0,"total":2},"alerts_by_month":[],"as_of":null,"by_district":[],"by_division":[],"enterprises":3,"grades":[],"scope":"city","scored":0,"tags":[]}
                """)
            let series = try await client.execute(uri: "/v1/enterprises/\(TestUSCC.b)/series", method: .get, headers: office)
            #expect(series.text == """
                {"months":["2026-09","2026-10"],"series":[{"field":"amount","series":"tax.payment.amount","topic":"tax.payment","values":[1.5,null]}],"uscc":"\(TestUSCC.b)"}
                """)
            let feed = try await client.execute(uri: "/v1/feeds/tax.payment", method: .get, headers: office)
            #expect(feed.text.contains(#""linking":{"account_share":0,"by_account":0,"by_key":3,"by_name":0,"key_coverage":0.75,"name_share":0,"unlinked":1,"unlinked_share":0.25,"unrecorded":0}"#))
            #expect(feed.text.contains(#""fresh":true"#) && feed.text.contains(#""covered_until":"2026-10-31""#))
            let feeds = try await client.execute(uri: "/v1/feeds", method: .get, headers: office)
            #expect(feeds.text.contains(#""summary":{"enterprises":2,"feeds":1,"fresh":1,"fresh_share":1,"key_coverage":0.75,"persons":0,"quarantined":0,"records":4,"unlinked":1}"#))
            let unknown = try await client.execute(uri: "/v1/feeds/water.usage", method: .get, headers: office)
            #expect(unknown.text == #"{"error":{"code":"not_found","message":"no feed 'water.usage' in the topic catalog (feeds: tax.payment)","parameter":"topic"}}"#)
        }
    }
}
