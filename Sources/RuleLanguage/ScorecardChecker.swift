/// Checking scorecards: structure (base, range, caps, weights, grade bands), names, and the items'
/// and overrides' expressions, type-checked like rule conditions.

/// A scorecard that passed the checker, before it is linked to the compiled rules.
struct CheckedScorecard {
    struct Dimension {
        let name: String
        let title: String
        let weight: Double
        let minPoints: Int
        let maxPoints: Int
        let items: [CompiledItem]
    }

    let name: Identifier
    let title: String
    let canonicalText: String
    let base: Int
    let range: ClosedRange<Int>
    let dimensions: [Dimension]
    let overrides: [CompiledOverride]
    let grades: [Scorecard.GradeBand]
    /// The canonical texts of what the items and overrides read, transitively (for the version).
    let dependencyTexts: [String]
}

extension Checker {
    /// Checks one scorecard declaration; nil when it has errors (already reported).
    func checkScorecard(_ s: ScorecardDecl) -> CheckedScorecard? {
        let errorsBefore = errorCount
        let cardName = s.name.name

        // Single-valued fields; dimensions and overrides repeat.
        var single: [String: ScorecardField] = [:]
        var dimensionDecls: [DimensionDecl] = []
        var overrideDecls: [OverrideDecl] = []
        var brokenDimensions = false
        for f in s.fields {
            switch f.value {
            case .dimension(let d):
                dimensionDecls.append(d)
            case .override(let o):
                overrideDecls.append(o)
            default:
                if f.keyword.name == "dimension" {
                    brokenDimensions = true
                    continue
                }
                if f.keyword.name == "override" { continue }
                if single[f.keyword.name] != nil {
                    diagnostics.error(f.keyword.location, "'\(f.keyword.name)' is given twice in scorecard '\(cardName)'")
                    continue
                }
                single[f.keyword.name] = f
            }
        }
        for required in ["base", "range", "grades"] where single[required] == nil {
            diagnostics.error(s.name.location, "scorecard '\(cardName)' is missing '\(required)'")
        }
        if dimensionDecls.isEmpty, !brokenDimensions {
            diagnostics.error(s.name.location, "scorecard '\(cardName)' has no dimensions")
        }

        // Range and base.
        var range = 0...1000
        if case .range(let low, let high)? = single["range"]?.value {
            if low.value < high.value {
                range = low.value...high.value
            } else {
                diagnostics.error(low.location, "the score range must go from low to high, found \(low.value)..\(high.value)")
            }
        }
        var base = 0
        if case .base(let b)? = single["base"]?.value {
            base = b.value
            if !range.contains(b.value) {
                diagnostics.error(b.location, "base \(b.value) is outside the score range \(range.lowerBound)..\(range.upperBound)")
            }
        }

        // Grade bands.
        var grades: [Scorecard.GradeBand] = []
        if case .grades(let bands)? = single["grades"]?.value {
            grades = checkGrades(bands, range: range, keyword: single["grades"]!.keyword, card: cardName)
        }
        let gradeNames = grades.map(\.name)
        let gradeIndex = Dictionary(gradeNames.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })

        // Items and overrides share one namespace per scorecard.
        var itemNames: [String: SourceLocation] = [:]
        func declareItem(_ n: Identifier, _ what: String) -> Bool {
            if let first = itemNames[n.name] {
                diagnostics.error(n.location, "duplicate \(what) '\(n.name)' in scorecard '\(cardName)' (first declared at \(first))")
                return false
            }
            itemNames[n.name] = n.location
            return true
        }

