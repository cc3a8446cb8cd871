import Access
import CreditWatchCore
import Hummingbird
import PostgresStore
import RuleLanguage

/// The dashboard's figures, each within the caller's scope (a bank's are its portfolio's):
/// - `GET /v1/stats/overview`: enterprises, active alerts by severity and category, alerts raised
///   and withdrawn per month over 24 months, by district and by division (most alerted first),
///   grades, tags;
/// - `GET /v1/industries/{division}`: a division's population, alerted share, grades, leading
///   enterprises, industry alerts and the monthly series industry rules read;
/// - `GET /v1/enterprises/{uscc}/series`: an enterprise's monthly series that rules read;
/// - `GET /v1/alerts/{id}`: one alert.
struct StatisticsController: Sendable {
    let statistics: (any StatisticsReadModel)?
    let series: (any SeriesCatalog)?
    let alerts: any AlertReadModel
    let access: StoreAccess

    func addRoutes(to group: some RouterMethods<APIRequestContext>) {
        group.get("stats/overview", use: overview)
        group.get("industries/{division}", use: industry)
        group.get("enterprises/{uscc}/series", use: enterpriseSeries)
        group.get("alerts/{id}", use: alert)
    }

    func requireStatistics() throws(APIError) -> any StatisticsReadModel {
        guard let statistics else { throw APIError(.notFound, "this server keeps no statistics") }
        return statistics
    }

    @Sendable func overview(_ request: Request, context: APIRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        _ = try QueryParameters(request, accepted: [])
        let (statistics, scope) = (try requireStatistics(), principal.scope)
        let overview = try await access { try await statistics.overview(scope: scope) }
        return try JSONResponse.make(OverviewView(scope: principal.scope, overview: overview))
    }

    @Sendable func industry(_ request: Request, context: APIRequestContext) async throws -> Response {
        let scope = try context.requirePrincipal().scope
        _ = try QueryParameters(request, accepted: [])
        let division = try QueryParameters.division(context.parameters.get("division") ?? "", parameter: "division")
        let statistics = try requireStatistics()
        let fields = await series?.industrySeries() ?? []
        guard let figures = try await access({ try await statistics.industry(division, series: fields, scope: scope) }) else {
            throw APIError(.notFound, "no enterprise of division \(division) is in your scope", parameter: "division")
        }
        return try JSONResponse.make(IndustryView(figures: figures))
    }

    @Sendable func enterpriseSeries(_ request: Request, context: APIRequestContext) async throws -> Response {
        let scope = try context.requirePrincipal().scope
        _ = try QueryParameters(request, accepted: [])
        let uscc: USCC
        do {
            uscc = try USCC(validating: context.parameters.get("uscc") ?? "")
        } catch {
            throw APIError(.invalidParameter, error.reason, parameter: "uscc")
        }
        let statistics = try requireStatistics()
        let fields = await series?.enterpriseSeries() ?? []
        guard let monthly = try await access({ try await statistics.enterpriseSeries(uscc.value, series: fields, scope: scope) }) else {
            throw APIError(.notFound, "no enterprise with USCC \(uscc.value) is known", parameter: "uscc")
        }
        return try JSONResponse.make(EnterpriseSeriesView(uscc: uscc.value, series: monthly))
    }

    @Sendable func alert(_ request: Request, context: APIRequestContext) async throws -> Response {
        let scope = try context.requirePrincipal().scope
        _ = try QueryParameters(request, accepted: [])
        guard let id = context.parameters.get("id").flatMap(Int64.init), id > 0 else {
            throw APIError(.invalidParameter, "an alert id is a positive integer", parameter: "id")
        }
        let alerts = self.alerts
        guard let alert = try await access({ try await alerts.alert(id, scope: scope) }) else {
            throw APIError(.notFound, "no alert \(id)", parameter: "id")
        }
        return try JSONResponse.make(AlertView(alert))
    }
}

struct OverviewView: StableObject {
    let scope: Scope
    let overview: CityOverview

    /// Severities from the most serious, each present (zero when none).
    static let severities: [Severity] = [.critical, .high, .medium, .low, .info]

