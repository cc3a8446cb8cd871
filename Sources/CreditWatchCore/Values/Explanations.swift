import RuleLanguage

/// How explanations are stored and served: plain JSON, the same shape in PostgreSQL and the API.
extension JSONValue {
    /// `[{"name": …, "value": …}]` in order.
    public init(_ values: [NamedValue]) {
        self = .array(values.map { .object(["name": .string($0.name), "value": JSONValue($0.value)]) })
    }

    /// A score with every point explained: the lines add up to `score - base`.
    public init(_ score: ScoreResult) {
        func sources(_ list: [String]) -> JSONValue { .array(list.map { .string($0) }) }
        var object: [String: JSONValue] = [
            "scorecard": .string(score.scorecard),
            "scorecard_version": .string(score.scorecardVersion),
            "rule_set_version": .string(score.ruleSetVersion),
            "base": .number(Double(score.base)),
            "score": .number(Double(score.score)),
            "grade": .string(score.grade),
            "dimensions": .array(score.dimensions.map { d in
                .object([
                    "name": .string(d.name), "title": .string(d.title), "raw": .number(Double(d.raw)),
                    "weighted": .number(Double(d.weighted)), "points": .number(Double(d.points)),
                ])
            }),
            "lines": .array(score.lines.map { line in
                var o: [String: JSONValue] = [
                    "kind": .string(line.kind.rawValue), "name": .string(line.name), "text": .string(line.text),
                    "points": .number(Double(line.points)), "values": JSONValue(line.values),
                    "sources": sources(line.sources),
                ]
                if let d = line.dimension { o["dimension"] = .string(d) }
                if let v = line.ruleVersion { o["rule_version"] = .string(v) }
                return .object(o)
            }),
            "unassessed": .array(score.unassessed.map { u in
                var o: [String: JSONValue] = ["name": .string(u.name), "text": .string(u.text), "values": JSONValue(u.values)]
                if let d = u.dimension { o["dimension"] = .string(d) }
                return .object(o)
            }),
        ]
        if let o = score.appliedOverride {
            object["override"] = .object([
                "name": .string(o.name), "kind": .string(o.kind.rawValue), "grade": .string(o.grade),
                "text": .string(o.text), "points": .number(Double(o.points)), "values": JSONValue(o.values),
                "sources": sources(o.sources),
            ])
        }
        self = .object(object)
    }
}
