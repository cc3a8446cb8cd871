import RuleLanguage

/// The records of one case's enterprise as its steps give and delete them, assembled for
/// evaluation the way the engine assembles them from its feature store: current records (a newer
/// version replaces the row, a delete removes it), every version of a topic whose `#history` the
/// program reads, and a feed clock of everything delivered so far.
struct CaseLedger {
    private var current: [String: [String: FactRecord]] = [:]
    /// topic → "key|version" → the version, first delivery kept (as the feature store keeps it).
    private var history: [String: [String: FactRecord]] = [:]
    private var feeds = FeedClock()

    mutating func give(_ change: Change, snapshot: EntitySnapshot) {
        let record = FactRecord(topic: change.topic, key: change.key, eventDay: change.eventDay, fields: change.fields)
        current[change.topic, default: [:]][change.key] = record
        let versionKey = "\(change.key)|\(change.version)"
        if history[change.topic]?[versionKey] == nil {
            history[change.topic, default: [:]][versionKey] = FactRecord(
                topic: change.topic + RuleProgram.historySuffix, key: versionKey, eventDay: change.eventDay, fields: change.fields)
        }
        // The city's feeds moved (besides what a step's `feeds` says of the rest of the city).
        feeds.observe(topic: change.topic, day: snapshot.businessDay(topic: change.topic, eventDay: change.eventDay, fields: change.fields))
    }

    /// The rest of the city's feeds delivered up to these days.
    mutating func observe(_ delivered: [String: Day]) {
        for (topic, day) in delivered { feeds.observe(topic: topic, day: day) }
    }

    mutating func delete(topic: String, key: String) {
        current[topic]?[key] = nil
    }

    /// The enterprise's data for the program: only the topics it reads, as the engine loads them
    /// (so that a record of a topic no rule reads does not move the enterprise's clock here either).
    func data(enterprise: String, program: RuleProgram, snapshot: EntitySnapshot) -> EntityData {
        var records: [String: [FactRecord]] = [:]
        for topic in program.currentTopics {
            if let rows = current[topic], !rows.isEmpty { records[topic] = rows.values.sorted { $0.key < $1.key } }
        }
        for topic in program.historyTopics {
            if let versions = history[topic]?.values {
                records[topic + RuleProgram.historySuffix] = versions.sorted { ($0.eventDay, $0.key) < ($1.eventDay, $1.key) }
            }
        }
        return snapshot.data(entity: enterprise, records: records, feeds: feeds)
    }
}
