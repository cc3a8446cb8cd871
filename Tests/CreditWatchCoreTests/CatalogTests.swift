import CreditWatchCore
import RuleLanguage
import Testing

@Suite("Shipped topic catalog")
struct ShippedCatalogTests {
    static let fieldCounts: [String: Int] = [
        "market.enterprise": 11, "market.abnormal": 7, "market.penalty": 8, "tax.taxpayer": 6, "tax.payment": 7,
        "tax.arrears": 6, "water.usage": 7, "water.arrears": 7, "hrss.insurance": 6, "court.dishonest": 9,
        "court.enforcement": 9, "realestate.rights": 9, "traffic.vehicle": 6, "traffic.driver": 6,
        // Added by catalog files alone (issue 11): shareholders and equity freezes.
        "market.shareholder": 12, "court.equity_freeze": 11,
        // The marketplace's own feed (not a department's): its loans, reported by CreditWatch.
        "finance.loan": 12,
    ]

    @Test("17 topics (16 departments' and the marketplace's loans), one file each, named after the topic")
    func topics() {
        #expect(Shipped.files.count == 17)
        #expect(Shipped.catalog.topics.count == 17)
        #expect(Set(Shipped.catalog.topics.keys) == Set(Self.fieldCounts.keys))
        for (path, _) in Shipped.files {
            let name = String(path.dropFirst("topics/".count).dropLast(".yaml".count))
            #expect(Shipped.catalog.topics[name] != nil, "\(path) does not define topic \(name)")
        }
    }

    @Test("field counts per topic")
    func fieldCounts() {
        let counts = Shipped.catalog.topics.mapValues(\.fields.count)
        #expect(counts == Self.fieldCounts)
        #expect(counts.values.reduce(0, +) == 139)
    }

    @Test("tax.payment in full")
    func taxPayment() {
        let expected = TopicDefinition(
            name: "tax.payment", department: "税务局",
            description: "纳税人缴税信息 — each tax payment of a taxpayer, by tax type and tax period (YYYY-MM).",
            envelope: .debezium,
            fields: [
                FieldDefinition(name: "id", type: .string),
                FieldDefinition(name: "uscc", type: .uscc),
                FieldDefinition(name: "name", type: .string),
                FieldDefinition(name: "tax_type", type: .string),
                FieldDefinition(name: "period", type: .string, format: .period),
                FieldDefinition(name: "amount", type: .decimal, description: "CNY yuan"),
                FieldDefinition(name: "paid_date", type: .date),
            ],
            primaryKey: ["id"], versionField: nil, eventTime: "paid_date",
            entity: .enterprise(field: "uscc", link: nil),
            cadence: Cadence(expected: .monthly, maxSilenceDays: 45))
        #expect(Shipped.catalog.topics["tax.payment"] == expected)
    }

