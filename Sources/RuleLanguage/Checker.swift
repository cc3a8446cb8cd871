/// Resolves names against the schema, features and parameters, type-checks every expression, and
/// lowers the syntax tree to the evaluation tree. Reports every problem it finds (up to the cap).
final class Checker {
    struct Typed {
        let node: Node
        let type: StaticType
        static let error = Typed(node: .constant(.unknown), type: .error)
    }

    /// Where an expression is checked.
    struct Scope {
        /// What the expression belongs to: decides where `tagged`, `score` and `grade` may appear.
        /// `related`: the expression a relation aggregate evaluates for each related entity.
        /// `peer`: what `share`, `members` or `percentile` evaluates for each enterprise.
        enum Context { case feature, rule, scorecard, tag, related, peer }

        let kind: RuleKind
        /// Inside `where`: the topic whose fields are in scope.
        let topic: TopicSchema?
        /// Rule parameters (effective values); empty for features.
        let params: [String: (value: Double, percent: Bool)]
        let paramOrder: [String]
        var context = Context.feature
        /// In `peer` context: the function whose argument is checked (`share`), for diagnostics.
        var peerFunction = ""

        /// The kind of entity the expression is evaluated for; nil when either (features, which
        /// are shared, and the expression for a related entity).
        var subject: SubjectKind? {
            switch context {
            case .feature, .related: return nil
            case .rule, .scorecard, .tag: return kind == .person ? .person : .enterprise
            case .peer: return .enterprise
            }
        }
    }

    /// What the expression being checked uses: collected per feature and per rule.
    struct Usage {
        /// In the order first read (explanations list them so); `readSet` answers "read already?"
        /// in constant time, so an expression reading thousands of names is checked in linear time.
        private(set) var reads: [Read] = []
        private var readSet: Set<Read> = []
        var features: Set<Int> = []
        var aggregates: Set<Int> = []
        var params: Set<String> = []
        var tags: Set<Int> = []
        var lists: Set<Int> = []
        /// Reads `score` or `grade` (directly or through a tag): only possible after scoring.
        var readsScore = false
        /// Reads `leaders`, `leaders_alerted` or `leaders_alerted_share`.
        var readsLeaders = false
        /// Reads a relation aggregate (directly or through features and tags): such a feature
        /// cannot be read for a related entity, and such a rule is not a base rule (`alerted`).
        var readsRelations = false
        /// Reads `peer_rank` (directly or through features and tags): such a feature cannot be
        /// ranked itself, nor read for a related entity.
        var readsRanks = false
        /// The `alerted(…)` tests read (for a related entity).
        var alerted: [AlertedCriterion] = []
        /// The peer measures read (by key), and those of them whose members a firing cites (the
        /// conditions of `share` and `members`).
        var peers: Set<String> = []
        var peerMembers: Set<String> = []
        /// Where a parameter was read, with its value: a peer condition's key shows the values.
        var paramSites: [SourceLocation: Double] = [:]
        var cost = 0
        /// The deepest evaluation nesting through referenced features.
        var featureDepth = 0

        mutating func read(_ r: Read) {
            if readSet.insert(r).inserted { reads.append(r) }
        }
    }

    struct CheckedFeature {
        let node: Node
        let type: StaticType
        /// What the expression reads directly.
        let uses: Usage
        let depth: Int
    }

    /// Everything an expression depends on, transitively through features and tags: for sources,
    /// versions and cost.
    struct Reach {
        var features: Set<Int> = []
        var tags: Set<Int> = []
        var lists: Set<Int> = []
        var aggregates: Set<Int> = []
        var readsLeaders = false
        var peers: Set<String> = []
        var peerMembers: Set<String> = []
        /// The cost of the features and tags reached (the expression's own cost excluded).
        var cost = 0
        /// False when the walk stopped at a cost limit: then `cost` is only a lower bound.
        var complete = true

        mutating func formUnion(_ other: Reach) {
            features.formUnion(other.features)
            tags.formUnion(other.tags)
            lists.formUnion(other.lists)
            aggregates.formUnion(other.aggregates)
            readsLeaders = readsLeaders || other.readsLeaders
            peers.formUnion(other.peers)
            peerMembers.formUnion(other.peerMembers)
            cost += other.cost
            complete = complete && other.complete
        }
    }

    /// Where a walk of `reach` starts: the features and tags an expression reads directly.
    private struct ReachStart: Hashable {
        let features: Set<Int>
        let tags: Set<Int>
    }

    enum FeatureState {
        case unchecked, checking, done(CheckedFeature), failed
    }

    let schema: Schema
    let limits: RuleCompiler.Limits
    var diagnostics: DiagnosticSink

    private(set) var features: [FeatureDecl] = []
    private(set) var featureIndex: [String: Int] = [:]
    private(set) var featureStates: [FeatureState] = []
    private var checkingStack: [Int] = []
    /// Walks of `reach`, by where they start (features and tags only ever become checked, so a
    /// walk over checked ones stays valid).
    private var reachMemo: [ReachStart: Reach] = [:]
    /// The canonical texts of sets of features, sorted by name (see `dependencyTexts`).
    private var featureTextsMemo: [Set<Int>: [String]] = [:]
    /// How deeply `check` is recursing right now, through sub-expressions and the features and
    /// tags they read (checked on first use). Bounded by `Limits.maxEvaluationDepth`, so a long
    /// chain of references cannot overflow the stack.
    private(set) var checkNesting = 0

