import Access
import CreditWatchCore
import Foundation
import Marketplace
import PostgresStore
import RuleLanguage

/// The enterprise's credit report as a bank's reviewer sees it when the review starts (企业信用报告):
/// registration, score and grade with every point explained, active and recent alerts, negative
/// records by department, every department's facts, and its financing history on the platform.
/// Frozen with the application as JSON; personal fields masked as for the reviewer.
struct CreditReport: Encodable {
    let title: String
    let applicationId: Int64
    let uscc: String
    let asOf: String
    let preparedFor: String
    let reviewer: String
    let authorisation: AuthorisationView
    let registration: RegistrationView?
    let score: ScoreView?
    let activeAlerts: [AlertView]
    let recentAlerts: [AlertView]
    let negativeRecords: [NegativeRecords]
    let facts: [DepartmentFactsView]
    let financing: [FinancingEntry]

    struct NegativeRecords: Encodable {
        let topic: String
        let title: String
        let count: Int
        let records: [DepartmentFactsView.Record]
    }

    struct FinancingEntry: Encodable {
        let applicationId: Int64
        let bank: String
        let status: String
        let amountFen: Int64
        let submittedOn: String
        let loans: [LoanLine]
    }

    struct LoanLine: Encodable {
        let loanNo: String
        let principalFen: Int64
        let daysPastDue: Int
        let bucket: String
        let paidOff: Bool
    }

    /// The feeds whose records count against an enterprise, as the report titles them.
    static let negativeTopics: [(topic: String, title: String)] = [
        ("court.dishonest", "失信被执行人"), ("court.enforcement", "被执行案件"), ("market.penalty", "行政处罚"),
        ("market.abnormal", "经营异常名录"), ("tax.arrears", "欠税"), ("water.arrears", "欠缴水费"), ("finance.loan", "平台贷款"),
    ]

    init(
        application: ApplicationRecord, record: EnterpriseRecord?, facts: [DepartmentFacts], history: [ApplicationRecord], reviewer: String,
        today: Day
    ) {
        title = "企业信用报告"
        applicationId = application.id
        uscc = application.state.uscc
        asOf = today.description
        preparedFor = application.bankName
        self.reviewer = reviewer
        authorisation = AuthorisationView(application.request.authorisation)
        registration = record?.profile.registration.map(RegistrationView.init)
        score = record?.score.map(ScoreView.init)
        let alerts = record?.profile.alerts ?? []
        activeAlerts = alerts.filter { $0.status == "active" }.map(AlertView.init)
        let yearAgo = (today - 365).description
        recentAlerts = alerts.filter { $0.status != "active" && $0.asOf >= yearAgo }.map(AlertView.init)
        let records = Dictionary(facts.flatMap(\.topics).map { ($0.topic, $0.records) }, uniquingKeysWith: +)
        negativeRecords = Self.negativeTopics.compactMap { topic, title in
            var entries = records[topic] ?? []
            // A loan counts against the borrower only when it is, or was written off as, unpaid.
            if topic == "finance.loan" { entries = entries.filter { [.string("逾期"), .string("核销")].contains($0.fields["status"]) } }
            return entries.isEmpty ? nil : NegativeRecords(topic: topic, title: title, count: entries.count, records: entries.map(DepartmentFactsView.Record.init))
        }
        self.facts = facts.map(DepartmentFactsView.init)
        financing = history.map { other in
            FinancingEntry(
                applicationId: other.id, bank: other.bankName, status: other.state.status.rawValue, amountFen: other.request.amount.value,
                submittedOn: other.submittedOn.description,
                loans: other.loans.map { loan in
                    let position = loan.position(asOf: today)
                    return LoanLine(
                        loanNo: LoanReport.loanNo(loan.id), principalFen: loan.terms.principal.value, daysPastDue: position.daysPastDue,
                        bucket: position.bucket.rawValue, paidOff: position.paidOff)
                })
        }
    }
}

