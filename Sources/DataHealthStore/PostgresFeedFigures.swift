import CreditWatchCore
import DataHealth
import Logging
import PostgresNIO
import PostgresStore
import RuleLanguage
import ServiceLifecycle

/// Counts the feeds' figures in the store of record (credit_record, its history, the quarantine):
/// a few grouped scans, no table of its own. Its own small pool, so that a slow count never waits
/// behind the engine's commits (a `Service`).
public final class PostgresFeedFigures: FeedFiguresSource, Service {
    let database: SubsystemDatabase
    let logger: Logger
    /// topic → monthly (continuity is counted for these only).
    let monthlyTopics: [String]
    var client: PostgresClient { database.client }

    public init(configuration: PostgresStore.Configuration, catalog: TopicCatalog, logger: Logger) throws {
        database = try SubsystemDatabase(configuration: configuration, connections: 1, migrations: [], ledger: "data_health_migrations", logger: logger)
        monthlyTopics = catalog.topics.values.filter { $0.cadence.expected == .monthly }.map(\.name).sorted()
        self.logger = logger
    }

    public func run() async { await database.run() }

    /// A quarantine reason with its values masked, so that reasons of one kind count together:
    /// a quoted value becomes '…' (a quoted snake_case name, a field's, is kept), and so does a
    /// number (not one inside a word, as in UTF-8).
    static let reasonKind = #"""
        regexp_replace(regexp_replace(regexp_replace(reason,
            '''([a-z_][a-z0-9_.]*)''|''[^'']*''', '''\1''', 'g'),
            '''''', '''…''', 'g'),
            '(?<![A-Za-z0-9_-])(0x[0-9A-Fa-f]+|[0-9]+([.][0-9]+)?)', '…', 'g')
        """#

    public func figures() async throws -> CityFigures {
        var feeds: [String: FeedFigures] = [:]
        func update(_ topic: String, _ change: (inout FeedFigures) -> Void) {
            var figures = feeds[topic] ?? FeedFigures(topic: topic)
            change(&figures)
            feeds[topic] = figures
        }
        let now = try await client.query("SELECT (extract(epoch FROM now()) * 1000)::int8", logger: logger)
        var computedAt = ""
        for try await ms in now.decode(Int64.self) { computedAt = CreditWatchCore.Timestamp.iso8601(milliseconds: ms) }

        let records = try await client.query(
            """
            SELECT topic, count(*) FILTER (WHERE NOT deleted), (max(event_day) - DATE '1970-01-01')::int8,
                (extract(epoch FROM max(updated_at)) * 1000)::int8,
                count(*) FILTER (WHERE NOT deleted AND linked_by = 'key'),
                count(*) FILTER (WHERE NOT deleted AND linked_by = 'account'),
                count(*) FILTER (WHERE NOT deleted AND linked_by = 'name'),
                count(*) FILTER (WHERE NOT deleted AND entity_id IS NOT NULL AND linked_by IS NULL),
                count(*) FILTER (WHERE NOT deleted AND entity_id IS NULL),
                (extract(epoch FROM min(updated_at) FILTER (WHERE NOT deleted AND entity_id IS NULL)) * 1000)::int8
            FROM credit_record GROUP BY topic
            """, logger: logger)
        for try await (topic, count, latest, received, key, account, name, unrecorded, unlinked, oldest) in records.decode(
            (String, Int64, Int64?, Int64?, Int64, Int64, Int64, Int64, Int64, Int64?).self)
        {
            update(topic) {
                $0.records = Int(count)
                $0.latestDay = latest.map { Day(Int($0)) }
                $0.lastReceivedAt = received.map { CreditWatchCore.Timestamp.iso8601(milliseconds: $0) }
                $0.byKey = Int(key)
                $0.byAccount = Int(account)
                $0.byName = Int(name)
                $0.unrecorded = Int(unrecorded)
                $0.unlinked = Int(unlinked)
                $0.unlinkedOldestSince = oldest.map { CreditWatchCore.Timestamp.iso8601(milliseconds: $0) }
            }
        }

        let months = try await client.query(
            """
            SELECT topic, (extract(year FROM event_day) * 12 + extract(month FROM event_day) - 1)::int8, count(*)
            FROM credit_record WHERE NOT deleted GROUP BY 1, 2
            """, logger: logger)
        for try await (topic, month, count) in months.decode((String, Int64, Int64).self) {
            update(topic) { $0.monthly[Month(index: Int(month))] = Int(count) }
        }

        let recent = try await client.query(
            "SELECT topic, count(*) FROM credit_record_change WHERE recorded_at > now() - interval '30 days' GROUP BY topic",
            logger: logger)
        for try await (topic, count) in recent.decode((String, Int64).self) {
            update(topic) { $0.receivedLast30Days = Int(count) }
        }

        let quarantine = try await client.query(
            """
            SELECT topic, \(unescaped: Self.reasonKind) AS kind, count(*) FROM quarantine
            GROUP BY 1, 2 ORDER BY 1, 3 DESC, 2
            """, logger: logger)
        for try await (topic, reason, count) in quarantine.decode((String, String, Int64).self) {
            update(topic) {
                $0.quarantined += Int(count)
                if $0.quarantineReasons.count < 5 { $0.quarantineReasons.append(ReasonCount(reason: reason, count: Int(count))) }
            }
        }

        // An enterprise's missing months are the months its feed delivered (for any enterprise)
        // between its first and last that it has none in: with the delivered months numbered per
        // feed (r), that is r(last) - r(first) + 1 - its months, in one pass (no anti-join: these
        // counts run beside the live engine, and scan the whole base).
        let continuity = try await client.query(
            """
            WITH em AS (
                SELECT topic, entity_id, date_trunc('month', event_day)::date AS m FROM credit_record
                WHERE topic = ANY(\(monthlyTopics)::text[]) AND entity_kind = 'enterprise' AND NOT deleted
                GROUP BY 1, 2, 3
            ), delivered AS (
                SELECT topic, m, row_number() OVER (PARTITION BY topic ORDER BY m) AS r FROM (SELECT DISTINCT topic, m FROM em) d
            ), span AS (
                SELECT topic, entity_id, min(m) AS first, max(m) AS last, count(*) AS months FROM em GROUP BY 1, 2
            ), holes AS (
                SELECT s.topic, l.r - f.r + 1 - s.months AS n
                FROM span s JOIN delivered f ON f.topic = s.topic AND f.m = s.first JOIN delivered l ON l.topic = s.topic AND l.m = s.last
            )
            SELECT topic, count(*), count(*) FILTER (WHERE n > 0), coalesce(sum(n), 0)::int8 FROM holes GROUP BY topic
            """, logger: logger)
        for try await (topic, enterprises, withGaps, missing) in continuity.decode((String, Int64, Int64, Int64).self) {
            update(topic) {
                $0.continuity = Continuity(enterprises: Int(enterprises), enterprisesWithGaps: Int(withGaps), missingMonths: Int(missing))
            }
        }
        for topic in monthlyTopics where feeds[topic]?.continuity == nil {
            update(topic) { $0.continuity = Continuity(enterprises: 0, enterprisesWithGaps: 0, missingMonths: 0) }
        }

        var enterprises = 0, persons = 0
        let entities = try await client.query(
            """
            SELECT entity_kind, count(*) FROM (
                SELECT entity_kind, entity_id FROM credit_record WHERE entity_id IS NOT NULL AND NOT deleted GROUP BY 1, 2
            ) e GROUP BY 1
            """,
            logger: logger)
        for try await (kind, count) in entities.decode((String, Int64).self) {
            if kind == "enterprise" { enterprises = Int(count) } else if kind == "person" { persons = Int(count) }
        }
        return CityFigures(feeds: feeds.values.sorted { $0.topic < $1.topic }, enterprises: enterprises, persons: persons, computedAt: computedAt)
    }
}
