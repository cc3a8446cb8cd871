import CreditWatchCore
import Foundation
import PostgresNIO
import RuleLanguage

/// Read queries over alert events, scores and tags (the API and the CLI).
extension PostgresStore {
    /// The newest `limit` alert state changes within the subjects and district, in id order, with
    /// the newest of them as the cursor (0: none): where a live view (the dashboard's ticker)
    /// starts its stream without replaying history.
    public func latestAlertEvents(limit: Int, subjectIDs: Set<String>? = nil, district: String? = nil) async throws -> AlertEventPage {
        let limit = min(max(limit, 1), Self.maximumPageSize)
        let subjects = subjectIDs.map { $0.sorted() }
        let rows = try await client.query(
            """
            SELECT e.id, e.alert_id, e.kind, (e.as_of - DATE '1970-01-01')::int8, e.reason, e.rule_set_version,
                a.rule, a.subject_id, a.severity, a.title
            FROM alert_event e JOIN alert a ON a.id = e.alert_id
            WHERE (\(subjects)::text[] IS NULL OR a.subject_id = ANY(\(subjects)::text[]))
                AND (\(district)::text IS NULL OR (a.district = \(district)::text AND a.subject_kind = 'enterprise'))
            ORDER BY e.id DESC
            LIMIT \(limit)
            """, logger: logger)
        var events: [AlertEvent] = []
        for try await (id, alertID, kind, day, reason, version, rule, subject, severity, title) in rows.decode(
            (Int64, Int64, String, Int, String?, String, String, String, String, String).self)
        {
            events.append(AlertEvent(
                id: id, alertID: alertID, kind: kind, asOf: Day(day).description, reason: reason, ruleSetVersion: version,
                rule: rule, subjectID: subject, severity: severity, title: title))
        }
        // The newest in scope, not of the whole feed: that would tell a bank how busy the city is.
        return AlertEventPage(events: events.reversed(), nextCursor: events.first?.id ?? 0, hasMore: false)
    }

    /// Alert state changes with `id > after`, in id order: what a poller that already has the
    /// alerts needs to learn that one was withdrawn or reactivated. `subjectIDs` and `district` as in
    /// `alerts`.
    public func alertEvents(after: Int64?, limit: Int, subjectIDs: Set<String>? = nil, district: String? = nil) async throws -> AlertEventPage {
        let limit = min(max(limit, 1), Self.maximumPageSize)
        let subjects = subjectIDs.map { $0.sorted() }
        let rows = try await client.query(
            """
            SELECT e.id, e.alert_id, e.kind, (e.as_of - DATE '1970-01-01')::int8, e.reason, e.rule_set_version,
                a.rule, a.subject_id, a.severity, a.title
            FROM alert_event e JOIN alert a ON a.id = e.alert_id
            WHERE e.id > \(after ?? 0) AND (\(subjects)::text[] IS NULL OR a.subject_id = ANY(\(subjects)::text[]))
                AND (\(district)::text IS NULL OR (a.district = \(district)::text AND a.subject_kind = 'enterprise'))
            ORDER BY e.id
            LIMIT \(limit + 1)
            """, logger: logger)
        var events: [AlertEvent] = []
        for try await (id, alertID, kind, day, reason, version, rule, subject, severity, title) in rows.decode(
            (Int64, Int64, String, Int, String?, String, String, String, String, String).self)
        {
            events.append(AlertEvent(
                id: id, alertID: alertID, kind: kind, asOf: Day(day).description, reason: reason, ruleSetVersion: version,
                rule: rule, subjectID: subject, severity: severity, title: title))
        }
        let hasMore = events.count > limit
        if hasMore { events.removeLast() }
        return AlertEventPage(events: events, nextCursor: events.last?.id ?? after, hasMore: hasMore)
    }

    /// The enterprise's current score and its last `history` scores (newest first); nil when it
    /// was never scored.
    public func score(of uscc: String, history: Int = 20) async throws -> EnterpriseScore? {
        let rows = try await client.query(
            """
            SELECT 'c', 0::int8, score::int8, grade, (as_of - DATE '1970-01-01')::int8, rule_set_version, explanation::text
            FROM enterprise_score WHERE uscc = \(uscc)
            UNION ALL
            (SELECT 'h', id, score::int8, grade, (as_of - DATE '1970-01-01')::int8, rule_set_version, NULL
             FROM score_history WHERE uscc = \(uscc) ORDER BY id DESC LIMIT \(history))
            """, logger: logger)
        var current: EnterpriseScore?
        var past: [EnterpriseScore.Past] = []
        for try await (kind, _, score, grade, day, version, explanation) in rows.decode(
            (String, Int64, Int, String, Int, String, String?).self)
        {
            if kind == "c" {
                let json = try explanation.map { try JSONDecoder().decode(JSONValue.self, from: Data($0.utf8)) } ?? .null
                current = EnterpriseScore(
                    score: score, grade: grade, asOf: Day(day).description, ruleSetVersion: version, explanation: json,
                    history: [])
            } else {
                past.append(.init(score: score, grade: grade, asOf: Day(day).description, ruleSetVersion: version))
            }
        }
        current?.history = past
        return current
    }

