/// Scoring an enterprise on a scorecard. Pure, total and deterministic like rule evaluation, and
/// bounded by the same limits (every item and override is checked against `maxRuleCost`, a
/// scorecard has at most `maxScorecardItems` of them).

extension RuleProgram {
    /// The enterprise's score on the first scorecard; nil when the rule set has no scorecard.
    ///
    /// How the score is computed, in whole points:
    /// 1. Per dimension, the **raw** points are the sum of
    ///    - each item whose `when` holds: its fixed points, or its `points = …` expression rounded to
    ///      the nearest whole point (halves away from zero) and bounded to ±100000;
    ///    - each enterprise rule that fires and whose `score … in dimension` names the dimension: its
    ///      score points (the rule's condition is the single source of truth for those points).
    ///
    ///    An item whose condition or points are unknown (missing data) contributes 0 and is listed in
    ///    `ScoreResult.unassessed`; a rule whose condition is unknown does not fire and contributes 0,
    ///    as it raises no alert.
    /// 2. **weighted** = raw × the dimension's weight, rounded like item points (= raw at weight 1).
    /// 3. The dimension's **points** = weighted clamped to its cap (`cap 250` = -250…250).
    /// 4. The total = base + the dimensions' points, clamped to the scorecard's range.
    /// 5. Overrides whose condition holds: the highest `floor` raises the score to its grade's
    ///    threshold, then the most severe `cap` lowers it to one below the next better grade's
    ///    threshold (ties: the first declared). Caps win over floors.
    /// 6. The grade is the band of the final score.
    ///
    /// Every step that changes the points adds a line to `ScoreResult.lines` (items, rules, `weight`,
    /// `cap`, `range`, `override`), so the lines add up exactly to `score - base`.
    /// Scorecards rate enterprises: nil for a person.
    public func score(_ entity: EntityData) -> ScoreResult? {
        guard let card = scorecards.first, entity.kind == .enterprise else { return nil }
        return EvaluationRun(entity, program: self).score(card, entity: entity.entity)
    }

    /// The enterprise's score on the named scorecard; nil when the set has no such scorecard (or for a person).
    public func score(_ entity: EntityData, scorecard name: String) -> ScoreResult? {
        guard let card = scorecards.first(where: { $0.name == name }), entity.kind == .enterprise else { return nil }
        return EvaluationRun(entity, program: self).score(card, entity: entity.entity)
    }

    /// `evaluate(_:)` and `score(_:)` in one pass: each feature and aggregate is computed once.
    /// The tags that read `score` or `grade` are assigned here only: after scoring.
    public func evaluateAndScore(
        _ entity: EntityData, features shown: FeatureValues = .all
    ) -> (evaluation: EntityEvaluation, score: ScoreResult?) {
        let run = EvaluationRun(entity, program: self)
        run.scoreResult = entity.kind == .enterprise ? scorecards.first.map { run.score($0, entity: entity.entity) } : nil
        return (evaluate(entity, run: run, features: shown), run.scoreResult)
    }
}

extension EvaluationRun {
    /// The bound on one item's points (as on a rule's `score` clause).
    static let maxItemPoints = 100_000

    /// A number of points as a whole number: rounded to nearest (halves away from zero), bounded.
    static func wholePoints(_ x: Double, limit: Int) -> Int {
        let bounded = Swift.min(Swift.max(x.rounded(.toNearestOrAwayFromZero), -Double(limit)), Double(limit))
        return Int(bounded)
    }

    private enum Assessment {
        case points(Int)
        case notApplicable
        case unknown
    }

    private func assess(_ item: CompiledItem) -> Assessment {
        if let condition = item.condition {
            switch Truth(eval(condition, nil)) {
            case .no: return .notApplicable
            case .unknown: return .unknown
            case .yes: break
            }
        }
        switch item.points {
        case .fixed(let p):
            return .points(p)
        case .graded(let node):
            guard case .number(let x) = eval(node, nil) else { return .unknown }
            return .points(Self.wholePoints(x, limit: Self.maxItemPoints))
        }
    }

