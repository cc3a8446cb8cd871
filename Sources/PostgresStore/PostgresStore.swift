import CreditWatchCore
import Logging
import PostgresNIO
import RuleLanguage
import ServiceLifecycle

/// The relational store of record on PostgreSQL: the credit information base (current records
/// and their history), registered enterprises, learned account links, the quarantine and alerts.
/// The only code that talks to PostgreSQL.
///
/// It is a `Service`: its connection pool works only while `run()` runs (run it in the daemon's
/// `ServiceGroup`, or in a task next to the code that uses it). `migrate()` brings the schema up
/// to date; the engine writes through `CreditStore`; the API and the CLI read through the query
/// methods (`alerts`, `enterprise`, `quarantine`, counts).
///
/// Record fields are stored as plain JSON (`JSONValue`); reading them back as typed `Value`s uses
/// the field types of the `TopicCatalog` given here. The catalog was chosen over a type tag per
/// value so that the stored JSON stays what analysts and the API expect (`"2020-05-31"`, not
/// `{"date": …}`); a field no longer in the catalog is read by its JSON type.
public final class PostgresStore: Sendable, Service {
    public let configuration: Configuration
    let client: PostgresClient
    public let catalog: TopicCatalog
    let logger: Logger

    public init(configuration: Configuration, catalog: TopicCatalog, logger: Logger) throws(PostgresStoreError) {
        self.client = try configuration.makeClient(logger: logger)
        self.configuration = configuration
        self.catalog = catalog
        self.logger = logger
    }

    /// Runs the connection pool until the task is cancelled or a graceful shutdown is requested.
    public func run() async {
        await client.run()
    }

    /// Runs `operation`, failing with `.unavailable` when it has not finished within the
    /// configured answer timeout (it is then cancelled): the engine's calls, so that an outage
    /// surfaces as one instead of a wait without end.
    func answered<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        let timeout = configuration.answerTimeout
        guard let value = try await withDeadline(timeout, operation) else {
            throw PostgresStoreError(.unavailable, "PostgreSQL did not answer within \(timeout)")
        }
        return value
    }

    /// `SELECT 1`: whether the database answers (health checks).
    public func ping() async throws {
        _ = try await client.query("SELECT 1", logger: logger).collect()
    }

    /// Whether `error` (thrown by a store method) means the database cannot be reached or is not
    /// accepting work right now (connection refused or lost, pool giving up, server shutting down,
    /// authentication failing), as opposed to a fault of the statement or the data. Callers answer
    /// the former with "retry later" (HTTP 503) and the latter as an internal error.
    public static func isUnavailable(_ error: any Error) -> Bool {
        switch error {
        case let error as PSQLError:
            switch error.code {
            case .server:
                // SQLSTATE classes 08 connection exception, 53 insufficient resources, 57 operator
                // intervention (shutdown, cancel), 28 invalid authorization.
                let state = error.serverInfo?[.sqlState] ?? ""
                return ["08", "53", "57", "28"].contains(String(state.prefix(2)))
            case .tooManyParameters, .messageDecodingFailure, .unexpectedBackendMessage, .invalidCommandTag,
                .queryCancelled, .listenFailed, .unlistenFailed:
                return false
            default:
                return true
            }
        case let error as PostgresTransactionError:
            return [error.beginError, error.closureError, error.commitError].contains { $0.map(isUnavailable) ?? false }
        case is PostgresDecodingError, is PostgresStoreError, is CancellationError:
            return false
        default:
            // The connection pool's own errors (circuit breaker tripped after failed connects, pool
            // shut down) come from PostgresNIO's internal pool module, whose types are not public API.
            return String(reflecting: type(of: error)).hasPrefix("_ConnectionPoolModule.")
        }
    }

    /// How the ingest loop treats a failure of this store; nil when `error` is not this store's.
    /// Only a statement's data can be the input's fault — SQLSTATE classes 22 (data exception:
    /// a value out of range, an invalid byte), 23 (integrity constraint) and 54 (program limit:
    /// a value too large to index) — and a batch too large for one statement. Everything else is
    /// waited out as an outage: connections, resources, failover, and faults of the store's own
    /// statements, which must stop ingest loudly rather than quarantine good data.
    public static func failureKind(of error: any Error) -> FailureKind? {
        switch error {
        case let error as PSQLError:
            if error.code == .server {
                let state = error.serverInfo?[.sqlState] ?? "?"
                if ["22", "23", "54"].contains(String(state.prefix(2))) {
                    return .input(reason: "PostgreSQL \(state): \(error.serverInfo?[.message] ?? "no message")")
                }
            }
            if error.code == .tooManyParameters { return .input(reason: "too many values for one PostgreSQL statement") }
            return .outage(component: "postgresql")
        case let error as PostgresTransactionError:
            for inner in [error.closureError, error.beginError, error.commitError].compactMap({ $0 }) {
                if let kind = failureKind(of: inner) { return kind }
            }
            return .outage(component: "postgresql")
        case is Fenced:
            return .fenced
        case is PostgresDecodingError, is PostgresStoreError:
            // Unavailable, or the store's own fault: both wait (see above).
            return .outage(component: "postgresql")
        default:
            return isUnavailable(error) ? .outage(component: "postgresql") : nil
        }
    }

    // MARK: Migrations

    /// Applies the migrations of `Migrations.all` not applied yet, in version order, each in its own
    /// transaction under an advisory lock (several daemon instances may start at once), and returns
    /// the versions it applied: none when the schema is up to date.
    @discardableResult
    public func migrate(through last: Int = .max) async throws -> [Int] {
        try await SchemaMigrator(client: client, schema: configuration.schema, logger: logger)
            .apply(Migrations.all.filter { $0.version <= last }, ledger: "schema_migrations")
    }

    static func lockQuery(_ purpose: String) -> PostgresQuery {
        "SELECT pg_advisory_xact_lock(hashtext(current_schema() || \("." + purpose)))"
    }

    static func isPlainIdentifier(_ text: String) -> Bool {
        guard let first = text.utf8.first, first == UInt8(ascii: "_") || (0x61...0x7A).contains(first), text.utf8.count <= 63
        else { return false }
        return text.utf8.allSatisfy { $0 == UInt8(ascii: "_") || (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) }
    }
}

/// Why a store operation failed. `description` is safe to log and show (it never contains record
/// data); the underlying PostgreSQL error, if any, is in `cause`.
public struct PostgresStoreError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// The configuration cannot be used (e.g. a schema name that is not a plain identifier).
        case invalidConfiguration = "invalid_configuration"
        /// A stored value does not have the shape the store writes (edited by hand?).
        case malformedStoredValue = "malformed_stored_value"
        /// PostgreSQL did not answer within `Configuration.answerTimeout`.
        case unavailable
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
