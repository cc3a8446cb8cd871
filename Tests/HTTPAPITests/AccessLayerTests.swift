import Access
import CreditWatchCore
import Foundation
@testable import HTTPAPI
import Hummingbird
import HummingbirdTesting
import Logging
import PostgresNIO
import Prometheus
import Synchronization
import RuleLanguage
import Testing

@testable import AccessStore
import AlertDesk
import AlertDeskStore
import Marketplace
import MarketplaceStore
import WebhookDelivery
import Webhooks
@testable import PostgresStore

/// The access layer end to end on PostgreSQL: keys from the access store, scopes from its data,
/// the audit log, the route table.
@Suite("Access layer against PostgreSQL", .enabled(if: postgresConfigured), .serialized)
struct AccessLayerTests {
    /// One caller per role (plus a district office analyst), keyed by a name.
    struct Callers: Sendable {
        var keys: [String: String] = [:]
        var roles: [String: Role] = [:]
        /// The callers whose organisation sees the whole city.
        var cityWide: Set<String> = []
        func bearer(_ name: String) -> HTTPFields { TestKeys.bearer(keys[name]!) }
    }

    static let person = "430602198001011230"

    static func with(_ headers: HTTPFields, contentType: String) -> HTTPFields {
        var headers = headers
        headers[.contentType] = contentType
        return headers
    }
    static let other = TestUSCC.make("91430503MA4L00009")

    /// A fresh schema with both stores migrated, the organisations and a key per role, a bank whose
    /// portfolio is enterprise b, and the API over them.
    func withAccessAPI(
        _ body: @Sendable (PostgresStore, AccessStore, Callers, any TestClientProtocol) async throws -> Void
    ) async throws {
        try await withAccessAPI { store, access, _, callers, client in try await body(store, access, callers, client) }
    }

    func withAccessAPI(
        _ body: @Sendable (PostgresStore, AccessStore, WebhookStore, Callers, any TestClientProtocol) async throws -> Void
    ) async throws {
        try await Self.withStores { stores, callers, client in
            try await body(stores.store, stores.access, stores.webhooks, callers, client)
        }
    }

    /// The subsystems' stores over one fresh schema, and the API's calendar day (tests move it).
    struct Stores: Sendable {
        let store: PostgresStore
        let access: AccessStore
        let webhooks: WebhookStore
        let market: MarketplaceStore
        let today: TestDay
    }

    /// A day the test sets.
    final class TestDay: Sendable {
        private let value: Mutex<Day>
        init(_ day: Day) { value = Mutex(day) }
        var day: Day { value.withLock { $0 } }
        func set(_ day: Day) { value.withLock { $0 = day } }
    }

