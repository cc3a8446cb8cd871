import CreditWatchCore
import Foundation
import PostgresNIO
import RuleLanguage

/// Everything the credit information base holds about one subject: what the one-click query
/// consolidates.
extension PostgresStore {
    /// A person's current records by department, the enterprises they represent (by every
    /// ID-number field of an enterprise's records, per the catalog) and their active alerts; nil
    /// when the store knows nothing about them.
    public func person(_ id: String) async throws -> PersonProfile? {
        let logger = self.logger
        let idFields = catalog.personalFields.flatMap { topic, fields in
            fields.filter { $0.value == .idNumber }.map { (topic: topic, field: $0.key) }
        }.sorted { ($0.topic, $0.field) < ($1.topic, $1.field) }
        return try await client.withConnection { connection in
            let facts = try await self.facts(of: id, connection: connection)
            var represented: [PersonProfile.Enterprise] = []
            for (topic, field) in idFields {
                let rows = try await connection.query(
                    """
                    SELECT DISTINCT r.entity_id, coalesce(e.name, ''), e.status FROM credit_record r
                    LEFT JOIN enterprise e ON e.uscc = r.entity_id
                    WHERE r.topic = \(topic) AND r.entity_kind = 'enterprise' AND NOT r.deleted AND r.fields ->> \(field) = \(id)
                    ORDER BY r.entity_id
                    """, logger: logger)
                for try await (uscc, name, status) in rows.decode((String, String, String?).self)
                where !represented.contains(where: { $0.uscc == uscc }) {
                    represented.append(PersonProfile.Enterprise(uscc: uscc, name: name, status: status, topic: topic, field: field))
                }
            }
            let alerts = try await Self.decodeAlerts(
                try await connection.query(
                    "SELECT \(unescaped: Self.alertColumns) FROM alert WHERE subject_id = \(id) AND status = 'active' ORDER BY id DESC",
                    logger: logger))
            guard !facts.isEmpty || !represented.isEmpty || !alerts.isEmpty else { return nil }
            return PersonProfile(id: id, facts: facts, enterprises: represented, alerts: alerts)
        }
    }

    /// Every change received about an entity, newest first, at most `limit`.
    public func history(of entityID: String, limit: Int = 500) async throws -> [HistoryEntry] {
        let rows = try await client.query(
            """
            SELECT topic, pk, version, op::text, (event_day - DATE '1970-01-01')::int8, fields::text FROM credit_record_change
            WHERE entity_id = \(entityID)
            ORDER BY event_day DESC, topic, pk, version DESC
            LIMIT \(limit)
            """, logger: logger)
        var entries: [HistoryEntry] = []
        for try await (topic, key, version, op, day, fieldsText) in rows.decode((String, String, Int64, String, Int, String).self) {
            guard case .object(let fields)? = try? JSONDecoder().decode(JSONValue.self, from: Data(fieldsText.utf8)) else {
                throw PostgresStoreError(.malformedStoredValue, "history fields of \(topic)/\(key) are not a JSON object")
            }
            entries.append(
                HistoryEntry(
                    department: department(of: topic), topic: topic, key: key, version: version, operation: op,
                    eventDay: Day(day).description, fields: fields))
        }
        return entries
    }
}

/// What the platform knows of one person.
public struct PersonProfile: Sendable, Hashable {
    public struct Enterprise: Sendable, Hashable {
        public var uscc: String
        public var name: String
        public var status: String?
        /// The record and field that name the person (e.g. `market.enterprise`, `legal_rep_id`).
        public var topic: String
        public var field: String
    }

    public var id: String
    public var facts: [DepartmentFacts]
    /// Enterprises whose records carry the person's ID number (legal representative, …).
    public var enterprises: [Enterprise]
    public var alerts: [Alert]
}

/// One change as received (the credit information base's history).
public struct HistoryEntry: Sendable, Hashable {
    public var department: String
    public var topic: String
    public var key: String
    public var version: Int64
    /// `c`, `u`, `d` or `r` (snapshot).
    public var operation: String
    public var eventDay: String
    public var fields: [String: JSONValue]
}
