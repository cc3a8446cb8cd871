import Access
import CreditWatchCore
import Foundation
import HTTPAPI
import Hummingbird
import KafkaIngest
import Logging
import PostgresStore
import Prometheus
import RedisFeatures
import RuleLanguage
import ServiceLifecycle
import Simulator
import Synchronization
import Testing

@testable import creditwatch

/// The real servers started by `ops/servers.sh` (ops/test.sh exports their addresses).
enum Stack {
    static let environment = ProcessInfo.processInfo.environment
    static var hasServers: Bool {
        ["CREDITWATCH_PG_HOST", "CREDITWATCH_REDIS_PORT", "CREDITWATCH_KAFKA_BROKERS"].allSatisfy { environment[$0] != nil }
    }

    /// Whether the suite runs: with the servers' addresses, and always in CI, where missing
    /// servers fail it instead of skipping it.
    static var isAvailable: Bool { hasServers || environment["CI"] == "true" }

    struct MissingServers: Error, CustomStringConvertible {
        var description: String {
            "CREDITWATCH_PG_HOST, CREDITWATCH_REDIS_PORT and CREDITWATCH_KAFKA_BROKERS are not all set: run ops/test.sh"
        }
    }

    /// The repository root (rules/, topics/).
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// The `creditwatch` executable built next to the test bundle.
    static var executable: String {
        let dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let candidate = dir.appendingPathComponent("creditwatch").path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        return "\(root)/.build/debug/creditwatch"
    }

    /// A fresh, isolated run: its own topic prefix, consumer group and PostgreSQL schema.
    /// Redis is shared, so the integration suite runs serialized and starts each test from an
    /// empty Redis database.
    static func settings(_ name: String) throws -> Settings {
        guard hasServers else { throw MissingServers() }
        let id = "\(name)_\(UInt32.random(in: 0...UInt32.max))"
        var environment = Self.environment
        environment["CREDITWATCH_PG_DATABASE"] = environment["CREDITWATCH_PG_TEST_DATABASE"] ?? "creditwatch_test"
        environment["CREDITWATCH_PG_SCHEMA"] = id
        environment["CREDITWATCH_KAFKA_TOPIC_PREFIX"] = "\(id)."
        environment["CREDITWATCH_KAFKA_GROUP"] = id
        environment["CREDITWATCH_RULES"] = "\(root)/rules"
        environment["CREDITWATCH_TOPICS"] = "\(root)/topics"
        var settings = try Settings.load(file: nil, environment: environment)
        settings.kafka.batchTimeoutMilliseconds = 100
        return settings
    }

    /// For tests that drive `BatchProcessor`s themselves: a fresh run's catalog and shipped rule
    /// program, its migrated store of record (its pool runs until `pool` is cancelled) and its
    /// feature store on an emptied Redis (`flushing`; else on Redis as it is).
    static func stores(_ name: String, flushing: Bool = true) async throws -> (
        catalog: TopicCatalog, program: RuleProgram, store: PostgresStore, features: FeatureWindows, pool: Task<Void, Never>
    ) {
        let settings = try Stack.settings(name)
        if flushing { try await Stack.flushRedis(settings) }
        let catalog = try ProjectFiles.catalog(at: settings.topicsPath)
        let program = try ProjectFiles.program(at: settings.rulesPath, catalog: catalog)
        let logger = Logger(label: "test")
        let store = try PostgresStore(configuration: settings.postgres, catalog: catalog, logger: logger)
        let pool = Task { await store.run() }
        _ = try await store.migrate()
        let features = try await FeatureWindows(
            connection: try await connectRedis(host: settings.redisHost, port: settings.redisPort), catalog: catalog, logger: logger)
        return (catalog, program, store, features, pool)
    }

    /// Empties the settings' Redis (every master of a cluster).
    static func flushRedis(_ settings: Settings) async throws {
        let redis = try await connectRedis(host: settings.redisHost, port: settings.redisPort, security: settings.redisSecurity)
        let replies = try await redis.everyNode(["FLUSHDB"])
        #expect(replies.allSatisfy { $0 == .status("OK") }, "FLUSHDB: \(replies)")
    }

