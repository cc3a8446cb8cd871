import CreditWatchCore

/// What the store's read queries return to the API and the CLI: plain records. Their JSON is the
/// API's (`HTTPAPI`'s views), not theirs.

/// A stored alert.
public struct Alert: Sendable, Hashable {
    /// The feed cursor: increasing in the order alerts became visible.
    public var id: Int64
    public var rule: String
    public var ruleVersion: String
    public var ruleSetVersion: String
    /// `enterprise`, `person` or `industry`.
    public var subjectKind: String
    /// USCC, ID number, or `industry:C30`.
    public var subjectID: String
    /// Event-time window, `YYYY-MM`.
    public var window: String
    public var title: String
    public var severity: String
    public var category: String
    public var explanation: String
    public var values: [NamedJSONValue]
    /// `topic/key` of the records behind the values.
    public var sources: [String]
    /// `YYYY-MM-DD`: the event-time reference day of the evaluation.
    public var asOf: String
    /// ISO-8601 UTC: when the daemon stored the alert.
    public var processedAt: String
    public var division: String?
    public var district: String?
    public var score: ScoreEffect?
    /// `active`, `withdrawn` or `downgraded`.
    public var status: String
    /// Why and when the alert was withdrawn; nil while active.
    public var withdrawal: Withdrawal?

    public struct Withdrawal: Sendable, Hashable {
        public var asOf: String
        public var reason: String
        public var ruleSetVersion: String
        public init(asOf: String, reason: String, ruleSetVersion: String) {
            self.asOf = asOf
            self.reason = reason
            self.ruleSetVersion = ruleSetVersion
        }
    }

    public struct ScoreEffect: Sendable, Hashable {
        public var points: Int
        public var dimension: String
        public init(points: Int, dimension: String) {
            self.points = points
            self.dimension = dimension
        }
    }
}

/// `{"name": …, "value": …}`: a feature or parameter value, in the rule's order.
public struct NamedJSONValue: Sendable, Hashable {
    public var name: String
    public var value: JSONValue

    public init(name: String, value: JSONValue) {
        self.name = name
        self.value = value
    }
}

/// One page of the alert feed.
public struct AlertPage: Sendable, Hashable {
    public var alerts: [Alert]
    /// Pass as `after` to continue: the id of the last alert on this page, or the `after` given
    /// when the page is empty (so a poller keeps its place). Null only for an empty first page.
    public var nextCursor: Int64?
    /// Whether more alerts matching the filters follow right now.
    public var hasMore: Bool

    public init(alerts: [Alert], nextCursor: Int64?, hasMore: Bool) {
        self.alerts = alerts
        self.nextCursor = nextCursor
        self.hasMore = hasMore
    }
}

/// What the platform knows of one enterprise.
public struct EnterpriseProfile: Sendable, Hashable {
    public var uscc: String
    /// Nil when market supervision has not (yet) sent the registration.
    public var registration: EnterpriseRegistration?
    /// Current (not deleted) records about the enterprise, by department, then topic.
    public var facts: [DepartmentFacts]
    /// Active alerts, newest first.
    public var alerts: [Alert]

    public init(uscc: String, registration: EnterpriseRegistration?, facts: [DepartmentFacts], alerts: [Alert]) {
        self.uscc = uscc
        self.registration = registration
        self.facts = facts
        self.alerts = alerts
    }
}

/// An enterprise's registration as stored from `market.enterprise`.
public struct EnterpriseRegistration: Sendable, Hashable {
    public var name: String
    public var industryCode: String?
    /// GB/T 4754 division, e.g. `C30`.
    public var division: String?
    public var district: String?
    /// E.g. `存续`, `注销`.
    public var status: String?
    /// Whether market supervision deleted the registration row.
    public var deleted: Bool

    public init(name: String, industryCode: String?, division: String?, district: String?, status: String?, deleted: Bool) {
        self.name = name
        self.industryCode = industryCode
        self.division = division
        self.district = district
        self.status = status
        self.deleted = deleted
    }
}

/// The records one department holds about an entity.
public struct DepartmentFacts: Sendable, Hashable {
    /// The department's name from the topic catalog (e.g. `税务局`), or the topic's first word
    /// when the topic is no longer in the catalog.
    public var department: String
    public var topics: [TopicFacts]

    public init(department: String, topics: [TopicFacts]) {
        self.department = department
        self.topics = topics
    }
}

