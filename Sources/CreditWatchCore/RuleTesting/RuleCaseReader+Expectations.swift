import RuleLanguage
import Yams

/// Reading a step's `expect:`. Every name is checked against the program here, so that a typo in
/// a case file is a problem with its position, never a test that passes because it checks nothing.
extension RuleCaseReader {
    mutating func readExpectation(_ node: Node) -> CaseExpectation {
        var expectation = CaseExpectation()
        guard let map = node.mapping else {
            problem(at: node.mark, "'expect' must be a mapping (\(Self.expectKeys.joined(separator: ", ")))")
            return expectation
        }
        checkKeys(map, allowed: Self.expectKeys)
        expectation.fires = ruleNames(map["fires"], "fires")
        expectation.silent = ruleNames(map["silent"], "silent")
        for rule in expectation.silent where expectation.fires.contains(where: { $0.value == rule.value }) {
            problems.append(.init(location: rule.location, message: "rule '\(rule.value)' is expected both to fire and to stay silent"))
        }
        if let node = map["alerts"] {
            expectation.alerts = Expected(value: ruleNames(node, "alerts").map(\.value), location: location(node.mark))
        }
        expectation.suspended = ruleNames(map["suspended"], "suspended")
        if let node = map["features"] { expectation.features = readFeatures(node) }
        if let node = map["grade"] { expectation.grade = readGrade(node) }
        if let node = map["score"] { expectation.score = readScore(node) }
        if let node = map["tags"] {
            let tags = list(node, "tags").compactMap { scalarText($0, "tags") }
            expectation.tags = Expected(value: tags, location: location(node.mark))
        }
        return expectation
    }

    /// Names of enterprise rules of the program. Industry rules are evaluated per division, not per
    /// enterprise: they are tested in `industry_cases`.
    mutating func ruleNames(_ node: Node?, _ what: String) -> [Expected<String>] {
        let enterpriseRules = program.rules.filter { $0.kind == .enterprise }.map(\.name)
        var names: [Expected<String>] = []
        for item in list(node, what) {
            guard let name = scalarText(item, what) else { continue }
            if enterpriseRules.contains(name) {
                names.append(Expected(value: name, location: location(item.mark)))
            } else if program.rules.contains(where: { $0.name == name }) {
                problem(at: item.mark, "'\(name)' is an industry rule: test it in 'industry_cases'")
            } else {
                problem(at: item.mark, Spelling.didYouMean("unknown rule '\(name)'", name, among: enterpriseRules))
            }
        }
        return names
    }

    mutating func readFeatures(_ node: Node) -> [Expected<FeatureExpectation>] {
        guard let map = node.mapping else {
            problem(at: node.mark, "'features' must map feature names to values")
            return []
        }
        var features: [Expected<FeatureExpectation>] = []
        for (key, value) in map {
            guard let name = scalarText(key, "features") else { continue }
            guard program.featureNames.contains(name) else {
                problem(at: key.mark, Spelling.didYouMean("unknown feature '\(name)'", name, among: program.featureNames))
                continue
            }
            let written: FeatureExpectation.Written
            switch Self.json(value) {
            case .null?, .string("unknown")?: written = .unknown
            case .bool(let b)?: written = .bool(b)
            case .integer(let i)?: written = .number(Double(i))
            case .number(let x)?: written = .number(x)
            case .string(let text)?: written = .text(text)
            default:
                problem(at: value.mark, "feature '\(name)': expected a single value")
                continue
            }
            features.append(Expected(value: FeatureExpectation(feature: name, value: written), location: location(key.mark)))
        }
        return features
    }

    mutating func readGrade(_ node: Node) -> Expected<String>? {
        guard let card = scorecard(at: node.mark), let grade = scalarText(node, "grade") else { return nil }
        let grades = card.grades.map(\.name)
        guard grades.contains(grade) else {
            problem(at: node.mark, "grade '\(grade)' is not one of \(grades.joined(separator: ", ")) (scorecard \(card.name))")
            return nil
        }
        return Expected(value: grade, location: location(node.mark))
    }

    mutating func readScore(_ node: Node) -> Expected<Int>? {
        guard scorecard(at: node.mark) != nil else { return nil }
        guard case .integer(let points)? = Self.json(node), let score = Int(exactly: points) else {
            problem(at: node.mark, "'score' must be a whole number of points")
            return nil
        }
        return Expected(value: score, location: location(node.mark))
    }

    /// The scorecard that `grade` and `score` refer to: the rule set's first, as in the engine.
    mutating func scorecard(at mark: Mark?) -> Scorecard? {
        guard let card = program.scorecards.first else {
            problem(at: mark, "the rule set has no scorecard to grade with")
            return nil
        }
        return card
    }
}
