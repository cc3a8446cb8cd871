import AccessStore
import AlertDeskStore
import MarketplaceStore
import WebhookDelivery
import ArgumentParser
import CreditWatchCore
import Foundation
import KafkaIngest
import Logging
import Metrics
import PostgresStore
import RuleLanguage
import Prometheus
import ServiceLifecycle
import Simulator

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the daemon: consume the department feeds, evaluate the rules, serve the API.")

    @OptionGroup var common: CommonOptions

    func run() async throws {
        let settings = try common.settings()
        let logger = common.logger("creditwatch")
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let daemon: Daemon
        do {
            daemon = try await Daemon.make(settings: settings, logger: logger, registry: registry)
        } catch let failure as ProjectFiles.Failure {
            FileHandle.standardError.write(Data("creditwatch: cannot start:\n\(failure.description.terminated)".utf8))
            throw ExitCode(1)
        }
        let group = ServiceGroup(
            configuration: .init(
                services: daemon.services.map { .init(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await group.run()
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply the PostgreSQL migrations that are not applied yet.")

    @OptionGroup var common: CommonOptions

    func run() async throws {
        let settings = try common.settings()
        let logger = common.logger("creditwatch.migrate")
        let catalog = try ProjectFiles.catalog(at: settings.topicsPath)
        let store = try PostgresStore(configuration: settings.postgres, catalog: catalog, logger: logger)
        let access = try AccessStore(configuration: settings.postgres, logger: logger)
        let desk = try AlertDeskStore(configuration: settings.postgres, logger: logger)
        let webhooks = try WebhookStore(configuration: settings.postgres, logger: logger)
        let market = try MarketplaceStore(configuration: settings.postgres, logger: logger)
        // Each subsystem keeps its own ledger of migrations.
        let subsystems: [(name: String, migrate: @Sendable () async throws -> [Int])] = [
            ("access", access.migrate), ("desk", desk.migrate), ("webhooks", webhooks.migrate), ("marketplace", market.migrate),
        ]
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await store.run() }
            group.addTask { await access.run() }
            group.addTask { await desk.run() }
            group.addTask { await webhooks.run() }
            group.addTask { await market.run() }
            let applied = try await store.migrate()
            print(applied.isEmpty ? "schema is up to date" : "applied migrations \(applied.map(String.init).joined(separator: ", "))")
            for (name, migrate) in subsystems {
                let applied = try await migrate()
                print(applied.isEmpty ? "\(name) schema is up to date" : "applied \(name) migrations \(applied.map(String.init).joined(separator: ", "))")
            }
            group.cancelAll()
        }
    }
}

struct Rebuild: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Rebuild the Redis feature windows from PostgreSQL, the store of record.",
        discussion: """
            The daemon does this by itself before its next batch when Redis has lost data (no marker, another \
            store's, or behind PostgreSQL's feature sequence). This command forces it, e.g. after restoring Redis \
            from a backup; run it while the daemon is stopped. Idempotent: an interrupted rebuild is run again.
            """)

    @OptionGroup var common: CommonOptions

    func run() async throws {
        let settings = try common.settings()
        let logger = common.logger("creditwatch.rebuild")
        let (_, _, store, processor) = try await Daemon.engine(settings: settings, logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await store.run() }
            _ = try await store.migrate()
            let rebuild = try await processor.rebuildFeatures(reason: "creditwatch rebuild")
            print(
                "rebuilt the feature store from PostgreSQL: \(rebuild.records) records, \(rebuild.versions) history "
                    + "versions, \(rebuild.enterprises) enterprises' standings in \(rebuild.duration)")
            group.cancelAll()
        }
    }
}

struct Simulate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Produce a synthetic city to Kafka: two years of every department feed, planted risk stories and some bad input.")

    @OptionGroup var common: CommonOptions
    @Option(help: "Number of enterprises.") var enterprises = 3000
    @Option(help: "Number of persons.") var persons = 2000
    @Option(help: "Random seed (same seed, same city).") var seed: UInt64 = 42
    @Option(help: "Create the catalog's topics first, with this many partitions (0: don't).") var partitions: Int32 = 4
    @Flag(help: "Also play the city's financing marketplace into PostgreSQL: banks, products, applications, loans and repayments (the daemon publishes the loans to finance.loan).")
    var market = false
    @Option(help: "A department that stops sending after a month, e.g. realestate.rights=2026-04 (repeatable): a stale feed.")
    var stopFeed: [String] = []

    func run() async throws {
        let settings = try common.settings()
        let catalog = try ProjectFiles.catalog(at: settings.topicsPath)
        var stopped: [Feed: Month] = [:]
        for text in stopFeed {
            let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, let feed = Feed(rawValue: parts[0]), let month = Month(iso: parts[1]) else {
                throw ValidationError("--stop-feed takes TOPIC=YYYY-MM with a simulated feed (\(Feed.allCases.map(\.rawValue).joined(separator: ", "))), not '\(text)'")
            }
            stopped[feed] = month
        }
        if partitions > 0 {
            try KafkaAdmin.createTopics(catalog.topics.keys.sorted(), partitions: partitions, configuration: settings.kafka)
        }
        var configuration = CityConfiguration()
        configuration.enterprises = enterprises
        configuration.persons = persons
        configuration.seed = seed
        configuration.stoppedFeeds = stopped
        let simulator = CitySimulator(configuration: configuration)
        let producer = try KafkaProducer(configuration: settings.kafka)
        let started = ContinuousClock.now
        var census = FeedCensus([])
        // Month by month (registrations first), so memory holds one month, not two years.
        for batch in [simulator.registrations()] + simulator.months.map(simulator.month) {
            for message in batch {
                try producer.send(topic: message.topic, key: message.key, value: message.value)
                census.add(message)
            }
        }
        try producer.flush()
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print("sent \(census.messages) messages (\(census.bad) deliberately bad, \(census.tombstones) tombstones) to \(settings.kafka.brokers) in \(String(format: "%.1f", seconds)) s")
        print("planted risk stories:")
        for story in simulator.plantedStories {
            print("  \(story.month)  \(story.uscc)  \(story.name)  \(story.description)")
        }
        if market { try await playMarketplace(simulator, settings: settings) }
    }

    func playMarketplace(_ simulator: CitySimulator, settings: Settings) async throws {
        let logger = common.logger("creditwatch.simulate")
        let access = try AccessStore(configuration: settings.postgres, logger: logger)
        let store = try MarketplaceStore(configuration: settings.postgres, logger: logger)
        let scenario = simulator.marketplace()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await access.run() }
            group.addTask { await store.run() }
            defer { group.cancelAll() }
            try await access.migrate()
            try await store.migrate()
            let districts = Dictionary(simulator.enterprises.map { ($0.uscc, $0.districtCode) }, uniquingKeysWith: { a, _ in a })
            let summary = try await MarketSimulation.run(scenario, market: store, access: access, districts: districts)
            let bad = scenario.cases.filter { $0.wentBad != nil }.count
            print("marketplace: \(scenario.banks.count) banks, \(scenario.products.count) products, \(summary.applications) applications (\(summary.rejected) rejected), \(summary.loans) loans, \(summary.repayments) repayments, \(summary.needs) needs (\(summary.claimed) claimed); \(bad) loans more than 90 days past due by \(scenario.end)")
        }
    }
}
