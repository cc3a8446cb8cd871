/// Evaluating peers: an enterprise's value of each peer measure (after its rules, so that
/// `alerted(…)` reads its final firings), and an industry's figures of them (`IndustryData.peers`).

extension EvaluationRun {
    /// How many members `{feature:members}` names before `等 N 家`.
    static let membersShown = 20
    /// An enterprise is cited by its registration record (`market.enterprise` is keyed by USCC).
    static func memberReference(_ uscc: String) -> String { "market.enterprise/\(uscc)" }

    /// The enterprise's value of each peer measure, by key, given its final firings: a condition 1
    /// or 0, a value its number; absent when unknown.
    func peerValues(firings: [Firing]) -> [String: Double] {
        guard !program.peerMeasures.isEmpty else { return [:] }
        finalFirings = firings
        var values: [String: Double] = [:]
        for (measure, node) in zip(program.peerMeasures, program.peerNodes) {
            switch (measure.kind, eval(node, nil)) {
            case (.condition, .bool(let holds)): values[measure.key] = holds ? 1 : 0
            case (.value, .number(let x)): values[measure.key] = x
            default: break
            }
        }
        return values
    }

    /// A division's figure: `share` = holding / population (the division's registered enterprises:
    /// one whose condition is unknown, e.g. without water arrears records, does not hold it;
    /// unknown for an empty division), `members` = holding, `percentile` by nearest rank (unknown
    /// when no value is known). Figures the engine did not give, or that do not add up, are unknown.
    func peerValue(_ f: PeerFigure) -> RuntimeValue {
        guard let figures = industry?.peers[f.key], figures.known >= 0, (0...figures.known).contains(figures.holding) else {
            return .unknown
        }
        switch f {
        case .share:
            guard let population = industry?.population, population > 0 else { return .unknown }
            return .number(min(1, Double(figures.holding) / Double(population)))
        case .members:
            return .number(Double(figures.holding))
        case .percentile(_, let p):
            return RuntimeValue(figures.percentile(p).map(Value.number))
        }
    }

    /// `{feature:members}`: the first members by USCC joined by `、`, then `等 N 家` when the
    /// condition holds for more; 未知 without figures.
    func membersText(_ key: String) -> String {
        guard let figures = industry?.peers[key] else { return Value.null.displayText }
        let shown = figures.members.sorted().prefix(Self.membersShown)
        var text = shown.joined(separator: "、")
        if figures.holding > shown.count { text += "等 \(figures.holding) 家" }
        return text
    }
}

extension EvaluationRun {
    /// `peer_rank`: the enterprise's percentile rank among its peers (`PeerRank.fraction`); unknown
    /// when its own value is unknown, when it has no peers, or when the engine gave no figures.
    /// `value`: the ranked feature's node (looked up when a firing's values name the rank).
    func rankValue(_ m: RankedMeasure, _ value: Node? = nil) -> RuntimeValue {
        guard let node = value ?? program.peerNode(m.measure.key), case .number = eval(node, nil),
            let fraction = entity?.ranks[m]?.fraction
        else { return .unknown }
        return .number(fraction)
    }
}

extension RuleProgram {
    /// What an enterprise's evaluation computes for the peer measure `key`.
    func peerNode(_ key: String) -> Node? {
        peerMeasures.firstIndex { $0.key == key }.map { peerNodes[$0] }
    }

    /// The first phase of an evaluation that ranks: the enterprise's values of the ranked measures
    /// (`rankedMeasures`) by key, absent when unknown. They read no ranks, so the engine records
    /// every evaluated enterprise's value in its groups before it ranks any of them.
    public func rankedValues(_ data: EntityData) -> [String: Double] {
        guard !rankedMeasures.isEmpty, data.kind == .enterprise else { return [:] }
        let run = EvaluationRun(data, program: self)
        var values: [String: Double] = [:]
        for key in Set(rankedMeasures.map(\.measure.key)) {
            if let node = peerNode(key), case .number(let x) = run.eval(node, nil) { values[key] = x }
        }
        return values
    }
}
