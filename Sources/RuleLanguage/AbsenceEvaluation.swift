/// Evaluating absence rules (`absence tax.payment`). Silence in a feed means something only while the
/// feed itself delivers: the rule is suspended unless every feed it names is fresh, and its windows
/// over those feeds end where the feed has delivered (`FeedState.windowEnd`), not where the entity's
/// own records end — otherwise an enterprise that stopped paying would move its own window back and
/// never look silent.

/// What became of one rule for one entity.
enum RuleOutcome {
    case fired(Firing)
    /// The condition was false or unknown.
    case quiet
    /// An absence rule whose feed is missing or stale: neither fired nor quiet.
    case suspended
}

extension EvaluationRun {
    /// Fires a rule, in the run its absence topics need.
    func outcome(_ rule: CompiledRule) -> RuleOutcome {
        var run = self
        if !rule.absenceTopics.isEmpty {
            guard let absenceRun = absenceRun(for: rule.absenceTopics) else { return .suspended }
            run = absenceRun
        }
        return run.fire(rule).map(RuleOutcome.fired) ?? .quiet
    }

    /// A run like this one whose windows over `topics` (and their `#history`) end at the feeds'
    /// `windowEnd`; nil when a feed is missing or stale. One per set of topics: its feature and
    /// aggregate caches hold values of those windows only, apart from this run's.
    private func absenceRun(for topics: [String]) -> EvaluationRun? {
        // A run made is a run its feeds were fresh for (they do not change within a run).
        let key = topics.sorted()
        if let run = absenceRuns[key] { return run }
        guard let entity else { return nil }
        var ends = windowEnds
        for topic in topics {
            guard let feed = entity.feeds[topic], feed.fresh else { return nil }
            ends[topic] = feed.windowEnd
            ends[topic + RuleProgram.historySuffix] = feed.windowEnd
        }
        let run = EvaluationRun(
            program: program, asOf: CompiledRule.absenceAsOf(topics, entity), records: records, industry: nil,
            windowEnds: ends, entity: entity, relatedRuns: relatedRuns)
        absenceRuns[key] = run
        return run
    }
}

extension CompiledRule {
    /// The event-time day an absence rule speaks for: the latest end of its feeds' windows, when
    /// later than the entity's own clock (a silent enterprise's clock stops with its last record,
    /// but its silence is known up to what the feed has delivered). Its firing's window and the
    /// alert's as-of follow it.
    public static func absenceAsOf(_ topics: [String], _ entity: EntityData) -> Day {
        topics.compactMap { entity.feeds[$0]?.windowEnd }.reduce(entity.asOf) { max($0, $1) }
    }
}
