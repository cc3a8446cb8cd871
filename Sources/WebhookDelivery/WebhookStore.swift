import Foundation
import Logging
import PostgresNIO
import PostgresStore
import ServiceLifecycle
import Webhooks

/// An organisation's webhook as listed (without its secret).
public struct WebhookInfo: Sendable, Hashable, Codable {
    public var id: Int64
    public var organisationId: Int64
    public var url: String
    /// The last alert event delivered (the feed cursor).
    public var cursor: Int64
    public var failures: Int
    public var nextAttemptAt: String
    public var disabledAt: String?
    public var disabledReason: String?
    public var createdAt: String
    public var createdBy: String
}

/// One delivery attempt as logged.
public struct WebhookDeliveryRecord: Sendable, Hashable, Codable {
    public var id: Int64
    public var at: String
    public var firstEvent: Int64
    public var lastEvent: Int64
    public var events: Int
    public var status: Int?
    public var error: String?
    public var succeeded: Bool
    public var durationMs: Int
}

/// Webhooks on PostgreSQL (own migrations, ledger `webhook_migrations`, own pool): subscriptions
/// with their cursor and failure count, and the delivery log. A `Service`.
public final class WebhookStore: Sendable, Service {
    let database: SubsystemDatabase
    let logger: Logger
    var client: PostgresClient { database.client }

    public init(configuration: PostgresStore.Configuration, logger: Logger) throws {
        self.database = try SubsystemDatabase(
            configuration: configuration, connections: 2, migrations: Self.migrations, ledger: "webhook_migrations", logger: logger)
        self.logger = logger
    }

    public func run() async { await database.run() }

    static let migrations = [
        Migration(version: 1, name: "webhooks", statements: [
            """
            CREATE TABLE webhook (
                id bigserial PRIMARY KEY,
                organisation_id bigint NOT NULL,
                url text NOT NULL,
                -- The HMAC key: kept as is, since signing needs it.
                secret text NOT NULL,
                "cursor" bigint NOT NULL DEFAULT 0,
                failures integer NOT NULL DEFAULT 0,
                next_attempt_at timestamptz NOT NULL DEFAULT now(),
                disabled_at timestamptz,
                disabled_reason text,
                created_at timestamptz NOT NULL DEFAULT now(),
                created_by text NOT NULL,
                deleted_at timestamptz
            )
            """,
            """
            CREATE TABLE webhook_delivery (
                id bigserial PRIMARY KEY,
                webhook_id bigint NOT NULL REFERENCES webhook (id),
                at timestamptz NOT NULL DEFAULT now(),
                first_event bigint NOT NULL,
                last_event bigint NOT NULL,
                events integer NOT NULL,
                status integer,
                error text,
                succeeded boolean NOT NULL,
                duration_ms integer NOT NULL
            )
            """,
            "CREATE INDEX webhook_delivery_webhook ON webhook_delivery (webhook_id, id)",
        ])
    ]

    @discardableResult
    public func migrate() async throws -> [Int] { try await database.migrate() }

    static let timestamp = "YYYY-MM-DD\"T\"HH24:MI:SS\"Z\""
    static let columns = """
        id, organisation_id, url, "cursor", failures, to_char(next_attempt_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
        to_char(disabled_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), disabled_reason,
        to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), created_by, secret
        """

    static func decode(_ rows: PostgresRowSequence) async throws -> [(WebhookInfo, secret: String)] {
        var result: [(WebhookInfo, secret: String)] = []
        for try await (id, organisation, url, cursor, failures, next, disabled, reason, created, by, secret) in rows.decode(
            (Int64, Int64, String, Int64, Int, String, String?, String?, String, String, String).self)
        {
            result.append((
                WebhookInfo(
                    id: id, organisationId: organisation, url: url, cursor: cursor, failures: failures, nextAttemptAt: next,
                    disabledAt: disabled, disabledReason: reason, createdAt: created, createdBy: by), secret
            ))
        }
        return result
    }

    /// A new webhook; its secret (for the receiver to check signatures) is returned this once.
    public func create(organisationID: Int64, url: String, after: Int64, by: String) async throws -> (WebhookInfo, secret: String) {
        let secret = WebhookSignature.newSecret()
        let rows = try await client.query(
            """
            INSERT INTO webhook (organisation_id, url, secret, "cursor", created_by) VALUES (\(organisationID), \(url), \(secret), \(after), \(by))
            RETURNING \(unescaped: Self.columns)
            """, logger: logger)
        guard let created = try await Self.decode(rows).first else { throw PostgresStoreError(.malformedStoredValue, "webhook not created") }
        return created
    }