    /// The enterprise's current tags and their membership history (newest first).
    public func tags(of uscc: String) async throws -> EnterpriseTagList {
        let rows = try await client.query(
            """
            SELECT 'c', 0::int8, tag, title, (since_as_of - DATE '1970-01-01')::int8, explanation
            FROM enterprise_tag WHERE uscc = \(uscc)
            UNION ALL
            (SELECT change, id, tag, '', (as_of - DATE '1970-01-01')::int8, explanation
             FROM tag_history WHERE uscc = \(uscc) ORDER BY id DESC LIMIT 50)
            ORDER BY 1, 2 DESC, 3
            """, logger: logger)
        var list = EnterpriseTagList(current: [], history: [])
        for try await (kind, _, tag, title, day, explanation) in rows.decode((String, Int64, String, String, Int, String?).self) {
            if kind == "c" {
                list.current.append(.init(tag: tag, title: title, since: Day(day).description, explanation: explanation ?? ""))
            } else {
                list.history.append(.init(tag: tag, change: kind, asOf: Day(day).description))
            }
        }
        list.history.sort { $0.asOf > $1.asOf }
        return list
    }
}

extension PostgresStore {
    /// The current members of a tag (the quality-enterprise library), in USCC order after
    /// `after`; `subjectIDs` restricts them to a bank's scope, `district` to a district's enterprises.
    public func tagMembers(_ tag: String, after: String?, limit: Int, subjectIDs: Set<String>? = nil, district: String? = nil) async throws
        -> TagMemberPage
    {
        let limit = min(max(limit, 1), Self.maximumPageSize)
        let subjects = subjectIDs.map { $0.sorted() }
        let rows = try await client.query(
            """
            SELECT t.uscc, coalesce(e.name, ''), (t.since_as_of - DATE '1970-01-01')::int8, t.explanation
            FROM enterprise_tag t LEFT JOIN enterprise e ON e.uscc = t.uscc
            WHERE t.tag = \(tag) AND t.uscc > \(after ?? "")
                AND (\(subjects)::text[] IS NULL OR t.uscc = ANY(\(subjects)::text[]))
                AND (\(district)::text IS NULL OR e.district = \(district)::text)
            ORDER BY t.uscc
            LIMIT \(limit + 1)
            """, logger: logger)
        var members: [TagMemberPage.Member] = []
        for try await (uscc, name, day, explanation) in rows.decode((String, String, Int, String).self) {
            members.append(.init(uscc: uscc, name: name, since: Day(day).description, explanation: explanation))
        }
        let hasMore = members.count > limit
        if hasMore { members.removeLast() }
        return TagMemberPage(tag: tag, members: members, nextCursor: members.last?.uscc ?? after, hasMore: hasMore)
    }
}

public struct TagMemberPage: Sendable, Hashable {
    public struct Member: Sendable, Hashable {
        public var uscc: String
        public var name: String
        public var since: String
        public var explanation: String
    }

    public var tag: String
    public var members: [Member]
    /// Pass as `after` to continue (a USCC).
    public var nextCursor: String?
    public var hasMore: Bool

    public init(tag: String, members: [Member], nextCursor: String?, hasMore: Bool) {
        self.tag = tag
        self.members = members
        self.nextCursor = nextCursor
        self.hasMore = hasMore
    }
}

public struct AlertEvent: Sendable, Hashable {
    public var id: Int64
    public var alertID: Int64
    /// `raised`, `withdrawn` or `reactivated`.
    public var kind: String
    public var asOf: String
    public var reason: String?
    public var ruleSetVersion: String
    public var rule: String
    public var subjectID: String
    public var severity: String
    public var title: String
}

public struct AlertEventPage: Sendable, Hashable {
    public var events: [AlertEvent]
    public var nextCursor: Int64?
    public var hasMore: Bool

    public init(events: [AlertEvent], nextCursor: Int64?, hasMore: Bool) {
        self.events = events
        self.nextCursor = nextCursor
        self.hasMore = hasMore
    }
}

/// An enterprise's score with every point explained (`explanation`: dimensions, lines, override).
public struct EnterpriseScore: Sendable, Hashable {
    public var score: Int
    public var grade: String
    public var asOf: String
    public var ruleSetVersion: String
    public var explanation: JSONValue
    /// Earlier scores, newest first (a row whenever score, grade or rule set changed).
    public var history: [Past]

    public struct Past: Sendable, Hashable {
        public var score: Int
        public var grade: String
        public var asOf: String
        public var ruleSetVersion: String
    }
}

public struct EnterpriseTagList: Sendable, Hashable {
    public var current: [Current]
    public var history: [Change]

    public struct Current: Sendable, Hashable {
        public var tag: String
        public var title: String
        public var since: String
        public var explanation: String
    }

    public struct Change: Sendable, Hashable {
        public var tag: String
        /// `added` or `removed`.
        public var change: String
        public var asOf: String
    }
}
