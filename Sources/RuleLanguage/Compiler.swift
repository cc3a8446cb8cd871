/// The rule-language compiler: source files → lexer → parser → checker → immutable `RuleProgram`.
public enum RuleCompiler {
    /// Bounds that keep compilation and evaluation small and predictable whatever a rule file says.
    public struct Limits: Sendable, Hashable {
        /// Diagnostics reported at most (then one "too many errors" note).
        public var maxDiagnostics = 50
        /// Height of one expression tree.
        public var maxExpressionDepth = 64
        /// Height of an expression including the features it reads, transitively.
        public var maxEvaluationDepth = 256
        /// Rules in a rule set.
        public var maxRules = 1000
        /// UTF-8 bytes of one source file.
        public var maxSourceBytes = 1 << 20
        /// Estimated evaluation cost of one rule: one per expression node, 20 per aggregate scan,
        /// including the features it reads.
        public var maxRuleCost = 10_000
        /// Steps of a relation path (`legal_representative.represents` has 2).
        public var maxRelationDepth = 3
        /// Longest window or offset.
        public var maxWindowDays = 3660
        public var maxWindowMonths = 120
        /// Items and overrides of one scorecard (each is also bounded by `maxRuleCost`).
        public var maxScorecardItems = 1000

        public init() {}
    }

    /// Where diagnostics about parameter overrides point (they belong to no file).
    public static let overridesPath = "<overrides>"