    var aggregates: [AggregateSpec] = []
    var aggregateIndex: [AggregateSpec: Int] = [:]

    /// The peer measures read so far, by key (see PeerChecker).
    var peerMeasures: [String: CheckedPeerMeasure] = [:]
    /// The `peer_rank`s read so far.
    var rankedMeasures: Set<RankedMeasure> = []

    // Declared relations (see RelationChecker): their checked paths, nil for one that failed.
    var relations: [RelationDecl] = []
    var relationIndex: [String: Int] = [:]
    var relationPaths: [[[RelationStep]]?] = []

    var usage = Usage()

    // Lists, tags and the leader ranking (see ListChecker, TagChecker, LeaderChecker).
    var lists: [ListDecl] = []
    /// Each list's items as a set, built once (every `x in NAME` shares it).
    var listSets: [Set<String>] = []
    var listIndex: [String: Int] = [:]
    var tags: [TagDecl] = []
    var tagIndex: [String: Int] = [:]
    var tagStates: [TagState] = []
    var tagCheckingStack: [Int] = []
    var leaders: LeadersDecl?
    var leaderRanking: LeaderRanking?
    /// Whether the rule set has a scorecard (tags may then read `score` and `grade`).
    var hasScorecard = false

    static let aggregateCost = 20
    /// Suggested for unknown names in enterprise expressions (`score` and `grade` only work in tags).
    static let enterpriseBuiltins = ["as_of", EntityBuiltin.entity.rawValue]
    static let industryBuiltins = ["as_of"] + IndustryBuiltin.allCases.map(\.rawValue)
    /// Names no feature or parameter may take.
    static let builtinNames = Set(industryBuiltins + EntityBuiltin.allCases.map(\.rawValue))
    static let functions = AggregateFunction.allCases.map(\.rawValue) + ["clamp", "alerted"] + Parser.peerFunctions.sorted()

    init(schema: Schema, limits: RuleCompiler.Limits, diagnostics: DiagnosticSink) {
        self.schema = schema
        self.limits = limits
        self.diagnostics = diagnostics
    }

    // MARK: - Features

    /// Registers features in order; a duplicate name is reported and ignored.
    func declare(_ f: FeatureDecl) {
        if let first = featureIndex[f.name.name] {
            diagnostics.error(
                f.name.location, "duplicate feature '\(f.name.name)' (first declared at \(features[first].name.location))")
            return
        }
        if Checker.builtinNames.contains(f.name.name) {
            diagnostics.error(f.name.location, "'\(f.name.name)' is a built-in name; choose another feature name")
            return
        }
        featureIndex[f.name.name] = features.count
        features.append(f)
        featureStates.append(.unchecked)
    }

    /// The personal data a checked feature's text is: a text read of a personal field's values
    /// (`latest`, `last`, `min`, `max`), directly or through other text features. Counts and
    /// changes of such a field are not personal; nil also for features that failed.
    func personalData(of i: Int, visiting: Set<Int> = []) -> PersonalData? {
        guard case .done(let c) = featureStates[i], c.type == .string, !visiting.contains(i) else { return nil }
        let valueReads: Set<AggregateFunction> = [.latest, .last, .min, .max]
        for a in c.uses.aggregates.sorted() {
            let spec = aggregates[a]
            if valueReads.contains(spec.function), let field = spec.field, let kind = schema.topics[spec.topic]?.personal[field] {
                return kind
            }
        }
        for f in c.uses.features.sorted() {
            if let kind = personalData(of: f, visiting: visiting.union([i])) { return kind }
        }
        return nil
    }

    /// Checks a feature if not done yet; nil when it failed or is part of a cycle.
    @discardableResult
    func checkFeature(_ i: Int, referencedAt: SourceLocation? = nil) -> CheckedFeature? {
        switch featureStates[i] {
        case .done(let c): return c
        case .failed: return nil
        case .checking:
            if let at = referencedAt, let start = checkingStack.firstIndex(of: i) {
                let chain = (checkingStack[start...] + [i]).map { features[$0].name.name }
                diagnostics.error(at, "cyclic feature definition: \(chain.joined(separator: " -> "))")
            }
            return nil
        case .unchecked:
            break
        }
        featureStates[i] = .checking
        checkingStack.append(i)
        let saved = usage
        usage = Usage()
        let f = features[i]
        let scope = Scope(kind: f.kind, topic: nil, params: [:], paramOrder: [])
        let typed = check(f.expression, scope)
        let checked = CheckedFeature(node: typed.node, type: typed.type, uses: usage, depth: usage.featureDepth + f.expression.depth)
        usage = saved
        checkingStack.removeLast()
        if case .duration = typed.type {
            diagnostics.error(f.expression.location, "a feature cannot be a bare duration; shift a date with it, e.g. as_of - 30d")
            featureStates[i] = .failed
            return nil
        }
        if typed.type == .error {
            featureStates[i] = .failed
            return nil
        }
        if checked.depth > limits.maxEvaluationDepth {
            diagnostics.error(
                f.name.location,
                "feature '\(f.name.name)' is nested too deeply through other features (depth \(checked.depth), the limit is \(limits.maxEvaluationDepth))"
            )
            featureStates[i] = .failed
            return nil
        }
        featureStates[i] = .done(checked)
        return checked
    }

