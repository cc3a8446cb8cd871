import AccessStore
import AlertDeskStore
import MarketplaceStore
import WebhookDelivery
import CreditWatchCore
import Dashboard
import DataHealthStore
import HTTPAPI
import Hummingbird
import KafkaIngest
import Logging
import Metrics
import PostgresStore
import Prometheus
import RedisFeatures
import RuleLanguage
import ServiceLifecycle
import Synchronization

/// The long-running daemon assembled from its parts: the store of record, the feature store,
/// the engine, the Kafka consumer group and the HTTP API, as `Service`s of one group. Services
/// stop in reverse order on SIGTERM: the API first, then ingest (finishing and committing its
/// batch), then the PostgreSQL pool.
struct Daemon {
    let catalog: TopicCatalog
    let store: PostgresStore
    /// Organisations, keys, portfolios, the audit log.
    let access: AccessStore
    /// The alert desk's state and steps.
    let desk: AlertDeskStore
    /// Webhook subscriptions and their delivery log; the dispatcher delivers them.
    let webhooks: WebhookStore
    let dispatcher: WebhookDispatcher
    /// The financing marketplace and its clock (expiry of applications not accepted in time).
    let market: MarketplaceStore
    let marketClock: MarketplaceClock
    /// Sends the loans' reports to the finance.loan feed, which the engine consumes.
    let loanReports: LoanReportPublisher
    let processor: BatchProcessor
    /// Migrations, then the ingest loop.
    let ingest: any Service
    let api: any Service
    let rules: RuleSetManager
    let watcher: RuleSetWatcher
    /// What ingest reports of itself (outages waited out, messages bisected out): `/health`.
    let health: IngestHealth
    /// Opens once every schema is migrated.
    let migrated: MigrationGate
    /// Forwards the departments' messages to the changes topic when instances share the city.
    let router: (any Service)?
    /// The feeds' figures (its own pool) and the monitor that keeps data health and its gauges current.
    let feedFigures: PostgresFeedFigures
    let dataHealth: DataHealthMonitor

    /// In start order; the group stops them in reverse.
    /// The background services on the subsystems' tables start once those are migrated, so that a
    /// first start logs no failure of theirs.
    var services: [any Service] {
        let waiting: [any Service] = [dispatcher, marketClock, loanReports, dataHealth]
        return engineServices + [watcher, feedFigures] + waiting.map { AfterMigration(gate: migrated, service: $0) } + [api]
    }
    /// The stores' pools, migrations then ingest, and the router: the engine without its API.
    var engineServices: [any Service] { [store, access, desk, webhooks, market, ingest] + (router.map { [$0] } ?? []) }

    /// The changes topic (catalog name: the configured prefix is added).
    static let changesTopic = "creditwatch.changes"

