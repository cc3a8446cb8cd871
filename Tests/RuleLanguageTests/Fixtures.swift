import Foundation
import Testing

@testable import RuleLanguage

/// The topic catalog of EVENTS.md as the checker sees it, and helpers to build evaluation inputs.
enum Fixtures {
    static let schema = Schema(topics: [
        TopicSchema(
            name: "finance.loan",
            fields: [
                "loan_no": .string, "uscc": .uscc, "bank": .string, "principal": .decimal, "outstanding": .decimal,
                "disbursed_date": .date, "maturity_date": .date, "status": .string, "days_past_due": .int, "bucket": .string,
                "as_of": .date, "version": .int,
            ],
            eventTimeField: "as_of", entityKind: .enterprise),
        TopicSchema(
            name: "market.enterprise",
            fields: [
                "uscc": .uscc, "name": .string, "legal_rep_name": .string, "legal_rep_id": .idNumber,
                "industry_code": .string, "registered_capital": .decimal, "established_date": .date,
                "status": .string, "district_code": .string, "address": .string, "updated_at": .timestamp,
            ],
            eventTimeField: "updated_at", entityKind: .enterprise),
        TopicSchema(
            name: "market.abnormal",
            fields: [
                "id": .string, "uscc": .uscc, "name": .string, "listed_date": .date, "reason": .string,
                "removed_date": .date, "authority": .string,
            ],
            eventTimeField: "listed_date", entityKind: .enterprise),
        TopicSchema(
            name: "market.penalty",
            fields: [
                "decision_no": .string, "uscc": .uscc, "name": .string, "decision_date": .date, "authority": .string,
                "category": .string, "fine_amount": .decimal, "severity": .string,
            ],
            eventTimeField: "decision_date", entityKind: .enterprise),
        TopicSchema(
            name: "tax.taxpayer",
            fields: [
                "uscc": .uscc, "name": .string, "taxpayer_status": .string, "credit_rating": .string,
                "rating_year": .int, "updated_at": .timestamp,
            ],
            eventTimeField: "updated_at", entityKind: .enterprise),
        TopicSchema(
            name: "tax.payment",
            fields: [
                "id": .string, "uscc": .uscc, "name": .string, "tax_type": .string, "period": .string,
                "amount": .decimal, "paid_date": .date,
            ],
            eventTimeField: "paid_date", entityKind: .enterprise),
        TopicSchema(
            name: "tax.arrears",
            fields: [
                "id": .string, "uscc": .uscc, "name": .string, "tax_type": .string, "amount": .decimal,
                "announced_date": .date,
            ],
            eventTimeField: "announced_date", entityKind: .enterprise),
        TopicSchema(
            name: "water.usage",
            fields: [
                "id": .string, "account_no": .string, "customer_name": .string, "uscc": .uscc, "period": .string,
                "volume_m3": .decimal, "amount": .decimal,
            ],
            eventTimeField: "period", entityKind: .enterprise),
        TopicSchema(
            name: "water.arrears",
            fields: [
                "id": .string, "account_no": .string, "customer_name": .string, "uscc": .uscc, "amount_due": .decimal,
                "months_overdue": .int, "as_of_date": .date,
            ],
            eventTimeField: "as_of_date", entityKind: .enterprise),
        TopicSchema(
            name: "hrss.insurance",
            fields: [
                "id": .string, "uscc": .uscc, "name": .string, "period": .string, "insured_count": .int,
                "arrears_amount": .decimal,
            ],
            eventTimeField: "period", entityKind: .enterprise),
        TopicSchema(
            name: "court.dishonest",
            fields: [
                "case_no": .string, "party_type": .string, "uscc": .uscc, "id_number": .idNumber, "name": .string,
                "court": .string, "listed_date": .date, "amount": .decimal, "removed_date": .date,
            ],
            eventTimeField: "listed_date", entityKind: .mixed),
        TopicSchema(
            name: "court.enforcement",
            fields: [
                "case_no": .string, "party_type": .string, "uscc": .uscc, "id_number": .idNumber, "name": .string,
                "court": .string, "filed_date": .date, "amount": .decimal, "closed_date": .date,
            ],
            eventTimeField: "filed_date", entityKind: .mixed),
        TopicSchema(
            name: "realestate.rights",
            fields: [
                "certificate_no": .string, "owner_type": .string, "owner_id": .string, "owner_name": .string,
                "location": .string, "area_m2": .decimal, "mortgage_amount": .decimal, "seized": .bool,
                "updated_at": .timestamp,
            ],
            eventTimeField: "updated_at", entityKind: .mixed),
        TopicSchema(
            name: "traffic.vehicle",
            fields: [
                "plate_no": .string, "owner_id": .string, "owner_name": .string, "vehicle_type": .string,
                "registered_date": .date, "status": .string,
            ],
            eventTimeField: "registered_date", entityKind: .mixed),
        TopicSchema(
            name: "traffic.driver",
            fields: [
                "license_no": .string, "id_number": .idNumber, "name": .string, "license_class": .string,
                "status": .string, "valid_until": .date,
            ],
            eventTimeField: "valid_until", entityKind: .person),
        TopicSchema(
            name: "market.shareholder",
            fields: [
                "id": .string, "uscc": .uscc, "enterprise_name": .string, "shareholder_type": .string,
                "shareholder_uscc": .uscc, "shareholder_id": .idNumber, "shareholder_name": .string,
                "subscribed_capital": .decimal, "paid_in_capital": .decimal, "share_ratio": .decimal,
                "changed_date": .date, "updated_at": .timestamp,
            ],
            eventTimeField: "changed_date", entityKind: .enterprise, personal: ["shareholder_name": .name]),
        TopicSchema(
            name: "court.equity_freeze",
            fields: [
                "freeze_no": .string, "party_type": .string, "uscc": .uscc, "id_number": .idNumber, "name": .string,
                "target_uscc": .uscc, "target_name": .string, "court": .string, "frozen_amount": .decimal,
                "frozen_date": .date, "unfrozen_date": .date,
            ],
            eventTimeField: "frozen_date", entityKind: .mixed, personal: ["name": .name]),
    ], relations: relations)