    /// Checks every feature that reaches no cycle, each after the features it reads (an iterative
    /// depth-first walk over the names in their expressions), so that checking one finds what it
    /// reads checked already: a long chain declared outermost first costs no stack. Features that
    /// reach a cycle are left to `checkFeature` in declaration order, which reports the cycle.
    func checkFeaturesInDependencyOrder() {
        let reads = features.map { f in Checker.references(in: f.expression).names.compactMap { featureIndex[$0] } }
        for i in Checker.acyclicPostOrder(count: reads.count, edges: { reads[$0] }) { checkFeature(i) }
    }

    /// The names and tags an expression mentions (a superset of the features and tags it reads).
    static func references(in e: Expression) -> (names: [String], tags: [String]) {
        var names: [String] = []
        var tags: [String] = []
        func walk(_ e: Expression) {  // recursion bounded by `maxExpressionDepth`
            switch e.kind {
            case .number, .string, .bool, .duration: break
            case .name(let n): names.append(n)
            case .tagged(let t): tags.append(t.name)
            case .negate(let x), .not(let x), .isKnown(let x, _), .inNamedList(let x, _, _): walk(x)
            case .arithmetic(_, let l, let r), .comparison(_, let l, let r), .and(let l, let r), .or(let l, let r):
                walk(l)
                walk(r)
            case .inList(let x, let items, _):
                walk(x)
                items.forEach(walk)
            case .call(let c):
                if let f = c.filter { walk(f) }
                if let a = c.argument { walk(a) }
            case .clamp(let x, let low, let high):
                walk(x)
                walk(low)
                walk(high)
            case .peer(let c):
                walk(c.argument)
                if let p = c.percentile { walk(p) }
            }
        }
        walk(e)
        return (names, tags)
    }

    /// The nodes of a graph in depth-first post-order (each after the nodes it has edges to),
    /// leaving out every node from which a cycle can be reached. Iterative: any depth.
    static func acyclicPostOrder(count: Int, edges: (Int) -> [Int]) -> [Int] {
        enum Mark { case new, open, done, reachesCycle }
        var mark = [Mark](repeating: .new, count: count)
        var order: [Int] = []
        for root in 0..<count where mark[root] == .new {
            mark[root] = .open
            var stack: [(node: Int, edges: [Int], next: Int, reachesCycle: Bool)] = [(root, edges(root), 0, false)]
            while let top = stack.last {
                if top.next < top.edges.count {
                    let v = top.edges[top.next]
                    stack[stack.count - 1].next += 1
                    switch mark[v] {
                    case .new:
                        mark[v] = .open
                        stack.append((v, edges(v), 0, false))
                    case .open, .reachesCycle:
                        stack[stack.count - 1].reachesCycle = true
                    case .done:
                        break
                    }
                } else {
                    stack.removeLast()
                    if top.reachesCycle {
                        mark[top.node] = .reachesCycle
                        if !stack.isEmpty { stack[stack.count - 1].reachesCycle = true }
                    } else {
                        mark[top.node] = .done
                        order.append(top.node)
                    }
                }
            }
        }
        return order
    }

    /// Whether reading feature `i` checks it now (recursively): not when it is checked already or
    /// being checked (a cycle, reported as such).
    private func featureNeedsCheck(_ i: Int) -> Bool {
        if case .unchecked = featureStates[i] { return true }
        return false
    }

    /// Whether a feature or tag read at `at` may be checked from here. Checking it on first use
    /// recurses; once `check` is `maxEvaluationDepth` levels deep, whatever is being checked at the
    /// bottom is at least that deep (every level adds at least one to its evaluation depth), so it
    /// would be rejected anyway: report it here rather than recurse further. A feature or tag
    /// checked already (or in a cycle) costs no recursion and goes through the usual checks.
    func referenceWithinDepth(recurses: Bool, _ name: String, at: SourceLocation) -> Bool {
        guard recurses, checkNesting >= limits.maxEvaluationDepth else { return true }
        // The chain that got here: tags (which may read features) first, then features.
        var chain = tagCheckingStack.map { tags[$0].name.name } + checkingStack.map { features[$0].name.name } + [name]
        if chain.count > 8 { chain = chain.prefix(3) + ["…"] + chain.suffix(4) }
        diagnostics.error(
            at,
            "nested too deeply through features and tags (the limit is \(limits.maxEvaluationDepth) levels): \(chain.joined(separator: " -> "))")
        return false
    }

