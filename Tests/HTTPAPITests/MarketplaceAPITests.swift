import Access
import CreditWatchCore
import Foundation
import HTTPAPI
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Marketplace
import MarketplaceStore
import PostgresNIO
import RuleLanguage
import Testing

@testable import AccessStore

/// The shipped rule set as the marketplace's engine. The feature windows are a stand-in: every
/// enterprise is what its registration says (established 2015-03-02, as `Seed.registration`
/// writes it) with no other records, so a verdict is the real rule language over known facts.
struct ShippedRulesEligibility: EligibilityEngine {
    let sources: [SourceFile]
    let schema: Schema
    let today: Day

    init(catalog: TopicCatalog, today: Day) throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../rules").standardized
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".cwr") }.sorted()
        sources = try names.map { SourceFile(path: "rules/\($0)", text: try String(contentsOfFile: folder.appendingPathComponent($0).path, encoding: .utf8)) }
        schema = catalog.schema
        self.today = today
    }

    func check(_ condition: String) async -> [String] { Eligibility.check(condition, ruleSources: sources, schema: schema) }

    func verdict(_ condition: String, for uscc: String) async throws -> EligibilityVerdict {
        let program = try Eligibility.compile(condition, ruleSources: sources, schema: schema).get()
        let established = Day(iso: "2015-03-02")!
        let registration = FactRecord(
            topic: "market.enterprise", key: uscc, eventDay: established,
            fields: ["uscc": .string(uscc), "established_date": .date(established), "status": .string("存续"), "industry_code": .string("C3011")])
        return Eligibility.verdict(
            program, condition: condition, entity: EntityData(entity: uscc, asOf: today, records: ["market.enterprise": [registration]]))
    }
}

