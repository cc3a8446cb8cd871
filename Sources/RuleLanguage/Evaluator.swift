/// Evaluation of a compiled program: total (missing data is `unknown`, never a trap), deterministic,
/// and bounded by the checker's depth and cost limits. Each feature and each aggregate is computed at
/// most once per evaluation.

extension RuleProgram {
    /// Evaluates the rules of the entity's kind (enterprise rules for an enterprise, person rules for
    /// a person): the rules whose condition is true, the absence rules suspended for a stale feed,
    /// the tags that do not read the score (`evaluateAndScore` assigns those too; enterprises only),
    /// and the values of the enterprise features `shown` asks for (every one by default), computed
    /// over the entity's records.
    public func evaluate(_ entity: EntityData, features shown: FeatureValues = .all) -> EntityEvaluation {
        evaluate(entity, run: EvaluationRun(entity, program: self), features: shown)
    }

    /// The evaluation with `run`'s caches. Tags that read the score are left out unless the run has
    /// been scored (`EvaluationRun.scoreResult`).
    func evaluate(_ entity: EntityData, run: EvaluationRun, features shown: FeatureValues = .all) -> EntityEvaluation {
        var values: [String: Value] = [:]
        switch shown {
        case .all:
            values.reserveCapacity(features.count)
            // By index: a copy of each feature (its name and expression tree) would be retained and released.
            for i in features.indices where features[i].kind == .enterprise {
                values[features[i].name] = run.feature(i).value
            }
        case .only(let names):
            for name in names {
                guard let i = features.firstIndex(where: { $0.kind == .enterprise && $0.name == name }) else { continue }
                values[name] = run.feature(i).value
            }
        }
        var firings: [Firing] = []
        var suspended: [String] = []
        let kind = CompiledRule.Kind(entity.kind)
        for i in rules.indices where rules[i].kind == kind {
            switch run.outcome(rules[i]) {
            case .fired(let firing): firings.append(firing)
            case .suspended: suspended.append(rules[i].name)
            case .quiet: break
            }
        }
        return EntityEvaluation(
            entity: entity.entity, asOf: entity.asOf, firings: firings, features: values, suspended: suspended,
            tags: entity.kind == .enterprise ? run.memberships() : [],
            peers: entity.kind == .enterprise ? run.peerValues(firings: firings) : [:])
    }

    /// Evaluates the industry rules for one division.
    public func evaluate(_ industry: IndustryData) -> [Firing] {
        let run = EvaluationRun(program: self, asOf: industry.asOf, records: [:], industry: industry)
        return rules.filter { $0.kind == .industry }.compactMap { run.fire($0) }
    }

    /// The values of the industry features for one division (for display).
    public func industryFeatures(_ industry: IndustryData) -> [String: Value] {
        let run = EvaluationRun(program: self, asOf: industry.asOf, records: [:], industry: industry)
        var values: [String: Value] = [:]
        for (i, f) in features.enumerated() where f.kind == .industry {
            values[f.name] = run.feature(i).value
        }
        return values
    }
}

/// Which features' values an evaluation reports (`EntityEvaluation.features`). Rules, tags and the
/// score compute what they read whatever this is; a feature nothing reads is computed only to be
/// shown, which the engine's batches, that show none, need not pay for.
public enum FeatureValues: Sendable, Hashable {
    /// Every enterprise feature (a profile, rule tests).
    case all
    /// These, by name (a name that is no enterprise feature is left out).
    case only([String])
}

/// Three-valued truth of a condition.
enum Truth {
    case yes, no, unknown

    init(_ v: RuntimeValue) {
        switch v {
        case .bool(true): self = .yes
        case .bool(false): self = .no
        default: self = .unknown
        }
    }

    var value: RuntimeValue {
        switch self {
        case .yes: return .bool(true)
        case .no: return .bool(false)
        case .unknown: return .unknown
        }
    }
}

/// Days representable without overflow in the calendar arithmetic (± about 27,000 years).
private let sensibleDays = -10_000_000...10_000_000

