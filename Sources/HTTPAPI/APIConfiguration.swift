import Foundation

/// How the HTTP API listens and whom it lets in.
///
/// Defaults: `127.0.0.1:18080` (the project's local port), anonymous access off. Keys live in the
/// access store (`KeyDirectory`), not here.
public struct APIConfiguration: Sendable {
    /// Default `127.0.0.1`.
    public var host: String
    /// Default 18080.
    public var port: Int
    /// Development mode, on a loopback address only (`anonymityProblem`): a request without
    /// credentials acts as `Principal.development`. A request that presents an unknown key is
    /// still refused.
    public var allowAnonymous: Bool
    /// How long a request waits for PostgreSQL before it answers 503 (while the database is
    /// down, the connection pool would otherwise keep a request waiting for about a minute).
    /// Default 5 seconds.
    public var storeTimeout: Duration
    /// Requests per second each caller (principal) may make under `/v1`, with bursts up to
    /// `rateBurst`; beyond, 429 with `Retry-After`. 0: no limit. Default 50/s, bursts of 100.
    public var ratePerSecond: Double
    public var rateBurst: Int
    /// How often an alert stream looks for new events (default 1 s), how long it may stay silent
    /// before a keep-alive comment (15 s), and how long one stream lasts before the client must
    /// reconnect (10 min), and how often a stream checks its key and scope again (30 s: a revoked
    /// key ends it, a changed portfolio counts from then on).
    public var streamPoll: Duration = .seconds(1)
    public var streamHeartbeat: Duration = .seconds(15)
    public var streamLifetime: Duration = .seconds(600)
    public var streamRecheck: Duration = .seconds(30)
    /// The hosts webhooks may point to (lower case); nil: any.
    public var webhookHosts: Set<String>?

    public init(
        host: String = "127.0.0.1", port: Int = 18080, allowAnonymous: Bool = false, storeTimeout: Duration = .seconds(5),
        ratePerSecond: Double = 50, rateBurst: Int = 100
    ) {
        self.ratePerSecond = ratePerSecond
        self.rateBurst = rateBurst
        self.host = host
        self.port = port
        self.allowAnonymous = allowAnonymous
        self.storeTimeout = storeTimeout
    }

    /// Reads `CREDITWATCH_HTTP_HOST`, `CREDITWATCH_HTTP_PORT`, `CREDITWATCH_HTTP_ALLOW_ANONYMOUS`
    /// (`1`/`true`), `CREDITWATCH_HTTP_RATE_PER_SECOND` and `CREDITWATCH_HTTP_RATE_BURST`.
    public init(environment: [String: String]) {
        self.init()
        if let v = environment["CREDITWATCH_HTTP_RATE_PER_SECOND"].flatMap(Double.init), v >= 0, v.isFinite { ratePerSecond = v }
        if let v = environment["CREDITWATCH_HTTP_RATE_BURST"].flatMap(Int.init), v >= 1 { rateBurst = v }
        if let v = environment["CREDITWATCH_HTTP_HOST"], !v.isEmpty { host = v }
        if let v = environment["CREDITWATCH_WEBHOOK_HOSTS"], !v.isEmpty {
            webhookHosts = Set(v.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() })
        }
        if let v = environment["CREDITWATCH_HTTP_PORT"].flatMap(Int.init), (1...65535).contains(v) { port = v }
        if let v = environment["CREDITWATCH_HTTP_ALLOW_ANONYMOUS"] { allowAnonymous = v == "1" || v.lowercased() == "true" }
    }

    /// Why this configuration must not be used: anonymous access on an address other machines
    /// can reach. Nil when it may.
    public var anonymityProblem: String? {
        guard allowAnonymous else { return nil }
        let loopback = host == "localhost" || host == "::1" || host.hasPrefix("127.")
        return loopback ? nil : "anonymous access is allowed only on a loopback address, not on \(host); create keys with `creditwatch keys create`"
    }
}