        var dependencies = Reach()
        var dimensions: [CheckedScorecard.Dimension] = []
        var dimensionNames: [String: SourceLocation] = [:]
        var itemCount = 0
        for d in dimensionDecls {
            if let first = dimensionNames[d.name.name] {
                diagnostics.error(d.name.location, "duplicate dimension '\(d.name.name)' (first declared at \(first))")
                continue
            }
            dimensionNames[d.name.name] = d.name.location
            var weight = 1.0
            var cap: (low: Int, high: Int)?
            var seen: [String: Bool] = [:]
            var items: [CompiledItem] = []
            for f in d.fields {
                if f.keyword.name != "item" {
                    if seen[f.keyword.name] != nil {
                        diagnostics.error(f.keyword.location, "'\(f.keyword.name)' is given twice in dimension '\(d.name.name)'")
                        continue
                    }
                    seen[f.keyword.name] = true
                }
                switch f.value {
                case .weight(let w, let at):
                    if w > 0, w <= 100 {
                        weight = w
                    } else {
                        diagnostics.error(at, "a dimension's weight must be above 0 and at most 100, found \(Value.numberText(w))")
                    }
                case .cap(let low, let high, let symmetric):
                    cap = checkCap(low: low, high: high, symmetric: symmetric)
                case .item(let item):
                    itemCount += 1
                    guard declareItem(item.name, "item") else { continue }
                    if let compiled = checkItem(item, dependencies: &dependencies, within: itemCount <= limits.maxScorecardItems) {
                        items.append(compiled)
                    }
                case .broken:
                    if f.keyword.name == "cap" { cap = (0, 0) }
                }
            }
            if seen["cap"] == nil {
                diagnostics.error(d.name.location, "dimension '\(d.name.name)' is missing 'cap'")
            }
            dimensions.append(
                CheckedScorecard.Dimension(
                    name: d.name.name, title: d.title, weight: weight, minPoints: cap?.low ?? 0, maxPoints: cap?.high ?? 0,
                    items: items))
        }

        var overrides: [CompiledOverride] = []
        for o in overrideDecls {
            itemCount += 1
            guard declareItem(o.name, "override") else { continue }
            let grade = gradeIndex[o.grade.name]
            if grade == nil, !grades.isEmpty {
                diagnostics.error(o.grade.location, Checker.unknownChoice("grade", o.grade.name, gradeNames))
            }
            let checked = checkScorecardExpressions(condition: o.condition, points: nil, owner: "override '\(o.name.name)'", at: o.name.location)
            let text = Template(segments: resolveTemplate(o.text, kind: .enterprise, params: [:], paramOrder: [], context: .scorecard))
            guard let checked else { continue }
            // Past the item limit the scorecard fails: its dependencies (for the version) are not needed.
            if itemCount <= limits.maxScorecardItems { dependencies.formUnion(checked.reach) }
            if let grade, let condition = checked.condition {
                overrides.append(
                    CompiledOverride(
                        name: o.name.name, kind: o.kind == .cap ? .cap : .floor, grade: grade, text: text, condition: condition,
                        reads: checked.reads, sourceAggregates: checked.aggregates))
            }
        }
        if itemCount > limits.maxScorecardItems {
            diagnostics.error(
                s.name.location,
                "scorecard '\(cardName)' has too many items and overrides (\(itemCount), the limit is \(limits.maxScorecardItems))")
        }

