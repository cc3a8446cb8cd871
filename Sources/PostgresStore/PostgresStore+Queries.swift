import CreditWatchCore
import Foundation
import PostgresNIO
import RuleLanguage

/// Read queries for the API, the dashboard and the CLI. Each is one round trip, except the
/// enterprise profile (three queries on one connection).
extension PostgresStore {
    /// The maximum page size of `alerts` and `quarantine`.
    public static let maximumPageSize = 500

    /// Alerts with `id > after`, in id order, at most `limit` (clamped to 1…500). Nil filters match
    /// everything; `subjectIDs` restricts the feed to the given subjects (a bank's scope; an empty
    /// set matches nothing), `district` to the enterprises registered in one district.
    public func alerts(
        after: Int64?, limit: Int, severities: Set<Severity>? = nil, categories: Set<RuleLanguage.Category>? = nil,
        division: String? = nil, subjectIDs: Set<String>? = nil, district: String? = nil
    ) async throws -> AlertPage {
        let limit = min(max(limit, 1), Self.maximumPageSize)
        let severityList = severities.map { $0.map(\.rawValue).sorted() }
        let categoryList = categories.map { $0.map(\.rawValue).sorted() }
        let subjects = subjectIDs.map { $0.sorted() }
        let rows = try await client.query(
            """
            SELECT \(unescaped: Self.alertColumns) FROM alert
            WHERE id > \(after ?? 0)
                AND (\(severityList)::text[] IS NULL OR severity = ANY(\(severityList)::text[]))
                AND (\(categoryList)::text[] IS NULL OR category = ANY(\(categoryList)::text[]))
                AND (\(division)::text IS NULL OR division = \(division)::text)
                AND (\(subjects)::text[] IS NULL OR subject_id = ANY(\(subjects)::text[]))
                AND (\(district)::text IS NULL OR (district = \(district)::text AND subject_kind = 'enterprise'))
            ORDER BY id
            LIMIT \(limit + 1)
            """, logger: logger)
        var alerts = try await Self.decodeAlerts(rows)
        let hasMore = alerts.count > limit
        if hasMore { alerts.removeLast() }
        return AlertPage(alerts: alerts, nextCursor: alerts.last?.id ?? after, hasMore: hasMore)
    }

    /// One alert, if it exists within the subjects and district given (nil: any).
    public func alert(id: Int64, subjectIDs: Set<String>? = nil, district: String? = nil) async throws -> Alert? {
        let subjects = subjectIDs.map { $0.sorted() }
        let rows = try await client.query(
            """
            SELECT \(unescaped: Self.alertColumns) FROM alert
            WHERE id = \(id)
                AND (\(subjects)::text[] IS NULL OR subject_id = ANY(\(subjects)::text[]))
                AND (\(district)::text IS NULL OR (district = \(district)::text AND subject_kind = 'enterprise'))
            """, logger: logger)
        return try await Self.decodeAlerts(rows).first
    }

    /// The enterprise's registration, current records and active alerts; nil when the store knows
    /// nothing about `uscc` (no registration, no record, no alert).
    public func enterprise(_ uscc: String) async throws -> EnterpriseProfile? {
        let logger = self.logger
        return try await client.withConnection { connection in
            var registration: EnterpriseRegistration?
            let registrationRows = try await connection.query(
                """
                SELECT name, industry_code, division, district, status, deleted FROM enterprise WHERE uscc = \(uscc)
                """, logger: logger)
            for try await (name, industry, division, district, status, deleted) in registrationRows.decode(
                (String, String?, String?, String?, String?, Bool).self)
            {
                registration = EnterpriseRegistration(
                    name: name, industryCode: industry, division: division, district: district, status: status,
                    deleted: deleted)
            }

            let facts = try await self.facts(of: uscc, connection: connection)
            let alertRows = try await connection.query(
                """
                SELECT \(unescaped: Self.alertColumns) FROM alert
                WHERE subject_id = \(uscc) AND status = 'active'
                ORDER BY id DESC
                """, logger: logger)
            let alerts = try await Self.decodeAlerts(alertRows)

            guard registration != nil || !facts.isEmpty || !alerts.isEmpty else { return nil }
            return EnterpriseProfile(uscc: uscc, registration: registration, facts: facts, alerts: alerts)
        }
    }

