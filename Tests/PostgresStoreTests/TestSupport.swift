import CreditWatchCore
import Foundation
import Logging
import PostgresNIO
import RuleLanguage
import Testing

@testable import PostgresStore

/// Integration suites run when the project's PostgreSQL is configured (`source ops/lib.sh`
/// exports `CREDITWATCH_PG_HOST`).
/// Whether the PostgreSQL tests run: when ops/test.sh set the server's address, and always in CI
/// (there a missing server fails the suite instead of skipping it).
let postgresConfigured =
    ProcessInfo.processInfo.environment["CREDITWATCH_PG_HOST"] != nil || ProcessInfo.processInfo.environment["CI"] == "true"

/// A store on a fresh schema of the test database (`CREDITWATCH_PG_TEST_DATABASE`, default
/// `creditwatch_test`), migrated (unless `migrate` is false: migration tests do it themselves),
/// running for the duration of `body`, dropped afterwards. One schema per test, so that tests run
/// in parallel and ids start at 1.
func withTestStore(
    catalog: TopicCatalog = TestCatalog.catalog, migrate: Bool = true, _ body: (PostgresStore) async throws -> Void
) async throws {
    let environment = ProcessInfo.processInfo.environment
    var configuration = PostgresStore.Configuration(environment: environment)
    configuration.database = environment["CREDITWATCH_PG_TEST_DATABASE"] ?? "creditwatch_test"
    configuration.schema = "test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
    configuration.maximumConnections = 2
    var logger = Logger(label: "test")
    logger.logLevel = .warning
    let store = try PostgresStore(configuration: configuration, catalog: catalog, logger: logger)
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { await store.run() }
        defer { group.cancelAll() }
        var failure: (any Error)?
        do {
            if migrate { try await store.migrate() }
            try await body(store)
        } catch {
            failure = error
        }
        _ = try? await store.client.query("DROP SCHEMA \(unescaped: configuration.schema!) CASCADE", logger: logger)
        if let failure { throw failure }
    }
}

extension PostgresStore {
    /// Test helper: the rows of a query as arrays of text (NULL as "∅").
    func rows(_ sql: String) async throws -> [[String]] {
        let rows = try await client.query(PostgresQuery(unsafeSQL: sql), logger: logger)
        var result: [[String]] = []
        for try await row in rows {
            result.append(try row.map { cell in try cell.decode(String?.self) ?? "∅" })
        }
        return result
    }

    func count(_ table: String) async throws -> Int {
        Int(try await rows("SELECT count(*)::text FROM \(table)")[0][0])!
    }

    /// Fixes processed_at so that alert JSON is exact.
    func fixProcessedAt() async throws {
        try await client.query("UPDATE alert SET processed_at = '2024-06-01T08:00:00Z'", logger: logger)
    }
}

/// USCCs with correct check characters.
enum TestUSCC {
    static func make(_ first17: String) -> String {
        first17 + String(USCC.checkCharacter(forFirst17: first17)!)
    }

    static let a = make("91430602MA4L00001")
    static let b = make("91430602MA4L00002")
    static let c = make("91430603MA4L00003")
    static let d = make("91430603MA4L00004")
}

/// A small catalog: registrations, tax payments and water usage (linked by account or name).
enum TestCatalog {
    static let catalog = TopicCatalog(topics: [
        TopicDefinition(
            name: "market.enterprise", department: "市场监管局", description: "registrations", envelope: .debezium,
            fields: [
                FieldDefinition(name: "uscc", type: .uscc),
                FieldDefinition(name: "name", type: .string),
                FieldDefinition(name: "industry_code", type: .string, format: .industryCode),
                FieldDefinition(name: "district_code", type: .string, format: .districtCode),
                FieldDefinition(name: "status", type: .string),
                FieldDefinition(name: "established_date", type: .date),
                FieldDefinition(name: "updated_at", type: .timestamp),
            ],
            primaryKey: ["uscc"], versionField: "updated_at", eventTime: "established_date",
            entity: .enterprise(field: "uscc", link: nil), cadence: Cadence(expected: .daily, maxSilenceDays: 7)),
        TopicDefinition(
            name: "tax.payment", department: "税务局", description: "payments", envelope: .debezium,
            fields: [
                FieldDefinition(name: "id", type: .string),
                FieldDefinition(name: "uscc", type: .uscc),
                FieldDefinition(name: "amount", type: .decimal),
                FieldDefinition(name: "paid_date", type: .date),
            ],
            primaryKey: ["id"], versionField: nil, eventTime: "paid_date",
            entity: .enterprise(field: "uscc", link: nil), cadence: Cadence(expected: .monthly, maxSilenceDays: 45)),
        TopicDefinition(
            name: "water.usage", department: "自来水公司", description: "water usage", envelope: .debezium,
            fields: [
                FieldDefinition(name: "id", type: .string),
                FieldDefinition(name: "account_no", type: .string),
                FieldDefinition(name: "customer_name", type: .string),
                FieldDefinition(name: "uscc", type: .uscc, optional: true),
                FieldDefinition(name: "period", type: .string, format: .period),
                FieldDefinition(name: "volume_m3", type: .decimal),
                FieldDefinition(name: "paid", type: .bool),
            ],
            primaryKey: ["id"], versionField: nil, eventTime: "period",
            entity: .enterprise(field: "uscc", link: AccountLink(accountField: "account_no", nameField: "customer_name")),
            cadence: Cadence(expected: .monthly, maxSilenceDays: 45)),
    ])
}

