import RuleLanguage

/// The relational store of record (PostgreSQL): the credit information base, the quarantine,
/// account links, alerts and the relation graph. Implemented by `PostgresStore`; every call is one
/// round trip.
public protocol CreditStore: RelationReading {
    /// What the linker and the industry aggregation need to know before a batch is applied:
    /// registrations of the given enterprises, learned account links, and the enterprises whose
    /// normalised registered name is one of `names` (a name shared by several enterprises maps to
    /// all of them, and the linker refuses to guess).
    func lookup(enterprises: Set<String>, accounts: Set<String>, names: Set<String>) async throws -> LinkingFacts

    /// Records kept as unlinked whose account number is one of `accounts` or whose normalised
    /// customer name is one of `names`: to be linked now.
    func unlinkedChanges(accounts: Set<String>, names: Set<String>) async throws -> [Change]

    /// Records kept as unlinked that could be linked now, whoever stored them: their account is
    /// linked, or their normalised name is exactly one registered enterprise's. At most `limit`.
    func resolvableUnlinked(limit: Int) async throws -> [Change]

    /// Registered, not deleted enterprises (USCCs) after `after`, in order, at most `limit`.
    func enterprises(after: String?, limit: Int) async throws -> [String]

    /// Enterprises `ownership` owns whose evaluation waits (`BatchEffects.deferred`), in order,
    /// after `after`, at most `limit`.
    func pendingEvaluations(after: String?, limit: Int, ownership: Ownership) async throws -> [PendingEvaluation]

    /// Whether any enterprise of the city but `besides` waits for evaluation, whoever owns it.
    func hasPendingEvaluations(besides: [String]) async throws -> Bool

    /// Divisions evaluated by instances that do not judge industries (`BatchEffects.industriesPending`).
    func pendingIndustries() async throws -> [PendingIndustry]

    /// The latest alert of every rule for each subject (USCC, ID number or `industry:C30`):
    /// subject → rule → state.
    func alertStates(subjects: Set<String>) async throws -> [String: [String: AlertState]]

    /// Writes a batch's records: the current ones and their history (only a newer version replaces
    /// the current row), idempotently. The engine writes them while it updates the batch's
    /// features and evaluates it; `commit` writes the rest.
    func store(records: [LinkedChange]) async throws

    /// Writes a batch's effects in one transaction: quarantine rows, registrations, account links,
    /// the relation edges its records make (`TopicCatalog.relationChanges`, a newer version winning),
    /// alert withdrawals, reactivations and new alerts (inserted idempotently by natural key) with
    /// their events, scores with their history, tag memberships with theirs, and the feature
    /// sequence. Throws `Fenced` (and writes nothing) when `effects.fence` no longer holds.
    func commit(_ effects: BatchEffects) async throws

    /// This store's identity and the last feature sequence a committed batch carried: what the
    /// feature store must have applied (see `FeatureSync`).
    func featureSync() async throws -> FeatureSync

    /// Claims `partitions` of the changes topic for `instance`: each gets a new epoch (waiting for
    /// a commit fenced on it to end), returned per partition. See `PartitionFence`.
    func claim(_ partitions: Set<Int32>, instance: String) async throws -> [Int32: Int64]

    /// Current records (deleted ones as deletes), in (topic, key) order after `after`, at most
    /// `limit`: the feature windows rebuilt from the store of record.
    func storedRecords(after: RecordCursor?, limit: Int) async throws -> [StoredRecord]

    /// Every stored version of the linked records of `topics`, in (topic, key, version) order after
    /// `after`, at most `limit`: the history that `#history` features read.
    func storedVersions(of topics: Set<String>, after: RecordCursor?, limit: Int) async throws -> [StoredRecord]
}

/// How the feature store is known to hold everything the store of record holds. Every batch that
/// updates features carries the next sequence number: Redis records it after the batch's updates
/// (in the same connection, so it is persisted after them), PostgreSQL with the batch's commit.
/// Redis without the marker, with another store's identity, or behind PostgreSQL's sequence (a
/// flush, a failover to an empty or lagging replica, a restart that lost its last second) has lost
/// data, and the windows are rebuilt from PostgreSQL before anything is evaluated. Both sides only
/// grow, so instances that mark their batches in any order never make Redis look behind.
public struct FeatureSync: Sendable, Hashable {
    /// The PostgreSQL store's identity (a UUID drawn once by its migrations).
    public var storeID: String
    public var sequence: Int64
    /// What the feature store keeps (`FeaturePlan.description` of the program it was last written
    /// for); nil from the store of record, and from a feature store written before plans existed.
    public var keeps: String?