    @Test("field types follow EVENTS.md")
    func fieldTypes() throws {
        let enterprise = try #require(Shipped.catalog.topics["market.enterprise"])
        #expect(
            enterprise.fields.map(\.name) == [
                "uscc", "name", "legal_rep_name", "legal_rep_id", "industry_code", "registered_capital",
                "established_date", "status", "district_code", "address", "updated_at",
            ])
        #expect(
            enterprise.fields.map(\.type) == [
                .uscc, .string, .string, .idNumber, .string, .decimal, .date, .string, .string, .string, .timestamp,
            ])
        #expect(enterprise.fields.filter(\.optional).map(\.name) == ["legal_rep_id", "registered_capital", "address"])
        #expect(enterprise.field("industry_code")?.format == .industryCode)
        #expect(enterprise.field("district_code")?.format == .districtCode)
        #expect(enterprise.field("status")?.values == ["存续", "在业", "吊销", "注销", "迁出"])
        #expect(enterprise.field("nonexistent") == nil)

        let optionalFields = Shipped.catalog.topics.mapValues { $0.fields.filter(\.optional).map(\.name) }
        #expect(
            optionalFields == [
                "market.enterprise": ["legal_rep_id", "registered_capital", "address"],
                "market.abnormal": ["removed_date"], "market.penalty": ["fine_amount"],
                "tax.taxpayer": ["credit_rating", "rating_year"], "tax.payment": [], "tax.arrears": [],
                "water.usage": ["uscc"], "water.arrears": ["uscc"], "hrss.insurance": ["arrears_amount"],
                "court.dishonest": ["uscc", "id_number", "amount", "removed_date"],
                "court.enforcement": ["uscc", "id_number", "closed_date"], "realestate.rights": ["mortgage_amount"],
                "traffic.vehicle": [], "traffic.driver": [], "finance.loan": [],
                "market.shareholder": ["shareholder_uscc", "shareholder_id", "subscribed_capital", "paid_in_capital"],
                "court.equity_freeze": ["uscc", "id_number", "frozen_amount", "unfrozen_date"],
            ])
        let periods = Shipped.catalog.topics.values.flatMap { t in
            t.fields.filter { $0.format == .period }.map { "\(t.name).\($0.name)" }
        }
        #expect(Set(periods) == ["tax.payment.period", "water.usage.period", "hrss.insurance.period"])
    }

    @Test("primary keys, versions and event times")
    func keysAndTimes() {
        let topics = Shipped.catalog.topics
        #expect(
            topics.mapValues(\.primaryKey) == [
                "market.enterprise": ["uscc"], "market.abnormal": ["id"], "market.penalty": ["decision_no"],
                "tax.taxpayer": ["uscc"], "tax.payment": ["id"], "tax.arrears": ["id"], "water.usage": ["id"],
                "water.arrears": ["id"], "hrss.insurance": ["id"], "court.dishonest": ["case_no"],
                "court.enforcement": ["case_no"], "realestate.rights": ["certificate_no"],
                "traffic.vehicle": ["plate_no"],
                "traffic.driver": ["license_no"], "finance.loan": ["loan_no"], "market.shareholder": ["id"],
                "court.equity_freeze": ["freeze_no"],
            ])
        #expect(
            topics.compactMapValues(\.versionField) == [
                "market.enterprise": "updated_at", "tax.taxpayer": "updated_at", "realestate.rights": "updated_at",
                "finance.loan": "version", "market.shareholder": "updated_at",
            ])
        #expect(
            topics.mapValues(\.eventTime) == [
                "market.enterprise": "updated_at", "market.abnormal": "listed_date", "market.penalty": "decision_date",
                "tax.taxpayer": "updated_at", "tax.payment": "paid_date", "tax.arrears": "announced_date",
                "water.usage": "period", "water.arrears": "as_of_date", "hrss.insurance": "period",
                "court.dishonest": "listed_date", "court.enforcement": "filed_date", "realestate.rights": "updated_at",
                "traffic.vehicle": "registered_date", "traffic.driver": "valid_until", "finance.loan": "as_of",
                "market.shareholder": "changed_date", "court.equity_freeze": "frozen_date",
            ])
        // The departments' feeds are change-data capture; the marketplace sends its rows as they are.
        #expect(topics.filter { $0.value.envelope != .debezium }.keys.sorted() == ["finance.loan"])
        #expect(topics["finance.loan"]?.envelope == .plain)
    }

    @Test("entity rules")
    func entities() {
        let water = EntityLinkRule.enterprise(
            field: "uscc", link: AccountLink(accountField: "account_no", nameField: "customer_name"))
        let court = EntityLinkRule.party(
            type: PartyTypeField(field: "party_type"), enterpriseField: "uscc", personField: "id_number")
        let plain = EntityLinkRule.enterprise(field: "uscc", link: nil)
        #expect(
            Shipped.catalog.topics.mapValues(\.entity) == [
                "market.enterprise": plain, "market.abnormal": plain, "market.penalty": plain, "tax.taxpayer": plain,
                "tax.payment": plain, "tax.arrears": plain, "hrss.insurance": plain, "water.usage": water,
                "water.arrears": water, "court.dishonest": court, "court.enforcement": court,
                "realestate.rights": .either(field: "owner_id", type: PartyTypeField(field: "owner_type")),
                "traffic.vehicle": .either(field: "owner_id", type: nil), "traffic.driver": .person(field: "id_number"),
                "finance.loan": plain, "market.shareholder": plain, "court.equity_freeze": court,
            ])
    }

    @Test("cadences")
    func cadences() {
        let cadences = Shipped.catalog.topics.mapValues {
            "\($0.cadence.expected.rawValue)/\($0.cadence.maxSilenceDays)"
        }
        #expect(
            cadences == [
                "market.enterprise": "daily/7", "market.abnormal": "event/30", "market.penalty": "event/30",
                "tax.taxpayer": "monthly/45", "tax.payment": "monthly/45", "tax.arrears": "event/100",
                "water.usage": "monthly/45", "water.arrears": "monthly/45", "hrss.insurance": "monthly/45",
                "court.dishonest": "daily/7", "court.enforcement": "daily/7", "realestate.rights": "event/30",
                "traffic.vehicle": "event/30", "traffic.driver": "event/30", "finance.loan": "event/3650",
                "market.shareholder": "event/30", "court.equity_freeze": "event/30",
            ])
    }

    @Test("the rule checker's schema")
    func schema() throws {
        let schema = Shipped.catalog.schema
        #expect(schema.topics.count == 17)
        let payment = try #require(schema.topics["tax.payment"])
        #expect(payment.eventTimeField == "paid_date")
        #expect(payment.entityKind == .enterprise)
        #expect(
            payment.fields == [
                "id": .string, "uscc": .uscc, "name": .string, "tax_type": .string, "period": .string,
                "amount": .decimal, "paid_date": .date,
            ])
        #expect(
            schema.topics.mapValues(\.entityKind.rawValue) == [
                "market.enterprise": "enterprise", "market.abnormal": "enterprise", "market.penalty": "enterprise",
                "tax.taxpayer": "enterprise", "tax.payment": "enterprise", "tax.arrears": "enterprise",
                "water.usage": "enterprise", "water.arrears": "enterprise", "hrss.insurance": "enterprise",
                "court.dishonest": "mixed", "court.enforcement": "mixed", "realestate.rights": "mixed",
                "traffic.vehicle": "mixed", "traffic.driver": "person", "finance.loan": "enterprise",
                "market.shareholder": "enterprise", "court.equity_freeze": "mixed",
            ])
        #expect(schema.topics["water.usage"]?.eventTimeField == "period")
    }
}