/// Values a run computes at most once, by index: a table of positions beside the values computed.
/// A table of optionals was made and destroyed whole for every run, and a related entity's run
/// computes a few of the program's values (made and destroyed, ~4 % of the daemon's CPU live).
struct RunCache<Value> {
    private var positions: [Int32]
    private var values: [Value] = []

    init(count: Int) {
        positions = Array(repeating: -1, count: count)
    }

    /// Set once: a value computed is not computed again.
    subscript(i: Int) -> Value? {
        get {
            let position = positions[i]
            return position < 0 ? nil : values[Int(position)]
        }
        set {
            guard let newValue, positions[i] < 0 else { return }
            positions[i] = Int32(values.count)
            values.append(newValue)
        }
    }
}

/// The state of one evaluation: caches of feature values and aggregate results.
final class EvaluationRun {
    /// An aggregate's value and the records behind it: indices into `records[topic]`, turned into
    /// `topic/key` references only when a firing, a score line or a tag cites them.
    struct AggregateResult {
        let value: RuntimeValue
        let topic: String
        let sourceIndices: [Int]
        /// A relation aggregate's sources (`topic/key`: edges, and the related entities' records
        /// and firings that made it what it is), and those entities as `{feature:who}` shows them.
        var cited: [String] = []
        var who: [String] = []

        init(value: RuntimeValue, topic: String = "", sources: [Int] = []) {
            self.value = value
            self.topic = topic
            self.sourceIndices = sources
        }
    }

    let program: RuleProgram
    let asOf: Day
    let records: [String: [FactRecord]]
    let industry: IndustryData?
    /// The entity evaluated (nil for an industry): the `entity` builtin, and the feeds that absence
    /// rules need.
    let entity: EntityData?
    /// Per-topic window ends (`EntityData.windowEnds`); `X#history` follows `X`.
    let windowEnds: [String: Day]
    /// False when `asOf` is outside the calendar's sensible range: then every aggregate is unknown.
    let calendarOK: Bool
    /// The first scorecard's result once scored: what `score` and `grade` read (unknown before).
    var scoreResult: ScoreResult?
    private var featureCache: RunCache<RuntimeValue>
    private var aggregateCache: RunCache<AggregateResult>
    /// `topicRecords(of:)`'s lookups, by `RuleProgram.recordTopics` slot.
    private var topicSlots: RunCache<(records: [FactRecord], end: Day)>
    var tagCache: [Bool?]
    /// Runs whose windows over some feeds end at the feeds' `windowEnd`, by the sorted topics (see
    /// `outcome(_:)`); created when an absence rule first needs one.
    var absenceRuns: [[String]: EvaluationRun] = [:]
    /// The runs of related entities, shared with this run's absence runs.
    let relatedRuns: RelatedRuns
    /// The firings of the entity's base rules, once asked for (`alerted`).
    var baseFiringsCache: [Firing]?
    /// The entity's firings once its rules are evaluated: what `alerted` asks of in peer conditions.
    var finalFirings: [Firing]?

    init(
        program: RuleProgram, asOf: Day, records: [String: [FactRecord]], industry: IndustryData?, windowEnds: [String: Day] = [:],
        entity: EntityData? = nil, relatedRuns: RelatedRuns = RelatedRuns()
    ) {
        self.relatedRuns = relatedRuns
        self.program = program
        self.asOf = asOf
        self.windowEnds = windowEnds
        self.records = records
        self.industry = industry
        self.entity = entity
        self.calendarOK = sensibleDays.contains(asOf.value)
        featureCache = RunCache(count: program.features.count)
        aggregateCache = RunCache(count: program.aggregates.count)
        tagCache = Array(repeating: nil, count: program.tags.count)
        topicSlots = RunCache(count: program.recordTopics.topics.count)
    }

    convenience init(_ entity: EntityData, program: RuleProgram) {
        self.init(
            program: program, asOf: entity.asOf, records: entity.records, industry: nil, windowEnds: entity.windowEnds,
            entity: entity)
    }

