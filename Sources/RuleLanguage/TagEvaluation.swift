/// Evaluating tags: whether an entity has a tag (`tagged NAME`), and its memberships with the values
/// and records that met each tag's criteria.

extension EvaluationRun {
    /// Whether the entity has tag `i`: its condition is true (unknown counts as not tagged, as an
    /// unknown rule condition does not fire). Cached per run.
    func tag(_ i: Int) -> Bool {
        if let v = tagCache[i] { return v }
        let v = Truth(eval(program.tags[i].condition, nil)) == .yes
        tagCache[i] = v
        return v
    }

    /// The entity's tags in declaration order; those reading `score` or `grade` only once the run has
    /// been scored.
    func memberships() -> [TagMembership] {
        program.tags.indices.compactMap { i -> TagMembership? in
            let t = program.tags[i]
            guard !t.readsScore || scoreResult != nil, tag(i) else { return nil }
            return TagMembership(
                tag: t.name, tagVersion: t.version, title: t.title, explanation: render(t.explanation), values: values(t.reads),
                sources: sources(t.sourceAggregates))
        }
    }
}
