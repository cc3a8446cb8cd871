import RuleLanguage

/// `creditwatch replay`: what a candidate rule set would have fired over the stored history of
/// the credit information base, compared with the live set.
///
/// Both sets are replayed the same way, enterprise by enterprise and month by month, with the
/// engine's own pieces (`EntitySnapshot` for the entity's clock and window ends, a `FeedClock`
/// per month for the feeds' freshness, `RuleProgram.evaluateAndScore`) and the engine's alert
/// decisions (`AlertLifecycle`), so that the difference between the two runs is the difference
/// the rule change makes, not an artefact of the replay. Industry rules are not replayed: they
/// depend on every enterprise's alerts at once and on the division aggregates of the feature
/// store; the report lists them as skipped.
public enum Replay {
    /// Replays `live` and `candidate` over `history` and compares them. `from` limits the report
    /// to alerts raised in that month or later; the lifecycle is still replayed from each
    /// enterprise's first record, so that an alert active before `from` is not counted again.
    public static func compare(
        history: ReplayHistory, live: RuleProgram, candidate: RuleProgram, catalog: TopicCatalog, from: Month? = nil
    ) -> ReplayReport {
        var liveRun = RuleSetRun(program: live)
        var candidateRun = RuleSetRun(program: candidate)
        var through: Month?
        let snapshot = EntitySnapshot(catalog: catalog)
        if let timeline = ReplayTimeline(history, snapshot: snapshot) {
            through = timeline.last
            for entity in history.enterprises.keys.sorted() {
                let records = engineOrder(history.enterprises[entity]!)
                liveRun.replay(entity: entity, records: records, timeline: timeline, snapshot: snapshot)
                candidateRun.replay(entity: entity, records: records, timeline: timeline, snapshot: snapshot)
            }
        }
        return ReplayReport(
            live: liveRun, candidate: candidateRun, enterprises: history.enterprises.count, from: from, through: through)
    }

    /// Records in the order the feature store returns them: current records by key, `#history`
    /// versions by event day then key. (Ties in `last`/`latest` resolve by this order.)
    static func engineOrder(_ byTopic: [String: [FactRecord]]) -> [String: [FactRecord]] {
        byTopic.mapValues { records in
            records.sorted {
                ReplayHistory.isHistory($0.topic) ? ($0.eventDay, $0.key) < ($1.eventDay, $1.key) : $0.key < $1.key
            }
        }
    }
}
