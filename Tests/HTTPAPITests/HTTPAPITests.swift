import Access
import CreditWatchCore
import Foundation
import HTTPAPI
import Hummingbird
import HummingbirdTesting
import RuleLanguage
import Testing

@testable import PostgresStore

@Suite("HTTP API against PostgreSQL", .enabled(if: postgresConfigured))
struct HTTPAPITests {
    static let json = "application/json; charset=utf-8"

    static func alertJSON(id: Int, rule: String, subject: String, severity: String = "high", category: String = "tax")
        -> String
    {
        #"{"as_of":"2024-05-10","category":"\#(category)","district":"430602","division":"C30","#
            + #""explanation":"近3个月纳税 1200 元，去年同期 98765.43 元","id":\#(id),"#
            + #""processed_at":"2024-06-01T08:00:00.000Z","rule":"\#(rule)","rule_set_version":"rs1","rule_version":"rv1","#
            + #""score":{"dimension":"finance_tax","points":-40},"severity":"\#(severity)","sources":["tax.payment/SK1"],"#
            + #""status":"active","subject_id":"\#(subject)","subject_kind":"enterprise","title":"纳税额同比大幅下降","#
            + #""values":[{"name":"tax_paid_3mo","value":1200},{"name":"tax_paid_3mo_ly","value":98765.43}],"#
            + #""window":"2024-05","withdrawal":null}"#
    }

    static func seedAlerts(_ store: PostgresStore) async throws {
        try await store.write(Seed.effects(alerts: [
            Seed.alert(rule: "r1", subject: TestUSCC.a, asOf: "2024-05-10"),
            Seed.alert(rule: "r2", subject: TestUSCC.b, asOf: "2024-05-10", severity: .critical, category: .judicial),
            Seed.alert(rule: "r3", subject: TestUSCC.c, asOf: "2024-05-10", severity: .low),
        ]))
        try await store.fixProcessedAt()
    }

    @Test func healthChecksPostgreSQL() async throws {
        try await withTestAPI { _, client in
            let response = try await client.execute(uri: "/health", method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == Self.json)
            #expect(response.text == #"{"status":"ok"}"#)
        }
    }

