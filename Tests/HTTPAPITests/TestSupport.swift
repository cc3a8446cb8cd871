import Access
import CreditWatchCore
import Foundation
import HTTPAPI
import Hummingbird
import HummingbirdTesting
import Logging
import PostgresNIO
import Prometheus
import RuleLanguage
import Testing

@testable import PostgresStore

/// Whether the PostgreSQL tests run: when ops/test.sh set the server's address, and always in CI
/// (there a missing server fails the suite instead of skipping it).
let postgresConfigured =
    ProcessInfo.processInfo.environment["CREDITWATCH_PG_HOST"] != nil || ProcessInfo.processInfo.environment["CI"] == "true"

/// Feature values served to the enterprise route.
struct FixedFeatures: EnterpriseFeatureSource {
    var values: [String: [NamedValue]] = [:]
    var failing = false

    func features(of uscc: String) async throws -> [NamedValue] {
        if failing { throw CancellationError() }
        return values[uscc] ?? []
    }
}

func testStoreConfiguration() -> PostgresStore.Configuration {
    let environment = ProcessInfo.processInfo.environment
    var configuration = PostgresStore.Configuration(environment: environment)
    configuration.database = environment["CREDITWATCH_PG_TEST_DATABASE"] ?? "creditwatch_test"
    configuration.schema = "test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
    configuration.maximumConnections = 2
    return configuration
}

/// The personal fields of the shipped catalog (`topics/`) that these tests' records carry.
let shippedPersonalFields: PersonalFields = [
    "market.enterprise": ["legal_rep_name": .name, "legal_rep_id": .idNumber],
    "court.dishonest": ["id_number": .idNumber],
]

/// Runs `body` with a migrated store on a fresh schema and the API application around it.
func withTestAPI(
    configuration: APIConfiguration = APIConfiguration(allowAnonymous: true),
    keys: any KeyDirectory = StaticKeyDirectory([:]),
    features: FixedFeatures = FixedFeatures(),
    storeConfiguration: PostgresStore.Configuration = testStoreConfiguration(),
    migrate: Bool = true,
    rules: (any RuleSetControl)? = nil,
    ingest: IngestHealth? = nil,
    personalFields: PersonalFields = shippedPersonalFields,
    _ body: @Sendable (PostgresStore, any TestClientProtocol) async throws -> Void
) async throws {
    var logger = Logger(label: "test")
    logger.logLevel = .error
    let store = try PostgresStore(configuration: storeConfiguration, catalog: TopicCatalog(topics: []), logger: logger)
    let app = buildApplication(
        configuration: configuration, keys: keys, readModels: .postgres(store, access: nil), personalFields: personalFields, features: features, metrics: PrometheusCollectorRegistry(),
        logger: logger, rules: rules, ingest: ingest)
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { await store.run() }
        defer { group.cancelAll() }
        var failure: (any Error)?
        do {
            if migrate { try await store.migrate() }
            try await app.test(.router) { client in try await body(store, client) }
        } catch {
            failure = error
        }
        if migrate {
            _ = try? await store.client.query("DROP SCHEMA \(unescaped: storeConfiguration.schema!) CASCADE", logger: logger)
        }
        if let failure { throw failure }
    }
}

extension TestResponse {
    var text: String { String(decoding: body.readableBytesView, as: UTF8.self) }
}

extension PostgresStore {
    /// Fixes processed_at so that alert JSON is exact.
    func fixProcessedAt() async throws {
        try await client.query("UPDATE alert SET processed_at = '2024-06-01T08:00:00Z'", logger: logger)
    }
}

enum TestUSCC {
    static func make(_ first17: String) -> String {
        first17 + String(USCC.checkCharacter(forFirst17: first17)!)
    }

    static let a = make("91430602MA4L00001")
    static let b = make("91430602MA4L00002")
    static let c = make("91430603MA4L00003")
}

enum Seed {
    static func day(_ iso: String) -> Day { Day(iso: iso)! }

    static func alert(
        rule: String, subject: String, window: String = "2024-05", asOf: String, severity: Severity = .high,
        category: RuleLanguage.Category = .tax, division: String? = "C30"
    ) -> AlertRecord {
        AlertRecord(
            firing: Firing(
                rule: rule, ruleVersion: "rv1", title: "纳税额同比大幅下降", severity: severity, category: category,
                score: Firing.ScoreEffect(points: -40, dimension: "finance_tax"), cooldownDays: 30,
                explanation: "近3个月纳税 1200 元，去年同期 98765.43 元",
                values: [NamedValue("tax_paid_3mo", .number(1200)), NamedValue("tax_paid_3mo_ly", .number(98765.43))],
                sources: ["tax.payment/SK1"], window: window),
            subject: .entity(EntityKey(.enterprise, subject)), ruleSetVersion: "rs1", asOf: day(asOf),
            registration: Registration(division: division, district: "430602"))
    }

