import RuleLanguage

/// The relational store of record (PostgreSQL): the credit information base, the quarantine,
/// account links and alerts. Implemented by `PostgresStore`; every call is one round trip.
public protocol CreditStore: Sendable {
    /// What the linker and the industry aggregation need to know before a batch is applied:
    /// registrations of the given enterprises, learned account links, and the enterprises whose
    /// normalised registered name is one of `names` (a name shared by several enterprises maps to
    /// all of them, and the linker refuses to guess).
    func lookup(enterprises: Set<String>, accounts: Set<String>, names: Set<String>) async throws -> LinkingFacts

    /// Records kept as unlinked whose account number is one of `accounts`: to be linked now.
    func unlinkedChanges(accounts: Set<String>) async throws -> [Change]

    /// Registered, not deleted enterprises (USCCs) after `after`, in order, at most `limit`.
    func enterprises(after: String?, limit: Int) async throws -> [String]

    /// The latest alert of every rule for each subject (USCC, ID number or `industry:C30`):
    /// subject → rule → state.
    func alertStates(subjects: Set<String>) async throws -> [String: [String: AlertState]]

    /// Writes a batch's effects in one transaction: quarantine rows, current records and their
    /// history (only a newer version replaces the current row), account links, alert withdrawals,
    /// reactivations and new alerts (inserted idempotently by natural key) with their events,
    /// scores with their history, and tag memberships with theirs.
    func commit(_ effects: BatchEffects) async throws
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
    func apply(_ updates: [FeatureUpdate], industrySeries: Set<String>, historyTopics: Set<String>) async throws

    /// The current records of each entity in the given topics (and `topic#history` versions for
    /// `historyTopics`), ready for evaluation.
    func records(of entities: [EntityKey], topics: Set<String>, historyTopics: Set<String>) async throws -> [EntityKey: [String: [FactRecord]]]

    /// Records each evaluated enterprise's standing in its division — whether it has an active
    /// high or critical alert, and its leader-ranking measure — then reads the divisions'
    /// aggregates (population, alerted, monthly sums of `series`, the top `leaders` enterprises).
    func industries(
        _ divisions: Set<String>, standings: [IndustryStanding], series: Set<String>, leaders: Int,
        asOf: [String: Day]
    ) async throws -> [IndustryData]

    /// The city's feed clock as stored (empty at first start).
    func feedClock() async throws -> FeedClock

    /// Stores the feeds whose latest day moved.
    func saveFeedClock(_ clock: FeedClock) async throws

    /// Enterprises with records in `topic`: an absence rule over it must see them all when the
    /// feed moves to a new period, since a silent enterprise sends nothing that would wake it.
    func entities(in topic: String) async throws -> [EntityKey]
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

/// An evaluated enterprise's standing in its division, for industry rules.
public struct IndustryStanding: Sendable, Hashable {
    public let division: String
    public let uscc: String
    /// Whether it has an active high or critical alert after this evaluation.
    public let alerted: Bool
    /// Its value of the leader-ranking feature (nil: not ranked, e.g. unknown).
    public let measure: Double?

    public init(division: String, uscc: String, alerted: Bool, measure: Double?) {
        self.division = division
        self.uscc = uscc
        self.alerted = alerted
        self.measure = measure
    }
}
