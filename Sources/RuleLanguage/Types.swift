/// Static types of the checker and the compiled evaluation tree.

/// What a number measures. Comparing or adding numbers of different units (money with a count) is a
/// type error; plain numbers (literals, parameters, ratios) combine with any unit.
enum NumberUnit: Hashable, Sendable {
    case scalar, money, count, days
    /// A physical quantity such as `m³` (decimal fields named `*_m3`, `*_m2`).
    case measure(String)

    var phrase: String {
        switch self {
        case .scalar: return "a number"
        case .money: return "money"
        case .count: return "a count"
        case .days: return "a number of days"
        case .measure(let u): return "a quantity in \(u)"
        }
    }

    /// Decimal fields are CNY amounts unless their name says otherwise (EVENTS.md: `volume_m3`,
    /// `area_m2`; `share_ratio` and `*_share` are plain numbers, 0.3 = 30 %).
    static func of(field: String, type: FieldType) -> NumberUnit {
        switch type {
        case .int: return .count
        default:
            if field.hasSuffix("_m3") { return .measure("m³") }
            if field.hasSuffix("_m2") { return .measure("m²") }
            if field.hasSuffix("_ratio") || field.hasSuffix("_share") { return .scalar }
            return .money
        }
    }
}

enum StaticType: Hashable, Sendable {
    case bool
    case number(NumberUnit)
    case string, date, timestamp
    /// A duration literal (`30d`): only usable to shift a date. `days` is nil for month durations.
    case duration(days: Int?)
    /// Already diagnosed: suppresses follow-on errors.
    case error

    init(field: String, type: FieldType) {
        switch type {
        case .string, .uscc, .idNumber: self = .string
        case .date: self = .date
        case .timestamp: self = .timestamp
        case .decimal, .int: self = .number(NumberUnit.of(field: field, type: type))
        case .bool: self = .bool
        }
    }

    var phrase: String {
        switch self {
        case .bool: return "a condition"
        case .number(let u): return u.phrase
        case .string: return "a string"
        case .date: return "a date"
        case .timestamp: return "a timestamp"
        case .duration: return "a duration"
        case .error: return "an invalid value"
        }
    }

    var isNumber: Bool {
        if case .number = self { return true }
        return false
    }
}

/// A runtime value: `Value` with `.unknown` for missing data (a null field, an empty window for
/// avg/min/max/last, a division by zero).
enum RuntimeValue: Hashable, Sendable {
    case unknown
    case bool(Bool)
    case number(Double)
    case string(String)
    case date(Day)
    case timestamp(Int64)

    init(_ v: Value?) {
        switch v {
        case .none, .null?: self = .unknown
        case .bool(let b)?: self = .bool(b)
        case .number(let n)?: self = n.isFinite ? .number(n) : .unknown
        case .string(let s)?: self = .string(s)
        case .date(let d)?: self = .date(d)
        case .timestamp(let t)?: self = .timestamp(t)
        }
    }

    /// The value as read from a record field declared with `kind`: a value of another kind (an
    /// engine bug or a catalog change) reads as unknown rather than confusing a comparison.
    init(_ v: Value?, as kind: ValueKind) {
        let r = RuntimeValue(v)
        switch (r, kind) {
        case (.bool, .bool), (.number, .number), (.string, .string), (.date, .date), (.timestamp, .timestamp): self = r
        default: self = .unknown
        }
    }

    var value: Value {
        switch self {
        case .unknown: return .null
        case .bool(let b): return .bool(b)
        case .number(let n): return .number(n)
        case .string(let s): return .string(s)
        case .date(let d): return .date(d)
        case .timestamp(let t): return .timestamp(t)
        }
    }
}

/// The runtime kind of a record field, from its catalog type.
enum ValueKind: Hashable, Sendable {
    case bool, number, string, date, timestamp

    init(_ type: FieldType) {
        switch type {
        case .string, .uscc, .idNumber: self = .string
        case .date: self = .date
        case .timestamp: self = .timestamp
        case .decimal, .int: self = .number
        case .bool: self = .bool
        }
    }
}

