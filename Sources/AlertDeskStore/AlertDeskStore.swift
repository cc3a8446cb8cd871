import AlertDesk
import Foundation
import Logging
import PostgresNIO
import PostgresStore
import ServiceLifecycle

/// The alert desk on PostgreSQL (its own migrations, ledger `desk_migrations`, and pool): each
/// alert's desk state and every step taken on it. A `Service`.
public final class AlertDeskStore: Sendable, Service {
    let database: SubsystemDatabase
    let logger: Logger
    var client: PostgresClient { database.client }

    public init(configuration: PostgresStore.Configuration, logger: Logger) throws {
        self.database = try SubsystemDatabase(
            configuration: configuration, connections: 2, migrations: Self.migrations, ledger: "desk_migrations", logger: logger)
        self.logger = logger
    }

    public func run() async { await database.run() }

    static let migrations = [
        Migration(version: 1, name: "desk", statements: [
            """
            -- The desk's state of the alerts someone has worked (an alert without a row is open).
            CREATE TABLE desk_alert (
                alert_id bigint PRIMARY KEY,
                status text NOT NULL CHECK (status IN ('open', 'acknowledged', 'resolved')),
                assignee text,
                disposition text CHECK (disposition IN ('confirmed_risk', 'false_positive', 'no_action_needed')),
                version integer NOT NULL,
                acknowledged_at timestamptz,
                resolved_at timestamptz,
                updated_at timestamptz NOT NULL DEFAULT now()
            )
            """,
            """
            CREATE TABLE desk_event (
                id bigserial PRIMARY KEY,
                alert_id bigint NOT NULL,
                at timestamptz NOT NULL DEFAULT now(),
                actor text NOT NULL,
                organisation text NOT NULL,
                action text NOT NULL,
                -- assignee, text, disposition, note or reason, as the action has them.
                detail jsonb NOT NULL,
                version integer NOT NULL
            )
            """,
            "CREATE INDEX desk_event_alert ON desk_event (alert_id, id)",
        ])
    ]

    @discardableResult
    public func migrate() async throws -> [Int] { try await database.migrate() }
}

extension AlertDeskStore: AlertDeskPort {
    public func desk(of alertID: Int64) async throws -> (state: DeskState, events: [DeskEvent]) {
        let logger = self.logger
        return try await client.withConnection { connection in
            let state = try await Self.state(of: alertID, connection: connection, lock: false)
            let rows = try await connection.query(
                """
                SELECT id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), actor, organisation, action, detail::text, version
                FROM desk_event WHERE alert_id = \(alertID) ORDER BY id
                """, logger: logger)
            var events: [DeskEvent] = []
            for try await (id, at, actor, organisation, action, detail, version) in rows.decode(
                (Int64, String, String, String, String, String, Int).self)
            {
                let fields = (try? JSONDecoder().decode([String: String].self, from: Data(detail.utf8))) ?? [:]
                events.append(DeskEvent(id: id, at: at, actor: actor, organisation: organisation, action: action, detail: fields, version: version))
            }
            return (state, events)
        }
    }

    public func apply(_ command: DeskCommand, to alertID: Int64, expectedVersion: Int?, actor: String, organisation: String) async throws
        -> Result<DeskState, DeskRefusal>
    {
        let logger = self.logger
        return try await client.withTransaction(logger: logger) { connection in
            // Serialises the commands on one alert; a new alert's first commands race on the insert below.
            try await connection.query("SELECT pg_advisory_xact_lock(\(alertID))", logger: logger)
            let current = try await Self.state(of: alertID, connection: connection, lock: true)
            if let expectedVersion, expectedVersion != current.version {
                return .failure(DeskRefusal(rejection: .conflict("the alert changed: version \(current.version), not \(expectedVersion)"), current: current))
            }
            let next: DeskState
            switch decide(command, on: current) {
            case .failure(let rejection): return .failure(DeskRefusal(rejection: rejection, current: current))
            case .success(let state): next = state
            }
            try await connection.query(
                """
                INSERT INTO desk_alert (alert_id, status, assignee, disposition, version, acknowledged_at, resolved_at)
                VALUES (\(alertID), \(next.status.rawValue), \(next.assignee), \(next.disposition?.rawValue), \(next.version),
                    CASE WHEN \(next.status.rawValue) <> 'open' THEN now() END, CASE WHEN \(next.status.rawValue) = 'resolved' THEN now() END)
                ON CONFLICT (alert_id) DO UPDATE SET status = EXCLUDED.status, assignee = EXCLUDED.assignee,
                    disposition = EXCLUDED.disposition, version = EXCLUDED.version,
                    acknowledged_at = coalesce(desk_alert.acknowledged_at, EXCLUDED.acknowledged_at),
                    resolved_at = EXCLUDED.resolved_at, updated_at = now()
                """, logger: logger)
            let detail = String(decoding: try JSONEncoder().encode(command.detail), as: UTF8.self)
            try await connection.query(
                """
                INSERT INTO desk_event (alert_id, actor, organisation, action, detail, version)
                VALUES (\(alertID), \(actor), \(organisation), \(command.name), \(detail)::jsonb, \(next.version))
                """, logger: logger)
            return .success(next)
        }
    }

    static func state(of alertID: Int64, connection: PostgresConnection, lock: Bool) async throws -> DeskState {
        let rows = try await connection.query(
            "SELECT status, assignee, disposition, version FROM desk_alert WHERE alert_id = \(alertID)", logger: Logger(label: "desk"))
        for try await (status, assignee, disposition, version) in rows.decode((String, String?, String?, Int).self) {
            return DeskState(
                status: DeskStatus(rawValue: status) ?? .open, assignee: assignee, disposition: disposition.flatMap(Disposition.init),
                version: version)
        }
        return .new
    }

    public func statistics(district: String?, subjects: Set<String>?) async throws -> [RuleDeskStatistics] {
        let subjectList = subjects.map { $0.sorted() }
        let rows = try await client.query(
            """
            SELECT a.rule, count(*)::int8,
                count(*) FILTER (WHERE d.status = 'acknowledged' OR d.status = 'resolved')::int8,
                count(*) FILTER (WHERE d.disposition = 'confirmed_risk')::int8,
                count(*) FILTER (WHERE d.disposition = 'false_positive')::int8,
                count(*) FILTER (WHERE d.disposition = 'no_action_needed')::int8,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM d.acknowledged_at - a.processed_at))
            FROM alert a LEFT JOIN desk_alert d ON d.alert_id = a.id
            WHERE (\(district)::text IS NULL OR (a.district = \(district)::text AND a.subject_kind = 'enterprise'))
                AND (\(subjectList)::text[] IS NULL OR a.subject_id = ANY(\(subjectList)::text[]))
            GROUP BY a.rule ORDER BY a.rule
            """, logger: logger)
        var result: [RuleDeskStatistics] = []
        for try await (rule, alerts, acknowledged, confirmed, falsePositive, noAction, median) in rows.decode(
            (String, Int64, Int64, Int64, Int64, Int64, Double?).self)
        {
            result.append(
                RuleDeskStatistics(
                    rule: rule, alerts: Int(alerts), acknowledged: Int(acknowledged), confirmedRisk: Int(confirmed),
                    falsePositive: Int(falsePositive), noActionNeeded: Int(noAction), medianSecondsToAcknowledge: median))
        }
        return result
    }
}