    func fire(_ rule: CompiledRule) -> Firing? {
        guard case .yes = Truth(eval(rule.condition, nil)) else { return nil }
        return Firing(
            rule: rule.name, ruleVersion: rule.version, title: rule.title, severity: rule.severity,
            category: rule.category, score: rule.score, cooldownDays: rule.cooldownDays,
            explanation: render(rule.explanation), values: values(rule.reads),
            sources: sources(rule.sourceAggregates, peers: rule.sourcePeers),
            window: calendarOK ? asOf.month.description : "")
    }

    /// A feature's value as shown to people: personal data masked.
    func shown(_ i: Int) -> Value {
        let value = feature(i).value
        guard let kind = program.features[i].personal, case .string(let text) = value else { return value }
        return .string(kind.mask(text))
    }

    /// The values an expression read, by name, in order of first use.
    func values(_ reads: [Read]) -> [NamedValue] {
        reads.map { read -> NamedValue in
            switch read {
            case .feature(let i): return NamedValue(program.features[i].name, shown(i))
            case .param(let name, let v): return NamedValue(name, .number(v))
            case .industry(let b): return NamedValue(b.rawValue, industryValue(b).value)
            case .entity(let b): return NamedValue(b.rawValue, entityValue(b).value)
            case .tag(let i): return NamedValue(program.tags[i].name, .bool(tag(i)))
            case .peer(let f): return NamedValue(f.name, peerValue(f).value)
            case .rank(let m): return NamedValue(m.name, rankValue(m).value)
            }
        }
    }

    /// `topic/key` of the records behind some aggregates, and of the division's enterprises that
    /// some peer conditions hold for (`market.enterprise/USCC`), sorted and without repeats.
    func sources(_ aggregates: [Int], peers: [String] = []) -> [String] {
        // Sorted and made unique as an array, records first as (topic slot, index) numbers: a set of
        // strings hashed every reference, and most of an item's aggregates cite the same records.
        var sources: [String] = []
        for key in peers {
            let members = (industry?.peers[key]?.members ?? []).sorted().prefix(PeerFigures.memberLimit)
            for uscc in members { sources.append(Self.memberReference(uscc)) }
        }
        var records: [Int] = []
        for a in aggregates {
            let result = aggregate(a)
            sources += result.cited
            guard !result.sourceIndices.isEmpty, let slot = program.recordTopics.ofAggregate[a] else { continue }
            for i in result.sourceIndices { records.append(slot << 32 | i) }
        }
        records.sort()
        for (n, record) in records.enumerated() where n == 0 || records[n - 1] != record {
            // The slot was looked up when the aggregate was computed.
            guard let topic = topicSlots[record >> 32] else { continue }
            sources.append(topic.records[record & 0xFFFF_FFFF].reference)
        }
        sources.sort()
        var unique: [String] = []
        unique.reserveCapacity(sources.count)
        for source in sources where unique.last != source { unique.append(source) }
        return unique
    }

    func render(_ t: Template) -> String {
        var out = ""
        for s in t.segments {
            switch s {
            case .text(let text): out += text
            case .asOf: out += calendarOK ? asOf.description : "未知"
            case .feature(let i, let percent):
                out += program.features[i].personal == nil ? Self.text(feature(i), percent: percent) : shown(i).displayText
            case .industry(let b, let percent): out += Self.text(industryValue(b), percent: percent)
            case .entity(let b): out += Self.text(entityValue(b), percent: false)
            case .who(let f, let a):
                _ = feature(f)
                out += aggregate(a).who.joined(separator: "、")
            case .members(let key): out += membersText(key)
            }
        }
        return out
    }

    private static func text(_ v: RuntimeValue, percent: Bool) -> String {
        if percent, case .number(let n) = v { return Value.numberText(n * 100) + "%" }
        return v.value.displayText
    }

    // MARK: - Expressions

    func feature(_ i: Int) -> RuntimeValue {
        if let v = featureCache[i] { return v }
        let v = eval(program.features[i].node, nil)
        featureCache[i] = v
        return v
    }