    /// What an expression's usage reaches through the features and tags it reads, transitively.
    /// With `costLimit`, the walk may stop as soon as the usage's cost plus what it reached exceeds
    /// the limit (then `complete` is false and `cost` a lower bound): enough to reject the
    /// expression, and it bounds the work per expression however large a closure of features it
    /// reads. Walks from the same features and tags (thousands of rules reading one feature) are
    /// done once.
    func reach(_ u: Usage, costLimit: Int? = nil) -> Reach {
        var r = Reach()
        if !u.features.isEmpty || !u.tags.isEmpty {
            let start = ReachStart(features: u.features, tags: u.tags)
            let budget = costLimit.map { $0 - u.cost }
            if let known = reachMemo[start], known.complete || budget.map({ known.cost > $0 }) == true {
                r = known
            } else {
                r = walk(from: start, budget: budget)
                reachMemo[start] = r
            }
        }
        r.lists.formUnion(u.lists)
        r.aggregates.formUnion(u.aggregates)
        r.readsLeaders = r.readsLeaders || u.readsLeaders
        r.peers.formUnion(u.peers)
        r.peerMembers.formUnion(u.peerMembers)
        return r
    }

    private func walk(from start: ReachStart, budget: Int?) -> Reach {
        var r = Reach()
        var featureStack = Array(start.features)
        var tagStack = Array(start.tags)
        while true {
            if let budget, r.cost > budget {
                r.complete = featureStack.allSatisfy { r.features.contains($0) } && tagStack.allSatisfy { r.tags.contains($0) }
                break
            }
            let uses: Usage
            if let f = featureStack.popLast() {
                guard r.features.insert(f).inserted, case .done(let c) = featureStates[f] else { continue }
                uses = c.uses
            } else if let t = tagStack.popLast() {
                guard r.tags.insert(t).inserted, case .done(let c) = tagStates[t] else { continue }
                uses = c.uses
            } else {
                break
            }
            r.lists.formUnion(uses.lists)
            r.aggregates.formUnion(uses.aggregates)
            r.readsLeaders = r.readsLeaders || uses.readsLeaders
            r.peers.formUnion(uses.peers)
            r.peerMembers.formUnion(uses.peerMembers)
            r.cost += uses.cost
            featureStack.append(contentsOf: uses.features)
            tagStack.append(contentsOf: uses.tags)
        }
        return r
    }

    /// `cost 123` in a "too expensive" diagnostic, or `cost more than LIMIT` when the walk stopped early.
    func costText(_ cost: Int, _ r: Reach) -> String {
        r.complete ? "cost \(cost)" : "cost more than \(limits.maxRuleCost)"
    }

    /// The canonical texts of what an expression reaches, for its version: features, then tags, then
    /// lists (each sorted by name), then the leader ranking when read. An expression that reads no
    /// tag, list or leaders hashes exactly its features, as before these existed.
    func dependencyTexts(_ r: Reach) -> [String] {
        // Rules reading the same features (say, hundreds reading one feature over thousands) share
        // the sorted texts.
        var texts: [String]
        if let known = featureTextsMemo[r.features] {
            texts = known
        } else {
            texts = r.features.map { (features[$0].name.name, features[$0].canonicalText) }.sorted { $0.0 < $1.0 }.map(\.1)
            featureTextsMemo[r.features] = texts
        }
        texts += r.tags.map { tags[$0] }.sorted { $0.name.name < $1.name.name }.map(\.canonicalText)
        texts += r.lists.map { lists[$0] }.sorted { $0.name.name < $1.name.name }.map(\.canonicalText)
        // What relation aggregates read for related entities, and the relations they walk.
        texts += Set(r.aggregates.flatMap { aggregates[$0].relation?.dependencyTexts ?? [] }).sorted()
        // What peer measures read for each enterprise.
        texts += Set(r.peers.flatMap { peerMeasures[$0]?.dependencyTexts ?? [] }).sorted()
        if r.readsLeaders, let leaders {
            texts.append(leaders.canonicalText)
            if let f = featureIndex[leaders.feature.name] { texts.append(features[f].canonicalText) }
        }
        return texts
    }

    // MARK: - Expressions

