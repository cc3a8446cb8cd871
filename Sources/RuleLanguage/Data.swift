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
    /// The relations the catalog's topics declare, by name.
    public let relations: [String: RelationSchema]

    public init(topics: [TopicSchema], relations: [RelationSchema] = []) {
        self.topics = Dictionary(topics.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        self.relations = Dictionary(relations.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    }

    /// The step a relation path may take by `name`: a relation, or a relation's inverse (walked
    /// from its target back to the record's entity).
    public func step(_ name: String) -> RelationStep? {
        if let relation = relations[name] { return RelationStep(relation: relation, inverse: false) }
        if let relation = relations.values.first(where: { $0.inverse == name }) { return RelationStep(relation: relation, inverse: true) }
        return nil
    }

    /// Every name a relation path may use (relations and their inverses), sorted.
    public var stepNames: [String] { relations.values.flatMap { [$0.name, $0.inverse] }.sorted() }
}

/// What an entity is: an enterprise (USCC) or a person (resident ID number).
public enum SubjectKind: String, Sendable, Hashable, CaseIterable {
    case enterprise, person
}

/// A relation the catalog declares on a topic (`relations:`): each current record of `topic` links
/// the entity it is about (its subject) to the entity the record names (its target), e.g.
/// `market.enterprise`'s `legal_representative` links an enterprise to the person `legal_rep_id`
/// names; `inverse` (`represents`) walks the same edges from the person back.
public struct RelationSchema: Sendable, Hashable {
    public let name: String
    public let inverse: String
    public let topic: String
    public let subjectKind: TopicSchema.EntityKind
    public let targetKind: TopicSchema.EntityKind
    /// The record's field naming the target (e.g. `legal_rep_name`), and the one naming the subject
    /// (e.g. `name`): how explanations name a related entity.
    public let targetNameField: String?
    public let subjectNameField: String?

    public init(
        name: String, inverse: String, topic: String, subjectKind: TopicSchema.EntityKind, targetKind: TopicSchema.EntityKind,
        targetNameField: String? = nil, subjectNameField: String? = nil
    ) {
        self.name = name
        self.inverse = inverse
        self.topic = topic
        self.subjectKind = subjectKind
        self.targetKind = targetKind
        self.targetNameField = targetNameField
        self.subjectNameField = subjectNameField
    }
}

/// One step of a relation path: a relation walked forward (subject → target) or back.
public struct RelationStep: Sendable, Hashable {
    public let relation: RelationSchema
    public let inverse: Bool

    public init(relation: RelationSchema, inverse: Bool) {
        self.relation = relation
        self.inverse = inverse
    }

    /// The kind of entity the step arrives at.
    public var arrivesAt: TopicSchema.EntityKind { inverse ? relation.subjectKind : relation.targetKind }
    /// The name this step is written with.
    public var name: String { inverse ? relation.inverse : relation.name }
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
    /// Enterprise rules are evaluated for enterprises, person rules for persons.
    public let kind: SubjectKind
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
    /// The entities related to this one by each relation path the program reads
    /// (`RuleProgram.relationPaths`), keyed by the path's text (`legal_representative.represents`).
    /// Each path's entities are sorted by id, distinct, and never the entity itself. Empty for a
    /// related entity's own data: relation features do not nest, so cycles end at one level.
    public let related: [String: [RelatedEntity]]
    /// Where the enterprise stands among its peers in each ranked measure the program reads
    /// (`RuleProgram.rankedMeasures`): filled by the engine once every evaluated enterprise's value
    /// is recorded (evaluation in two phases, see `RuleProgram.rankedValues`). Absent: unknown.
    public var ranks: [RankedMeasure: PeerRank]

    public init(
        entity: String, kind: SubjectKind = .enterprise, asOf: Day, records: [String: [FactRecord]], windowEnds: [String: Day] = [:],
        feeds: [String: FeedState] = [:], related: [String: [RelatedEntity]] = [:], ranks: [RankedMeasure: PeerRank] = [:]
    ) {
        self.ranks = ranks
        self.entity = entity
        self.kind = kind
        self.asOf = asOf
        self.records = records
        self.windowEnds = windowEnds
        self.feeds = feeds
        self.related = related
    }
}

/// An entity reached from the evaluated one by a relation path.
public struct RelatedEntity: Sendable {
    /// The record behind the path's last edge (e.g. the `market.shareholder` row with the share
    /// ratio): what a relation feature's `where` reads.
    public let edge: FactRecord
    /// `topic/key` of the records behind every edge of the path, in path order: a firing's sources.
    public let via: [String]
    /// The related entity's name as the last edge's record gives it (nil: none).
    public let name: String?
    /// What is known of the related entity itself, with its kind and id (`data.entity`).
    public let data: EntityData

    public init(edge: FactRecord, via: [String], name: String?, data: EntityData) {
        self.edge = edge
        self.via = via
        self.name = name
        self.data = data
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
    /// The division's figures of each peer measure the program reads (`RuleProgram.peerMeasures`),
    /// by `PeerMeasure.key`.
    public let peers: [String: PeerFigures]

    public init(
        division: String, asOf: Day, population: Int, alerted: Int, monthlySums: [String: [Month: Double]],
        leaders: [IndustryLeader] = [], peers: [String: PeerFigures] = [:]
    ) {
        self.division = division
        self.asOf = asOf
        self.population = population
        self.alerted = alerted
        self.monthlySums = monthlySums
        self.leaders = leaders
        self.peers = peers
    }
}

/// What industry rules compare enterprises by: a condition over an enterprise's features and
/// alerts (`water_months_overdue >= 3`, `alerted(utility)`), or an enterprise feature's value.
/// Each enterprise's value is recorded with its standing in its division (`EntityEvaluation.peers`).
public struct PeerMeasure: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable { case condition, value }

    /// The measure's canonical text (tokens joined by single spaces): its identity.
    public let key: String
    public let kind: Kind

    public init(key: String, kind: Kind) {
        self.key = key
        self.kind = kind
    }

    /// The key's content hash (16 hex digits): a name for stores that cannot hold rule text.
    public var id: String { ContentHash.of([key]) }
}

/// Whom an enterprise is ranked among: its division's enterprises, or those of its division in its
/// district (`peer_rank(FEATURE, district)`).
public enum PeerGroup: String, Sendable, Hashable, CaseIterable {
    case division, district
}

/// An enterprise feature by which `peer_rank` places each enterprise among its peers: a value
/// measure (its key is the feature's name) and the group ranked in.
public struct RankedMeasure: Sendable, Hashable, Comparable {
    public let measure: PeerMeasure
    public let group: PeerGroup

    public init(measure: PeerMeasure, group: PeerGroup) {
        self.measure = measure
        self.group = group
    }

    /// How explanations and firings' values name it: `peer_rank(tax_drop_ratio_yoy, district)`.
    public var name: String { group == .division ? "peer_rank(\(measure.key))" : "peer_rank(\(measure.key), district)" }

    public static func < (a: RankedMeasure, b: RankedMeasure) -> Bool {
        // The division first.
        (a.measure.key, a.group == .district ? 1 : 0) < (b.measure.key, b.group == .district ? 1 : 0)
    }
}

/// How an enterprise's value compares with its peers' (the other enterprises of its group whose
/// value is known): how many are below it and how many equal it.
public struct PeerRank: Sendable, Hashable {
    public let below: Int
    public let equal: Int
    /// The peers: the group's other enterprises with a known value.
    public let peers: Int

    public init(below: Int, equal: Int, peers: Int) {
        self.below = below
        self.equal = equal
        self.peers = peers
    }

    /// `value`'s standing among `peers`' values.
    public init(_ value: Double, among peers: [Double]) {
        self.init(below: peers.count { $0 < value }, equal: peers.count { $0 == value }, peers: peers.count)
    }

    /// The percentile rank: the share of the group (the enterprise included) whose value is below
    /// its own, ties counted at their mid-rank — (below + (equal + 1) / 2) / (peers + 1). The worst
    /// of 20 distinct values ranks 97.5 %, the next 92.5 %; so `>= 95%` needs at least 10 in the
    /// group. Nil without peers, or for counts that do not add up.
    public var fraction: Double? {
        guard peers > 0, below >= 0, equal >= 0, below + equal <= peers else { return nil }
        return (Double(below) + Double(equal + 1) / 2) / Double(peers + 1)
    }
}

/// One peer measure over a division's enterprises.
public struct PeerFigures: Sendable, Hashable {
    /// Enterprises whose value is known.
    public let known: Int
    /// A condition: how many enterprises it holds for, and the first of them by USCC (at most
    /// `memberLimit`), the members an industry alert names.
    public let holding: Int
    public let members: [String]
    /// A value: the known values, ascending (what percentiles read).
    public let values: [Double]

    public static let memberLimit = 100

    public init(known: Int, holding: Int = 0, members: [String] = [], values: [Double] = []) {
        self.known = known
        self.holding = holding
        self.members = members
        self.values = values
    }
    /// The figures of a measure over a division from its enterprises' values by USCC (each one's
    /// `EntityEvaluation.peers[key]`; those whose value is unknown left out).
    public init(_ kind: PeerMeasure.Kind, of values: [String: Double]) {
        switch kind {
        case .condition:
            let holding = values.filter { $0.value != 0 }.keys.sorted()
            self.init(known: values.count, holding: holding.count, members: Array(holding.prefix(Self.memberLimit)))
        case .value:
            self.init(known: values.count, values: values.values.sorted())
        }
    }

    /// The `p`-th percentile (`p` in 0...1) of `values` by the nearest-rank method: the value at rank
    /// ⌈p × n⌉ (1-based), the minimum for p = 0; nil when there are no values or p is outside 0...1.
    public func percentile(_ p: Double) -> Double? {
        guard !values.isEmpty, (0...1).contains(p) else { return nil }
        // p × n within rounding of a whole number is that number: 95% of 20 is rank 19, not 20.
        let exact = p * Double(values.count)
        let nearest = exact.rounded()
        let rank = abs(exact - nearest) <= 1e-9 * Swift.max(1, exact) ? nearest : exact.rounded(.up)
        return values[Swift.min(Swift.max(Int(rank), 1), values.count) - 1]
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
    /// Risk carried over from related entities (a legal representative, shareholders, sister enterprises).
    case related
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
