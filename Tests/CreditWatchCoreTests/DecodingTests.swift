import CreditWatchCore
import RuleLanguage
import Testing

/// Builds messages: rows are ordered lists of (column, raw JSON text).
enum Message {
    typealias Row = [(String, String)]

    static let payment: Row = [
        ("id", #""SK2020050112""#), ("uscc", #""91350100M000100Y43""#), ("name", #""福州某某有限公司""#),
        ("tax_type", #""增值税""#), ("period", #""2020-04""#), ("amount", #""12345.67""#), ("paid_date", "18413"),
    ]

    static let enterprise: Row = [
        ("uscc", #""91350100M000100Y43""#), ("name", #""福州某某有限公司""#), ("legal_rep_name", #""张三""#),
        ("legal_rep_id", #""11010519491231002X""#), ("industry_code", #""C3011""#), ("registered_capital", "5000000"),
        ("established_date", #""2015-03-20""#), ("status", #""存续""#), ("district_code", #""350102""#),
        ("address", "null"), ("updated_at", #""2020-05-31T04:00:00Z""#),
    ]

    static let water: Row = [
        ("id", #""W202005-001""#), ("account_no", #""0101-2231""#), ("customer_name", #""长沙某某餐饮有限公司""#),
        ("period", #""2020-05""#), ("volume_m3", "36.5"), ("amount", "127.75"),
    ]

    static let dishonest: Row = [
        ("case_no", #""(2020)湘0602执123号""#), ("party_type", #""enterprise""#), ("uscc", #""91350100M000100Y43""#),
        ("id_number", "null"), ("name", #""福州某某有限公司""#), ("court", #""岳阳市岳阳楼区人民法院""#),
        ("listed_date", #""2020-06-01""#), ("amount", "250000"), ("removed_date", "null"),
    ]

    static let rights: Row = [
        ("certificate_no", #""湘(2020)岳阳市不动产权第0012345号""#), ("owner_type", #""enterprise""#),
        ("owner_id", #""91350100M000100Y43""#), ("owner_name", #""福州某某有限公司""#), ("location", #""岳阳楼区某路1号""#),
        ("area_m2", "1200.5"), ("mortgage_amount", #""3000000.00""#), ("seized", "false"),
        ("updated_at", "1590897600000"),
    ]

    static let insurance: Row = [
        ("id", #""HR202005-77""#), ("uscc", #""91350100M000100Y43""#), ("name", #""福州某某有限公司""#),
        ("period", #""2020-05""#), ("insured_count", "42"), ("arrears_amount", "null"),
    ]

    static func object(_ row: Row) -> String {
        "{" + row.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}"
    }

    /// `row` with columns replaced (or removed, for nil) and new columns appended.
    static func with(_ row: Row, _ changes: [String: String?]) -> Row {
        var result = row.compactMap { column -> (String, String)? in
            guard let change = changes[column.0] else { return column }
            return change.map { (column.0, $0) }
        }
        for (column, value) in changes.sorted(by: { $0.key < $1.key }) where !row.contains(where: { $0.0 == column }) {
            if let value { result.append((column, value)) }
        }
        return result
    }

    static func debezium(op: String = #""c""#, before: String = "null", after: String, tsMs: String = "1590969601234")
        -> String
    {
        #"{"before": \#(before), "after": \#(after), "source": {"connector": "postgresql", "db": "dept", "table": "t", "ts_ms": 1590969600000}, "op": \#(op), "ts_ms": \#(tsMs)}"#
    }
}

func decode(_ topic: String, _ json: String, key: String? = nil) -> DecodeOutcome {
    Shipped.decoder.decode(topic: topic, key: key.map { Array($0.utf8) }, value: Array(json.utf8))
}

/// Decodes `row` of `topic` as a create and returns the change (or records an issue).
func decodeRow(_ topic: String, _ row: Message.Row, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws
    -> Change
{
    let outcome = decode(topic, Message.debezium(after: Message.object(row)))
    guard case .change(let change) = outcome else {
        Issue.record("expected a change, got \(outcome)", sourceLocation: sourceLocation)
        throw DecodeFailure()
    }
    return change
}

/// The rejection reason of `row` of `topic` decoded as a create.
func rejection(_ topic: String, _ row: Message.Row) -> String? {
    if case .rejected(let reason) = decode(topic, Message.debezium(after: Message.object(row))) { return reason }
    return nil
}

struct DecodeFailure: Error {}

let fuzhou = try! USCC(validating: "91350100M000100Y43")

@Suite("Decoding: envelopes and operations")
struct EnvelopeTests {
    @Test("the EVENTS.md example shape, in full")
    func eventsExample() {
        let json = """
            {"before": null,
             "after": \(Message.object(Message.payment)),
             "source": {"connector": "postgresql", "db": "tax", "table": "tax_payment", "ts_ms": 1590969600000},
             "op": "c", "ts_ms": 1590969601234}
            """
        let expected = Change(
            topic: "tax.payment", key: "SK2020050112", operation: .create, version: 1_590_969_601_234,
            fields: [
                "id": .string("SK2020050112"), "uscc": .string("91350100M000100Y43"), "name": .string("福州某某有限公司"),
                "tax_type": .string("增值税"), "period": .string("2020-04"), "amount": .number(12345.67),
                "paid_date": .date(Day(18413)),
            ],
            eventDay: Day(iso: "2020-05-31")!, entity: .enterprise(fuzhou))
        #expect(decode("tax.payment", json, key: #"{"id":"SK2020050112"}"#) == .change(expected))
        #expect(decode("tax.payment", json) == .change(expected))
    }

    @Test(
        "operations c, u, r read 'after'; d reads 'before'",
        arguments: [("c", ChangeOperation.create), ("u", .update), ("r", .snapshot)])
    func operations(op: String, operation: ChangeOperation) throws {
        let outcome = decode("tax.payment", Message.debezium(op: "\"\(op)\"", after: Message.object(Message.payment)))
        guard case .change(let change) = outcome else {
            Issue.record("\(outcome)")
            return
        }
        #expect(change.operation == operation)
        #expect(change.fields["amount"] == .number(12345.67))
    }

    @Test("a delete carries the before row")
    func delete() throws {
        let before = Message.object(Message.with(Message.payment, ["amount": "99.5"]))
        let outcome = decode(
            "tax.payment", Message.debezium(op: #""d""#, before: before, after: "null", tsMs: "1591000000000"))
        guard case .change(let change) = outcome else {
            Issue.record("\(outcome)")
            return
        }
        #expect(change.operation == .delete)
        #expect(change.key == "SK2020050112")
        #expect(change.version == 1_591_000_000_000)
        #expect(change.fields["amount"] == .number(99.5))
        #expect(change.entity == .enterprise(fuzhou))
    }

    @Test("the same message twice, or re-sent as a snapshot, gives the same change")
    func redelivery() {
        let message = Message.debezium(after: Message.object(Message.payment))
        #expect(decode("tax.payment", message) == decode("tax.payment", message))
        guard case .change(let created) = decode("tax.payment", message),
            case .change(let snapshot) = decode(
                "tax.payment", Message.debezium(op: #""r""#, after: Message.object(Message.payment)))
        else {
            Issue.record("not decoded")
            return
        }
        #expect(created.key == snapshot.key)
        #expect(created.fields == snapshot.fields)
        #expect(created.version == snapshot.version)
    }

    @Test("tombstones", arguments: [nil, "", "null", "  \n", " null "])
    func tombstone(value: String?) {
        #expect(
            Shipped.decoder.decode(
                topic: "tax.payment", key: Array(#"{"id":"1"}"#.utf8), value: value.map { Array($0.utf8) })
                == .tombstone)
    }

    @Test("version: the envelope ts_ms, else source.ts_ms, else 0")
    func versionFallback() throws {
        let after = Message.object(Message.payment)
        func version(_ json: String) -> Int64? {
            if case .change(let change) = decode("tax.payment", json) { return change.version }
            return nil
        }
        #expect(version(#"{"op": "c", "after": \#(after), "ts_ms": 7}"#) == 7)
        #expect(version(#"{"op": "c", "after": \#(after), "source": {"ts_ms": 5}}"#) == 5)
        #expect(version(#"{"op": "c", "after": \#(after), "ts_ms": null, "source": {"ts_ms": 5}}"#) == 5)
        #expect(version(#"{"op": "c", "after": \#(after)}"#) == 0)
        #expect(version(#"{"op": "c", "after": \#(after), "source": {"db": "tax"}}"#) == 0)
    }

    @Test("version: the topic's version_field wins over ts_ms")
    func versionField() throws {
        let change = try decodeRow(
            "market.enterprise", Message.with(Message.enterprise, ["updated_at": #""2020-05-31T17:00:00Z""#]))
        #expect(change.version == 1_590_944_400_000)
        // 01:00 on 1 June in China Standard Time.
        #expect(change.eventDay == Day(iso: "2020-06-01")!)
        #expect(change.key == "91350100M000100Y43")
    }

    @Test(
        "envelope rejections",
        arguments: [
            ("{\"op\": \"c\", \"after\": ", "not JSON: Unexpected end of file during JSON parse"),
            ("nonsense", "not JSON: Invalid value around character 1"),
            ("[1, 2]", "envelope: expected a JSON object, got array"),
            ("\"text\"", "envelope: expected a JSON object, got string 'text'"),
            ("42", "envelope: expected a JSON object, got number 42"),
            ("{\"after\": {}}", "envelope: missing 'op'"),
            ("{\"op\": null, \"after\": {}}", "envelope: missing 'op'"),
            ("{\"op\": \"x\", \"after\": {}}", "envelope: op 'x' is not one of c, u, d, r"),
            ("{\"op\": \"t\"}", "envelope: op 't' is not one of c, u, d, r"),
            ("{\"op\": 1, \"after\": {}}", "envelope: 'op' must be a string, got number 1"),
            ("{\"op\": \"c\"}", "envelope: op 'c' requires an object 'after'"),
            ("{\"op\": \"c\", \"after\": null}", "envelope: op 'c' requires an object 'after'"),
            ("{\"op\": \"u\", \"after\": []}", "envelope: op 'u' requires an object 'after'"),
            ("{\"op\": \"r\", \"after\": \"row\"}", "envelope: op 'r' requires an object 'after'"),
            ("{\"op\": \"d\", \"before\": null, \"after\": {}}", "envelope: op 'd' requires an object 'before'"),
        ])
    func envelopeRejection(json: String, reason: String) {
        #expect(decode("tax.payment", json) == .rejected(reason: reason))
    }

    @Test("malformed ts_ms is rejected")
    func badTimestamps() {
        let after = Message.object(Message.payment)
        #expect(
            decode("tax.payment", #"{"op": "c", "after": \#(after), "ts_ms": "x"}"#)
                == .rejected(reason: "envelope: 'ts_ms' must be an integer, got string 'x'"))
        #expect(
            decode("tax.payment", #"{"op": "c", "after": \#(after), "source": {"ts_ms": 1.5}}"#)
                == .rejected(reason: "envelope: 'source.ts_ms' must be an integer, got number 1.5"))
    }

    @Test("unknown topic")
    func unknownTopic() {
        #expect(decode("foo", "{}") == .rejected(reason: "unknown topic 'foo'"))
        #expect(Shipped.decoder.decode(topic: "foo", key: nil, value: nil) == .rejected(reason: "unknown topic 'foo'"))
    }

    @Test("required fields")
    func requiredFields() {
        #expect(
            rejection("tax.payment", Message.with(Message.payment, ["amount": nil]))
                == "missing required field 'amount'")
        #expect(
            rejection("tax.payment", Message.with(Message.payment, ["amount": "null"]))
                == "required field 'amount' is null")
        #expect(
            rejection("tax.payment", Message.with(Message.payment, ["uscc": #""""#]))
                == "required field 'uscc' is empty")
        // The first bad field in declaration order is reported.
        #expect(
            rejection("tax.payment", Message.with(Message.payment, ["paid_date": "true", "uscc": nil]))
                == "missing required field 'uscc'")
    }

    @Test("columns not in the catalog are ignored; absent optional fields are null")
    func extraAndOptional() throws {
        let change = try decodeRow(
            "hrss.insurance",
            Message.with(Message.insurance, ["arrears_amount": nil, "branch": #""东区""#, "extra": "[1]"]))
        #expect(change.fields.keys.sorted() == ["arrears_amount", "id", "insured_count", "name", "period", "uscc"])
        #expect(change.fields["arrears_amount"] == .null)
        #expect(change.fields["insured_count"] == .number(42))
        #expect(change.eventDay == Day(iso: "2020-05-01")!)
    }

    @Test("a plain envelope: the value is the row")
    func plainEnvelope() throws {
        let yaml = """
            name: power.usage
            department: 供电公司
            description: monthly files
            envelope: plain
            fields:
              - { name: id, type: string }
              - { name: uscc, type: uscc }
              - { name: month, type: string, format: period }
              - { name: kwh, type: decimal }
              - { name: seq, type: int, optional: false }
            primary_key: [id, month]
            event_time: month
            entity: { kind: enterprise, field: uscc }
            cadence: { expected: monthly, max_silence_days: 40 }
            """
        let catalog = try TopicCatalog.parse([(path: "topics/power.usage.yaml", text: yaml)])
        let decoder = ChangeDecoder(catalog: catalog)
        let row =
            #"{"id": "P1", "uscc": "91350100M000100Y43", "month": "2020-05", "kwh": "1200.5", "seq": 3, "op": "d"}"#
        let expected = Change(
            topic: "power.usage", key: "P1|2020-05", operation: .create, version: 0,
            fields: [
                "id": .string("P1"), "uscc": .string("91350100M000100Y43"), "month": .string("2020-05"),
                "kwh": .number(1200.5), "seq": .number(3),
            ],
            eventDay: Day(iso: "2020-05-01")!, entity: .enterprise(fuzhou))
        #expect(decoder.decode(topic: "power.usage", key: nil, value: Array(row.utf8)) == .change(expected))
        #expect(
            decoder.decode(topic: "power.usage", key: nil, value: Array("[]".utf8))
                == .rejected(reason: "envelope: expected a JSON object, got array"))

        let versioned = try TopicCatalog.parse([
            (
                path: "topics/power.usage.yaml",
                text: yaml.replacingOccurrences(of: "event_time: month", with: "event_time: month\nversion_field: seq")
            )
        ])
        guard
            case .change(let change) = ChangeDecoder(catalog: versioned).decode(
                topic: "power.usage", key: nil, value: Array(row.utf8))
        else {
            Issue.record("not decoded")
            return
        }
        #expect(change.version == 3)
    }
}

@Suite("Decoding: field encodings")
struct FieldEncodingTests {
    @Test(
        "date: ISO text or days since 1970-01-01",
        arguments: [
            (#""2020-05-31""#, 18413), ("18413", 18413), ("0", 0), ("-1", -1), (#""1969-12-31""#, -1),
            (#""2000-02-29""#, 11016),
        ])
    func date(json: String, days: Int) throws {
        let change = try decodeRow("tax.payment", Message.with(Message.payment, ["paid_date": json]))
        #expect(change.fields["paid_date"] == .date(Day(days)))
        #expect(change.eventDay == Day(days))
    }

    @Test(
        "date rejections",
        arguments: [
            (#""2020-13-01""#, "field 'paid_date': '2020-13-01' is not a date"),
            (#""2023-02-29""#, "field 'paid_date': '2023-02-29' is not a date"),
            (#""2020/05/31""#, "field 'paid_date': '2020/05/31' is not a date"),
            (#""2020-05-31T00:00:00Z""#, "field 'paid_date': '2020-05-31T00:00:00Z' is not a date"),
            ("18413.5", "field 'paid_date': expected date, got number 18413.5"),
            ("true", "field 'paid_date': expected date, got boolean true"),
            ("99999999", "field 'paid_date': 99999999 days since 1970-01-01 is outside years 0001–9999"),
        ])
    func dateRejection(json: String, reason: String) {
        #expect(rejection("tax.payment", Message.with(Message.payment, ["paid_date": json])) == reason)
    }

    @Test(
        "timestamp: ISO-8601 text or epoch milliseconds",
        arguments: [
            (#""2020-05-31T04:00:00Z""#, 1_590_897_600_000),
            (#""2020-05-31t04:00:00z""#, 1_590_897_600_000),
            (#""2020-05-31T12:00:00+08:00""#, 1_590_897_600_000),
            (#""2020-05-31T12:00:00+0800""#, 1_590_897_600_000),
            (#""2020-05-31T12:00:00+08""#, 1_590_897_600_000),
            (#""2020-05-30T23:00:00-05:00""#, 1_590_897_600_000),
            (#""2020-05-31T04:00:00.123Z""#, 1_590_897_600_123),
            (#""2020-05-31T04:00:00.1Z""#, 1_590_897_600_100),
            (#""2020-05-31T04:00:00.123456789Z""#, 1_590_897_600_123),
            (#""2020-05-31T12:00:00""#, 1_590_897_600_000),
            (#""2020-05-31 12:00:00""#, 1_590_897_600_000),
            (#""2020-05-31 12:00:00.5""#, 1_590_897_600_500),
            ("1590897600000", 1_590_897_600_000),
            ("0", 0),
            ("253402300799999", 253_402_300_799_999),
            (#""9999-12-31T23:59:59.999Z""#, 253_402_300_799_999),
        ] as [(String, Int64)])
    func timestamp(json: String, ms: Int64) throws {
        let change = try decodeRow("market.enterprise", Message.with(Message.enterprise, ["updated_at": json]))
        #expect(change.fields["updated_at"] == .timestamp(ms))
        #expect(change.version == ms)
    }

    @Test(
        "timestamp rejections",
        arguments: [
            (#""2020-05-31T24:00:00Z""#, "field 'updated_at': '2020-05-31T24:00:00Z' is not a timestamp"),
            (#""2020-05-31""#, "field 'updated_at': '2020-05-31' is not a timestamp"),
            (#""2020-05-31T12:00Z""#, "field 'updated_at': '2020-05-31T12:00Z' is not a timestamp"),
            (#""2020-05-31T12:00:00.Z""#, "field 'updated_at': '2020-05-31T12:00:00.Z' is not a timestamp"),
            (#""2020-05-31T12:00:00+8""#, "field 'updated_at': '2020-05-31T12:00:00+8' is not a timestamp"),
            (#""2020-05-31T12:00:00Z+08:00""#, "field 'updated_at': '2020-05-31T12:00:00Z+08:00' is not a timestamp"),
            (#""2020-02-30T00:00:00Z""#, "field 'updated_at': '2020-02-30T00:00:00Z' is not a timestamp"),
            ("false", "field 'updated_at': expected timestamp, got boolean false"),
            ("1.5", "field 'updated_at': expected timestamp, got number 1.5"),
            (
                "9223372036854775807",
                "field 'updated_at': 9223372036854775807 ms since 1970-01-01 is outside years 0001–9999"
            ),
            (
                "253402300800000",
                "field 'updated_at': 253402300800000 ms since 1970-01-01 is outside years 0001–9999"
            ),
        ])
    func timestampRejection(json: String, reason: String) {
        #expect(rejection("market.enterprise", Message.with(Message.enterprise, ["updated_at": json])) == reason)
    }

    @Test(
        "decimal: JSON number or decimal string",
        arguments: [
            ("12345.67", 12345.67), (#""12345.67""#, 12345.67), ("100", 100), (#""-5""#, -5), (#""0.50""#, 0.5),
            ("1e3", 1000), ("-0.01", -0.01),
        ])
    func decimal(json: String, value: Double) throws {
        let change = try decodeRow("tax.payment", Message.with(Message.payment, ["amount": json]))
        #expect(change.fields["amount"] == .number(value))
    }

    @Test(
        "decimal rejections",
        arguments: [
            (#""12,345.67""#, "field 'amount': '12,345.67' is not a decimal"),
            (#""1e3""#, "field 'amount': '1e3' is not a decimal"),
            (#""""#, "field 'amount': '' is not a decimal"),
            (#""5.""#, "field 'amount': '5.' is not a decimal"),
            (#"".5""#, "field 'amount': '.5' is not a decimal"),
            (#""+5""#, "field 'amount': '+5' is not a decimal"),
            (#""AeJA""#, "field 'amount': 'AeJA' is not a decimal"),
            ("true", "field 'amount': expected decimal, got boolean true"),
            ("[1]", "field 'amount': expected decimal, got array"),
            (#"{"scale": 2, "value": "AeJA"}"#, "field 'amount': expected decimal, got object"),
        ])
    func decimalRejection(json: String, reason: String) {
        #expect(rejection("tax.payment", Message.with(Message.payment, ["amount": json])) == reason)
    }

    @Test("int: a JSON number without fraction")
    func int() throws {
        #expect(
            try decodeRow("hrss.insurance", Message.with(Message.insurance, ["insured_count": "12"])).fields[
                "insured_count"] == .number(12))
        #expect(
            try decodeRow("hrss.insurance", Message.with(Message.insurance, ["insured_count": "12.0"])).fields[
                "insured_count"] == .number(12))
        #expect(
            rejection("hrss.insurance", Message.with(Message.insurance, ["insured_count": #""12""#]))
                == "field 'insured_count': expected int, got string '12'")
        #expect(
            rejection("hrss.insurance", Message.with(Message.insurance, ["insured_count": "2.5"]))
                == "field 'insured_count': expected int, got number 2.5")
        #expect(
            rejection("hrss.insurance", Message.with(Message.insurance, ["insured_count": "true"]))
                == "field 'insured_count': expected int, got boolean true")
    }

    @Test("bool: true/false or 0/1", arguments: [("true", true), ("false", false), ("1", true), ("0", false)])
    func bool(json: String, value: Bool) throws {
        let change = try decodeRow("realestate.rights", Message.with(Message.rights, ["seized": json]))
        #expect(change.fields["seized"] == .bool(value))
    }

    @Test("bool rejections")
    func boolRejection() {
        #expect(
            rejection("realestate.rights", Message.with(Message.rights, ["seized": "2"]))
                == "field 'seized': expected bool, got number 2")
        #expect(
            rejection("realestate.rights", Message.with(Message.rights, ["seized": "1.0"]))
                == "field 'seized': expected bool, got number 1.0")
        #expect(
            rejection("realestate.rights", Message.with(Message.rights, ["seized": #""true""#]))
                == "field 'seized': expected bool, got string 'true'")
    }

    @Test("string: a JSON string only")
    func string() {
        #expect(
            rejection("tax.payment", Message.with(Message.payment, ["name": "123"]))
                == "field 'name': expected string, got number 123")
        let long = String(repeating: "长", count: 50)
        #expect(
            rejection("realestate.rights", Message.with(Message.rights, ["seized": "\"\(long)\""]))
                == "field 'seized': expected bool, got string '\(String(repeating: "长", count: 40))…'")
    }

    @Test("uscc and id_number: check characters, normalisation")
    func identifiers() throws {
        let change = try decodeRow("tax.payment", Message.with(Message.payment, ["uscc": #""91350100m000100y43""#]))
        #expect(change.fields["uscc"] == .string("91350100M000100Y43"))
        #expect(change.entity == .enterprise(fuzhou))
        #expect(
            rejection("tax.payment", Message.with(Message.payment, ["uscc": #""91350100M000100Y44""#]))
                == "field 'uscc': USCC check character is '4', expected '3'")
        #expect(
            rejection("tax.payment", Message.with(Message.payment, ["uscc": #""9135I100M000100Y43""#]))
                == "field 'uscc': USCC character 'I' at position 5 is not in the GB 32100 alphabet")
        #expect(
            rejection("tax.payment", Message.with(Message.payment, ["uscc": "91350100"]))
                == "field 'uscc': expected uscc, got number 91350100")
        let enterprise = try decodeRow(
            "market.enterprise", Message.with(Message.enterprise, ["legal_rep_id": #""11010519491231002x""#]))
        #expect(enterprise.fields["legal_rep_id"] == .string("11010519491231002X"))
        #expect(
            try decodeRow("market.enterprise", Message.with(Message.enterprise, ["legal_rep_id": #""""#])).fields[
                "legal_rep_id"] == .null)
        #expect(
            rejection("market.enterprise", Message.with(Message.enterprise, ["legal_rep_id": #""110105194912310021""#]))
                == "field 'legal_rep_id': ID number check character is '1', expected 'X'")
        #expect(
            rejection("market.enterprise", Message.with(Message.enterprise, ["legal_rep_id": #""430602199902310013""#]))
                == "field 'legal_rep_id': ID number birth date 19990231 is not a real date")
    }

    @Test("string formats and closed value lists")
    func formats() throws {
        #expect(
            try decodeRow("market.enterprise", Message.with(Message.enterprise, ["industry_code": #""c3011""#])).fields[
                "industry_code"] == .string("C3011"))
        #expect(
            rejection("market.enterprise", Message.with(Message.enterprise, ["industry_code": #""C4411""#]))
                == "field 'industry_code': industry division C44 is not in section C (13–43)")
        #expect(
            rejection("market.enterprise", Message.with(Message.enterprise, ["district_code": #""35010""#]))
                == "field 'district_code': '35010' is not a 6-digit district code")
        #expect(
            rejection("market.enterprise", Message.with(Message.enterprise, ["status": #""营业""#]))
                == "field 'status': '营业' is not one of 存续, 在业, 吊销, 注销, 迁出")
        #expect(
            rejection("tax.payment", Message.with(Message.payment, ["period": #""2020-13""#]))
                == "field 'period': '2020-13' is not a period (YYYY-MM)")
        #expect(
            rejection("tax.payment", Message.with(Message.payment, ["period": #""2020-5""#]))
                == "field 'period': '2020-5' is not a period (YYYY-MM)")
        #expect(
            rejection(
                "tax.taxpayer",
                [
                    ("uscc", #""91350100M000100Y43""#), ("name", #""x""#), ("taxpayer_status", #""正常""#),
                    ("credit_rating", #""E""#), ("updated_at", "1"),
                ]) == "field 'credit_rating': 'E' is not one of A, B, M, C, D")
    }
}

@Suite("Decoding: entity linking")
struct EntityLinkingTests {
    @Test("water records without a USCC stay unlinked with their account and name")
    func waterUnlinked() throws {
        let change = try decodeRow("water.usage", Message.water)
        #expect(change.entity == .unlinked(accountNo: "0101-2231", name: "长沙某某餐饮有限公司"))
        #expect(change.fields["uscc"] == .null)
        #expect(change.eventDay == Day(iso: "2020-05-01")!)
        #expect(change.key == "W202005-001")
        #expect(
            try decodeRow("water.usage", Message.with(Message.water, ["uscc": "null"])).entity
                == .unlinked(accountNo: "0101-2231", name: "长沙某某餐饮有限公司"))
        #expect(
            try decodeRow("water.usage", Message.with(Message.water, ["uscc": #""""#, "account_no": #""""#])).entity
                == .unlinked(accountNo: nil, name: "长沙某某餐饮有限公司"))
        #expect(
            rejection("water.usage", Message.with(Message.water, ["account_no": #""""#, "customer_name": #"" ""#]))
                == "no entity key: 'uscc' is null and no link fields")
    }

    @Test("water records with a USCC are linked")
    func waterLinked() throws {
        let change = try decodeRow("water.usage", Message.with(Message.water, ["uscc": #""91350100M000100Y43""#]))
        #expect(change.entity == .enterprise(fuzhou))
        #expect(change.fields["account_no"] == .string("0101-2231"))
    }

    @Test("court records: party_type chooses uscc or id_number")
    func court() throws {
        #expect(try decodeRow("court.dishonest", Message.dishonest).entity == .enterprise(fuzhou))
        let person = Message.with(
            Message.dishonest, ["party_type": #""person""#, "uscc": "null", "id_number": #""11010519491231002X""#])
        let change = try decodeRow("court.dishonest", person)
        #expect(change.entity == .person(try ResidentID(validating: "11010519491231002X")))
        #expect(change.key == "(2020)湘0602执123号")
        #expect(change.eventDay == Day(iso: "2020-06-01")!)
        #expect(
            rejection("court.dishonest", Message.with(Message.dishonest, ["uscc": "null"]))
                == "no entity key: 'party_type' is 'enterprise' but 'uscc' is null")
        #expect(
            rejection("court.dishonest", Message.with(person, ["id_number": nil]))
                == "no entity key: 'party_type' is 'person' but 'id_number' is null")
        #expect(
            rejection("court.dishonest", Message.with(Message.dishonest, ["party_type": #""机构""#]))
                == "field 'party_type': '机构' is not one of enterprise, person")
        let enforcement = Message.with(
            Message.dishonest,
            ["listed_date": nil, "removed_date": nil, "filed_date": #""2020-06-02""#, "party_type": #""other""#])
        #expect(
            rejection("court.enforcement", enforcement)
                == "field 'party_type': 'other' is not one of enterprise, person")
    }

    @Test("owner_id holds a USCC or an ID number")
    func owners() throws {
        #expect(try decodeRow("realestate.rights", Message.rights).entity == .enterprise(fuzhou))
        let person = try decodeRow(
            "realestate.rights",
            Message.with(Message.rights, ["owner_type": #""person""#, "owner_id": #""11010519491231002x""#]))
        #expect(person.entity == .person(try ResidentID(validating: "11010519491231002X")))
        #expect(person.fields["owner_id"] == .string("11010519491231002X"))
        #expect(person.fields["mortgage_amount"] == .number(3_000_000))
        #expect(
            rejection("realestate.rights", Message.with(Message.rights, ["owner_id": #""110105199003071230""#]))
                == "field 'owner_id': neither a valid USCC (USCC check character is '0', expected 'W') nor a valid ID number (ID number check character is '0', expected '9')"
        )
        #expect(
            rejection("realestate.rights", Message.with(Message.rights, ["owner_id": #""123""#]))
                == "field 'owner_id': USCC or ID number must have 18 characters, got 3")

        // A code valid as both kinds: owner_type settles it; without a type field, the leading 9 does.
        let both = #""914306199001010299""#
        #expect(
            try decodeRow(
                "realestate.rights", Message.with(Message.rights, ["owner_type": #""person""#, "owner_id": both])
            ).entity
                == .person(try ResidentID(validating: "914306199001010299")))
        #expect(
            try decodeRow("realestate.rights", Message.with(Message.rights, ["owner_id": both])).entity
                == .enterprise(try USCC(validating: "914306199001010299")))
        let vehicle: Message.Row = [
            ("plate_no", #""湘F12345""#), ("owner_id", both), ("owner_name", #""某某""#), ("vehicle_type", #""小型轿车""#),
            ("registered_date", "18413"), ("status", #""正常""#),
        ]
        #expect(
            try decodeRow("traffic.vehicle", vehicle).entity == .enterprise(try USCC(validating: "914306199001010299")))
        #expect(
            rejection("traffic.vehicle", Message.with(vehicle, ["owner_id": "null"]))
                == "required field 'owner_id' is null")
    }

    @Test("driving licences are linked to persons")
    func drivers() throws {
        let row: Message.Row = [
            ("license_no", #""430602199001011235""#), ("id_number", #""430602199001011235""#), ("name", #""李四""#),
            ("license_class", #""C1""#), ("status", #""正常""#), ("valid_until", #""2026-01-01""#),
        ]
        let change = try decodeRow("traffic.driver", row)
        #expect(change.entity == .person(try ResidentID(validating: "430602199001011235")))
        #expect(change.eventDay == Day(iso: "2026-01-01")!)
        #expect(
            rejection("traffic.driver", Message.with(row, ["id_number": "null"]))
                == "required field 'id_number' is null")
    }
}
