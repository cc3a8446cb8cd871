/// Scorecards: the compiled form (`Scorecard`) and what scoring one enterprise produces
/// (`ScoreResult`). How a score is computed is documented on `RuleProgram.score(_:)`.

/// A checked scorecard of a rule set: a base, a score range, dimensions with caps (and weights),
/// items, grade overrides and grade bands. Immutable; produced only by `RuleCompiler.compile`.
public struct Scorecard: Sendable {
    /// One grade band: scores at or above `threshold` (and below the better band's threshold) get
    /// `name`. The last band has no threshold: it takes every lower score.
    public struct GradeBand: Hashable, Sendable {
        public let name: String
        public let threshold: Int?
    }

    /// A dimension as declared: its points are the sum of its items and of the score effects of the
    /// rules that fire in it, multiplied by `weight`, rounded, then clamped to `minPoints...maxPoints`.
    public struct Dimension: Hashable, Sendable {
        public let name: String
        public let title: String
        public let weight: Double
        public let minPoints: Int
        public let maxPoints: Int
        /// The item names in declaration order.
        public let items: [String]
        /// Enterprise rules whose `score … in dimension` names this dimension, in program order.
        public let rules: [String]
    }

    public let name: String
    public let title: String
    /// Content hash of the scorecard's tokens (layout and comments excluded), of the features its
    /// items and overrides read (transitively) and of the versions of the rules that score in it.
    public let version: String
    public let base: Int
    public let range: ClosedRange<Int>
    public let dimensions: [Dimension]
    /// Best band first; thresholds strictly descending; the last band has no threshold.
    public let grades: [GradeBand]
    /// Where the scorecard is declared (its name).
    public let location: SourceLocation

    let compiledDimensions: [CompiledDimension]
    let overrides: [CompiledOverride]

    /// The grade of a score: the first band whose threshold the score reaches, else the last.
    public func grade(of score: Int) -> String {
        grades[gradeIndex(of: score)].name
    }

    func gradeIndex(of score: Int) -> Int {
        grades.firstIndex { $0.threshold.map { score >= $0 } ?? true } ?? grades.count - 1
    }

    /// The highest score a grade allows: one below the next better band's threshold (the top of the
    /// range for the best band).
    func highestScore(ofGrade i: Int) -> Int {
        i == 0 ? range.upperBound : (grades[i - 1].threshold ?? range.upperBound) - 1
    }

    /// The lowest score of a grade: its threshold (the bottom of the range for the last band).
    func lowestScore(ofGrade i: Int) -> Int {
        grades[i].threshold ?? range.lowerBound
    }
}

/// A scorecard item or override as compiled: a condition and/or a points expression over the
/// rule set's features.
struct CompiledItem: Sendable {
    enum Points: Sendable {
        case fixed(Int)
        case graded(Node)
    }

    let name: String
    let text: Template
    let points: Points
    let condition: Node?
    /// Features the condition and the points expression read, in order of first use.
    let reads: [Read]
    let sourceAggregates: [Int]
}

struct CompiledDimension: Sendable {
    let name: String
    let title: String
    let weight: Double
    let minPoints: Int
    let maxPoints: Int
    let items: [CompiledItem]
    /// Indices into `RuleProgram.rules`.
    let rules: [Int]
}

struct CompiledOverride: Sendable {
    let name: String
    let kind: ScoreOverride.Kind
    /// Index into `Scorecard.grades`.
    let grade: Int
    let text: Template
    let condition: Node
    let reads: [Read]
    let sourceAggregates: [Int]
}

// MARK: - Results

/// The score of one enterprise on one scorecard, and every point of it explained.
///
/// Invariant: `lines.map(\.points).reduce(0, +) == score - base`.
public struct ScoreResult: Hashable, Sendable {
    public let scorecard: String
    /// `Scorecard.version` of the scorecard that produced this score.
    public let scorecardVersion: String
    /// `RuleProgram.version` of the rule set.
    public let ruleSetVersion: String
    public let entity: String
    public let asOf: Day
    public let base: Int
    /// Within the scorecard's range, after overrides.
    public let score: Int
    /// The band of `score` (overrides move the score into the band they impose).
    public let grade: String
    /// Every dimension in declaration order, contributing or not.
    public let dimensions: [DimensionScore]
    /// The overrides whose condition held, in declaration order. At most one cap and one floor
    /// have non-zero `points`: the most severe cap and the highest floor.
    public let overrides: [ScoreOverride]
    /// Every contribution to `score - base`, in order: per dimension its items (declaration order),
    /// its rules (program order), then its `weight` and `cap` adjustments; then the `range`
    /// adjustment; then the applied floor and cap.
    public let lines: [ScoreLine]
    /// Items and overrides that could not be assessed because a value they read is unknown. They
    /// contribute nothing and are listed here instead of in `lines`.
    public let unassessed: [UnassessedItem]
    /// The override that bounded the grade: the applied cap, else the applied floor, else the most
    /// severe cap that held without changing the score (e.g. a dishonest listing of an enterprise
    /// already graded D), else the highest such floor. Nil when no override held.
    public let appliedOverride: ScoreOverride?

