import CreditWatchCore
import Foundation
import RuleLanguage
import Testing

@testable import Access

@Suite("API keys")
struct APIKeyTests {
    @Test func aGeneratedKeyReadsBackAndMatchesOnlyItsOwnHash() throws {
        let key = APIKey.generate()
        #expect(key.text.count == 4 + 12 + 1 + 32)
        #expect(key.text.hasPrefix("cwk_"))
        let parsed = try #require(APIKey(presented: key.text))
        #expect(parsed == key)
        #expect(parsed.matches(storedHash: key.secretHash))
        #expect(!APIKey.generate().matches(storedHash: key.secretHash))
        #expect(!key.matches(storedHash: Array(key.secretHash.dropLast())))
        #expect(APIKey.generate() != APIKey.generate())
    }

    @Test func theStoredHashIsTheSecretsSHA256() throws {
        let key = try #require(APIKey(presented: "cwk_0123456789ab_" + String(repeating: "a", count: 32)))
        // sha256("a" × 32), computed independently (Python hashlib).
        #expect(key.secretHash.map { String(format: "%02x", $0) }.joined() == "3ba3f5f43b92602683c19aee62a20342b084dd5971ddd33808d81a328879a547")
        #expect(key.id == "0123456789ab")
    }

    @Test func malformedKeysAreRejected() {
        let secret = String(repeating: "Z", count: 32)
        for text in [
            "", "cwk_", "nope", "cwk_0123456789ab", "cwk_0123456789ab_", "CWK_0123456789ab_\(secret)", "cwk_0123456789a_\(secret)",
            "cwk_0123456789abc_\(secret)", "cwk_0123456789xy_\(secret)", "cwk_0123456789ab_\(secret.dropLast())",
            "cwk_0123456789ab_\(secret)Z", "cwk_0123456789ab_\(secret.dropLast())-", "cwk_0123456789ab_\(secret)_x",
            "cwk_0123456789ab_\(secret.dropLast())é",
        ] {
            #expect(APIKey(presented: text) == nil, "\(text)")
        }
        #expect(APIKey(presented: "cwk_0123456789AB_\(secret)")?.id == "0123456789ab", "the id is read case-insensitively")
    }
}

@Suite("Roles, rights and scopes")
struct RoleTests {
    /// The whole table, written out: a change to any role's rights must change this test.
    @Test func eachRoleHasExactlyItsRights() {
        let table = Dictionary(uniqueKeysWithValues: Role.allCases.map { ($0.rawValue, $0.permissions.map(\.rawValue).sorted()) })
        #expect(table == [
            "office_analyst": [
                "query", "read_alerts", "read_data_health", "read_enterprises", "read_market", "read_query_records", "read_rules",
                "supervise_market", "work_alerts",
            ],
            "office_admin": [
                "manage_access", "manage_own_keys", "manage_webhooks", "query", "read_alerts", "read_data_health", "read_enterprises",
                "read_market", "read_query_records", "read_rules", "supervise_market", "work_alerts",
            ],
            "rule_author": ["read_alerts", "read_data_health", "read_enterprises", "read_quarantine", "read_rules", "reload_rules"],
            "operator": ["read_alerts", "read_data_health", "read_enterprises", "read_quarantine", "read_rules", "reload_rules"],
            "auditor": ["read_audit", "read_query_records", "read_rules"],
            "bank_officer": ["lend", "manage_portfolio", "query", "read_alerts", "read_enterprises", "read_market", "read_rules"],
            "bank_admin": [
                "lend", "manage_own_keys", "manage_portfolio", "manage_webhooks", "query", "read_alerts", "read_enterprises", "read_market",
                "read_rules",
            ],
            "enterprise_user": ["borrow", "read_alerts", "read_enterprises", "read_market", "read_own_query_record", "read_rules"],
        ])
    }

    @Test func onlyOfficeRolesMayHoldThePersonalDataRight() {
        let bank = Organisation(id: 2, name: "城市商业银行", kind: .bank)
        let office = Organisation(id: 1, name: "金融办", kind: .financialOffice)
        #expect(!Principal(name: "b", organisation: bank, role: .bankAdmin, scope: .subjects([]), mayReadPersonalData: true).mayReadPersonalData)
        #expect(Principal(name: "o", organisation: office, role: .officeAnalyst, scope: .city, mayReadPersonalData: true).mayReadPersonalData)
        #expect(!Principal(name: "o", organisation: office, role: .officeAnalyst, scope: .city).mayReadPersonalData)
        #expect(Set(Role.allCases.filter(\.mayHoldPersonalDataRight)) == [.officeAnalyst, .officeAdmin, .auditor])
    }

    @Test func eachKindOfOrganisationReadsItsOwnScope() {
        let portfolio: Set<String> = ["A", "B"]
        func scope(_ kind: OrganisationKind, district: String? = nil, uscc: String? = nil) -> Scope {
            Principal.scope(of: Organisation(id: 1, name: "x", kind: kind, district: district, uscc: uscc), portfolio: portfolio)
        }
        #expect(scope(.financialOffice) == .city)
        #expect(scope(.districtOffice, district: "430602") == .district("430602"))
        #expect(scope(.bank) == .subjects(["A", "B"]))
        #expect(scope(.enterprise, uscc: "U") == .subjects(["U"]))
        #expect(scope(.department) == .subjects([]))
        #expect(Scope.district("430602").admits("U", district: "430602"))
        #expect(!Scope.district("430602").admits("U", district: "430603"))
        #expect(!Scope.district("430602").admits("U", district: nil))
        #expect(!Scope.subjects(["A"]).admits("B", district: nil))
        #expect(Scope.city.admits("B", district: nil))
    }
}