    /// Compiles a rule set. `overrides` replace parameter defaults, keyed `rule_name.param` (a
    /// city's configuration); an override naming no rule parameter is an error. All errors are
    /// reported at once (up to `Limits.maxDiagnostics`).
    public static func compile(
        _ files: [SourceFile], schema: Schema, overrides: [String: Double] = [:], limits: Limits = Limits()
    ) -> Result<RuleProgram, Diagnostics> {
        var sink = DiagnosticSink(cap: limits.maxDiagnostics)
        let sorted = files.sorted { $0.path < $1.path }

        var declarations: [Declaration] = []
        for file in sorted {
            let bytes = file.text.utf8.count
            guard bytes <= limits.maxSourceBytes else {
                sink.error(
                    SourceLocation(path: file.path, line: 1, column: 1),
                    "file is too large (\(bytes) bytes, the limit is \(limits.maxSourceBytes))")
                continue
            }
            let parsed = Parser.parse(file, maxDepth: limits.maxExpressionDepth)
            parsed.diagnostics.forEach { sink.add($0) }
            declarations += parsed.declarations
        }

        let checker = Checker(schema: schema, limits: limits, diagnostics: sink)
        var ruleDecls: [RuleDecl] = []
        var ruleNames: [String: SourceLocation] = [:]
        var scorecardDecls: [ScorecardDecl] = []
        var scorecardNames: [String: SourceLocation] = [:]
        var leaderDecls: [LeadersDecl] = []
        for d in declarations {
            switch d {
            case .list(let l):
                checker.declare(l)
            case .tag(let t):
                checker.declare(t)
            case .leaders(let l):
                leaderDecls.append(l)
            case .relation(let r):
                checker.declare(r)
            case .scorecard(let s):
                if let first = scorecardNames[s.name.name] {
                    checker.diagnostics.error(s.name.location, "duplicate scorecard '\(s.name.name)' (first declared at \(first))")
                    continue
                }
                scorecardNames[s.name.name] = s.name.location
                scorecardDecls.append(s)
            case .feature(let f):
                checker.declare(f)
            case .rule(let r):
                if let first = ruleNames[r.name.name] {
                    checker.diagnostics.error(r.name.location, "duplicate rule '\(r.name.name)' (first declared at \(first))")
                    continue
                }
                ruleNames[r.name.name] = r.name.location
                if ruleDecls.count == limits.maxRules {
                    checker.diagnostics.error(r.name.location, "too many rules (the limit is \(limits.maxRules))")
                }
                ruleDecls.append(r)
            }
        }
        checker.hasScorecard = !scorecardDecls.isEmpty
        // Features and tags are checked on first use, recursively; checking the acyclic ones
        // bottom-up first keeps that recursion shallow however long a chain of them is (industry
        // features may read the leader ranking, so it is known before).
        checker.leaders = leaderDecls.first
        checker.checkRelations()
        checker.checkFeaturesInDependencyOrder()
        checker.checkLeaders(leaderDecls)
        for i in checker.features.indices { checker.checkFeature(i) }
        checker.checkTagsInDependencyOrder()
        for i in checker.tags.indices { checker.checkTag(i) }

        var rules: [CompiledRule] = []
        var usedOverrides: Set<String> = []
        for r in ruleDecls {
            if let compiled = checker.checkRule(r, overrides: overrides, usedOverrides: &usedOverrides) {
                rules.append(compiled)
            }
        }
        checkOverrides(overrides, used: usedOverrides, rules: ruleDecls, diagnostics: &checker.diagnostics)
        let checkedScorecards = scorecardDecls.compactMap { checker.checkScorecard($0) }
        checkScoreDimensions(ruleDecls, scorecards: scorecardDecls, diagnostics: &checker.diagnostics)

        let finished = checker.diagnostics.finished()
        guard !checker.diagnostics.hasErrors else { return .failure(Diagnostics(items: finished)) }

        var compiledFeatures: [CompiledFeature] = []
        for (i, f) in checker.features.enumerated() {
            guard case .done(let c) = checker.featureStates[i] else { continue }
            compiledFeatures.append(CompiledFeature(name: f.name.name, kind: f.kind, node: c.node, personal: checker.personalData(of: i)))
        }
        let aggregates = checker.aggregates
        let peers = checker.peerMeasures.values.sorted { $0.measure.key < $1.measure.key }
        var version = ContentHash()
        for f in sorted {
            // The file's name, not where the folder lives: the same set deployed elsewhere is the
            // same version.
            version.addField(String(f.path.split(separator: "/").last ?? ""))
            version.addField(f.text)
        }
        for key in overrides.keys.sorted() { version.addField("\(key)=\(overrides[key]!)") }

        let ordered = rules.filter { $0.kind == .enterprise } + rules.filter { $0.kind == .person } + rules.filter { $0.kind == .industry }
        let scorecards = checkedScorecards.map { link($0, rules: ordered) }
        return .success(
            RuleProgram(
                version: version.hex,
                rules: ordered,
                topicsUsed: Set(aggregates.filter(\.readsRecords).map(\.topic)),
                industrySeries: Set(aggregates.filter { $0.function == .industrySum }.map { "\($0.topic).\($0.field ?? "")" }),
                featureNames: compiledFeatures.filter { $0.kind == .enterprise }.map(\.name),
                industryFeatureNames: compiledFeatures.filter { $0.kind == .industry }.map(\.name),
                warnings: finished,
                scorecards: scorecards,
                leaderRanking: checker.leaderRanking,
                lists: checker.compiledLists,
                tags: checker.compiledTags(scorecardVersion: scorecards.first?.version),
                relationPaths: Set(aggregates.flatMap { $0.relation?.paths ?? [] }).sorted { $0.lexicographicallyPrecedes($1) },
                peerMeasures: peers.map(\.measure),
                rankedMeasures: checker.rankedMeasures.sorted(),
                features: compiledFeatures,
                peerNodes: peers.map(\.node),
                aggregates: aggregates,
                recordTopics: RecordTopics(aggregates)))
    }

    /// When the set has scorecards, every rule's `score … in dimension D` must name a dimension that
    /// some scorecard declares (a rule scores in every scorecard that has its dimension).
    private static func checkScoreDimensions(
        _ rules: [RuleDecl], scorecards: [ScorecardDecl], diagnostics: inout DiagnosticSink
    ) {
        guard !scorecards.isEmpty else { return }
        var dimensions: [String] = []
        var declared: Set<String> = []
        for card in scorecards {
            for case .dimension(let d) in card.fields.map(\.value) where declared.insert(d.name.name).inserted {
                dimensions.append(d.name.name)
            }
        }
        for r in rules where r.kind != .person {  // person rules do not score (reported in checkRule)
            for case .score(_, let dimension) in r.fields.map(\.value) where !declared.contains(dimension.name) {
                diagnostics.error(dimension.location, Checker.unknownChoice("dimension", dimension.name, dimensions))
            }
        }
    }

