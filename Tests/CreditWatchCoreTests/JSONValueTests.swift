import CreditWatchCore
import Foundation
import RuleLanguage
import Testing

@Suite("Stored JSON of field values")
struct JSONValueTests {
    @Test func valuesRenderAsPlainJSON() throws {
        let object = JSONValue.object([
            "amount": JSONValue(.number(12345.67)),
            "count": JSONValue(.number(1200)),
            "negative": JSONValue(.number(-3)),
            "tiny": JSONValue(.number(0.00001)),
            "paid": JSONValue(.date(Day(iso: "2020-05-31")!)),
            "at": JSONValue(.timestamp(1_590_969_601_234)),
            "ok": JSONValue(.bool(true)),
            "none": JSONValue(.null),
            "name": JSONValue(.string("长沙\"湘江\"\n\u{1}")),
        ])
        #expect(object.text == #"{"amount":12345.67,"at":"2020-06-01T00:00:01.234Z","count":1200,"name":"长沙\"湘江\"\n\u0001","negative":-3,"none":null,"ok":true,"paid":"2020-05-31","tiny":1e-05}"#)
        // A record's fields are written the same way straight from their values (NUL replaced).
        let fields: [String: Value] = [
            "amount": .number(12345.67), "count": .number(1200), "negative": .number(-3), "tiny": .number(0.00001),
            "paid": .date(Day(iso: "2020-05-31")!), "at": .timestamp(1_590_969_601_234), "ok": .bool(true), "none": .null,
            "name": .string("长沙\"湘江\"\n\u{1}"), "inf": .number(.infinity), "Z": .string("a\u{0}b"),
        ]
        #expect(JSONValue.text(of: fields) == #"{"Z":"a\#u{FFFD}b","amount":12345.67,"at":"2020-06-01T00:00:01.234Z","count":1200,"inf":null,"name":"长沙\"湘江\"\n\u0001","negative":-3,"none":null,"ok":true,"paid":"2020-05-31","tiny":1e-05}"#)
        #expect(JSONValue.text(of: fields) == JSONValue.object(fields.mapValues(JSONValue.init)).text)
        #expect(JSONValue.text(of: [:]) == "{}")
        // For a jsonb column: the same members, in the dictionary's order.
        let unordered = JSONValue.jsonbText(of: fields)
        #expect(unordered.count == JSONValue.text(of: fields).count)
        #expect(try JSONDecoder().decode(JSONValue.self, from: Data(unordered.utf8))
            == JSONDecoder().decode(JSONValue.self, from: Data(JSONValue.text(of: fields).utf8)))
        #expect(JSONValue.jsonbText(of: [:]) == "{}")
        #expect(JSONValue.jsonbText(of: ["a": .string("x")]) == #"{"a":"x"}"#)
        #expect(JSONValue(.number(.nan)) == .null)
        #expect(JSONValue.string("a\u{0}b").text == "\"a\u{FFFD}b\"")
    }

    @Test func storedJSONReadsBackByDeclaredType() {
        #expect(Value(json: .string("2020-05-31"), type: .date) == .date(Day(iso: "2020-05-31")!))
        #expect(Value(json: .string("2020-06-01T00:00:01.234Z"), type: .timestamp) == .timestamp(1_590_969_601_234))
        #expect(Value(json: .string("2020-05-31"), type: .string) == .string("2020-05-31"))
        #expect(Value(json: .string("2020-05-31"), type: nil) == .string("2020-05-31"))
        #expect(Value(json: .number(12.5), type: .decimal) == .number(12.5))
        #expect(Value(json: .string("12.50"), type: .decimal) == .number(12.5))
        #expect(Value(json: .number(1), type: .bool) == .bool(true))
        #expect(Value(json: .null, type: .date) == .null)
        #expect(Value(json: .string("2020-02-30"), type: .date) == nil)
        #expect(Value(json: .array([]), type: nil) == nil)
    }

    @Test func jsonCodableKeepsIntegersIntegral() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let value = JSONValue.object(["a": .number(1200), "b": .number(0.5), "c": .array([.bool(false), .null, .string("x")])])
        let text = String(decoding: try encoder.encode(value), as: UTF8.self)
        #expect(text == #"{"a":1200,"b":0.5,"c":[false,null,"x"]}"#)
        #expect(try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) == value)
    }

    @Test func integersAndControlCharacters() throws {
        #expect(JSONValue.array([.integer(-9_223_372_036_854_775_808), .integer(7), .number(7)]).text
            == "[-9223372036854775808,7,7]")
        #expect(JSONValue.string("\u{8}\u{C}\u{1F}\\").text == #""\b\f\u001f\\""#)
        #expect(Value(json: .integer(1), type: .bool) == .bool(true))
        #expect(Value(json: .integer(42), type: .int) == .number(42))
        #expect(Value(json: .integer(42), type: nil) == .number(42))
        let text = String(decoding: try JSONEncoder().encode(JSONValue.integer(9_007_199_254_740_993)), as: UTF8.self)
        #expect(text == "9007199254740993")
    }
}

