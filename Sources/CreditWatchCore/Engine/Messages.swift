import RuleLanguage

/// One message as consumed from a department topic, before decoding.
public struct InboundMessage: Sendable, Hashable {
    public let topic: String
    public let partition: Int32
    public let offset: Int64
    public let key: [UInt8]?
    public let value: [UInt8]?
    /// Where the message was read when a router forwarded it (`RoutedMessage`): topic, partition
    /// and offset above are the department's, this is what the consumer commits. Nil: read from
    /// the department's topic itself.
    public let delivery: Delivery?

    /// What the message's key and value take.
    public var bytes: Int { (key?.count ?? 0) + (value?.count ?? 0) }

    public init(topic: String, partition: Int32, offset: Int64, key: [UInt8]?, value: [UInt8]?, delivery: Delivery? = nil) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.value = value
        self.delivery = delivery
    }

    /// The position the consumer commits past.
    public var deliveredAt: Delivery { delivery ?? Delivery(topic: topic, partition: partition, offset: offset) }
}

/// A message the engine could not accept, kept with its raw bytes and the precise reason so that
/// it can be listed and re-processed once the catalog or the data is fixed.
public struct QuarantinedMessage: Sendable, Hashable {
    public let message: InboundMessage
    public let reason: String

    public init(message: InboundMessage, reason: String) {
        self.message = message
        self.reason = reason
    }
}

/// Whom a record is about: an enterprise (by USCC) or a person (by resident ID number).
public struct EntityKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable { case enterprise, person }

    public let kind: Kind
    /// The USCC or the ID number.
    public let id: String

    public init(_ kind: Kind, _ id: String) {
        self.kind = kind
        self.id = id
    }

    public var description: String { id }

    public static func < (a: EntityKey, b: EntityKey) -> Bool { a.id < b.id }
}

/// A decoded change after entity linking. `entity` is nil when the record could not be linked
/// (kept in the credit information base as unlinked with `unlinkedReason`, linked later).
public struct LinkedChange: Sendable {
    public let change: Change
    public let entity: EntityKey?
    public let unlinkedReason: String?
    /// How `entity` was found; nil when unlinked. What data health counts as key coverage.
    public let linkedBy: LinkMethod?

    public init(change: Change, entity: EntityKey?, unlinkedReason: String? = nil, linkedBy: LinkMethod = .key) {
        self.change = change
        self.entity = entity
        self.unlinkedReason = unlinkedReason
        self.linkedBy = entity == nil ? nil : linkedBy
    }
}

/// How a record was linked to its entity (DOMAIN.md, "Low data quality").
public enum LinkMethod: String, Sendable, Hashable, CaseIterable {
    /// The record carried a valid USCC or ID number.
    case key
    /// By its utility account, once another record of the account carried a USCC.
    case account
    /// By the normalised name, matching exactly one registered enterprise.
    case name
}

/// Where an enterprise is registered: what industry-level monitoring and the dashboard group by.
public struct Registration: Sendable, Hashable {
    /// GB/T 4754 division, e.g. `C30`; nil when the registration's industry code is unknown.
    public let division: String?
    /// 6-digit district code.
    public let district: String?

    public init(division: String?, district: String?) {
        self.division = division
        self.district = district
    }

    /// The record topic whose changes are enterprise registrations.
    public static let topic = "market.enterprise"

    /// Division (from a valid GB/T 4754 `industry_code`) and district (`district_code`, empty
    /// counts as unknown) of a registration record's fields.
    public init(registrationFields fields: [String: Value]) {
        var division: String?
        if case .string(let code)? = fields["industry_code"] {
            division = (try? IndustryCode(validating: code))?.division
        }
        var district: String?
        if case .string(let code)? = fields["district_code"], !code.isEmpty { district = code }
        self.init(division: division, district: district)
    }
}

/// An alert as stored: a firing of a rule for an entity (or an industry) in an event-time window.
/// Its natural key is (rule, subject, window); storing it twice is a no-op.
public struct AlertRecord: Sendable, Hashable {
    public enum Subject: Hashable, Sendable {
        case entity(EntityKey)
        case industry(division: String)

        /// The stored subject id: the USCC / ID number, or `industry:C30`.
        public var id: String {
            switch self {
            case .entity(let key): key.id
            case .industry(let division): "industry:\(division)"
            }
        }

        public var kind: String {
            switch self {
            case .entity(let key): key.kind.rawValue
            case .industry: "industry"
            }
        }
    }

    public let firing: Firing
    public let subject: Subject
    public let ruleSetVersion: String
    /// The event-time reference day of the evaluation.
    public let asOf: Day
    public let registration: Registration