    /// The local Redis's TLS port (ops/servers.sh) and the CA its certificate chains to.
    static var redisTLS: (port: Int, caFile: String)? {
        guard let port = environment["CREDITWATCH_TEST_REDIS_TLS_PORT"].flatMap(Int.init),
            let ca = environment["CREDITWATCH_TEST_REDIS_TLS_CA"]
        else { return nil }
        return (port, ca)
    }

    /// The local 3-master Redis Cluster of ops/servers.sh (its first port).
    static var redisClusterPort: Int? { environment["CREDITWATCH_TEST_REDIS_CLUSTER_PORT"].flatMap(Int.init) }

    /// The environment a `creditwatch` subprocess needs to run against the same isolated run.
    static func processEnvironment(_ settings: Settings, httpPort: Int) -> [String: String] {
        var env = environment
        env["CREDITWATCH_PG_DATABASE"] = settings.postgres.database
        env["CREDITWATCH_PG_SCHEMA"] = settings.postgres.schema
        env["CREDITWATCH_KAFKA_TOPIC_PREFIX"] = settings.kafka.topicPrefix
        env["CREDITWATCH_KAFKA_GROUP"] = settings.kafka.groupID
        env["CREDITWATCH_RULES"] = settings.rulesPath
        env["CREDITWATCH_TOPICS"] = settings.topicsPath
        env["CREDITWATCH_HTTP_PORT"] = String(httpPort)
        env["CREDITWATCH_CHANGES_PARTITIONS"] = String(settings.changesPartitions)
        return env
    }
}

/// Counts what the engine has processed, so tests wait for exactly their messages.
final class Progress: Sendable {
    private let state = Mutex<(messages: Int, batches: Int, deferred: Int, evaluationPending: Bool, mostEvaluated: Int, mostBytes: Int)>(
        (0, 0, 0, false, 0, 0))

    func add(_ report: BatchReport) {
        state.withLock {
            $0.messages += report.messages
            $0.batches += 1
            $0.deferred += report.deferred
            $0.evaluationPending = report.evaluationPending || report.industriesWaiting
            $0.mostEvaluated = max($0.mostEvaluated, report.entitiesEvaluated)
            $0.mostBytes = max($0.mostBytes, report.bytes)
        }
    }
    var messages: Int { state.withLock { $0.messages } }
    /// The most entities one batch evaluated.
    var mostEvaluated: Int { state.withLock { $0.mostEvaluated } }
    /// The most bytes of messages one batch held.
    var mostBytes: Int { state.withLock { $0.mostBytes } }
    /// Evaluations that waited for the backlog to drain.
    var deferred: Int { state.withLock { $0.deferred } }
    /// Whether enterprises wait for evaluation after the last batch (ingest not caught up yet), or
    /// divisions for their industry's judgement.
    var evaluationPending: Bool { state.withLock { $0.evaluationPending } }

