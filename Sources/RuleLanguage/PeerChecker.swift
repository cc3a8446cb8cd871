/// Peers (issue 11): `share(COND)`, `members(COND)` and `percentile(FEATURE, P)`, industry figures
/// over a division's enterprises. COND and FEATURE are checked as an enterprise's own expression
/// (`Scope.Context.peer`) and registered as a peer measure: each enterprise's evaluation gives its
/// value (`EntityEvaluation.peers`), the engine gathers them per division (`IndustryData.peers`),
/// and the industry expression reads the division's figures. COND may read enterprise features
/// (relation features too), parameters, `as_of`, `entity`, lists and `alerted(…)` (the enterprise's
/// own final firings); not industry figures, tags or the score.
extension Checker {
    struct CheckedPeerMeasure {
        let measure: PeerMeasure
        /// What an enterprise's evaluation computes: the condition, or the feature.
        let node: Node
        /// The texts of what the measure reads for each enterprise: what the version of an
        /// expression reading the measure hashes besides.
        let dependencyTexts: [String]
    }

    /// What the argument of a peer function may read, for diagnostics.
    static func peerArgumentPhrase(_ function: String) -> String {
        function == "percentile" || function == "peer_rank"
            ? "'\(function)' reads an enterprise feature of each enterprise"
            : "the condition of '\(function)' reads each enterprise's features, parameters and alerted(…)"
    }

    func peer(_ c: PeerCallSyntax, _ scope: Scope) -> Typed {
        let fname = c.function.name
        if fname == "peer_rank" { return rank(c, scope) }
        if scope.context == .peer {
            diagnostics.error(c.function.location, "'\(fname)' cannot be used inside '\(scope.peerFunction)'; they do not nest")
            return .error
        }
        if scope.topic != nil {
            diagnostics.error(c.function.location, "'\(fname)' cannot be used inside 'where'")
            return .error
        }
        guard scope.kind == .industry else {
            diagnostics.error(c.function.location, "'\(fname)' is only available in industry rules and industry features")
            return .error
        }
        // The argument is an enterprise's own expression, with the reader's parameters.
        let saved = usage
        usage = Usage()
        let inner = Scope(
            kind: .enterprise, topic: nil, params: scope.params, paramOrder: scope.paramOrder, context: .peer, peerFunction: fname)
        let argument = check(c.argument, inner)
        let nested = usage
        usage = saved
        for case .param(let name, let value) in nested.reads {
            usage.params.insert(name)
            usage.read(.param(name, value))
        }
        guard argument.type != .error else {
            if let p = c.percentile { _ = check(p, scope) }  // its own errors too
            return .error
        }

        let figure: PeerFigure
        let kind: PeerMeasure.Kind
        let type: StaticType
        if let p = c.percentile {
            guard case .name(let n) = c.argument.kind, case .feature = argument.node else {
                diagnostics.error(
                    c.argument.location, "'percentile' needs the name of an enterprise feature, as in percentile(tax_paid_12mo, 95%)")
                return .error
            }
            guard argument.type.isNumber else {
                diagnostics.error(
                    c.argument.location, "'percentile' needs an enterprise feature that is a number; '\(n)' is \(argument.type.phrase)")
                return .error
            }
            guard let fraction = percentile(p, scope) else { return .error }
            kind = .value
            type = argument.type
            figure = .percentile(n, fraction)
        } else {
            guard argument.type == .bool else {
                diagnostics.error(c.argument.location, "'\(fname)' needs a condition for each enterprise, found \(argument.type.phrase)")
                return .error
            }
            let key = Checker.peerKey(c.argumentTokens, parameters: nested.paramSites)
            kind = .condition
            type = fname == "share" ? .number(.scalar) : .number(.count)
            figure = fname == "share" ? .share(key) : .members(key)
            usage.peerMembers.insert(key)
        }
        guard register(figure.key, kind: kind, node: argument.node, nested: nested, argument: c.argument) else { return .error }
        usage.peers.insert(figure.key)
        usage.read(.peer(figure))
        return Typed(node: .peer(figure), type: type)
    }

