import CreditWatchCore
import Foundation
import Hummingbird
import Logging
import PostgresStore
import Prometheus
import RuleLanguage

/// The current feature values of an enterprise (the rule program's features evaluated over its
/// records), shown in its profile. Implemented by the executable over the feature store, so that
/// the API depends on no particular store.
public protocol EnterpriseFeatureSource: Sendable {
    func features(of uscc: String) async throws -> [NamedValue]
}

/// The live rule set and its hot reload, implemented by the executable (it reads the rules folder).
public protocol RuleSetControl: Sendable {
    /// The live set and the outcome of the last reload attempt.
    func status() async -> RuleSetStatus
    /// Checks the rules folder and swaps the set in between batches; a set that fails the check is
    /// never loaded (the old one stays live) and its diagnostics are the outcome.
    func reload(trigger: String) async -> RuleSetStatus
}

/// `GET /v1/rules`.
public struct RuleSetStatus: Codable, Sendable, Hashable {
    public struct Rule: Codable, Sendable, Hashable {
        public var name: String
        public var version: String
        public var kind: String
        public var severity: String
        public var category: String
        public init(name: String, version: String, kind: String, severity: String, category: String) {
            self.name = name
            self.version = version
            self.kind = kind
            self.severity = severity
            self.category = category
        }
    }

    /// The last reload that failed the check; cleared by the next reload that passes it.
    public struct Failure: Codable, Sendable, Hashable {
        public var at: String
        public var trigger: String
        /// The rendered diagnostics (`file:line:col: error: …` with source line and caret).
        public var diagnostics: String
        public init(at: String, trigger: String, diagnostics: String) {
            self.at = at
            self.trigger = trigger
            self.diagnostics = diagnostics
        }
    }

    public var version: String
    public var loadedAt: String
    public var trigger: String
    public var rules: [Rule]
    /// The rule-defined tags of the live set.
    public var tags: [String]
    public var lastFailure: Failure?
    /// Whether the last reload changed the live set (false when it failed or found the same set).
    public var changed: Bool

    public init(
        version: String, loadedAt: String, trigger: String, rules: [Rule], tags: [String], lastFailure: Failure?, changed: Bool
    ) {
        self.version = version
        self.loadedAt = loadedAt
        self.trigger = trigger
        self.rules = rules
        self.tags = tags
        self.lastFailure = lastFailure
        self.changed = changed
    }

    enum CodingKeys: String, CodingKey {
        case version, loadedAt = "loaded_at", trigger, rules, tags, lastFailure = "last_failure", changed
    }
}

/// Builds the HTTP API: the executable runs it, tests drive it with HummingbirdTesting.
///
/// The application does not run `store`: the caller runs it (it is a `Service`) next to the
/// application, e.g. in the same `ServiceGroup`.
///
/// Routes (all responses JSON, errors as `{"error":{"code","message","parameter"?}}`):
/// - `GET /health`: 200 `{"status":"ok","ingest":{…}}` when PostgreSQL answers and ingest is not
///   held up by an outage; else 503 with what is wrong (`ingest.outage`: component, since,
///   attempts, error).
/// - `GET /metrics`: Prometheus text of `metrics`.
/// - `GET /v1/alerts?after=&limit=&severity=&category=&industry=`: the alert feed (`AlertPage`).
/// - `GET /v1/enterprises/{uscc}`: an enterprise's profile with its current features.
/// - `GET /v1/alerts/events?after=&limit=`: alert state changes (raised, withdrawn, reactivated).
/// - `GET /v1/enterprises/{uscc}`: an enterprise's profile with its current features, score (every
///   point explained, with history) and tags.
/// - `GET /v1/quarantine?after=&limit=`: quarantined messages (analysts and operators).
/// - `GET /v1/tags/{tag}?after=&limit=`: the members of a rule-defined tag (e.g. `leading`).
/// - `GET /v1/rules`: the live rule set; `POST /v1/rules/reload`: check and swap in the rules
///   folder (analysts and operators; 422 with the diagnostics when it fails the check).
///
/// `/v1` requires an API key (`Authorization: Bearer <key>`) unless `allowAnonymous` is set.
public func buildApplication(
    configuration: APIConfiguration, store: PostgresStore, features: any EnterpriseFeatureSource,
    metrics: PrometheusCollectorRegistry, logger: Logger, rules: (any RuleSetControl)? = nil,
    ingest: IngestHealth? = nil
) -> some ApplicationProtocol {
    let router = Router(context: APIRequestContext.self)
    router.add(middleware: RequestMetricsMiddleware(factory: PrometheusMetricsFactory(registry: metrics)))
    router.add(middleware: ErrorMiddleware())

    let api = APIRoutes(
        store: store, features: features, rules: rules, ingest: ingest, metrics: metrics,
        storeTimeout: configuration.storeTimeout, logger: logger)
    router.get("health", use: api.health)
    router.get("metrics", use: api.metrics)
    let v1 = router.group("v1").add(middleware: AuthenticationMiddleware(configuration: configuration))
    v1.get("alerts", use: api.alerts)
    v1.get("alerts/events", use: api.alertEvents)
    v1.get("tags/{tag}", use: api.tagMembers)
    v1.get("rules", use: api.ruleSet)
    v1.post("rules/reload", use: api.reloadRules)
    v1.get("enterprises/{uscc}", use: api.enterprise)
    v1.get("quarantine", use: api.quarantine)

    return Application(
        router: router,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "creditwatch"),
        logger: logger)
}