/// The frozen report as a printable page: every section of the JSON, in order, as headings and
/// tables; everything escaped.
enum CreditReportPage {
    static func html(_ json: String, frozenAt: String) -> String {
        guard case .object(let report)? = try? JSONDecoder().decode(JSONValue.self, from: Data(json.utf8)) else {
            return page(title: "企业信用报告", body: "<p>报告无法读取。</p>")
        }
        var name = ""
        if case .object(let registration)? = report["registration"], case .string(let text)? = registration["name"] { name = text }
        func field(_ key: String) -> String { report[key].map(scalar) ?? "—" }
        var body = "<h1>企业信用报告</h1>\n<p class=\"meta\">\(escape(name)) · 统一社会信用代码 \(escape(field("uscc")))"
            + " · 报告日期 \(escape(field("as_of"))) · 生成于 \(escape(frozenAt)) · 查询机构 \(escape(field("prepared_for")))"
            + " · 审查人 \(escape(field("reviewer")))</p>\n"
        let sections: [(key: String, title: String)] = [
            ("authorisation", "查询授权"), ("registration", "登记信息"), ("score", "信用评分与等级"), ("active_alerts", "当前预警"),
            ("recent_alerts", "近一年解除的预警"), ("negative_records", "负面记录"), ("financing", "平台融资记录"), ("facts", "各部门信息"),
        ]
        for (key, title) in sections {
            body += "<section><h2>\(escape(title))</h2>\n\(render(report[key] ?? .null))</section>\n"
        }
        return page(title: "企业信用报告 \(name)", body: body)
    }

    static func page(title: String, body: String) -> String {
        """
        <!doctype html>
        <html lang="zh-CN"><head><meta charset="utf-8"><title>\(escape(title))</title>
        <style>
        body { font: 14px/1.5 "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; margin: 2em; color: #111; }
        h1 { font-size: 22px; } h2 { font-size: 17px; border-bottom: 1px solid #999; margin-top: 1.6em; }
        table { border-collapse: collapse; margin: .4em 0; } td, th { border: 1px solid #bbb; padding: 2px 6px; text-align: left; vertical-align: top; }
        th { background: #f1f1f1; } .meta { color: #444; } .empty { color: #777; }
        @media print { body { margin: 0; } section { break-inside: avoid-page; } }
        </style></head>
        <body>
        \(body)</body></html>
        """
    }

    /// Objects as two-column tables, arrays of objects as tables, scalars as text.
    static func render(_ value: JSONValue) -> String {
        switch value {
        case .null: return "<p class=\"empty\">无</p>"
        case .object(let object):
            if object.isEmpty { return "<p class=\"empty\">无</p>" }
            return "<table>" + object.keys.sorted().map { "<tr><th>\(escape($0))</th><td>\(render(object[$0]!))</td></tr>" }.joined() + "</table>"
        case .array(let array):
            if array.isEmpty { return "<p class=\"empty\">无</p>" }
            let rows = array.compactMap { item -> [String: JSONValue]? in
                if case .object(let object) = item { return object }
                return nil
            }
            guard rows.count == array.count else { return array.map { escape(scalar($0)) }.joined(separator: "，") }
            let columns = rows.reduce(into: [String]()) { columns, row in
                for key in row.keys.sorted() where !columns.contains(key) { columns.append(key) }
            }
            return "<table><tr>" + columns.map { "<th>\(escape($0))</th>" }.joined() + "</tr>"
                + rows.map { row in "<tr>" + columns.map { "<td>\(render(row[$0] ?? .null))</td>" }.joined() + "</tr>" }.joined() + "</table>"
        default: return escape(scalar(value))
        }
    }

    static func scalar(_ value: JSONValue) -> String {
        switch value {
        case .null: "—"
        case .bool(let b): b ? "是" : "否"
        case .integer(let n): String(n)
        case .number(let n): n == n.rounded() && abs(n) < 1e15 ? String(Int64(n)) : String(n)
        case .string(let s): s
        case .array, .object: String(decoding: (try? JSONEncoder().encode(value)) ?? Data(), as: UTF8.self)
        }
    }

    static func escape(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
