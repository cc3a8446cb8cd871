import Logging
import NIOSSL
import PostgresNIO

extension PostgresStore.Configuration {
    /// A connection pool to this database, its `search_path` set to the schema: every subsystem's
    /// adapter (the credit store, access, …) makes its own from the one configuration.
    public func makeClient(logger: Logger, maximumConnections: Int? = nil) throws(PostgresStoreError) -> PostgresClient {
        if let schema, !PostgresStore.isPlainIdentifier(schema) {
            throw PostgresStoreError(.invalidConfiguration, "schema name must match [a-z_][a-z0-9_]*, got '\(schema)'")
        }
        var pg = PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: try clientTLS())
        pg.options.maximumConnections = maximumConnections ?? self.maximumConnections
        if let schema { pg.options.additionalStartupParameters = [("search_path", schema)] }
        return PostgresClient(configuration: pg, backgroundLogger: logger)
    }
}

extension PostgresStore.Configuration {
    func clientTLS() throws(PostgresStoreError) -> PostgresClient.Configuration.TLS {
        guard tls != .disable else { return .disable }
        var configuration = TLSConfiguration.makeClientConfiguration()
        if let tlsCAFile {
            do {
                configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(tlsCAFile))
            } catch {
                throw PostgresStoreError(.invalidConfiguration, "cannot read the CA file \(tlsCAFile): \(error)")
            }
        }
        return tls == .prefer ? .prefer(configuration) : .require(configuration)
    }
}

/// Applies a subsystem's migrations: those not applied yet, in version order, each in its own
/// transaction together with its row in the subsystem's ledger table, under an advisory lock
/// (several daemon instances may start at once). Each subsystem keeps its own ledger, so that
/// its schema history is its own.
public struct SchemaMigrator: Sendable {
    let client: PostgresClient
    let schema: String?
    let logger: Logger

    public init(client: PostgresClient, schema: String?, logger: Logger) {
        self.client = client
        self.schema = schema
        self.logger = logger
    }

    /// Returns the versions it applied: none when the schema is up to date.
    @discardableResult
    public func apply(_ migrations: [Migration], ledger: String) async throws -> [Int] {
        precondition(PostgresStore.isPlainIdentifier(ledger), "ledger table name")
        let logger = self.logger
        if let schema {
            // Validated by makeClient: a plain identifier. Instances starting together would race
            // on pg_namespace (IF NOT EXISTS checks before it inserts): one creates it, the others wait.
            try await client.withTransaction(logger: logger) { connection in
                try await connection.query("SELECT pg_advisory_xact_lock(hashtext(\("creditwatch.schema." + schema)))", logger: logger)
                try await connection.query("CREATE SCHEMA IF NOT EXISTS \(unescaped: schema)", logger: logger)
            }
        }
        var applied: [Int] = []
        for migration in migrations.sorted(by: { $0.version < $1.version }) {
            let didApply = try await client.withTransaction(logger: logger) { connection in
                try await connection.query(PostgresStore.lockQuery("migrations"), logger: logger)
                try await connection.query(
                    """
                    CREATE TABLE IF NOT EXISTS \(unescaped: ledger) (
                        version integer PRIMARY KEY,
                        name text NOT NULL,
                        applied_at timestamptz NOT NULL DEFAULT now()
                    )
                    """, logger: logger)
                let rows = try await connection.query(
                    "SELECT 1 FROM \(unescaped: ledger) WHERE version = \(migration.version)", logger: logger
                ).collect()
                guard rows.isEmpty else { return false }
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query(
                    "INSERT INTO \(unescaped: ledger) (version, name) VALUES (\(migration.version), \(migration.name))",
                    logger: logger)
                return true
            }
            if didApply {
                logger.info(
                    "applied migration", metadata: ["ledger": "\(ledger)", "version": "\(migration.version)", "name": "\(migration.name)"])
                applied.append(migration.version)
            }
        }
        return applied
    }
}

/// A subsystem's own way to the database: its pool (with the configuration's schema) and its
/// migrations under its own ledger. The access layer, the alert desk and the webhooks each hold one.
public struct SubsystemDatabase: Sendable {
    public let client: PostgresClient
    let schema: String?
    let logger: Logger
    let migrations: [Migration]
    let ledger: String

    public init(
        configuration: PostgresStore.Configuration, connections: Int, migrations: [Migration], ledger: String, logger: Logger
    ) throws {
        self.client = try configuration.makeClient(logger: logger, maximumConnections: connections)
        self.schema = configuration.schema
        self.logger = logger
        self.migrations = migrations
        self.ledger = ledger
    }

    /// Runs the pool until cancelled (the owning store's `Service.run`).
    public func run() async { await client.run() }

    /// Applies the subsystem's pending migrations; returns their versions.
    @discardableResult
    public func migrate() async throws -> [Int] {
        try await SchemaMigrator(client: client, schema: schema, logger: logger).apply(migrations, ledger: ledger)
    }
}
