import CreditWatchCore
import PostgresNIO
import RuleLanguage

/// The dashboard's figures of alerts, scores and tags: grouped counts, each within the caller's
/// subjects (`subjectIDs`, a bank's portfolio) and district, as every read of the store.
extension PostgresStore {
    /// Months in the dashboard's series.
    public static let statisticsMonths = 24

    /// The city's (or the scope's) figures for the dashboard's overview.
    public func overview(subjectIDs: Set<String>? = nil, district: String? = nil) async throws -> CityOverview {
        let subjects = subjectIDs.map { $0.sorted() }
        var overview = CityOverview()
        overview.activeAlerts = try await alertCounts(subjectIDs: subjectIDs, district: district)

        let asOf = try await client.query(
            "SELECT (max(as_of) - DATE '1970-01-01')::int8 FROM enterprise_score", logger: logger)
        for try await day in asOf.decode(Int64?.self) { overview.asOf = day.map { Day(Int($0)) } }

        // Enterprises in scope, per district and division, with their active alerts.
        let areas = try await client.query(
            """
            WITH scoped AS (
                SELECT uscc, coalesce(district, 'unknown') AS district, coalesce(division, 'unknown') AS division FROM enterprise
                WHERE NOT deleted AND (\(subjects)::text[] IS NULL OR uscc = ANY(\(subjects)::text[]))
                    AND (\(district)::text IS NULL OR district = \(district)::text)
            ), alerted AS (
                SELECT subject_id AS uscc, count(*) AS active,
                    bool_or(severity IN ('high', 'critical')) AS serious
                FROM alert WHERE status = 'active' AND subject_kind = 'enterprise' GROUP BY subject_id
            )
            SELECT GROUPING(s.district, s.division)::int8, s.district, s.division, count(*),
                count(*) FILTER (WHERE a.serious), coalesce(sum(a.active), 0)::int8, count(a.uscc)
            FROM scoped s LEFT JOIN alerted a USING (uscc)
            GROUP BY GROUPING SETS ((), (s.district), (s.division))
            """, logger: logger)
        for try await (grouping, area, division, enterprises, serious, active, withAlerts) in areas.decode(
            (Int64, String?, String?, Int64, Int64, Int64, Int64).self)
        {
            switch grouping {
            case 0b11:
                overview.enterprises = Int(enterprises)
                overview.alertedEnterprises = Int(withAlerts)
            case 0b01:
                if let area { overview.byDistrict.append(AreaFigures(area: area, enterprises: Int(enterprises), alerted: Int(serious), activeAlerts: Int(active))) }
            case 0b10:
                if let division { overview.byDivision.append(AreaFigures(area: division, enterprises: Int(enterprises), alerted: Int(serious), activeAlerts: Int(active))) }
            default: break
            }
        }
        overview.byDistrict.sort(by: AreaFigures.mostAlertedFirst)
        overview.byDivision.sort(by: AreaFigures.mostAlertedFirst)

        if let end = overview.asOf?.month {
            let first = end - (Self.statisticsMonths - 1)
            let months = try await client.query(
                """
                SELECT (extract(year FROM e.as_of) * 12 + extract(month FROM e.as_of) - 1)::int8, e.kind, count(*)
                FROM alert_event e JOIN alert a ON a.id = e.alert_id
                WHERE e.kind IN ('raised', 'withdrawn') AND e.as_of >= \(first.firstDay.description)::date
                    AND e.as_of <= \(end.lastDay.description)::date
                    AND (\(subjects)::text[] IS NULL OR a.subject_id = ANY(\(subjects)::text[]))
                    AND (\(district)::text IS NULL OR (a.district = \(district)::text AND a.subject_kind = 'enterprise'))
                GROUP BY 1, 2
                """, logger: logger)
            var counts: [Month: (raised: Int, withdrawn: Int)] = [:]
            for try await (month, kind, count) in months.decode((Int64, String, Int64).self) {
                let m = Month(index: Int(month))
                if kind == "raised" { counts[m, default: (0, 0)].raised = Int(count) } else { counts[m, default: (0, 0)].withdrawn = Int(count) }
            }
            overview.alertsByMonth = (0..<Self.statisticsMonths).map { i in
                let m = first + i
                return MonthAlerts(month: m, raised: counts[m]?.raised ?? 0, withdrawn: counts[m]?.withdrawn ?? 0)
            }
        }

        overview.grades = try await gradeCounts(division: nil, subjects: subjects, district: district)
        let tags = try await client.query(
            """
            SELECT t.tag, count(*) FROM enterprise_tag t JOIN enterprise e ON e.uscc = t.uscc
            WHERE (\(subjects)::text[] IS NULL OR t.uscc = ANY(\(subjects)::text[]))
                AND (\(district)::text IS NULL OR e.district = \(district)::text)
            GROUP BY t.tag ORDER BY count(*) DESC, t.tag
            """, logger: logger)
        for try await (tag, count) in tags.decode((String, Int64).self) { overview.tags.append(TagCount(tag: tag, count: Int(count))) }
        overview.scored = overview.grades.reduce(0) { $0 + $1.count }
        return overview
    }