    /// `fields`: the record a filter is judged on (its fields only: a whole record would be
    /// retained and released for each node).
    func eval(_ node: Node, _ fields: [String: Value]?) -> RuntimeValue {
        switch node {
        case .constant(let v):
            return v
        case .field(let name, let kind):
            return RuntimeValue(fields?[name], as: kind)
        case .feature(let i):
            return feature(i)
        case .aggregate(let i):
            return aggregate(i).value
        case .asOf:
            return calendarOK ? .date(asOf) : .unknown
        case .industry(let b):
            return industryValue(b)
        case .entity(let b):
            return entityValue(b)
        case .tagged(let i):
            return .bool(tag(i))
        case .alerted(let criterion):
            return .bool((finalFirings ?? baseFirings()).contains { criterion.holds(for: $0) })
        case .peer(let f):
            return peerValue(f)
        case .rank(let measure, let value):
            return rankValue(measure, value)
        case .negate(let x):
            if case .number(let n) = eval(x, fields) { return .number(-n) }
            return .unknown
        case .arithmetic(let op, let l, let r):
            return Self.arithmetic(op, eval(l, fields), eval(r, fields))
        case .shiftDate(let x, let days):
            guard case .date(let d) = eval(x, fields) else { return .unknown }
            let (v, overflow) = d.value.addingReportingOverflow(days)
            return overflow ? .unknown : .date(Day(v))
        case .dayOf(let x):
            guard case .timestamp(let ms) = eval(x, fields) else { return .unknown }
            return .date(Day(epochMilliseconds: ms))
        case .compare(let op, let l, let r):
            return Self.compare(op, eval(l, fields), eval(r, fields))
        case .and(let l, let r):
            let a = Truth(eval(l, fields))
            if case .no = a { return .bool(false) }
            let b = Truth(eval(r, fields))
            switch (a, b) {
            case (_, .no): return .bool(false)
            case (.yes, .yes): return .bool(true)
            default: return .unknown
            }
        case .or(let l, let r):
            let a = Truth(eval(l, fields))
            if case .yes = a { return .bool(true) }
            let b = Truth(eval(r, fields))
            switch (a, b) {
            case (_, .yes): return .bool(true)
            case (.no, .no): return .bool(false)
            default: return .unknown
            }
        case .not(let x):
            switch Truth(eval(x, fields)) {
            case .yes: return .bool(false)
            case .no: return .bool(true)
            case .unknown: return .unknown
            }
        case .isKnown(let x, let known):
            let isKnown = eval(x, fields) != .unknown
            return .bool(isKnown == known)
        case .inList(let x, let items, let negated):
            let v = eval(x, fields)
            if v == .unknown { return .unknown }
            let found = items.contains { Self.compare(.equal, v, $0) == .bool(true) }
            return .bool(found != negated)
        case .inSet(let x, let items, let negated):
            guard case .string(let v) = eval(x, fields) else { return .unknown }
            return .bool(items.contains(v) != negated)
        case .clamp(let x, let low, let high):
            guard case .number(let v) = eval(x, fields), case .number(let lo) = eval(low, fields),
                case .number(let hi) = eval(high, fields), lo <= hi
            else { return .unknown }
            return .number(Swift.min(Swift.max(v, lo), hi))
        }
    }

    static func arithmetic(_ op: ArithmeticOperator, _ a: RuntimeValue, _ b: RuntimeValue) -> RuntimeValue {
        switch (a, b) {
        case (.number(let x), .number(let y)):
            let r: Double
            switch op {
            case .add: r = x + y
            case .subtract: r = x - y
            case .multiply: r = x * y
            case .divide:
                guard y != 0 else { return .unknown }
                r = x / y
            }
            return r.isFinite ? .number(r) : .unknown
        case (.date(let x), .date(let y)) where op == .subtract:
            let (d, overflow) = x.value.subtractingReportingOverflow(y.value)
            return overflow ? .unknown : .number(Double(d))
        default:
            return .unknown
        }
    }