        guard errorCount == errorsBefore else { return nil }
        return CheckedScorecard(
            name: s.name, title: s.title ?? cardName, canonicalText: s.canonicalText, base: base, range: range,
            dimensions: dimensions, overrides: overrides, grades: grades, dependencyTexts: dependencyTexts(dependencies))
    }

    var errorCount: Int { diagnostics.items.filter { $0.severity == .error }.count + diagnostics.dropped }

    /// `cap 250` is -250..250; `cap -200..150` is as written. The range must contain 0.
    private func checkCap(low: IntegerLiteral, high: IntegerLiteral, symmetric: Bool) -> (low: Int, high: Int)? {
        if symmetric {
            guard high.value > 0 else {
                diagnostics.error(high.location, "a dimension's cap must be positive, found \(high.value)")
                return nil
            }
        } else if !(low.value <= 0 && 0 <= high.value && low.value < high.value) {
            diagnostics.error(
                low.location,
                "a dimension's cap must go from a negative number or 0 to a positive number or 0, found \(low.value)..\(high.value)")
            return nil
        }
        return (low.value, high.value)
    }

    private func checkGrades(
        _ bands: [GradeBandDecl], range: ClosedRange<Int>, keyword: Identifier, card: String
    ) -> [Scorecard.GradeBand] {
        guard !bands.isEmpty else {
            diagnostics.error(keyword.location, "'grades' needs at least one band, e.g. grades { A >= 700, B }")
            return []
        }
        var names: [String: SourceLocation] = [:]
        var previous: (name: String, threshold: Int)?
        for (i, b) in bands.enumerated() {
            if let first = names[b.name.name] {
                diagnostics.error(b.name.location, "duplicate grade '\(b.name.name)' (first declared at \(first))")
            }
            names[b.name.name] = names[b.name.name] ?? b.name.location
            let isLast = i == bands.count - 1
            guard let t = b.threshold else {
                if !isLast {
                    diagnostics.error(
                        b.name.location,
                        "grade '\(b.name.name)' needs a threshold like '\(b.name.name) >= 500'; only the last grade has none")
                }
                continue
            }
            if isLast {
                diagnostics.error(
                    t.location,
                    "the last grade '\(b.name.name)' takes every lower score and has no threshold; write '\(b.name.name)' alone")
                continue
            }
            if t.value <= range.lowerBound || t.value > range.upperBound {
                diagnostics.error(
                    t.location,
                    "grade threshold \(t.value) must be above \(range.lowerBound) and at most \(range.upperBound) (the score range)")
            } else if let p = previous, t.value >= p.threshold {
                diagnostics.error(
                    t.location,
                    "grades must be in descending order: '\(b.name.name) >= \(t.value)' is not below '\(p.name) >= \(p.threshold)'")
            }
            previous = (b.name.name, t.value)
        }
        return bands.map { Scorecard.GradeBand(name: $0.name.name, threshold: $0.threshold?.value) }
    }

    /// Adds what the item reaches to `dependencies` when `within` the scorecard's item limit.
    private func checkItem(_ item: ItemDecl, dependencies: inout Reach, within: Bool) -> CompiledItem? {
        var pointsExpression: Expression?
        if case .graded(let e) = item.points { pointsExpression = e }
        let checked = checkScorecardExpressions(
            condition: item.condition, points: pointsExpression, owner: "item '\(item.name.name)'", at: item.name.location)
        let text = Template(segments: resolveTemplate(item.text, kind: .enterprise, params: [:], paramOrder: [], context: .scorecard))
        guard let checked else { return nil }
        if within { dependencies.formUnion(checked.reach) }
        let points: CompiledItem.Points
        switch item.points {
        case .fixed(let p): points = .fixed(p.value)
        case .graded: points = .graded(checked.points ?? .constant(.unknown))
        }
        return CompiledItem(
            name: item.name.name, text: text, points: points, condition: checked.condition, reads: checked.reads,
            sourceAggregates: checked.aggregates)
    }

    private struct CheckedExpressions {
        let condition: Node?
        let points: Node?
        let reads: [Read]
        /// Aggregates read directly or through features: the sources of a contribution.
        let aggregates: [Int]
        let reach: Reach
    }

    /// Type-checks an item's or override's condition (a condition, like a rule's `when`) and points
    /// (a number), and enforces the per-rule depth and cost limits on them together.
    private func checkScorecardExpressions(
        condition: Expression?, points: Expression?, owner: String, at name: SourceLocation
    ) -> CheckedExpressions? {
        let errorsBefore = errorCount
        let scope = Scope(kind: .enterprise, topic: nil, params: [:], paramOrder: [], context: .scorecard)
        usage = Usage()
        var conditionNode: Node?
        var pointsNode: Node?
        var deepest = 0
        var at: SourceLocation?
        if let e = condition {
            at = e.location
            let t = check(e, scope)
            if t.type != .bool && t.type != .error {
                diagnostics.error(e.location, "'when' needs a condition, found \(t.type.phrase)")
            }
            conditionNode = t.node
            deepest = max(deepest, usage.featureDepth + e.depth)
        }
        if let e = points {
            at = at ?? e.location
            let t = check(e, scope)
            if !t.type.isNumber && t.type != .error {
                diagnostics.error(e.location, "'points' needs a number, found \(t.type.phrase)")
            }
            pointsNode = t.node
            deepest = max(deepest, usage.featureDepth + e.depth)
        }
        let reached = reach(usage, costLimit: limits.maxRuleCost)
        if let at {
            if deepest > limits.maxEvaluationDepth {
                diagnostics.error(
                    at, "\(owner) is nested too deeply through features (depth \(deepest), the limit is \(limits.maxEvaluationDepth))")
            }
            let cost = usage.cost + reached.cost
            if cost > limits.maxRuleCost {
                diagnostics.error(
                    name, "\(owner) is too expensive to evaluate (\(costText(cost, reached)), the limit is \(limits.maxRuleCost))")
            }
        }
        guard errorCount == errorsBefore else { return nil }
        return CheckedExpressions(
            condition: conditionNode, points: pointsNode, reads: usage.reads, aggregates: reached.aggregates.sorted(),
            reach: reached)
    }
}