    /// Scores by grade, best grade first (ordered by the grade's mean score).
    func gradeCounts(division: String?, subjects: [String]?, district: String?) async throws -> [GradeCount] {
        let rows = try await client.query(
            """
            SELECT s.grade, count(*) FROM enterprise_score s JOIN enterprise e ON e.uscc = s.uscc
            WHERE (\(division)::text IS NULL OR e.division = \(division)::text)
                AND (\(subjects)::text[] IS NULL OR s.uscc = ANY(\(subjects)::text[]))
                AND (\(district)::text IS NULL OR e.district = \(district)::text)
            GROUP BY s.grade ORDER BY avg(s.score) DESC, s.grade
            """, logger: logger)
        var grades: [GradeCount] = []
        for try await (grade, count) in rows.decode((String, Int64).self) { grades.append(GradeCount(grade: grade, count: Int(count))) }
        return grades
    }

    /// A division's figures within the scope: population, alerted enterprises, grades, its leading
    /// enterprises (the `leading` tag), its industry alerts (city scope only: they are about the
    /// whole division) and the monthly sums of `series` (`topic.field`) over its enterprises.
    public func industry(
        _ division: String, series: [SeriesField], subjectIDs: Set<String>? = nil, district: String? = nil
    ) async throws -> IndustryFigures? {
        let subjects = subjectIDs.map { $0.sorted() }
        var figures = IndustryFigures(division: division)
        let population = try await client.query(
            """
            WITH scoped AS (
                SELECT uscc FROM enterprise
                WHERE NOT deleted AND division = \(division)
                    AND (\(subjects)::text[] IS NULL OR uscc = ANY(\(subjects)::text[]))
                    AND (\(district)::text IS NULL OR district = \(district)::text)
            ), alerted AS (
                SELECT subject_id AS uscc, count(*) AS active, bool_or(severity IN ('high', 'critical')) AS serious
                FROM alert WHERE status = 'active' AND subject_kind = 'enterprise' GROUP BY subject_id
            )
            SELECT count(*), count(*) FILTER (WHERE a.serious), coalesce(sum(a.active), 0)::int8
            FROM scoped s LEFT JOIN alerted a USING (uscc)
            """, logger: logger)
        for try await (enterprises, serious, active) in population.decode((Int64, Int64, Int64).self) {
            figures.population = Int(enterprises)
            figures.alerted = Int(serious)
            figures.activeAlerts = Int(active)
        }
        let cityWide = subjectIDs == nil && district == nil
        if figures.population == 0 && !cityWide { return nil }
        figures.grades = try await gradeCounts(division: division, subjects: subjects, district: district)

        let leaders = try await client.query(
            """
            SELECT e.uscc, e.name, s.score::int8, s.grade,
                (SELECT count(*) FROM alert a WHERE a.subject_id = e.uscc AND a.status = 'active')
            FROM enterprise_tag t JOIN enterprise e ON e.uscc = t.uscc LEFT JOIN enterprise_score s ON s.uscc = e.uscc
            WHERE t.tag = 'leading' AND e.division = \(division) AND NOT e.deleted
                AND (\(subjects)::text[] IS NULL OR e.uscc = ANY(\(subjects)::text[]))
                AND (\(district)::text IS NULL OR e.district = \(district)::text)
            ORDER BY s.score DESC NULLS LAST, e.uscc LIMIT 20
            """, logger: logger)
        for try await (uscc, name, score, grade, active) in leaders.decode((String, String, Int64?, String?, Int64).self) {
            figures.leaders.append(Leader(uscc: uscc, name: name, score: score.map(Int.init), grade: grade, activeAlerts: Int(active)))
        }

        if cityWide {
            let alerts = try await client.query(
                """
                SELECT \(unescaped: Self.alertColumns) FROM alert WHERE subject_id = \("industry:" + division)
                ORDER BY status = 'active' DESC, id DESC LIMIT 50
                """, logger: logger)
            figures.alerts = try await Self.decodeAlerts(alerts)
        }

        let end = try await client.query("SELECT (max(as_of) - DATE '1970-01-01')::int8 FROM enterprise_score", logger: logger)
        var last: Day?
        for try await day in end.decode(Int64?.self) { last = day.map { Day(Int($0)) } }
        if let last {
            figures.series = try await monthlySums(
                series, through: last.month, of: .division(division, subjects: subjects, district: district))
        }
        return figures
    }