    static func registration(
        _ uscc: String, name: String, district: String = "430602", legalRepID: String = "43060219800101123X"
    ) -> LinkedChange {
        LinkedChange(
            change: Change(
                topic: "market.enterprise", key: uscc, operation: .create, version: 1,
                fields: [
                    "uscc": .string(uscc), "name": .string(name), "industry_code": .string("C3011"),
                    "district_code": .string(district), "status": .string("存续"),
                    "legal_rep_name": .string("欧阳明"), "legal_rep_id": .string(legalRepID),
                ],
                eventDay: day("2015-03-02"), entity: .enterprise(try! USCC(validating: uscc))),
            entity: EntityKey(.enterprise, uscc))
    }

    /// A person listed as a dishonest judgment debtor.
    static func dishonestPerson(_ caseNo: String, id: String, name: String, listed: String) -> LinkedChange {
        LinkedChange(
            change: Change(
                topic: "court.dishonest", key: caseNo, operation: .create, version: 1,
                fields: [
                    "case_no": .string(caseNo), "party_type": .string("person"), "id_number": .string(id), "name": .string(name),
                    "court": .string("邵阳市中级人民法院"), "listed_date": .date(day(listed)),
                ],
                eventDay: day(listed), entity: .person(try! ResidentID(validating: id))),
            entity: EntityKey(.person, id))
    }

    static func payment(_ id: String, uscc: String, amount: Double, paid: String) -> LinkedChange {
        LinkedChange(
            change: Change(
                topic: "tax.payment", key: id, operation: .create, version: 1,
                fields: ["id": .string(id), "amount": .number(amount), "paid_date": .date(day(paid))],
                eventDay: day(paid), entity: .enterprise(try! USCC(validating: uscc))),
            entity: EntityKey(.enterprise, uscc))
    }

    static func effects(changes: [LinkedChange] = [], alerts: [AlertRecord] = [], quarantine: [QuarantinedMessage] = [])
        -> BatchEffects
    {
        var effects = BatchEffects()
        effects.changes = changes
        effects.alerts = alerts
        effects.quarantine = quarantine
        return effects
    }
}

/// A rule set whose reload passes or fails as told.
actor FixedRuleSet: RuleSetControl {
    var failing: Bool
    var version = "v1"
    init(failing: Bool) { self.failing = failing }

    func status() -> RuleSetStatus {
        RuleSetStatus(
            version: version, loadedAt: "2026-11-29T00:00:00.000Z", trigger: "start",
            rules: [.init(name: "tax_drop_yoy", version: "r1", kind: "enterprise", severity: "high", category: "tax")],
            tags: ["leading"],
            lastFailure: failing ? .init(at: "2026-11-29T00:00:01.000Z", trigger: "api", diagnostics: "rules/tax.cwr:3:1: error: expected 'rule'") : nil,
            changed: false)
    }

    func reload(trigger: String) -> RuleSetStatus {
        if !failing { version = "v2" }
        return status()
    }
}

extension PostgresStore {
    /// A whole batch's effects as the engine writes them: its records, then the rest.
    func write(_ effects: BatchEffects) async throws {
        try await store(records: effects.changes)
        try await commit(effects)
    }
}

/// Keys of the HTTP tests' callers, held in memory (`StaticKeyDirectory`).
enum TestKeys {
    static func key(_ n: Int, _ name: String) -> String {
        let secret = (name.filter { $0.isLetter } + String(repeating: "0", count: 32)).prefix(32)
        return "cwk_" + String(format: "%012x", n) + "_" + secret
    }

    static let office = key(1, "office")
    static let bank = key(2, "bank")
    static let ops = key(3, "ops")
    static let analyst = key(4, "analyst")
    static let auditor = key(5, "auditor")

    static let cityOffice = Organisation(id: 1, name: "邵阳市金融办", kind: .financialOffice)
    static let cityBank = Organisation(id: 2, name: "城市商业银行", kind: .bank)

    /// The office (analyst), a bank officer whose portfolio is `bankScope`, an operator and a rule
    /// author.
    static func directory(bankScope: Set<String>, extra: [APIKey: Principal] = [:]) -> StaticKeyDirectory {
        StaticKeyDirectory([
            APIKey(presented: office)!: Principal(name: "financial office", organisation: cityOffice, role: .officeAnalyst, scope: .city),
            APIKey(presented: bank)!: Principal(name: "城市商业银行", organisation: cityBank, role: .bankOfficer, scope: .subjects(bankScope)),
            APIKey(presented: ops)!: Principal(name: "ops", organisation: cityOffice, role: .operator, scope: .city),
            APIKey(presented: analyst)!: Principal(name: "analyst", organisation: cityOffice, role: .ruleAuthor, scope: .city),
        ].merging(extra) { a, _ in a })
    }

    static func bearer(_ key: String) -> HTTPFields { [.authorization: "Bearer \(key)"] }
}

/// Pages and items as a client reads them (the API's JSON), for the assertions.
struct FeedPage<Item: Decodable>: Decodable {
    let items: [Item]
    let nextCursor: String?
    let hasMore: Bool

    static func decode(_ data: Data) throws -> FeedPage {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(FeedPage.self, from: data)
    }
}

struct FeedAlert: Decodable {
    let id: Int64
    let rule: String
    let subjectId: String
    let status: String
}

struct FeedEvent: Decodable {
    let id: Int64
    let alertId: Int64
    let kind: String
    let reason: String?
}

struct FeedQuarantined: Decodable {
    let offset: Int64
    let value: String?
    let reason: String
}
