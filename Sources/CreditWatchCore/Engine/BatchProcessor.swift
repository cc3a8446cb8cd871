import RuleLanguage

/// What one batch did, for logs and metrics.
public struct BatchReport: Sendable, Hashable {
    public var messages = 0
    /// The messages' keys and values.
    public var bytes = 0
    public var changes = 0
    public var tombstones = 0
    public var quarantined = 0
    public var unlinked = 0
    public var relinked = 0
    public var entitiesEvaluated = 0
    public var industriesEvaluated = 0
    public var firings = 0
    /// Alerts withdrawn because their condition stopped holding.
    public var withdrawn = 0
    /// Enterprises re-evaluated because a feed of an absence rule entered a new period.
    public var swept = 0
    /// Enterprises whose evaluation waits for ingest to catch up.
    public var deferred = 0
    /// Records the feature store forgot: no window reads them any more (`Retention`).
    public var forgotten = 0
    /// Whether enterprises still wait for evaluation after this batch.
    public var evaluationPending = false
    /// Whether divisions evaluated live wait for the next industry judgement (at most
    /// `BatchProcessor.industryInterval`; not a backlog).
    public var industriesWaiting = false
    /// Messages per topic (for per-topic metrics).
    public var byTopic: [String: Int] = [:]
    /// Time spent per stage (decode, link, features, evaluate, industry, commit).
    public var stages: [String: Duration] = [:]

    public init() {}

    /// The report of two consecutive parts of one batch (a bisected batch) as one.
    public mutating func add(_ other: BatchReport) {
        messages += other.messages
        changes += other.changes
        tombstones += other.tombstones
        quarantined += other.quarantined
        unlinked += other.unlinked
        relinked += other.relinked
        entitiesEvaluated += other.entitiesEvaluated
        industriesEvaluated += other.industriesEvaluated
        firings += other.firings
        withdrawn += other.withdrawn
        swept += other.swept
        deferred += other.deferred
        forgotten += other.forgotten
        evaluationPending = other.evaluationPending
        industriesWaiting = other.industriesWaiting
        byTopic.merge(other.byTopic, uniquingKeysWith: +)
        stages.merge(other.stages, uniquingKeysWith: +)
    }
}

