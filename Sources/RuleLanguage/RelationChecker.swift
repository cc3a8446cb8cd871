/// Relations (issue 11): `relation` declarations, relation paths, and the relation aggregates that
/// read related entities (`any(legal_representative, dishonest_count >= 1)`). A relation aggregate's
/// expression is checked as the related entity's: it may read features (none that read relations:
/// evaluation does not nest, which is what ends cycles), parameters and `alerted(…)`.
extension Checker {
    /// What the first argument of an aggregate names.
    enum PathReference {
        /// A topic (or a topic's field): an aggregate over the entity's records.
        case records
        /// Relation paths (one, or a declared relation's union): a relation aggregate.
        case relation(ResolvedRelation)
        /// A relation that does not check (reported).
        case failed
    }

    struct ResolvedRelation {
        let paths: [[RelationStep]]
        /// The declared relation used, if any (its declaration is part of the reader's version).
        let declared: Int?
        let location: SourceLocation
        let text: String
    }

    /// Registers a `relation` declaration; a duplicate or a name the catalog uses for a step is
    /// reported and ignored.
    func declare(_ r: RelationDecl) {
        let n = r.name.name
        if let first = relationIndex[n] {
            diagnostics.error(r.name.location, "duplicate relation '\(n)' (first declared at \(relations[first].name.location))")
            return
        }
        if schema.step(n) != nil {
            diagnostics.error(
                r.name.location, "relation '\(n)' is named like a step of the catalog's relations; choose another name")
            return
        }
        relationIndex[n] = relations.count
        relations.append(r)
    }

    /// Checks the paths of every declared relation (before any expression uses them).
    func checkRelations() {
        relationPaths = relations.map { r in
            let paths = r.paths.map { relationSteps($0) }
            return paths.contains { $0 == nil } ? nil : paths.compactMap { $0 }
        }
    }

    /// What an aggregate's path names. A path that names no topic is a relation when its only
    /// segment is a declared relation or its first is a relation step, and is taken for a misspelt
    /// relation when it reads like one (a relation-only function, an expression for each related
    /// entity, or a name close to a step's rather than to a topic's).
    func relationReference(_ c: CallSyntax, _ function: AggregateFunction) -> PathReference {
        let segments = c.path.segments
        let first = segments[0]
        // As in `resolvePath`: only as many segments as the longest topic name has can name one.
        let longestTopic = schema.topics.keys.map { $0.split(separator: ".").count }.max() ?? 1
        let namesTopic = (1...min(segments.count, longestTopic)).contains {
            topic(named: segments[0..<$0].map(\.name).joined(separator: ".")) != nil
        }
        guard !namesTopic else { return .records }
        if let d = relationIndex[first.name] {
            guard segments.count == 1 else {
                diagnostics.error(
                    segments[1].location,
                    "'\(first.name)' is a declared relation; it cannot be followed by more steps (declare the longer paths instead)")
                return .failed
            }
            guard let paths = relationPaths[d] else { return .failed }
            return .relation(ResolvedRelation(paths: paths, declared: d, location: first.location, text: first.name))
        }
        let stepCandidates = schema.stepNames + relations.map(\.name.name)
        if schema.step(first.name) == nil {
            let readsLikeRelation =
                function == .any || c.argument != nil
                || (Suggest.closest(to: first.name, among: stepCandidates) != nil
                    && Suggest.closest(to: c.path.text, among: schema.topics.keys) == nil)
            guard readsLikeRelation, !stepCandidates.isEmpty else { return .records }
        }
        guard let steps = relationSteps(c.path) else { return .failed }
        return .relation(ResolvedRelation(paths: [steps], declared: nil, location: first.location, text: c.path.text))
    }

    /// The steps of a path, each known, at most `maxRelationDepth` of them, each starting where the
    /// one before arrives; nil when not (reported). Where the first starts is checked where the path
    /// is read (a feature's may start at either kind of entity).
    func relationSteps(_ path: FieldPath) -> [RelationStep]? {
        var steps: [RelationStep] = []
        for (k, segment) in path.segments.enumerated() {
            guard let step = schema.step(segment.name) else {
                // The first segment may also be a declared relation.
                let candidates = schema.stepNames + (k == 0 ? relations.map(\.name.name) : [])
                diagnostics.error(segment.location, Checker.unknownChoice("relation step", segment.name, candidates))
                return nil
            }
            steps.append(step)
        }
        if steps.count > limits.maxRelationDepth {
            diagnostics.error(
                path.segments[limits.maxRelationDepth].location,
                "relation path '\(path.text)' is too long (\(steps.count) steps, the limit is \(limits.maxRelationDepth))")
            return nil
        }
        var ok = true
        for k in steps.indices.dropFirst() where !Checker.fits(steps[k - 1].arrivesAt, steps[k].startsAt) {
            diagnostics.error(
                path.segments[k].location,
                "relation step '\(steps[k].name)' starts at \(Checker.phrase(steps[k].startsAt)), but '\(steps[k - 1].name)' arrives at \(Checker.phrase(steps[k - 1].arrivesAt))"
            )
            ok = false
        }
        return ok ? steps : nil
    }

