import RuleLanguage

/// What one batch did, for logs and metrics.
public struct BatchReport: Sendable, Hashable {
    public var messages = 0
    public var changes = 0
    public var tombstones = 0
    public var quarantined = 0
    public var unlinked = 0
    public var relinked = 0
    public var entitiesEvaluated = 0
    public var industriesEvaluated = 0
    public var firings = 0
    /// Messages per topic (for per-topic metrics).
    public var byTopic: [String: Int] = [:]
    /// Time spent per stage (decode, link, features, evaluate, industry, commit).
    public var stages: [String: Duration] = [:]

    public init() {}
}

/// The engine's work on one batch of department messages: decode and validate, link records to
/// enterprises, update the feature windows, evaluate the rule program for every entity (and
/// division) the batch touched, and write everything to the store of record in one transaction.
///
/// Every step is idempotent, so the caller commits Kafka offsets only after `process` returns
/// and a batch re-delivered after a crash changes nothing. Entities are re-evaluated whether or
/// not their windows changed this time: evaluation is a pure function of the stored windows, so
/// a crash between the feature update and the alert write loses no alert on re-delivery.
public actor BatchProcessor {
    private let catalog: TopicCatalog
    private let decoder: ChangeDecoder
    private let features: any FeatureStore
    private let store: any CreditStore
    private var program: RuleProgram
    /// Registrations seen so far (enterprise → division/district): saves a lookup per batch.
    private var registrations: [String: Registration] = [:]
    private let snapshot: EntitySnapshot

    public init(catalog: TopicCatalog, program: RuleProgram, features: any FeatureStore, store: any CreditStore) {
        self.catalog = catalog
        self.decoder = ChangeDecoder(catalog: catalog)
        self.features = features
        self.store = store
        self.program = program
        self.snapshot = EntitySnapshot(catalog: catalog)
    }

    public var ruleSetVersion: String { program.version }

    /// Swaps the rule program between batches (hot reload).
    public func replace(program: RuleProgram) { self.program = program }

    public func process(_ batch: [InboundMessage]) async throws -> BatchReport {
        var report = BatchReport()
        report.messages = batch.count
        var effects = BatchEffects()

        let clock = ContinuousClock()
        var mark = clock.now
        func lap(_ stage: String) {
            let now = clock.now
            report.stages[stage, default: .zero] += now - mark
            mark = now
        }

        // 1. Decode and validate; bad input goes to the quarantine, tombstones are skipped.
        var decoded: [Change] = []
        decoded.reserveCapacity(batch.count)
        for message in batch {
            report.byTopic[message.topic, default: 0] += 1
            switch decoder.decode(topic: message.topic, key: message.key, value: message.value) {
            case .change(let change): decoded.append(change)
            case .tombstone: report.tombstones += 1
            case .rejected(let reason): effects.quarantine.append(QuarantinedMessage(message: message, reason: reason))
            }
        }
        report.quarantined = effects.quarantine.count
        report.changes = decoded.count
        lap("decode")

        // 2. Link records without keys; learn account links from records that carry both.
        var linker = EntityLinker(catalog: catalog)
        let needs = linker.needs(decoded, knownRegistrations: registrations)
        let facts = try await store.lookup(enterprises: needs.enterprises, accounts: needs.accounts, names: needs.names)
        registrations.merge(facts.registrations) { _, new in new }
        linker.learn(facts, from: decoded)
        var linked = decoded.map { linker.link($0) }
        effects.accountLinks = linker.newLinks
        let newAccounts = Set(linker.newLinks.map(\.accountNo))
        if !newAccounts.isEmpty {
            // Records kept as unlinked until now whose account just became known.
            let waiting = try await store.unlinkedChanges(accounts: newAccounts)
            let relinked = waiting.map { linker.link($0) }.filter { $0.entity != nil }
            report.relinked = relinked.count
            linked += relinked
        }
        report.unlinked = linked.count { $0.entity == nil }
        lap("link")

        // 3. Registrations change divisions; then the feature windows (one round trip).
        var updates: [FeatureUpdate] = []
        updates.reserveCapacity(linked.count)
        for item in linked {
            guard let entity = item.entity, entity.kind == .enterprise else { continue }
            var previous: String?
            if item.change.topic == Registration.topic {
                previous = registrations[entity.id]?.division
                registrations[entity.id] = Registration(registrationFields: item.change.fields)
            }
            updates.append(FeatureUpdate(
                change: item.change, entity: entity, division: registrations[entity.id]?.division, previousDivision: previous))
        }
        try await features.apply(updates, industrySeries: program.industrySeries, historyTopics: historyTopics)
        lap("features")

        // 4. Evaluate every enterprise the batch touched (one round trip to read their records).
        let entities = Array(Set(updates.map(\.entity))).sorted()
        report.entitiesEvaluated = entities.count
        let records = try await features.records(of: entities, topics: currentTopics, historyTopics: historyTopics)
        lap("read")
        var alerted: [(division: String, uscc: String)] = []
        var divisionClock: [String: Day] = [:]
        for entity in entities {
            let evaluation = evaluate(entity, records: records[entity] ?? [:])
            let asOf = evaluation.asOf
            let registration = registrations[entity.id] ?? Registration(division: nil, district: nil)
            for firing in evaluation.firings {
                effects.alerts.append(AlertRecord(
                    firing: firing, subject: .entity(entity), ruleSetVersion: program.version, asOf: asOf,
                    registration: registration))
                if firing.severity >= .high, let division = registration.division {
                    alerted.append((division, entity.id))
                }
            }
            // An industry's monthly sums are complete up to the month its enterprises' series
            // feeds are complete (not up to a court listing's date).
            // An enterprise without records in those feeds does not move its industry's clock.
            let byTopic = records[entity] ?? [:]
            let complete = industrySeriesTopics.compactMap { topic in
                byTopic[topic]?.lazy.map(\.eventDay).max().map(EntitySnapshot.lastCompleteMonthEnd)
            }.min()
            if let division = registration.division, let complete {
                divisionClock[division] = max(divisionClock[division] ?? complete, complete)
            }
        }

        lap("evaluate")

        // 5. Industry rules for the divisions the batch touched.
        if hasIndustryRules, !divisionClock.isEmpty {
            let industries = try await features.industries(
                Set(divisionClock.keys), alerted: alerted, series: program.industrySeries, asOf: divisionClock)
            report.industriesEvaluated = industries.count
            for industry in industries {
                for firing in program.evaluate(industry) {
                    effects.alerts.append(AlertRecord(
                        firing: firing, subject: .industry(division: industry.division), ruleSetVersion: program.version,
                        asOf: industry.asOf, registration: Registration(division: industry.division, district: nil)))
                }
            }
        }
        report.firings = effects.alerts.count
        lap("industry")

        // 6. The store of record, in one transaction.
        effects.changes = linked
        try await store.commit(effects)
        lap("commit")
        return report
    }

    /// The live program's view of one entity now: its features and what would fire (API profiles).
    public func evaluate(_ entity: EntityKey) async throws -> EntityEvaluation {
        let records = try await features.records(of: [entity], topics: currentTopics, historyTopics: historyTopics)
        return evaluate(entity, records: records[entity] ?? [:])
    }

    private func evaluate(_ entity: EntityKey, records: [String: [FactRecord]]) -> EntityEvaluation {
        program.evaluate(snapshot.data(entity: entity.id, records: records, feeds: FeedClock()))
    }

    /// The program reads `topic#history` for the change history of a topic's records.
    private static let historySuffix = "#history"
    private var currentTopics: Set<String> { program.topicsUsed.filter { !$0.hasSuffix(Self.historySuffix) } }
    private var historyTopics: Set<String> {
        Set(program.topicsUsed.filter { $0.hasSuffix(Self.historySuffix) }.map { String($0.dropLast(Self.historySuffix.count)) })
    }

    /// The topics of the industry rules' monthly sums (`tax.payment` of `tax.payment.amount`).
    private var industrySeriesTopics: Set<String> {
        Set(program.industrySeries.map { $0.split(separator: ".").dropLast().joined(separator: ".") })
    }

    private var hasIndustryRules: Bool { program.rules.contains { $0.kind == .industry } }
}