/// The engine's work on one batch of department messages: decode and validate, link records to
/// enterprises, update the feature windows, evaluate the rule program for every entity (and
/// division) the batch touched, and write everything to the store of record in one transaction.
///
/// Alerts are states (see `AlertLifecycle`): raised once when a rule starts to hold, withdrawn
/// with the reason when it stops.
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
    /// What the feature store keeps for `program`.
    private var plan: FeaturePlan
    /// How `program`'s relation paths are walked over the graph.
    private var walker: RelationWalker
    /// What the feature store may forget of what `program` evaluates.
    private var retention: Retention
    /// The stored graph the walks have read, kept between batches (one instance).
    private let storedRelations: RelationCache
    /// Where the walks read the stored graph: a shared city's store changes behind any cache.
    private var storedGraph: any RelationReading { ownership.isWhole ? storedRelations : store }
    /// Registrations seen so far (enterprise → division/district): saves a lookup per batch.
    private var registrations: [String: Registration] = [:]
    private let snapshot: EntitySnapshot

    public init(
        catalog: TopicCatalog, program: RuleProgram, features: any FeatureStore, store: any CreditStore,
        maxEvaluationDeferral: Duration = .seconds(300), evaluationLimit: Int = defaultEvaluationLimit
    ) {
        self.catalog = catalog
        self.maxEvaluationDeferral = maxEvaluationDeferral
        self.evaluationLimit = max(1, evaluationLimit)
        self.decoder = ChangeDecoder(catalog: catalog)
        self.features = features
        self.store = store
        self.storedRelations = RelationCache(base: store)
        self.program = program
        self.plan = FeaturePlan(program: program, catalog: catalog)
        self.walker = RelationWalker(paths: program.relationPaths, schema: catalog.schema)
        self.retention = Retention(program: program, plan: plan)
        self.snapshot = EntitySnapshot(catalog: catalog)
    }

    public var ruleSetVersion: String { program.version }

    /// The live program's features that are personal data (masked wherever shown).
    public var personalFeatures: [String: PersonalData] { program.personalFeatures }

    /// What the feature store keeps for the live program.
    public var featurePlan: FeaturePlan { plan }

    /// Swaps the rule program between batches (hot reload). The active alerts of rules the new
    /// set no longer has are withdrawn with the next batch's transaction; when the new set reads a
    /// field the feature store does not keep, the next batch rebuilds the store first.
    public func replace(program: RuleProgram) {
        let kept = Set(program.rules.map(\.name))
        retired.formUnion(self.program.rules.map(\.name).filter { !kept.contains($0) })
        retired.subtract(kept)
        if program.version != self.program.version { reevaluation = (nil, program.version) }
        self.program = program
        self.plan = FeaturePlan(program: program, catalog: catalog)
        self.walker = RelationWalker(paths: program.relationPaths, schema: catalog.schema)
        self.retention = Retention(program: program, plan: plan)
        walkedWhileWaiting = []
    }

    /// Whether a batch without messages has work: retiring rules, and once ingest has caught up (or
    /// the wait is over), re-evaluating after a reload and evaluating what waited for the backlog.
    /// When the city is shared (see `Ownership`), other instances leave work here too: once caught
    /// up, an idle instance looks for it every `sharedWorkInterval`, and looks again at the records
    /// its last batch could not link.
    public func hasPendingWork(caughtUp: Bool) -> Bool {
        if !retired.isEmpty { return true }
        guard caughtUp || waitIsOver(at: .now) else { return false }
        if reevaluation != nil || pendingRemains != false { return true }
        if !waitingDivisions.isEmpty, industryJudgementDue(at: .now) { return true }
        guard !ownership.isWhole else { return false }
        return !recheck.isEmpty || ContinuousClock.now - lastLook >= Self.sharedWorkInterval
    }

    /// The partitions this instance owned in its last batch.
    private var ownership = Ownership.whole
    /// This process in the partitions' claims, and the epochs of its claims (`PartitionFence`).
    private let instance = String(UInt64.random(in: 0...UInt64.max), radix: 36)
    private var claims: [Int32: Int64] = [:]
    /// When this instance last looked for work other instances left it.
    private var lastLook = ContinuousClock.now
    static let sharedWorkInterval = Duration.seconds(1)
    /// Unlinked records that have become linkable, swept up per batch when instances share the city.
    static let sweepLimit = 1000
    /// What the last batch could not link, and the accounts and names it learned, looked at again
    /// by the next batch once the last one is committed: an instance that stores a record unlinked
    /// while another stores its enterprise's registration finds it linkable then, or the other
    /// does (each looks after its own commit), whatever the interleaving.
    private var recheck = Recheck()

    struct Recheck {
        var unlinked: [Change] = []
        var accounts: Set<String> = []
        var names: Set<String> = []
        var isEmpty: Bool { unlinked.isEmpty && accounts.isEmpty && names.isEmpty }
    }

    /// Evaluation has waited for the backlog as long as it may.
    private func waitIsOver(at now: ContinuousClock.Instant) -> Bool {
        deferredSince.map { now - $0 >= maxEvaluationDeferral } ?? true
    }

    /// The longest evaluation waits for a backlog to drain (see `process`).
    private let maxEvaluationDeferral: Duration
    /// When evaluation began to wait for the backlog (nil: it does not wait).
    private var deferredSince: ContinuousClock.Instant?
    /// Whether the next evaluation ends a wait (a start is one: ingest starts by draining).
    private var evaluationWaited = true
    /// Whether enterprises wait for evaluation in the store of record (nil: not read yet).
    private var pendingRemains: Bool?
    /// Divisions whose enterprises were evaluated while more were pending: judged once none are;
    /// and, live, those evaluated since the last judgement, until the next one is due.
    private var waitingDivisions: [String: Day] = [:]
    /// While changes flow (one instance), the industries are judged at most every
    /// `industryInterval`, with the divisions evaluated meanwhile; their enterprises' standings are
    /// recorded with every batch. A division's figures are monthly: judging them with every batch
    /// (~50 divisions at 2 000 events/s) took ~8 ms of each 70 ms batch. A backlog's end is
    /// judged at once, so that alerts stay a function of the data.
    public static let industryInterval = Duration.seconds(1)
    /// When the industries were last judged (nil: not yet).
    private var lastIndustryJudgement: ContinuousClock.Instant?

    private func industryJudgementDue(at now: ContinuousClock.Instant) -> Bool {
        lastIndustryJudgement.map { now - $0 >= Self.industryInterval } ?? true
    }
    /// The most enterprises a batch evaluates (beyond a live batch's changed ones, see step 5): a
    /// batch holds its enterprises' effects (scores with explanations, alerts, tags) until it
    /// commits, so this, not the city, bounds the memory of an evaluation. Pending enterprises fill
    /// it while the stream is quiet (a batch without messages after one that was not live: a
    /// backlog drained, an idle city) and in the batch that ends a wait (its changes waited for the
    /// backlog already); while changes flow, only `livePendingChunk` do, since the changes' alerts
    /// should not wait for them. A messageless batch between two live ones is live too: the changes
    /// that arrive while it runs wait for it (measured at 2 000 events/s, one of 750 woken peers
    /// took 361 ms). At 10 000 enterprises the batch that ends a backfill's wait had touched ~2 000
    /// and read 2 000 pending: evaluated at once, they took the daemon from ~200 to 455–574 MiB;
    /// bounded, its peak was 341.
    let evaluationLimit: Int
    public static let defaultEvaluationLimit = 2000
    static let livePendingChunk = 250
    /// Whether the last batch processed was live: it carried messages and did not end a wait.
    private var lastBatchLive = false
    /// Enterprises this instance has left pending in the store of record and not evaluated since
    /// (one instance: it alone adds and removes them), up to `knownPendingLimit`.
    private var knownPending: Set<String> = []
    static let knownPendingLimit = 200_000
    /// Entities the walk back went from while evaluation waits (one instance; see step 4).
    private var walkedWhileWaiting: Set<EntityKey> = []

    /// Where the re-evaluation after a reload stands: the last enterprise done (nil: from the
    /// start) and the rule set it is for.
    private var reevaluation: (after: String?, version: String)?
    static let reevaluationChunk = 2000

    /// Rules taken out of the live set whose alerts are still to be withdrawn.
    private var retired: Set<String> = []

    /// Processes one batch. `caughtUp`: ingest has handed over everything there is on every
    /// partition it reads (else evaluation waits: see step 5).
    /// `ownership`: the enterprises this instance decides for (see `Ownership`).
    public func process(_ batch: [InboundMessage], caughtUp: Bool = true, ownership: Ownership = .whole) async throws -> BatchReport {
        try await process(decoded(batch), caughtUp: caughtUp, ownership: ownership)
    }

    /// A batch with its messages decoded: decoding is pure, so the ingest loop decodes the next
    /// batch of a backlog while this one is processed.
    public struct DecodedBatch: Sendable {
        public let messages: [InboundMessage]
        let outcomes: [DecodeOutcome]
        /// Reported as the batch's decode stage, wherever it ran.
        let took: Duration
    }

    /// `ahead`: beside the batch before it, in one lane (the other core is that batch's).
    public nonisolated func decoded(_ batch: [InboundMessage], ahead: Bool = false) async -> DecodedBatch {
        let start = ContinuousClock.now
        let outcomes = await Self.decode(batch, decoder, lanes: ahead ? 1 : Self.lanes)
        return DecodedBatch(messages: batch, outcomes: outcomes, took: .now - start)
    }

    public func process(_ decodedBatch: DecodedBatch, caughtUp: Bool = true, ownership: Ownership = .whole) async throws -> BatchReport {
        let batch = decodedBatch.messages
        // The whole batch runs on the program live when it starts: a reload (another call on this
        // actor, possible at any suspension point below) takes effect with the next batch.
        let program = self.program
        let plan = self.plan
        let walker = self.walker
        let retention = self.retention
        var report = BatchReport()
        report.messages = batch.count
        report.bytes = batch.reduce(0) { $0 + $1.bytes }
        var effects = BatchEffects()
        if ownership != self.ownership {
            // Scores and tags written by another owner meanwhile are not what this process wrote.
            lastWritten = [:]
            self.ownership = ownership
        }
        let shared = !ownership.isWhole
        // Other instances write edges too; a batch that fails may have written some of its own.
        var committed = false
        if shared { storedRelations.clear() }
        defer { if !committed { storedRelations.clear() } }
        effects.restampDeferred = shared
        if shared {
            // Partitions newly assigned are claimed before anything is read for a decision.
            claims = claims.filter { ownership.owned.contains($0.key) }
            let unclaimed = ownership.owned.subtracting(claims.keys)
            if !unclaimed.isEmpty { claims.merge(try await store.claim(unclaimed, instance: instance)) { $1 } }
            effects.fence = PartitionFence(instance: instance, claims: claims)
        }
        let recheck = shared ? self.recheck : Recheck()

        let stopwatch = ContinuousClock()
        var mark = stopwatch.now
        func lap(_ stage: String) {
            let now = stopwatch.now
            report.stages[stage, default: .zero] += now - mark
            mark = now
        }

        // 0. The feature store must hold what the store of record holds, else it is rebuilt first.
        var sync = try await featuresInSync(program, plan: plan)
        lap("sync")

        // 1. Decode and validate; bad input goes to the quarantine, tombstones are skipped.
        var decoded: [Change] = []
        decoded.reserveCapacity(batch.count)
        // By index: a pair of `zip` copied every message (four references retained and released).
        for index in batch.indices {
            report.byTopic[batch[index].topic, default: 0] += 1
            switch decodedBatch.outcomes[index] {
            case .change(let change): decoded.append(change)
            case .tombstone: report.tombstones += 1
            case .rejected(let reason): effects.quarantine.append(QuarantinedMessage(message: batch[index], reason: reason))
            }
        }
        report.quarantined = effects.quarantine.count
        report.changes = decoded.count
        lap("decode")
        report.stages["decode", default: .zero] += decodedBatch.took

        // 2. Link records without keys; learn account links from records that carry both.
        //    Several instances: this instance re-checks what its last batch kept unlinked (another
        //    may have learned the account meanwhile), and every batch also sweeps up unlinked
        //    records that can be linked now, whoever stored them: an instance killed between
        //    storing them and re-checking them would otherwise leave them unlinked for good.
        var linker = EntityLinker(catalog: catalog)
        let swept = shared ? try await store.resolvableUnlinked(limit: Self.sweepLimit) : []
        let needs = linker.needs([decoded, recheck.unlinked, swept].joined(), knownRegistrations: registrations)
        let facts = try await store.lookup(enterprises: needs.enterprises, accounts: needs.accounts, names: needs.names)
        registrations.merge(facts.registrations) { _, new in new }
        linker.learn(facts, from: decoded)
        var linked = decoded.map { linker.link($0) }
        effects.accountLinks = linker.newLinks
        let newAccounts = Set(linker.newLinks.map(\.accountNo))
        let (accounts, names) = (newAccounts.union(recheck.accounts), linker.newNames.union(recheck.names))
        var waiting = recheck.unlinked + swept
        if !accounts.isEmpty || !names.isEmpty {
            // Records kept as unlinked until now whose account or name just became known: the
            // departments' histories arrive in any order.
            waiting += try await store.unlinkedChanges(accounts: accounts, names: names)
        }
        if !waiting.isEmpty {
            var seen = Set(decoded.map { "\($0.topic)/\($0.key)" })
            let relinked = waiting.map { linker.link($0) }.filter { $0.entity != nil && seen.insert("\($0.change.topic)/\($0.change.key)").inserted }
            report.relinked = relinked.count
            linked += relinked
        }
        report.unlinked = linked.count { $0.entity == nil }
        lap("link")
        // The edges the batch moves or removes wake where they led before too (a former sister's
        // count of sisters drops): the walk back over the graph as stored, before this batch's
        // records are, from the entities whose edges change.
        let relationChanges = walker.isEmpty ? [] : linked.flatMap(catalog.relationChanges)
        let storedGraph = self.storedGraph
        let rewired = Set(relationChanges.map(\.subject))
        var formerlyAffected: Set<EntityKey> = []
        if !rewired.isEmpty {
            var before = RelationGraph()
            formerlyAffected = try await walker.affected(by: rewired, graph: &before, store: storedGraph)
        }
        // The records go to the store of record while the features are updated and the batch is
        // evaluated (nothing below reads them back); the batch commits only once they are stored,
        // and a batch that fails first waits for the write to end before it is retried.
        async let stored: Void = store.store(records: linked)
        lap("relations")

        // 3. Registrations change divisions; then the feature windows (one round trip).
        var updates: [FeatureUpdate] = []
        updates.reserveCapacity(linked.count)
        var divisionChanges: [String: (from: String?, to: String)] = [:]
        for item in linked {
            guard let entity = item.entity else { continue }
            // A person's records are kept only where the program reads them: for the relation
            // features of the enterprises related to the person.
            guard entity.kind == .enterprise || plan.readTopics.contains(item.change.topic) else { continue }
            var previous: String?
            if item.change.topic == Registration.topic {
                previous = registrations[entity.id]?.division
                registrations[entity.id] = Registration(registrationFields: item.change.fields)
                if let now = registrations[entity.id]?.division, now != previous {
                    divisionChanges[entity.id] = (divisionChanges[entity.id]?.from ?? previous, now)
                }
            }
            updates.append(FeatureUpdate(
                change: item.change, entity: entity, division: registrations[entity.id]?.division, previousDivision: previous))
        }
        if !updates.isEmpty {
            sync.sequence += 1
            effects.featureSequence = sync.sequence
        }
        try await features.apply(updates, plan: plan, marking: updates.isEmpty ? nil : sync)
        // An enterprise registered in a new division (or registered after its records arrived)
        // takes its contributions to the industry series along: the windows end as if the
        // registration came first.
        if !divisionChanges.isEmpty, !program.industrySeries.isEmpty {
            try await features.move(
                divisionChanges.sorted { $0.key < $1.key }.map { DivisionMove(uscc: $0.key, from: $0.value.from, to: $0.value.to) },
                plan: plan)
        }
        lap("features")

        // 4. The city's feed clock; a monthly feed entering a new month wakes every enterprise of
        //    that feed for the absence rules, since a silent enterprise sends nothing.
        let before = try await loadedFeedClock()
        var clock = before
        // Other instances move the city's clock too.
        if shared { clock.merge(try await features.feedClock()) }
        for item in linked {
            let change = item.change
            clock.observe(topic: change.topic, day: snapshot.businessDay(topic: change.topic, eventDay: change.eventDay, fields: change.fields))
        }
        let changed = Set(updates.map(\.entity))
        var touched = changed.filter { $0.kind == .enterprise }
        // The relation graph as this batch leaves it; its reverse walk wakes the enterprises whose
        // relation features read what changed (a person's listing, a sister's records, an edge).
        var graph = RelationGraph(changes: relationChanges)
        // Whether evaluation waits for the backlog (step 5).
        let started = ContinuousClock.now
        if caughtUp { deferredSince = nil } else if deferredSince == nil { deferredSince = started }
        let evaluating = waitIsOver(at: started)
        let waited = evaluationWaited
        if !walker.isEmpty {
            var endpoints = graph
            // While evaluation waits (one instance), what a walk from an entity wakes is left
            // pending until the wait ends, so an entity walked from earlier in the wait is not walked
            // from again: a new way to or from it has a changed edge, walked from its subject and
            // target (and a former one from its old ends, above).
            var sources = changed
            if !shared, !evaluating {
                let edgeEnds = rewired.union(relationChanges.compactMap(\.edge?.target))
                sources = changed.filter { !walkedWhileWaiting.contains($0) || edgeEnds.contains($0) }
            }
            let affected = try await walker.affected(by: sources, graph: &endpoints, store: storedGraph).union(formerlyAffected)
            touched.formUnion(affected.filter { $0.kind == .enterprise })
        }
        for topic in program.absenceTopics.sorted() {
            guard let now = clock.latest[topic], before.latest[topic].map({ $0.month < now.month }) ?? true else { continue }
            let sweep = try await features.entities(in: topic).filter { ownership.owns($0.id) }
            report.swept += sweep.count
            touched.formUnion(sweep)
        }
        // 5. While a backlog drains (ingest has not yet read all there is on every partition: a
        //    department's history sent at once, a restart after an outage), evaluation waits: the
        //    touched enterprises are kept as pending in the store of record and evaluated once
        //    ingest has caught up, each once, on all of its data. Alerts and their events are then a
        //    function of the data, not of how it was split into batches, partitions and topics;
        //    and a backfill evaluates each enterprise once instead of once per batch. A backlog
        //    that never drains still gets evaluated every `maxEvaluationDeferral`.
        var reevaluated: [String] = []
        var morePending = false
        // Peers woken by this batch's ranks wait in the store of record (they do not hold up the
        // industries: their standing is recorded, only their ranks moved).
        var wokePeers = false
        var evaluatedDivisions: [String: Day] = [:]
        var industriesWait = false
        var industriesJudged = false
        var recordingStandings: Task<Void, any Error>?
        var forgetting: Task<Void, any Error>?
        var pendingWrites: [String: (score: Int?, tags: Int?)] = [:]
        if !evaluating {
            let deferred = touched.filter { $0.kind == .enterprise }.map(\.id)
            report.deferred = deferred.count
            // What already waits is not written again: a backfill's batches touch most of the city
            // each, so that was a row per enterprise per batch.
            effects.deferred = (shared ? deferred : deferred.filter { !knownPending.contains($0) }).sorted()
            lap("clock")
        } else {
            // Enterprises another instance owns are left to it.
            let others = touched.filter { $0.kind == .enterprise && !ownership.owns($0.id) }
            if !others.isEmpty {
                touched.subtract(others)
                effects.deferred = others.map(\.id).sorted()
                report.deferred = effects.deferred.count
            }
            // The batch that ends a wait touched enterprises that already wait in the store of record:
            // they are evaluated from there, in its order, since evaluated here as well they stayed
            // pending and were evaluated twice (2 000 of a 3 000-enterprise backfill, with their
            // ranks read a third time).
            if waited, !shared {
                touched = touched.filter { $0.kind != .enterprise || !knownPending.contains($0.id) }
            }
            // A newly loaded rule set re-evaluates every registered enterprise, a chunk per batch (an
            // idle stream gets empty batches for it: see `hasPendingWork`).
            if let cursor = reevaluation {
                reevaluated = try await store.enterprises(after: cursor.after, limit: Self.reevaluationChunk)
                let owned = reevaluated.filter(ownership.owns)
                report.swept += owned.count
                touched.formUnion(owned.map { EntityKey(.enterprise, $0) })
            }
            // At most `evaluationLimit` enterprises: what the batch woke beyond it waits in the store
            // of record like the pending ones, so neither the city (a feed's new month wakes all of
            // its enterprises) nor the batch that ends a wait (it touched thousands) bounds the
            // memory. A live batch's changed enterprises are always evaluated: their alerts should
            // not wait, and their withdrawals name the changes.
            var beyondLimit: [String] = []
            if touched.count > evaluationLimit {
                let kept = touched.filter { $0.kind != .enterprise || (!waited && changed.contains($0)) }
                let waiting = touched.subtracting(kept).sorted().dropFirst(max(0, evaluationLimit - kept.count))
                beyondLimit = waiting.map(\.id)
                touched.subtract(waiting)
                effects.deferred = Set(effects.deferred).union(waiting.map(\.id)).sorted()
                report.deferred = effects.deferred.count
                morePending = true
            }
            if pendingRemains != false || shared {
                let chunk = min(
                    waited || (batch.isEmpty && !lastBatchLive) ? evaluationLimit : Self.livePendingChunk,
                    evaluationLimit - touched.count)
                if chunk > 0 {
                    let pending = try await store.pendingEvaluations(after: nil, limit: chunk, ownership: ownership)
                    morePending = morePending || pending.count == chunk
                    effects.evaluatedPending = pending
                    touched.formUnion(pending.map { EntityKey(.enterprise, $0.uscc) })
                } else {
                    morePending = true
                }
                lastLook = ContinuousClock.now
            }
            // Enterprises woken without a message of theirs in this batch (the linker looked up the
            // others' registrations already): theirs.
            try await register(touched.subtracting(changed).filter { $0.kind == .enterprise }.map(\.id))
            lap("clock")
            // The ledger cache keeps what live evaluations read, not the reads of a wait's end.
            let features = self.features
            features.keepLedgersRead(!waited && effects.evaluatedPending.isEmpty)
            // A wait ends in several batches, or a reloaded rule set's re-evaluation goes through
            // the city in several: ranks are read once every enterprise that waits (every one, for
            // a reload: its measures may be new) has recorded its values, as when one batch
            // evaluates them all.
            let reloadStarts = reevaluation.map { $0.after == nil } ?? false
            let reloadSpreads = reloadStarts && (morePending || reevaluated.count == Self.reevaluationChunk)
            if (waited && morePending) || reloadSpreads, !program.rankedMeasures.isEmpty {
                let woken = try await recordRanksAhead(
                    beyondLimit, then: reloadSpreads ? .registered : .pending(after: effects.evaluatedPending.last?.uscc),
                    evaluating: Set(touched.map(\.id)), graph: &graph, feeds: clock, ownership: ownership)
                if !woken.isEmpty {
                    effects.deferred = Set(effects.deferred).union(woken).sorted()
                    wokePeers = true
                }
                lap("rank")
            }

            // 6. Evaluate every entity the batch touched and the pending ones (one round trip for
            //    their alerts' states, one per chunk for their records, the next chunk read while
            //    this one is evaluated on every core), score the enterprises, decide their alerts.
            //    Chunks bound the memory a batch needs, whatever the city's size.
            let entities = touched.sorted()
            // Their alerts' states are read from the store of record while the ranks are, with
            // those of the divisions that may be judged.
            let candidateDivisions = Set(entities.compactMap { registrations[$0.id]?.division }).union(waitingDivisions.keys)
            async let statesRead = store.alertStates(
                subjects: Set(entities.map(\.id)).union(candidateDivisions.map { AlertRecord.Subject.industry(division: $0).id }))
            // 6a. Ranks among peers (`peer_rank`): every enterprise's values are recorded before any
            //     is ranked; the peers whose standing they moved wait in the store of record, and are
            //     ranked again once however many batches move them.
            var ranks: [String: [RankedMeasure: PeerRank]] = [:]
            var loaded = Loaded()
            if !program.rankedMeasures.isEmpty {
                let values = try await rankedValues(
                    of: entities, graph: &graph, program: program, plan: plan, walker: walker, feeds: clock, keeping: &loaded)
                lap("read")
                let woken: [String]
                (ranks, woken) = try await rank(values, of: entities, program: program, ownership: ownership)
                if !woken.isEmpty {
                    effects.deferred = Set(effects.deferred).union(woken).sorted()
                    wokePeers = true
                }
                lap("rank")
            }
            report.entitiesEvaluated = entities.count
            var states = try await statesRead
            lap("read")
            // A withdrawal's reason names the changes that ended the alert only when its evaluation
            // followed them (live). After a wait, which batch happened to carry a change is an
            // accident of arrival, so the reason is read from the records alone: the same alert
            // events whatever the batches, partitions and topic order.
            let changesByEntity = waited ? [:] : Dictionary(grouping: linked.filter { $0.entity != nil }, by: { $0.entity! })
            let waitedFor = Set(effects.evaluatedPending.map(\.uscc))
            let enterpriseRules = Set(program.rules.filter { $0.kind == .enterprise }.map(\.name))
            var standings: [IndustryStanding] = []
            var divisionClock: [String: Day] = [:]
            var expired: [ExpiredRecords] = []
            let chunks = entities.chunks(of: Self.evaluationChunk)
            // What the ranks read already is not read again.
            func read(_ chunk: [EntityKey]) -> Task<[EntityKey: [String: [FactRecord]]], any Error> {
                Task { [loaded] in loaded.holds(chunk) ? loaded.records : try await features.records(of: chunk, plan: plan) }
            }
            var reading = chunks.first.map(read)
            for (index, chunk) in chunks.enumerated() {
                let records = try await reading!.value
                reading = index + 1 < chunks.count ? read(chunks[index + 1]) : nil
                let related: [EntityKey: [String: [RelatedEntity]]]
                if loaded.holds(chunk) { related = loaded.related } else {
                    related = try await relatedData(of: chunk, graph: &graph, feeds: clock, walker: walker, plan: plan)
                }
                lap("read")
                let evaluated = await Self.evaluate(
                    chunk, records: records, related: related, ranks: ranks, program: program, snapshot: snapshot, feeds: clock,
                    prepared: loaded.holds(chunk) ? loaded.data : [:])
                lap("evaluate")
                for item in evaluated {
                    let (entity, data, evaluation, score) = (item.entity, item.data, item.evaluation, item.score)
                    let registration = registrations[entity.id] ?? Registration(division: nil, district: nil)
                    let firings = evaluation.firings.map { firing in
                        let topics = program.absenceTopics(of: firing.rule)
                        return AlertRecord(
                            firing: firing, subject: .entity(entity), ruleSetVersion: program.version,
                            asOf: topics.isEmpty ? data.asOf : CompiledRule.absenceAsOf(topics, data), registration: registration)
                    }
                    effects.record(AlertLifecycle.decide(
                        firings: firings, suspended: Set(evaluation.suspended), liveRules: enterpriseRules,
                        states: states[entity.id] ?? [:],
                        changes: waitedFor.contains(entity.id) ? [] : (changesByEntity[entity] ?? []).map(\.change), asOf: data.asOf,
                        ruleSetVersion: program.version, endTimes: snapshot.endTimes, records: data.records,
                        readTopics: plan.readTopics))
                    // Scores and tags are written when they changed since this process last wrote them:
                    // most re-evaluations within a month change neither.
                    var written: (score: Int?, tags: Int?) = (nil, nil)
                    if let score {
                        let fingerprint = Self.fingerprint(score)
                        if lastWritten[entity.id]?.score != fingerprint {
                            effects.scores.append(score)
                            written.score = fingerprint
                        }
                    }
                    if entity.kind == .enterprise {
                        let fingerprint = Self.fingerprint(evaluation.tags)
                        if lastWritten[entity.id]?.tags != fingerprint {
                            effects.tags.append(EnterpriseTags(
                                uscc: entity.id, asOf: data.asOf, ruleSetVersion: program.version, memberships: evaluation.tags))
                            written.tags = fingerprint
                        }
                    }
                    if written.score != nil || written.tags != nil { pendingWrites[entity.id] = written }
                    if !retention.isEmpty {
                        let cited = Set((states[entity.id] ?? [:]).values.filter { $0.status == .active }.flatMap(\.sources))
                        expired += retention.expired(entity, data, snapshot: snapshot, cited: cited)
                    }
                    guard let division = registration.division else { continue }
                    standings.append(program.standing(of: entity.id, in: division, evaluation))
                    if let complete = item.seriesComplete { divisionClock[division] = max(divisionClock[division] ?? complete, complete) }
                }
                lap("evaluate")
            }
            // What no window reads any more is forgotten (Redis holds a look-back, not a history), while
            // the industries are judged and the batch commits (Redis beside PostgreSQL; after a backfill
            // it took ~0.3 s of the batch ending the wait).
            if !expired.isEmpty {
                forgetting = Task { [expired] in try await features.forget(expired) }
                report.forgotten = expired.reduce(0) { $0 + $1.keys.count }
            }

            // 7. Industry rules for the divisions the batch touched, through the same lifecycle; while
            //    pending enterprises remain, only their standings are recorded (an industry is judged
            //    once all of its enterprises stand where their data says).
            evaluatedDivisions = waitingDivisions.merging(divisionClock, uniquingKeysWith: max)
            industriesWait = program.hasIndustryRules && !shared && !morePending && !waited && !industryJudgementDue(at: started)
            if program.hasIndustryRules, shared {
                // A shared city's industries are judged by the owner of partition 0 once no
                // enterprise of the city waits; until then the divisions wait in the store of record.
                var judging = ownership.ownsCity && !morePending && effects.deferred.isEmpty
                if judging { judging = try await !store.hasPendingEvaluations(besides: effects.evaluatedPending.map(\.uscc)) }
                if judging {
                    effects.judgedIndustries = try await store.pendingIndustries()
                    for left in effects.judgedIndustries { evaluatedDivisions[left.division] = max(evaluatedDivisions[left.division] ?? left.asOf, left.asOf) }
                } else {
                    effects.industriesPending = evaluatedDivisions
                    evaluatedDivisions = [:]
                }
            }
            if program.hasIndustryRules, morePending || industriesWait || (shared && evaluatedDivisions.isEmpty) {
                // Only the standings (idempotent: the enterprises' current state), recorded while the
                // batch commits; the next judgement reads them.
                let (leaders, peers) = (program.leaderRanking?.top ?? 0, program.peerMeasures)
                recordingStandings = Task { [standings] in
                    _ = try await features.industries([], standings: standings, series: [], leaders: leaders, peers: peers, asOf: [:], forgetting: [:])
                }
            } else if program.hasIndustryRules, !evaluatedDivisions.isEmpty {
                // Divisions other instances left to be judged (a shared city) were not read with the rest.
                let unread = Set(evaluatedDivisions.keys).subtracting(candidateDivisions).map { AlertRecord.Subject.industry(division: $0).id }
                if !unread.isEmpty { states.merge(try await store.alertStates(subjects: Set(unread))) { $1 } }
                let industries = try await features.industries(
                    Set(evaluatedDivisions.keys), standings: standings, series: program.industrySeries,
                    leaders: program.leaderRanking?.top ?? 0, peers: program.peerMeasures, asOf: evaluatedDivisions,
                    forgetting: evaluatedDivisions.mapValues(retention.industryMonthsKept))
                report.industriesEvaluated = industries.count
                industriesJudged = true
                let industryRules = Set(program.rules.filter { $0.kind == .industry }.map(\.name))
                for industry in industries {
                    let subject = AlertRecord.Subject.industry(division: industry.division)
                    let firings = program.evaluate(industry).map {
                        AlertRecord(
                            firing: $0, subject: subject, ruleSetVersion: program.version, asOf: industry.asOf,
                            registration: Registration(division: industry.division, district: nil))
                    }
                    effects.record(AlertLifecycle.decide(
                        firings: firings, suspended: [], liveRules: industryRules, states: states[subject.id] ?? [:],
                        changes: [], asOf: industry.asOf, ruleSetVersion: program.version))
                }
            }
        }
        report.firings = effects.alerts.count + effects.reactivations.count
        report.withdrawn = effects.withdrawals.count
        lap("industry")

        // 8. The rest of the store of record, in one transaction once the records are stored; then
        //    the feed clock (re-observed on redelivery).
        effects.changes = linked
        let retiring = retired
        if !retiring.isEmpty {
            effects.retiredRules = RetiredRules(rules: retiring, ruleSetVersion: program.version, asOf: clock.latest.values.max() ?? Day(0))
        }
        try await stored
        // What the batch waited for the records' write (begun at step 2) beyond its own work.
        lap("records")
        try await store.commit(effects)
        try await recordingStandings?.value
        if let forgetting {
            lap("commit")
            try await forgetting.value
            lap("forget")
        }
        committed = true
        if shared {
            knownPending = []
            walkedWhileWaiting = []
        } else {
            storedRelations.forget(relationChanges)
            knownPending.subtract(effects.evaluatedPending.map(\.uscc))
            if knownPending.count < Self.knownPendingLimit { knownPending.formUnion(effects.deferred) }
            if evaluating {
                walkedWhileWaiting = []
            } else if walkedWhileWaiting.count < Self.knownPendingLimit {
                walkedWhileWaiting.formUnion(changed)
            }
        }
        knownSync = sync
        retired.subtract(retiring)
        evaluationWaited = !evaluating
        lastBatchLive = !batch.isEmpty && !waited
        if evaluating {
            if let cursor = reevaluation, cursor.version == program.version {
                reevaluation = reevaluated.count < Self.reevaluationChunk ? nil : (reevaluated.last, program.version)
            }
            pendingRemains = morePending || wokePeers
            waitingDivisions = (morePending || industriesWait) && !shared ? evaluatedDivisions : [:]
            if industriesJudged { lastIndustryJudgement = started }
            // An overdue evaluation goes on until nothing waits; then the next wait starts.
            if !caughtUp, !morePending { deferredSince = ContinuousClock.now }
        } else {
            pendingRemains = true
        }
        report.evaluationPending = pendingRemains != false
        report.industriesWaiting = !waitingDivisions.isEmpty
        for (id, written) in pendingWrites {
            var last = lastWritten[id] ?? (nil, nil)
            if let score = written.score { last.score = score }
            if let tags = written.tags { last.tags = tags }
            lastWritten[id] = last
        }
        if clock != before { try await features.saveFeedClock(clock) }
        feedClock = clock
        self.recheck = shared ? Recheck(unlinked: linked.filter { $0.entity == nil }.map(\.change), accounts: newAccounts, names: linker.newNames) : Recheck()
        lap("commit")
        return report
    }

    /// Decodes `batch` on every lane (decoding is pure), in the batch's order.
    static func decode(_ batch: [InboundMessage], _ decoder: ChangeDecoder, lanes: Int = lanes) async -> [DecodeOutcome] {
        await inLanes(batch, atLeast: 256, lanes: lanes) { decoder.decode(topic: $0.topic, key: $0.key, value: $0.value) }
    }

    /// Entities evaluated per round trip for their records.
    static let evaluationChunk = 500
    /// Tasks run side by side for the pure parts of a batch (decoding, evaluation).
    static let lanes = 2

    /// `transform` of every item, in order, computed in up to `lanes` tasks of at least `atLeast`
    /// items each (fewer items stay in one task: a task costs more than a little work).
    static func inLanes<Item: Sendable, Result: Sendable>(
        _ items: [Item], atLeast: Int, lanes: Int = lanes, _ transform: @escaping @Sendable (Item) -> Result
    ) async -> [Result] {
        let count = max(1, min(lanes, items.count / atLeast))
        let size = (items.count + count - 1) / count
        return await withTaskGroup(of: (Int, [Result]).self) { group in
            for lane in 0..<count {
                let part = items[min(lane * size, items.count)..<min((lane + 1) * size, items.count)]
                group.addTask { (lane, part.map(transform)) }
            }
            var parts: [[Result]] = Array(repeating: [], count: count)
            for await (lane, part) in group { parts[lane] = part }
            return parts.flatMap { $0 }
        }
    }

    /// One entity's evaluation, computed off the actor.
    struct Evaluated: Sendable {
        let entity: EntityKey
        let data: EntityData
        let evaluation: EntityEvaluation
        let score: ScoreResult?
        /// The end of the last month complete in all of the program's industry series feeds for this
        /// enterprise (nil: it has no records there). An industry's monthly sums are complete up to
        /// where its enterprises' series feeds are (not up to a court listing's date).
        let seriesComplete: Day?
    }

    /// Evaluates (and scores) `entities` on every lane: evaluation is pure.
    static func evaluate(
        _ entities: [EntityKey], records: [EntityKey: [String: [FactRecord]]], related: [EntityKey: [String: [RelatedEntity]]] = [:],
        ranks: [String: [RankedMeasure: PeerRank]] = [:], program: RuleProgram, snapshot: EntitySnapshot, feeds: FeedClock,
        prepared: [EntityKey: EntityData] = [:]
    ) async -> [Evaluated] {
        let seriesTopics = program.industrySeriesTopics
        let shown = program.engineFeatures
        return await inLanes(entities.map { ($0, records[$0] ?? [:], related[$0] ?? [:]) }, atLeast: 1) { entity, byTopic, related in
            // `prepared`: made from these same records, related entities and feeds by the ranking.
            var data = prepared[entity] ?? snapshot.data(
                entity: entity.id, kind: entity.kind == .person ? .person : .enterprise, records: byTopic, feeds: feeds, related: related)
            data.ranks = ranks[entity.id] ?? [:]
            let (evaluation, score) = entity.kind == .enterprise
                ? program.evaluateAndScore(data, features: shown) : (program.evaluate(data, features: .only([])), nil)
            let complete = seriesTopics.compactMap { topic in
                byTopic[topic]?.lazy.map(\.eventDay).max().map(EntitySnapshot.lastCompleteMonthEnd)
            }.min()
            return Evaluated(entity: entity, data: data, evaluation: evaluation, score: score, seriesComplete: complete)
        }
    }

    /// What the first phase of a ranking evaluation read, kept for the evaluation up to a budget of
    /// records (~85 MiB at ~280 bytes a decoded record: most of the batch that ends a backfill's wait
    /// on a 3 000-enterprise city, ~340 000 records; chunks beyond it are read again, so memory stays
    /// bounded whatever the city's size).
    struct Loaded {
        var records: [EntityKey: [String: [FactRecord]]] = [:]
        var related: [EntityKey: [String: [RelatedEntity]]] = [:]
        /// The ranked enterprises' data as the ranks were evaluated on: the evaluation starts from it
        /// (`EntitySnapshot.data` walks every record; it was ~5 % of a live batch's CPU, done twice).
        var data: [EntityKey: EntityData] = [:]
        private var kept: Set<EntityKey> = []
        private var count = 0
        private let budget: Int

        init(budget: Int = 300_000) { self.budget = budget }

        /// Keeps what was read of `chunk` while the budget allows.
        mutating func keep(
            _ chunk: [EntityKey], records: [EntityKey: [String: [FactRecord]]], related: [EntityKey: [String: [RelatedEntity]]], data: [EntityData]
        ) {
            let more = records.values.reduce(0) { $0 + $1.values.reduce(0) { $0 + $1.count } }
            guard count + more <= budget else { return }
            count += more
            kept.formUnion(chunk)
            self.records.merge(records) { $1 }
            self.related.merge(related) { $1 }
            for item in data { self.data[EntityKey(.enterprise, item.entity)] = item }
        }

        func holds(_ chunk: [EntityKey]) -> Bool { chunk.allSatisfy(kept.contains) }
    }

    /// Looks up the registrations (division, district) of those of `enterprises` not known yet.
    private func register(_ enterprises: [String]) async throws {
        let unknown = Set(enterprises.filter { registrations[$0] == nil })
        guard !unknown.isEmpty else { return }
        registrations.merge(try await store.lookup(enterprises: unknown, accounts: [], names: []).registrations) { _, new in new }
    }

    /// Where the enterprises recorded ahead come from after those waiting beyond the batch: the
    /// pending ones (after a cursor), or every registered enterprise.
    enum RanksAhead { case pending(after: String?), registered }

    /// Records the ranked measures' values of the enterprises that wait beyond this batch (`waiting`,
    /// then `rest`), a page of `evaluationLimit` at a time so that memory stays bounded; answers the
    /// enterprises this instance owns outside them and `evaluating` whose standing those values
    /// moved (see `rank`).
    private func recordRanksAhead(
        _ waiting: [String], then rest: RanksAhead, evaluating: Set<String>, graph: inout RelationGraph, feeds: FeedClock,
        ownership: Ownership
    ) async throws -> Set<String> {
        var recorded = evaluating
        var woken: Set<String> = []
        for page in waiting.chunks(of: evaluationLimit) {
            try await recordRanks(of: page, recorded: &recorded, woken: &woken, graph: &graph, feeds: feeds)
        }
        var cursor: String?
        if case .pending(let after) = rest { cursor = after }
        while true {
            let page = switch rest {
            case .pending: try await store.pendingEvaluations(after: cursor, limit: evaluationLimit, ownership: ownership).map(\.uscc)
            case .registered: try await store.enterprises(after: cursor, limit: evaluationLimit)
            }
            try await recordRanks(of: page.filter(ownership.owns), recorded: &recorded, woken: &woken, graph: &graph, feeds: feeds)
            guard page.count == evaluationLimit else { break }
            cursor = page.last
        }
        return woken.subtracting(recorded).filter(ownership.owns)
    }

    /// Records the ranked values of those of `page` not `recorded` yet, adding them to it and the
    /// enterprises whose standing they moved to `woken` (see `recordRanksAhead`).
    private func recordRanks(
        of page: [String], recorded: inout Set<String>, woken: inout Set<String>, graph: inout RelationGraph, feeds: FeedClock
    ) async throws {
        let fresh = page.filter { recorded.insert($0).inserted }
        guard !fresh.isEmpty else { return }
        try await register(fresh)
        var nothingKept = Loaded(budget: 0)
        let values = try await rankedValues(
            of: fresh.map { EntityKey(.enterprise, $0) }, graph: &graph, program: program, plan: plan, walker: walker, feeds: feeds,
            keeping: &nothingKept)
        woken.formUnion(try await features.recordRanked(values, measures: program.rankedMeasures, wake: true))
    }

    /// The first phase of evaluating `entities` when the program ranks (`peer_rank`), once their
    /// `values` are read: every enterprise's values recorded in its groups before any is ranked (so
    /// the batch's enterprises see each other, whatever their order), the peers this instance owns
    /// whose standing those values moved woken, then where each stands.
    private func rank(
        _ values: [RankedValues], of entities: [EntityKey], program: RuleProgram, ownership: Ownership
    ) async throws -> (ranks: [String: [RankedMeasure: PeerRank]], woken: [String]) {
        let measures = program.rankedMeasures
        let evaluated = Set(entities.map(\.id))
        let woken = try await features.recordRanked(values, measures: measures, wake: true)
            .filter { ownership.owns($0) && !evaluated.contains($0) }.sorted()
        return (try await features.ranks(values, measures: measures), woken)
    }

    /// `entities`' values of the ranked measures, read in the evaluation's chunks (the next chunk's
    /// records read while this one's related entities are); what was read is kept in `loaded`
    /// while its budget allows.
    private func rankedValues(
        of entities: [EntityKey], graph: inout RelationGraph, program: RuleProgram, plan: FeaturePlan, walker: RelationWalker, feeds: FeedClock,
        keeping loaded: inout Loaded
    ) async throws -> [RankedValues] {
        let chunks = entities.chunks(of: Self.evaluationChunk)
        let features = self.features
        var reading = chunks.first.map { first in Task { try await features.records(of: first, plan: plan) } }
        var values: [RankedValues] = []
        for (index, chunk) in chunks.enumerated() {
            let related = try await relatedData(of: chunk, graph: &graph, feeds: feeds, walker: walker, plan: plan)
            let records = try await reading!.value
            reading = index + 1 < chunks.count ? Task { [next = chunks[index + 1]] in try await features.records(of: next, plan: plan) } : nil
            let ranked = await Self.rankedData(
                chunk, records: records, related: related, registrations: registrations, program: program, snapshot: snapshot, feeds: feeds)
            loaded.keep(chunk, records: records, related: related, data: ranked.map(\.data))
            values += ranked.map(\.values)
        }
        return values
    }

    /// The values of the ranked measures (`RuleProgram.rankedValues`) of each of `entities` that is a
    /// registered enterprise with a division, on every lane.
    static func rankedValues(
        _ entities: [EntityKey], records: [EntityKey: [String: [FactRecord]]], related: [EntityKey: [String: [RelatedEntity]]],
        registrations: [String: Registration], program: RuleProgram, snapshot: EntitySnapshot, feeds: FeedClock
    ) async -> [RankedValues] {
        await rankedData(
            entities, records: records, related: related, registrations: registrations, program: program, snapshot: snapshot, feeds: feeds
        ).map(\.values)
    }

    /// `rankedValues`, each with the data it was evaluated on.
    static func rankedData(
        _ entities: [EntityKey], records: [EntityKey: [String: [FactRecord]]], related: [EntityKey: [String: [RelatedEntity]]],
        registrations: [String: Registration], program: RuleProgram, snapshot: EntitySnapshot, feeds: FeedClock
    ) async -> [(values: RankedValues, data: EntityData)] {
        let ranked = entities.compactMap { entity -> (EntityKey, Registration, String)? in
            guard entity.kind == .enterprise, let registration = registrations[entity.id], let division = registration.division else { return nil }
            return (entity, registration, division)
        }
        return await inLanes(ranked, atLeast: 64) { entity, registration, division in
            let data = snapshot.data(entity: entity.id, records: records[entity] ?? [:], feeds: feeds, related: related[entity] ?? [:])
            return (RankedValues(uscc: entity.id, division: division, district: registration.district, values: program.rankedValues(data)), data)
        }
    }

    /// The entities related to each of `entities` by the program's relation paths, with their own
    /// records (one round trip per step of the longest path, one for the records).
    private func relatedData(
        of entities: [EntityKey], graph: inout RelationGraph, feeds: FeedClock, walker: RelationWalker, plan: FeaturePlan
    ) async throws -> [EntityKey: [String: [RelatedEntity]]] {
        guard !walker.isEmpty else { return [:] }
        let reached = try await walker.related(to: entities, graph: &graph, store: storedGraph)
        let others = Set(reached.values.flatMap { $0.values.flatMap(\.keys) })
        let records = others.isEmpty ? [:] : try await features.records(of: others.sorted(), plan: plan)
        let data = walker.data(of: others, records: records, feeds: feeds, snapshot: snapshot)
        return reached.mapValues { walker.relatedData($0, data: data) }
    }

    /// Quarantines a message whose processing fails for a reason of its own (found by bisecting
    /// its batch), so that the messages after it go on.
    public func quarantine(_ message: InboundMessage, reason: String) async throws -> BatchReport {
        var effects = BatchEffects()
        effects.quarantine = [QuarantinedMessage(message: message, reason: reason)]
        try await store.commit(effects)
        var report = BatchReport()
        report.messages = 1
        report.bytes = message.bytes
        report.quarantined = 1
        report.byTopic[message.topic] = 1
        return report
    }

    // MARK: Feature store in sync

    /// PostgreSQL's feature sync as of the last commit of this process (nil: not read yet).
    private var knownSync: FeatureSync?
    private var rebuildObserver: (@Sendable (FeatureRebuild) -> Void)?

    /// Called when a rebuild starts (`finished` false) and when it ends: logs, health, metrics.
    public func observeRebuilds(_ observer: @escaping @Sendable (FeatureRebuild) -> Void) {
        rebuildObserver = observer
    }

    /// The sync the next batch continues from, after rebuilding the feature store when it lost
    /// data (see `FeatureSync`). One Redis round trip per batch.
    private func featuresInSync(_ program: RuleProgram, plan: FeaturePlan) async throws -> FeatureSync {
        var expected: FeatureSync
        if let knownSync { expected = knownSync } else { expected = try await store.featureSync() }
        expected.keeps = plan.description
        let held = try await features.featureSync()
        let reason: String
        switch held {
        case nil: reason = "the feature store has no marker (empty, flushed or new)"
        case let held? where held.storeID != expected.storeID:
            reason = "the feature store belongs to store \(held.storeID), not \(expected.storeID)"
        case let held? where held.sequence < expected.sequence:
            reason = "the feature store is at sequence \(held.sequence), PostgreSQL at \(expected.sequence) (lost writes)"
        case let held?:
            let missing = plan.missing(from: held.keeps)
            guard !missing.isEmpty else {
                // The store keeps this plan, less the records it forgot under an earlier one.
                expected.keeps = plan.description(after: held.keeps)
                if held.keeps != expected.keeps { try await features.markSynced(expected) }
                knownSync = expected
                return expected
            }
            reason = "the rule set reads what the feature store does not keep: \(missing.joined(separator: ", "))"
        }
        // Another store's records and division sums would stay beside this one's: cleared first.
        if let held, held.storeID != expected.storeID { try await features.clear() }
        _ = try await rebuild(program, plan: plan, sync: expected, reason: reason)
        knownSync = expected
        return expected
    }

    /// Rebuilds the feature store from the store of record, whatever it holds now: every current
    /// record (deleted ones as deletes), every version of the history topics, the feed clock, and
    /// every registered enterprise's standing in its division. Idempotent (the ledger skips what
    /// is already there), so an interrupted rebuild is simply run again.
    public func rebuildFeatures(reason: String) async throws -> FeatureRebuild {
        var sync = try await store.featureSync()
        sync.keeps = plan.description
        let result = try await rebuild(program, plan: plan, sync: sync, reason: reason)
        knownSync = sync
        return result
    }

    static let rebuildPage = 5000

    private func rebuild(_ program: RuleProgram, plan: FeaturePlan, sync: FeatureSync, reason: String) async throws -> FeatureRebuild {
        let started = ContinuousClock.now
        var result = FeatureRebuild(reason: reason)
        rebuildObserver?(result)
        var clock = FeedClock()
        var cursor: RecordCursor?
        while true {
            let page = try await store.storedRecords(after: cursor, limit: Self.rebuildPage)
            var updates: [FeatureUpdate] = []
            for record in page {
                let change = record.change
                clock.observe(topic: change.topic, day: snapshot.businessDay(topic: change.topic, eventDay: change.eventDay, fields: change.fields))
                guard let entity = record.entity, entity.kind == .enterprise || plan.readTopics.contains(change.topic) else { continue }
                if change.topic == Registration.topic, change.operation != .delete {
                    registrations[entity.id] = Registration(registrationFields: change.fields)
                }
                updates.append(FeatureUpdate(change: change, entity: entity, division: record.division))
            }
            try await features.apply(updates, plan: plan)
            result.records += page.count
            guard page.count == Self.rebuildPage, let last = page.last else { break }
            cursor = last.cursor
        }
        cursor = nil
        while !program.historyTopics.isEmpty {
            let page = try await store.storedVersions(of: program.historyTopics, after: cursor, limit: Self.rebuildPage)
            let updates = page.compactMap { record in
                record.entity.map { FeatureUpdate(change: record.change, entity: $0, division: record.division) }
            }
            try await features.apply(updates, plan: plan)
            result.versions += page.count
            guard page.count == Self.rebuildPage, let last = page.last else { break }
            cursor = last.cursor
        }
        var feeds = try await features.feedClock()
        feeds.merge(clock)
        try await features.saveFeedClock(feeds)
        feedClock = feeds
        // Each enterprise's standing in its division (alerted, leader measure), so that industry
        // rules see whole divisions again before anything is decided.
        var after: String?
        while true {
            let chunk = try await store.enterprises(after: after, limit: Self.reevaluationChunk)
            let entities = chunk.map { EntityKey(.enterprise, $0) }
            let missing = Set(chunk.filter { registrations[$0] == nil })
            if !missing.isEmpty {
                registrations.merge(try await store.lookup(enterprises: missing, accounts: [], names: []).registrations) { _, new in new }
            }
            let records = try await features.records(of: entities, plan: plan)
            var standings: [IndustryStanding] = []
            let shown = program.engineFeatures
            for entity in entities {
                guard let division = registrations[entity.id]?.division else { continue }
                let data = snapshot.data(entity: entity.id, records: records[entity] ?? [:], feeds: feeds)
                standings.append(program.standing(of: entity.id, in: division, program.evaluate(data, features: shown)))
            }
            _ = try await features.industries(
                [], standings: standings, series: [], leaders: program.leaderRanking?.top ?? 0, peers: program.peerMeasures, asOf: [:],
                forgetting: [:])
            // The district groups that ranks read (division groups are the peer measures above).
            let districtRanked = program.rankedMeasures.filter { $0.group == .district }
            if !districtRanked.isEmpty {
                let values = await Self.rankedValues(
                    entities, records: records, related: [:], registrations: registrations, program: program, snapshot: snapshot, feeds: feeds)
                _ = try await features.recordRanked(values, measures: districtRanked, wake: false)
            }
            result.enterprises += chunk.count
            guard chunk.count == Self.reevaluationChunk, let last = chunk.last else { break }
            after = last
        }
        try await features.markSynced(sync)
        result.duration = ContinuousClock.now - started
        result.finished = true
        rebuildObserver?(result)
        return result
    }

    /// What this process last wrote of each enterprise's score and tags (fingerprints), so that an
    /// unchanged score is not written again; empty after a restart (then each is written once).
    private var lastWritten: [String: (score: Int?, tags: Int?)] = [:]

    /// A score's content apart from its day: what `enterprise_score` and its history hold.
    static func fingerprint(_ score: ScoreResult) -> Int {
        var hasher = Hasher()
        hasher.combine(score.ruleSetVersion)
        hasher.combine(score.scorecardVersion)
        hasher.combine(score.score)
        hasher.combine(score.grade)
        hasher.combine(score.lines)
        hasher.combine(score.unassessed)
        hasher.combine(score.appliedOverride)
        return hasher.finalize()
    }

    static func fingerprint(_ tags: [TagMembership]) -> Int {
        var hasher = Hasher()
        hasher.combine(tags.map { [$0.tag, $0.tagVersion, $0.explanation] })
        return hasher.finalize()
    }

    /// The feed clock, read from the feature store once, then kept here (single writer).
    private var feedClock: FeedClock?
    private func loadedFeedClock() async throws -> FeedClock {
        if let feedClock { return feedClock }
        let loaded = try await features.feedClock()
        feedClock = loaded
        return loaded
    }

    /// The live program's view of one entity now: its features and what would fire (API profiles).
    public func evaluate(_ entity: EntityKey) async throws -> EntityEvaluation {
        program.evaluate(try await data(of: entity))
    }

    /// What the live program reads of one entity now (its windows, the city's feed clock).
    public func data(of entity: EntityKey) async throws -> EntityData {
        let records = try await features.records(of: [entity], plan: plan)
        let feeds = try await loadedFeedClock()
        var graph = RelationGraph()
        let related = try await relatedData(of: [entity], graph: &graph, feeds: feeds, walker: walker, plan: plan)
        var data = snapshot.data(
            entity: entity.id, kind: entity.kind == .person ? .person : .enterprise, records: records[entity] ?? [:], feeds: feeds,
            related: related[entity] ?? [:])
        if entity.kind == .enterprise, !program.rankedMeasures.isEmpty {
            // Where it stands among its peers' recorded values (a profile records nothing).
            if registrations[entity.id] == nil {
                registrations.merge(try await store.lookup(enterprises: [entity.id], accounts: [], names: []).registrations) { _, new in new }
            }
            let values = await Self.rankedValues(
                [entity], records: records, related: related, registrations: registrations, program: program, snapshot: snapshot, feeds: feeds)
            data.ranks = try await features.ranks(values, measures: program.rankedMeasures)[entity.id] ?? [:]
        }
        return data
    }
}