@Suite("Catalog parsing")
struct CatalogParsingTests {
    static let minimal = """
        name: shop.sales
        department: 商务局
        description: test feed
        fields:
          - { name: id, type: int }
          - { name: uscc, type: uscc }
          - { name: day, type: date }
        primary_key: [id]
        event_time: day
        entity: { kind: enterprise, field: uscc }
        cadence: { expected: daily, max_silence_days: 3 }
        """

    func problems(_ files: [(path: String, text: String)]) -> [String] {
        do {
            _ = try TopicCatalog.parse(files)
            return []
        } catch {
            return error.problems.map(\.description)
        }
    }

    func problems(_ text: String, path: String = "topics/t.yaml") -> [String] { problems([(path: path, text: text)]) }

    @Test("a minimal topic takes the defaults")
    func minimal() throws {
        let catalog = try TopicCatalog.parse([(path: "topics/shop.sales.yaml", text: Self.minimal)])
        let topic = try #require(catalog.topics["shop.sales"])
        #expect(topic.envelope == .debezium)
        #expect(topic.versionField == nil)
        #expect(
            topic.fields == [
                FieldDefinition(name: "id", type: .int), FieldDefinition(name: "uscc", type: .uscc),
                FieldDefinition(name: "day", type: .date),
            ])
        #expect(topic.cadence == Cadence(expected: .daily, maxSilenceDays: 3))
    }

    @Test("a block-style file with every option")
    func fullOptions() throws {
        let text = """
            name: power.usage
            department: 供电公司
            description: |
              用电信息, delivered as monthly files.
            envelope: plain
            fields:
              - name: id
                type: string
              - name: customer_type
                type: string
                values: [企业, 个人]
              - name: holder
                type: string
              - name: account
                type: string
                optional: false
              - name: customer_name
                type: string
                optional: true
              - name: month
                type: string
                format: period
              - name: kwh
                type: decimal
                description: kilowatt hours
              - name: seq
                type: int
            primary_key: [id, month]
            version_field: seq
            event_time: month
            entity:
              kind: either
              field: holder
              type_field: customer_type
              enterprise_value: 企业
              person_value: 个人
            cadence:
              expected: monthly
              max_silence_days: 40
            """
        let topic = try #require(
            try TopicCatalog.parse([(path: "topics/power.usage.yaml", text: text)]).topics["power.usage"])
        #expect(topic.envelope == .plain)
        #expect(topic.description == "用电信息, delivered as monthly files.\n")
        #expect(topic.primaryKey == ["id", "month"])
        #expect(topic.versionField == "seq")
        #expect(topic.field("customer_type")?.values == ["企业", "个人"])
        #expect(topic.field("kwh")?.description == "kilowatt hours")
        #expect(topic.field("customer_name")?.optional == true)
        #expect(
            topic.entity
                == .either(
                    field: "holder",
                    type: PartyTypeField(field: "customer_type", enterpriseValue: "企业", personValue: "个人")))
        #expect(topic.schema.entityKind == .mixed)
    }

    @Test("every problem of a broken file, in document order")
    func brokenFile() {
        let text = """
            name: Tax Payment
            department: 税务局
            descriptionx: x
            envelope: avro
            fields:
              - { name: id, type: string }
              - { name: id, type: string }
              - { name: amount, type: money }
              - { name: period, type: date, format: period }
              - { name: x, type: int, optional: maybe }
              - { name: Bad, type: string }
              - just a string
              - { name: when, type: date, format: month }
              - { name: kind, type: int, values: [a] }
            primary_key: [id, foo, amount]
            version_field: x
            event_time: id
            entity: { kind: enterprise, field: id, extra: 1 }
            cadence: { expected: weekly, max_silence_days: 0 }
            """
        #expect(
            problems(text) == [
                "topics/t.yaml:1:1: missing 'description'",
                "topics/t.yaml:1:7: topic name 'Tax Payment' must be lowercase words separated by dots (e.g. tax.payment)",
                "topics/t.yaml:3:1: unknown key 'descriptionx'",
                "topics/t.yaml:4:11: envelope 'avro' is not one of debezium, plain",
                "topics/t.yaml:7:13: field 'id' is declared twice",
                "topics/t.yaml:8:27: field 'amount': unknown type 'money' (one of string, uscc, id_number, date, timestamp, decimal, int, bool)",
                "topics/t.yaml:9:41: field 'period': format 'period' requires type string, not date",
                "topics/t.yaml:10:37: field 'x': 'optional' must be true or false",
                "topics/t.yaml:11:13: field name 'Bad' must be lowercase letters, digits and underscores, starting with a letter",
                "topics/t.yaml:12:5: fields[6]: expected a mapping with 'name' and 'type'",
                "topics/t.yaml:13:39: field 'when': unknown format 'month' (one of period, industry_code, district_code)",
                "topics/t.yaml:14:38: field 'kind': 'values' requires type string, not int",
                "topics/t.yaml:15:19: primary_key 'foo' is not a field",
                "topics/t.yaml:17:13: event_time 'id' is not a date, timestamp or period field (it is string)",
                "topics/t.yaml:18:36: entity: field 'id' must have type uscc, not string",
                "topics/t.yaml:18:40: entity: unknown key 'extra'",
                "topics/t.yaml:19:22: cadence: expected 'weekly' is not one of monthly, daily, event",
                "topics/t.yaml:19:48: cadence: max_silence_days must be a positive integer",
            ])
    }

    @Test("references to fields of the wrong kind")
    func references() {
        let text = """
            name: court.cases
            department: 法院
            description: d
            fields:
              - { name: case_no, type: string, optional: true }
              - { name: party_type, type: int }
              - { name: uscc, type: string }
              - { name: id_number, type: id_number }
              - { name: filed, type: date, optional: true }
              - { name: seq, type: decimal }
            primary_key: [case_no, case_no]
            version_field: seq
            event_time: filed
            entity: { kind: party, type_field: party_type, enterprise_field: uscc, person_field: idnum }
            cadence: { expected: event, max_silence_days: 30 }
            """
        #expect(
            problems(text) == [
                "topics/t.yaml:11:15: primary_key 'case_no' must not be optional",
                "topics/t.yaml:11:24: primary_key lists 'case_no' twice",
                "topics/t.yaml:12:16: version_field 'seq' must have type timestamp or int, not decimal",
                "topics/t.yaml:13:13: event_time 'filed' must not be optional",
                "topics/t.yaml:14:36: entity: type_field 'party_type' must have type string, not int",
                "topics/t.yaml:14:66: entity: enterprise_field 'uscc' must have type uscc, not string",
                "topics/t.yaml:14:86: entity: person_field 'idnum' is not a field",
            ])
    }

    @Test("entity and cadence shapes")
    func entityShapes() {
        func with(entity: String, cadence: String = "{ expected: daily, max_silence_days: 3 }") -> String {
            Self.minimal.replacingOccurrences(of: "{ kind: enterprise, field: uscc }", with: entity)
                .replacingOccurrences(of: "{ expected: daily, max_silence_days: 3 }", with: cadence)
        }
        #expect(
            problems(with(entity: "{ kind: org, field: uscc }")) == [
                "topics/t.yaml:10:17: entity: kind 'org' is not one of enterprise, person, party, either"
            ])
        #expect(problems(with(entity: "{ field: uscc }")) == ["topics/t.yaml:10:9: entity: missing 'kind'"])
        #expect(problems(with(entity: "uscc")) == ["topics/t.yaml:10:9: 'entity' must be a mapping with a 'kind'"])
        #expect(
            problems(with(entity: "{ kind: person, field: uscc }")) == [
                "topics/t.yaml:10:32: entity: field 'uscc' must have type id_number, not uscc"
            ])
        #expect(
            problems(with(entity: "{ kind: enterprise, field: uscc, link: {} }")) == [
                "topics/t.yaml:10:48: entity: link needs 'account_field' or 'name_field'"
            ])
        #expect(
            problems(with(entity: "{ kind: enterprise, field: uscc, link: { account_field: acct } }")) == [
                "topics/t.yaml:10:65: entity: link: account_field 'acct' is not a field"
            ])
        #expect(
            problems(with(entity: "{ kind: either, field: uscc, person_value: p }")) == [
                "topics/t.yaml:10:32: entity: field 'uscc' must have type string, not uscc",
                "topics/t.yaml:10:52: entity: 'person_value' requires 'type_field'",
            ])
        #expect(
            problems(with(entity: "{ kind: enterprise, field: uscc }", cadence: "{ expected: daily }")) == [
                "topics/t.yaml:11:10: cadence: missing 'max_silence_days'"
            ])
        #expect(
            problems(with(entity: "{ kind: enterprise, field: uscc }", cadence: "daily")) == [
                "topics/t.yaml:11:10: 'cadence' must be a mapping with 'expected' and 'max_silence_days'"
            ])
    }

    @Test("files that are not topic definitions")
    func notTopics() {
        #expect(problems("") == ["topics/t.yaml: empty file: expected a topic definition"])
        #expect(problems("- 1\n- 2\n") == ["topics/t.yaml:1:1: expected a mapping of topic settings"])
        #expect(
            problems("name: [a\n") == [
                "topics/t.yaml:2:1: not valid YAML: while parsing a flow sequence (line 1, column 7): did not find expected ',' or ']'"
            ])
        #expect(problems("name: a\nname: b\n") == ["topics/t.yaml:1:1: not valid YAML: duplicate key 'name'"])
        #expect(
            problems("name: x.y\n") == [
                "topics/t.yaml:1:1: missing 'department'", "topics/t.yaml:1:1: missing 'description'",
                "topics/t.yaml:1:1: missing 'fields'", "topics/t.yaml:1:1: missing 'primary_key'",
                "topics/t.yaml:1:1: missing 'event_time'", "topics/t.yaml:1:1: missing 'entity'",
                "topics/t.yaml:1:1: missing 'cadence'",
            ])
    }

    @Test("problems of several files, sorted by path; duplicate topics")
    func severalFiles() {
        let other = Self.minimal.replacingOccurrences(of: "max_silence_days: 3", with: "max_silence_days: -1")
        #expect(
            problems([
                (path: "topics/z.yaml", text: Self.minimal),
                (path: "topics/b.yaml", text: other),
                (path: "topics/a.yaml", text: Self.minimal),
            ]) == [
                "topics/b.yaml:11:47: cadence: max_silence_days must be a positive integer",
                "topics/z.yaml:1:7: duplicate topic 'shop.sales' (first defined in topics/a.yaml)",
            ])
    }

    @Test("CatalogError renders one problem per line")
    func rendering() {
        let error = CatalogError(problems: [
            CatalogError.Problem(path: "topics/a.yaml", line: 3, column: 5, message: "m1"),
            CatalogError.Problem(path: "topics/b.yaml", message: "m2"),
        ])
        #expect(error.description == "topics/a.yaml:3:5: m1\ntopics/b.yaml: m2")
    }
}