    static func compare(_ op: ComparisonOperator, _ a: RuntimeValue, _ b: RuntimeValue) -> RuntimeValue {
        func ordered<T: Comparable>(_ x: T, _ y: T) -> RuntimeValue {
            switch op {
            case .equal: return .bool(x == y)
            case .notEqual: return .bool(x != y)
            case .less: return .bool(x < y)
            case .lessOrEqual: return .bool(x <= y)
            case .greater: return .bool(x > y)
            case .greaterOrEqual: return .bool(x >= y)
            }
        }
        switch (a, b) {
        case (.number(let x), .number(let y)): return ordered(x, y)
        case (.string(let x), .string(let y)): return ordered(x, y)
        case (.date(let x), .date(let y)): return ordered(x, y)
        case (.timestamp(let x), .timestamp(let y)): return ordered(x, y)
        case (.bool(let x), .bool(let y)):
            switch op {
            case .equal: return .bool(x == y)
            case .notEqual: return .bool(x != y)
            default: return .unknown
            }
        default:
            return .unknown
        }
    }

    // MARK: - Industry figures

    func industryValue(_ b: IndustryBuiltin) -> RuntimeValue {
        guard let industry else { return .unknown }
        switch b {
        case .population: return .number(Double(industry.population))
        case .alerted: return .number(Double(industry.alerted))
        case .alertedShare:
            guard industry.population > 0 else { return .unknown }
            return .number(Double(industry.alerted) / Double(industry.population))
        case .division: return .string(industry.division)
        case .leaders: return .number(Double(leaders.count))
        case .leadersAlerted: return .number(Double(leaders.filter(\.alerted).count))
        case .leadersAlertedShare:
            guard !leaders.isEmpty else { return .unknown }
            return .number(Double(leaders.filter(\.alerted).count) / Double(leaders.count))
        }
    }

    /// The division's leaders as the program ranks them: at most its `top` (none without a ranking).
    private var leaders: ArraySlice<IndustryLeader> {
        industry?.leaders.prefix(program.leaderRanking?.top ?? 0) ?? []
    }

    func entityValue(_ b: EntityBuiltin) -> RuntimeValue {
        switch b {
        case .entity: return entity.map { .string($0.entity) } ?? .unknown
        case .score: return scoreResult.map { .number(Double($0.score)) } ?? .unknown
        case .grade: return scoreResult.map { .string($0.grade) } ?? .unknown
        }
    }

    // MARK: - Aggregates

    func aggregate(_ i: Int) -> AggregateResult {
        if let r = aggregateCache[i] { return r }
        let r = compute(i)
        aggregateCache[i] = r
        return r
    }