    @Test func healthReportsIngestAndItsOutages() async throws {
        let ingest = IngestHealth()
        ingest.committed(at: 1_780_000_000, catchingUp: true)
        try await withTestAPI(ingest: ingest) { _, client in
            let ok = try await client.execute(uri: "/health", method: .get)
            #expect(ok.status == .ok)
            #expect(
                ok.text
                    == #"{"ingest":{"catching_up":true,"feature_rebuilds":0,"last_batch_at":"2026-05-28T20:26:40Z","quarantined_after_bisection":0,"status":"ok"},"status":"ok"}"#
            )
            ingest.failed(component: "redis", error: "redis io: Connection refused", at: 1_780_000_010)
            ingest.failed(component: "redis", error: "redis connect: Connection refused", at: 1_780_000_011)
            ingest.quarantinedAfterBisection(1)
            let down = try await client.execute(uri: "/health", method: .get)
            #expect(down.status == .serviceUnavailable)
            #expect(
                down.text
                    == #"{"ingest":{"catching_up":true,"feature_rebuilds":0,"last_batch_at":"2026-05-28T20:26:40Z","outage":{"attempts":2,"component":"redis","error":"redis connect: Connection refused","since":"2026-05-28T20:26:50Z"},"quarantined_after_bisection":1,"status":"waiting"},"status":"degraded"}"#
            )
            ingest.committed(at: 1_780_000_020)
            let caughtUp = try await client.execute(uri: "/health", method: .get)
            #expect(caughtUp.status == .ok)
            #expect(caughtUp.text.contains(#""catching_up":false"#))
        }
    }

    @Test func healthIsUnavailableWithoutPostgreSQL() async throws {
        var unreachable = testStoreConfiguration()
        unreachable.port = 1
        let configuration = APIConfiguration(allowAnonymous: true, storeTimeout: .seconds(1))
        try await withTestAPI(configuration: configuration, storeConfiguration: unreachable, migrate: false) { _, client in
            let response = try await client.execute(uri: "/health", method: .get)
            #expect(response.status == .serviceUnavailable)
            #expect(response.text == #"{"error":{"code":"unavailable","message":"PostgreSQL does not answer"}}"#)
        }
    }

    @Test func storeCallsFailAsUnavailableWithoutPostgreSQL() async throws {
        var unreachable = testStoreConfiguration()
        unreachable.port = 1
        let configuration = APIConfiguration(allowAnonymous: true, storeTimeout: .seconds(1))
        try await withTestAPI(configuration: configuration, storeConfiguration: unreachable, migrate: false) { _, client in
            let response = try await client.execute(uri: "/v1/alerts", method: .get)
            #expect(response.status == .serviceUnavailable)
            #expect(response.text == #"{"error":{"code":"unavailable","message":"the database is unavailable; retry later"}}"#)
        }
    }

    @Test func alertFeedPagesByCursor() async throws {
        try await withTestAPI { store, client in
            try await Self.seedAlerts(store)
            let first = try await client.execute(uri: "/v1/alerts?limit=2", method: .get)
            #expect(first.status == .ok)
            #expect(first.headers[.contentType] == Self.json)
            #expect(first.text == #"{"has_more":true,"items":["# + Self.alertJSON(id: 1, rule: "r1", subject: TestUSCC.a) + ","
                + Self.alertJSON(id: 2, rule: "r2", subject: TestUSCC.b, severity: "critical", category: "judicial")
                + #"],"next_cursor":"2"}"#)
            let rest = try await client.execute(uri: "/v1/alerts?after=2", method: .get)
            #expect(rest.text == #"{"has_more":false,"items":["# + Self.alertJSON(id: 3, rule: "r3", subject: TestUSCC.c, severity: "low")
                + #"],"next_cursor":"3"}"#)
            let none = try await client.execute(uri: "/v1/alerts?after=3", method: .get)
            #expect(none.text == #"{"has_more":false,"items":[],"next_cursor":"3"}"#)
            let empty = try await client.execute(uri: "/v1/alerts?severity=info", method: .get)
            #expect(empty.text == #"{"has_more":false,"items":[],"next_cursor":null}"#)
        }
    }

    @Test func alertFeedFilters() async throws {
        try await withTestAPI { store, client in
            try await Self.seedAlerts(store)
            func ids(_ uri: String) async throws -> [Int64] {
                let response = try await client.execute(uri: uri, method: .get)
                #expect(response.status == .ok, "\(uri): \(response.text)")
                return try FeedPage<FeedAlert>.decode(Data(response.body.readableBytesView)).items.map(\.id)
            }
            #expect(try await ids("/v1/alerts?severity=high,critical") == [1, 2])
            #expect(try await ids("/v1/alerts?severity=low&severity=critical") == [2, 3])
            #expect(try await ids("/v1/alerts?category=judicial") == [2])
            #expect(try await ids("/v1/alerts?industry=C30") == [1, 2, 3])
            #expect(try await ids("/v1/alerts?industry=c30&severity=low") == [3])
            #expect(try await ids("/v1/alerts?industry=F51") == [])
        }
    }

    @Test(arguments: [
        ("/v1/alerts?severity=hi", "severity 'hi' is not one of info, low, medium, high, critical", "severity"),
        ("/v1/alerts?severity=high,", "severity '' is not one of info, low, medium, high, critical", "severity"),
        (
            "/v1/alerts?category=taxes",
            "category 'taxes' is not one of tax, utility, social_insurance, judicial, regulatory, lending, industry, related",
            "category"
        ),
        ("/v1/alerts?industry=C3011", "industry 'C3011' must be a division: a section letter and 2 digits, e.g. C30", "industry"),
        ("/v1/alerts?industry=C99", "industry: industry division C99 is not in section C (13–43)", "industry"),
        ("/v1/alerts?industry=Z12", "industry: industry code 'Z12' does not start with a section letter A–T", "industry"),
        ("/v1/alerts?limit=0", "limit must be an integer from 1 to 500, got '0'", "limit"),
        ("/v1/alerts?limit=501", "limit must be an integer from 1 to 500, got '501'", "limit"),
        ("/v1/alerts?limit=1&limit=2", "parameter 'limit' is given 2 times; give it once", "limit"),
        ("/v1/alerts?after=-1", "after must be a non-negative integer id, got '-1'", "after"),
        ("/v1/alerts?after=abc", "after must be a non-negative integer id, got 'abc'", "after"),
        ("/v1/alerts?sort=id", "unknown parameter 'sort'; expected one of after, limit, severity, category, industry", "sort"),
        ("/v1/quarantine?limit=x", "limit must be an integer from 1 to 500, got 'x'", "limit"),
    ])
    func invalidParametersAreReported(uri: String, message: String, parameter: String) async throws {
        try await withTestAPI { _, client in
            let response = try await client.execute(uri: uri, method: .get)
            #expect(response.status == .badRequest)
            #expect(response.headers[.contentType] == Self.json)
            #expect(response.text == #"{"error":{"code":"invalid_parameter","message":"\#(message)","parameter":"\#(parameter)"}}"#)
        }
    }

    @Test func enterpriseProfile() async throws {
        let features = FixedFeatures(values: [
            TestUSCC.a: [NamedValue("tax_paid_3mo", .number(1200)), NamedValue("last_paid", .date(Seed.day("2024-05-10")))]
        ])
        try await withTestAPI(features: features) { store, client in
            try await store.write(Seed.effects(
                changes: [
                    Seed.registration(TestUSCC.a, name: "长沙湘江机械有限公司"),
                    Seed.payment("SK1", uscc: TestUSCC.a, amount: 1200, paid: "2024-05-10"),
                ],
                alerts: [Seed.alert(rule: "r1", subject: TestUSCC.a, asOf: "2024-05-10")]))
            try await store.fixProcessedAt()
            let response = try await client.execute(uri: "/v1/enterprises/\(TestUSCC.a.lowercased())", method: .get)
            #expect(response.status == .ok)
            #expect(response.text == #"{"alerts":["# + Self.alertJSON(id: 1, rule: "r1", subject: TestUSCC.a) + "],"
                + #""facts":[{"department":"market","topics":[{"records":[{"event_day":"2015-03-02","fields":{"#
                + #""district_code":"430602","industry_code":"C3011","legal_rep_id":"430***********123X","#
                + #""legal_rep_name":"欧*","name":"长沙湘江机械有限公司","status":"存续","#
                + #""uscc":"\#(TestUSCC.a)"},"key":"\#(TestUSCC.a)","version":1}],"topic":"market.enterprise"}]},"#
                + #"{"department":"tax","topics":[{"records":[{"event_day":"2024-05-10","fields":{"amount":1200,"#
                + #""id":"SK1","paid_date":"2024-05-10"},"key":"SK1","version":1}],"topic":"tax.payment"}]}],"#
                + #""features":[{"name":"tax_paid_3mo","value":1200},{"name":"last_paid","value":"2024-05-10"}],"#
                + #""registration":{"deleted":false,"district":"430602","division":"C30","industry_code":"C3011","#
                + #""name":"长沙湘江机械有限公司","status":"存续"},"#
                // This store's catalog declares no relations: the graph is the enterprise alone.
                + #""relations":{"links":[],"nodes":[{"depth":0,"id":"\#(TestUSCC.a)","kind":"enterprise","name":null}],"truncated":false},"#
                + #""score":null,"tags":{"current":[],"history":[]},"uscc":"\#(TestUSCC.a)"}"#)
        }
    }

    @Test func personalDataIsMaskedForEveryRoleWithoutTheRight() async throws {
        try await withTestAPI(configuration: APIConfiguration(), keys: AuthenticationTests.keys) { store, client in
            try await store.write(Seed.effects(changes: [Seed.registration(TestUSCC.b, name: "邵阳恒通贸易有限公司")]))
            for key in AuthenticationTests.all {
                let response = try await client.execute(
                    uri: "/v1/enterprises/\(TestUSCC.b)", method: .get, headers: [.authorization: "Bearer \(key)"])
                #expect(response.status == .ok, "\(key)")
                #expect(response.text.contains(#""legal_rep_id":"430***********123X","legal_rep_name":"欧*""#), "\(key)")
                #expect(!response.text.contains("43060219800101123X") && !response.text.contains("欧阳明"), "\(key)")
            }
        }
    }

    @Test func enterpriseProfileWithoutFeatureStore() async throws {
        try await withTestAPI(features: FixedFeatures(failing: true)) { store, client in
            try await store.write(Seed.effects(alerts: [Seed.alert(rule: "r1", subject: TestUSCC.b, asOf: "2024-05-10")]))
            let response = try await client.execute(uri: "/v1/enterprises/\(TestUSCC.b)", method: .get)
            #expect(response.status == .ok)
            #expect(response.text.contains(
                #""facts":[],"features":null,"registration":null,"#
                    + #""relations":{"links":[],"nodes":[{"depth":0,"id":"\#(TestUSCC.b)","kind":"enterprise","name":null}],"truncated":false},"#
                    + #""score":null,"tags":{"current":[],"history":[]},"uscc":"\#(TestUSCC.b)"}"#))
        }
    }

    @Test func enterpriseErrors() async throws {
        try await withTestAPI { _, client in
            let unknown = try await client.execute(uri: "/v1/enterprises/\(TestUSCC.a)", method: .get)
            #expect(unknown.status == .notFound)
            #expect(unknown.text == #"{"error":{"code":"not_found","message":"no enterprise with USCC \#(TestUSCC.a) is known","parameter":"uscc"}}"#)

            var wrong = TestUSCC.a
            let last = wrong.removeLast()
            wrong.append(last == "0" ? "1" : "0")
            let badCheck = try await client.execute(uri: "/v1/enterprises/\(wrong)", method: .get)
            #expect(badCheck.status == .badRequest)
            #expect(badCheck.text == #"{"error":{"code":"invalid_parameter","message":"USCC check character is '\#(wrong.last!)', expected '\#(last)'","parameter":"uscc"}}"#)

            let short = try await client.execute(uri: "/v1/enterprises/91430602", method: .get)
            #expect(short.status == .badRequest)
            #expect(short.text == #"{"error":{"code":"invalid_parameter","message":"USCC must have 18 characters, got 8","parameter":"uscc"}}"#)

            let letter = try await client.execute(uri: "/v1/enterprises/91430602MA4L0000IX", method: .get)
            #expect(letter.text == #"{"error":{"code":"invalid_parameter","message":"USCC character 'I' at position 17 is not in the GB 32100 alphabet","parameter":"uscc"}}"#)
        }
    }

    @Test func unknownRoutesAreJSON() async throws {
        try await withTestAPI { _, client in
            let response = try await client.execute(uri: "/v2/nothing", method: .get)
            #expect(response.status == .notFound)
            #expect(response.headers[.contentType] == Self.json)
            #expect(response.text == #"{"error":{"code":"not_found","message":"no route for GET /v2/nothing"}}"#)
        }
    }

    @Test func metricsAreExposed() async throws {
        try await withTestAPI { _, client in
            _ = try await client.execute(uri: "/v1/alerts", method: .get)
            _ = try await client.execute(uri: "/v1/enterprises/\(TestUSCC.a)", method: .get)
            let response = try await client.execute(uri: "/metrics", method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "text/plain; version=0.0.4; charset=utf-8")
            let lines = response.text.split(separator: "\n").map(String.init)
            #expect(lines.contains(#"creditwatch_http_requests{route="/v1/alerts",method="GET",status="200"} 1"#))
            #expect(lines.contains(#"creditwatch_http_requests{route="/v1/enterprises/{uscc}",method="GET",status="404"} 1"#))
            #expect(!response.text.contains(TestUSCC.a))
        }
    }

    @Test func quarantineListing() async throws {
        try await withTestAPI { store, client in
            try await store.write(Seed.effects(quarantine: [
                QuarantinedMessage(
                    message: InboundMessage(topic: "tax.payment", partition: 2, offset: 41, key: nil, value: Array("{".utf8)),
                    reason: "value is not JSON: unexpected end of input")
            ]))
            let response = try await client.execute(uri: "/v1/quarantine?limit=10", method: .get)
            #expect(response.status == .ok)
            let page = try FeedPage<FeedQuarantined>.decode(Data(response.body.readableBytesView))
            #expect(page.items.map(\.offset) == [41])
            #expect(page.items[0].value == "{")
            #expect(page.items[0].reason == "value is not JSON: unexpected end of input")
            #expect(response.text.hasPrefix(#"{"has_more":false,"items":[{"id":1,"key":null,"key_base64":null,"offset":41,"partition":2,"reason":"value is not JSON: unexpected end of input","received_at":""#))
        }
    }
}