    /// Whether an enterprise is known (registered, or with records) and its registered district.
    public func registeredDistrict(of uscc: String) async throws -> (known: Bool, district: String?)? {
        let rows = try await client.query(
            """
            SELECT (SELECT district FROM enterprise WHERE uscc = \(uscc)),
                EXISTS (SELECT 1 FROM enterprise WHERE uscc = \(uscc)) OR EXISTS (SELECT 1 FROM credit_record WHERE entity_id = \(uscc))
            """, logger: logger)
        for try await (district, known) in rows.decode((String?, Bool).self) where known { return (true, district) }
        return nil
    }

    /// An enterprise's monthly sums of `series` over the 24 months ending with the month it was
    /// last scored as of (its event-time clock), else with its latest record's.
    public func enterpriseSeries(_ uscc: String, series: [SeriesField]) async throws -> MonthlySeries {
        let latest = try await client.query(
            """
            SELECT (coalesce((SELECT as_of FROM enterprise_score WHERE uscc = \(uscc)),
                (SELECT max(event_day) FROM credit_record WHERE entity_id = \(uscc) AND NOT deleted)) - DATE '1970-01-01')::int8
            """, logger: logger)
        var last: Day?
        for try await day in latest.decode(Int64?.self) { last = day.map { Day(Int($0)) } }
        guard let last else { return MonthlySeries(months: [], series: series.map { ($0, []) }) }
        return try await monthlySums(series, through: last.month, of: .enterprise(uscc))
    }

    /// Whose records a series sums.
    enum SeriesOwners {
        case enterprise(String)
        case division(String, subjects: [String]?, district: String?)
    }

    /// A month's sum of a field: JSON numbers, and decimals that connectors send as text.
    static let fieldSum = """
        (extract(year FROM r.event_day) * 12 + extract(month FROM r.event_day) - 1)::int8,
        sum(CASE WHEN jsonb_typeof(r.fields -> s.field) = 'number'
                     OR (r.fields ->> s.field) ~ '^-?[0-9]+([.][0-9]+)?$'
                 THEN (r.fields ->> s.field)::numeric END)::float8
        """

