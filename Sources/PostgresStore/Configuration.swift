import Foundation

extension PostgresStore {
    /// Where the store's PostgreSQL database is and how many connections it may use.
    ///
    /// Defaults match the project's local server (`ops/servers.sh`): `127.0.0.1:15432`, user,
    /// password and database `creditwatch`, 8 connections, the `public` schema.
    public struct Configuration: Sendable, Hashable {
        /// Host name or address. Default `127.0.0.1`.
        public var host: String
        /// TCP port. Default `15432` (the project's own server; not PostgreSQL's 5432).
        public var port: Int
        /// Default `creditwatch`.
        public var username: String
        /// Default `creditwatch`. Never logged.
        public var password: String
        /// Default `creditwatch`.
        public var database: String
        /// Upper bound of the connection pool. Default 8.
        public var maximumConnections: Int
        /// The schema the store's tables live in (`search_path`); nil means the server's default
        /// (`public`). Tests use one schema per test so that they can run in parallel.
        public var schema: String?
        /// How long an engine call (a lookup, a batch's commit) may wait for PostgreSQL before it
        /// fails as an outage: a database that is down makes the pool wait for a connection
        /// rather than fail, and ingest must say so. Default 15 s.
        public var answerTimeout: Duration = .seconds(15)
        /// TLS to the server: `disable` (default: the project's local server), `prefer` or
        /// `require`; `tlsCAFile` is a PEM file of the CAs to trust (default: the system's).
        public var tls: TLSMode = .disable
        public var tlsCAFile: String?

        public enum TLSMode: String, Sendable, Hashable { case disable, prefer, require }

        public init(
            host: String = "127.0.0.1", port: Int = 15432, username: String = "creditwatch",
            password: String = "creditwatch", database: String = "creditwatch", maximumConnections: Int = 8,
            schema: String? = nil
        ) {
            self.host = host
            self.port = port
            self.username = username
            self.password = password
            self.database = database
            self.maximumConnections = maximumConnections
            self.schema = schema
        }

        /// Reads `CREDITWATCH_PG_HOST`, `CREDITWATCH_PG_PORT`, `CREDITWATCH_PG_USER`,
        /// `CREDITWATCH_PG_PASSWORD`, `CREDITWATCH_PG_DATABASE`, `CREDITWATCH_PG_MAX_CONNECTIONS`,
        /// `CREDITWATCH_PG_SCHEMA`, `CREDITWATCH_PG_ANSWER_TIMEOUT_SECONDS`, `CREDITWATCH_PG_TLS`
        /// (`disable`, `prefer`, `require`) and `CREDITWATCH_PG_TLS_CA_FILE`; an unset, empty or
        /// malformed variable keeps the default.
        public init(environment: [String: String]) {
            self.init()
            func value(_ name: String) -> String? {
                guard let v = environment[name], !v.isEmpty else { return nil }
                return v
            }
            if let v = value("CREDITWATCH_PG_HOST") { host = v }
            if let v = value("CREDITWATCH_PG_PORT").flatMap(Int.init), (1...65535).contains(v) { port = v }
            if let v = value("CREDITWATCH_PG_USER") { username = v }
            if let v = value("CREDITWATCH_PG_PASSWORD") { password = v }
            if let v = value("CREDITWATCH_PG_DATABASE") { database = v }
            if let v = value("CREDITWATCH_PG_MAX_CONNECTIONS").flatMap(Int.init), v > 0 { maximumConnections = v }
            if let v = value("CREDITWATCH_PG_SCHEMA") { schema = v }
            if let v = value("CREDITWATCH_PG_TLS").flatMap(TLSMode.init(rawValue:)) { tls = v }
            if let v = value("CREDITWATCH_PG_TLS_CA_FILE") { tlsCAFile = v }
            if let v = value("CREDITWATCH_PG_ANSWER_TIMEOUT_SECONDS").flatMap(Double.init), v > 0 {
                answerTimeout = .milliseconds(Int64(v * 1000))
            }
        }
    }
}

extension PostgresStore.Configuration: CustomStringConvertible {
    /// `creditwatch@127.0.0.1:15432/creditwatch`: safe to log (no password).
    public var description: String {
        "\(username)@\(host):\(port)/\(database)" + (schema.map { " schema \($0)" } ?? "")
    }
}