@Suite("HTTP API authentication", .enabled(if: postgresConfigured))
struct AuthenticationTests {
    static let keys = TestKeys.directory(bankScope: [TestUSCC.b])
    static let all = [TestKeys.office, TestKeys.bank, TestKeys.ops]

    static func seed(_ store: PostgresStore) async throws {
        try await store.write(Seed.effects(alerts: [
            Seed.alert(rule: "r1", subject: TestUSCC.a, asOf: "2024-05-10"),
            Seed.alert(rule: "r2", subject: TestUSCC.b, asOf: "2024-05-10"),
            Seed.alert(rule: "r3", subject: TestUSCC.b, asOf: "2024-05-10"),
        ]))
    }

    @Test func aKeyIsRequiredUnlessAnonymousAccessIsAllowed() async throws {
        try await withTestAPI(configuration: APIConfiguration(), keys: Self.keys) { _, client in
            let missing = try await client.execute(uri: "/v1/alerts", method: .get)
            #expect(missing.status == .unauthorized)
            #expect(missing.headers[.wwwAuthenticate] == "Bearer")
            #expect(missing.text == #"{"error":{"code":"unauthorized","message":"missing API key: send the header 'Authorization: Bearer <key>'"}}"#)
            let malformed = try await client.execute(uri: "/v1/alerts", method: .get, headers: [.authorization: "Bearer nope"])
            #expect(malformed.status == .unauthorized)
            #expect(malformed.text == #"{"error":{"code":"unauthorized","message":"malformed API key: keys look like cwk_<12 hex digits>_<32 letters and digits>"}}"#)
            let unknown = try await client.execute(uri: "/v1/alerts", method: .get, headers: TestKeys.bearer(TestKeys.key(99, "nobody")))
            #expect(unknown.status == .unauthorized)
            #expect(unknown.text == #"{"error":{"code":"unauthorized","message":"unknown, expired or revoked API key"}}"#)
            // The right id with another secret is as unknown.
            let forged = String(TestKeys.office.prefix(17)) + String(repeating: "x", count: 32)
            #expect(try await client.execute(uri: "/v1/alerts", method: .get, headers: TestKeys.bearer(forged)).text == unknown.text)
            let basic = try await client.execute(uri: "/v1/alerts", method: .get, headers: [.authorization: "Basic b2s="])
            #expect(basic.text == #"{"error":{"code":"unauthorized","message":"the Authorization header must have the form 'Bearer <key>'"}}"#)
            let office = try await client.execute(uri: "/v1/alerts", method: .get, headers: [.authorization: "Bearer \(TestKeys.office)"])
            #expect(office.status == .ok)
            // Health and metrics stay open to probes and scrapers.
            #expect(try await client.execute(uri: "/health", method: .get).status == .ok)
            #expect(try await client.execute(uri: "/metrics", method: .get).status == .ok)
        }
    }