    func check(_ e: Expression, _ scope: Scope) -> Typed {
        checkNesting += 1
        defer { checkNesting -= 1 }
        usage.cost += 1
        switch e.kind {
        case .number(let v, _):
            return Typed(node: .constant(.number(v)), type: .number(.scalar))
        case .string(let s):
            return Typed(node: .constant(.string(s)), type: .string)
        case .bool(let b):
            return Typed(node: .constant(.bool(b)), type: .bool)
        case .duration(let w):
            return Typed(node: .constant(.unknown), type: .duration(days: w.unit == .days ? w.count : nil))
        case .name(let n):
            return resolve(n, at: e.location, scope)
        case .negate(let x):
            let t = check(x, scope)
            switch t.type {
            case .error: return .error
            case .number: return Typed(node: .negate(t.node), type: t.type)
            default:
                diagnostics.error(e.location, "'-' needs a number, found \(t.type.phrase)")
                return .error
            }
        case .arithmetic(let op, let l, let r):
            return arithmetic(op, check(l, scope), check(r, scope), at: e.location)
        case .comparison(let op, let l, let r):
            var lt = check(l, scope)
            var rt = check(r, scope)
            guard let (a, b) = coerceForComparison(&lt, l, &rt, r) else { return .error }
            guard comparable(op, a.type, b.type, at: e.location) else { return .error }
            return Typed(node: .compare(op, a.node, b.node), type: .bool)
        case .and(let l, let r), .or(let l, let r):
            let word: String
            if case .and = e.kind { word = "and" } else { word = "or" }
            let lt = check(l, scope)
            let rt = check(r, scope)
            var ok = true
            for (t, x) in [(lt, l), (rt, r)] where t.type != .bool && t.type != .error {
                diagnostics.error(x.location, "'\(word)' needs conditions on both sides, found \(t.type.phrase)")
                ok = false
            }
            guard ok, lt.type == .bool, rt.type == .bool else { return .error }
            return Typed(node: word == "and" ? .and(lt.node, rt.node) : .or(lt.node, rt.node), type: .bool)
        case .not(let x):
            let t = check(x, scope)
            if t.type == .error { return .error }
            guard t.type == .bool else {
                diagnostics.error(e.location, "'not' needs a condition, found \(t.type.phrase)")
                return .error
            }
            return Typed(node: .not(t.node), type: .bool)
        case .isKnown(let x, let known):
            let t = check(x, scope)
            switch t.type {
            case .error: return .error
            case .duration:
                diagnostics.error(x.location, "a duration is always known; 'is null' applies to fields and features")
                return .error
            default: return Typed(node: .isKnown(t.node, known), type: .bool)
            }
        case .inList(let x, let items, let negated):
            return inList(x, items, negated: negated, at: e.location, scope)
        case .inNamedList(let x, let list, let negated):
            return inNamedList(check(x, scope), list, negated: negated, at: e.location)
        case .tagged(let tag):
            return tagged(tag, at: e.location, scope)
        case .call(let c):
            return call(c, scope)
        case .clamp(let x, let low, let high):
            return clamp(check(x, scope), check(low, scope), low, check(high, scope), high, at: e.location)
        case .peer(let c):
            return peer(c, scope)
        }
    }

    /// `clamp(x, low, high)`: numbers whose bounds are of the value's unit (or plain numbers).
    private func clamp(_ x: Typed, _ low: Typed, _ le: Expression, _ high: Typed, _ he: Expression, at: SourceLocation) -> Typed {
        if x.type == .error || low.type == .error || high.type == .error { return .error }
        guard case .number(let unit) = x.type else {
            diagnostics.error(at, "'clamp' needs a number, found \(x.type.phrase)")
            return .error
        }
        var ok = true
        for (bound, e) in [(low, le), (high, he)] {
            guard case .number(let b) = bound.type, b == unit || b == .scalar || unit == .scalar else {
                diagnostics.error(e.location, "cannot clamp \(unit.phrase) with \(bound.type.phrase)")
                ok = false
                continue
            }
        }
        if case .constant(.number(let lo)) = low.node, case .constant(.number(let hi)) = high.node, lo > hi {
            diagnostics.error(le.location, "the lower bound of 'clamp' is above its upper bound")
            ok = false
        }
        guard ok else { return .error }
        return Typed(node: .clamp(x.node, low.node, high.node), type: x.type)
    }

    private func resolve(_ n: String, at: SourceLocation, _ scope: Scope) -> Typed {
        if let topic = scope.topic, let ft = topic.fields[n] {
            return Typed(node: .field(n, ValueKind(ft)), type: StaticType(field: n, type: ft))
        }
        if let p = scope.params[n] {
            usage.params.insert(n)
            usage.read(.param(n, p.value))
            usage.paramSites[at] = p.value
            return Typed(node: .constant(.number(p.value)), type: .number(.scalar))
        }
        if n == "as_of" { return Typed(node: .asOf, type: .date) }
        if let b = EntityBuiltin(rawValue: n) {
            guard useEntityBuiltin(b, at: at, kind: scope.kind, context: scope.context, peerFunction: scope.peerFunction) else { return .error }
            if b.needsScore { usage.read(.entity(b)) }
            return Typed(node: .entity(b), type: b.type)
        }
        if let b = IndustryBuiltin(rawValue: n) {
            guard scope.kind == .industry else {
                diagnostics.error(
                    at,
                    scope.context == .peer
                        ? "'\(n)' is a figure of the division; \(Checker.peerArgumentPhrase(scope.peerFunction))"
                        : "'\(n)' is only available in industry rules and industry features")
                return .error
            }
            guard leadersAvailable(b, at: at) else { return .error }
            usage.read(.industry(b))
            return Typed(node: .industry(b), type: b.type)
        }
        if let i = featureIndex[n] {
            if let topic = scope.topic {
                diagnostics.error(
                    at, "feature '\(n)' cannot be used inside 'where'; only fields of '\(topic.name)', parameters and as_of can")
                return .error
            }
            let f = features[i]
            guard f.kind == scope.kind.featureKind else {
                let message: String
                if scope.context == .peer {
                    message = "'\(n)' is an industry feature; \(Checker.peerArgumentPhrase(scope.peerFunction))"
                } else if f.kind == .industry {
                    message = "'\(n)' is an industry feature; enterprise rules and features cannot use it"
                } else {
                    message = "'\(n)' is an enterprise feature; industry rules and features cannot use it"
                }
                diagnostics.error(at, message)
                return .error
            }
            guard referenceWithinDepth(recurses: featureNeedsCheck(i), n, at: at),
                let c = checkFeature(i, referencedAt: at)
            else { return .error }
            if scope.context == .related, c.uses.readsRelations {
                diagnostics.error(at, "feature '\(n)' reads relations; relation features do not nest")
                return .error
            }
            if scope.context == .related, c.uses.readsRanks {
                diagnostics.error(at, "feature '\(n)' reads peer_rank; related entities are not ranked")
                return .error
            }
            usage.readsRelations = usage.readsRelations || c.uses.readsRelations
            usage.readsRanks = usage.readsRanks || c.uses.readsRanks
            usage.features.insert(i)
            usage.read(.feature(i))
            usage.featureDepth = max(usage.featureDepth, c.depth)
            return Typed(node: .feature(i), type: c.type)
        }
        if let topic = scope.topic {
            diagnostics.error(
                at,
                Suggest.message(
                    "unknown field '\(n)' in topic '\(topic.name)'", n,
                    among: Array(topic.fields.keys) + scope.paramOrder + ["as_of"]))
        } else {
            // The candidates are gathered only when the message is kept (see DiagnosticSink).
            diagnostics.error(at, Suggest.message("unknown feature '\(n)'", n, among: self.nameCandidates(scope)))
        }
        return .error
    }