    /// A checked scorecard with the rules that score in each of its dimensions, and its version.
    private static func link(_ card: CheckedScorecard, rules: [CompiledRule]) -> Scorecard {
        var version = ContentHash()
        version.addField(card.canonicalText)
        for text in card.dependencyTexts { version.addField(text) }
        var dimensions: [CompiledDimension] = []
        var contributing: [String] = []
        for d in card.dimensions {
            let indices = rules.indices.filter { rules[$0].kind == .enterprise && rules[$0].score?.dimension == d.name }
            contributing += indices.map { "\(rules[$0].name)@\(rules[$0].version)" }
            dimensions.append(
                CompiledDimension(
                    name: d.name, title: d.title, weight: d.weight, minPoints: d.minPoints, maxPoints: d.maxPoints,
                    items: d.items, rules: indices))
        }
        for c in contributing.sorted() { version.addField(c) }
        return Scorecard(
            name: card.name.name, title: card.title, version: version.hex, base: card.base, range: card.range,
            dimensions: dimensions.map {
                Scorecard.Dimension(
                    name: $0.name, title: $0.title, weight: $0.weight, minPoints: $0.minPoints, maxPoints: $0.maxPoints,
                    items: $0.items.map(\.name), rules: $0.rules.map { rules[$0].name })
            },
            grades: card.grades, location: card.name.location, compiledDimensions: dimensions, overrides: card.overrides)
    }

    private static func checkOverrides(
        _ overrides: [String: Double], used: Set<String>, rules: [RuleDecl], diagnostics: inout DiagnosticSink
    ) {
        let byName = Dictionary(rules.map { ($0.name.name, $0) }, uniquingKeysWith: { a, _ in a })
        for key in overrides.keys.sorted() where !used.contains(key) {
            let at = SourceLocation(path: overridesPath, line: 0, column: 0)
            let parts = key.split(separator: ".", maxSplits: 1).map(String.init)
            guard parts.count == 2 else {
                diagnostics.error(at, "override '\(key)' must be written 'rule_name.parameter'")
                continue
            }
            if let rule = byName[parts[0]] {
                if !overrides[key]!.isFinite {
                    diagnostics.error(at, "override '\(key)' is not a finite number")
                } else {
                    diagnostics.error(
                        at,
                        Suggest.message(
                            "unknown override '\(key)': rule '\(parts[0])' has no parameter '\(parts[1])'", parts[1],
                            among: rule.params.map(\.name.name)))
                }
            } else {
                diagnostics.error(at, Suggest.message("unknown override '\(key)': no rule '\(parts[0])'", parts[0], among: byName.keys))
            }
        }
    }
}