/// A window as compiled: a count of days or calendar months.
struct WindowSpec: Hashable, Sendable {
    let count: Int
    let unit: WindowLiteral.Unit

    init(count: Int, unit: WindowLiteral.Unit) {
        self.count = count
        self.unit = unit
    }

    init(_ literal: WindowLiteral) {
        count = literal.count
        unit = literal.unit
    }
}

enum IndustryBuiltin: String, Hashable, Sendable, CaseIterable {
    case population, alerted
    case alertedShare = "alerted_share"
    case division
    /// The division's leading enterprises (`industry leaders top N by FEATURE`): how many, how many
    /// of them have an active high alert, and that share.
    case leaders
    case leadersAlerted = "leaders_alerted"
    case leadersAlertedShare = "leaders_alerted_share"

    var type: StaticType {
        switch self {
        case .population, .alerted, .leaders, .leadersAlerted: return .number(.count)
        case .alertedShare, .leadersAlertedShare: return .number(.scalar)
        case .division: return .string
        }
    }

    /// Needs an `industry leaders` declaration (without one there are no leaders to count).
    var needsLeaderRanking: Bool { self == .leaders || self == .leadersAlerted || self == .leadersAlertedShare }
}

/// Names an enterprise expression reads from the evaluation itself rather than from its records.
enum EntityBuiltin: String, Hashable, Sendable, CaseIterable {
    /// The entity id (`EntityData.entity`): for lists of enterprises.
    case entity
    /// The score and grade of the first scorecard: only tags can read them, because tags are
    /// evaluated after scoring.
    case score, grade

    var type: StaticType {
        switch self {
        case .entity, .grade: return .string
        case .score: return .number(.scalar)
        }
    }

    var needsScore: Bool { self != .entity }
}

/// The compiled evaluation tree. Parameters are folded to constants; names are resolved to slots.
indirect enum Node: Hashable, Sendable {
    case constant(RuntimeValue)
    /// A field of the record being filtered (inside `where`).
    case field(String, ValueKind)
    case feature(Int)
    case aggregate(Int)
    case asOf
    case industry(IndustryBuiltin)
    case entity(EntityBuiltin)
    /// Whether the entity has tag `i` (its condition is true); never unknown.
    case tagged(Int)
    case negate(Node)
    case arithmetic(ArithmeticOperator, Node, Node)
    case shiftDate(Node, days: Int)
    /// The China Standard Time calendar day of a timestamp (to compare it with a date).
    case dayOf(Node)
    case compare(ComparisonOperator, Node, Node)
    case and(Node, Node)
    case or(Node, Node)
    case not(Node)
    case isKnown(Node, Bool)
    case inList(Node, [RuntimeValue], negated: Bool)
    /// Membership in a declared `list` (a set, so that long watch lists stay fast).
    case inSet(Node, Set<String>, negated: Bool)
    /// `x` bounded to `low...high`; unknown when any of them is, or when `low > high`.
    case clamp(Node, Node, Node)
    /// `alerted(high)`: whether one of the entity's own firings is as asked: a related entity's base
    /// rules (inside a relation aggregate), or an enterprise's final firings (a peer condition).
    case alerted(AlertedCriterion)
    /// A division's figure of a peer measure (`IndustryData.peers`).
    case peer(PeerFigure)
    /// The enterprise's rank among its peers (`EntityData.ranks`) by its value of the feature.
    case rank(RankedMeasure, Node)
}

/// What an industry expression reads of a peer measure (by key): `share(COND)`, `members(COND)`,
/// `percentile(FEATURE, P)`.
enum PeerFigure: Hashable, Sendable {
    case share(String)
    case members(String)
    /// P as a fraction, 0...1.
    case percentile(String, Double)

    var key: String {
        switch self {
        case .share(let k), .members(let k), .percentile(let k, _): return k
        }
    }

