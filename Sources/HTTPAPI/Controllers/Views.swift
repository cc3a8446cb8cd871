import CreditWatchCore
import Foundation
import PostgresStore

/// The API's JSON of what the read models return. The stores' records carry no JSON of their
/// own: the API owns its response shapes, so a store can change without changing what clients
/// read. Every member is written, null included (never left out), so that a client sees one
/// stable shape; names are snake_case.
protocol StableObject: Encodable {
    func write(to members: inout Members) throws
}

extension StableObject {
    public func encode(to encoder: any Encoder) throws {
        var members = Members(container: encoder.container(keyedBy: Members.Name.self))
        try write(to: &members)
    }
}

struct Members {
    struct Name: CodingKey {
        let stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    fileprivate var container: KeyedEncodingContainer<Name>

    /// Writes `value` under `name`, or null.
    mutating func callAsFunction<T: Encodable>(_ name: String, _ value: T?) throws {
        if let value { try container.encode(value, forKey: Name(stringValue: name)) } else { try container.encodeNil(forKey: Name(stringValue: name)) }
    }
}

struct AlertView: StableObject {
    let alert: Alert
    init(_ alert: Alert) { self.alert = alert }

    func write(to m: inout Members) throws {
        let a = alert
        try m("id", a.id)
        try m("rule", a.rule)
        try m("rule_version", a.ruleVersion)
        try m("rule_set_version", a.ruleSetVersion)
        try m("subject_kind", a.subjectKind)
        try m("subject_id", a.subjectID)
        try m("window", a.window)
        try m("title", a.title)
        try m("severity", a.severity)
        try m("category", a.category)
        try m("explanation", a.explanation)
        try m("values", a.values.map(NamedValueView.init))
        try m("sources", a.sources)
        try m("as_of", a.asOf)
        try m("processed_at", a.processedAt)
        try m("division", a.division)
        try m("district", a.district)
        try m("score", a.score.map(ScoreEffectView.init))
        try m("status", a.status)
        try m("withdrawal", a.withdrawal.map(WithdrawalView.init))
    }

    struct ScoreEffectView: StableObject {
        let effect: Alert.ScoreEffect
        func write(to m: inout Members) throws {
            try m("points", effect.points)
            try m("dimension", effect.dimension)
        }
    }

    struct WithdrawalView: StableObject {
        let withdrawal: Alert.Withdrawal
        func write(to m: inout Members) throws {
            try m("as_of", withdrawal.asOf)
            try m("reason", withdrawal.reason)
            try m("rule_set_version", withdrawal.ruleSetVersion)
        }
    }
}

/// `{"name": …, "value": …}`: a feature or parameter value, in the rule's order.
struct NamedValueView: StableObject {
    let named: NamedJSONValue
    init(_ named: NamedJSONValue) { self.named = named }
    func write(to m: inout Members) throws {
        try m("name", named.name)
        try m("value", named.value)
    }
}

/// One change of an alert's engine lifecycle, as the event feed, the stream and webhooks show it.
public struct AlertEventView: StableObject {
    let event: AlertEvent
    public init(_ event: AlertEvent) { self.event = event }

    func write(to m: inout Members) throws {
        try m("id", event.id)
        try m("alert_id", event.alertID)
        try m("kind", event.kind)
        try m("as_of", event.asOf)
        try m("reason", event.reason)
        try m("rule_set_version", event.ruleSetVersion)
        try m("rule", event.rule)
        try m("subject_id", event.subjectID)
        try m("severity", event.severity)
        try m("title", event.title)
    }

    /// The event's JSON text, as the feed writes it (a webhook's body is made of these).
    public var json: [UInt8] {
        get throws { Array(try JSONResponse.encode(self)) }
    }
}

struct QuarantineView: StableObject {
    let entry: QuarantineEntry
    init(_ entry: QuarantineEntry) { self.entry = entry }

