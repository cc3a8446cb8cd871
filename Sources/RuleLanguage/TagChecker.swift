/// Tags (`tag NAME "标题" when COND explain "…"`): declaring, checking and compiling them, and the
/// `tagged NAME` atom. Tags may read other tags (cycles are errors) and, unlike rules, the score and
/// grade of the first scorecard; a tag that does (directly or through another tag) is evaluated after
/// scoring, so no rule or scorecard may read it.
extension Checker {
    struct CheckedTag {
        let node: Node
        let explanation: Template
        /// What the condition and the explanation read directly.
        let uses: Usage
        let depth: Int
        var readsScore: Bool { uses.readsScore }
    }

    enum TagState {
        case unchecked, checking, done(CheckedTag), failed
    }

    /// Registers a tag; a duplicate name is reported and ignored.
    func declare(_ t: TagDecl) {
        if let first = tagIndex[t.name.name] {
            diagnostics.error(t.name.location, "duplicate tag '\(t.name.name)' (first declared at \(tags[first].name.location))")
            return
        }
        tagIndex[t.name.name] = tags.count
        tags.append(t)
        tagStates.append(.unchecked)
    }

    /// Checks a tag if not done yet; nil when it failed or is part of a cycle.
    @discardableResult
    func checkTag(_ i: Int, referencedAt: SourceLocation? = nil) -> CheckedTag? {
        switch tagStates[i] {
        case .done(let c): return c
        case .failed: return nil
        case .checking:
            if let at = referencedAt, let start = tagCheckingStack.firstIndex(of: i) {
                let chain = (tagCheckingStack[start...] + [i]).map { tags[$0].name.name }
                diagnostics.error(at, "cyclic tag definition: \(chain.joined(separator: " -> "))")
            }
            return nil
        case .unchecked:
            break
        }
        tagStates[i] = .checking
        tagCheckingStack.append(i)
        let saved = usage
        usage = Usage()
        let errorsBefore = errorCount
        let t = tags[i]
        let scope = Scope(kind: .enterprise, topic: nil, params: [:], paramOrder: [], context: .tag)
        let typed = check(t.condition, scope)
        if typed.type != .bool && typed.type != .error {
            diagnostics.error(t.condition.location, "'when' needs a condition, found \(typed.type.phrase)")
        }
        let explanation =
            t.explanation.map { Template(segments: resolveTemplate($0, kind: .enterprise, params: [:], paramOrder: [], context: .tag)) }
            ?? Template(segments: [.text(t.title)])
        let depth = usage.featureDepth + t.condition.depth
        if depth > limits.maxEvaluationDepth {
            diagnostics.error(
                t.condition.location,
                "condition is nested too deeply through features and tags (depth \(depth), the limit is \(limits.maxEvaluationDepth))")
        }
        let reached = reach(usage, costLimit: limits.maxRuleCost)
        let cost = usage.cost + reached.cost
        if cost > limits.maxRuleCost {
            diagnostics.error(
                t.name.location,
                "tag '\(t.name.name)' is too expensive to evaluate (\(costText(cost, reached)), the limit is \(limits.maxRuleCost))")
        }
        let checked = CheckedTag(node: typed.node, explanation: explanation, uses: usage, depth: depth)
        usage = saved
        tagCheckingStack.removeLast()
        // An error type without a new error: something it reads failed before (reported there).
        guard errorCount == errorsBefore, typed.type != .error else {
            tagStates[i] = .failed
            return nil
        }
        tagStates[i] = .done(checked)
        return checked
    }