    static func make(
        settings: Settings, logger: Logger, registry: PrometheusCollectorRegistry,
        onBatch: @escaping @Sendable (BatchReport) -> Void = { _ in },
        storeSeam: (PostgresStore) -> any CreditStore = { $0 }
    ) async throws -> Daemon {
        try LibrdkafkaVersion.check()
        let (catalog, program, store, processor) = try await engine(settings: settings, logger: logger, storeSeam: storeSeam)
        let departments = catalog.topics.keys.sorted()
        var router: ChangeRouter?
        let consumer: KafkaConsumer
        if settings.changesPartitions > 0 {
            // Each instance routes what its router-group partitions bring and decides for the
            // enterprises of its changes-topic partitions (see `Ownership`).
            try KafkaAdmin.createTopics([changesTopic], partitions: settings.changesPartitions, configuration: settings.kafka)
            var routing = settings.kafka
            routing.groupID += ".route"
            let upstream = try KafkaConsumer(configuration: routing, topics: departments, logger: logger)
            consumer = try KafkaConsumer(
                configuration: settings.kafka, topics: departments, logger: logger, routed: changesTopic, upstream: upstream)
            router = ChangeRouter(
                consumer: upstream, producer: try KafkaProducer(configuration: settings.kafka),
                routing: ChangeRouting(catalog: catalog, store: storeSeam(store)), topic: changesTopic,
                partitions: settings.changesPartitions, logger: logger)
        } else {
            consumer = try KafkaConsumer(configuration: settings.kafka, topics: departments, logger: logger)
        }
        let health = IngestHealth()
        let migrated = MigrationGate()
        await processor.observeRebuilds { rebuild in
            health.rebuild(rebuild)
            if rebuild.finished {
                Counter(label: "creditwatch.features.rebuilds").increment()
                logger.warning(
                    "feature store rebuilt from PostgreSQL",
                    metadata: [
                        "records": "\(rebuild.records)", "versions": "\(rebuild.versions)",
                        "enterprises": "\(rebuild.enterprises)", "duration": "\(rebuild.duration)",
                    ])
            } else {
                logger.warning("rebuilding the feature store from PostgreSQL", metadata: ["reason": "\(rebuild.reason)"])
            }
        }
        let ingest = IngestService(
            consumer: consumer, processor: processor, logger: logger, partitions: settings.changesPartitions,
            classify: Daemon.failureKind, health: health, onBatch: onBatch)
        let rules = RuleSetManager(
            path: settings.rulesPath, catalog: catalog, overrides: settings.ruleOverrides, processor: processor,
            program: program, logger: logger,
            record: { program, sources in
                try await store.recordRuleSet(version: program.version, files: sources.map { ($0.path, $0.text) })
            })
        let access = try AccessStore(configuration: settings.postgres, logger: logger)
        let desk = try AlertDeskStore(configuration: settings.postgres, logger: logger)
        let webhooks = try WebhookStore(configuration: settings.postgres, logger: logger)
        let market = try MarketplaceStore(configuration: settings.postgres, logger: logger)
        var readModels = ReadModels.postgres(store, access: access, desk: desk, webhooks: webhooks)
        readModels.market = market
        readModels.eligibility = rules
        readModels.marketSettings = settings.market
        let feedFigures = try PostgresFeedFigures(configuration: settings.postgres, catalog: catalog, logger: logger)
        let dataHealth = DataHealthMonitor(source: feedFigures, catalog: catalog, interval: settings.dataHealthInterval, logger: logger)
        readModels.dataHealth = dataHealth
        readModels.series = rules
        let dashboard = DashboardSite.load(webDirectory: settings.dashboardDirectory, echarts: settings.echartsPath)
        for problem in dashboard.problems { logger.warning("dashboard incomplete", metadata: ["problem": "\(problem)"]) }
        let dispatcher = WebhookDispatcher(
            store: webhooks, scope: { try await access.scope(ofOrganisation: $0) },
            events: { after, scope, limit in
                try await store.alertEvents(after: after, limit: limit, subjectIDs: scope.subjectIDs, district: scope.district).events
                    .map { WebhookEvent(id: $0.id, json: try AlertEventView($0).json) }
            }, allowedHosts: settings.api.webhookHosts, logger: logger)
        let app = buildApplication(
            configuration: settings.api, keys: access, readModels: readModels, personalFields: PersonalFields(catalog), features: EngineFeatures(processor: processor),
            metrics: registry, logger: logger, rules: rules, ingest: health, dashboard: dashboard)
        logger.info(
            "creditwatch starting",
            metadata: [
                "librdkafka": "\(LibrdkafkaVersion.string)", "allocator": "\(Allocator.description)", "topics": "\(catalog.topics.count)",
                "rules": "\(program.rules.count)", "rule_set": "\(program.version)",
                "postgres": "\(settings.postgres)", "api": "http://\(settings.api.host):\(settings.api.port)/",
            ])
        return Daemon(
            catalog: catalog, store: store, access: access, desk: desk, webhooks: webhooks, dispatcher: dispatcher, market: market,
            marketClock: MarketplaceClock(store: market, logger: logger),
            loanReports: LoanReportPublisher(
                market: market, producer: try KafkaProducer(configuration: settings.kafka), interval: .seconds(2), logger: logger),
            processor: processor,
            ingest: MigrateThen(
                store: store, subsystems: [access.migrate, desk.migrate, webhooks.migrate, market.migrate], service: ingest, logger: logger
            ) {
                await rules.recordLive()
                migrated.open()
            }, api: app,
            rules: rules,
            watcher: RuleSetWatcher(manager: rules, interval: settings.rulesWatchInterval, logger: logger),
            health: health, migrated: migrated, router: router, feedFigures: feedFigures, dataHealth: dataHealth)
    }
}

