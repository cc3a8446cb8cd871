/// The syntax tree produced by the parser. It is untyped: names are not resolved yet.

struct Identifier: Sendable, Hashable {
    let name: String
    let location: SourceLocation
}

/// `tax.payment.amount`, `court.dishonest`, `market.enterprise#history.legal_rep_name`.
struct FieldPath: Sendable {
    /// Segments as written; a `#history` suffix is part of its segment (`enterprise#history`).
    let segments: [Identifier]
    var location: SourceLocation { segments[0].location }
    var text: String { segments.map(\.name).joined(separator: ".") }
}

/// A window or duration literal: `90d`, `3mo`, `1y` (= 12 months).
struct WindowLiteral: Sendable, Hashable {
    enum Unit: Sendable, Hashable { case days, months }
    let count: Int
    let unit: Unit
    let text: String
    let location: SourceLocation
}

enum ArithmeticOperator: String, Sendable { case add = "+", subtract = "-", multiply = "*", divide = "/" }

enum ComparisonOperator: String, Sendable {
    case equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
    var isEquality: Bool { self == .equal || self == .notEqual }
}

/// `AGG(path [, window] [, offset window] [where condition] [, expression])`. The trailing
/// expression belongs to relation aggregates (`any(legal_representative, dishonest_count >= 1)`):
/// it is evaluated for each related entity.
struct CallSyntax: Sendable {
    let function: Identifier
    let path: FieldPath
    let window: WindowLiteral?
    let offset: WindowLiteral?
    let filter: Expression?
    let argument: Expression?
}

/// A token as written and where: what a peer measure's key is made of.
struct WrittenToken: Sendable {
    let text: String
    let location: SourceLocation
}

/// `share(COND)`, `members(COND)` or `percentile(FEATURE, P)`: an industry figure over the
/// division's enterprises; or `peer_rank(FEATURE [, district])`: an enterprise's rank among its
/// peers. `argument` (COND or FEATURE) is evaluated for each enterprise.
struct PeerCallSyntax: Sendable {
    let function: Identifier
    let argument: Expression
    /// The argument's tokens: its canonical text, the measure's key.
    let argumentTokens: [WrittenToken]
    /// `percentile`'s P.
    let percentile: Expression?
    /// `peer_rank`'s group, when written (`district`).
    var group: Identifier? = nil
}

struct Expression: Sendable {
    indirect enum Kind: Sendable {
        case number(Double, percent: Bool)
        case string(String)
        case bool(Bool)
        case duration(WindowLiteral)
        case name(String)
        case negate(Expression)
        case arithmetic(ArithmeticOperator, Expression, Expression)
        case comparison(ComparisonOperator, Expression, Expression)
        case and(Expression, Expression)
        case or(Expression, Expression)
        case not(Expression)
        /// `x is not null` / `x is known` (true) and `x is null` / `x is unknown` (false).
        case isKnown(Expression, known: Bool)
        case inList(Expression, [Expression], negated: Bool)
        /// `x in watch_list` / `x not in watch_list`: membership in a declared `list`.
        case inNamedList(Expression, Identifier, negated: Bool)
        /// `tagged leading`: whether the entity has a declared tag.
        case tagged(Identifier)
        case call(CallSyntax)
        /// `clamp(x, low, high)`: `x` bounded to `low...high`.
        case clamp(Expression, Expression, Expression)
        /// `share(COND)`, `members(COND)`, `percentile(FEATURE, P)`: the division's enterprises.
        case peer(PeerCallSyntax)
    }

    let kind: Kind
    /// Where a diagnostic about this expression points: the operator of a binary expression, else
    /// its first token.
    let location: SourceLocation
    /// Height of the tree (a leaf is 1), bounded by `RuleCompiler.Limits.maxExpressionDepth`.
    let depth: Int
}

/// An explanation template as written between the quotes, with the position of its first character.
struct TemplateSyntax: Sendable {
    let raw: [Character]
    let start: SourceLocation
}

enum RuleKind: String, Sendable, Hashable {
    case enterprise, person, industry

    /// The kind of the features such a rule reads: enterprise and person rules share the (entity)
    /// features, which are computed for whichever entity is evaluated.
    var featureKind: RuleKind { self == .industry ? .industry : .enterprise }
}

struct FeatureDecl: Sendable {
    let kind: RuleKind
    let name: Identifier
    let expression: Expression
    /// The declaration's tokens joined by single spaces: layout and comments do not change it.
    let canonicalText: String
}