    /// The current (not deleted) records about an entity, by department, then topic.
    func facts(of entityID: String, connection: PostgresConnection) async throws -> [DepartmentFacts] {
        let recordRows = try await connection.query(
            """
            SELECT topic, pk, version, (event_day - DATE '1970-01-01')::int8, fields::text FROM credit_record
            WHERE entity_id = \(entityID) AND NOT deleted
            ORDER BY topic, event_day, pk
            """, logger: logger)
        var byTopic: [(topic: String, records: [FactEntry])] = []
        for try await (topic, key, version, day, fieldsText) in recordRows.decode(
            (String, String, Int64, Int, String).self)
        {
            guard case .object(let fields)? = try? JSONDecoder().decode(JSONValue.self, from: Data(fieldsText.utf8))
            else {
                throw PostgresStoreError(.malformedStoredValue, "fields of \(topic)/\(key) are not a JSON object")
            }
            let entry = FactEntry(key: key, version: version, eventDay: Day(day).description, fields: fields)
            if byTopic.last?.topic == topic {
                byTopic[byTopic.count - 1].records.append(entry)
            } else {
                byTopic.append((topic, [entry]))
            }
        }
        var departments: [String: [TopicFacts]] = [:]
        for (topic, records) in byTopic {
            departments[department(of: topic), default: []].append(TopicFacts(topic: topic, records: records))
        }
        return departments.keys.sorted().map { DepartmentFacts(department: $0, topics: departments[$0]!) }
    }

    /// The department owning `topic` by the catalog; else the topic's first word.
    func department(of topic: String) -> String {
        if let name = catalog.topics[topic]?.department, !name.isEmpty { return name }
        return topic.split(separator: ".").first.map(String.init) ?? topic
    }

    /// Quarantined messages with `id > after`, in id order.
    public func quarantine(after: Int64?, limit: Int) async throws -> QuarantinePage {
        let limit = min(max(limit, 1), Self.maximumPageSize)
        let rows = try await client.query(
            """
            SELECT id, topic, partition, "offset", key, value, reason,
                (extract(epoch FROM received_at) * 1000)::int8,
                (extract(epoch FROM reprocessed_at) * 1000)::int8
            FROM quarantine WHERE id > \(after ?? 0) ORDER BY id LIMIT \(limit + 1)
            """, logger: logger)
        var messages: [QuarantineEntry] = []
        for try await (id, topic, partition, offset, key, value, reason, received, reprocessed) in rows.decode(
            (Int64, String, Int32, Int64, ByteBuffer?, ByteBuffer?, String, Int64, Int64?).self)
        {
            messages.append(QuarantineEntry(
                id: id, topic: topic, partition: partition, offset: offset,
                key: key.map { Array($0.readableBytesView) }, value: value.map { Array($0.readableBytesView) },
                reason: reason, receivedAt: Timestamp.iso8601(milliseconds: received),
                reprocessedAt: reprocessed.map { Timestamp.iso8601(milliseconds: $0) }))
        }
        let hasMore = messages.count > limit
        if hasMore { messages.removeLast() }
        return QuarantinePage(messages: messages, nextCursor: messages.last?.id ?? after, hasMore: hasMore)
    }

    /// Quarantined messages not yet re-processed, with their raw bytes, for feeding them through
    /// the pipeline again after a fix (then `markReprocessed`). Ordered by id, `id > after`.
    public func pendingQuarantine(after: Int64?, limit: Int) async throws -> [(id: Int64, message: InboundMessage)] {
        let rows = try await client.query(
            """
            SELECT id, topic, partition, "offset", key, value FROM quarantine
            WHERE id > \(after ?? 0) AND reprocessed_at IS NULL ORDER BY id LIMIT \(max(limit, 1))
            """, logger: logger)
        var messages: [(id: Int64, message: InboundMessage)] = []
        for try await (id, topic, partition, offset, key, value) in rows.decode(
            (Int64, String, Int32, Int64, ByteBuffer?, ByteBuffer?).self)
        {
            messages.append((id, InboundMessage(
                topic: topic, partition: partition, offset: offset, key: key.map { Array($0.readableBytesView) },
                value: value.map { Array($0.readableBytesView) })))
        }
        return messages
    }

    /// Marks quarantined messages as re-processed (after the catalog or the data was fixed);
    /// returns how many were pending.
    @discardableResult
    public func markReprocessed(_ ids: [Int64]) async throws -> Int {
        let rows = try await client.query(
            """
            UPDATE quarantine SET reprocessed_at = now()
            WHERE id = ANY(\(ids)::int8[]) AND reprocessed_at IS NULL RETURNING id
            """, logger: logger)
        return try await rows.collect().count
    }