    static func withStores(
        today: Day = Day(iso: "2026-06-01")!, _ body: @Sendable (Stores, Callers, any TestClientProtocol) async throws -> Void
    ) async throws {
        var logger = Logger(label: "test")
        logger.logLevel = .error
        let configuration = testStoreConfiguration()
        let catalog = try Self.catalog()
        let store = try PostgresStore(configuration: configuration, catalog: catalog, logger: logger)
        let access = try AccessStore(configuration: configuration, logger: logger)
        let desk = try AlertDeskStore(configuration: configuration, logger: logger)
        let webhooks = try WebhookStore(configuration: configuration, logger: logger)
        let market = try MarketplaceStore(configuration: configuration, logger: logger)
        var api = APIConfiguration()
        api.streamPoll = .milliseconds(50)
        // A stream with nothing in its scope ends soon (the route table's samples).
        api.streamLifetime = .seconds(3)
        api.streamRecheck = .milliseconds(100)
        var readModels = ReadModels.postgres(store, access: access, desk: desk, webhooks: webhooks)
        readModels.market = market
        let clock = TestDay(today)
        readModels.eligibility = try ShippedRulesEligibility(catalog: catalog, today: today)
        readModels.marketSettings = MarketSettings(calendar: try WorkingCalendar(parsing: "2026-06-19 holiday 端午节\n", path: "holidays.txt"), acceptWithinWorkingDays: 5)
        let router = buildRouter(
            configuration: api, keys: access, readModels: readModels,
            personalFields: PersonalFields(catalog), features: FixedFeatures(), metrics: PrometheusCollectorRegistry(),
            today: { clock.day })
        let app = Application(router: router, logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await store.run() }
            group.addTask { await access.run() }
            group.addTask { await desk.run() }
            group.addTask { await webhooks.run() }
            group.addTask { await market.run() }
            defer { group.cancelAll() }
            var failure: (any Error)?
            do {
                try await store.migrate()
                try await access.migrate()
                try await desk.migrate()
                try await webhooks.migrate()
                try await market.migrate()
                let callers = try await Self.seed(store, access)
                let stores = Stores(store: store, access: access, webhooks: webhooks, market: market, today: clock)
                try await app.test(.router) { client in try await body(stores, callers, client) }
            } catch {
                failure = error
            }
            _ = try? await store.client.query("DROP SCHEMA \(unescaped: configuration.schema!) CASCADE", logger: logger)
            if let failure { throw failure }
        }
    }

    /// The shipped catalog (`topics/`).
    static func catalog() throws -> TopicCatalog {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../topics").standardized
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".yaml") }.sorted()
        return try TopicCatalog.parse(files.map { name in
            let path = folder.appendingPathComponent(name).path
            return (path, try String(contentsOfFile: path, encoding: .utf8))
        })
    }

    static func seed(_ store: PostgresStore, _ access: AccessStore) async throws -> Callers {
        try await store.write(
            Seed.effects(
                changes: [
                    Seed.registration(TestUSCC.a, name: "长沙湘江机械有限公司"),
                    Seed.registration(TestUSCC.b, name: "邵阳恒通贸易有限公司", legalRepID: person),
                    Seed.registration(other, name: "邵阳大祥建材有限公司", district: "430503"),
                    Seed.dishonestPerson("(2024)湘05执1号", id: person, name: "欧阳明", listed: "2024-03-01"),
                ],
                alerts: [
                    Seed.alert(rule: "r1", subject: TestUSCC.a, asOf: "2024-05-10"),
                    Seed.alert(rule: "r2", subject: TestUSCC.b, asOf: "2024-05-10"),
                ]))
        let office = try await access.ensureOrganisation(name: "邵阳市金融办", kind: .financialOffice, district: nil, uscc: nil)
        let district = try await access.ensureOrganisation(name: "大祥区金融办", kind: .districtOffice, district: "430503", uscc: nil)
        let bank = try await access.ensureOrganisation(name: "城市商业银行", kind: .bank, district: nil, uscc: nil)
        let enterprise = try await access.ensureOrganisation(name: "长沙湘江机械", kind: .enterprise, district: nil, uscc: TestUSCC.a)
        _ = try await access.updatePortfolio(of: bank.id, with: [(TestUSCC.b, "授信客户")], replacing: true, by: "seed")
        var callers = Callers()
        let people: [(String, Organisation, Role)] = [
            ("office_analyst", office, .officeAnalyst), ("office_admin", office, .officeAdmin), ("rule_author", office, .ruleAuthor),
            ("operator", office, .operator), ("auditor", office, .auditor), ("bank_officer", bank, .bankOfficer),
            ("bank_admin", bank, .bankAdmin), ("enterprise_user", enterprise, .enterpriseUser), ("district_analyst", district, .officeAnalyst),
        ]
        for (name, organisation, role) in people {
            let user = try await access.ensureUser(name, of: organisation, role: role, personalData: false)
            callers.keys[name] = try await access.createKey(for: user, label: "test", expiresAt: nil, by: "seed").0.text
            callers.roles[name] = role
            if organisation.kind == .financialOffice { callers.cityWide.insert(name) }
        }
        let cleared = try await access.ensureUser("cleared_analyst", of: office, role: .officeAnalyst, personalData: true)
        callers.keys["cleared_analyst"] = try await access.createKey(for: cleared, label: "", expiresAt: nil, by: "seed").0.text
        callers.cityWide.insert("cleared_analyst")
        callers.roles["cleared_analyst"] = .officeAnalyst
        return callers
    }

    static let authorisation = #"{"reference":"SQ-2026-0001","scope":"贷后管理","valid_from":"2026-01-01","valid_until":"2026-12-31"}"#

    /// A request that a caller with the right gets through to the handler, per route pattern.
    static let samples: [String: (path: String, body: String?)] = [
        "GET /v1/alerts": ("/v1/alerts", nil),
        "GET /v1/alerts/events": ("/v1/alerts/events", nil),
        "GET /v1/alerts/stream": ("/v1/alerts/stream?max_events=1", nil),
        "GET /v1/enterprises/{uscc}": ("/v1/enterprises/\(TestUSCC.b)", nil),
        "GET /v1/tags/{tag}": ("/v1/tags/leading", nil),
        "GET /v1/quarantine": ("/v1/quarantine", nil),
        "GET /v1/rules": ("/v1/rules", nil),
        "POST /v1/rules/reload": ("/v1/rules/reload", nil),
        "GET /v1/me": ("/v1/me", nil),
        "GET /v1/openapi.json": ("/v1/openapi.json", nil),
        "GET /v1/admin/organisations": ("/v1/admin/organisations", nil),
        "POST /v1/admin/organisations": ("/v1/admin/organisations", #"{"name":"农业银行邵阳分行","kind":"bank"}"#),
        "GET /v1/admin/keys": ("/v1/admin/keys", nil),
        "POST /v1/admin/keys": ("/v1/admin/keys", #"{"user":"新同事","role":"bank_officer"}"#),
        "DELETE /v1/admin/keys/{id}": ("/v1/admin/keys/000000000000", nil),
        "GET /v1/portfolio": ("/v1/portfolio", nil),
        "POST /v1/portfolio": ("/v1/portfolio", "[\"\(TestUSCC.b)\"]"),
        "PUT /v1/portfolio": ("/v1/portfolio", "[\"\(TestUSCC.b)\"]"),
        "DELETE /v1/portfolio/{uscc}": ("/v1/portfolio/\(TestUSCC.c)", nil),
        "GET /v1/audit": ("/v1/audit", nil),
        "GET /v1/persons/{id}/queries": ("/v1/persons/\(person)/queries", nil),
        "GET /v1/enterprises/{uscc}/queries": ("/v1/enterprises/\(TestUSCC.a)/queries", nil),
        "GET /v1/desk/alerts/{id}": ("/v1/desk/alerts/1", nil),
        "POST /v1/desk/alerts/{id}/actions": ("/v1/desk/alerts/1/actions", #"{"action":"comment","text":"看过"}"#),
        "GET /v1/desk/stats": ("/v1/desk/stats", nil),
        "GET /v1/webhooks": ("/v1/webhooks", nil),
        "POST /v1/webhooks": ("/v1/webhooks", #"{"url":"http://127.0.0.1:9/hook"}"#),
        "DELETE /v1/webhooks/{id}": ("/v1/webhooks/999", nil),
        "POST /v1/webhooks/{id}/enable": ("/v1/webhooks/999/enable", nil),
        "GET /v1/webhooks/{id}/deliveries": ("/v1/webhooks/999/deliveries", nil),
        "POST /v1/queries": ("/v1/queries", #"{"subject":"\#(TestUSCC.b)","purpose":"贷后管理","authorisation":\#(authorisation)}"#),
        "GET /v1/market/products": ("/v1/market/products", nil),
        "POST /v1/market/products": ("/v1/market/products", MarketplaceAPITests.product(eligibility: "")),
        "GET /v1/market/products/{id}": ("/v1/market/products/999", nil),
        "POST /v1/market/products/{id}/actions": ("/v1/market/products/999/actions", #"{"action":"publish"}"#),
        "GET /v1/market/needs": ("/v1/market/needs", nil),
        "POST /v1/market/needs": ("/v1/market/needs", MarketplaceAPITests.need),
        "POST /v1/market/needs/{id}/claim": ("/v1/market/needs/999/claim", nil),
        "POST /v1/market/needs/{id}/withdraw": ("/v1/market/needs/999/withdraw", nil),
        "GET /v1/market/applications": ("/v1/market/applications", nil),
        "POST /v1/market/applications": ("/v1/market/applications", MarketplaceAPITests.application(product: 999)),
        "GET /v1/market/applications/{id}": ("/v1/market/applications/999", nil),
        "GET /v1/market/applications/{id}/report": ("/v1/market/applications/999/report", nil),
        "POST /v1/market/applications/{id}/actions": ("/v1/market/applications/999/actions", #"{"action":"accept"}"#),
        "POST /v1/market/loans/{id}/repayments": ("/v1/market/loans/999/repayments", #"{"amount_fen":100}"#),
        "GET /v1/market/matches/products": ("/v1/market/matches/products?uscc=\(TestUSCC.a)", nil),
        "GET /v1/market/matches/needs": ("/v1/market/matches/needs", nil),
        "GET /v1/market/stats": ("/v1/market/stats", nil),
        "GET /v1/market/outcomes": ("/v1/market/outcomes", nil),
        "GET /v1/alerts/{id}": ("/v1/alerts/1", nil),
        "GET /v1/stats/overview": ("/v1/stats/overview", nil),
        "GET /v1/industries/{division}": ("/v1/industries/C30", nil),
        "GET /v1/enterprises/{uscc}/series": ("/v1/enterprises/\(TestUSCC.a)/series", nil),
        "GET /v1/feeds": ("/v1/feeds", nil),
        "GET /v1/feeds/{topic}": ("/v1/feeds/tax.payment", nil),
    ]

    @Test func everyRouteAnswersEveryRoleAsTheRouteTableSays() async throws {
        let router = buildRouter(
            configuration: APIConfiguration(), keys: StaticKeyDirectory([:]), readModels: RecordingReadModels().readModels,
            personalFields: [:], features: FixedFeatures(), metrics: PrometheusCollectorRegistry())
        let routes = Set(router.routes.map(\.description).filter { $0.contains(" /v1/") })
        #expect(Set(AccessRules.table.keys) == routes, "every /v1 route has exactly one access rule")
        #expect(Set(Self.samples.keys) == routes, "every /v1 route has a sample request in this test")
        #expect(Set(OpenAPI.operations.keys) == routes, "every /v1 route is described in /v1/openapi.json")

        try await withAccessAPI { _, access, callers, client in
            let office = try await access.organisation(named: "邵阳市金融办")!
            let (key, _) = try await access.createKey(
                for: try await access.ensureUser("former", of: office, role: .officeAdmin, personalData: false), label: "", expiresAt: nil,
                by: "test")
            let revoked = key.text
            _ = try await access.revokeKey(key.id, by: "test", organisationID: nil)
            for route in routes.sorted() {
                let (path, body) = Self.samples[route]!
                let method = HTTPRequest.Method(rawValue: String(route.split(separator: " ")[0]))!
                for caller in [nil, "revoked"] + callers.roles.keys.sorted() {
                    var headers: HTTPFields = [.contentType: "application/json"]
                    if caller == "revoked" { headers[.authorization] = "Bearer \(revoked)" }
                    if let caller, caller != "revoked" { headers[.authorization] = "Bearer \(callers.keys[caller]!)" }
                    let response = try await client.execute(
                        uri: path, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) })
                    let status = Int(response.status.code)
                    guard let caller, caller != "revoked", let role = callers.roles[caller] else {
                        #expect(status == 401, "\(route) without a valid key")
                        continue
                    }
                    let scope: Scope = callers.cityWide.contains(caller) ? .city : .subjects([])
                    let allowed = AccessRules.table[route]!.admits(role.permissions, scope: scope)
                    if allowed {
                        #expect(![401, 403].contains(status) && status < 500, "\(route) as \(caller): \(status) \(response.text)")
                        if (200..<300).contains(status) {
                            #expect(status == OpenAPI.operations[route]!.status, "\(route): the documented success status")
                        }
                    } else {
                        #expect(status == 403, "\(route) as \(caller)")
                    }
                }
            }
        }
    }

    @Test func aBankNeverSeesAnEnterpriseOutsideItsPortfolio() async throws {
        try await withAccessAPI { _, _, callers, client in
            let bank = callers.bearer("bank_officer")
            for uri in ["/v1/alerts", "/v1/alerts/events", "/v1/tags/leading", "/v1/portfolio"] {
                let response = try await client.execute(uri: uri, method: .get, headers: bank)
                #expect(response.status == .ok, "\(uri)")
                #expect(!response.text.contains(TestUSCC.a), "\(uri) shows an enterprise outside the portfolio")
            }
            let alerts = try await client.execute(uri: "/v1/alerts", method: .get, headers: bank)
            #expect(try FeedPage<FeedAlert>.decode(Data(alerts.body.readableBytesView)).items.map(\.subjectId) == [TestUSCC.b])
            let outside = try await client.execute(uri: "/v1/enterprises/\(TestUSCC.a)", method: .get, headers: bank)
            let unknown = try await client.execute(uri: "/v1/enterprises/\(TestUSCC.c)", method: .get, headers: bank)
            #expect(outside.status == .notFound)
            #expect(outside.text == unknown.text.replacingOccurrences(of: TestUSCC.c, with: TestUSCC.a))
            let query = #"{"subject":"\#(TestUSCC.a)","purpose":"贷前审查","authorisation":\#(Self.authorisation)}"#
            let queried = try await client.execute(uri: "/v1/queries", method: .post, headers: bank, body: ByteBuffer(string: query))
            #expect(queried.status == .notFound)
            #expect(queried.text == #"{"error":{"code":"not_found","message":"no enterprise with USCC \#(TestUSCC.a) is known","parameter":"subject"}}"#)

            // Added to the portfolio, it is in scope at the next request.
            let added = try await client.execute(
                uri: "/v1/portfolio", method: .post, headers: Self.with(bank, contentType: "text/csv"),
                body: ByteBuffer(string: "uscc,note\n\(TestUSCC.a),贷前调查\n"))
            #expect(added.text == #"{"added":1,"removed":0,"rows":1}"#)
            #expect(try await client.execute(uri: "/v1/enterprises/\(TestUSCC.a)", method: .get, headers: bank).status == .ok)
        }
    }

    @Test func aDistrictOfficeSeesItsDistrictAndAnEnterpriseUserItself() async throws {
        try await withAccessAPI { _, _, callers, client in
            let district = callers.bearer("district_analyst")
            #expect(try await client.execute(uri: "/v1/enterprises/\(Self.other)", method: .get, headers: district).status == .ok)
            #expect(try await client.execute(uri: "/v1/enterprises/\(TestUSCC.b)", method: .get, headers: district).status == .notFound)
            let alerts = try await client.execute(uri: "/v1/alerts", method: .get, headers: district)
            #expect(alerts.text == #"{"has_more":false,"items":[],"next_cursor":null}"#)
            let own = callers.bearer("enterprise_user")
            #expect(try await client.execute(uri: "/v1/enterprises/\(TestUSCC.a)", method: .get, headers: own).status == .ok)
            #expect(try await client.execute(uri: "/v1/enterprises/\(TestUSCC.b)", method: .get, headers: own).status == .notFound)
        }
    }

    @Test func aPortfolioUploadWithABadRowChangesNothingAndNamesEveryBadRow() async throws {
        try await withAccessAPI { _, _, callers, client in
            let bank = Self.with(callers.bearer("bank_admin"), contentType: "text/csv; charset=utf-8")
            let bad = TestUSCC.a.dropLast() + "0"
            let csv = "uscc,note\n\(TestUSCC.a),a\n\(bad),typo\nnot-a-code\n\(TestUSCC.a),again\n"
            let response = try await client.execute(uri: "/v1/portfolio", method: .put, headers: bank, body: ByteBuffer(string: csv))
            #expect(response.status == .unprocessableContent)
            let problems = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as! [String: [String: Any]]
            let rows = (problems["error"]!["problems"] as! [[String: Any]]).map { "\($0["row"]!) \($0["value"]!)" }
            #expect(rows == ["2 \(bad)", "3 not-a-code", "4 \(TestUSCC.a)"])
            #expect((problems["error"]!["message"] as! String) == "3 of 4 rows are not valid USCCs; nothing was changed")
            let list = try await client.execute(uri: "/v1/portfolio", method: .get, headers: callers.bearer("bank_admin"))
            #expect(list.text.contains(TestUSCC.b) && !list.text.contains(TestUSCC.a))
            let json = try await client.execute(
                uri: "/v1/portfolio", method: .put, headers: callers.bearer("bank_admin"),
                body: ByteBuffer(string: #"[{"uscc":"\#(TestUSCC.a)","note":"新客户"}]"#))
            #expect(json.text == #"{"added":1,"removed":1,"rows":1}"#)
            let xml = try await client.execute(
                uri: "/v1/portfolio", method: .post, headers: Self.with(callers.bearer("bank_admin"), contentType: "application/xml"),
                body: ByteBuffer(string: "<a/>"))
            #expect(xml.status == .unsupportedMediaType)
        }
    }

    @Test func aQueryWithoutAuthorisationIsRefusedAndAuditedAsRefused() async throws {
        try await withAccessAPI { _, access, callers, client in
            let bank = callers.bearer("bank_officer")
            let missing = try await client.execute(
                uri: "/v1/queries", method: .post, headers: bank, body: ByteBuffer(string: #"{"subject":"\#(TestUSCC.b)","purpose":"贷后管理"}"#))
            #expect(missing.status == .forbidden)
            #expect(missing.text == #"{"error":{"code":"forbidden","message":"this query needs the subject's authorisation (reference, scope, valid_from, valid_until)","parameter":"authorisation"}}"#)
            let expired = #"{"reference":"SQ-1","scope":"贷后管理","valid_from":"2025-01-01","valid_until":"2025-12-31"}"#
            let late = try await client.execute(
                uri: "/v1/queries", method: .post, headers: bank,
                body: ByteBuffer(string: #"{"subject":"\#(TestUSCC.b)","purpose":"贷后管理","authorisation":\#(expired)}"#))
            #expect(late.status == .forbidden)
            let supervision = try await client.execute(
                uri: "/v1/queries", method: .post, headers: bank, body: ByteBuffer(string: #"{"subject":"\#(TestUSCC.b)","purpose":"行政监管"}"#))
            #expect(supervision.status == .forbidden)
            let person = try await client.execute(
                uri: "/v1/queries", method: .post, headers: callers.bearer("office_analyst"),
                body: ByteBuffer(string: #"{"subject":"\#(Self.person)","purpose":"行政监管"}"#))
            #expect(person.status == .forbidden, "a person is queried only with their authorisation, whoever asks")

            let audit = try await access.audit(AuditFilter(action: "query"), after: nil, limit: 50).records
            #expect(audit.map { "\($0.entry.actor) \($0.entry.outcome.rawValue) \($0.entry.subjectID ?? "") \($0.entry.reason ?? "")" } == [
                "bank_officer refused \(TestUSCC.b) this query needs the subject's authorisation (reference, scope, valid_from, valid_until)",
                "bank_officer refused \(TestUSCC.b) the authorisation expired on 2025-12-31",
                "bank_officer refused \(TestUSCC.b) a bank queries for a lending purpose only (贷前审查, 贷后管理, 授信审批)",
                "office_analyst refused \(Self.person) this query needs the subject's authorisation (reference, scope, valid_from, valid_until)",
            ])
            #expect(audit[1].entry.authorisation?.contains("SQ-1") == true, "the authorisation is recorded with the query")
            #expect(audit.allSatisfy { $0.entry.purpose != nil && $0.entry.organisation != "" && $0.entry.role != "" })
        }
    }

    /// The data subject's side of the audit: an enterprise sees which organisations queried it,
    /// when and why (never who in them); the office sees any enterprise in its scope; a bank none.
    @Test func anEnterpriseSeesItsOwnQueryRecordAndNoOneElses() async throws {
        try await withAccessAPI { _, _, callers, client in
            let office = try await client.execute(
                uri: "/v1/queries", method: .post, headers: callers.bearer("office_analyst"),
                body: ByteBuffer(string: #"{"subject":"\#(TestUSCC.a)","purpose":"行政监管"}"#))
            #expect(office.status == .ok)
            let bank = try await client.execute(
                uri: "/v1/queries", method: .post, headers: callers.bearer("bank_officer"),
                body: ByteBuffer(string: #"{"subject":"\#(TestUSCC.b)","purpose":"贷后管理","authorisation":\#(Self.authorisation)}"#))
            #expect(bank.status == .ok)

            let own = try await client.execute(uri: "/v1/enterprises/\(TestUSCC.a)/queries", method: .get, headers: callers.bearer("enterprise_user"))
            #expect(own.status == .ok)
            let items = (try JSONSerialization.jsonObject(with: Data(own.body.readableBytesView)) as! [String: Any])["items"] as! [[String: Any]]
            #expect(items.map { "\($0["organisation"]!) \($0["role"]!) \($0["purpose"]!) \($0["outcome"]!)" } == ["邵阳市金融办 office_analyst 行政监管 allowed"])
            #expect(items.map { Set($0.keys) } == [["at", "organisation", "role", "purpose", "outcome"]], "the querying user is not named")

            // Another enterprise's record answers as an unknown enterprise; a bank has no right to any.
            let other = try await client.execute(uri: "/v1/enterprises/\(TestUSCC.b)/queries", method: .get, headers: callers.bearer("enterprise_user"))
            let unknown = try await client.execute(uri: "/v1/enterprises/\(TestUSCC.c)/queries", method: .get, headers: callers.bearer("enterprise_user"))
            #expect(other.status == .notFound)
            #expect(other.text == unknown.text.replacingOccurrences(of: TestUSCC.c, with: TestUSCC.b))
            #expect(try await client.execute(uri: "/v1/enterprises/\(TestUSCC.b)/queries", method: .get, headers: callers.bearer("bank_officer")).status == .forbidden)

            let b = try await client.execute(uri: "/v1/enterprises/\(TestUSCC.b)/queries", method: .get, headers: callers.bearer("office_admin"))
            let bItems = (try JSONSerialization.jsonObject(with: Data(b.body.readableBytesView)) as! [String: Any])["items"] as! [[String: Any]]
            #expect(bItems.map { "\($0["organisation"]!) \($0["purpose"]!) \($0["outcome"]!)" } == ["城市商业银行 贷后管理 allowed"])
            let invalid = try await client.execute(uri: "/v1/enterprises/9143060/queries", method: .get, headers: callers.bearer("office_admin"))
            #expect(invalid.status == .badRequest)
            #expect(invalid.text.contains(#""parameter":"uscc""#), "\(invalid.text)")
        }
    }

    @Test func aPersonsQueryConsolidatesTheirRecordsMaskedUnlessTheCallerHoldsTheRight() async throws {
        try await withAccessAPI { _, access, callers, client in
            let body = #"{"subject":"\#(Self.person)","purpose":"行政监管","authorisation":{"reference":"SQ-9","scope":"信用核查","valid_from":"2026-05-01","valid_until":"2026-06-30"}}"#
            let masked = try await client.execute(
                uri: "/v1/queries", method: .post, headers: callers.bearer("office_analyst"), body: ByteBuffer(string: body))
            #expect(masked.status == .ok)
            let answer = try JSONSerialization.jsonObject(with: Data(masked.body.readableBytesView)) as! [String: Any]
            #expect(answer["subject_id"] as? String == "430***********1230")
            let person = answer["person"] as! [String: Any]
            #expect((person["enterprises"] as! [[String: Any]]).map { $0["uscc"] as! String } == [TestUSCC.b])
            #expect(masked.text.contains(#""name":"欧*""#) && !masked.text.contains("欧阳明"), "the party's name is masked on a person's row")
            #expect(!masked.text.contains(Self.person), "the ID number appears nowhere in clear")
            #expect(masked.text.contains(#""topic":"court.dishonest""#))

            let clear = try await client.execute(
                uri: "/v1/queries", method: .post, headers: callers.bearer("cleared_analyst"), body: ByteBuffer(string: body))
            #expect(clear.status == .ok)
            #expect(clear.text.contains(#""subject_id":"\#(Self.person)""#))

            let audit = try await access.audit(AuditFilter(subjectID: Self.person), after: nil, limit: 10).records
            #expect(audit.map { "\($0.entry.actor) \($0.entry.action) \($0.entry.outcome.rawValue)" } == [
                "office_analyst query allowed", "cleared_analyst query allowed",
            ])
            #expect(audit[0].entry.returned?.contains(#""court.dishonest": 1"#) == true, "\(audit[0].entry.returned ?? "")")

            // The office shows the person who queried them; a bank may not see it.
            let record = try await client.execute(uri: "/v1/persons/\(Self.person)/queries", method: .get, headers: callers.bearer("office_admin"))
            let items = (try JSONSerialization.jsonObject(with: Data(record.body.readableBytesView)) as! [String: Any])["items"] as! [[String: Any]]
            #expect(items.map { "\($0["organisation"]!) \($0["purpose"]!) \($0["outcome"]!)" } == ["邵阳市金融办 行政监管 allowed", "邵阳市金融办 行政监管 allowed"])
            #expect(try await client.execute(uri: "/v1/persons/\(Self.person)/queries", method: .get, headers: callers.bearer("bank_officer")).status == .forbidden)

            // Auditors search the log; the subject's ID number is masked for them without the right.
            let search = try await client.execute(
                uri: "/v1/audit?subject=\(Self.person)", method: .get, headers: callers.bearer("auditor"))
            #expect(search.status == .ok)
            #expect(search.text.contains(#""subject_id":"430***********1230""#) && !search.text.contains(Self.person))
        }
    }

    @Test func enterpriseProfilesAreMaskedForEveryRoleWithoutTheRightAndAClearReadIsAudited() async throws {
        try await withAccessAPI { _, access, callers, client in
            for name in callers.roles.keys.sorted() where name != "cleared_analyst" {
                let response = try await client.execute(uri: "/v1/enterprises/\(TestUSCC.b)", method: .get, headers: callers.bearer(name))
                guard response.status == .ok else { continue }
                #expect(response.text.contains(#""legal_rep_id":"430***********1230","legal_rep_name":"欧*""#), "\(name)")
                #expect(!response.text.contains(Self.person), "\(name)")
            }
            let clear = try await client.execute(uri: "/v1/enterprises/\(TestUSCC.b)", method: .get, headers: callers.bearer("cleared_analyst"))
            #expect(clear.text.contains(#""legal_rep_id":"\#(Self.person)","legal_rep_name":"欧阳明""#))
            let reads = try await access.audit(AuditFilter(action: "read_profile"), after: nil, limit: 10).records
            #expect(reads.map { "\($0.entry.actor) \($0.entry.subjectID ?? "")" } == ["cleared_analyst \(TestUSCC.b)"])
        }
    }

    @Test func theAuditLogRefusesUpdateDeleteAndTruncateFromTheDaemonsRole() async throws {
        try await withAccessAPI { _, access, callers, _ in
            let principal = Principal(name: "x", organisation: TestKeys.cityOffice, role: .auditor, scope: .city)
            try await access.append(AuditEntry(by: principal, action: "query", outcome: .allowed))
            for statement in ["UPDATE audit_log SET actor = 'nobody'", "DELETE FROM audit_log", "TRUNCATE audit_log"] {
                do {
                    try await access.client.query(PostgresQuery(unsafeSQL: statement), logger: Logger(label: "test"))
                    Issue.record("\(statement) was allowed")
                } catch let error as PSQLError {
                    #expect(error.serverInfo?[.sqlState] == "42501", "\(statement): \(String(reflecting: error))")
                }
            }
            #expect(try await access.audit(AuditFilter(), after: nil, limit: 10).records.map(\.entry.actor) == ["x"])
        }
    }

    @Test func aRevokedKeyFailsOnItsNextRequest() async throws {
        try await withAccessAPI { _, access, callers, client in
            let admin = callers.bearer("bank_admin")
            let created = try await client.execute(
                uri: "/v1/admin/keys", method: .post, headers: admin,
                body: ByteBuffer(string: #"{"user":"李四","role":"bank_officer","label":"信贷系统","expires_in_days":30}"#))
            #expect(created.status == .created)
            let reply = try JSONSerialization.jsonObject(with: Data(created.body.readableBytesView)) as! [String: Any]
            let key = reply["key"] as! String
            let id = (reply["info"] as! [String: Any])["id"] as! String
            #expect((reply["info"] as! [String: Any])["organisation"] as? String == "城市商业银行")
            #expect(try await client.execute(uri: "/v1/me", method: .get, headers: TestKeys.bearer(key)).status == .ok)
            // A bank admin cannot reach another organisation's keys.
            let office = try await access.keys(organisationID: nil).first { $0.organisation == "邵阳市金融办" }!
            let foreign = try await client.execute(uri: "/v1/admin/keys/\(office.id)", method: .delete, headers: admin)
            #expect(foreign.status == .notFound)
            let listed = try await client.execute(uri: "/v1/admin/keys", method: .get, headers: admin)
            #expect(!listed.text.contains("邵阳市金融办") && listed.text.contains("李四"))
            #expect(!listed.text.contains(String(key.suffix(32))), "secrets are never listed")

            let revoked = try await client.execute(uri: "/v1/admin/keys/\(id)", method: .delete, headers: admin)
            #expect(revoked.status == .ok)
            #expect(revoked.text.contains(#""status":"revoked""#))
            let next = try await client.execute(uri: "/v1/me", method: .get, headers: TestKeys.bearer(key))
            #expect(next.status == .unauthorized)
            #expect(next.text == #"{"error":{"code":"unauthorized","message":"unknown, expired or revoked API key"}}"#)
        }
    }

    @Test func theAlertStreamResumesExactlyAfterTheLastEventAndFollowsTheScope() async throws {
        try await withAccessAPI { store, _, callers, client in
            let office = callers.bearer("office_analyst")
            let all = try await client.execute(uri: "/v1/alerts/stream?max_events=2", method: .get, headers: office)
            #expect(all.status == .ok)
            #expect(all.headers[.contentType] == "text/event-stream; charset=utf-8")
            let frames = all.text.components(separatedBy: "\n\n").filter { !$0.isEmpty }
            #expect(frames.count == 3)
            #expect(frames[0] == "retry: 2000")
            #expect(frames[1].hasPrefix("id: 1\nevent: raised\ndata: {\"alert_id\":1,"))
            #expect(frames[1].contains(#""subject_id":"\#(TestUSCC.a)""#))
            #expect(frames[2].hasPrefix("id: 2\nevent: raised\ndata: {\"alert_id\":2,"))

            // A client that got event 1 reconnects and gets exactly what follows.
            var resume = office
            resume[.init("Last-Event-ID")!] = "1"
            let resumed = try await client.execute(uri: "/v1/alerts/stream?max_events=1", method: .get, headers: resume)
            #expect(resumed.text == "retry: 2000\n\n" + frames[2] + "\n\n")

            // The bank's stream has only its portfolio's events: its first is event 2.
            let bank = try await client.execute(uri: "/v1/alerts/stream?max_events=1", method: .get, headers: callers.bearer("bank_officer"))
            #expect(bank.text == "retry: 2000\n\n" + frames[2] + "\n\n")

            // A stream waiting after the last event gets the next one when it is raised.
            let waiting = Task {
                var headers = office
                headers[.init("Last-Event-ID")!] = "2"
                return try await client.execute(uri: "/v1/alerts/stream?max_events=1", method: .get, headers: headers).text
            }
            try await Task.sleep(for: .milliseconds(300))
            try await store.write(Seed.effects(alerts: [Seed.alert(rule: "r3", subject: TestUSCC.b, asOf: "2024-06-10")]))
            let pushed = try await waiting.value
            #expect(pushed.hasPrefix("retry: 2000\n\nid: 3\nevent: raised\ndata: {\"alert_id\":3,"))
            #expect(pushed.contains(#""rule":"r3""#))

            var bad = office
            bad[.init("Last-Event-ID")!] = "yesterday"
            let refused = try await client.execute(uri: "/v1/alerts/stream", method: .get, headers: bad)
            #expect(refused.status == .badRequest)
        }
    }

    /// A stream checks its key and scope again while it runs: the events after a portfolio change
    /// follow the new portfolio, and a revoked key ends the stream.
    @Test func anOpenStreamFollowsPortfolioChangesAndEndsWhenItsKeyIsRevoked() async throws {
        try await withAccessAPI { store, access, callers, client in
            var headers = callers.bearer("bank_officer")
            headers[.init("Last-Event-ID")!] = "2"
            let waiting = Task { try await client.execute(uri: "/v1/alerts/stream?max_events=1", method: .get, headers: headers).text }
            try await Task.sleep(for: .milliseconds(300))
            let bank = try await access.organisations().first { $0.name == "城市商业银行" }!
            _ = try await access.updatePortfolio(of: bank.id, with: [(TestUSCC.a, "新授信客户")], replacing: true, by: "test")
            try await Task.sleep(for: .milliseconds(400))
            try await store.write(Seed.effects(alerts: [Seed.alert(rule: "r4", subject: TestUSCC.b, asOf: "2024-06-10")]))
            try await store.write(Seed.effects(alerts: [Seed.alert(rule: "r5", subject: TestUSCC.a, asOf: "2024-06-10")]))
            let pushed = try await waiting.value
            #expect(pushed.hasPrefix("retry: 2000\n\nid: 4\nevent: raised\ndata: {\"alert_id\":4,"), "\(pushed)")
            #expect(pushed.contains(#""rule":"r5""#) && !pushed.contains(#""rule":"r4""#))

            let admin = callers.bearer("bank_admin")
            let created = try await client.execute(
                uri: "/v1/admin/keys", method: .post, headers: admin,
                body: ByteBuffer(string: #"{"user":"王五","role":"bank_officer","label":"风控大屏"}"#))
            let reply = try JSONSerialization.jsonObject(with: Data(created.body.readableBytesView)) as! [String: Any]
            let (key, id) = (reply["key"] as! String, (reply["info"] as! [String: Any])["id"] as! String)
            var revokedHeaders = TestKeys.bearer(key)
            revokedHeaders[.init("Last-Event-ID")!] = "5"
            let revokedStream = Task { try await client.execute(uri: "/v1/alerts/stream", method: .get, headers: revokedHeaders).text }
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await client.execute(uri: "/v1/admin/keys/\(id)", method: .delete, headers: admin).status == .ok)
            let ended = try await revokedStream.value
            #expect(ended == "retry: 2000\n\n: unknown, expired or revoked API key; the stream ends\n\n")
        }
    }

    @Test func theDeskWorksAnAlertStepByStepAuditedWithConflictsOnStaleVersions() async throws {
        try await withAccessAPI { _, access, callers, client in
            let analyst = callers.bearer("office_analyst")
            func act(_ body: String, as headers: HTTPFields? = nil) async throws -> TestResponse {
                try await client.execute(uri: "/v1/desk/alerts/1/actions", method: .post, headers: headers ?? analyst, body: ByteBuffer(string: body))
            }
            #expect(try await act(#"{"action":"acknowledge"}"#).text == #"{"action":"acknowledge","alert_id":1,"desk":{"status":"acknowledged","version":1}}"#)
            let assigned = try await act(#"{"action":"assign","assignee":"王分析","version":1}"#)
            #expect(assigned.status == .ok)
            // A second reviewer working from version 1 is refused with the current state.
            let stale = try await act(#"{"action":"resolve","disposition":"false_positive","version":1}"#)
            #expect(stale.status == .conflict)
            #expect(stale.text == #"{"error":{"code":"conflict","current":{"assignee":"王分析","disposition":"","status":"acknowledged","version":"2"},"message":"the alert changed: version 2, not 1"}}"#)
            let resolved = try await act(#"{"action":"resolve","disposition":"confirmed_risk","note":"欠税属实","version":2}"#)
            #expect(resolved.status == .ok)
            let again = try await act(#"{"action":"acknowledge"}"#)
            #expect(again.status == .conflict)
            // A malformed step is a bad request, not a step: not audited.
            #expect(try await act(#"{"action":"resolve","disposition":"maybe"}"#).status == .badRequest)
            #expect(try await act(#"{"action":"dance"}"#).status == .badRequest)

            let view = try await client.execute(uri: "/v1/desk/alerts/1", method: .get, headers: analyst)
            let json = try JSONSerialization.jsonObject(with: Data(view.body.readableBytesView)) as! [String: Any]
            #expect((json["desk"] as! [String: Any])["status"] as? String == "resolved")
            #expect((json["events"] as! [[String: Any]]).map { "\($0["action"]!) v\($0["version"]!) \($0["actor"]!)" } == [
                "acknowledge v1 office_analyst", "assign v2 office_analyst", "resolve v3 office_analyst",
            ])
            #expect((json["alert"] as! [String: Any])["status"] as? String == "active", "the engine's lifecycle is the alert's own")

            // Every step, refused ones too, is audited.
            let audit = try await access.audit(AuditFilter(subjectID: "1"), after: nil, limit: 20).records
            #expect(audit.map { "\($0.entry.action) \($0.entry.outcome.rawValue)" } == [
                "desk_acknowledge allowed", "desk_assign allowed", "desk_resolve refused", "desk_resolve allowed",
                "desk_acknowledge refused",
            ])

            let stats = try await client.execute(uri: "/v1/desk/stats", method: .get, headers: analyst)
            let rules = (try JSONSerialization.jsonObject(with: Data(stats.body.readableBytesView)) as! [String: [[String: Any]]])["rules"]!
            #expect(rules.map { "\($0["rule"]!) \($0["alerts"]!) \($0["acknowledged"]!) \($0["confirmed_risk"]!) \($0["precision"] ?? "nil")" } == [
                "r1 1 1 1 1", "r2 1 0 0 nil",
            ])
            #expect((rules[0]["median_seconds_to_acknowledge"] as? Double).map { $0 >= 0 } == true)

            // A district office works only its district's alerts.
            let outside = try await act(#"{"action":"comment","text":"看看"}"#, as: callers.bearer("district_analyst"))
            #expect(outside.status == .notFound)
        }
    }

    /// A receiver that answers 500 to its first `failing` requests and 204 after, keeping each.
    actor Receiver {
        var requests: [(signature: String, body: [UInt8])] = []
        let failing: Int
        init(failing: Int) { self.failing = failing }
        func take(_ signature: String, _ body: [UInt8]) -> HTTPResponse.Status {
            requests.append((signature, body))
            return requests.count <= failing ? .internalServerError : .noContent
        }
    }

    func withReceiver(failing: Int, _ body: @Sendable (Receiver, Int) async throws -> Void) async throws {
        let receiver = Receiver(failing: failing)
        let router = Router()
        router.post("hook") { request, _ -> Response in
            var buffer = try await request.body.collect(upTo: 1 << 20)
            let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
            let signature = request.headers[.init(WebhookSignature.header)!] ?? ""
            return Response(status: await receiver.take(signature, bytes))
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in try await body(receiver, client.port!) }
    }

    func dispatcher(_ webhooks: WebhookStore, _ store: PostgresStore, _ access: AccessStore, maximumFailures: Int) -> WebhookDispatcher {
        WebhookDispatcher(
            store: webhooks, scope: { try await access.scope(ofOrganisation: $0) },
            events: { after, scope, limit in
                try await store.alertEvents(after: after, limit: limit, subjectIDs: scope.subjectIDs, district: scope.district).events
                    .map { WebhookEvent(id: $0.id, json: try AlertEventView($0).json) }
            },
            schedule: RetrySchedule(base: .milliseconds(100), cap: .seconds(1), maximumFailures: maximumFailures), logger: Logger(label: "test"))
    }

    @Test func aWebhookReceiverThatFailsTwiceGetsTheThirdAttemptSigned() async throws {
        try await withAccessAPI { store, access, webhooks, callers, client in
            try await withReceiver(failing: 2) { receiver, port in
                let admin = callers.bearer("bank_admin")
                let created = try await client.execute(
                    uri: "/v1/webhooks", method: .post, headers: admin, body: ByteBuffer(string: #"{"url":"http://127.0.0.1:\#(port)/hook"}"#))
                #expect(created.status == .created)
                let reply = try JSONSerialization.jsonObject(with: Data(created.body.readableBytesView)) as! [String: Any]
                let secret = reply["secret"] as! String
                let id = (reply["webhook"] as! [String: Any])["id"] as! Int
                let dispatcher = dispatcher(webhooks, store, access, maximumFailures: 5)
                let deadline = ContinuousClock.now + .seconds(30)
                while await receiver.requests.count < 3, ContinuousClock.now < deadline {
                    try await dispatcher.deliverDue()
                    try await Task.sleep(for: .milliseconds(50))
                }
                let requests = await receiver.requests
                #expect(requests.count == 3)
                // The same batch each time: the bank's scope only (enterprise b's event 2), signed with the secret.
                #expect(Set(requests.map { String(decoding: $0.body, as: UTF8.self) }).count == 1)
                let body = String(decoding: requests[2].body, as: UTF8.self)
                #expect(body.hasPrefix(#"{"events":[{"alert_id":2,"#) && body.hasSuffix(#""webhook_id":\#(id)}"#))
                #expect(!body.contains(TestUSCC.a))
                #expect(requests.allSatisfy { WebhookSignature.verify(header: $0.signature, body: $0.body, secret: secret) })

                try await dispatcher.deliverDue()
                #expect(await receiver.requests.count == 3, "nothing new to deliver")
                let log = try await client.execute(uri: "/v1/webhooks/\(id)/deliveries", method: .get, headers: admin)
                let deliveries = (try JSONSerialization.jsonObject(with: Data(log.body.readableBytesView)) as! [String: [[String: Any]]])["deliveries"]!
                #expect(deliveries.map { "\($0["status"]!) \($0["succeeded"]!) \($0["events"]!)" } == ["204 1 1", "500 0 1", "500 0 1"])
                let bank = try await access.organisation(named: "城市商业银行")!
                let listed = try await webhooks.webhooks(organisationID: bank.id)
                #expect(listed.map { "\($0.cursor) \($0.failures)" } == ["2 0"])
                // Another bank's admin does not see it.
                #expect(try await client.execute(uri: "/v1/webhooks/\(id)/deliveries", method: .get, headers: callers.bearer("office_admin")).status == .notFound)
            }
        }
    }

    @Test func aWebhookThatKeepsFailingIsDisabledUntilEnabledAgain() async throws {
        try await withAccessAPI { store, access, webhooks, callers, client in
            try await withReceiver(failing: 1_000) { receiver, port in
                let admin = callers.bearer("bank_admin")
                let created = try await client.execute(
                    uri: "/v1/webhooks", method: .post, headers: admin, body: ByteBuffer(string: #"{"url":"http://127.0.0.1:\#(port)/hook"}"#))
                let id = ((try JSONSerialization.jsonObject(with: Data(created.body.readableBytesView)) as! [String: Any])["webhook"] as! [String: Any])["id"] as! Int
                let dispatcher = dispatcher(webhooks, store, access, maximumFailures: 3)
                for _ in 0..<40 {
                    try await dispatcher.deliverDue()
                    try await Task.sleep(for: .milliseconds(50))
                }
                #expect(await receiver.requests.count == 3)
                let listed = try await client.execute(uri: "/v1/webhooks", method: .get, headers: admin)
                #expect(listed.text.contains(#""disabled_reason":"disabled after 3 failed deliveries in a row""#))
                let enabled = try await client.execute(uri: "/v1/webhooks/\(id)/enable", method: .post, headers: admin)
                #expect(enabled.status == .ok)
                try await dispatcher.deliverDue()
                #expect(await receiver.requests.count == 4)
                let refused = try await client.execute(uri: "/v1/webhooks", method: .post, headers: admin, body: ByteBuffer(string: #"{"url":"ftp://x"}"#))
                #expect(refused.status == .badRequest)
            }
        }
    }
}