    /// How a firing's values name it: as written, parameters folded (`share(water_months_overdue >= 3)`).
    var name: String {
        switch self {
        case .share(let k): return "share(\(k))"
        case .members(let k): return "members(\(k))"
        case .percentile(let k, let p): return "percentile(\(k), \(Value.numberText(p * 100))%)"
        }
    }
}

/// What `alerted(WORD)` asks of a related entity's firings: a severity at least, or a category.
enum AlertedCriterion: Hashable, Sendable {
    case severity(Severity)
    case category(Category)

    /// The words `alerted` takes: every severity, and every category an entity's rule may have.
    static let words = Severity.allCases.map(\.rawValue) + Category.allCases.filter { $0 != .industry }.map(\.rawValue)

    init?(word: String) {
        if let s = Severity(rawValue: word) {
            self = .severity(s)
        } else if let c = Category(rawValue: word), c != .industry {
            self = .category(c)
        } else {
            return nil
        }
    }

    func holds(for firing: Firing) -> Bool {
        switch self {
        case .severity(let s): return firing.severity >= s
        case .category(let c): return firing.category == c
        }
    }
}

enum AggregateFunction: String, Hashable, Sendable, CaseIterable {
    case sum, count, avg, min, max, last
    case distinctCount = "distinct_count"
    case changes, latest, exists
    case daysSince = "days_since"
    case industrySum = "industry_sum"
    /// Relations only: whether some related entity satisfies a condition.
    case any
}

/// One aggregate over a topic's records (or an industry series), computed at most once per
/// evaluation however many features and rules use it.
struct AggregateSpec: Hashable, Sendable {
    let function: AggregateFunction
    let topic: String
    let field: String?
    /// The field's kind: values of another kind are skipped.
    let fieldKind: ValueKind?
    let window: WindowSpec?
    let offset: WindowSpec?
    /// For a relation aggregate: the filter on the last step's edge records.
    let filter: Node?
    /// Set for a relation aggregate (`topic` is then its edge topic): it reads other entities, not
    /// the evaluated entity's records.
    var relation: RelationAggregate? = nil

    /// Whether the aggregate reads the evaluated entity's own records.
    var readsRecords: Bool { relation == nil && function != .industrySum }
}

/// The topics whose records a program's aggregates read, numbered: an evaluation looks each up
/// once, not once per aggregate (`EvaluationRun.topicRecords(of:)`).
struct RecordTopics: Sendable {
    /// Each topic once, in the order of first use.
    let topics: [String]
    /// Each aggregate's index into `topics`; nil when it reads no records of the entity (a
    /// relation aggregate, an industry sum).
    let ofAggregate: [Int?]
    /// The topic a derived topic (`tax.payment#history`) is of, by slot; nil for a topic of its own.
    let bases: [String?]

    init(_ aggregates: [AggregateSpec]) {
        var slots: [String: Int] = [:]
        var topics: [String] = []
        ofAggregate = aggregates.map { spec in
            guard spec.readsRecords else { return nil }
            if let slot = slots[spec.topic] { return slot }
            slots[spec.topic] = topics.count
            topics.append(spec.topic)
            return topics.count - 1
        }
        self.topics = topics
        bases = topics.map(EvaluationRun.baseTopic)
    }
}

/// What a relation aggregate (`count(shareholder where share_ratio >= 30%, frozen >= 1)`) reads
/// beyond an ordinary aggregate.
struct RelationAggregate: Hashable, Sendable {
    /// The paths walked (their step names); a declared relation's union has several.
    let paths: [[String]]
    /// The expression evaluated for each related entity, in its own evaluation; nil for a bare
    /// `count(REL)`.
    let value: Node?
    /// The aggregates `value` depends on (directly or through features), evaluated for the related
    /// entity: their records are a firing's sources, with the edges'.
    let valueAggregates: [Int]
    /// The `alerted(…)` tests in `value`: the related entity's firings that meet them are sources too.
    let alerted: [AlertedCriterion]
    /// The texts of what `value` reads and of the declared relation used: what the version of a
    /// rule reading the aggregate hashes besides.
    let dependencyTexts: [String]
}