/// Builders of engine output.
enum Make {
    /// A score of `TestUSCC.a` on one line.
    static func score(_ points: Int, _ grade: String, asOf: String) -> ScoreResult {
        ScoreResult(
            scorecard: "city_default", scorecardVersion: "sc-1", ruleSetVersion: "rs-1", entity: TestUSCC.a,
            asOf: day(asOf), base: 600, score: points, grade: grade, dimensions: [], overrides: [],
            lines: [ScoreLine(kind: .item, dimension: "finance_tax", name: "steady_tax", text: "近12个月中有 12 个月纳税", points: points - 600, sources: ["tax.payment/SK1"])],
            unassessed: [], appliedOverride: nil)
    }

    /// `TestUSCC.a`'s tag memberships.
    static func tags(_ names: [String], asOf: String) -> EnterpriseTags {
        EnterpriseTags(uscc: TestUSCC.a, asOf: day(asOf), ruleSetVersion: "rs-1", memberships: names.map {
            TagMembership(tag: $0, tagVersion: "tv-\($0)", title: $0, explanation: "\($0) 说明", values: [], sources: [])
        })
    }

    static func day(_ iso: String) -> Day { Day(iso: iso)! }

    static func registration(
        _ uscc: String, name: String, industry: String = "C3011", district: String = "430602", version: Int64 = 1,
        operation: ChangeOperation = .create
    ) -> LinkedChange {
        let change = Change(
            topic: "market.enterprise", key: uscc, operation: operation, version: version,
            fields: [
                "uscc": .string(uscc), "name": .string(name), "industry_code": .string(industry),
                "district_code": .string(district), "status": .string("存续"),
                "established_date": .date(day("2015-03-02")), "updated_at": .timestamp(1_590_969_600_000 + version),
            ],
            eventDay: day("2015-03-02"), entity: .enterprise(try! USCC(validating: uscc)))
        return LinkedChange(change: change, entity: EntityKey(.enterprise, uscc))
    }

    static func payment(
        _ id: String, uscc: String, amount: Double, paid: String, version: Int64 = 1, operation: ChangeOperation = .create
    ) -> LinkedChange {
        let change = Change(
            topic: "tax.payment", key: id, operation: operation, version: version,
            fields: ["id": .string(id), "uscc": .string(uscc), "amount": .number(amount), "paid_date": .date(day(paid))],
            eventDay: day(paid), entity: .enterprise(try! USCC(validating: uscc)))
        return LinkedChange(change: change, entity: EntityKey(.enterprise, uscc))
    }

    static func waterChange(_ id: String, account: String, name: String, uscc: String?, volume: Double) -> Change {
        Change(
            topic: "water.usage", key: id, operation: .create, version: 1_717_200_000_000,
            fields: [
                "id": .string(id), "account_no": .string(account), "customer_name": .string(name),
                "uscc": uscc.map { .string($0) } ?? .null, "period": .string("2024-05"), "volume_m3": .number(volume),
                "paid": .bool(true),
            ],
            eventDay: day("2024-05-01"),
            entity: uscc.map { .enterprise(try! USCC(validating: $0)) } ?? .unlinked(accountNo: account, name: name))
    }

    static func firing(
        rule: String, window: String, severity: Severity = .high, category: RuleLanguage.Category = .tax,
        cooldown: Int = 30, explanation: String = "近3个月纳税 1200 元", values: [NamedValue] = [
            NamedValue("tax_paid_3mo", .number(1200)), NamedValue("tax_paid_3mo_ly", .number(98765.43)),
        ]
    ) -> Firing {
        Firing(
            rule: rule, ruleVersion: "rv-\(rule)", title: "纳税额同比大幅下降", severity: severity, category: category,
            score: Firing.ScoreEffect(points: -40, dimension: "finance_tax"), cooldownDays: cooldown,
            explanation: explanation, values: values, sources: ["tax.payment/SK1", "tax.payment/SK2"], window: window)
    }

    static func alert(
        rule: String = "tax_drop_yoy", subject: String, window: String, asOf: String, severity: Severity = .high,
        category: RuleLanguage.Category = .tax, cooldown: Int = 30, division: String? = "C30",
        district: String? = "430602"
    ) -> AlertRecord {
        AlertRecord(
            firing: firing(rule: rule, window: window, severity: severity, category: category, cooldown: cooldown),
            subject: .entity(EntityKey(.enterprise, subject)), ruleSetVersion: "rs-1", asOf: day(asOf),
            registration: Registration(division: division, district: district))
    }

    static func quarantined(offset: Int64, reason: String, value: [UInt8]? = Array("not json".utf8)) -> QuarantinedMessage {
        QuarantinedMessage(
            message: InboundMessage(topic: "tax.payment", partition: 0, offset: offset, key: Array(#"{"id":"X"}"#.utf8), value: value),
            reason: reason)
    }

    static func effects(
        quarantine: [QuarantinedMessage] = [], changes: [LinkedChange] = [], links: [AccountOwnership] = [],
        alerts: [AlertRecord] = []
    ) -> BatchEffects {
        var effects = BatchEffects()
        effects.quarantine = quarantine
        effects.changes = changes
        effects.accountLinks = links
        effects.alerts = alerts
        return effects
    }
}

extension PostgresStore {
    /// A whole batch's effects as the engine writes them: its records, then the rest.
    func write(_ effects: BatchEffects) async throws {
        try await store(records: effects.changes)
        try await commit(effects)
    }
}