    /// `tagged NAME`: true iff the entity has the tag. Only enterprise rules, scorecard items and
    /// overrides, and tags may use it; only tags may use a tag that reads the score.
    func tagged(_ n: Identifier, at: SourceLocation, _ scope: Scope) -> Typed {
        if scope.topic != nil {
            diagnostics.error(at, "'tagged' cannot be used inside 'where'")
            return .error
        }
        if scope.context == .peer {
            diagnostics.error(at, "'tagged' cannot be used here; \(Checker.peerArgumentPhrase(scope.peerFunction))")
            return .error
        }
        if scope.kind == .industry {
            diagnostics.error(at, "'tagged' is only available for enterprises: in rules, scorecards and tags")
            return .error
        }
        if scope.kind == .person {
            diagnostics.error(at, "person rules cannot read tags; tags are for enterprises")
            return .error
        }
        if scope.context == .feature {
            diagnostics.error(at, "a feature cannot read a tag; use 'tagged \(n.name)' in a rule, a scorecard or a tag")
            return .error
        }
        if scope.context == .related {
            diagnostics.error(at, "'tagged' cannot be used for a related entity; tags are for the enterprise evaluated")
            return .error
        }
        guard let i = tagIndex[n.name] else {
            diagnostics.error(n.location, Suggest.message("unknown tag '\(n.name)'", n.name, among: tags.map(\.name.name)))
            return .error
        }
        guard referenceWithinDepth(recurses: tagNeedsCheck(i), n.name, at: at), let c = checkTag(i, referencedAt: at) else {
            return .error
        }
        if c.readsScore, scope.context != .tag {
            diagnostics.error(
                at,
                "tag '\(n.name)' reads the score or grade, which are computed after rules and scorecards; only other tags can use it")
            return .error
        }
        usage.tags.insert(i)
        usage.read(.tag(i))
        usage.featureDepth = max(usage.featureDepth, c.depth)
        usage.readsScore = usage.readsScore || c.readsScore
        usage.readsRelations = usage.readsRelations || c.uses.readsRelations
        usage.readsRanks = usage.readsRanks || c.uses.readsRanks
        return Typed(node: .tagged(i), type: .bool)
    }

    /// Checks every tag that reaches no cycle of tags, each after the tags it reads, like
    /// `checkFeaturesInDependencyOrder` (run after the features, which tags may read).
    func checkTagsInDependencyOrder() {
        let reads = tags.map { t in Checker.references(in: t.condition).tags.compactMap { tagIndex[$0] } }
        for i in Checker.acyclicPostOrder(count: reads.count, edges: { reads[$0] }) { checkTag(i) }
    }

    /// Whether reading tag `i` checks it now (recursively): not when it is checked already or
    /// being checked (a cycle, reported as such).
    private func tagNeedsCheck(_ i: Int) -> Bool {
        if case .unchecked = tagStates[i] { return true }
        return false
    }

    /// `entity`, `score` or `grade` read at `at`: `entity` in any enterprise expression, `score` and
    /// `grade` only in tags of a rule set with a scorecard. Records a score read in `usage`.
    func useEntityBuiltin(
        _ b: EntityBuiltin, at: SourceLocation, kind: RuleKind, context: Scope.Context, peerFunction: String = ""
    ) -> Bool {
        guard b.needsScore else {
            guard kind != .industry else {
                diagnostics.error(at, "'entity' is only available in enterprise rules, features, scorecards and tags")
                return false
            }
            return true
        }
        if context == .peer {
            diagnostics.error(at, "'\(b.rawValue)' cannot be used here; \(Checker.peerArgumentPhrase(peerFunction))")
            return false
        }
        guard kind == .enterprise, context == .tag else {
            diagnostics.error(at, "'\(b.rawValue)' is only available in tags, which are evaluated after scoring")
            return false
        }
        guard hasScorecard else {
            diagnostics.error(at, "'\(b.rawValue)' needs a scorecard in the rule set")
            return false
        }
        usage.readsScore = true
        return true
    }

    /// The checked tags, compiled in declaration order (all of them: the program is built only when
    /// every tag checked). `scorecardVersion` is the first scorecard's, which score-reading tags hash.
    func compiledTags(scorecardVersion: String?) -> [CompiledTag] {
        tags.indices.compactMap { i -> CompiledTag? in
            guard case .done(let c) = tagStates[i] else { return nil }
            let r = reach(c.uses)
            var version = ContentHash()
            version.addField(tags[i].canonicalText)
            for text in dependencyTexts(r) { version.addField(text) }
            if c.readsScore, let scorecardVersion { version.addField(scorecardVersion) }
            return CompiledTag(
                name: tags[i].name.name, title: tags[i].title, version: version.hex, readsScore: c.readsScore,
                location: tags[i].name.location, condition: c.node, explanation: c.explanation, reads: c.uses.reads,
                sourceAggregates: r.aggregates.sorted())
        }
    }
}