struct ParamDecl: Sendable {
    let name: Identifier
    let value: Double
    let percent: Bool
}

enum RuleFieldValue: Sendable {
    case title(String)
    case category(Identifier)
    case severity(Identifier)
    case when(Expression)
    case score(points: Int, dimension: Identifier)
    case cooldown(WindowLiteral)
    case explain(TemplateSyntax)
    /// `absence tax.payment, hrss.insurance`: the feeds whose silence the rule reads.
    case absence([FieldPath])
    /// The field was present but did not parse (already diagnosed).
    case broken
}

struct RuleField: Sendable {
    let keyword: Identifier
    let value: RuleFieldValue
}

struct RuleDecl: Sendable {
    let kind: RuleKind
    let name: Identifier
    let params: [ParamDecl]
    let fields: [RuleField]
    let canonicalText: String
}

enum Declaration: Sendable {
    case feature(FeatureDecl)
    case rule(RuleDecl)
    case scorecard(ScorecardDecl)
    case list(ListDecl)
    case tag(TagDecl)
    case leaders(LeadersDecl)
    case relation(RelationDecl)
}

/// `relation sister = legal_representative.represents | shareholder.invests_in`: a name for a union
/// of relation paths.
struct RelationDecl: Sendable {
    let name: Identifier
    let paths: [FieldPath]
    let canonicalText: String
}

/// `list NAME "标题" = ["a", "b"]`: a named set of strings (a watch list, a library of enterprises).
struct ListDecl: Sendable {
    let name: Identifier
    let title: String
    let items: [String]
    let canonicalText: String
}

/// `tag NAME "标题" when COND [explain "…"]`: a rule-defined set of enterprises (e.g. the
/// quality-enterprise library), evaluated per enterprise like a rule without an alert.
struct TagDecl: Sendable {
    let name: Identifier
    let title: String
    let condition: Expression
    let explanation: TemplateSyntax?
    let canonicalText: String
}

/// `industry leaders top N by FEATURE`: how a division's leading enterprises are ranked.
struct LeadersDecl: Sendable {
    /// The `industry` keyword: where a duplicate declaration is reported.
    let location: SourceLocation
    let top: IntegerLiteral
    let feature: Identifier
    let canonicalText: String
}

// MARK: - Scorecards

/// A whole number as written, with where it was written (`600`, `-150`).
struct IntegerLiteral: Sendable {
    let value: Int
    let location: SourceLocation
}

/// `item NAME "说明" points +20 when COND` or `item NAME "说明" points = EXPR [when COND]`.
struct ItemDecl: Sendable {
    enum Points: Sendable {
        case fixed(IntegerLiteral)
        case graded(Expression)
    }

    let name: Identifier
    let text: TemplateSyntax
    let points: Points
    let condition: Expression?
}

/// `override NAME "说明" cap grade C when COND` (or `floor grade B when COND`).
struct OverrideDecl: Sendable {
    enum Kind: String, Sendable { case cap, floor }

    let name: Identifier
    let text: TemplateSyntax
    let kind: Kind
    let grade: Identifier
    let condition: Expression
}

/// `AAA >= 900` or the last band `D` (no threshold).
struct GradeBandDecl: Sendable {
    let name: Identifier
    let threshold: IntegerLiteral?
}

enum DimensionFieldValue: Sendable {
    case weight(Double, location: SourceLocation)
    /// `cap 250` (= -250..250) or `cap -200..150`; `symmetric` for the one-number form.
    case cap(low: IntegerLiteral, high: IntegerLiteral, symmetric: Bool)
    case item(ItemDecl)
    case broken
}

struct DimensionField: Sendable {
    let keyword: Identifier
    let value: DimensionFieldValue
}

struct DimensionDecl: Sendable {
    let name: Identifier
    let title: String
    let fields: [DimensionField]
}

enum ScorecardFieldValue: Sendable {
    case base(IntegerLiteral)
    case range(low: IntegerLiteral, high: IntegerLiteral)
    case dimension(DimensionDecl)
    case override(OverrideDecl)
    case grades([GradeBandDecl])
    case broken
}

struct ScorecardField: Sendable {
    let keyword: Identifier
    let value: ScorecardFieldValue
}

struct ScorecardDecl: Sendable {
    let name: Identifier
    let title: String?
    let fields: [ScorecardField]
    let canonicalText: String
}