extension JSONValueTests {
    /// A score with every part its explanation can have: dimensions, item, rule, weight and cap
    /// lines (with and without a dimension and a rule version), unassessed items, an override,
    /// values of every kind and text that needs escaping.
    static let explainedScore = ScoreResult(
        scorecard: "enterprise_credit", scorecardVersion: "sc1", ruleSetVersion: "rs1", entity: "91430500MA4L000001",
        asOf: Day(20_000), base: 600, score: 540, grade: "C",
        dimensions: [
            DimensionScore(name: "tax", title: "纳税", raw: -80, weighted: -40, points: -40),
            DimensionScore(name: "judicial", title: "司法", raw: -20, weighted: -20, points: -20),
        ],
        overrides: [],
        lines: [
            ScoreLine(
                kind: .item, dimension: "tax", name: "arrears", text: "欠税 \"12.5\" 万元\n", points: -80,
                values: [NamedValue("tax_arrears", .number(125_000.5)), NamedValue("since", .date(Day(19_990)))],
                sources: ["tax.arrears/QS1", "tax.arrears/QS2"]),
            ScoreLine(kind: .weight, dimension: "tax", name: "tax", text: "纳税维度权重 50%：-80 分计为 -40 分", points: 40),
            ScoreLine(
                kind: .rule, dimension: "judicial", name: "dishonest_debtor", text: "失信：列入", points: -20,
                values: [NamedValue("listed", .bool(true)), NamedValue("at", .timestamp(1_700_000_000_000)), NamedValue("none", .null)],
                sources: [], ruleVersion: "r9"),
            ScoreLine(kind: .range, dimension: nil, name: "range", text: "总分", points: 0),
        ],
        unassessed: [
            UnassessedItem(dimension: "water", name: "water_drop", text: "用水", values: [NamedValue("ratio", .string("n/a"))]),
            UnassessedItem(dimension: nil, name: "floor_ok", text: "保底", values: []),
        ],
        appliedOverride: ScoreOverride(
            name: "court_cap", kind: .cap, grade: "C", text: "被执行", points: -5, values: [NamedValue("cases", .number(2))],
            sources: ["court.enforcement/E1"]))

    /// A firing's values as stored: in order, each value as `JSONValue` writes it (U+0000, which
    /// PostgreSQL cannot store, as U+FFFD).
    @Test func namedValuesAreStoredInOrder() {
        let values = [
            NamedValue("tax_arrears", .number(125_000.5)), NamedValue("since", .date(Day(19_990))), NamedValue("none", .null),
            NamedValue("名称", .string("\"甲\"\u{0}")),
        ]
        #expect(
            JSONValue.text(of: values)
                == #"[{"name":"tax_arrears","value":125000.5},{"name":"since","value":"2024-09-24"},{"name":"none","value":null},{"name":"名称","value":"\"甲\"\#u{FFFD}"}]"#)
        #expect(JSONValue.text(of: [NamedValue]()) == "[]")
    }

    /// Written straight from the score, exactly as the `JSONValue` tree it replaced wrote it
    /// (keys sorted, integers without a fraction, dates and timestamps as ISO text).
    @Test func aScoreIsStoredWithEveryPartExplainedAndKeysSorted() throws {
        let text = JSONValue.text(of: Self.explainedScore)
        #expect(text == #"{"base":600,"dimensions":[{"name":"tax","points":-40,"raw":-80,"title":"纳税","weighted":-40},{"name":"judicial","points":-20,"raw":-20,"title":"司法","weighted":-20}],"grade":"C","lines":[{"dimension":"tax","kind":"item","name":"arrears","points":-80,"sources":["tax.arrears/QS1","tax.arrears/QS2"],"text":"欠税 \"12.5\" 万元\n","values":[{"name":"tax_arrears","value":125000.5},{"name":"since","value":"2024-09-24"}]},{"dimension":"tax","kind":"weight","name":"tax","points":40,"sources":[],"text":"纳税维度权重 50%：-80 分计为 -40 分","values":[]},{"dimension":"judicial","kind":"rule","name":"dishonest_debtor","points":-20,"rule_version":"r9","sources":[],"text":"失信：列入","values":[{"name":"listed","value":true},{"name":"at","value":"2023-11-14T22:13:20.000Z"},{"name":"none","value":null}]},{"kind":"range","name":"range","points":0,"sources":[],"text":"总分","values":[]}],"override":{"grade":"C","kind":"cap","name":"court_cap","points":-5,"sources":["court.enforcement/E1"],"text":"被执行","values":[{"name":"cases","value":2}]},"rule_set_version":"rs1","score":540,"scorecard":"enterprise_credit","scorecard_version":"sc1","unassessed":[{"dimension":"water","name":"water_drop","text":"用水","values":[{"name":"ratio","value":"n/a"}]},{"name":"floor_ok","text":"保底","values":[]}]}"#)
        // Valid JSON, and a score without dimensions, lines, unassessed items or override too.
        _ = try JSONSerialization.jsonObject(with: Data(text.utf8))
        let bare = ScoreResult(
            scorecard: "c", scorecardVersion: "v", ruleSetVersion: "r", entity: "e", asOf: Day(0), base: 0, score: 0, grade: "A",
            dimensions: [], overrides: [], lines: [], unassessed: [], appliedOverride: nil)
        #expect(
            JSONValue.text(of: bare)
                == #"{"base":0,"dimensions":[],"grade":"A","lines":[],"rule_set_version":"r","score":0,"scorecard":"c","scorecard_version":"v","unassessed":[]}"#)
    }
}