extension Checker {
    /// Checks one rule declaration; nil when it has errors (already reported).
    func checkRule(_ r: RuleDecl, overrides: [String: Double], usedOverrides: inout Set<String>) -> CompiledRule? {
        let errorsBefore = diagnostics.items.filter { $0.severity == .error }.count + diagnostics.dropped
        let ruleName = r.name.name

        // Parameters, with the city's overrides applied.
        var params: [String: (value: Double, percent: Bool)] = [:]
        var paramOrder: [String] = []
        var applied: [String] = []
        for p in r.params {
            let n = p.name.name
            if params[n] != nil {
                diagnostics.error(p.name.location, "duplicate parameter '\(n)' in rule '\(ruleName)'")
                continue
            }
            if Checker.builtinNames.contains(n) {
                diagnostics.error(p.name.location, "'\(n)' is a built-in name; choose another parameter name")
                continue
            }
            if featureIndex[n] != nil {
                diagnostics.error(p.name.location, "parameter '\(n)' of rule '\(ruleName)' has the same name as a feature; rename one of them")
                continue
            }
            var value = p.value
            let key = "\(ruleName).\(n)"
            if let o = overrides[key], o.isFinite {
                value = o
                usedOverrides.insert(key)
                applied.append("\(key)=\(o)")
            }
            params[n] = (value, p.percent)
            paramOrder.append(n)
        }

        // Fields: each at most once; title, category, severity, when and explain required.
        var fields: [String: RuleField] = [:]
        for f in r.fields {
            if fields[f.keyword.name] != nil {
                diagnostics.error(f.keyword.location, "'\(f.keyword.name)' is given twice in rule '\(ruleName)'")
                continue
            }
            fields[f.keyword.name] = f
        }
        for required in ["title", "category", "severity", "when", "explain"] where fields[required] == nil {
            diagnostics.error(r.name.location, "rule '\(ruleName)' is missing '\(required)'")
        }

        var title = ""
        var category = Category.tax
        var severity = Severity.info
        var score: Firing.ScoreEffect?
        var cooldownDays = 0
        if case .title(let t)? = fields["title"]?.value { title = t }
        if case .category(let c)? = fields["category"]?.value {
            if let v = Category(rawValue: c.name), r.kind != .person || v != .industry {
                category = v
            } else if r.kind == .person {
                let choices = Category.allCases.filter { $0 != .industry }.map(\.rawValue)
                diagnostics.error(
                    c.location,
                    c.name == Category.industry.rawValue
                        ? "a person rule cannot have category 'industry'; use one of \(choices.joined(separator: ", "))"
                        : Checker.unknownChoice("category", c.name, choices))
            } else {
                diagnostics.error(c.location, Checker.unknownChoice("category", c.name, Category.allCases.map(\.rawValue)))
            }
        }
        if case .severity(let s)? = fields["severity"]?.value {
            if let v = Severity(rawValue: s.name) {
                severity = v
            } else {
                diagnostics.error(s.location, Checker.unknownChoice("severity", s.name, Severity.allCases.map(\.rawValue)))
            }
        }
        if case .score(let points, let dimension)? = fields["score"]?.value {
            score = Firing.ScoreEffect(points: points, dimension: dimension.name)
            if r.kind == .person {
                diagnostics.error(fields["score"]!.keyword.location, "person rules do not score; scorecards rate enterprises")
            }
        }
        if case .cooldown(let w)? = fields["cooldown"]?.value {
            if w.unit == .days {
                cooldownDays = w.count
            } else {
                diagnostics.error(w.location, "cooldown must be given in days, like 30d")
            }
        }

        var absenceTopics: [String] = []
        if case .absence(let paths)? = fields["absence"]?.value {
            absenceTopics = checkAbsence(paths, kind: r.kind, keyword: fields["absence"]!.keyword)
        }

        // Condition.
        let scope = Scope(kind: r.kind, topic: nil, params: params, paramOrder: paramOrder, context: .rule)
        usage = Usage()
        var condition = Node.constant(.unknown)
        if case .when(let e)? = fields["when"]?.value {
            let t = check(e, scope)
            if t.type != .bool && t.type != .error {
                diagnostics.error(e.location, "'when' needs a condition, found \(t.type.phrase)")
            }
            condition = t.node
            let depth = usage.featureDepth + e.depth
            if depth > limits.maxEvaluationDepth {
                diagnostics.error(
                    e.location,
                    "condition is nested too deeply through features (depth \(depth), the limit is \(limits.maxEvaluationDepth))")
            }
        }
        let conditionUsage = usage

        // Explanation.
        var segments: [Template.Segment] = []
        if case .explain(let t)? = fields["explain"]?.value {
            segments = resolveTemplate(t, kind: r.kind, params: params, paramOrder: paramOrder, context: .rule)
        }
        let paramsUsed = conditionUsage.params.union(usage.params)
        for p in r.params where params[p.name.name] != nil && !paramsUsed.contains(p.name.name) {
            diagnostics.warning(p.name.location, "parameter '\(p.name.name)' of rule '\(ruleName)' is never used")
        }

        // Cost, sources and version.
        let reached = reach(conditionUsage, costLimit: limits.maxRuleCost)
        let cost = conditionUsage.cost + reached.cost
        if cost > limits.maxRuleCost {
            diagnostics.error(
                r.name.location,
                "rule '\(ruleName)' is too expensive to evaluate (\(costText(cost, reached)), the limit is \(limits.maxRuleCost))")
        }
        let errorsAfter = diagnostics.items.filter { $0.severity == .error }.count + diagnostics.dropped
        guard errorsAfter == errorsBefore else { return nil }
        // Only a rule that compiles needs a version (sorting and hashing all it reaches).
        var version = ContentHash()
        version.addField(r.canonicalText)
        for text in dependencyTexts(reached) { version.addField(text) }
        for a in applied.sorted() { version.addField(a) }
        return CompiledRule(
            name: ruleName, version: version.hex, kind: CompiledRule.Kind(r.kind),
            severity: severity, category: category, title: title,
            params: paramOrder.map { NamedValue($0, .number(params[$0]!.value)) },
            score: score, cooldownDays: cooldownDays, location: r.name.location, absenceTopics: absenceTopics,
            readsRelations: conditionUsage.readsRelations,
            condition: condition, explanation: Template(segments: segments), reads: conditionUsage.reads,
            sourceAggregates: reached.aggregates.sorted(), sourcePeers: reached.peerMembers.sorted())
    }