    public func webhooks(organisationID: Int64) async throws -> [WebhookInfo] {
        let rows = try await client.query(
            "SELECT \(unescaped: Self.columns) FROM webhook WHERE organisation_id = \(organisationID) AND deleted_at IS NULL ORDER BY id",
            logger: logger)
        return try await Self.decode(rows).map(\.0)
    }

    public func webhook(_ id: Int64, organisationID: Int64) async throws -> WebhookInfo? {
        try await webhooks(organisationID: organisationID).first { $0.id == id }
    }

    /// Deletes (stops) the webhook; false when the organisation has no such webhook.
    public func delete(_ id: Int64, organisationID: Int64) async throws -> Bool {
        let rows = try await client.query(
            "UPDATE webhook SET deleted_at = now() WHERE id = \(id) AND organisation_id = \(organisationID) AND deleted_at IS NULL RETURNING 1",
            logger: logger)
        var found = false
        for try await _ in rows { found = true }
        return found
    }

    /// Enables a disabled webhook again, failures reset; false when there is no such webhook.
    public func enable(_ id: Int64, organisationID: Int64) async throws -> Bool {
        let rows = try await client.query(
            """
            UPDATE webhook SET disabled_at = NULL, disabled_reason = NULL, failures = 0, next_attempt_at = now()
            WHERE id = \(id) AND organisation_id = \(organisationID) AND deleted_at IS NULL RETURNING 1
            """, logger: logger)
        var found = false
        for try await _ in rows { found = true }
        return found
    }

    /// The webhook's delivery attempts, newest first.
    public func deliveries(of id: Int64, limit: Int = 100) async throws -> [WebhookDeliveryRecord] {
        let rows = try await client.query(
            """
            SELECT id, to_char(at AT TIME ZONE 'UTC', \(Self.timestamp)), first_event, last_event, events, status, error, succeeded, duration_ms
            FROM webhook_delivery WHERE webhook_id = \(id) ORDER BY id DESC LIMIT \(limit)
            """, logger: logger)
        var result: [WebhookDeliveryRecord] = []
        for try await (id, at, first, last, events, status, error, succeeded, duration) in rows.decode(
            (Int64, String, Int64, Int64, Int, Int?, String?, Bool, Int).self)
        {
            result.append(
                WebhookDeliveryRecord(
                    id: id, at: at, firstEvent: first, lastEvent: last, events: events, status: status, error: error, succeeded: succeeded,
                    durationMs: duration))
        }
        return result
    }

    /// Enabled webhooks whose next attempt is due.
    func due() async throws -> [(WebhookInfo, secret: String)] {
        let rows = try await client.query(
            """
            SELECT \(unescaped: Self.columns) FROM webhook
            WHERE deleted_at IS NULL AND disabled_at IS NULL AND next_attempt_at <= now() ORDER BY id
            """, logger: logger)
        return try await Self.decode(rows)
    }

    /// Records an attempt: on success the cursor moves to its last event and failures reset; on
    /// failure the next attempt waits `retryIn`, or the webhook is disabled (nil).
    func record(
        _ webhook: Int64, events: (first: Int64, last: Int64, count: Int), outcome: DeliveryOutcome, duration: Duration,
        retryIn: Duration?, disabledReason: String?
    ) async throws {
        let milliseconds = Int(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
        let (status, error): (Int?, String?) = switch outcome {
        case .delivered(let status): (status, nil)
        case .failed(let status, let error): (status, error)
        }
        let logger = self.logger
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query(
                """
                INSERT INTO webhook_delivery (webhook_id, first_event, last_event, events, status, error, succeeded, duration_ms)
                VALUES (\(webhook), \(events.first), \(events.last), \(events.count), \(status), \(error), \(outcome.succeeded), \(milliseconds))
                """, logger: logger)
            if outcome.succeeded {
                try await connection.query(
                    "UPDATE webhook SET \"cursor\" = \(events.last), failures = 0, next_attempt_at = now() WHERE id = \(webhook)", logger: logger)
            } else if let retryIn {
                let seconds = Double(retryIn.components.seconds) + Double(retryIn.components.attoseconds) / 1e18
                try await connection.query(
                    """
                    UPDATE webhook SET failures = failures + 1, next_attempt_at = now() + make_interval(secs => \(seconds)) WHERE id = \(webhook)
                    """, logger: logger)
            } else {
                try await connection.query(
                    "UPDATE webhook SET failures = failures + 1, disabled_at = now(), disabled_reason = \(disabledReason) WHERE id = \(webhook)",
                    logger: logger)
            }
        }
    }
}
