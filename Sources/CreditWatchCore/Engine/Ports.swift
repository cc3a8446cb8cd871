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

    /// Writes a batch's effects in one transaction: quarantine rows, current records and their
    /// history (only a newer version replaces the current row), account links, and alerts
    /// (inserted idempotently by natural key, suppressed while an earlier window of the same rule
    /// and subject is within the rule's cool-down).
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

    /// Marks enterprises as having an active high or critical alert in their division, then reads
    /// the divisions' aggregates (population, alerted, monthly sums of `series`).
    func industries(_ divisions: Set<String>, alerted: [(division: String, uscc: String)], series: Set<String>, asOf: [String: Day]) async throws -> [IndustryData]
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