    /// Features of the scope's kind, parameters and builtins: what an unknown name may be a typo of.
    private func nameCandidates(_ scope: Scope) -> [String] {
        let sameKind = features.filter { $0.kind == scope.kind.featureKind }.map(\.name.name)
        let builtins = scope.kind == .industry ? Checker.industryBuiltins : Checker.enterpriseBuiltins
        return sameKind + scope.paramOrder + builtins
    }

    // MARK: Arithmetic and comparisons

    private func arithmetic(_ op: ArithmeticOperator, _ l: Typed, _ r: Typed, at: SourceLocation) -> Typed {
        if l.type == .error || r.type == .error { return .error }
        switch (l.type, r.type) {
        case (.number(let a), .number(let b)):
            let unit: NumberUnit
            switch op {
            case .add, .subtract:
                if a == b || b == .scalar {
                    unit = a
                } else if a == .scalar {
                    unit = b
                } else {
                    let verb = op == .add ? "add" : "subtract"
                    diagnostics.error(at, "cannot \(verb) \(a.phrase) and \(b.phrase)")
                    return .error
                }
            case .multiply:
                unit = a == .scalar ? b : (b == .scalar ? a : .scalar)
            case .divide:
                unit = a == b ? .scalar : (b == .scalar ? a : .scalar)
            }
            return Typed(node: .arithmetic(op, l.node, r.node), type: .number(unit))
        case (.date, .duration(let days)), (.duration(let days), .date):
            let dateOnLeft = l.type == .date
            guard op == .add || (op == .subtract && dateOnLeft) else {
                diagnostics.error(at, "a date can only be shifted with '+' or '-', as in as_of - 30d")
                return .error
            }
            guard let days else {
                diagnostics.error(at, "only day durations like 30d can shift a date")
                return .error
            }
            return Typed(node: .shiftDate(dateOnLeft ? l.node : r.node, days: op == .add ? days : -days), type: .date)
        case (.date, .date) where op == .subtract:
            return Typed(node: .arithmetic(op, l.node, r.node), type: .number(.days))
        default:
            let bad = l.type.isNumber ? r.type : l.type
            diagnostics.error(at, "operator '\(op.rawValue)' needs numbers, found \(bad.phrase)")
            return .error
        }
    }

    /// Turns a string literal compared with a date into a date constant, and a timestamp compared
    /// with a date into its calendar day.
    private func coerceForComparison(_ l: inout Typed, _ le: Expression, _ r: inout Typed, _ re: Expression) -> (Typed, Typed)? {
        if l.type == .error || r.type == .error { return nil }
        if l.type == .timestamp, r.type == .date || r.type == .string {
            l = Typed(node: .dayOf(l.node), type: .date)
        } else if r.type == .timestamp, l.type == .date || l.type == .string {
            r = Typed(node: .dayOf(r.node), type: .date)
        }
        if l.type == .date, r.type == .string {
            guard let d = dateLiteral(r, re) else { return nil }
            r = d
        } else if r.type == .date, l.type == .string {
            guard let d = dateLiteral(l, le) else { return nil }
            l = d
        }
        return (l, r)
    }

    private func dateLiteral(_ t: Typed, _ e: Expression) -> Typed? {
        guard case .constant(.string(let s)) = t.node else { return t }
        guard let day = Day(iso: s) else {
            diagnostics.error(e.location, "'\(s)' is not a date; write dates as \"YYYY-MM-DD\"")
            return nil
        }
        return Typed(node: .constant(.date(day)), type: .date)
    }

    func comparable(_ op: ComparisonOperator, _ a: StaticType, _ b: StaticType, at: SourceLocation) -> Bool {
        switch (a, b) {
        case (.number(let x), .number(let y)):
            if x == y || x == .scalar || y == .scalar { return true }
        case (.string, .string), (.date, .date), (.timestamp, .timestamp):
            return true
        case (.bool, .bool):
            if op.isEquality { return true }
            diagnostics.error(at, "conditions can only be compared with '==' or '!='")
            return false
        default:
            break
        }
        diagnostics.error(at, "cannot compare \(a.phrase) with \(b.phrase)")
        return false
    }