    /// The relations the shipped catalog declares (`topics/market.enterprise.yaml`,
    /// `topics/market.shareholder.yaml`).
    static let relations = [
        RelationSchema(
            name: "legal_representative", inverse: "represents", topic: "market.enterprise", subjectKind: .enterprise,
            targetKind: .person, targetNameField: "legal_rep_name", subjectNameField: "name"),
        RelationSchema(
            name: "shareholder", inverse: "invests_in", topic: "market.shareholder", subjectKind: .enterprise,
            targetKind: .mixed, targetNameField: "shareholder_name", subjectNameField: "enterprise_name"),
    ]

    static func day(_ iso: String) -> Day { Day(iso: iso)! }

    /// A record whose event day is `day` (`YYYY-MM-DD`, or `YYYY-MM` for the month's first day).
    static func record(_ topic: String, _ key: String, _ day: String, _ fields: [String: Value] = [:]) -> FactRecord {
        let eventDay = Day(iso: day) ?? Month(iso: day)!.firstDay
        return FactRecord(topic: topic, key: key, eventDay: eventDay, fields: fields)
    }

    static func entity(_ asOf: String, _ records: [FactRecord], id: String = "91430600MA4L0XXXX0") -> EntityData {
        EntityData(entity: id, asOf: day(asOf), records: Dictionary(grouping: records, by: \.topic))
    }

    static func compile(
        _ text: String, path: String = "rules/test.cwr", overrides: [String: Double] = [:]
    ) throws -> RuleProgram {
        try RuleCompiler.compile([SourceFile(path: path, text: text)], schema: schema, overrides: overrides).get()
    }

    /// The rendered diagnostics of a source that must fail to compile ("" if it compiles).
    static func diagnostics(
        _ text: String, path: String = "rules/test.cwr", overrides: [String: Double] = [:],
        limits: RuleCompiler.Limits = .init()
    ) -> String {
        let file = SourceFile(path: path, text: text)
        switch RuleCompiler.compile([file], schema: schema, overrides: overrides, limits: limits) {
        case .success: return ""
        case .failure(let d): return d.rendered(sources: [file])
        }
    }

    /// The shipped `rules/` directory: `$CREDITWATCH_RULES_DIR`, else `<repo>/rules` found from this file.
    static func shippedRuleFiles() throws -> [SourceFile] {
        let fm = FileManager.default
        var dir: URL
        if let env = ProcessInfo.processInfo.environment["CREDITWATCH_RULES_DIR"] {
            dir = URL(fileURLWithPath: env)
        } else {
            // Tests/RuleLanguageTests/Fixtures.swift → repository root (through a symlinked test
            // directory too, as in a package that links this target from elsewhere).
            dir = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath().deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("rules")
        }
        let names = try fm.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".cwr") }.sorted()
        return try names.map { name in
            let text = try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)
            return SourceFile(path: "rules/\(name)", text: text)
        }
    }
}

extension Value {
    static func n(_ x: Double) -> Value { .number(x) }
    static func s(_ x: String) -> Value { .string(x) }
    static func d(_ iso: String) -> Value { .date(Day(iso: iso)!) }
}
