import Access
import CreditWatchCore
import Dashboard
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
    /// The live person rules that hold for a person now (the one-click query's assessment of a
    /// legal representative or shareholder): evaluated on demand, not stored as alerts.
    func personRules(of id: String) async throws -> [Firing]
}

extension EnterpriseFeatureSource {
    public func personRules(of id: String) async throws -> [Firing] { [] }
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

/// Builds the HTTP API: the executable runs it, tests drive it with HummingbirdTesting. One
/// controller per subsystem adds its routes, over the read models (`ReadModels`) it needs; the
/// application does not run the stores behind them (the caller runs them next to it, e.g. in the
/// same `ServiceGroup`).
///
/// Routes (all responses JSON, errors as `{"error":{"code","message","parameter"?}}`):
/// - `GET /health`, `GET /metrics` (`OperationsController`);
/// - `GET /v1/alerts`, `GET /v1/alerts/events` (`AlertsController`), `GET /v1/alerts/stream`
///   (`AlertStreamController`, server-sent events);
/// - `GET /v1/stats/overview`, `GET /v1/industries/{division}`, `GET /v1/enterprises/{uscc}/series`,
///   `GET /v1/alerts/{id}` (`StatisticsController`); `GET /v1/feeds`, `GET /v1/feeds/{topic}`
///   (`FeedsController`, data health);
/// - `/dashboard` (`DashboardController`): the city dashboard's pages and its session (a cookie
///   holding the key it was signed in with, accepted by `/v1` in place of the header);
/// - `GET /v1/enterprises/{uscc}`, `GET /v1/tags/{tag}` (`EnterprisesController`);
/// - `GET /v1/quarantine` (`QuarantineController`);
/// - `GET /v1/rules`, `POST /v1/rules/reload` (`RulesController`);
/// - `GET /v1/me`, `/v1/admin/organisations`, `/v1/admin/keys` (`AccessController`);
/// - `/v1/portfolio` (`PortfolioController`), `GET /v1/audit` (`AuditController`);
/// - `POST /v1/queries` (`QueryController`);
/// - `/v1/desk/alerts/{id}`, `/v1/desk/alerts/{id}/actions`, `/v1/desk/stats` (`DeskController`);
/// - `/v1/webhooks` (`WebhooksController`).
///
/// `/v1` requires an API key (`Authorization: Bearer <key>`, resolved by `keys` at every request)
/// unless `allowAnonymous` is set (loopback only); every route asks for a `Permission` and every
/// read takes the caller's `Scope`.
///
/// `personalFields` (`PersonalFields(catalog)`) are masked for every caller without the right
/// to see personal data.
public func buildApplication(
    configuration: APIConfiguration, keys: any KeyDirectory, readModels: ReadModels, personalFields: PersonalFields,
    features: any EnterpriseFeatureSource,
    metrics: PrometheusCollectorRegistry, logger: Logger, rules: (any RuleSetControl)? = nil,
    ingest: IngestHealth? = nil, dashboard: DashboardSite? = nil, today: @escaping @Sendable () -> Day = { Day.today() }
) -> some ApplicationProtocol {
    Application(
        router: buildRouter(
            configuration: configuration, keys: keys, readModels: readModels, personalFields: personalFields, features: features,
            metrics: metrics, rules: rules, ingest: ingest, dashboard: dashboard, today: today),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "creditwatch"),
        logger: logger)
}

/// The API's router (see `buildApplication`); its `routes` are what `AccessRules` must cover.
public func buildRouter(
    configuration: APIConfiguration, keys: any KeyDirectory, readModels: ReadModels, personalFields: PersonalFields,
    features: any EnterpriseFeatureSource, metrics: PrometheusCollectorRegistry, rules: (any RuleSetControl)? = nil,
    ingest: IngestHealth? = nil, dashboard: DashboardSite? = nil, today: @escaping @Sendable () -> Day = { Day.today() }
) -> Router<APIRequestContext> {
    let router = Router(context: APIRequestContext.self)
    router.add(middleware: RequestMetricsMiddleware(factory: PrometheusMetricsFactory(registry: metrics)))
    router.add(middleware: ErrorMiddleware())
    let access = StoreAccess(
        timeout: configuration.storeTimeout, isUnavailable: readModels.isUnavailable, maximumPageSize: readModels.maximumPageSize)

    OperationsController(ping: readModels.ping, ingest: ingest, metrics: metrics, access: access).addRoutes(to: router)
    let authentication = AuthenticationMiddleware(allowAnonymous: configuration.allowAnonymous, keys: keys, access: access)
    if let dashboard { DashboardController(site: dashboard, authentication: authentication).addRoutes(to: router) }
    let v1 = router.group("v1").add(middleware: authentication)
    if configuration.ratePerSecond > 0 {
        v1.add(middleware: RateLimitMiddleware(limiter: RateLimiter(rate: configuration.ratePerSecond, burst: configuration.rateBurst)))
    }
    v1.add(middleware: AuthorisationMiddleware())
    AlertsController(alerts: readModels.alerts, access: access).addRoutes(to: v1)
    StatisticsController(statistics: readModels.statistics, series: readModels.series, alerts: readModels.alerts, access: access).addRoutes(to: v1)
    FeedsController(health: readModels.dataHealth, access: access).addRoutes(to: v1)
    AlertStreamController(
        alerts: readModels.alerts, access: access, authentication: authentication, poll: configuration.streamPoll,
        heartbeat: configuration.streamHeartbeat, lifetime: configuration.streamLifetime, recheck: configuration.streamRecheck
    ).addRoutes(to: v1)
    let personalData = PersonalDataAccess(fields: personalFields, audit: readModels.access, access: access)
    EnterprisesController(
        enterprises: readModels.enterprises, features: features, rules: rules, relations: readModels.relations, personalData: personalData,
        access: access
    ).addRoutes(to: v1)
    QuarantineController(quarantine: readModels.quarantine, access: access).addRoutes(to: v1)
    RulesController(rules: rules).addRoutes(to: v1)
    AccessController(administration: readModels.access, access: access).addRoutes(to: v1)
    PortfolioController(administration: readModels.access, access: access).addRoutes(to: v1)
    AuditController(administration: readModels.access, enterprises: readModels.enterprises, access: access).addRoutes(to: v1)
    OpenAPIController().addRoutes(to: v1)
    WebhooksController(webhooks: readModels.webhooks, allowedHosts: configuration.webhookHosts, access: access).addRoutes(to: v1)
    DeskController(alerts: readModels.alerts, desk: readModels.desk, audit: readModels.access, access: access).addRoutes(to: v1)
    QueryController(
        enterprises: readModels.enterprises, subjects: readModels.subjects, relations: readModels.relations, features: features,
        administration: readModels.access,
        personalData: personalData, access: access, today: today
    ).addRoutes(to: v1)
    MarketController(
        market: readModels.market, engine: readModels.eligibility, alerts: readModels.alerts, enterprises: readModels.enterprises, audit: readModels.access,
        personalData: personalData, settings: readModels.marketSettings, access: access, today: today
    ).addRoutes(to: v1)
    return router
}