    @Test func anonymousAccessStillRefusesUnknownKeys() async throws {
        try await withTestAPI(configuration: APIConfiguration(allowAnonymous: true), keys: Self.keys) { _, client in
            #expect(try await client.execute(uri: "/v1/alerts", method: .get).status == .ok)
            let wrong = try await client.execute(uri: "/v1/alerts", method: .get, headers: [.authorization: "Bearer nope"])
            #expect(wrong.status == .unauthorized)
        }
    }

    @Test func alertEventsAndTagMembersFollowTheBanksScope() async throws {
        try await withTestAPI(configuration: APIConfiguration(), keys: Self.keys) { store, client in
            try await Self.seed(store)
            var withdraw = BatchEffects()
            withdraw.withdrawals = [AlertWithdrawal(alertID: 2, asOf: Day(iso: "2024-06-05")!, reason: "截至 2024-06-05 预警条件不再成立", ruleSetVersion: "rs2")]
            withdraw.tags = [TestUSCC.a, TestUSCC.b].map { uscc in
                EnterpriseTags(uscc: uscc, asOf: Day(iso: "2024-06-05")!, ruleSetVersion: "rs2", memberships: [
                    TagMembership(tag: "leading", tagVersion: "tv", title: "龙头企业", explanation: "近12个月纳税 6000000 元", values: [], sources: [])
                ])
            }
            try await store.write(withdraw)
            let bank: HTTPFields = [.authorization: "Bearer \(TestKeys.bank)"]
            let events = try await client.execute(uri: "/v1/alerts/events", method: .get, headers: bank)
            #expect(events.status == .ok)
            let page = try FeedPage<FeedEvent>.decode(Data(events.body.readableBytesView))
            #expect(page.items.map { "\($0.alertId) \($0.kind)" } == ["2 raised", "3 raised", "2 withdrawn"])
            #expect(page.items.last?.reason == "截至 2024-06-05 预警条件不再成立")
            let office = try await client.execute(uri: "/v1/alerts/events?after=3", method: .get, headers: [.authorization: "Bearer \(TestKeys.office)"])
            #expect(try FeedPage<FeedEvent>.decode(Data(office.body.readableBytesView)).items.map(\.id) == [4])

            let members = try await client.execute(uri: "/v1/tags/leading", method: .get, headers: bank)
            #expect(members.text == #"{"has_more":false,"items":[{"explanation":"近12个月纳税 6000000 元","name":"","since":"2024-06-05","uscc":"\#(TestUSCC.b)"}],"next_cursor":"\#(TestUSCC.b)"}"#)
            let bad = try await client.execute(uri: "/v1/tags/lead-ing", method: .get, headers: bank)
            #expect(bad.status == .badRequest)
        }
    }