/// The route handlers.
struct APIRoutes: Sendable {
    let store: PostgresStore
    let features: any EnterpriseFeatureSource
    let rules: (any RuleSetControl)?
    let ingest: IngestHealth?
    let metrics: PrometheusCollectorRegistry
    let storeTimeout: Duration
    let logger: Logger

    static let defaultPageSize = 50
    static let unavailable = APIError(.unavailable, "the database is unavailable; retry later")

    /// Runs a store call with the configured deadline; a database that cannot be reached (or does
    /// not answer in time) becomes a 503, any other failure stays an internal error.
    func fromStore<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        do {
            guard let value = try await withDeadline(storeTimeout, operation) else { throw Self.unavailable }
            return value
        } catch let error as APIError {
            throw error
        } catch where PostgresStore.isUnavailable(error) {
            throw Self.unavailable
        }
    }

    @Sendable func health(_ request: Request, context: APIRequestContext) async throws -> Response {
        let store = self.store
        do {
            try await fromStore { try await store.ping() }
        } catch {
            throw APIError(.unavailable, "PostgreSQL does not answer")
        }
        let report = HealthReport(ingest: ingest?.snapshot)
        return try JSONResponse.make(report, status: report.status == "ok" ? .ok : .serviceUnavailable)
    }

    @Sendable func metrics(_ request: Request, context: APIRequestContext) async throws -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: metrics.emitToBuffer())))
    }

    @Sendable func alerts(_ request: Request, context: APIRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let query = try QueryParameters(request, accepted: ["after", "limit", "severity", "category", "industry"])
        let after = try query.cursor("after")
        let limit = try query.limit("limit", defaultValue: Self.defaultPageSize, maximum: PostgresStore.maximumPageSize)
        let severities = try query.members("severity", of: Severity.self)
        let categories = try query.members("category", of: RuleLanguage.Category.self)
        let division = try query.division("industry")
        let subjects = principal.role == .bank ? (principal.scope ?? []) : nil
        let store = self.store
        let page = try await fromStore {
            try await store.alerts(
                after: after, limit: limit, severities: severities, categories: categories, division: division,
                subjectIDs: subjects)
        }
        return try JSONResponse.make(page)
    }

    @Sendable func alertEvents(_ request: Request, context: APIRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let query = try QueryParameters(request, accepted: ["after", "limit"])
        let after = try query.cursor("after")
        let limit = try query.limit("limit", defaultValue: Self.defaultPageSize, maximum: PostgresStore.maximumPageSize)
        let subjects = principal.role == .bank ? (principal.scope ?? []) : nil
        let store = self.store
        return try JSONResponse.make(try await fromStore { try await store.alertEvents(after: after, limit: limit, subjectIDs: subjects) })
    }

    @Sendable func tagMembers(_ request: Request, context: APIRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let query = try QueryParameters(request, accepted: ["after", "limit"])
        let tag = context.parameters.get("tag") ?? ""
        guard !tag.isEmpty, tag.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else {
            throw APIError(.invalidParameter, "a tag name is letters, digits and underscores, got '\(tag)'", parameter: "tag")
        }
        if let known = await rules?.status().tags, !known.contains(tag) {
            throw APIError(.notFound, "no tag '\(tag)' in the live rule set (tags: \(known.joined(separator: ", ")))", parameter: "tag")
        }
        let after = try query.single("after")
        let limit = try query.limit("limit", defaultValue: Self.defaultPageSize, maximum: PostgresStore.maximumPageSize)
        let subjects = principal.role == .bank ? (principal.scope ?? []) : nil
        let store = self.store
        return try JSONResponse.make(try await fromStore { try await store.tagMembers(tag, after: after, limit: limit, subjectIDs: subjects) })
    }

    @Sendable func ruleSet(_ request: Request, context: APIRequestContext) async throws -> Response {
        _ = try context.requirePrincipal()
        _ = try QueryParameters(request, accepted: [])
        guard let rules else { throw APIError(.notFound, "this server runs no rule set") }
        return try JSONResponse.make(await rules.status())
    }

    @Sendable func reloadRules(_ request: Request, context: APIRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        guard principal.mayReloadRules else { throw APIError(.forbidden, "rule sets are rolled out by analysts and operators") }
        _ = try QueryParameters(request, accepted: [])
        guard let rules else { throw APIError(.notFound, "this server runs no rule set") }
        let status = await rules.reload(trigger: "api:\(principal.name)")
        if let failure = status.lastFailure {
            throw APIError(.invalidRuleSet, "the rule set fails the check; rule set \(status.version) stays live:\n" + failure.diagnostics)
        }
        return try JSONResponse.make(status)
    }

    @Sendable func enterprise(_ request: Request, context: APIRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        _ = try QueryParameters(request, accepted: [])
        let text = context.parameters.get("uscc") ?? ""
        let uscc: USCC
        do {
            uscc = try USCC(validating: text)
        } catch {
            throw APIError(.invalidParameter, error.reason, parameter: "uscc")
        }
        guard principal.maySee(uscc.value) else {
            throw APIError(.forbidden, "enterprise \(uscc.value) is not in the scope of \(principal.name)", parameter: "uscc")
        }
        let store = self.store
        guard let profile = try await fromStore({ try await store.enterprise(uscc.value) }) else {
            throw APIError(.notFound, "no enterprise with USCC \(uscc.value) is known", parameter: "uscc")
        }
        // Features come from another store: when it fails, the profile is still worth showing.
        var values: [NamedJSONValue]?
        let features = self.features
        do {
            if let current = try await withDeadline(storeTimeout, { try await features.features(of: uscc.value) }) {
                values = current.map { NamedJSONValue(name: $0.name, value: JSONValue($0.value)) }
            } else {
                context.logger.warning("enterprise features timed out")
            }
        } catch {
            context.logger.warning("enterprise features unavailable", metadata: ["error": "\(String(reflecting: error))"])
        }
        let (score, tags) = try await fromStore {
            (try await store.score(of: uscc.value), try await store.tags(of: uscc.value))
        }
        return try JSONResponse.make(EnterpriseResponse(profile: profile, features: values, score: score, tags: tags))
    }

    @Sendable func quarantine(_ request: Request, context: APIRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        guard principal.mayReadQuarantine else {
            throw APIError(.forbidden, "the quarantine is open to analysts and operators only")
        }
        let query = try QueryParameters(request, accepted: ["after", "limit"])
        let after = try query.cursor("after")
        let limit = try query.limit("limit", defaultValue: Self.defaultPageSize, maximum: PostgresStore.maximumPageSize)
        let store = self.store
        let page = try await fromStore { try await store.quarantine(after: after, limit: limit) }
        return try JSONResponse.make(page)
    }
}