@Suite("One-click query rules")
struct QueryRuleTests {
    static let uscc = "91430602MA4L00001" + String(USCC.checkCharacter(forFirst17: "91430602MA4L00001")!)
    static let person = "430602198001011230"

    @Test func aSubjectIsAUSCCOrAResidentID() {
        #expect(QuerySubject.parse(Self.uscc) == .enterprise(try! USCC(validating: Self.uscc)))
        #expect(QuerySubject.parse(Self.person)?.kind == "person")
        #expect(QuerySubject.parse("43060219800101123X") == nil, "wrong check digit")
        #expect(QuerySubject.parse("") == nil)
    }

    @Test func personsAndBanksNeedTheSubjectsAuthorisation() {
        let bank = Principal(name: "b", organisation: Organisation(id: 2, name: "银行", kind: .bank), role: .bankOfficer, scope: .subjects([]))
        let office = Principal(name: "o", organisation: Organisation(id: 1, name: "金融办", kind: .financialOffice), role: .officeAnalyst, scope: .city)
        let enterprise = QuerySubject.parse(Self.uscc)!
        let person = QuerySubject.parse(Self.person)!
        #expect(queryNeedsAuthorisation(enterprise, by: bank))
        #expect(queryNeedsAuthorisation(person, by: bank))
        #expect(queryNeedsAuthorisation(person, by: office))
        #expect(!queryNeedsAuthorisation(enterprise, by: office))
        #expect(QueryPurpose.allCases.filter(\.isLending) == [.preLoanReview, .postLoanManagement, .creditApproval])
    }

    @Test func anAuthorisationCoversTheDaysOfItsValidityOnly() {
        let valid = QueryAuthorisation(reference: "SQ-2026-001", scope: "贷前审查", validFrom: "2026-01-01", validUntil: "2026-12-31")
        #expect(valid.problem(on: Day(iso: "2026-01-01")!) == nil)
        #expect(valid.problem(on: Day(iso: "2026-12-31")!) == nil)
        #expect(valid.problem(on: Day(iso: "2027-01-01")!) == "the authorisation expired on 2026-12-31")
        #expect(valid.problem(on: Day(iso: "2025-12-31")!) == "the authorisation is valid only from 2026-01-01")
        var broken = valid
        broken.reference = "  "
        #expect(broken.problem(on: Day(iso: "2026-06-01")!) == "authorisation.reference is empty")
        broken = valid
        broken.validUntil = "2026-13-01"
        #expect(broken.problem(on: Day(iso: "2026-06-01")!) == "authorisation.valid_until must be a date YYYY-MM-DD, got '2026-13-01'")
        broken = valid
        broken.validUntil = "2025-06-01"
        #expect(broken.problem(on: Day(iso: "2025-06-01")!) == "authorisation.valid_until 2025-06-01 is before valid_from 2026-01-01")
    }

    @Test func todayIsTheCitysDay() {
        // 2026-12-02 17:00 UTC is 2026-12-03 01:00 in the city (UTC+8).
        #expect(Day.today(now: Date(timeIntervalSince1970: 1_796_230_800)).description == "2026-12-03")
        #expect(Day.today(now: Date(timeIntervalSince1970: 1_796_230_800 - 3_601)).description == "2026-12-02")
    }
}