    private func compute(_ i: Int) -> AggregateResult {
        let spec = program.aggregates[i]
        guard calendarOK else { return AggregateResult(value: .unknown) }
        if spec.function == .industrySum { return industrySum(spec) }
        if let relation = spec.relation { return related(spec, relation) }
        let topic = spec.topic
        let (all, end) = topicRecords(of: i)
        let range = spec.window.map { Self.dayRange(asOf: end, window: $0, offset: spec.offset) }

        if spec.function == .changes, let range, let field = spec.field, let kind = spec.fieldKind {
            return changes(all, topic: topic, field: field, kind: kind, range: range, filter: spec.filter)
        }

        // The records in the window that pass the filter (indices into `all`), in one pass: for
        // `last`/`latest` the latest of them; otherwise, with a field, those where it has a value
        // (of the declared kind).
        let latestOnly = spec.function == .last || spec.function == .latest
        var top: Int?
        var matched: [(index: Int, value: RuntimeValue)] = []
        for i in all.indices {
            if let range, !range.contains(all[i].eventDay.value) { continue }
            if let filter = spec.filter, eval(filter, all[i].fields) != .bool(true) { continue }
            if latestOnly {
                if top.map({ Self.isEarlier($0, than: i, in: all) }) ?? true { top = i }
            } else if let field = spec.field, let kind = spec.fieldKind {
                let v = RuntimeValue(all[i].fields[field], as: kind)
                if v != .unknown { matched.append((i, v)) }
            } else {
                matched.append((i, .unknown))
            }
        }
        if latestOnly {
            // The latest record's field, even when that field is null (then the value is unknown).
            guard let top, let field = spec.field, let kind = spec.fieldKind else { return AggregateResult(value: .unknown) }
            return AggregateResult(value: RuntimeValue(all[top].fields[field], as: kind), topic: topic, sources: [top])
        }
        // The records behind a count, an existence or a distinct count (the other functions cite
        // the ones they used).
        var refs: [Int] { matched.map(\.index) }

        switch spec.function {
        case .count:
            return AggregateResult(value: .number(Double(matched.count)), topic: topic, sources: refs)
        case .exists:
            return AggregateResult(value: .bool(!matched.isEmpty), topic: topic, sources: refs)
        case .sum, .avg:
            var total = 0.0
            var n = 0
            var used: [Int] = []
            for m in matched {
                guard case .number(let x) = m.value else { continue }
                total += x
                n += 1
                used.append(m.index)
            }
            if spec.function == .sum {
                return AggregateResult(value: total.isFinite ? .number(total) : .unknown, topic: topic, sources: used)
            }
            guard n > 0 else { return AggregateResult(value: .unknown) }
            let avg = total / Double(n)
            return AggregateResult(value: avg.isFinite ? .number(avg) : .unknown, topic: topic, sources: used)
        case .min, .max:
            var best: RuntimeValue = .unknown
            var used: [Int] = []
            let wanted: ComparisonOperator = spec.function == .min ? .less : .greater
            for m in matched {
                if best == .unknown {
                    best = m.value
                } else {
                    let better = Self.compare(wanted, m.value, best)
                    if better == .unknown { continue }  // a value of another kind than the field's type
                    if better == .bool(true) { best = m.value }
                }
                used.append(m.index)
            }
            return AggregateResult(value: best, topic: topic, sources: used)
        case .distinctCount:
            let distinct = Set(matched.map(\.value))
            return AggregateResult(value: .number(Double(distinct.count)), topic: topic, sources: refs)
        case .daysSince:
            var best: (day: Day, index: Int)?
            for m in matched {
                let day: Day
                if spec.field == nil {
                    day = all[m.index].eventDay
                } else {
                    switch m.value {
                    case .date(let d): day = d
                    case .timestamp(let ms): day = Day(epochMilliseconds: ms)
                    default: continue
                    }
                }
                if best == nil || day > best!.day || (day == best!.day && all[m.index].key > all[best!.index].key) {
                    best = (day, m.index)
                }
            }
            guard let best else { return AggregateResult(value: .unknown) }
            let (d, overflow) = asOf.value.subtractingReportingOverflow(best.day.value)
            return AggregateResult(value: overflow ? .unknown : .number(Double(d)), topic: topic, sources: [best.index])
        case .last, .latest, .changes, .industrySum, .any:
            return AggregateResult(value: .unknown)
        }
    }

    /// The topic a derived topic (`tax.payment#history`) is of; nil for a topic of its own (worked
    /// out once a program: `RecordTopics.bases`).
    static func baseTopic(_ topic: String) -> String? {
        topic.utf8.firstIndex(of: UInt8(ascii: "#")).map { String(topic[..<$0]) }
    }

    /// Whether `records[a]` comes before `records[b]` in event time: the earlier event day; on equal
    /// days the smaller key (deterministic). The latest record is the greatest in this order.
    static func isEarlier(_ a: Int, than b: Int, in records: [FactRecord]) -> Bool {
        records[a].eventDay != records[b].eventDay ? records[a].eventDay < records[b].eventDay : records[a].key < records[b].key
    }