/// `GET /v1/enterprises/{uscc}`: the stored profile plus current features (`null` when the
/// feature store could not be read).
struct EnterpriseResponse: Encodable {
    let profile: EnterpriseProfile
    let features: [NamedJSONValue]?
    let score: EnterpriseScore?
    let tags: EnterpriseTagList

    enum CodingKeys: String, CodingKey { case uscc, registration, score, tags, facts, features, alerts }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(profile.uscc, forKey: .uscc)
        try c.encode(profile.registration, forKey: .registration)
        try c.encode(score, forKey: .score)
        try c.encode(tags, forKey: .tags)
        try c.encode(profile.facts, forKey: .facts)
        try c.encode(features, forKey: .features)
        try c.encode(profile.alerts, forKey: .alerts)
    }
}

/// `GET /health`.
struct HealthReport: Encodable {
    struct Ingest: Encodable {
        struct Outage: Encodable {
            var component: String
            var since: String
            var attempts: Int
            var error: String
        }

        var status: String
        var lastBatchAt: String?
        var outage: Outage?
        var quarantinedAfterBisection: Int
        /// Why the feature store is being rebuilt from PostgreSQL, while it is.
        var rebuilding: String?
        var featureRebuilds: Int
        /// Evaluation waits until a backlog has drained (a history sent at once, a restart).
        var catchingUp: Bool

        enum CodingKeys: String, CodingKey {
            case status, lastBatchAt = "last_batch_at", outage, quarantinedAfterBisection = "quarantined_after_bisection"
            case rebuilding, featureRebuilds = "feature_rebuilds", catchingUp = "catching_up"
        }
    }

    var status: String
    var ingest: Ingest?

    init(ingest snapshot: IngestHealth.Snapshot?) {
        guard let snapshot else {
            status = "ok"
            return
        }
        let outage = snapshot.outage.map {
            Ingest.Outage(component: $0.component, since: Self.iso($0.since), attempts: $0.attempts, error: $0.error)
        }
        status = outage == nil && snapshot.rebuilding == nil ? "ok" : "degraded"
        ingest = Ingest(
            status: outage != nil ? "waiting" : snapshot.rebuilding != nil ? "rebuilding" : "ok",
            lastBatchAt: snapshot.lastBatchAt.map(Self.iso), outage: outage,
            quarantinedAfterBisection: snapshot.bisectedQuarantined, rebuilding: snapshot.rebuilding,
            featureRebuilds: snapshot.rebuilds, catchingUp: snapshot.catchingUp)
    }

    static func iso(_ seconds: Double) -> String {
        Date(timeIntervalSince1970: seconds).formatted(.iso8601)
    }
}