    /// Active alerts by severity, category, division and district (one grouped query), within
    /// `subjectIDs` and `district` as the alert feed.
    public func alertCounts(subjectIDs: Set<String>? = nil, district: String? = nil) async throws -> AlertCounts {
        let subjects = subjectIDs.map { $0.sorted() }
        let rows = try await client.query(
            """
            SELECT GROUPING(severity, category, division, district)::int8, severity, category,
                coalesce(division, 'unknown'), coalesce(district, 'unknown'), count(*)
            FROM alert WHERE status = 'active'
                AND (\(subjects)::text[] IS NULL OR subject_id = ANY(\(subjects)::text[]))
                AND (\(district)::text IS NULL OR (district = \(district)::text AND subject_kind = 'enterprise'))
            GROUP BY GROUPING SETS ((), (severity), (category), (division), (district))
            """, logger: logger)
        var counts = AlertCounts()
        // GROUPING bits, most significant first: severity 8, category 4, division 2, district 1;
        // a set bit means "not grouped by this column".
        for try await (grouping, severity, category, division, district, count) in rows.decode(
            (Int64, String?, String?, String?, String?, Int64).self)
        {
            switch grouping {
            case 0b1111: counts.total = Int(count)
            case 0b0111: if let severity { counts.bySeverity[severity] = Int(count) }
            case 0b1011: if let category { counts.byCategory[category] = Int(count) }
            case 0b1101: if let division { counts.byDivision[division] = Int(count) }
            case 0b1110: if let district { counts.byDistrict[district] = Int(count) }
            default: break
            }
        }
        return counts
    }

    /// Current, not deleted records of all topics.
    public func recordCount() async throws -> Int {
        let rows = try await client.query("SELECT count(*) FROM credit_record WHERE NOT deleted", logger: logger)
        var total = 0
        for try await count in rows.decode(Int64.self) { total = Int(count) }
        return total
    }

    /// Current records per topic, ordered by topic.
    public func recordCounts() async throws -> [TopicRecordCount] {
        let rows = try await client.query(
            """
            SELECT topic, count(*) FILTER (WHERE NOT deleted), count(*) FILTER (WHERE NOT deleted AND entity_id IS NULL),
                count(*) FILTER (WHERE deleted)
            FROM credit_record GROUP BY topic ORDER BY topic
            """, logger: logger)
        var counts: [TopicRecordCount] = []
        for try await (topic, records, unlinked, deleted) in rows.decode((String, Int64, Int64, Int64).self) {
            counts.append(TopicRecordCount(topic: topic, records: Int(records), unlinked: Int(unlinked), deleted: Int(deleted)))
        }
        return counts
    }

    // MARK: Alerts

    static let alertColumns = """
        id, rule, rule_version, rule_set_version, subject_kind, subject_id, "window", title, severity, category,
        explanation, "values"::text, sources, (as_of - DATE '1970-01-01')::int8,
        (extract(epoch FROM processed_at) * 1000)::int8, division, district, score_points::int8, score_dimension, status,
        (withdrawn_as_of - DATE '1970-01-01')::int8, withdrawn_reason, withdrawn_rule_set_version
        """

    static func decodeAlerts(_ rows: PostgresRowSequence) async throws -> [Alert] {
        var alerts: [Alert] = []
        for try await row in rows {
            let (id, rule, ruleVersion, ruleSetVersion, subjectKind, subjectID, window, title, severity, category) =
                try row.decode((Int64, String, String, String, String, String, String, String, String, String).self)
            let columns = Array(row)
            let explanation = try columns[10].decode(String.self)
            let valuesText = try columns[11].decode(String.self)
            let sources = try columns[12].decode([String].self)
            let asOf = try columns[13].decode(Int.self)
            let processed = try columns[14].decode(Int64.self)
            let division = try columns[15].decode(String?.self)
            let district = try columns[16].decode(String?.self)
            let points = try columns[17].decode(Int?.self)
            let dimension = try columns[18].decode(String?.self)
            let status = try columns[19].decode(String.self)
            let withdrawnAsOf = try columns[20].decode(Int?.self)
            let withdrawnReason = try columns[21].decode(String?.self)
            let withdrawnVersion = try columns[22].decode(String?.self)
            guard case .array(let items)? = try? JSONDecoder().decode(JSONValue.self, from: Data(valuesText.utf8)) else {
                throw PostgresStoreError(.malformedStoredValue, "values of alert \(id) are not a JSON array")
            }
            let values = items.compactMap { item -> NamedJSONValue? in
                guard case .object(let member) = item, case .string(let name)? = member["name"] else { return nil }
                return NamedJSONValue(name: name, value: member["value"] ?? .null)
            }
            alerts.append(Alert(
                id: id, rule: rule, ruleVersion: ruleVersion, ruleSetVersion: ruleSetVersion, subjectKind: subjectKind,
                subjectID: subjectID, window: window, title: title, severity: severity, category: category,
                explanation: explanation, values: values, sources: sources, asOf: Day(asOf).description,
                processedAt: Timestamp.iso8601(milliseconds: processed), division: division, district: district,
                score: points.map { Alert.ScoreEffect(points: $0, dimension: dimension ?? "") }, status: status,
                withdrawal: withdrawnAsOf.map {
                    Alert.Withdrawal(asOf: Day($0).description, reason: withdrawnReason ?? "", ruleSetVersion: withdrawnVersion ?? "")
                }))
        }
        return alerts
    }
}