    func write(to m: inout Members) throws {
        let e = entry
        try m("id", e.id)
        try m("topic", e.topic)
        try m("partition", e.partition)
        try m("offset", e.offset)
        try m("key", e.key)
        try m("key_base64", e.keyBase64)
        try m("value", e.value)
        try m("value_base64", e.valueBase64)
        try m("reason", e.reason)
        try m("received_at", e.receivedAt)
        try m("reprocessed_at", e.reprocessedAt)
    }
}

struct TagMemberView: StableObject {
    let member: TagMemberPage.Member
    init(_ member: TagMemberPage.Member) { self.member = member }

    func write(to m: inout Members) throws {
        try m("uscc", member.uscc)
        try m("name", member.name)
        try m("since", member.since)
        try m("explanation", member.explanation)
    }
}

struct RegistrationView: StableObject {
    let registration: EnterpriseRegistration
    init(_ registration: EnterpriseRegistration) { self.registration = registration }

    func write(to m: inout Members) throws {
        let r = registration
        try m("name", r.name)
        try m("industry_code", r.industryCode)
        try m("division", r.division)
        try m("district", r.district)
        try m("status", r.status)
        try m("deleted", r.deleted)
    }
}

/// An enterprise's score with every point explained, and its earlier scores, newest first.
struct ScoreView: StableObject {
    let score: EnterpriseScore
    init(_ score: EnterpriseScore) { self.score = score }

    func write(to m: inout Members) throws {
        try m("score", score.score)
        try m("grade", score.grade)
        try m("as_of", score.asOf)
        try m("rule_set_version", score.ruleSetVersion)
        try m("explanation", score.explanation)
        try m("history", score.history.map(Past.init))
    }

    struct Past: StableObject {
        let past: EnterpriseScore.Past
        func write(to m: inout Members) throws {
            try m("score", past.score)
            try m("grade", past.grade)
            try m("as_of", past.asOf)
            try m("rule_set_version", past.ruleSetVersion)
        }
    }
}

struct TagListView: StableObject {
    let tags: EnterpriseTagList
    init(_ tags: EnterpriseTagList) { self.tags = tags }

    func write(to m: inout Members) throws {
        try m("current", tags.current.map(Current.init))
        try m("history", tags.history.map(Change.init))
    }

    struct Current: StableObject {
        let current: EnterpriseTagList.Current
        func write(to m: inout Members) throws {
            try m("tag", current.tag)
            try m("title", current.title)
            try m("since", current.since)
            try m("explanation", current.explanation)
        }
    }

    struct Change: StableObject {
        let change: EnterpriseTagList.Change
        func write(to m: inout Members) throws {
            try m("tag", change.tag)
            try m("change", change.change)
            try m("as_of", change.asOf)
        }
    }
}

/// The records one department holds about an entity, by topic.
struct DepartmentFactsView: StableObject {
    let facts: DepartmentFacts
    init(_ facts: DepartmentFacts) { self.facts = facts }

    func write(to m: inout Members) throws {
        try m("department", facts.department)
        try m("topics", facts.topics.map(Topic.init))
    }

    struct Topic: StableObject {
        let topic: TopicFacts
        func write(to m: inout Members) throws {
            try m("topic", topic.topic)
            try m("records", topic.records.map(Record.init))
        }
    }

    struct Record: StableObject {
        let record: FactEntry
        func write(to m: inout Members) throws {
            try m("key", record.key)
            try m("version", record.version)
            try m("event_day", record.eventDay)
            try m("fields", record.fields)
        }
    }
}

/// An enterprise whose records name a person, and how.
struct PersonEnterpriseView: StableObject {
    let enterprise: PersonProfile.Enterprise
    init(_ enterprise: PersonProfile.Enterprise) { self.enterprise = enterprise }

    func write(to m: inout Members) throws {
        try m("uscc", enterprise.uscc)
        try m("name", enterprise.name)
        try m("status", enterprise.status)
        try m("topic", enterprise.topic)
        try m("field", enterprise.field)
    }
}
