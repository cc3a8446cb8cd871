/// The types the rule language shares with the engine: the schema it checks against, the data it
/// evaluates, and what an evaluation produces. They carry no I/O.

/// A field type of the topic catalog (EVENTS.md).
public enum FieldType: String, Sendable, Hashable, CaseIterable {
    case string, uscc, idNumber = "id_number", date, timestamp, decimal, int, bool

    /// Numeric fields can be aggregated by sum/avg/min/max.
    public var isNumeric: Bool { self == .decimal || self == .int }
}

/// A typed field value. Decimals and ints are both `.number` (CNY yuan and counts stay well inside
/// Double's exact-integer range; amounts carry at most two decimals). `.null` is SQL NULL / absent.
public enum Value: Hashable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case date(Day)
    /// Epoch milliseconds.
    case timestamp(Int64)
}

/// What the checker knows of one catalog topic.
public struct TopicSchema: Sendable {
    public enum EntityKind: String, Sendable { case enterprise, person, mixed }

    public let name: String
    public let fields: [String: FieldType]
    /// Field whose value is the record's business date (for `period` fields: the month's first day).
    public let eventTimeField: String
    public let entityKind: EntityKind
    /// Fields that hold personal data: what a feature reads of them is masked where it is shown.
    public let personal: [String: PersonalData]

    public init(
        name: String, fields: [String: FieldType], eventTimeField: String, entityKind: EntityKind, personal: [String: PersonalData] = [:]
    ) {
        self.name = name
        self.fields = fields
        self.personal = personal
        self.eventTimeField = eventTimeField
        self.entityKind = entityKind
    }
}

/// The topic catalog as the checker sees it.
public struct Schema: Sendable {
    public let topics: [String: TopicSchema]
    public init(topics: [TopicSchema]) {
        self.topics = Dictionary(topics.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    }
}

/// One current record of the credit information base, as the evaluator sees it.
public struct FactRecord: Hashable, Sendable {
    public let topic: String
    /// The record's primary key within its topic, e.g. `SK2020050112`.
    public let key: String
    public let eventDay: Day
    public let fields: [String: Value]

    public init(topic: String, key: String, eventDay: Day, fields: [String: Value]) {
        self.topic = topic
        self.key = key
        self.eventDay = eventDay
        self.fields = fields
    }

    /// `topic/key`: how alerts cite their source records.
    public var reference: String { "\(topic)/\(key)" }
}

/// Everything known of one enterprise (or person) at evaluation time.
public struct EntityData: Sendable {
    /// USCC or ID number.
    public let entity: String
    /// The event-time reference day: windows end here (`3mo` = the 3 calendar months ending with
    /// `asOf.month`; `90d` = the 90 days ending with `asOf`).
    public let asOf: Day
    /// Current records by topic.
    public let records: [String: [FactRecord]]
    /// Where the windows over a topic's records end, when not at `asOf`: the engine ends the
    /// windows of monthly feeds with the last complete month, so that a month whose data is still
    /// arriving never looks like a collapse.
    public let windowEnds: [String: Day]
    /// The state of each department feed city-wide, by topic: what absence rules need. A rule that
    /// declares `absence TOPIC` is suspended unless that feed is here and fresh, and its windows over
    /// the topic end at the feed's `windowEnd` (not the entity's own), so that silence shows.
    public let feeds: [String: FeedState]

    public init(
        entity: String, asOf: Day, records: [String: [FactRecord]], windowEnds: [String: Day] = [:],
        feeds: [String: FeedState] = [:]
    ) {
        self.entity = entity
        self.asOf = asOf
        self.records = records
        self.windowEnds = windowEnds
        self.feeds = feeds
    }
}

/// A department feed as the engine sees it city-wide.
public struct FeedState: Sendable, Hashable {
    /// Where windows over the feed end for absence rules: the end of the last period the feed has
    /// delivered (monthly feeds: the last complete month).
    public let windowEnd: Day
    /// Whether the feed has delivered within its catalog cadence (`max_silence_days`) of the city's
    /// event-time clock. A stale feed's silence says nothing about an enterprise.
    public let fresh: Bool

    public init(windowEnd: Day, fresh: Bool) {
        self.windowEnd = windowEnd
        self.fresh = fresh
    }
}

/// One of an industry's leading enterprises (top N by the program's leader ranking).
public struct IndustryLeader: Sendable, Hashable {
    public let uscc: String
    /// The ranking feature's value (e.g. tax paid over 12 months).
    public let measure: Double
    /// Whether the enterprise has an active high or critical alert.
    public let alerted: Bool

    public init(uscc: String, measure: Double, alerted: Bool) {
        self.uscc = uscc
        self.measure = measure
        self.alerted = alerted
    }
}

/// Aggregates of one GB/T 4754 division (e.g. `C30`) at evaluation time.
public struct IndustryData: Sendable {
    public let division: String
    public let asOf: Day
    /// Registered enterprises of the division.
    public let population: Int
    /// Enterprises of the division with an active high or critical alert.
    public let alerted: Int
    /// Monthly sums by `topic.field` (e.g. `tax.payment.amount`), keyed by month.
    public let monthlySums: [String: [Month: Double]]
    /// The division's leading enterprises by `RuleProgram.leaderRanking`, highest measure first
    /// (at most its `top`); empty when the program ranks none.
    public let leaders: [IndustryLeader]

    public init(
        division: String, asOf: Day, population: Int, alerted: Int, monthlySums: [String: [Month: Double]],
        leaders: [IndustryLeader] = []
    ) {
        self.division = division
        self.asOf = asOf
        self.population = population
        self.alerted = alerted
        self.monthlySums = monthlySums
        self.leaders = leaders
    }
}

public enum Severity: String, Sendable, Hashable, CaseIterable, Comparable {
    case info, low, medium, high, critical
    public static func < (a: Severity, b: Severity) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

public enum Category: String, Sendable, Hashable, CaseIterable {
    case tax, utility
    case socialInsurance = "social_insurance"
    case judicial, regulatory, lending, industry
}

/// A rule that fired for an entity or an industry.
public struct Firing: Hashable, Sendable {
    public struct ScoreEffect: Hashable, Sendable {
        public let points: Int
        public let dimension: String
        public init(points: Int, dimension: String) {
            self.points = points
            self.dimension = dimension
        }
    }

    public let rule: String
    /// Content hash of the rule's own text (changes when the rule is edited).
    public let ruleVersion: String
    public let title: String
    public let severity: Severity
    public let category: Category
    public let score: ScoreEffect?
    public let cooldownDays: Int
    /// The explanation template filled with the values that made the rule fire.
    public let explanation: String
    /// Feature and parameter values the condition read, by name, in the order of first use.
    public let values: [NamedValue]
    /// `topic/key` of the records that contributed to those values, sorted.
    public let sources: [String]
    /// The event-time window of the firing: `asOf.month` as `YYYY-MM`. Part of the alert's natural key.
    public let window: String

    public init(
        rule: String, ruleVersion: String, title: String, severity: Severity, category: Category,
        score: ScoreEffect?, cooldownDays: Int, explanation: String, values: [NamedValue],
        sources: [String], window: String
    ) {
        self.rule = rule
        self.ruleVersion = ruleVersion
        self.title = title
        self.severity = severity
        self.category = category
        self.score = score
        self.cooldownDays = cooldownDays
        self.explanation = explanation
        self.values = values
        self.sources = sources
        self.window = window
    }
}

public struct NamedValue: Hashable, Sendable {
    public let name: String
    public let value: Value
    public init(_ name: String, _ value: Value) {
        self.name = name
        self.value = value
    }
}