    func write(to m: inout Members) throws {
        let o = overview
        try m("scope", scope.kind)
        try m("as_of", o.asOf?.description)
        try m("enterprises", o.enterprises)
        try m("scored", o.scored)
        try m("active_alerts", ActiveAlerts(counts: o.activeAlerts, enterprises: o.alertedEnterprises))
        try m("alerts_by_month", o.alertsByMonth.map(MonthAlertsView.init))
        try m("by_district", o.byDistrict.map { AreaView(key: "district", area: $0) })
        try m("by_division", o.byDivision.map { AreaView(key: "division", area: $0) })
        try m("grades", o.grades.map { CountView(key: "grade", name: $0.grade, count: $0.count) })
        try m("tags", o.tags.map { CountView(key: "tag", name: $0.tag, count: $0.count) })
    }

    struct ActiveAlerts: StableObject {
        let counts: AlertCounts
        let enterprises: Int
        func write(to m: inout Members) throws {
            try m("total", counts.total)
            try m("enterprises", enterprises)
            try m("by_severity", OverviewView.severities.map { CountView(key: "severity", name: $0.rawValue, count: counts.bySeverity[$0.rawValue] ?? 0) })
            try m("by_category", counts.byCategory.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
                .map { CountView(key: "category", name: $0.key, count: $0.value) })
        }
    }
}

/// `{"<key>": name, "count": n}`: one row of a grouped count.
struct CountView: StableObject {
    let key: String, name: String, count: Int
    func write(to m: inout Members) throws {
        try m(key, name)
        try m("count", count)
    }
}

struct MonthAlertsView: StableObject {
    let month: MonthAlerts
    init(_ month: MonthAlerts) { self.month = month }
    func write(to m: inout Members) throws {
        try m("month", month.month.description)
        try m("raised", month.raised)
        try m("withdrawn", month.withdrawn)
    }
}

struct AreaView: StableObject {
    let key: String
    let area: AreaFigures
    func write(to m: inout Members) throws {
        try m(key, area.area)
        try m("enterprises", area.enterprises)
        try m("alerted", area.alerted)
        try m("alerted_share", area.alertedShare)
        try m("active_alerts", area.activeAlerts)
    }
}

struct SeriesView: StableObject {
    let field: SeriesField
    let values: [Double?]
    func write(to m: inout Members) throws {
        try m("series", field.name)
        try m("topic", field.topic)
        try m("field", field.field)
        try m("values", values.map(NullableNumber.init))
    }

    /// A month without records is null, not left out: the arrays line up with `months`.
    struct NullableNumber: Encodable {
        let value: Double?
        init(_ value: Double?) { self.value = value }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            if let value { try container.encode(value) } else { try container.encodeNil() }
        }
    }
}

struct EnterpriseSeriesView: StableObject {
    let uscc: String
    let series: MonthlySeries
    func write(to m: inout Members) throws {
        try m("uscc", uscc)
        try m("months", series.months.map(\.description))
        try m("series", series.series.map { SeriesView(field: $0.field, values: $0.values) })
    }
}

struct IndustryView: StableObject {
    let figures: IndustryFigures
    func write(to m: inout Members) throws {
        let f = figures
        try m("division", f.division)
        try m("population", f.population)
        try m("alerted", f.alerted)
        try m("alerted_share", f.population == 0 ? 0 : Double(f.alerted) / Double(f.population))
        try m("active_alerts", f.activeAlerts)
        try m("months", f.series.months.map(\.description))
        try m("series", f.series.series.map { SeriesView(field: $0.field, values: $0.values) })
        try m("grades", f.grades.map { CountView(key: "grade", name: $0.grade, count: $0.count) })
        try m("leaders", f.leaders.map(LeaderView.init))
        try m("alerts", f.alerts.map(AlertView.init))
    }

    struct LeaderView: StableObject {
        let leader: Leader
        init(_ leader: Leader) { self.leader = leader }
        func write(to m: inout Members) throws {
            try m("uscc", leader.uscc)
            try m("name", leader.name)
            try m("score", leader.score)
            try m("grade", leader.grade)
            try m("active_alerts", leader.activeAlerts)
        }
    }
}