    /// `unknown severity 'hgh'; did you mean 'high'?`, or the list of choices when nothing is close.
    static func unknownChoice(_ what: String, _ name: String, _ choices: [String]) -> String {
        if let s = Suggest.closest(to: name, among: choices) { return "unknown \(what) '\(name)'; did you mean '\(s)'?" }
        return "unknown \(what) '\(name)'; expected one of \(choices.joined(separator: ", "))"
    }

    /// `absence tax.payment, …`: catalog topics (not `#history`, which follows its topic), each
    /// once, in enterprise rules only (industry rules have no feeds of their own).
    private func checkAbsence(_ paths: [FieldPath], kind: RuleKind, keyword: Identifier) -> [String] {
        if kind == .industry {
            diagnostics.error(keyword.location, "'absence' applies to enterprise rules; an industry has no feeds of its own")
        }
        var topics: [String] = []
        for p in paths {
            let name = p.text
            guard schema.topics[name] != nil else {
                diagnostics.error(p.location, Suggest.message("unknown topic '\(name)'", name, among: schema.topics.keys))
                continue
            }
            if topics.contains(name) {
                diagnostics.error(p.location, "topic '\(name)' is listed twice in 'absence'")
                continue
            }
            topics.append(name)
        }
        return topics
    }

    func resolveTemplate(
        _ t: TemplateSyntax, kind: RuleKind, params: [String: (value: Double, percent: Bool)], paramOrder: [String],
        context: Scope.Context
    ) -> [Template.Segment] {
        var segments: [Template.Segment] = []
        for piece in TemplateParser.parse(t, diagnostics: &diagnostics) {
            switch piece.kind {
            case .text(let s):
                segments.append(.text(s))
            case .placeholder(let name, .who):
                if let segment = whoSegment(name, kind: kind, at: piece.location) { segments.append(segment) }
            case .placeholder(let name, .members):
                if let segment = membersSegment(name, kind: kind, at: piece.location) { segments.append(segment) }
            case .placeholder(let name, let format):
                let percent = format == .percent
                if let p = params[name] {
                    usage.params.insert(name)
                    let shown = p.percent || percent ? Value.numberText(p.value * 100) + "%" : Value.numberText(p.value)
                    segments.append(.text(shown))
                } else if name == "as_of" {
                    segments.append(.asOf)
                } else if kind != .industry, let b = EntityBuiltin(rawValue: name), b.needsScore {
                    // `{score}` and `{grade}` in tags; the entity id is not shown in explanations.
                    if useEntityBuiltin(b, at: piece.location, kind: kind, context: context) { segments.append(.entity(b)) }
                } else if kind == .industry, let b = IndustryBuiltin(rawValue: name) {
                    if leadersAvailable(b, at: piece.location) { segments.append(.industry(b, percent: percent)) }
                } else if let i = featureIndex[name], features[i].kind == kind.featureKind {
                    segments.append(.feature(i, percent: percent))
                } else {
                    let builtins = kind == .industry ? Checker.industryBuiltins : Checker.enterpriseBuiltins
                    diagnostics.error(
                        piece.location,
                        Suggest.message(
                            "unknown placeholder '{\(name)}' in explanation", name,
                            among: features.filter { $0.kind == kind.featureKind }.map(\.name.name) + paramOrder + builtins))
                }
            }
        }
        // Merge adjacent text so rendering is a simple concatenation.
        var merged: [Template.Segment] = []
        for s in segments {
            if case .text(let b) = s, case .text(let a)? = merged.last {
                merged[merged.count - 1] = .text(a + b)
            } else {
                merged.append(s)
            }
        }
        return merged
    }
}