    /// Whether an entity of kind `a` may be one of kind `b` (mixed may be either).
    static func fits(_ a: TopicSchema.EntityKind, _ b: TopicSchema.EntityKind) -> Bool {
        a == b || a == .mixed || b == .mixed
    }

    static func phrase(_ kind: TopicSchema.EntityKind) -> String {
        switch kind {
        case .enterprise: return "an enterprise"
        case .person: return "a person"
        case .mixed: return "an enterprise or a person"
        }
    }

    /// `any|count|max|min|sum|avg(REL [where EDGE_COND] [, EXPR])`.
    func relationAggregate(_ c: CallSyntax, _ function: AggregateFunction, _ relation: ResolvedRelation, _ scope: Scope) -> Typed {
        let fname = c.function.name
        if scope.kind == .industry {
            diagnostics.error(c.function.location, "relation aggregates are not available in industry rules and industry features")
            return .error
        }
        if scope.context == .related {
            diagnostics.error(
                c.function.location, "'\(fname)(\(relation.text), …)' reads relations of a related entity; relation aggregates do not nest")
            return .error
        }
        guard [.any, .count, .max, .min, .sum, .avg].contains(function) else {
            diagnostics.error(
                c.function.location, "'\(fname)' does not apply to relations; use any, count, max, min, sum or avg over '\(relation.text)'")
            return .error
        }
        var ok = true
        if let subject = scope.subject {
            for (path, steps) in zip(relation.paths.indices, relation.paths) {
                guard let step = steps.first, !Checker.fits(step.startsAt, TopicSchema.EntityKind(subject)) else { continue }
                let via = relation.declared == nil ? "" : " (in path \(path + 1) of '\(relation.text)')"
                diagnostics.error(
                    relation.location,
                    "relation step '\(step.name)'\(via) starts at \(Checker.phrase(step.startsAt)), not at the \(subject.rawValue) evaluated here")
                ok = false
            }
        }
        for w in [c.window, c.offset].compactMap({ $0 }) {
            diagnostics.error(w.location, "relation aggregates take no window; related entities are read as they are now")
            ok = false
        }

        // The edge filter reads the last step's record.
        var filterNode: Node?
        let edgeTopics = Array(Set(relation.paths.compactMap { $0.last?.relation.topic })).sorted()
        if let f = c.filter {
            if edgeTopics.count > 1 {
                diagnostics.error(
                    f.location,
                    "'where' on '\(relation.text)' would read edges of several topics (\(edgeTopics.joined(separator: ", "))); filter a relation whose paths end in one topic")
                ok = false
            } else if let topic = edgeTopics.first.flatMap({ schema.topics[$0] }) {
                let inner = Scope(
                    kind: scope.kind, topic: topic, params: scope.params, paramOrder: scope.paramOrder, context: scope.context)
                let t = check(f, inner)
                if t.type != .bool && t.type != .error {
                    diagnostics.error(f.location, "'where' needs a condition, found \(t.type.phrase)")
                }
                ok = ok && t.type == .bool
                filterNode = t.node
            } else {
                diagnostics.error(
                    f.location,
                    "the edges of '\(relation.text)' are records of topic '\(edgeTopics.first ?? "")', which the catalog does not declare")
                ok = false
            }
        }

        // The expression for each related entity, checked as the related entity's own.
        var valueNode: Node?
        var type = StaticType.number(.count)
        var nested = Usage()
        if let a = c.argument {
            let saved = usage
            usage = Usage()
            let inner = Scope(
                kind: scope.kind.featureKind, topic: nil, params: scope.params, paramOrder: scope.paramOrder, context: .related)
            let t = check(a, inner)
            nested = usage
            usage = saved
            valueNode = t.node
            switch (function, t.type) {
            case (_, .error):
                ok = false
            case (.any, .bool), (.count, .bool):
                break
            case (.any, _), (.count, _):
                diagnostics.error(a.location, "'\(fname)' needs a condition for each related entity, found \(t.type.phrase)")
                ok = false
            case (_, .number):
                type = t.type
            default:
                diagnostics.error(a.location, "'\(fname)' needs a number for each related entity, found \(t.type.phrase)")
                ok = false
            }
        } else if function != .count {
            let example = function == .any ? "alerted(high)" : "a_feature"
            diagnostics.error(
                c.function.location,
                "'\(fname)' needs an expression for each related entity, as in \(fname)(\(relation.text), \(example))")
            ok = false
        }
        guard ok else { return .error }

        // What the nested expression reads counts for the reader: parameters, cost, depth, versions.
        for case .param(let name, let value) in nested.reads {
            usage.params.insert(name)
            usage.read(.param(name, value))
        }
        usage.paramSites.merge(nested.paramSites) { a, _ in a }
        let reached = reach(nested)
        usage.cost += nested.cost + reached.cost
        usage.featureDepth = max(usage.featureDepth, nested.featureDepth + (c.argument?.depth ?? 0))
        var texts = dependencyTexts(reached)
        if let d = relation.declared { texts.append(relations[d].canonicalText) }
        let spec = AggregateSpec(
            function: function, topic: edgeTopics.first ?? "", field: nil, fieldKind: nil, window: nil, offset: nil,
            filter: filterNode,
            relation: RelationAggregate(
                paths: relation.paths.map { $0.map(\.name) }, value: valueNode, valueAggregates: reached.aggregates.sorted(),
                alerted: nested.alerted, dependencyTexts: texts))
        let index = register(spec)
        usage.aggregates.insert(index)
        usage.cost += Checker.aggregateCost
        usage.readsRelations = true
        return Typed(node: .aggregate(index), type: function == .any ? .bool : type)
    }