    public init(storeID: String, sequence: Int64, keeps: String? = nil) {
        self.storeID = storeID
        self.sequence = sequence
        self.keeps = keeps
    }
}

/// A record as the store of record holds it, with what it is linked to.
public struct StoredRecord: Sendable {
    public let change: Change
    /// The linked entity (nil: unlinked).
    public let entity: EntityKey?
    /// The division of the linked enterprise's registration, if known.
    public let division: String?

    public init(change: Change, entity: EntityKey?, division: String?) {
        self.change = change
        self.entity = entity
        self.division = division
    }

    public var cursor: RecordCursor { RecordCursor(topic: change.topic, key: change.key, version: change.version) }
}

/// Where a walk over stored records stands.
public struct RecordCursor: Sendable, Hashable {
    public var topic: String
    public var key: String
    public var version: Int64

    public init(topic: String, key: String, version: Int64) {
        self.topic = topic
        self.key = key
        self.version = version
    }
}

public struct LinkingFacts: Sendable {
    public var registrations: [String: Registration]
    /// account number → USCC.
    public var accounts: [String: String]
    /// normalised enterprise name → USCCs registered under it.
    public var names: [String: [String]]

    public init(registrations: [String: Registration] = [:], accounts: [String: String] = [:], names: [String: [String]] = [:]) {
        self.registrations = registrations
        self.accounts = accounts
        self.names = names
    }
}

/// The feature store (Redis): event-time windows per enterprise and per industry division.
/// Implemented by `RedisFeatures`; every call is one pipelined round trip.
public protocol FeatureStore: Sendable {
    /// Applies each change's contribution atomically and idempotently: a change already applied
    /// (same or older version) changes nothing, an update replaces the old contribution, a delete
    /// removes it. Industry windows of `industrySeries` (`topic.field`) are updated the same way.
    /// Records keep only the fields `plan` names; the versions of its history topics are kept too.
    /// With `marking`, the marker then moves to it as by `markSynced` (in the same round trip as
    /// the industry windows' update: a batch's features take one round trip less).
    func apply(_ updates: [FeatureUpdate], plan: FeaturePlan, marking: FeatureSync?) async throws

    /// The current records of each entity in the plan's read topics (and `topic#history` versions
    /// of its history topics), with the fields the plan keeps, ready for evaluation.
    func records(of entities: [EntityKey], plan: FeaturePlan) async throws -> [EntityKey: [String: [FactRecord]]]

    /// Whether the records read from now on are worth keeping for the next batches (an evaluation
    /// while changes flow), or are read once (one ending a backlog's wait). Default: none kept.
    func keepLedgersRead(_ keep: Bool)

    /// Forgets records that no window of the program reads any more (`Retention`): each listed
    /// record of an entity's topic whose stored event day is still before `before` (one stored
    /// since with a later day stays). Window sums and the store of record are left as they are.
    func forget(_ expired: [ExpiredRecords]) async throws

    /// Moves enterprises' contributions to the industry series of `plan` from one division's
    /// windows to another's (a registration that names a new division; records that arrived before
    /// their enterprise's registration had none). Idempotent like `apply`.
    func move(_ moves: [DivisionMove], plan: FeaturePlan) async throws

    /// Records each evaluated enterprise's standing in its division — whether it has an active
    /// high or critical alert, its leader-ranking measure and its values of the program's peer
    /// measures — then reads the divisions' aggregates (population, alerted, monthly sums of
    /// `series`, the top `leaders` enterprises, the figures of each of `peers`). A division's
    /// months of a series topic before `forgetting[division][topic]` are deleted, sums and ledgers:
    /// no window reads them any more (`Retention.industryMonthsKept`).
    func industries(
        _ divisions: Set<String>, standings: [IndustryStanding], series: Set<String>, leaders: Int,
        peers: [PeerMeasure], asOf: [String: Day], forgetting: [String: [String: Month]]
    ) async throws -> [IndustryData]

    /// Records each enterprise's values of the ranked measures (`peer_rank`) in its groups (its
    /// division; its division in its district). With `wake`, answers the other enterprises of those
    /// groups whose standing against one of them flipped — a value that moved from below theirs to
    /// above, or onto it — so that their ranks are computed again.
    func recordRanked(_ values: [RankedValues], measures: [RankedMeasure], wake: Bool) async throws -> Set<String>