    func score(_ card: Scorecard, entity: String) -> ScoreResult {
        var lines: [ScoreLine] = []
        var unassessed: [UnassessedItem] = []
        var dimensions: [DimensionScore] = []
        var total = card.base

        for d in card.compiledDimensions {
            var raw = 0
            for item in d.items {
                switch assess(item) {
                case .points(let p) where p != 0:
                    raw += p
                    lines.append(
                        ScoreLine(
                            kind: .item, dimension: d.name, name: item.name, text: render(item.text), points: p,
                            values: values(item.reads), sources: sources(item.sourceAggregates)))
                case .unknown:
                    unassessed.append(
                        UnassessedItem(dimension: d.name, name: item.name, text: render(item.text), values: values(item.reads)))
                case .points, .notApplicable:
                    break
                }
            }
            for r in d.rules {
                let rule = program.rules[r]
                guard let effect = rule.score, case .fired(let firing) = outcome(rule) else { continue }
                raw += effect.points
                lines.append(
                    ScoreLine(
                        kind: .rule, dimension: d.name, name: rule.name, text: "\(rule.title)：\(firing.explanation)",
                        points: effect.points, values: firing.values, sources: firing.sources, ruleVersion: rule.version))
            }
            let weighted = d.weight == 1 ? raw : Self.wholePoints(Double(raw) * d.weight, limit: Int.max / 4)
            if weighted != raw {
                let percent = Value.numberText(d.weight * 100) + "%"
                lines.append(
                    ScoreLine(
                        kind: .weight, dimension: d.name, name: d.name,
                        text: "\(d.title)维度权重 \(percent)：\(raw) 分计为 \(weighted) 分", points: weighted - raw))
            }
            let points = Swift.min(Swift.max(weighted, d.minPoints), d.maxPoints)
            if points != weighted {
                let bound = points > weighted ? "低于下限" : "超过上限"
                lines.append(
                    ScoreLine(
                        kind: .cap, dimension: d.name, name: d.name,
                        text: "\(d.title)维度得分 \(weighted) 分，\(bound) \(points) 分，按 \(points) 分计", points: points - weighted))
            }
            dimensions.append(DimensionScore(name: d.name, title: d.title, raw: raw, weighted: weighted, points: points))
            total += points
        }

        var score = Swift.min(Swift.max(total, card.range.lowerBound), card.range.upperBound)
        if score != total {
            lines.append(
                ScoreLine(
                    kind: .range, dimension: nil, name: "range",
                    text: "总分 \(total) 分超出评分范围 \(card.range.lowerBound)–\(card.range.upperBound) 分，按 \(score) 分计",
                    points: score - total))
        }

        // Overrides: the highest floor, then the most severe cap (first declared on ties).
        var held: [CompiledOverride] = []
        for o in card.overrides {
            switch Truth(eval(o.condition, nil)) {
            case .yes: held.append(o)
            case .unknown:
                unassessed.append(UnassessedItem(dimension: nil, name: o.name, text: render(o.text), values: values(o.reads)))
            case .no: break
            }
        }
        var adjustments: [String: Int] = [:]
        let floor = held.filter { $0.kind == .floor }.min { $0.grade < $1.grade }
        if let floor {
            let target = card.lowestScore(ofGrade: floor.grade)
            if score < target {
                adjustments[floor.name] = target - score
                score = target
            }
        }
        let cap = held.filter { $0.kind == .cap }.max { $0.grade < $1.grade }
        if let cap {
            let target = card.highestScore(ofGrade: cap.grade)
            if score > target {
                adjustments[cap.name] = target - score
                score = target
            }
        }
        var overrides: [ScoreOverride] = []
        for o in held {
            let applied = ScoreOverride(
                name: o.name, kind: o.kind, grade: card.grades[o.grade].name, text: render(o.text),
                points: adjustments[o.name] ?? 0, values: values(o.reads), sources: sources(o.sourceAggregates))
            overrides.append(applied)
        }
        // The bounding override: the applied cap, else the applied floor, else the most severe cap
        // that held, else the highest floor that held.
        let bounding = [cap, floor].compactMap { $0 }.first { adjustments[$0.name] != nil } ?? cap ?? floor
        let appliedOverride = bounding.flatMap { b in overrides.first { $0.name == b.name } }
        for kind in [ScoreOverride.Kind.floor, .cap] {
            for o in overrides where o.kind == kind && o.points != 0 {
                lines.append(
                    ScoreLine(
                        kind: .override, dimension: nil, name: o.name, text: o.text, points: o.points, values: o.values,
                        sources: o.sources))
            }
        }

        return ScoreResult(
            scorecard: card.name, scorecardVersion: card.version, ruleSetVersion: program.version, entity: entity, asOf: asOf,
            base: card.base, score: score, grade: card.grade(of: score), dimensions: dimensions, overrides: overrides,
            lines: lines, unassessed: unassessed, appliedOverride: appliedOverride)
    }
}