    @Test func analystsAndOperatorsReloadRulesAndAFailedCheckIsA422() async throws {
        try await withTestAPI(configuration: APIConfiguration(), keys: Self.keys, rules: FixedRuleSet(failing: false)) { _, client in
            let bank = try await client.execute(uri: "/v1/rules/reload", method: .post, headers: [.authorization: "Bearer \(TestKeys.bank)"])
            #expect(bank.status == .forbidden)
            #expect(bank.text == #"{"error":{"code":"forbidden","message":"role bank_officer does not have the right 'reload_rules'"}}"#)
            let analyst = try await client.execute(uri: "/v1/rules/reload", method: .post, headers: [.authorization: "Bearer \(TestKeys.analyst)"])
            #expect(analyst.status == .ok)
            #expect(try JSONDecoder().decode(RuleSetStatus.self, from: Data(analyst.body.readableBytesView)).version == "v2")
            let unknownTag = try await client.execute(uri: "/v1/tags/famous", method: .get, headers: [.authorization: "Bearer \(TestKeys.office)"])
            #expect(unknownTag.status == .notFound)
            #expect(unknownTag.text == #"{"error":{"code":"not_found","message":"no tag 'famous' in the live rule set (tags: leading)","parameter":"tag"}}"#)
        }
        try await withTestAPI(configuration: APIConfiguration(), keys: Self.keys, rules: FixedRuleSet(failing: true)) { _, client in
            let failed = try await client.execute(uri: "/v1/rules/reload", method: .post, headers: [.authorization: "Bearer \(TestKeys.ops)"])
            #expect(failed.status == .unprocessableContent)
            #expect(failed.text == #"{"error":{"code":"invalid_rule_set","message":"the rule set fails the check; rule set v1 stays live:\nrules/tax.cwr:3:1: error: expected 'rule'"}}"#)
        }
    }