    /// `peer_rank(FEATURE [, district])`: where the enterprise stands among its division's (or its
    /// division-in-district's) enterprises by FEATURE, a fraction (`PeerRank.fraction`). FEATURE is
    /// registered as a value measure; the engine records every evaluated enterprise's value of it
    /// before ranking any, so FEATURE may read neither ranks nor related entities (a related
    /// entity's evaluation has no ranks).
    private func rank(_ c: PeerCallSyntax, _ scope: Scope) -> Typed {
        let at = c.function.location
        if scope.topic != nil {
            diagnostics.error(at, "'peer_rank' cannot be used inside 'where'")
            return .error
        }
        guard scope.kind == .enterprise, scope.subject != .person else {
            diagnostics.error(
                at,
                scope.kind == .industry
                    ? "'peer_rank' places an enterprise among its peers; only enterprise rules and features can use it (industry rules have percentile)"
                    : "'peer_rank' places an enterprise among its peers; person rules cannot use it")
            return .error
        }
        if scope.context == .related {
            diagnostics.error(at, "'peer_rank' cannot be used for a related entity: related entities are not ranked")
            return .error
        }
        var group = PeerGroup.division
        if let g = c.group {
            guard let named = PeerGroup(rawValue: g.name) else {
                diagnostics.error(
                    g.location,
                    Suggest.message("unknown group '\(g.name)' to rank in", g.name, among: PeerGroup.allCases.map(\.rawValue)))
                return .error
            }
            group = named
        }
        let saved = usage
        usage = Usage()
        let inner = Scope(
            kind: .enterprise, topic: nil, params: scope.params, paramOrder: scope.paramOrder, context: .peer, peerFunction: "peer_rank")
        let argument = check(c.argument, inner)
        let nested = usage
        usage = saved
        guard argument.type != .error else { return .error }
        guard case .name(let n) = c.argument.kind, case .feature = argument.node else {
            diagnostics.error(
                c.argumentTokens.first?.location ?? c.argument.location,
                "'peer_rank' needs the name of an enterprise feature, as in peer_rank(tax_drop_ratio_yoy)")
            return .error
        }
        guard argument.type.isNumber else {
            diagnostics.error(c.argument.location, "'peer_rank' needs an enterprise feature that is a number; '\(n)' is \(argument.type.phrase)")
            return .error
        }
        if nested.readsRelations {
            diagnostics.error(
                c.argument.location, "'peer_rank' ranks a feature of the enterprise's own records; '\(n)' reads related entities")
            return .error
        }
        if nested.readsRanks {
            diagnostics.error(c.argument.location, "'\(n)' reads peer_rank; peer ranks do not nest")
            return .error
        }
        guard register(n, kind: .value, node: argument.node, nested: nested, argument: c.argument) else { return .error }
        let measure = RankedMeasure(measure: PeerMeasure(key: n, kind: .value), group: group)
        rankedMeasures.insert(measure)
        usage.peers.insert(n)
        usage.readsRanks = true
        usage.read(.rank(measure))
        return Typed(node: .rank(measure, argument.node), type: .number(.scalar))
    }

    /// `percentile`'s P: a percentage literal or a parameter, 0% to 100%; the fraction, or nil (reported).
    private func percentile(_ p: Expression, _ scope: Scope) -> Double? {
        let t = check(p, scope)
        guard t.type != .error else { return nil }
        let isLiteralOrParameter: Bool
        switch p.kind {
        case .number: isLiteralOrParameter = true
        case .name(let n): isLiteralOrParameter = scope.params[n] != nil
        default: isLiteralOrParameter = false
        }
        guard isLiteralOrParameter, case .constant(.number(let v)) = t.node else {
            diagnostics.error(p.location, "the percentile must be a percentage like 95% or a rule parameter")
            return nil
        }
        guard (0...1).contains(v) else {
            diagnostics.error(p.location, "the percentile must be from 0% to 100%, found \(Value.numberText(v * 100))%")
            return nil
        }
        return v
    }

    /// Registers a measure on first use. Its argument is evaluated for every enterprise, so it is
    /// bounded like a rule's condition. False when it is not (reported).
    private func register(_ key: String, kind: PeerMeasure.Kind, node: Node, nested: Usage, argument: Expression) -> Bool {
        let depth = nested.featureDepth + argument.depth
        if depth > limits.maxEvaluationDepth {
            diagnostics.error(
                argument.location,
                "'\(key)' is nested too deeply through features (depth \(depth), the limit is \(limits.maxEvaluationDepth))")
            return false
        }
        let reached = reach(nested, costLimit: limits.maxRuleCost)
        let cost = nested.cost + reached.cost
        if cost > limits.maxRuleCost {
            diagnostics.error(
                argument.location,
                "'\(key)' is too expensive to evaluate for each enterprise (\(costText(cost, reached)), the limit is \(limits.maxRuleCost))")
            return false
        }
        if peerMeasures[key] == nil {
            peerMeasures[key] = CheckedPeerMeasure(
                measure: PeerMeasure(key: key, kind: kind), node: node, dependencyTexts: dependencyTexts(reached))
        }
        return true
    }

    /// A condition's key: its tokens joined by single spaces, each parameter written as its
    /// effective value (`water_months_overdue >= 3`), so that rules whose parameters differ (or a
    /// city's override) read different measures.
    static func peerKey(_ tokens: [WrittenToken], parameters: [SourceLocation: Double]) -> String {
        tokens.map { t in parameters[t.location].map(keyNumber) ?? t.text }.joined(separator: " ")
    }

    /// A number exactly as a key writes it: whole numbers without decimals, others in their
    /// shortest exact form.
    static func keyNumber(_ x: Double) -> String {
        if x.rounded() == x, abs(x) < 1e15 { return String(Int64(x)) }
        return String(describing: x)
    }

    /// `{feature:members}`: the enterprises behind an industry feature that is `share(…)` or
    /// `members(…)`. Only industry rules have them.
    func membersSegment(_ name: String, kind: RuleKind, at: SourceLocation) -> Template.Segment? {
        guard kind == .industry else {
            diagnostics.error(at, "'{\(name):members}' lists a division's enterprises; only industry rules can use it")
            return nil
        }
        guard let i = featureIndex[name], features[i].kind == .industry else {
            diagnostics.error(
                at,
                Suggest.message(
                    "unknown industry feature '\(name)' in '{\(name):members}'", name,
                    among: features.filter { $0.kind == .industry }.map(\.name.name)))
            return nil
        }
        guard case .done(let c) = featureStates[i] else { return nil }
        switch c.node {
        case .peer(.share(let key)), .peer(.members(let key)):
            return .members(key)
        default:
            diagnostics.error(
                at, "'{\(name):members}' lists the enterprises a condition holds for, but feature '\(name)' is not share(…) or members(…)")
            return nil
        }
    }
}