    private func inList(_ x: Expression, _ items: [Expression], negated: Bool, at: SourceLocation, _ scope: Scope) -> Typed {
        let lt = check(x, scope)
        var values: [RuntimeValue] = []
        var ok = lt.type != .error
        if items.isEmpty {
            diagnostics.error(at, "an 'in' list needs at least one value")
            ok = false
        }
        for item in items {
            usage.cost += 1
            var it: Typed
            switch item.kind {
            case .number(let v, _): it = Typed(node: .constant(.number(v)), type: .number(.scalar))
            case .string(let s): it = Typed(node: .constant(.string(s)), type: .string)
            case .bool(let b): it = Typed(node: .constant(.bool(b)), type: .bool)
            default:
                diagnostics.error(item.location, "list items must be literal values such as \"C\" or 3")
                ok = false
                continue
            }
            guard lt.type != .error else { continue }
            if lt.type == .date {
                guard let d = dateLiteral(it, item) else {
                    ok = false
                    continue
                }
                it = d
            }
            guard comparable(.equal, lt.type, it.type, at: item.location) else {
                ok = false
                continue
            }
            if case .constant(let v) = it.node { values.append(v) }
        }
        guard ok else { return .error }
        return Typed(node: .inList(lt.node, values, negated: negated), type: .bool)
    }

    // MARK: Calls

    private struct FunctionShape {
        enum Field { case required, optional, forbidden }
        enum Window { case required, optional, forbidden }
        let field: Field
        let window: Window
        let filter: Bool
    }

    private static func shape(_ f: AggregateFunction) -> FunctionShape {
        switch f {
        case .sum, .avg, .min, .max, .distinctCount: return FunctionShape(field: .required, window: .optional, filter: true)
        case .count: return FunctionShape(field: .optional, window: .optional, filter: true)
        case .last, .changes: return FunctionShape(field: .required, window: .required, filter: true)
        case .latest: return FunctionShape(field: .required, window: .forbidden, filter: true)
        case .exists: return FunctionShape(field: .forbidden, window: .optional, filter: true)
        case .daysSince: return FunctionShape(field: .optional, window: .optional, filter: true)
        case .industrySum: return FunctionShape(field: .required, window: .required, filter: false)
        case .any: return FunctionShape(field: .forbidden, window: .forbidden, filter: true)
        }
    }

    private func call(_ c: CallSyntax, _ scope: Scope) -> Typed {
        let fname = c.function.name
        if fname == "alerted", scope.topic == nil { return alerted(c, scope) }
        guard let function = AggregateFunction(rawValue: fname) else {
            diagnostics.error(c.function.location, Suggest.message("unknown function '\(fname)'", fname, among: Checker.functions))
            return .error
        }
        if scope.topic != nil {
            diagnostics.error(c.function.location, "'\(fname)' cannot be used inside 'where'")
            return .error
        }
        switch relationReference(c, function) {
        case .relation(let relation): return relationAggregate(c, function, relation, scope)
        case .failed: return .error
        case .records: break
        }
        if function == .any {
            diagnostics.error(
                c.function.location, "'any' takes a relation, as in any(legal_representative, COND); for records use exists(\(c.path.text) where …)")
            return .error
        }
        if let a = c.argument {
            diagnostics.error(a.location, "'\(fname)' over records takes no expression after them; only relation aggregates do")
            return .error
        }
        if scope.kind == .industry, function != .industrySum {
            diagnostics.error(
                c.function.location, "'\(fname)' is not available in industry rules; use industry_sum(topic.field, window)")
            return .error
        }
        if scope.kind != .industry, function == .industrySum {
            diagnostics.error(c.function.location, "'industry_sum' is only available in industry rules and industry features")
            return .error
        }
        let shape = Checker.shape(function)
        guard let (topic, field) = resolvePath(c.path, shape.field, function: fname) else { return .error }
        var ok = true

        // Windows.
        if let w = c.window {
            if shape.window == .forbidden {
                diagnostics.error(w.location, "'latest' reads all current records; use last(topic.field, window) for a window")
                ok = false
            } else if !windowWithinLimits(w) {
                ok = false
            }
        } else if shape.window == .required {
            diagnostics.error(c.function.location, "'\(fname)' needs a window, e.g. \(fname)(\(c.path.text), 3mo)")
            ok = false
        }
        if let o = c.offset {
            if c.window == nil, shape.window != .required {
                diagnostics.error(o.location, "'offset' needs a window before it")
                ok = false
            } else if !windowWithinLimits(o) {
                ok = false
            }
        }
        if function == .industrySum {
            for w in [c.window, c.offset].compactMap({ $0 }) where w.unit != .months {
                diagnostics.error(w.location, "industry_sum works on calendar months; use a window like 3mo")
                ok = false
            }
        }

        // Field type.
        var fieldType: StaticType?
        if let field {
            let ft = StaticType(field: field, type: topic.fields[field]!)
            fieldType = ft
            let qualified = "\(topic.name).\(field)"
            switch function {
            case .sum, .avg, .industrySum:
                if !ft.isNumber {
                    diagnostics.error(c.path.segments.last!.location, "'\(fname)' needs a numeric field; '\(qualified)' is \(ft.phrase)")
                    ok = false
                }
            case .min, .max:
                if !(ft.isNumber || ft == .date || ft == .timestamp) {
                    diagnostics.error(
                        c.path.segments.last!.location, "'\(fname)' needs a numeric or date field; '\(qualified)' is \(ft.phrase)")
                    ok = false
                }
            case .daysSince:
                if !(ft == .date || ft == .timestamp) {
                    diagnostics.error(c.path.segments.last!.location, "'days_since' needs a date field; '\(qualified)' is \(ft.phrase)")
                    ok = false
                }
            default:
                break
            }
        }

        // Filter.
        var filterNode: Node?
        if let f = c.filter {
            let inner = Scope(
                kind: scope.kind, topic: topic, params: scope.params, paramOrder: scope.paramOrder, context: scope.context)
            let t = check(f, inner)
            if t.type != .bool && t.type != .error {
                diagnostics.error(f.location, "'where' needs a condition, found \(t.type.phrase)")
                ok = false
            }
            if t.type != .bool { ok = false }
            filterNode = t.node
        }
        guard ok else { return .error }

        let type: StaticType
        switch function {
        case .count, .distinctCount, .changes: type = .number(.count)
        case .exists: type = .bool
        case .daysSince: type = .number(.days)
        default: type = fieldType ?? .error
        }
        let spec = AggregateSpec(
            function: function, topic: topic.name, field: field, fieldKind: field.map { ValueKind(topic.fields[$0]!) },
            window: c.window.map(WindowSpec.init),
            offset: c.offset.map(WindowSpec.init), filter: filterNode)
        let index = register(spec)
        usage.aggregates.insert(index)
        usage.cost += Checker.aggregateCost
        return Typed(node: .aggregate(index), type: type)
    }

