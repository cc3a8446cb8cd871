// swift-tools-version:6.1
import PackageDescription

let strict: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "creditwatch",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "creditwatch", targets: ["creditwatch"]),
        .library(name: "RuleLanguage", targets: ["RuleLanguage"]),
        .library(name: "CreditWatchCore", targets: ["CreditWatchCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
    ],
    targets: [
        // Pure: the rule language (source → lexer → parser → checker → program → evaluator).
        .target(name: "RuleLanguage", swiftSettings: strict),
        // Pure: domain types, identifiers, topic catalog, decoding, feature windows, ports.
        .target(
            name: "CreditWatchCore",
            dependencies: ["RuleLanguage", .product(name: "Yams", package: "Yams")],
            swiftSettings: strict),
        // Pure: the synthetic city (deterministic message generator).
        .target(name: "Simulator", dependencies: ["CreditWatchCore", "Marketplace", "Access"], swiftSettings: strict),

        // Pure: who may see what (organisations, roles, permissions, scopes, keys, query purposes).
        .target(
            name: "Access",
            dependencies: ["CreditWatchCore", "RuleLanguage", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict),

        // Pure: the alert desk (acknowledge, assign, comment, resolve, reopen) and its store port.
        .target(name: "AlertDesk", swiftSettings: strict),

        // Pure: the financing marketplace (products, needs, applications, loans: state machines,
        // schedules in fen, days past due, working days, eligibility checked as a rule-language tag).
        .target(name: "Marketplace", dependencies: ["Access", "RuleLanguage"], swiftSettings: strict),

        // Pure: data health — each feed's freshness, coverage, linking, quarantine and continuity
        // judged against the catalog; the port it counts through and the API reads.
        .target(name: "DataHealth", dependencies: ["CreditWatchCore", "RuleLanguage"], swiftSettings: strict),

        // The city dashboard: its web pages (served by the API; charts by ECharts from .deps/web).
        .target(name: "Dashboard", resources: [.copy("Web")], swiftSettings: strict),

        // Pure: webhook signatures, the retry schedule.
        .target(name: "Webhooks", dependencies: [.product(name: "Crypto", package: "swift-crypto")], swiftSettings: strict),

        // C shims: librdkafka 2.8.0 and hiredis 1.2.0 (with TLS), both built statically by ops/install.sh
        // from Debian trixie's source packages, each through its own pkg-config file.
        .systemLibrary(name: "CRdKafka", pkgConfig: "creditwatch-rdkafka"),
        .systemLibrary(name: "CHiredis", pkgConfig: "creditwatch-hiredis"),

        // The only code touching each external system.
        .target(
            name: "KafkaIngest",
            dependencies: [
                "CRdKafka", "CreditWatchCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict),
        .target(
            name: "RedisFeatures",
            dependencies: [
                "CHiredis", "CreditWatchCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: strict),
        .target(
            name: "PostgresStore",
            dependencies: [
                "CreditWatchCore", "RuleLanguage",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        // The access layer's PostgreSQL adapter (its own migrations and pool).
        .target(
            name: "AccessStore",
            dependencies: [
                "Access", "PostgresStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        .target(
            name: "AlertDeskStore",
            dependencies: [
                "AlertDesk", "PostgresStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        // The marketplace on PostgreSQL (its own migrations and pool; a Service).
        .target(
            name: "MarketplaceStore",
            dependencies: [
                "Marketplace", "Access", "PostgresStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        // Webhooks on PostgreSQL and their delivery (a Service).
        .target(
            name: "WebhookDelivery",
            dependencies: [
                "Webhooks", "Access", "PostgresStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        // Data health counted on PostgreSQL, kept current with its gauges (a Service).
        .target(
            name: "DataHealthStore",
            dependencies: [
                "DataHealth", "CreditWatchCore", "PostgresStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        .target(
            name: "HTTPAPI",
            dependencies: [
                "DataHealth", "Dashboard", "Access", "AlertDesk", "Webhooks", "WebhookDelivery", "CreditWatchCore", "PostgresStore", "RuleLanguage", "Marketplace",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        .executableTarget(
            name: "creditwatch",
            dependencies: [
                "CreditWatchCore", "RuleLanguage", "KafkaIngest", "RedisFeatures", "PostgresStore",
                "Access", "AccessStore", "AlertDesk", "AlertDeskStore", "WebhookDelivery", "HTTPAPI", "Simulator", "Marketplace", "MarketplaceStore",
                "DataHealth", "DataHealthStore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strict,
            // jemalloc serves every allocation of the process (see Sources/creditwatch/Allocator.swift).
            linkerSettings: [.linkedLibrary("jemalloc")]),

        .testTarget(name: "RuleLanguageTests", dependencies: ["RuleLanguage"], swiftSettings: strict),
        .testTarget(name: "CreditWatchCoreTests", dependencies: ["CreditWatchCore", "DataHealth"], swiftSettings: strict),
        .testTarget(name: "WebhooksTests", dependencies: ["Webhooks"], swiftSettings: strict),
        .testTarget(name: "AlertDeskTests", dependencies: ["AlertDesk"], swiftSettings: strict),
        .testTarget(name: "MarketplaceTests", dependencies: ["Marketplace", "RuleLanguage", "CreditWatchCore", "Access"], swiftSettings: strict),
        .testTarget(name: "AccessTests", dependencies: ["Access", "CreditWatchCore"], swiftSettings: strict),
        .testTarget(name: "SimulatorTests", dependencies: ["Simulator"], swiftSettings: strict),
        .testTarget(
            name: "PostgresStoreTests",
            dependencies: [
                "PostgresStore", "CreditWatchCore", "RuleLanguage",
                .product(name: "PostgresNIO", package: "postgres-nio"), .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "HTTPAPITests",
            dependencies: [
                "HTTPAPI", "Access", "AccessStore", "AlertDesk", "AlertDeskStore", "Webhooks", "WebhookDelivery", "PostgresStore", "CreditWatchCore", "RuleLanguage", "Marketplace", "MarketplaceStore", "Dashboard", "DataHealth",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "creditwatch", "CreditWatchCore", "KafkaIngest", "RedisFeatures", "PostgresStore", "HTTPAPI", "Access", "AccessStore",
                "Simulator", "Marketplace", "MarketplaceStore", "DataHealth", "DataHealthStore",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict),
    ]
)