/// What the engine derives from a program to run it.
extension RuleProgram {
    /// The topics of the industry rules' monthly sums (`tax.payment` of `tax.payment.amount`).
    var industrySeriesTopics: Set<String> {
        Set(industrySeries.map { $0.split(separator: ".").dropLast().joined(separator: ".") })
    }

    var hasIndustryRules: Bool { rules.contains { $0.kind == .industry } }

    /// The feature values the engine reads of an evaluation (`standing`'s): the others are for a
    /// profile's display and are not computed in a batch unless a rule, tag or score reads them.
    var engineFeatures: FeatureValues { .only(leaderRanking.map { [$0.feature] } ?? []) }

    /// An evaluated enterprise's standing in its division: alerted when a high or critical rule
    /// fires, ranked by the leader-ranking feature.
    func standing(of uscc: String, in division: String, _ evaluation: EntityEvaluation) -> IndustryStanding {
        var measure: Double?
        if let ranking = leaderRanking, case .number(let n)? = evaluation.features[ranking.feature] { measure = n }
        return IndustryStanding(
            division: division, uscc: uscc, alerted: evaluation.firings.contains { $0.severity >= .high }, measure: measure,
            peers: evaluation.peers)
    }

    /// Feeds that absence rules declare: silence in them matters.
    var absenceTopics: Set<String> { Set(rules.flatMap(\.absenceTopics)) }

    func absenceTopics(of rule: String) -> [String] { rules.first { $0.name == rule }?.absenceTopics ?? [] }
}

/// A rebuild of the feature store from the store of record.
public struct FeatureRebuild: Sendable, Hashable {
    /// Why it was needed.
    public var reason: String
    /// Current records applied.
    public var records = 0
    /// Stored versions of history topics applied.
    public var versions = 0
    /// Enterprises whose division standing was recorded.
    public var enterprises = 0
    public var duration: Duration = .zero
    /// False when it starts, true when it has ended.
    public var finished = false

    public init(reason: String) { self.reason = reason }
}

extension Array {
    /// Consecutive slices of at most `size` elements, in order.
    func chunks(of size: Int) -> [[Element]] {
        stride(from: 0, to: count, by: size).map { Array(self[$0..<Swift.min($0 + size, count)]) }
    }
}