    /// Waits until at least `count` messages were processed and evaluated (fails the test after
    /// `timeout`).
    func wait(for count: Int, timeout: Duration = .seconds(90)) async throws {
        let deadline = ContinuousClock.now + timeout
        while messages < count || evaluationPending {
            if ContinuousClock.now > deadline {
                Issue.record("timed out: \(messages) of \(count) messages processed")
                throw CancellationError()
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}

/// The engine running in-process against the real servers (store, feature store, consumer group).
struct Engine {
    let settings: Settings
    let daemon: Daemon
    let progress: Progress
    let producer: KafkaProducer
    let group: ServiceGroup
    let task: Task<Void, any Error>
    var sent = 0
    let restart: (_ backlog: [SimulatedMessage]) async throws -> Engine

    /// `configure` adjusts the settings (e.g. a rules folder of the test's own); `watchRules` runs
    /// the rule-set watcher too (hot reload).
    /// `partitions` per topic; `backlog` is produced before the engine starts (a history sent at
    /// once), and counts as sent.
    static func start(
        _ name: String, watchRules: Bool = false, partitions: Int = 2, backlog: [SimulatedMessage] = [],
        configure: (inout Settings) throws -> Void = { _ in }, storeSeam: @escaping (PostgresStore) -> any CreditStore = { $0 }
    ) async throws -> Engine {
        var settings = try Stack.settings(name)
        try configure(&settings)
        try await Stack.flushRedis(settings)
        let catalog = try ProjectFiles.catalog(at: settings.topicsPath)
        try KafkaAdmin.createTopics(catalog.topics.keys.sorted(), partitions: Int32(partitions), configuration: settings.kafka)
        let producer = try KafkaProducer(configuration: settings.kafka)
        return try await launch(settings, producer: producer, backlog: backlog, watchRules: watchRules, storeSeam: storeSeam)
    }

    /// Produces `backlog`, then starts a daemon on `settings`' topics, group, schema and Redis.
    private static func launch(
        _ settings: Settings, producer: KafkaProducer, backlog: [SimulatedMessage], watchRules: Bool,
        storeSeam: @escaping (PostgresStore) -> any CreditStore
    ) async throws -> Engine {
        var logger = Logger(label: "test.\(settings.kafka.groupID)")
        logger.logLevel = .warning
        for m in backlog { try producer.send(topic: m.topic, key: m.key, value: m.value) }
        try producer.flush()
        let progress = Progress()
        let daemon = try await Daemon.make(
            settings: settings, logger: logger, registry: PrometheusCollectorRegistry(),
            onBatch: { progress.add($0) }, storeSeam: storeSeam)
        let services: [any Service] = daemon.engineServices + (watchRules ? [daemon.watcher] : [])
        let group = ServiceGroup(services: services, logger: logger)
        let task = Task { try await group.run() }
        return Engine(
            settings: settings, daemon: daemon, progress: progress, producer: producer, group: group, task: task, sent: backlog.count,
            restart: { try await launch(settings, producer: producer, backlog: $0, watchRules: watchRules, storeSeam: storeSeam) })
    }

    /// Stops the engine (gracefully: everything it read is committed), produces `backlog` while
    /// none runs, and starts it again where it stopped. A daemon starts by draining what waits, so
    /// the backlog is evaluated once, on all of it, whatever the machine's speed — unlike messages
    /// sent to a live engine, whose batches (and so intermediate evaluations) follow their arrival.
    func restarted(backlog: [SimulatedMessage]) async throws -> Engine {
        try await stop()
        return try await restart(backlog)
    }

    /// Produces the messages and waits until the engine has processed them (and all produced
    /// before them).
    mutating func send(_ messages: [SimulatedMessage]) async throws {
        try produce(messages)
        try await caughtUp()
    }

    /// Produces the messages without waiting for them.
    mutating func produce(_ messages: [SimulatedMessage]) throws {
        for m in messages { try producer.send(topic: m.topic, key: m.key, value: m.value) }
        try producer.flush()
        sent += messages.count
    }

    /// Waits until the engine has processed every message produced so far.
    func caughtUp(timeout: Duration = .seconds(90)) async throws { try await progress.wait(for: sent, timeout: timeout) }

    func stop() async throws {
        await group.triggerGracefulShutdown()
        try await task.value
    }

    var store: PostgresStore { daemon.store }

    /// The HTTP API over this engine's stores, open to anonymous callers (loopback tests).
    func api() -> some ApplicationProtocol {
        buildApplication(
            configuration: APIConfiguration(allowAnonymous: true), keys: StaticKeyDirectory([:]),
            readModels: .postgres(store, access: daemon.access), personalFields: PersonalFields(daemon.catalog),
            features: EngineFeatures(processor: daemon.processor), metrics: PrometheusCollectorRegistry(),
            logger: Logger(label: "test.api"))
    }

    /// Every alert, in feed order.
    func alerts() async throws -> [Alert] { try await EngineIntegrationTests.allAlerts(store) }
}
