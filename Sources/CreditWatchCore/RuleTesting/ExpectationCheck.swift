import RuleLanguage

/// Compares what a step expects with what the program made of the enterprise's records. Each
/// failure names the rule, feature or figure and shows the expected and the actual value, with the
/// values that explain the actual one (a rule's features, a score's dimensions and override).
struct ExpectationCheck {
    let program: RuleProgram
    let evaluation: EntityEvaluation
    let score: ScoreResult?

    func failures(_ expectation: CaseExpectation) -> [(location: SourceLocation, message: String)] {
        var failures: [(location: SourceLocation, message: String)] = []
        let fired = Set(evaluation.firings.map(\.rule))
        let suspended = Set(evaluation.suspended)

        for rule in expectation.fires where !fired.contains(rule.value) {
            let why = suspended.contains(rule.value)
                ? "it is suspended (a feed it reads for absence is stale)" : "did not (\(readValues(of: rule.value)))"
            failures.append((rule.location, "rule \(rule.value): expected to fire, \(why)"))
        }
        for rule in expectation.silent {
            guard let firing = evaluation.firings.first(where: { $0.rule == rule.value }) else { continue }
            let values = firing.values.map { "\($0.name) = \(Self.text($0.value))" }.joined(separator: ", ")
            failures.append((rule.location, "rule \(rule.value): expected to stay silent, fired (\(values))"))
        }
        if let alerts = expectation.alerts, Set(alerts.value) != fired {
            failures.append((alerts.location, "alerts: expected \(Self.list(alerts.value)), got \(Self.list(fired))"))
        }
        for rule in expectation.suspended where !suspended.contains(rule.value) {
            failures.append((rule.location, "rule \(rule.value): expected to be suspended, was not"))
        }
        for feature in expectation.features {
            let actual = evaluation.features[feature.value.feature] ?? .null
            guard !Self.matches(actual, feature.value.value) else { continue }
            failures.append(
                (feature.location,
                 "feature \(feature.value.feature): expected \(Self.text(feature.value.value)), got \(Self.text(actual))"))
        }
        if let grade = expectation.grade, let score, score.grade != grade.value {
            var detail = "score \(score.score)"
            if let applied = score.appliedOverride { detail += "; override \(applied.name)" }
            failures.append((grade.location, "grade: expected \(grade.value), got \(score.grade) (\(detail))"))
        }
        if let expected = expectation.score, let score, score.score != expected.value {
            failures.append((expected.location, "score: expected \(expected.value), got \(score.score) (\(breakdown(score)))"))
        }
        if let tags = expectation.tags {
            let actual = evaluation.tags.map(\.tag)
            if Set(tags.value) != Set(actual) {
                failures.append((tags.location, "tags: expected \(Self.list(tags.value)), got \(Self.list(actual))"))
            }
        }
        return failures
    }

    /// The features a rule reads, with their values: why it did not fire.
    func readValues(of ruleName: String) -> String {
        guard let rule = program.rules.first(where: { $0.name == ruleName }) else { return "" }
        return program.featuresRead(by: rule).map { "\($0) = \(Self.text(evaluation.features[$0] ?? .null))" }
            .joined(separator: ", ")
    }

    /// `grade C; base 600, basic_info +12, judicial -150; override dishonest_cap -13`: where the
    /// points came from, so that an author can see which expectation of theirs was wrong.
    func breakdown(_ score: ScoreResult) -> String {
        var parts = ["base \(score.base)"]
        for dimension in score.dimensions where dimension.points != 0 {
            parts.append("\(dimension.name) \(Self.signed(dimension.points))")
        }
        var text = "grade \(score.grade); " + parts.joined(separator: ", ")
        for line in score.lines where line.kind == .range || line.kind == .override {
            text += "; \(line.kind.rawValue) \(line.name) \(Self.signed(line.points))"
        }
        return text
    }

    static func signed(_ points: Int) -> String { points >= 0 ? "+\(points)" : "\(points)" }

    static func list<S: Sequence<String>>(_ names: S) -> String { "[\(names.sorted().joined(separator: ", "))]" }

    static func matches(_ actual: Value, _ expected: FeatureExpectation.Written) -> Bool {
        switch (actual, expected) {
        case (.null, .unknown): return true
        case (.bool(let a), .bool(let e)): return a == e
        case (.number(let a), .number(let e)): return abs(a - e) <= 1e-9 * max(1, abs(a))
        case (.string(let a), .text(let e)): return a == e
        case (.date(let a), .text(let e)): return a.description == e
        default: return false
        }
    }

    /// A value as a failure shows it: exact numbers (not rounded for display), `unknown` for null.
    static func text(_ value: Value) -> String {
        switch value {
        case .null: "unknown"
        case .number(let x): number(x)
        case .string(let s): "'\(s)'"
        default: value.displayText
        }
    }

    static func text(_ value: FeatureExpectation.Written) -> String {
        switch value {
        case .unknown: "unknown"
        case .bool(let b): "\(b)"
        case .number(let x): number(x)
        case .text(let s): "'\(s)'"
        }
    }

    static func number(_ x: Double) -> String {
        x.rounded() == x && abs(x) < 1e15 ? String(Int64(x)) : "\(x)"
    }
}
