import RuleLanguage

/// The records of one case's entities as its steps give and delete them, assembled for evaluation
/// the way the engine assembles them from its feature store: current records (a newer version
/// replaces the row, a delete removes it), every version of a topic whose `#history` the program
/// reads, a feed clock of everything delivered so far, and the entities related to the one
/// evaluated by the relations those records make.
struct CaseLedger {
    private var current: [EntityKey: [String: [String: FactRecord]]] = [:]
    /// entity → topic → "key|version" → the version, first delivery kept (as the feature store keeps it).
    private var history: [EntityKey: [String: [String: FactRecord]]] = [:]
    private var feeds = FeedClock()
    /// What the records given last make of each relation slot (a delete removes its edges).
    private var relations: [RelationSlot: RelationChange] = [:]

    mutating func give(_ event: CaseEvent, catalog: TopicCatalog, snapshot: EntitySnapshot) {
        let (change, entity) = (event.change, event.entity)
        let record = FactRecord(topic: change.topic, key: change.key, eventDay: change.eventDay, fields: change.fields)
        current[entity, default: [:]][change.topic, default: [:]][change.key] = record
        let versionKey = "\(change.key)|\(change.version)"
        if history[entity]?[change.topic]?[versionKey] == nil {
            history[entity, default: [:]][change.topic, default: [:]][versionKey] = FactRecord(
                topic: change.topic + RuleProgram.historySuffix, key: versionKey, eventDay: change.eventDay, fields: change.fields)
        }
        for relation in catalog.relationChanges(LinkedChange(change: change, entity: entity)) { relations[relation.slot] = relation }
        // The city's feeds moved (besides what a step's `feeds` says of the rest of the city).
        feeds.observe(topic: change.topic, day: snapshot.businessDay(topic: change.topic, eventDay: change.eventDay, fields: change.fields))
    }

    /// The rest of the city's feeds delivered up to these days.
    mutating func observe(_ delivered: [String: Day]) {
        for (topic, day) in delivered { feeds.observe(topic: topic, day: day) }
    }

    mutating func delete(topic: String, key: String, catalog: TopicCatalog) {
        for (entity, topics) in current where topics[topic]?[key] != nil {
            current[entity]?[topic]?[key] = nil
            for relation in catalog.topics[topic]?.relations ?? [] {
                relations[RelationSlot(topic: topic, key: key, relation: relation.name)] = nil
            }
        }
    }

    /// An entity's own records for the program: only the topics it reads, as the engine loads them
    /// (so that a record of a topic no rule reads does not move the entity's clock here either).
    private func records(of entity: EntityKey, program: RuleProgram) -> [String: [FactRecord]] {
        var records: [String: [FactRecord]] = [:]
        for topic in program.currentTopics {
            if let rows = current[entity]?[topic], !rows.isEmpty { records[topic] = rows.values.sorted { $0.key < $1.key } }
        }
        for topic in program.historyTopics {
            if let versions = history[entity]?[topic]?.values {
                records[topic + RuleProgram.historySuffix] = versions.sorted { ($0.eventDay, $0.key) < ($1.eventDay, $1.key) }
            }
        }
        return records
    }

    /// The enterprise's data for the program, with the entities related to it.
    func data(enterprise: String, program: RuleProgram, walker: RelationWalker, snapshot: EntitySnapshot) -> EntityData {
        let subject = EntityKey(.enterprise, enterprise)
        var related: [String: [RelatedEntity]] = [:]
        if !walker.isEmpty {
            let graph = RelationGraph(changes: Array(relations.values))
            let reached = walker.related(to: subject, in: graph)
            var records: [EntityKey: [String: [FactRecord]]] = [:]
            for entity in Set(reached.values.flatMap(\.keys)) { records[entity] = self.records(of: entity, program: program) }
            related = walker.relatedData(reached, records: records, feeds: feeds, snapshot: snapshot)
        }
        return snapshot.data(entity: enterprise, records: records(of: subject, program: program), feeds: feeds, related: related)
    }
}