    public init(firing: Firing, subject: Subject, ruleSetVersion: String, asOf: Day, registration: Registration) {
        self.firing = firing
        self.subject = subject
        self.ruleSetVersion = ruleSetVersion
        self.asOf = asOf
        self.registration = registration
    }
}

/// Everything one batch writes to the relational store, in one transaction.
/// An enterprise waiting for its owner's evaluation; `stamp` changes each time it is deferred again.
public struct PendingEvaluation: Sendable, Hashable {
    public let uscc: String
    public let stamp: Int64

    public init(uscc: String, stamp: Int64) {
        self.uscc = uscc
        self.stamp = stamp
    }
}

/// A division whose enterprises were evaluated by an instance that does not judge industries.
public struct PendingIndustry: Sendable, Hashable {
    public let division: String
    /// The newest complete month of its series, as the evaluating instances saw it.
    public let asOf: Day
    public let stamp: Int64

    public init(division: String, asOf: Day, stamp: Int64) {
        self.division = division
        self.asOf = asOf
        self.stamp = stamp
    }
}

public struct BatchEffects: Sendable {
    public var quarantine: [QuarantinedMessage] = []
    /// The batch's linked changes: registrations are taken from them (the records themselves are
    /// written by `CreditStore.store(records:)`).
    public var changes: [LinkedChange] = []
    public var accountLinks: [AccountOwnership] = []
    /// New alerts (status active).
    public var alerts: [AlertRecord] = []
    public var reactivations: [AlertReactivation] = []
    public var withdrawals: [AlertWithdrawal] = []
    /// The evaluated enterprises' scores (one per enterprise).
    public var scores: [ScoreResult] = []
    /// The evaluated enterprises' tags: the whole membership of each (an enterprise listed without
    /// a tag it had leaves that tag).
    public var tags: [EnterpriseTags] = []
    /// Rules a reload took out of the live set: their active alerts are withdrawn.
    public var retiredRules: RetiredRules?
    /// The feature sequence of this batch's updates (nil: it updated no feature).
    public var featureSequence: Int64?
    /// Enterprises whose evaluation waits until ingest has caught up (kept until evaluated).
    public var deferred: [String] = []
    /// Whether an enterprise deferred again gets a new stamp (`PendingEvaluation`): when the city
    /// is shared, its owner may be evaluating it right now. One instance never races itself, so
    /// it leaves waiting rows alone (a backfill defers most enterprises in every batch).
    public var restampDeferred = false
    /// Enterprises that waited and were evaluated by this batch (as read: one deferred again since
    /// stays pending).
    public var evaluatedPending: [PendingEvaluation] = []
    /// Divisions whose enterprises this batch evaluated, for the instance that judges industries
    /// (with the newest complete month of their series), when that is another (see `Ownership`).
    public var industriesPending: [String: Day] = [:]
    /// Divisions judged by this batch, as read from the store of record.
    public var judgedIndustries: [PendingIndustry] = []
    /// The partitions this batch decided for, as this instance claimed them (nil: one instance
    /// decides for the whole city). The commit is refused when any was claimed by another since.
    public var fence: PartitionFence?

    public init() {}

    mutating func record(_ decisions: AlertDecisions) {
        alerts += decisions.raised
        reactivations += decisions.reactivated
        withdrawals += decisions.withdrawn
    }
}

/// Rules taken out of the live rule set.
public struct RetiredRules: Sendable, Hashable {
    public let rules: Set<String>
    /// The set that no longer has them.
    public let ruleSetVersion: String
    /// The city's event-time clock when they were retired.
    public let asOf: Day

    public init(rules: Set<String>, ruleSetVersion: String, asOf: Day) {
        self.rules = rules
        self.ruleSetVersion = ruleSetVersion
        self.asOf = asOf
    }

    /// Why their alerts are withdrawn (the same words as for a subject evaluated without the rule).
    public func reason(_ rule: String) -> String { "规则 \(rule) 已不在规则集 \(ruleSetVersion) 中" }
}

/// The tags one evaluated enterprise has now.
public struct EnterpriseTags: Sendable, Hashable {
    public let uscc: String
    public let asOf: Day
    public let ruleSetVersion: String
    public let memberships: [TagMembership]

    public init(uscc: String, asOf: Day, ruleSetVersion: String, memberships: [TagMembership]) {
        self.uscc = uscc
        self.asOf = asOf
        self.ruleSetVersion = ruleSetVersion
        self.memberships = memberships
    }
}

/// A utility account learned to belong to an enterprise (a record carried both).
public struct AccountOwnership: Sendable, Hashable {
    public let topicFamily: String
    public let accountNo: String
    public let uscc: String

    public init(topicFamily: String, accountNo: String, uscc: String) {
        self.topicFamily = topicFamily
        self.accountNo = accountNo
        self.uscc = uscc
    }
}