extension Daemon {
    /// The engine over its stores, as the settings name them: the catalog, the checked rule program
    /// (a rule set that fails the check never starts: the diagnostics are the error), the store of
    /// record (not running yet) and the batch processor over it and the feature store.
    static func engine(
        settings: Settings, logger: Logger, storeSeam: (PostgresStore) -> any CreditStore = { $0 }
    ) async throws -> (TopicCatalog, RuleProgram, PostgresStore, BatchProcessor) {
        let catalog = try ProjectFiles.catalog(at: settings.topicsPath)
        let program = try ProjectFiles.program(at: settings.rulesPath, catalog: catalog, overrides: settings.ruleOverrides)
        let store = try PostgresStore(configuration: settings.postgres, catalog: catalog, logger: logger)
        let redis = try await connectRedis(host: settings.redisHost, port: settings.redisPort, security: settings.redisSecurity)
        // Instances sharing the city write the ledgers of the enterprises they take over.
        let features = try await FeatureWindows(
            connection: redis, catalog: catalog, logger: logger,
            cachedRecords: settings.changesPartitions > 0 ? 0 : FeatureWindows.defaultCachedRecords)
        let processor = BatchProcessor(
            catalog: catalog, program: program, features: features, store: storeSeam(store),
            maxEvaluationDeferral: settings.maxEvaluationWait, evaluationLimit: settings.evaluationLimit)
        return (catalog, program, store, processor)
    }

    /// The adapters' classifications of a failed batch; an error none of them knows is the input's
    /// (a message that makes the engine fail), which bisection isolates.
    @Sendable static func failureKind(of error: any Error) -> FailureKind {
        if let error = error as? RedisError { return error.failureKind }
        return PostgresStore.failureKind(of: error) ?? .input(reason: "\(error)")
    }
}

/// Opens once, when every schema is migrated (`MigrateThen`).
final class MigrationGate: Sendable {
    private let isOpen = Mutex(false)
    func open() { isOpen.withLock { $0 = true } }
    var opened: Bool { isOpen.withLock { $0 } }
}

/// Runs `service` once `gate` opens (looked at every 100 ms; a shutdown before then ends it).
struct AfterMigration: Service {
    let gate: MigrationGate
    let service: any Service

    func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                while !gate.opened { try await Task.sleep(for: .milliseconds(100)) }
            }
        } catch is CancellationError {
            return
        }
        try await service.run()
    }
}

/// Applies pending migrations (the pool is running by then), then does what needs the migrated
/// schema (`migrated`: recording the live rule set), then runs the wrapped service.
struct MigrateThen: Service {
    let store: PostgresStore
    /// Each subsystem's own migrations (access layer, desk, webhooks, marketplace), in order.
    let subsystems: [@Sendable () async throws -> [Int]]
    let service: any Service
    let logger: Logger
    let migrated: @Sendable () async -> Void

    func run() async throws {
        let applied = try await store.migrate()
        if !applied.isEmpty { logger.info("migrations applied", metadata: ["versions": "\(applied)"]) }
        let linked = try await store.fillRelationEdges()
        if linked > 0 { logger.info("relation edges written for records stored without them", metadata: ["records": "\(linked)"]) }
        for migrate in subsystems { _ = try await migrate() }
        await migrated()
        try await service.run()
    }
}

/// An enterprise's current features for its API profile: the live rule program over its windows.
struct EngineFeatures: EnterpriseFeatureSource {
    let processor: BatchProcessor

    /// Personal features (a legal representative's name) masked: the profile's features are served to every role.
    func features(of uscc: String) async throws -> [NamedValue] {
        let evaluation = try await processor.evaluate(EntityKey(.enterprise, uscc))
        let personal = await processor.personalFeatures
        return evaluation.features.keys.sorted().map { name in
            let value = evaluation.features[name]!
            guard let kind = personal[name], case .string(let text) = value else { return NamedValue(name, value) }
            return NamedValue(name, .string(kind.mask(text)))
        }
    }

    func personRules(of id: String) async throws -> [Firing] {
        try await processor.evaluate(EntityKey(.person, id)).firings
    }
}