    /// `alerted(WORD)`: whether one of the entity's own firings has severity at least WORD, or
    /// category WORD: for a related entity, its base rules'; for each enterprise in a peer condition
    /// (`share(alerted(utility))`), its final firings. Nowhere else: a rule cannot ask about the
    /// firings it is part of.
    func alerted(_ c: CallSyntax, _ scope: Scope) -> Typed {
        guard scope.context == .related || scope.context == .peer else {
            diagnostics.error(
                c.function.location,
                scope.kind == .industry
                    ? "'alerted(…)' asks about one enterprise's alerts; an industry rule counts them with share(alerted(…)) or members(alerted(…))"
                    : "'alerted' is only available for a related entity, as in any(legal_representative, alerted(high))")
            return .error
        }
        let word = c.path.segments[0]
        guard c.path.segments.count == 1, c.window == nil, c.offset == nil, c.filter == nil, c.argument == nil else {
            diagnostics.error(c.function.location, "'alerted' takes one word, a severity or a category, as in alerted(high)")
            return .error
        }
        guard let criterion = AlertedCriterion(word: word.name) else {
            diagnostics.error(word.location, Checker.unknownChoice("severity or category", word.name, AlertedCriterion.words))
            return .error
        }
        if !usage.alerted.contains(criterion) { usage.alerted.append(criterion) }
        return Typed(node: .alerted(criterion), type: .bool)
    }

    /// `{feature:who}`: the related entities behind a feature that is a relation aggregate.
    func whoSegment(_ name: String, kind: RuleKind, at: SourceLocation) -> Template.Segment? {
        guard let i = featureIndex[name], features[i].kind == kind.featureKind else {
            diagnostics.error(
                at,
                Suggest.message(
                    "unknown feature '\(name)' in '{\(name):who}'", name,
                    among: features.filter { $0.kind == kind.featureKind }.map(\.name.name)))
            return nil
        }
        guard case .done(let c) = featureStates[i] else { return nil }
        guard case .aggregate(let a) = c.node, aggregates[a].relation != nil else {
            diagnostics.error(
                at, "'{\(name):who}' lists related entities, but feature '\(name)' is not a relation aggregate such as any(legal_representative, …)")
            return nil
        }
        return .who(feature: i, aggregate: a)
    }

    /// The index of an aggregate, registered on first use (each is computed once per evaluation).
    func register(_ spec: AggregateSpec) -> Int {
        if let i = aggregateIndex[spec] { return i }
        aggregates.append(spec)
        aggregateIndex[spec] = aggregates.count - 1
        return aggregates.count - 1
    }
}

extension RelationStep {
    /// The kind of entity the step starts at.
    var startsAt: TopicSchema.EntityKind { inverse ? relation.targetKind : relation.subjectKind }
}

extension TopicSchema.EntityKind {
    init(_ subject: SubjectKind) {
        switch subject {
        case .enterprise: self = .enterprise
        case .person: self = .person
        }
    }
}