    public init(
        scorecard: String, scorecardVersion: String, ruleSetVersion: String, entity: String, asOf: Day, base: Int,
        score: Int, grade: String, dimensions: [DimensionScore], overrides: [ScoreOverride], lines: [ScoreLine],
        unassessed: [UnassessedItem], appliedOverride: ScoreOverride?
    ) {
        self.scorecard = scorecard
        self.scorecardVersion = scorecardVersion
        self.ruleSetVersion = ruleSetVersion
        self.entity = entity
        self.asOf = asOf
        self.base = base
        self.score = score
        self.grade = grade
        self.dimensions = dimensions
        self.overrides = overrides
        self.lines = lines
        self.unassessed = unassessed
        self.appliedOverride = appliedOverride
    }
}

/// One dimension of a score.
public struct DimensionScore: Hashable, Sendable {
    public let name: String
    public let title: String
    /// Sum of the dimension's item and rule lines.
    public let raw: Int
    /// `raw × weight`, rounded to the nearest whole point (halves away from zero).
    public let weighted: Int
    /// `weighted` clamped to the dimension's cap: what the dimension adds to the base.
    public let points: Int

    public init(name: String, title: String, raw: Int, weighted: Int, points: Int) {
        self.name = name
        self.title = title
        self.raw = raw
        self.weighted = weighted
        self.points = points
    }
}

/// One line of a score's explanation.
public struct ScoreLine: Hashable, Sendable {
    public enum Kind: String, Hashable, Sendable {
        /// A scorecard item that held: `name` is the item.
        case item
        /// A rule that fired with a score effect in the dimension: `name` is the rule.
        case rule
        /// The dimension's weight applied to its raw points (`weighted - raw`).
        case weight
        /// The dimension's cap (`points - weighted`).
        case cap
        /// The total clamped to the scorecard's range.
        case range
        /// A grade cap or floor: `name` is the override.
        case override
    }

    public let kind: Kind
    /// The dimension of an item, rule, weight or cap line; nil for range and override lines.
    public let dimension: String?
    /// The item, rule or override name; for adjustments the dimension name (or `range`).
    public let name: String
    /// For people: the item's filled-in description, `title：explanation` of a rule, or what an
    /// adjustment did.
    public let text: String
    public let points: Int
    /// The values the item's, rule's or override's condition and points read.
    public let values: [NamedValue]
    /// `topic/key` of the records behind those values, sorted.
    public let sources: [String]
    /// The rule's version, for rule lines.
    public let ruleVersion: String?

    public init(
        kind: Kind, dimension: String?, name: String, text: String, points: Int, values: [NamedValue] = [],
        sources: [String] = [], ruleVersion: String? = nil
    ) {
        self.kind = kind
        self.dimension = dimension
        self.name = name
        self.text = text
        self.points = points
        self.values = values
        self.sources = sources
        self.ruleVersion = ruleVersion
    }
}

/// A grade override whose condition held.
public struct ScoreOverride: Hashable, Sendable {
    public enum Kind: String, Hashable, Sendable {
        /// The grade is at most `grade`: the score is lowered to the grade's highest score.
        case cap
        /// The grade is at least `grade`: the score is raised to the grade's threshold.
        case floor
    }

    public let name: String
    public let kind: Kind
    public let grade: String
    public let text: String
    /// What the override changed in the score (0 when the score already respected it, or when a
    /// more severe override of the same kind applied).
    public let points: Int
    public let values: [NamedValue]
    public let sources: [String]

    public init(name: String, kind: Kind, grade: String, text: String, points: Int, values: [NamedValue], sources: [String]) {
        self.name = name
        self.kind = kind
        self.grade = grade
        self.text = text
        self.points = points
        self.values = values
        self.sources = sources
    }
}

/// An item or override that could not be assessed: a value it reads is unknown (missing data).
public struct UnassessedItem: Hashable, Sendable {
    /// The item's dimension; nil for an override.
    public let dimension: String?
    public let name: String
    public let text: String
    /// The values read, unknown ones as `.null`.
    public let values: [NamedValue]

    public init(dimension: String?, name: String, text: String, values: [NamedValue]) {
        self.dimension = dimension
        self.name = name
        self.text = text
        self.values = values
    }
}
