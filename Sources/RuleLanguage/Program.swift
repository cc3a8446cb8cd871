/// A checked rule set, immutable and safe to share between tasks. Produced only by
/// `RuleCompiler.compile`; a rule set with errors never becomes a program.
public struct RuleProgram: Sendable {
    /// Content hash (FNV-1a 64, hex) of every source file (sorted by path) and the overrides.
    public let version: String
    /// Enterprise rules first in file/declaration order, then person rules, then industry rules likewise.
    public let rules: [CompiledRule]
    /// Topics the enterprise features and rules read (`topic#history` when a rule reads a topic's
    /// change history). The engine needs to load only these.
    public let topicsUsed: Set<String>
    /// `topic.field` series whose monthly sums the industry rules need (`IndustryData.monthlySums`).
    public let industrySeries: Set<String>
    /// Enterprise features in declaration order (keys of `EntityEvaluation.features`).
    public let featureNames: [String]
    /// Industry features in declaration order.
    public let industryFeatureNames: [String]
    /// Warnings of a successful compilation (e.g. an unused parameter).
    public let warnings: [Diagnostic]
    /// The scorecards in declaration order (files sorted by path); empty when the set has none.
    /// `score(_:)` uses the first.
    public let scorecards: [Scorecard]
    /// How industry rules rank a division's leading enterprises (`industry leaders top N by FEATURE`);
    /// nil when the set declares no ranking.
    public let leaderRanking: LeaderRanking?
    /// The declared lists by name (`list NAME "标题" = [...]`).
    public let lists: [String: Set<String>]
    /// The declared tags in declaration order (files sorted by path).
    public let tags: [CompiledTag]
    /// Every relation path the program's features, rules, tags and scorecards read (each as its step
    /// names), distinct and sorted: the engine fills `EntityData.related[RuleProgram.pathText(path)]`
    /// for each.
    public let relationPaths: [[String]]
    /// Every peer measure the industry features and rules read (`share`, `members`, `percentile`),
    /// distinct, sorted by key: an enterprise's evaluation gives its value of each
    /// (`EntityEvaluation.peers`), and the engine gathers them per division (`IndustryData.peers`).
    public let peerMeasures: [PeerMeasure]
    /// Every `peer_rank` the program reads, sorted: the engine records each evaluated enterprise's
    /// value of the measure in its group before it ranks any (`rankedValues`), and fills
    /// `EntityData.ranks`. Their measures are among `peerMeasures`.
    public let rankedMeasures: [RankedMeasure]

    let features: [CompiledFeature]
    /// What each of `peerMeasures` evaluates for an enterprise: the condition, or the feature.
    let peerNodes: [Node]
    let aggregates: [AggregateSpec]
    /// The topics whose records the aggregates read, numbered.
    let recordTopics: RecordTopics

    /// Features whose text is personal data (a person's name, an ID number), masked wherever
    /// they are shown: explanations and alert values already are; displays of
    /// `EntityEvaluation.features` mask these.
    public var personalFeatures: [String: PersonalData] {
        Dictionary(features.compactMap { f in f.personal.map { (f.name, $0) } }, uniquingKeysWith: { a, _ in a })
    }

    /// `topic#history`: the change history of a topic's records (one record per version).
    public static let historySuffix = "#history"


    /// A relation path's text, its steps joined by `.` (`legal_representative.represents`): the
    /// key of `EntityData.related`.
    public static func pathText(_ steps: [String]) -> String { steps.joined(separator: ".") }

    /// Whether the program has person rules: only then are persons worth evaluating.
    public var hasPersonRules: Bool { rules.contains { $0.kind == .person } }

    /// The fields of edge records that relation aggregates filter on (`where share_ratio >= 30%`),
    /// by the edge's topic: `RelatedEntity.edge` must carry at least these.
    public var edgeFields: [String: Set<String>] {
        var needs: [String: Set<String>] = [:]
        for spec in aggregates where spec.relation != nil {
            var fields: Set<String> = []
            if let filter = spec.filter { Self.collectFields(filter, into: &fields) }
            if !fields.isEmpty { needs[spec.topic, default: []].formUnion(fields) }
        }
        return needs
    }