    private func windowWithinLimits(_ w: WindowLiteral) -> Bool {
        let tooLong = w.unit == .days ? w.count > limits.maxWindowDays : w.count > limits.maxWindowMonths
        if tooLong {
            diagnostics.error(
                w.location, "window '\(w.text)' is too long (at most \(limits.maxWindowDays)d or \(limits.maxWindowMonths)mo)")
        }
        return !tooLong
    }

    /// The catalog topic of a path, including `topic#history` (the change history of a topic: the
    /// same fields, one record per version).
    func topic(named name: String) -> TopicSchema? {
        if let t = schema.topics[name] { return t }
        let suffix = RuleProgram.historySuffix
        guard name.hasSuffix(suffix), let base = schema.topics[String(name.dropLast(suffix.count))] else { return nil }
        return TopicSchema(name: name, fields: base.fields, eventTimeField: base.eventTimeField, entityKind: base.entityKind)
    }

    private func resolvePath(_ path: FieldPath, _ mode: FunctionShape.Field, function: String) -> (TopicSchema, String?)? {
        let segs = path.segments
        // Only as many leading segments as the longest topic name has can name a topic: a path of
        // thousands of segments must not join each of its prefixes.
        let longestTopic = schema.topics.keys.map { $0.split(separator: ".").count }.max() ?? 1
        for k in stride(from: min(segs.count, longestTopic), through: 1, by: -1) {
            let name = segs[0..<k].map(\.name).joined(separator: ".")
            guard let topic = topic(named: name) else { continue }
            let rest = segs[k...]
            if rest.isEmpty {
                if mode == .required {
                    diagnostics.error(
                        path.location, "'\(function)' needs a field of '\(name)', e.g. \(function)(\(name).\(topic.fields.keys.sorted().first ?? "field"), …)")
                    return nil
                }
                return (topic, nil)
            }
            let field = rest.first!
            if mode == .forbidden {
                diagnostics.error(field.location, "'\(function)' takes a topic, not a field: \(function)(\(name) where …)")
                return nil
            }
            guard topic.fields[field.name] != nil else {
                diagnostics.error(
                    field.location, Suggest.message("unknown field '\(field.name)' in topic '\(name)'", field.name, among: topic.fields.keys))
                return nil
            }
            if rest.count > 1 {
                diagnostics.error(rest[rest.startIndex + 1].location, "'\(name).\(field.name)' has no fields of its own")
                return nil
            }
            return (topic, field.name)
        }
        let guessCount: Int
        switch mode {
        case .required: guessCount = max(1, segs.count - 1)
        case .forbidden: guessCount = segs.count
        case .optional: guessCount = segs.count >= 3 ? segs.count - 1 : segs.count
        }
        let guess = segs[0..<guessCount].map(\.name).joined(separator: ".")
        var candidates = Array(schema.topics.keys)
        if guess.contains("#") { candidates += schema.topics.keys.map { $0 + RuleProgram.historySuffix } }
        diagnostics.error(path.location, Suggest.message("unknown topic '\(guess)'", guess, among: candidates))
        return nil
    }
}
