import Foundation

/// Who is calling the API, as resolved from the request's credentials. What a principal may see
/// depends on its role; a bank sees only the enterprises in its scope.
public struct Principal: Sendable, Hashable {
    public enum Role: String, Sendable, Hashable, CaseIterable {
        /// The city's financial office: all alerts, all enterprises.
        case financialOffice = "financial_office"
        /// A bank: alerts and profiles of the enterprises it lends to or watches (its scope).
        case bank
        /// A risk analyst (rule author): everything, including the quarantine.
        case analyst
        /// An operator of the daemon: everything, including the quarantine.
        case `operator`
    }

    /// Shown in logs (never the key).
    public var name: String
    public var role: Role
    /// For banks: the USCCs of their borrowers and authorised watches. Nil for other roles.
    public var scope: Set<String>?

    public init(name: String, role: Role, scope: Set<String>? = nil) {
        self.name = name
        self.role = role
        self.scope = scope
    }

    public static func bank(_ name: String, scope: Set<String>) -> Principal {
        Principal(name: name, role: .bank, scope: scope)
    }

    /// What the principal may read: a bank its scope, everyone else the whole city.
    public var readScope: Scope { role == .bank ? .subjects(scope ?? []) : .city }

    /// Whether the principal sees personal data (ID numbers, persons' names, phones) in clear.
    /// No role has that right yet: it comes with a recorded purpose (one-click query).
    public var mayReadPersonalData: Bool { false }

    /// The quarantine holds raw department data: for the people who fix feeds.
    public var mayReadQuarantine: Bool { role == .analyst || role == .operator }
    /// Analysts and operators roll out rule sets.
    public var mayReloadRules: Bool { role == .analyst || role == .operator }
}

/// How the HTTP API listens and whom it lets in.
///
/// Defaults: `127.0.0.1:18080` (the project's local port), no API keys, anonymous access off.
public struct APIConfiguration: Sendable {
    /// Default `127.0.0.1`.
    public var host: String
    /// Default 18080.
    public var port: Int
    /// API key → principal. Requests present a key as `Authorization: Bearer <key>`.
    public var apiKeys: [String: Principal]
    /// Development mode (the demo): a request without credentials acts as `anonymousPrincipal`.
    /// A request that presents an unknown key is still refused.
    public var allowAnonymous: Bool
    /// Who an anonymous request is in development mode. Default: an operator named `anonymous`.
    public var anonymousPrincipal: Principal
    /// How long a request waits for PostgreSQL before it answers 503 (while the database is
    /// down, the connection pool would otherwise keep a request waiting for about a minute).
    /// Default 5 seconds.
    public var storeTimeout: Duration
    /// Requests per second each caller (principal) may make under `/v1`, with bursts up to
    /// `rateBurst`; beyond, 429 with `Retry-After`. 0: no limit. Default 50/s, bursts of 100.
    public var ratePerSecond: Double
    public var rateBurst: Int

    public init(
        host: String = "127.0.0.1", port: Int = 18080, apiKeys: [String: Principal] = [:], allowAnonymous: Bool = false,
        anonymousPrincipal: Principal = Principal(name: "anonymous", role: .operator), storeTimeout: Duration = .seconds(5),
        ratePerSecond: Double = 50, rateBurst: Int = 100
    ) {
        self.ratePerSecond = ratePerSecond
        self.rateBurst = rateBurst
        self.host = host
        self.port = port
        self.apiKeys = apiKeys
        self.allowAnonymous = allowAnonymous
        self.anonymousPrincipal = anonymousPrincipal
        self.storeTimeout = storeTimeout
    }

    /// Reads `CREDITWATCH_HTTP_HOST`, `CREDITWATCH_HTTP_PORT`, `CREDITWATCH_HTTP_ALLOW_ANONYMOUS`
    /// (`1`/`true`), `CREDITWATCH_HTTP_RATE_PER_SECOND` and `CREDITWATCH_HTTP_RATE_BURST`; API keys
    /// come from the configuration file, not the environment.
    public init(environment: [String: String]) {
        self.init()
        if let v = environment["CREDITWATCH_HTTP_RATE_PER_SECOND"].flatMap(Double.init), v >= 0, v.isFinite { ratePerSecond = v }
        if let v = environment["CREDITWATCH_HTTP_RATE_BURST"].flatMap(Int.init), v >= 1 { rateBurst = v }
        if let v = environment["CREDITWATCH_HTTP_HOST"], !v.isEmpty { host = v }
        if let v = environment["CREDITWATCH_HTTP_PORT"].flatMap(Int.init), (1...65535).contains(v) { port = v }
        if let v = environment["CREDITWATCH_HTTP_ALLOW_ANONYMOUS"] { allowAnonymous = v == "1" || v.lowercased() == "true" }
    }

    /// Resolves the credentials of a request: its `Authorization` header value, if any.
    func principal(authorization: String?) throws(APIError) -> Principal {
        guard let authorization else {
            if allowAnonymous { return anonymousPrincipal }
            throw APIError(.unauthorized, "missing API key: send the header 'Authorization: Bearer <key>'")
        }
        let parts = authorization.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw APIError(.unauthorized, "the Authorization header must have the form 'Bearer <key>'")
        }
        guard let principal = apiKeys[String(parts[1]).trimmingCharacters(in: .whitespaces)] else {
            throw APIError(.unauthorized, "unknown API key")
        }
        return principal
    }
}