    /// The records aggregate `i` reads and the end of its windows (`X#history` ends where `X`
    /// does), looked up once per run and topic: most topics have several aggregates.
    private func topicRecords(of i: Int) -> (records: [FactRecord], end: Day) {
        let slot = program.recordTopics.ofAggregate[i]!
        if let known = topicSlots[slot] { return known }
        let topic = program.recordTopics.topics[slot]
        // A related entity's data has no window ends: no lookups then.
        let end = windowEnds.isEmpty ? asOf : windowEnds[topic] ?? program.recordTopics.bases[slot].flatMap { windowEnds[$0] } ?? asOf
        let known = (records: records[topic] ?? [], end: end)
        topicSlots[slot] = known
        return known
    }

    /// How often a field's value changed within the window, over a topic's versions in event-time
    /// order. The last version before the window is the baseline, so a change on the window's first
    /// day counts; versions with a null value are skipped.
    private func changes(
        _ all: [FactRecord], topic: String, field: String, kind: ValueKind, range: ClosedRange<Int>, filter: Node?
    ) -> AggregateResult {
        let versions = all.indices.filter { i in
            let r = all[i]
            return r.eventDay.value <= range.upperBound && RuntimeValue(r.fields[field], as: kind) != .unknown
                && (filter == nil || eval(filter!, r.fields) == .bool(true))
        }.sorted { a, b in all[a].eventDay != all[b].eventDay ? all[a].eventDay < all[b].eventDay : all[a].key < all[b].key }
        var previous: Int?
        var count = 0
        var sources: [Int] = []
        for v in versions {
            let inWindow = all[v].eventDay.value >= range.lowerBound
            if inWindow, let p = previous, RuntimeValue(all[p].fields[field], as: kind) != RuntimeValue(all[v].fields[field], as: kind) {
                count += 1
                if sources.last != p { sources.append(p) }
                sources.append(v)
            }
            previous = v
        }
        return AggregateResult(value: .number(Double(count)), topic: topic, sources: sources)
    }

    private func industrySum(_ spec: AggregateSpec) -> AggregateResult {
        guard let industry, let window = spec.window,
            let series = industry.monthlySums["\(spec.topic).\(spec.field ?? "")"]
        else { return AggregateResult(value: .unknown) }
        let anchor = asOf.month.index - (spec.offset?.count ?? 0)
        var total = 0.0
        for m in (anchor - window.count + 1)...anchor {
            total += series[Month(index: m)] ?? 0
        }
        return AggregateResult(value: total.isFinite ? .number(total) : .unknown)
    }

    // MARK: - Windows

    /// The event days a window covers: `Nd` = the N days ending at the anchor; `Nmo` = the N calendar
    /// months ending with the anchor's month. The anchor is `asOf` shifted back by the offset (months
    /// keep the day of month, clamped to the month's length).
    static func dayRange(asOf: Day, window: WindowSpec, offset: WindowSpec?) -> ClosedRange<Int> {
        var anchor = asOf
        if let offset {
            switch offset.unit {
            case .days: anchor = asOf - offset.count
            case .months:
                let c = asOf.civil
                let (y, m) = civilMonth(index: c.year * 12 + c.month - 1 - offset.count)
                anchor = Day(year: y, month: m, day: min(c.day, Day.daysIn(year: y, month: m))) ?? asOf
            }
        }
        switch window.unit {
        case .days:
            return (anchor.value - window.count + 1)...anchor.value
        case .months:
            let c = anchor.civil
            let last = c.year * 12 + c.month - 1
            let (fy, fm) = civilMonth(index: last - window.count + 1)
            let first = Day(year: fy, month: fm, day: 1)?.value ?? anchor.value
            let end = Day(year: c.year, month: c.month, day: Day.daysIn(year: c.year, month: c.month))?.value ?? anchor.value
            return first...end
        }
    }

    /// (year, month 1...12) of a month index, with floor division for years before 0.
    private static func civilMonth(index: Int) -> (Int, Int) {
        var y = index / 12
        var m = index % 12
        if m < 0 {
            m += 12
            y -= 1
        }
        return (y, m + 1)
    }
}