    /// The topics whose current records the program reads.
    public var currentTopics: Set<String> { topicsUsed.filter { !$0.hasSuffix(Self.historySuffix) } }

    /// The topics whose `#history` versions the program reads (without the suffix).
    public var historyTopics: Set<String> {
        Set(topicsUsed.filter { $0.hasSuffix(Self.historySuffix) }.map { String($0.dropLast(Self.historySuffix.count)) })
    }
}

/// The feature (an enterprise number, e.g. tax paid over 12 months) by which a division's top N
/// enterprises are its leaders.
public struct LeaderRanking: Sendable, Hashable {
    public let feature: String
    public let top: Int
    public init(feature: String, top: Int) {
        self.feature = feature
        self.top = top
    }
}

/// One rule of a program, with its effective parameters (defaults after overrides). A class:
/// evaluation hands rules around many times per entity, and each copy of a struct of this many
/// fields was a retain and a release of each field.
public final class CompiledRule: Sendable {
    public enum Kind: String, Sendable, Hashable {
        case enterprise, person, industry

        init(_ kind: RuleKind) {
            switch kind {
            case .enterprise: self = .enterprise
            case .person: self = .person
            case .industry: self = .industry
            }
        }
    }

    public let name: String
    /// Content hash of the rule's tokens (layout and comments excluded), of the features it reads
    /// (transitively), and of the overrides applied to it.
    public let version: String
    public let kind: Kind
    public let severity: Severity
    public let category: Category
    public let title: String
    /// Effective parameter values in declaration order.
    public let params: [NamedValue]
    public let score: Firing.ScoreEffect?
    public let cooldownDays: Int
    /// Where the rule is declared (its name).
    public let location: SourceLocation
    /// The feeds of an absence rule (`absence tax.payment`): the rule is suspended unless each is
    /// fresh (`EntityData.feeds`), and its windows over them end at the feed's `windowEnd`. Empty
    /// for other rules.
    public let absenceTopics: [String]
    /// Whether the condition reads relations (directly or through features and tags). Rules that
    /// do not are an entity's base rules: what `alerted(…)` asks of a related entity.
    public let readsRelations: Bool

    let condition: Node
    let explanation: Template
    /// Features, parameters and industry figures the condition reads, in order of first use.
    let reads: [Read]
    /// Aggregates the condition depends on (directly or through features): their records are the
    /// firing's sources.
    let sourceAggregates: [Int]
    /// The peer conditions whose members the condition counts (`share`, `members`, directly or
    /// through features), by key: the enterprises they hold for are the firing's sources too.
    let sourcePeers: [String]

    init(
        name: String, version: String, kind: Kind, severity: Severity, category: Category, title: String, params: [NamedValue],
        score: Firing.ScoreEffect?, cooldownDays: Int, location: SourceLocation, absenceTopics: [String], readsRelations: Bool,
        condition: Node, explanation: Template, reads: [Read], sourceAggregates: [Int], sourcePeers: [String]
    ) {
        self.name = name
        self.version = version
        self.kind = kind
        self.severity = severity
        self.category = category
        self.title = title
        self.params = params
        self.score = score
        self.cooldownDays = cooldownDays
        self.location = location
        self.absenceTopics = absenceTopics
        self.readsRelations = readsRelations
        self.condition = condition
        self.explanation = explanation
        self.reads = reads
        self.sourceAggregates = sourceAggregates
        self.sourcePeers = sourcePeers
    }
}

/// What a firing reports as a value the condition read.
enum Read: Hashable, Sendable {
    case feature(Int)
    case param(String, Double)
    case industry(IndustryBuiltin)
    case entity(EntityBuiltin)
    /// Whether the entity has the tag (by index into `RuleProgram.tags`).
    case tag(Int)
    /// A division's figure of a peer measure.
    case peer(PeerFigure)
    /// The enterprise's rank among its peers.
    case rank(RankedMeasure)
}