    /// Where each enterprise stands by its value among the other enterprises of its groups, as
    /// recorded, by USCC.
    func ranks(_ values: [RankedValues], measures: [RankedMeasure]) async throws -> [String: [RankedMeasure: PeerRank]]

    /// The city's feed clock as stored (empty at first start).
    func feedClock() async throws -> FeedClock

    /// Stores the feeds whose latest day moved.
    func saveFeedClock(_ clock: FeedClock) async throws

    /// Enterprises with records in `topic`: an absence rule over it must see them all when the
    /// feed moves to a new period, since a silent enterprise sends nothing that would wake it.
    func entities(in topic: String) async throws -> [EntityKey]

    /// The marker of what this feature store holds (nil: none — an empty or foreign store).
    func featureSync() async throws -> FeatureSync?

    /// Deletes all it holds, marker included: what another store of record wrote, before it is
    /// rebuilt from this one (a rebuild over it would keep that store's records and sums).
    func clear() async throws

    /// Records that every update applied so far (in this connection) is durable up to `sync`; the
    /// stored sequence never decreases while the store is the same; `sync.keeps` (the plan the
    /// updates were applied with) is recorded as it is.
    func markSynced(_ sync: FeatureSync) async throws
}

extension FeatureStore {
    public func keepLedgersRead(_ keep: Bool) {}

    /// `apply(_:plan:marking:)` without moving the marker.
    public func apply(_ updates: [FeatureUpdate], plan: FeaturePlan) async throws {
        try await apply(updates, plan: plan, marking: nil)
    }
}

/// Records of one entity's topic that the feature store can forget: dated before `before`.
public struct ExpiredRecords: Sendable, Hashable {
    public let entity: EntityKey
    public let topic: String
    public let keys: [String]
    public let before: Day
    /// For an enterprise's industry series topic: its own monthly sums of the months before this go
    /// too (nil: none). Only a record of such a month, arriving late, would read them again.
    public let sumsBefore: Month?

    public init(entity: EntityKey, topic: String, keys: [String], before: Day, sumsBefore: Month? = nil) {
        self.entity = entity
        self.topic = topic
        self.keys = keys
        self.before = before
        self.sumsBefore = sumsBefore
    }
}

/// One change to apply to the feature windows, with what it is about.
public struct FeatureUpdate: Sendable {
    public let change: Change
    public let entity: EntityKey
    /// The division of the enterprise's registration (industry windows), if known.
    public let division: String?
    /// For registrations: the division the enterprise leaves, so its membership moves.
    public let previousDivision: String?

    public init(change: Change, entity: EntityKey, division: String?, previousDivision: String? = nil) {
        self.change = change
        self.entity = entity
        self.division = division
        self.previousDivision = previousDivision
    }
}

/// An enterprise whose division changed: its contributions to the industry series leave `from`
/// (nil: it was in none) for `to`.
public struct DivisionMove: Sendable {
    public let uscc: String
    public let from: String?
    public let to: String

    public init(uscc: String, from: String?, to: String) {
        self.uscc = uscc
        self.from = from
        self.to = to
    }
}

/// An enterprise's values of the ranked measures (`RuleProgram.rankedValues`) and the groups it is
/// ranked in.
public struct RankedValues: Sendable, Hashable {
    public let uscc: String
    public let division: String
    public let district: String?
    /// By measure key; absent when unknown (then it is not among its groups' values).
    public let values: [String: Double]

    public init(uscc: String, division: String, district: String?, values: [String: Double]) {
        self.uscc = uscc
        self.division = division
        self.district = district
        self.values = values
    }
}

/// An evaluated enterprise's standing in its division, for industry rules.
public struct IndustryStanding: Sendable, Hashable {
    public let division: String
    public let uscc: String
    /// Whether it has an active high or critical alert after this evaluation.
    public let alerted: Bool
    /// Its value of the leader-ranking feature (nil: not ranked, e.g. unknown).
    public let measure: Double?
    /// Its values of the program's peer measures by key (`EntityEvaluation.peers`; absent: unknown).
    public let peers: [String: Double]

    public init(division: String, uscc: String, alerted: Bool, measure: Double?, peers: [String: Double] = [:]) {
        self.division = division
        self.uscc = uscc
        self.alerted = alerted
        self.measure = measure
        self.peers = peers
    }
}
