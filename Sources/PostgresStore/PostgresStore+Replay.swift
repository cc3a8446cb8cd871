import CreditWatchCore
import Foundation
import PostgresNIO
import RuleLanguage

/// What `creditwatch replay` reads: the stored history of the credit information base, and the
/// rule sets the daemon has loaded (by content hash), so that a replay can compare a candidate
/// with the set that was live.
extension PostgresStore {
    /// Every current, not deleted record linked to an enterprise, and the versions (deletes
    /// excluded, as the feature store keeps them) of the records of `historyTopics` as
    /// `topic#history` records keyed `pk|version`: what the engine would have had for evaluation.
    /// Rows are streamed and decoded one by one, never collected as rows.
    public func replayHistory(historyTopics: Set<String>) async throws -> ReplayHistory {
        var history = ReplayHistory()
        let current = try await client.query(
            """
            SELECT entity_id, topic, pk, (event_day - \(unescaped: epochDay))::int8, fields::text
            FROM credit_record
            WHERE entity_kind = 'enterprise' AND NOT deleted
            ORDER BY entity_id, topic, pk
            """, logger: logger)
        for try await (entity, topic, key, day, fieldsText) in current.decode((String, String, String, Int, String).self) {
            let fields = try decodeFields(fieldsText, topic: topic, key: key)
            history.add(FactRecord(topic: topic, key: key, eventDay: Day(day), fields: fields), enterprise: entity)
        }
        guard !historyTopics.isEmpty else { return history }
        // A version stored as both a create and a snapshot read is one version (DISTINCT ON).
        let versions = try await client.query(
            """
            SELECT DISTINCT ON (entity_id, topic, pk, version)
                entity_id, topic, pk, version, (event_day - \(unescaped: epochDay))::int8, fields::text
            FROM credit_record_change
            WHERE entity_kind = 'enterprise' AND op <> 'd' AND topic = ANY(\(historyTopics.sorted())::text[])
            ORDER BY entity_id, topic, pk, version, op
            """, logger: logger)
        for try await (entity, topic, key, version, day, fieldsText) in versions.decode(
            (String, String, String, Int64, Int, String).self)
        {
            let fields = try decodeFields(fieldsText, topic: topic, key: key)
            history.add(
                FactRecord(
                    topic: topic + RuleProgram.historySuffix, key: "\(key)|\(version)", eventDay: Day(day), fields: fields),
                enterprise: entity)
        }
        return history
    }

    /// The source files of a loaded rule set, sorted by path; nil when no set of that version
    /// was recorded.
    public func ruleSet(version: String) async throws -> [(path: String, text: String)]? {
        let rows = try await client.query(
            "SELECT files::text FROM rule_set WHERE version = \(version)", logger: logger)
        for try await text in rows.decode(String.self) {
            guard let files = try? JSONDecoder().decode([RuleSetFile].self, from: Data(text.utf8)) else {
                throw PostgresStoreError(.malformedStoredValue, "files of rule set \(version) are not [{path, text}]")
            }
            return files.sorted { $0.path < $1.path }.map { ($0.path, $0.text) }
        }
        return nil
    }

    /// Records that the rule set `version` (with these source files) was loaded now: inserted the
    /// first time, `last_loaded_at` bumped on every later load. The daemon calls it on every
    /// (re)load, so the most recently loaded set is the live one.
    public func recordRuleSet(version: String, files: [(path: String, text: String)]) async throws {
        let json = JSONValue.array(files.sorted { $0.path < $1.path }.map {
            .object(["path": .string($0.path), "text": .string($0.text)])
        })
        try await client.query(
            """
            INSERT INTO rule_set AS s (version, files) VALUES (\(version), \(storableJSON(json))::jsonb)
            ON CONFLICT (version) DO UPDATE SET last_loaded_at = clock_timestamp()
            """, logger: logger)
    }

    /// The version of the most recently loaded rule set; nil when none was recorded.
    public func liveRuleSetVersion() async throws -> String? {
        let rows = try await client.query(
            "SELECT version FROM rule_set ORDER BY last_loaded_at DESC, first_loaded_at DESC, version LIMIT 1",
            logger: logger)
        for try await version in rows.decode(String.self) { return version }
        return nil
    }
}

/// One stored rule file: `rule_set.files` is an array of these.
private struct RuleSetFile: Decodable {
    let path: String
    let text: String
}