public struct TopicFacts: Sendable, Hashable {
    public var topic: String
    /// Ordered by event day, then key.
    public var records: [FactEntry]

    public init(topic: String, records: [FactEntry]) {
        self.topic = topic
        self.records = records
    }
}

/// One current record.
public struct FactEntry: Sendable, Hashable {
    public var key: String
    public var version: Int64
    /// `YYYY-MM-DD`.
    public var eventDay: String
    public var fields: [String: JSONValue]

    public init(key: String, version: Int64, eventDay: String, fields: [String: JSONValue]) {
        self.key = key
        self.version = version
        self.eventDay = eventDay
        self.fields = fields
    }
}

/// A quarantined message. Raw bytes are shown as text when they are valid UTF-8 (`key`, `value`),
/// else base64 (`key_base64`, `value_base64`); the other member of each pair is null.
public struct QuarantineEntry: Sendable, Hashable {
    public var id: Int64
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var key: String?
    public var keyBase64: String?
    public var value: String?
    public var valueBase64: String?
    public var reason: String
    /// ISO-8601 UTC.
    public var receivedAt: String
    public var reprocessedAt: String?

    public init(
        id: Int64, topic: String, partition: Int32, offset: Int64, key: [UInt8]?, value: [UInt8]?, reason: String,
        receivedAt: String, reprocessedAt: String?
    ) {
        self.id = id
        self.topic = topic
        self.partition = partition
        self.offset = offset
        (self.key, self.keyBase64) = QuarantineEntry.show(key)
        (self.value, self.valueBase64) = QuarantineEntry.show(value)
        self.reason = reason
        self.receivedAt = receivedAt
        self.reprocessedAt = reprocessedAt
    }

    static func show(_ bytes: [UInt8]?) -> (String?, String?) {
        guard let bytes else { return (nil, nil) }
        if let text = String(validating: bytes, as: UTF8.self) { return (text, nil) }
        return (nil, Base64.encode(bytes))
    }
}

public struct QuarantinePage: Sendable, Hashable {
    public var messages: [QuarantineEntry]
    /// As in `AlertPage`.
    public var nextCursor: Int64?
    public var hasMore: Bool

    public init(messages: [QuarantineEntry], nextCursor: Int64?, hasMore: Bool) {
        self.messages = messages
        self.nextCursor = nextCursor
        self.hasMore = hasMore
    }
}

/// Active alerts counted for the dashboard. A NULL division or district counts as `unknown`.
public struct AlertCounts: Sendable, Hashable {
    public var total: Int
    public var bySeverity: [String: Int]
    public var byCategory: [String: Int]
    public var byDivision: [String: Int]
    public var byDistrict: [String: Int]

    public init(
        total: Int = 0, bySeverity: [String: Int] = [:], byCategory: [String: Int] = [:],
        byDivision: [String: Int] = [:], byDistrict: [String: Int] = [:]
    ) {
        self.total = total
        self.bySeverity = bySeverity
        self.byCategory = byCategory
        self.byDivision = byDivision
        self.byDistrict = byDistrict
    }
}

/// Current records of one topic, for data-health figures.
public struct TopicRecordCount: Sendable, Hashable {
    public var topic: String
    /// Current, not deleted records.
    public var records: Int
    /// Of those, kept unlinked (no entity yet).
    public var unlinked: Int
    /// Deleted rows kept as tombstones.
    public var deleted: Int

    public init(topic: String, records: Int, unlinked: Int, deleted: Int) {
        self.topic = topic
        self.records = records
        self.unlinked = unlinked
        self.deleted = deleted
    }
}

/// Standard base64 (RFC 4648, with padding), without Foundation.
enum Base64 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i < bytes.count {
            let b0 = Int(bytes[i])
            let b1 = i + 1 < bytes.count ? Int(bytes[i + 1]) : 0
            let b2 = i + 2 < bytes.count ? Int(bytes[i + 2]) : 0
            out.append(alphabet[b0 >> 2])
            out.append(alphabet[(b0 & 0x03) << 4 | b1 >> 4])
            out.append(i + 1 < bytes.count ? alphabet[(b1 & 0x0F) << 2 | b2 >> 6] : UInt8(ascii: "="))
            out.append(i + 2 < bytes.count ? alphabet[b2 & 0x3F] : UInt8(ascii: "="))
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}