/// A tag of a program (`tag NAME "标题" when COND explain "…"`): a set of enterprises defined by a
/// condition, such as the quality-enterprise library's `leading`.
public struct CompiledTag: Sendable {
    public let name: String
    public let title: String
    /// Content hash of the tag's tokens and of what it reads (features, lists and tags,
    /// transitively; the first scorecard's version when it reads `score` or `grade`).
    public let version: String
    /// Whether the tag reads `score` or `grade` (directly or through another tag): then only
    /// `evaluateAndScore` assigns it, after scoring.
    public let readsScore: Bool
    /// Where the tag is declared (its name).
    public let location: SourceLocation

    let condition: Node
    let explanation: Template
    let reads: [Read]
    let sourceAggregates: [Int]
}

struct CompiledFeature: Sendable {
    let name: String
    let kind: RuleKind
    let node: Node
    /// The personal data the feature's text is (see `Checker.personalData`): masked in
    /// explanations, alert values and displays.
    var personal: PersonalData? = nil
}

/// The result of evaluating a program for one entity.
public struct EntityEvaluation: Sendable, Hashable {
    public let entity: String
    public let asOf: Day
    /// The rules whose condition is true, in program order.
    public let firings: [Firing]
    /// The enterprise features' values (`.null` when unknown), for display: every one, or those
    /// the evaluation was asked for (`FeatureValues`).
    public let features: [String: Value]
    /// Rules not evaluated because a feed they declare `absence` of is stale (or unknown): their
    /// alerts stand as they are, neither raised nor withdrawn.
    public let suspended: [String]
    /// The tags whose criteria hold, in declaration order.
    public let tags: [TagMembership]
    /// The enterprise's value of each peer measure (`RuleProgram.peerMeasures`) by key: a condition
    /// 1 or 0, a value its number; absent when unknown. What its division's figures are made of.
    public var peers: [String: Double] = [:]

    public init(
        entity: String, asOf: Day, firings: [Firing], features: [String: Value], suspended: [String] = [],
        tags: [TagMembership] = [], peers: [String: Double] = [:]
    ) {
        self.peers = peers
        self.entity = entity
        self.asOf = asOf
        self.firings = firings
        self.features = features
        self.suspended = suspended
        self.tags = tags
    }
}

/// An enterprise in a rule-defined tag (e.g. the quality-enterprise library's `leading`).
public struct TagMembership: Sendable, Hashable {
    public let tag: String
    /// Content hash of the tag's declaration (and what it reads).
    public let tagVersion: String
    public let title: String
    /// The tag's explanation filled with the values that met its criteria.
    public let explanation: String
    public let values: [NamedValue]
    /// `topic/key` of the records behind those values, sorted.
    public let sources: [String]

    public init(tag: String, tagVersion: String, title: String, explanation: String, values: [NamedValue], sources: [String]) {
        self.tag = tag
        self.tagVersion = tagVersion
        self.title = title
        self.explanation = explanation
        self.values = values
        self.sources = sources
    }
}

extension RuleProgram {
    /// topic (`topic#history` for versions) → the fields of its records that the program's
    /// aggregates and their `where` filters read: the engine's feature store keeps no more (raw
    /// records live in the store of record).
    public var recordFields: [String: Set<String>] {
        var needs: [String: Set<String>] = [:]
        for spec in aggregates where spec.readsRecords {
            var fields: Set<String> = spec.field.map { [$0] } ?? []
            if let filter = spec.filter { Self.collectFields(filter, into: &fields) }
            needs[spec.topic, default: []].formUnion(fields)
        }
        return needs
    }

    private static func collectFields(_ node: Node, into fields: inout Set<String>) {
        switch node {
        case .field(let name, _): fields.insert(name)
        case .constant, .feature, .aggregate, .asOf, .industry, .entity, .tagged, .alerted, .peer, .rank: break
        case .negate(let x), .shiftDate(let x, _), .dayOf(let x), .not(let x), .isKnown(let x, _),
            .inList(let x, _, _), .inSet(let x, _, _):
            collectFields(x, into: &fields)
        case .arithmetic(_, let l, let r), .compare(_, let l, let r), .and(let l, let r), .or(let l, let r):
            collectFields(l, into: &fields)
            collectFields(r, into: &fields)
        case .clamp(let x, let lo, let hi):
            collectFields(x, into: &fields)
            collectFields(lo, into: &fields)
            collectFields(hi, into: &fields)
        }
    }
}