    @Test func banksSeeTheirScopeOnly() async throws {
        try await withTestAPI(configuration: APIConfiguration(), keys: Self.keys) { store, client in
            try await Self.seed(store)
            let bank: HTTPFields = [.authorization: "Bearer \(TestKeys.bank)"]
            func ids(_ headers: HTTPFields) async throws -> [Int64] {
                let response = try await client.execute(uri: "/v1/alerts", method: .get, headers: headers)
                return try FeedPage<FeedAlert>.decode(Data(response.body.readableBytesView)).items.map(\.id)
            }
            #expect(try await ids(bank) == [2, 3])
            #expect(try await ids([.authorization: "Bearer \(TestKeys.office)"]) == [1, 2, 3])

            let outside = try await client.execute(uri: "/v1/enterprises/\(TestUSCC.a)", method: .get, headers: bank)
            // Outside the bank's scope answers exactly as an enterprise nobody knows.
            #expect(outside.status == .notFound)
            #expect(outside.text == #"{"error":{"code":"not_found","message":"no enterprise with USCC \#(TestUSCC.a) is known","parameter":"uscc"}}"#)
            let inside = try await client.execute(uri: "/v1/enterprises/\(TestUSCC.b)", method: .get, headers: bank)
            #expect(inside.status == .ok)

            let quarantine = try await client.execute(uri: "/v1/quarantine", method: .get, headers: bank)
            #expect(quarantine.status == .forbidden)
            #expect(quarantine.text == #"{"error":{"code":"forbidden","message":"role bank_officer does not have the right 'read_quarantine'"}}"#)
            let operatorView = try await client.execute(uri: "/v1/quarantine", method: .get, headers: [.authorization: "Bearer \(TestKeys.ops)"])
            #expect(operatorView.text == #"{"has_more":false,"items":[],"next_cursor":null}"#)
        }
    }
}
