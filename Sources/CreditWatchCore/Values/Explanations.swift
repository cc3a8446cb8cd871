import RuleLanguage

/// How explanations are stored and served: plain JSON, the same shape in PostgreSQL and the API.
extension JSONValue {
    /// The values a firing, a score line or a tag read, as stored: `[{"name": …, "value": …}]` in
    /// order.
    public static func text(of values: [NamedValue]) -> String {
        var w = JSONWriter(replacingNUL: true)
        w.namedValues(values)
        return String(decoding: w.bytes, as: UTF8.self)
    }

    /// A score with every point explained (the lines add up to `score - base`), as stored: the
    /// JSON text, keys sorted, written straight from the score (one is written per changed score,
    /// most of a live batch's enterprises).
    public static func text(of score: ScoreResult) -> String {
        var w = JSONWriter(capacity: 2048, replacingNUL: true)
        w.openObject()
        w.key("base"); w.integer(Int64(score.base))
        w.key("dimensions")
        w.array(score.dimensions) { w, d in
            w.openObject()
            w.key("name"); w.string(d.name)
            w.key("points"); w.integer(Int64(d.points))
            w.key("raw"); w.integer(Int64(d.raw))
            w.key("title"); w.string(d.title)
            w.key("weighted"); w.integer(Int64(d.weighted))
            w.closeObject()
        }
        w.key("grade"); w.string(score.grade)
        w.key("lines")
        w.array(score.lines) { w, line in
            w.openObject()
            if let d = line.dimension { w.key("dimension"); w.string(d) }
            w.key("kind"); w.string(line.kind.rawValue)
            w.key("name"); w.string(line.name)
            w.key("points"); w.integer(Int64(line.points))
            if let v = line.ruleVersion { w.key("rule_version"); w.string(v) }
            w.key("sources"); w.strings(line.sources)
            w.key("text"); w.string(line.text)
            w.key("values"); w.namedValues(line.values)
            w.closeObject()
        }
        if let o = score.appliedOverride {
            w.key("override")
            w.openObject()
            w.key("grade"); w.string(o.grade)
            w.key("kind"); w.string(o.kind.rawValue)
            w.key("name"); w.string(o.name)
            w.key("points"); w.integer(Int64(o.points))
            w.key("sources"); w.strings(o.sources)
            w.key("text"); w.string(o.text)
            w.key("values"); w.namedValues(o.values)
            w.closeObject()
        }
        w.key("rule_set_version"); w.string(score.ruleSetVersion)
        w.key("score"); w.integer(Int64(score.score))
        w.key("scorecard"); w.string(score.scorecard)
        w.key("scorecard_version"); w.string(score.scorecardVersion)
        w.key("unassessed")
        w.array(score.unassessed) { w, u in
            w.openObject()
            if let d = u.dimension { w.key("dimension"); w.string(d) }
            w.key("name"); w.string(u.name)
            w.key("text"); w.string(u.text)
            w.key("values"); w.namedValues(u.values)
            w.closeObject()
        }
        w.closeObject()
        return String(decoding: w.bytes, as: UTF8.self)
    }
}

extension JSONWriter {
    /// `[{"name": …, "value": …}]` in order.
    fileprivate mutating func namedValues(_ list: [NamedValue]) {
        array(list) { w, v in
            w.openObject()
            w.key("name"); w.string(v.name)
            w.key("value"); w.value(JSONValue(v.value))
            w.closeObject()
        }
    }

    fileprivate mutating func strings(_ list: [String]) {
        array(list) { $0.string($1) }
    }
}