@Suite("The financing marketplace through the API, on PostgreSQL", .enabled(if: postgresConfigured), .serialized)
struct MarketplaceAPITests {
    static func product(eligibility: String, minimum: Int64 = 10_000_000) -> String {
        let condition = String(decoding: try! JSONEncoder().encode(eligibility), as: UTF8.self)
        return #"""
            {"name":"科技贷","kind":"信用贷","minimum_amount_fen":\#(minimum),"maximum_amount_fen":500000000,"minimum_term_months":6,
             "maximum_term_months":36,"minimum_rate_bp":300,"maximum_rate_bp":600,"methods":["equal_instalment","equal_principal"],
             "industries":["C"],"eligibility":\#(condition)}
            """#
    }
    static let authorisation = #"{"reference":"SQ-2026-0042","scope":"贷前审查及贷后管理","valid_from":"2026-01-01","valid_until":"2027-12-31"}"#
    static let need = #"{"amount_fen":50000000,"term_months":12,"purpose":"采购原材料","collateral":"厂房抵押","authorisation":\#(authorisation)}"#
    static func application(product: Int64, amount: Int64 = 100_000_000) -> String {
        #"{"product_id":\#(product),"amount_fen":\#(amount),"term_months":12,"method":"equal_instalment","purpose":"扩大生产","authorisation":\#(authorisation)}"#
    }

    typealias Client = any TestClientProtocol

    static func json(_ response: TestResponse) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))) as? [String: Any] ?? [:]
    }

    static func post(_ client: Client, _ uri: String, _ body: String?, as headers: HTTPFields, key: String? = nil) async throws -> TestResponse {
        var headers = headers
        headers[.contentType] = "application/json"
        if let key { headers[HTTPField.Name("Idempotency-Key")!] = key }
        return try await client.execute(uri: uri, method: .post, headers: headers, body: body.map { ByteBuffer(string: $0) })
    }

    /// A published product of the test bank, and its id.
    static func publishedProduct(_ client: Client, _ callers: AccessLayerTests.Callers, eligibility: String = "") async throws -> Int64 {
        let created = try await post(client, "/v1/market/products", product(eligibility: eligibility), as: callers.bearer("bank_officer"))
        #expect(created.status == .created, "\(created.text)")
        let id = json(created)["id"] as! Int64
        let published = try await post(client, "/v1/market/products/\(id)/actions", #"{"action":"publish","version":0}"#, as: callers.bearer("bank_officer"))
        #expect(json(published)["status"] as? String == "published")
        return id
    }

    static func step(_ client: Client, _ callers: AccessLayerTests.Callers, _ id: Int64, _ body: String, as caller: String = "bank_officer") async throws -> TestResponse {
        try await post(client, "/v1/market/applications/\(id)/actions", body, as: callers.bearer(caller))
    }

    @Test func anApplicationGoesFromSubmissionThroughTwoTranchesToClosure() async throws {
        try await AccessLayerTests.withStores { stores, callers, client in
            let bank = callers.bearer("bank_officer")
            // Enterprise a is outside the bank's portfolio: out of scope until it applies.
            #expect(try await client.execute(uri: "/v1/enterprises/\(TestUSCC.a)", method: .get, headers: bank).status == .notFound)
            let before = try await client.execute(uri: "/v1/alerts", method: .get, headers: bank)
            #expect(((Self.json(before)["items"] as? [[String: Any]]) ?? []).compactMap { $0["subject_id"] as? String } == [TestUSCC.b])
            let product = try await Self.publishedProduct(client, callers, eligibility: "established_years >= 2 and dishonest_active_count == 0")
            let submitted = try await Self.post(client, "/v1/market/applications", Self.application(product: product), as: callers.bearer("enterprise_user"))
            #expect(submitted.status == .created, "\(submitted.text)")
            let application = Self.json(submitted)
            let id = application["id"] as! Int64
            #expect(application["status"] as? String == "submitted")
            #expect(application["submitted_on"] as? String == "2026-06-01")
            // Five working days from Monday 1 June: 2, 3, 4, 5 and Monday 8 June.
            #expect(application["accept_by"] as? String == "2026-06-08")
            #expect(try await client.execute(uri: "/v1/enterprises/\(TestUSCC.a)", method: .get, headers: bank).status == .ok)
            // The applicant's alerts reach the bank's feed from its application on.
            let feed = try await client.execute(uri: "/v1/alerts", method: .get, headers: bank)
            #expect(((Self.json(feed)["items"] as? [[String: Any]]) ?? []).compactMap { $0["subject_id"] as? String }.sorted() == [TestUSCC.a, TestUSCC.b].sorted())

            for (body, status) in [
                (#"{"action":"accept"}"#, "accepted"), (#"{"action":"start_review","version":1}"#, "under_review"),
                (#"{"action":"approve","amount_fen":100000000,"term_months":12,"rate_bp":435,"method":"equal_instalment"}"#, "approved"),
                (#"{"action":"disburse","amount_fen":60000000}"#, "disbursed"), (#"{"action":"disburse","amount_fen":40000000,"on":"2026-05-29"}"#, "disbursed"),
            ] {
                let response = try await Self.step(client, callers, id, body)
                #expect(response.status == .ok, "\(body): \(response.text)")
                #expect(Self.json(response)["status"] as? String == status, "\(body)")
            }
            let shown = try await client.execute(uri: "/v1/market/applications/\(id)", method: .get, headers: bank)
            let view = Self.json(shown)
            #expect(view["disbursed_fen"] as? Int64 == 100_000_000)
            let loans = view["loans"] as! [[String: Any]]
            #expect(loans.map { $0["principal_fen"] as! Int64 } == [60_000_000, 40_000_000])
            let schedule = loans[0]["schedule"] as! [[String: Any]]
            #expect(schedule.count == 12)
            #expect(schedule.first.map { "\($0["due"]!) \($0["principal_fen"]!) \($0["interest_fen"]!)" } == "2026-07-01 4901094 217500")
            #expect(schedule.last.map { "\($0["due"]!) \($0["principal_fen"]!) \($0["interest_fen"]!)" } == "2027-06-01 5100107 18488")
            // The 29 May tranche falls due on the 29th, and on 28 February in 2027.
            let second = loans[1]["schedule"] as! [[String: Any]]
            #expect(second.map { $0["due"] as! String }[8] == "2027-02-28")
            #expect((view["events"] as! [[String: Any]]).map { $0["action"] as! String } == ["submit", "accept", "start_review", "approve", "disburse", "disburse"])
            #expect((view["alerts"] as? [[String: Any]])?.map { $0["rule"] as? String } == ["r1"])

            // Repaid in full: the application closes and the bank's view of the enterprise ends.
            let total1 = schedule.reduce(Int64(0)) { $0 + ($1["total_fen"] as! Int64) }
            let total2 = second.reduce(Int64(0)) { $0 + ($1["total_fen"] as! Int64) }
            #expect(total1 == 61_423_129)
            let loanIDs = loans.map { $0["id"] as! Int64 }
            let first = try await Self.post(client, "/v1/market/loans/\(loanIDs[0])/repayments", #"{"amount_fen":\#(total1)}"#, as: bank)
            #expect(first.status == .created, "\(first.text)")
            #expect(Self.json(first)["status"] as? String == "repaying")
            let tooMuch = try await Self.post(client, "/v1/market/loans/\(loanIDs[1])/repayments", #"{"amount_fen":\#(total2 + 1)}"#, as: bank)
            #expect(tooMuch.status == .badRequest)
            #expect(tooMuch.text == #"{"error":{"code":"invalid_parameter","message":"a repayment is between 0.01 and what the loan still owes, \#(Fen(total2).yuan); got \#(Fen(total2 + 1).yuan)"}}"#)
            let last = try await Self.post(client, "/v1/market/loans/\(loanIDs[1])/repayments", #"{"amount_fen":\#(total2)}"#, as: bank)
            #expect(Self.json(last)["status"] as? String == "closed", "\(last.text)")
            #expect(try await client.execute(uri: "/v1/enterprises/\(TestUSCC.a)", method: .get, headers: bank).status == .notFound)

            // Every step is in the audit log, with its actor.
            let audit = try await stores.access.audit(AuditFilter(subjectID: String(id)), after: nil, limit: 50).records
            #expect(audit.filter { $0.entry.subjectKind == "application" }.map(\.entry.action) == [
                "market_application_submit", "market_application_accept", "market_application_start_review", "market_application_approve",
                "market_application_disburse", "market_application_disburse",
            ])
        }
    }

    @Test func illegalStepsAreRefusedWithTheCurrentState() async throws {
        try await AccessLayerTests.withStores { _, callers, client in
            let product = try await Self.publishedProduct(client, callers)
            let id = Self.json(try await Self.post(client, "/v1/market/applications", Self.application(product: product), as: callers.bearer("enterprise_user")))["id"] as! Int64
            let early = try await Self.step(client, callers, id, #"{"action":"approve","amount_fen":1000,"term_months":12,"rate_bp":400,"method":"equal_principal"}"#)
            #expect(early.status == .conflict)
            #expect(early.text == #"{"error":{"code":"conflict","current":{"disbursed":"0","status":"submitted","version":"0"},"message":"approve needs the application under_review; it is submitted"}}"#)
            let stale = try await Self.step(client, callers, id, #"{"action":"accept","version":3}"#)
            #expect(stale.text == #"{"error":{"code":"conflict","current":{"disbursed":"0","status":"submitted","version":"0"},"message":"the application changed: version 0, not 3"}}"#)
            let enterpriseAccepts = try await Self.step(client, callers, id, #"{"action":"accept"}"#, as: "enterprise_user")
            #expect(enterpriseAccepts.status == .forbidden)
            #expect(enterpriseAccepts.text == #"{"error":{"code":"forbidden","message":"only the application's bank may accept it"}}"#)
            let noReason = try await Self.step(client, callers, id, #"{"action":"withdraw"}"#, as: "enterprise_user")
            #expect(noReason.text == #"{"error":{"code":"invalid_parameter","message":"withdraw needs 'reason'","parameter":"reason"}}"#)
            let withdrawn = try await Self.step(client, callers, id, #"{"action":"withdraw","reason":"已获他行贷款"}"#, as: "enterprise_user")
            #expect(Self.json(withdrawn)["status"] as? String == "withdrawn")
            #expect(Self.json(withdrawn)["reason"] as? String == "已获他行贷款")
            let after = try await Self.step(client, callers, id, #"{"action":"accept"}"#)
            #expect(after.text == #"{"error":{"code":"conflict","current":{"disbursed":"0","status":"withdrawn","version":"1"},"message":"accept needs the application submitted; it is withdrawn"}}"#)
            // Nobody else sees it: not a district office of another district, not another enterprise.
            let district = try await client.execute(uri: "/v1/market/applications/\(id)", method: .get, headers: callers.bearer("district_analyst"))
            #expect(district.status == .notFound)
            let office = try await client.execute(uri: "/v1/market/applications/\(id)", method: .get, headers: callers.bearer("office_analyst"))
            #expect(office.status == .ok)
        }
    }

    @Test func twoReviewersApprovingAtOnceOneWins() async throws {
        try await AccessLayerTests.withStores { _, callers, client in
            let product = try await Self.publishedProduct(client, callers)
            let id = Self.json(try await Self.post(client, "/v1/market/applications", Self.application(product: product), as: callers.bearer("enterprise_user")))["id"] as! Int64
            _ = try await Self.step(client, callers, id, #"{"action":"accept"}"#)
            _ = try await Self.step(client, callers, id, #"{"action":"start_review"}"#)
            let approve = #"{"action":"approve","amount_fen":100000000,"term_months":12,"rate_bp":435,"method":"equal_instalment"}"#
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for reviewer in ["bank_officer", "bank_admin", "bank_officer", "bank_admin"] {
                    group.addTask { Int(try await Self.step(client, callers, id, approve, as: reviewer).status.code) }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.sorted() == [200, 409, 409, 409])
            let events = Self.json(try await client.execute(uri: "/v1/market/applications/\(id)", method: .get, headers: callers.bearer("bank_officer")))["events"] as! [[String: Any]]
            #expect(events.filter { $0["action"] as? String == "approve" }.count == 1)
        }
    }

    @Test func aRetriedDisbursementWithItsIdempotencyKeyPaysOutOnce() async throws {
        try await AccessLayerTests.withStores { _, callers, client in
            let bank = callers.bearer("bank_officer")
            let product = try await Self.publishedProduct(client, callers)
            let id = Self.json(try await Self.post(client, "/v1/market/applications", Self.application(product: product), as: callers.bearer("enterprise_user")))["id"] as! Int64
            for body in [#"{"action":"accept"}"#, #"{"action":"start_review"}"#, #"{"action":"approve","amount_fen":100000000,"term_months":12,"rate_bp":435,"method":"equal_instalment"}"#] {
                _ = try await Self.step(client, callers, id, body)
            }
            let disburse = #"{"action":"disburse","amount_fen":30000000}"#
            let first = try await Self.post(client, "/v1/market/applications/\(id)/actions", disburse, as: bank, key: "pay-7f3a")
            let retry = try await Self.post(client, "/v1/market/applications/\(id)/actions", disburse, as: bank, key: "pay-7f3a")
            #expect(first.status == .ok)
            #expect(retry.status == .ok)
            #expect(Self.json(retry)["disbursed_fen"] as? Int64 == 30_000_000)
            #expect((Self.json(retry)["loans"] as! [Any]).count == 1)
            let reused = try await Self.post(client, "/v1/market/applications/\(id)/actions", #"{"action":"disburse","amount_fen":1}"#, as: bank, key: "pay-7f3a")
            #expect(reused.text == #"{"error":{"code":"invalid_parameter","message":"Idempotency-Key 'pay-7f3a' was used for another request; use a new key"}}"#)
            let other = try await Self.post(client, "/v1/market/applications/\(id)/actions", disburse, as: bank, key: "pay-8b1c")
            #expect(Self.json(other)["disbursed_fen"] as? Int64 == 60_000_000)

            // A submission retried with its key, even at once, makes one application.
            let enterprise = callers.bearer("enterprise_user")
            let submissions = try await withThrowingTaskGroup(of: (Int, Int64?).self) { group in
                for _ in 0..<3 {
                    group.addTask {
                        let response = try await Self.post(client, "/v1/market/applications", Self.application(product: product), as: enterprise, key: "apply-1")
                        return (Int(response.status.code), Self.json(response)["id"] as? Int64)
                    }
                }
                return try await group.reduce(into: [(Int, Int64?)]()) { $0.append($1) }
            }
            #expect(submissions.map(\.0) == [201, 201, 201])
            #expect(Set(submissions.compactMap(\.1)).count == 1)
            let mine = Self.json(try await client.execute(uri: "/v1/market/applications", method: .get, headers: enterprise))
            #expect((mine["items"] as? [Any])?.count == 2)
            let changed = try await Self.post(client, "/v1/market/applications", Self.application(product: product, amount: 200_000_000), as: enterprise, key: "apply-1")
            #expect(changed.text == #"{"error":{"code":"invalid_parameter","message":"Idempotency-Key 'apply-1' was used for another request; use a new key"}}"#)

            // A claim retried with its key answers the claimed need, not a 409.
            let need = Self.json(try await Self.post(client, "/v1/market/needs", Self.need, as: enterprise))["id"] as! Int64
            let claim = try await Self.post(client, "/v1/market/needs/\(need)/claim", nil, as: bank, key: "claim-1")
            let again = try await Self.post(client, "/v1/market/needs/\(need)/claim", nil, as: bank, key: "claim-1")
            #expect(claim.status == .ok)
            #expect(again.status == .ok)
            #expect(Self.json(again)["application_id"] as? Int64 == Self.json(claim)["application_id"] as? Int64)
            let unkeyed = try await Self.post(client, "/v1/market/needs/\(need)/claim", nil, as: bank)
            #expect(unkeyed.status == .conflict)
        }
    }

    @Test func productsAreCheckedAgainstTheRuleSetAndApplicantsAgainstTheirCondition() async throws {
        try await AccessLayerTests.withStores { _, callers, client in
            let bank = callers.bearer("bank_officer")
            let typo = try await Self.post(client, "/v1/market/products", Self.product(eligibility: "established_years >= 2 and\n  dishonest_count == 0"), as: bank)
            #expect(typo.status == .unprocessableContent)
            let message = (Self.json(typo)["error"] as? [String: Any])?["message"] as? String
            #expect(message == "the eligibility condition fails the rule-set check:\neligibility:2:3: unknown feature 'dishonest_count'", "\(typo.text)")
            let unsound = try await Self.post(client, "/v1/market/products", Self.product(eligibility: "", minimum: 600_000_000), as: bank)
            #expect(unsound.status == .unprocessableContent)
            #expect(unsound.text.contains("amounts must satisfy 0 < minimum_amount ≤ maximum_amount"))

            let strict = try await Self.publishedProduct(client, callers, eligibility: "established_years >= 20")
            let refused = try await Self.post(client, "/v1/market/applications", Self.application(product: strict), as: callers.bearer("enterprise_user"))
            #expect(refused.status == .unprocessableContent)
            let problems = (Self.json(refused)["error"] as? [String: Any])?["problems"] as? [[String: Any]]
            #expect(problems?.count == 1)
            #expect(problems?.first?["message"] as? String
                == "the enterprise does not meet the product's condition established_years >= 20 (established_years = 11.257534246575343)", "\(refused.text)")
            let outside = try await Self.post(client, "/v1/market/applications", Self.application(product: strict, amount: 5_000_000), as: callers.bearer("enterprise_user"))
            let outsideProblems = (Self.json(outside)["error"] as? [String: Any])?["problems"] as? [[String: Any]]
            #expect(outsideProblems?.map { $0["message"] as? String } == ["amount 50000.00 is outside the product's 100000.00…5000000.00 yuan"], "\(outside.text)")
        }
    }

    @Test func theReviewStartsWithAFrozenCreditReportReadOnlyUnderAValidAuthorisation() async throws {
        try await AccessLayerTests.withStores { stores, callers, client in
            let bank = callers.bearer("bank_officer")
            let product = try await Self.publishedProduct(client, callers)
            let shortAuthorisation = #"{"reference":"SQ-2026-0077","scope":"贷前审查","valid_from":"2026-05-01","valid_until":"2026-06-30"}"#
            let body = Self.application(product: product).replacingOccurrences(of: Self.authorisation, with: shortAuthorisation)
            let id = Self.json(try await Self.post(client, "/v1/market/applications", body, as: callers.bearer("enterprise_user")))["id"] as! Int64
            let early = try await client.execute(uri: "/v1/market/applications/\(id)/report", method: .get, headers: bank)
            #expect(early.status == .notFound)
            #expect(early.text == #"{"error":{"code":"not_found","message":"application \#(id) has no credit report yet: it is frozen when the review starts"}}"#)
            _ = try await Self.step(client, callers, id, #"{"action":"accept"}"#)
            #expect(try await Self.step(client, callers, id, #"{"action":"start_review"}"#).status == .ok)

            let report = try await client.execute(uri: "/v1/market/applications/\(id)/report", method: .get, headers: bank)
            #expect(report.status == .ok)
            let json = Self.json(report)
            #expect(json["title"] as? String == "企业信用报告")
            #expect(json["uscc"] as? String == TestUSCC.a)
            #expect(json["prepared_for"] as? String == "城市商业银行")
            #expect(json["reviewer"] as? String == "bank_officer")
            #expect(json["as_of"] as? String == "2026-06-01")
            #expect((json["registration"] as? [String: Any])?["name"] as? String == "长沙湘江机械有限公司")
            #expect((json["active_alerts"] as? [[String: Any]])?.map { $0["rule"] as? String } == ["r1"])
            #expect((json["negative_records"] as? [Any])?.isEmpty == true)
            #expect((json["authorisation"] as? [String: Any])?["reference"] as? String == "SQ-2026-0077")
            // The legal representative's ID number is masked for the bank.
            #expect(!report.text.contains("43060219800101123X"))
            #expect(report.text.contains("430***********123X"))

            let page = try await client.execute(uri: "/v1/market/applications/\(id)/report?format=html", method: .get, headers: bank)
            #expect(page.headers[.contentType] == "text/html; charset=utf-8")
            #expect(page.text.contains("<h1>企业信用报告</h1>"))
            #expect(page.text.contains("长沙湘江机械有限公司 · 统一社会信用代码 \(TestUSCC.a) · 报告日期 2026-06-01"))

            // The report stays as the reviewer saw it; after the authorisation lapses the bank cannot read it.
            stores.today.set(Day(iso: "2026-07-01")!)
            let lapsed = try await client.execute(uri: "/v1/market/applications/\(id)/report", method: .get, headers: bank)
            #expect(lapsed.status == .forbidden)
            #expect(lapsed.text == #"{"error":{"code":"forbidden","message":"the enterprise's authorisation does not cover this read: the authorisation expired on 2026-06-30"}}"#)
            let reads = try await stores.access.audit(AuditFilter(subjectID: TestUSCC.a, action: "market_report_read"), after: nil, limit: 10).records
            #expect(reads.map { "\($0.entry.outcome.rawValue) \($0.entry.purpose ?? "-") \($0.entry.reason ?? "-")" } == [
                "allowed 贷前审查 -", "allowed 贷前审查 -", "refused 贷前审查 the authorisation expired on 2026-06-30",
            ])
            #expect(reads.first?.entry.authorisation?.contains("SQ-2026-0077") == true)
        }
    }

    @Test func matchesStatisticsAndOutcomesThroughTheAPI() async throws {
        try await AccessLayerTests.withStores { _, callers, client in
            let product = try await Self.publishedProduct(client, callers, eligibility: "established_years >= 2")
            let matches = try await client.execute(
                uri: "/v1/market/matches/products?amount_fen=100000000&term_months=48", method: .get, headers: callers.bearer("enterprise_user"))
            let items = Self.json(matches)["items"] as? [[String: Any]] ?? []
            #expect(items.count == 1, "\(matches.text)")
            #expect(items.first?["eligible"] as? Bool == false)
            let conditions = items.first?["conditions"] as? [[String: Any]] ?? []
            #expect(conditions.map { "\($0["name"]!) \($0["held"]!)" } == ["行业 1", "金额 1", "期限 0", "准入条件 1"])
            #expect(conditions.last?["detail"] as? String == "established_years >= 2（established_years = 11.257534246575343）")

            _ = try await Self.post(client, "/v1/market/needs", Self.need, as: callers.bearer("enterprise_user"))
            let needs = Self.json(try await client.execute(uri: "/v1/market/matches/needs", method: .get, headers: callers.bearer("bank_officer")))
            let best = (needs["items"] as? [[String: Any]])?.first?["best"] as? [String: Any]
            #expect(best?["eligible"] as? Bool == true)
            #expect((best?["product"] as? [String: Any])?["id"] as? Int64 == product)

            let id = Self.json(try await Self.post(client, "/v1/market/applications", Self.application(product: product), as: callers.bearer("enterprise_user")))["id"] as! Int64
            _ = try await Self.step(client, callers, id, #"{"action":"accept"}"#)
            // Steps and needs count on their business day (the API's, 1 June), not the clock's.
            let stats = Self.json(try await client.execute(uri: "/v1/market/stats", method: .get, headers: callers.bearer("office_analyst")))
            #expect(stats["from"] as? String == "2025-06-02")
            #expect(stats["applications"] as? Int == 1)
            #expect(stats["applications_by_status"] as? [String: Int] == ["accepted": 1])
            #expect(stats["median_days_to_first_response"] as? Double == 0)
            #expect(stats["needs"] as? Int == 1)
            #expect(stats["published_products_by_kind"] as? [String: Int] == ["信用贷": 1])
            let outcomes = try await client.execute(uri: "/v1/market/outcomes", method: .get, headers: callers.bearer("office_analyst"))
            #expect(outcomes.text == #"{"bad_loans":0,"from":"2025-06-02","loans":0,"rules":[],"to":"2026-06-01"}"#)
            let bankOutcomes = try await client.execute(uri: "/v1/market/outcomes", method: .get, headers: callers.bearer("bank_officer"))
            #expect(bankOutcomes.status == .forbidden)
        }
    }

    @Test func theFirstBankToClaimANeedWinsAndUnacceptedApplicationsExpire() async throws {
        try await AccessLayerTests.withStores { stores, callers, client in
            let rival = try await stores.access.ensureOrganisation(name: "农村商业银行", kind: .bank, district: nil, uscc: nil)
            let rivalKey = try await stores.access.createKey(
                for: try await stores.access.ensureUser("rival_officer", of: rival, role: .bankOfficer, personalData: false), label: "", expiresAt: nil,
                by: "test").0.text
            let need = Self.json(try await Self.post(client, "/v1/market/needs", Self.need, as: callers.bearer("enterprise_user")))["id"] as! Int64
            let claims = try await withThrowingTaskGroup(of: (String, Int).self) { group in
                for (name, headers) in [("城市商业银行", callers.bearer("bank_officer")), ("农村商业银行", TestKeys.bearer(rivalKey))] {
                    group.addTask { (name, Int(try await Self.post(client, "/v1/market/needs/\(need)/claim", nil, as: headers).status.code)) }
                }
                return try await group.reduce(into: [String: Int]()) { $0[$1.0] = $1.1 }
            }
            #expect(claims.values.sorted() == [200, 409])
            let winner = claims.first { $0.value == 200 }!.key
            let claimed = Self.json(try await client.execute(uri: "/v1/market/needs", method: .get, headers: callers.bearer("enterprise_user")))
            let row = (claimed["items"] as? [[String: Any]])?.first
            #expect(row?["status"] as? String == "claimed")
            let application = row?["application_id"] as? Int64
            let winnerHeaders = winner == "城市商业银行" ? callers.bearer("bank_officer") : TestKeys.bearer(rivalKey)
            let opened = Self.json(try await client.execute(uri: "/v1/market/applications/\(application ?? 0)", method: .get, headers: winnerHeaders))
            #expect(opened["status"] as? String == "accepted")
            #expect(opened["bank_name"] as? String == winner)
            // The borrower's alert is in the winner's feed, not in the other bank's.
            let loserHeaders = winner == "城市商业银行" ? TestKeys.bearer(rivalKey) : callers.bearer("bank_officer")
            func feed(_ headers: HTTPFields) async throws -> [String] {
                let page = Self.json(try await client.execute(uri: "/v1/alerts", method: .get, headers: headers))
                return ((page["items"] as? [[String: Any]]) ?? []).compactMap { $0["subject_id"] as? String }
            }
            #expect(try await feed(winnerHeaders).contains(TestUSCC.a))
            #expect(try await !feed(loserHeaders).contains(TestUSCC.a))

            // A submitted application nobody accepts expires after its deadline (8 June), not on it.
            let product = try await Self.publishedProduct(client, callers)
            let id = Self.json(try await Self.post(client, "/v1/market/applications", Self.application(product: product), as: callers.bearer("enterprise_user")))["id"] as! Int64
            #expect(try await stores.market.expireApplications(today: Day(iso: "2026-06-08")!) == [])
            #expect(try await stores.market.expireApplications(today: Day(iso: "2026-06-09")!) == [id])
            let expired = Self.json(try await client.execute(uri: "/v1/market/applications/\(id)", method: .get, headers: callers.bearer("enterprise_user")))
            #expect(expired["status"] as? String == "expired")
            #expect((expired["events"] as? [[String: Any]])?.last?["actor"] as? String == "platform")
            let late = try await Self.step(client, callers, id, #"{"action":"accept"}"#)
            #expect(late.status == .conflict)
        }
    }
}