    /// Monthly sums of numeric fields over the owners' current records, for the 24 months through
    /// `end`; a month without records is nil.
    func monthlySums(_ series: [SeriesField], through end: Month, of owners: SeriesOwners) async throws -> MonthlySeries {
        let first = end - (Self.statisticsMonths - 1)
        let months = (0..<Self.statisticsMonths).map { first + $0 }
        let topics = series.map(\.topic), fields = series.map(\.field)
        let from = first.firstDay.description, to = end.lastDay.description
        let rows: PostgresRowSequence
        switch owners {
        case .enterprise(let uscc):
            rows = try await client.query(
                """
                SELECT s.topic, s.field, \(unescaped: Self.fieldSum)
                FROM unnest(\(topics)::text[], \(fields)::text[]) AS s(topic, field)
                JOIN credit_record r ON r.entity_id = \(uscc) AND r.topic = s.topic AND NOT r.deleted
                    AND r.event_day BETWEEN \(from)::date AND \(to)::date
                GROUP BY 1, 2, 3
                """, logger: logger)
        case .division(let division, let subjects, let district):
            rows = try await client.query(
                """
                SELECT s.topic, s.field, \(unescaped: Self.fieldSum)
                FROM unnest(\(topics)::text[], \(fields)::text[]) AS s(topic, field)
                JOIN credit_record r ON r.topic = s.topic AND NOT r.deleted
                    AND r.event_day BETWEEN \(from)::date AND \(to)::date
                JOIN enterprise e ON e.uscc = r.entity_id AND e.division = \(division) AND NOT e.deleted
                    AND (\(subjects)::text[] IS NULL OR e.uscc = ANY(\(subjects)::text[]))
                    AND (\(district)::text IS NULL OR e.district = \(district)::text)
                GROUP BY 1, 2, 3
                """, logger: logger)
        }
        var sums: [String: [Month: Double]] = [:]
        for try await (topic, field, month, sum) in rows.decode((String, String, Int64, Double?).self) {
            if let sum { sums["\(topic).\(field)", default: [:]][Month(index: Int(month))] = sum }
        }
        return MonthlySeries(months: months, series: series.map { s in (s, months.map { sums[s.name]?[$0] }) })
    }
}

/// A numeric field of a topic summed per month (`tax.payment.amount`).
public struct SeriesField: Sendable, Hashable {
    public let topic: String
    public let field: String
    public var name: String { "\(topic).\(field)" }
    public init(topic: String, field: String) {
        self.topic = topic
        self.field = field
    }
}

public struct MonthlySeries: Sendable {
    public let months: [Month]
    public let series: [(field: SeriesField, values: [Double?])]

    public init(months: [Month], series: [(field: SeriesField, values: [Double?])]) {
        self.months = months
        self.series = series
    }
}

public struct AreaFigures: Sendable, Hashable {
    /// A district code or a division (`unknown` when the registration has none).
    public let area: String
    public let enterprises: Int
    /// Enterprises with an active high or critical alert (what industry rules call alerted).
    public let alerted: Int
    public let activeAlerts: Int
    public var alertedShare: Double { enterprises == 0 ? 0 : Double(alerted) / Double(enterprises) }

    static func mostAlertedFirst(_ a: AreaFigures, _ b: AreaFigures) -> Bool {
        a.alertedShare != b.alertedShare ? a.alertedShare > b.alertedShare : a.area < b.area
    }
}

public struct MonthAlerts: Sendable, Hashable {
    public let month: Month
    public let raised: Int
    public let withdrawn: Int
}

public struct GradeCount: Sendable, Hashable {
    public let grade: String
    public let count: Int
}

public struct TagCount: Sendable, Hashable {
    public let tag: String
    public let count: Int
}

public struct CityOverview: Sendable {
    /// The latest day the engine scored an enterprise as of (its event-time clock).
    public var asOf: Day?
    public var enterprises = 0
    public var scored = 0
    /// Enterprises with any active alert.
    public var alertedEnterprises = 0
    public var activeAlerts = AlertCounts()
    public var alertsByMonth: [MonthAlerts] = []
    public var byDistrict: [AreaFigures] = []
    public var byDivision: [AreaFigures] = []
    public var grades: [GradeCount] = []
    public var tags: [TagCount] = []

    public init() {}
}

public struct Leader: Sendable, Hashable {
    public let uscc: String
    public let name: String
    public let score: Int?
    public let grade: String?
    public let activeAlerts: Int
}

public struct IndustryFigures: Sendable {
    public let division: String
    public var population = 0
    public var alerted = 0
    public var activeAlerts = 0
    public var grades: [GradeCount] = []
    public var leaders: [Leader] = []
    public var alerts: [Alert] = []
    public var series = MonthlySeries(months: [], series: [])

    init(division: String) { self.division = division }
}
