import CreditWatchCore
import Foundation
import HTTPAPI
import KafkaIngest
import Marketplace
import PostgresStore
import RedisFeatures
import RuleLanguage
import Yams

/// The daemon's configuration. Each component reads its own `CREDITWATCH_*` variables
/// (`init(environment:)`, with documented defaults for the local stack of `ops/`); a YAML file
/// (`ops/creditwatch.example.yaml`) is translated into the same variables, and variables set in
/// the process environment override the file. One parser per component, whatever the source.
struct Settings {
    var kafka: KafkaConfiguration
    var postgres: PostgresStore.Configuration
    var api: APIConfiguration
    var redisHost: String
    var redisPort: Int
    var redisSecurity = RedisSecurity()
    var rulesPath: String
    var topicsPath: String
    /// A city's rule parameter overrides, `rule.param → value`.
    var ruleOverrides: [String: Double] = [:]
    /// How often the rules folder is checked for changes; nil: never (SIGHUP and the API reload).
    var rulesWatchInterval: Duration? = .seconds(2)
    /// The longest evaluation waits for a backlog to drain before it evaluates what it has.
    var maxEvaluationWait: Duration = .seconds(300)
    /// The most enterprises a batch evaluates (see `BatchProcessor.evaluationLimit`): memory
    /// against the number of batches after a backfill.
    var evaluationLimit = BatchProcessor.defaultEvaluationLimit
    /// Partitions of the changes topic when several instances share the city (0: this instance
    /// reads the departments' topics itself and decides for the whole city). Every instance of a
    /// group must say the same; see `Ownership`.
    var changesPartitions: Int32 = 0
    /// The marketplace's working-day calendar and acceptance deadline.
    var market = MarketSettings()
    /// ECharts for the dashboard (taken from the PyPI wheel by ops/install.sh).
    var echartsPath = ".deps/web/echarts.min.js"
    /// The dashboard's pages; nil: the resource bundle next to the executable.
    var dashboardDirectory: String?
    /// How often data health is recounted (and at most how old a read of it is).
    var dataHealthInterval: Duration = .seconds(60)

    /// YAML key path → environment variable.
    static let keys: [String: String] = [
        "kafka.brokers": "CREDITWATCH_KAFKA_BROKERS", "kafka.group_id": "CREDITWATCH_KAFKA_GROUP",
        "kafka.topic_prefix": "CREDITWATCH_KAFKA_TOPIC_PREFIX", "kafka.batch_size": "CREDITWATCH_KAFKA_BATCH_SIZE",
        "kafka.batch_timeout_ms": "CREDITWATCH_KAFKA_BATCH_TIMEOUT_MS", "kafka.fetch_wait_ms": "CREDITWATCH_KAFKA_FETCH_WAIT_MS",
        "kafka.max_buffered_messages": "CREDITWATCH_KAFKA_MAX_BUFFERED", "kafka.batch_bytes": "CREDITWATCH_KAFKA_BATCH_BYTES",
        "kafka.max_buffered_bytes": "CREDITWATCH_KAFKA_MAX_BUFFERED_BYTES",
        "kafka.backlog_messages": "CREDITWATCH_KAFKA_BACKLOG_MESSAGES",
        "redis.host": "CREDITWATCH_REDIS_HOST", "redis.port": "CREDITWATCH_REDIS_PORT",
        "redis.tls": "CREDITWATCH_REDIS_TLS", "redis.tls_ca_file": "CREDITWATCH_REDIS_TLS_CA_FILE",
        "redis.tls_cert_file": "CREDITWATCH_REDIS_TLS_CERT_FILE", "redis.tls_key_file": "CREDITWATCH_REDIS_TLS_KEY_FILE",
        "redis.username": "CREDITWATCH_REDIS_USERNAME", "redis.password": "CREDITWATCH_REDIS_PASSWORD",
        "postgres.host": "CREDITWATCH_PG_HOST", "postgres.port": "CREDITWATCH_PG_PORT",
        "postgres.user": "CREDITWATCH_PG_USER", "postgres.password": "CREDITWATCH_PG_PASSWORD",
        "postgres.database": "CREDITWATCH_PG_DATABASE", "postgres.schema": "CREDITWATCH_PG_SCHEMA",
        "postgres.max_connections": "CREDITWATCH_PG_MAX_CONNECTIONS",
        "postgres.answer_timeout_seconds": "CREDITWATCH_PG_ANSWER_TIMEOUT_SECONDS",
        "postgres.tls": "CREDITWATCH_PG_TLS", "postgres.tls_ca_file": "CREDITWATCH_PG_TLS_CA_FILE",
        "kafka.security_protocol": "CREDITWATCH_KAFKA_SECURITY_PROTOCOL", "kafka.ssl_ca_location": "CREDITWATCH_KAFKA_SSL_CA_LOCATION",
        "kafka.sasl_mechanism": "CREDITWATCH_KAFKA_SASL_MECHANISM", "kafka.sasl_username": "CREDITWATCH_KAFKA_SASL_USERNAME",
        "kafka.sasl_password": "CREDITWATCH_KAFKA_SASL_PASSWORD",
        "http.host": "CREDITWATCH_HTTP_HOST", "http.port": "CREDITWATCH_HTTP_PORT",
        "http.allow_anonymous": "CREDITWATCH_HTTP_ALLOW_ANONYMOUS",
        "http.rate_per_second": "CREDITWATCH_HTTP_RATE_PER_SECOND", "http.webhook_hosts": "CREDITWATCH_WEBHOOK_HOSTS", "http.rate_burst": "CREDITWATCH_HTTP_RATE_BURST",
        "rules.path": "CREDITWATCH_RULES", "topics.path": "CREDITWATCH_TOPICS",
        "rules.watch_seconds": "CREDITWATCH_RULES_WATCH_SECONDS",
        "engine.max_evaluation_wait_seconds": "CREDITWATCH_MAX_EVALUATION_WAIT_SECONDS",
        "engine.changes_partitions": "CREDITWATCH_CHANGES_PARTITIONS",
        "engine.evaluation_limit": "CREDITWATCH_EVALUATION_LIMIT",
        "market.accept_within_working_days": "CREDITWATCH_MARKET_ACCEPT_DAYS", "market.holidays": "CREDITWATCH_MARKET_HOLIDAYS",
        "dashboard.echarts": "CREDITWATCH_DASHBOARD_ECHARTS", "dashboard.web_dir": "CREDITWATCH_DASHBOARD_WEB_DIR",
        "data_health.interval_seconds": "CREDITWATCH_DATA_HEALTH_SECONDS",
    ]

    /// Keys a file may hold besides `keys`: the rule parameter overrides, and a key no longer read
    /// that gets an error of its own.
    static let otherKeys: Set<String> = ["rules.overrides", "http.api_keys"]

    /// Refuses a section or key that is not read, saying where it is: a typo (`batch_sise`) or a key
    /// of another version would otherwise be ignored without a word, its default taken instead.
    static func checkKeys(_ text: String, file: String) throws {
        guard let root = try Yams.compose(yaml: text)?.mapping else { return }
        let known = Set(keys.keys).union(otherKeys)
        let sections = Set(known.map { String($0.prefix { $0 != "." }) })
        func failure(_ node: Node, _ message: String) -> ProjectFiles.Failure {
            let place = node.mark.map { "\(file):\($0.line):\($0.column)" } ?? file
            return ProjectFiles.Failure(description: "\(place): \(message)")
        }
        for (sectionNode, value) in root {
            let section = sectionNode.string ?? "\(sectionNode)"
            guard sections.contains(section) else {
                throw failure(
                    sectionNode,
                    Spelling.didYouMean("unknown section '\(section)'", section, among: sections)
                        + " (the sections: \(sections.sorted().joined(separator: ", ")))")
            }
            guard let entries = value.mapping else {
                throw failure(value, "\(section) must be a mapping of keys (as `\(section):` then indented `key: value` lines)")
            }
            let sectionKeys = known.filter { $0.hasPrefix(section + ".") }.map { String($0.dropFirst(section.count + 1)) }
            for (keyNode, _) in entries {
                let key = keyNode.string ?? "\(keyNode)"
                guard !known.contains("\(section).\(key)") else { continue }
                throw failure(
                    keyNode,
                    Spelling.didYouMean("unknown key '\(section).\(key)'", key, among: sectionKeys)
                        + " (the keys of \(section): \(sectionKeys.sorted().joined(separator: ", ")))")
            }
        }
    }

    static func load(file: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Settings {
        var merged: [String: String] = [:]
        var overrides: [String: Double] = [:]
        if let file {
            guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8) else {
                throw ProjectFiles.Failure(description: "\(file): cannot read the configuration file")
            }
            guard let root = try Yams.load(yaml: text) as? [String: Any] else {
                throw ProjectFiles.Failure(description: "\(file): expected a mapping at the top level")
            }
            try checkKeys(text, file: file)
            for (section, value) in root {
                guard let entries = value as? [String: Any] else { continue }
                for (key, value) in entries {
                    if let variable = keys["\(section).\(key)"] { merged[variable] = "\(value)" }
                }
            }
            if (root["http"] as? [String: Any])?["api_keys"] != nil {
                throw ProjectFiles.Failure(
                    description: "\(file): http.api_keys is no longer read: keys live in PostgreSQL, hashed. Create one per user with "
                        + "`creditwatch keys create` (README, \"Access\"), then delete http.api_keys from this file")
            }
            for (key, value) in (root["rules"] as? [String: Any])?["overrides"] as? [String: Any] ?? [:] {
                guard let number = (value as? Double) ?? (value as? Int).map(Double.init) else {
                    throw ProjectFiles.Failure(description: "\(file): rules.overrides.\(key) must be a number")
                }
                overrides[key] = number
            }
        }
        merged.merge(environment) { _, process in process }
        var kafka = KafkaConfiguration(environment: merged)
        if let v = merged["CREDITWATCH_KAFKA_BATCH_SIZE"].flatMap(Int.init) { kafka.batchSize = v }
        if let v = merged["CREDITWATCH_KAFKA_BATCH_TIMEOUT_MS"].flatMap(Int.init) { kafka.batchTimeoutMilliseconds = v }
        if let v = merged["CREDITWATCH_KAFKA_FETCH_WAIT_MS"].flatMap(Int.init) { kafka.fetchWaitMilliseconds = v }
        if let v = merged["CREDITWATCH_KAFKA_MAX_BUFFERED"].flatMap(Int.init) { kafka.maxBufferedMessages = v }
        if let v = merged["CREDITWATCH_KAFKA_BATCH_BYTES"].flatMap(Int.init) { kafka.batchBytes = v }
        if let v = merged["CREDITWATCH_KAFKA_MAX_BUFFERED_BYTES"].flatMap(Int.init) { kafka.maxBufferedBytes = v }
        if let v = merged["CREDITWATCH_KAFKA_BACKLOG_MESSAGES"].flatMap(Int.init) { kafka.backlogMessages = v }
        let api = APIConfiguration(environment: merged)
        if let problem = api.anonymityProblem { throw ProjectFiles.Failure(description: problem) }
        var watch: Duration? = .seconds(2)
        if let text = merged["CREDITWATCH_RULES_WATCH_SECONDS"] {
            guard let seconds = Double(text), seconds >= 0 else {
                throw ProjectFiles.Failure(description: "CREDITWATCH_RULES_WATCH_SECONDS must be a number of seconds ≥ 0, not '\(text)'")
            }
            watch = seconds == 0 ? nil : .milliseconds(Int(seconds * 1000))
        }
        var maxWait = Duration.seconds(300)
        if let text = merged["CREDITWATCH_MAX_EVALUATION_WAIT_SECONDS"] {
            guard let seconds = Double(text), seconds >= 0 else {
                throw ProjectFiles.Failure(
                    description: "CREDITWATCH_MAX_EVALUATION_WAIT_SECONDS must be a number of seconds ≥ 0, not '\(text)'")
            }
            maxWait = .milliseconds(Int(seconds * 1000))
        }
        var evaluationLimit = BatchProcessor.defaultEvaluationLimit
        if let text = merged["CREDITWATCH_EVALUATION_LIMIT"] {
            guard let n = Int(text), (1...1_000_000).contains(n) else {
                throw ProjectFiles.Failure(
                    description: "CREDITWATCH_EVALUATION_LIMIT must be a number of enterprises a batch evaluates, from 1 to 1000000, not '\(text)'")
            }
            evaluationLimit = n
        }
        var changesPartitions: Int32 = 0
        if let text = merged["CREDITWATCH_CHANGES_PARTITIONS"] {
            guard let n = Int32(text), (0...1024).contains(n) else {
                throw ProjectFiles.Failure(
                    description: "CREDITWATCH_CHANGES_PARTITIONS must be a number of partitions from 0 (one instance) to 1024, not '\(text)'")
            }
            changesPartitions = n
        }
        var market = MarketSettings()
        if let text = merged["CREDITWATCH_MARKET_ACCEPT_DAYS"] {
            guard let days = Int(text), (1...60).contains(days) else {
                throw ProjectFiles.Failure(description: "CREDITWATCH_MARKET_ACCEPT_DAYS must be a number of working days from 1 to 60, not '\(text)'")
            }
            market.acceptWithinWorkingDays = days
        }
        // The State Council's holiday arrangement, one line a day (ops/holidays.txt); a path given
        // explicitly must exist, the default may be absent (then Monday to Friday are working days).
        let holidays = merged["CREDITWATCH_MARKET_HOLIDAYS"] ?? "ops/holidays.txt"
        if let data = FileManager.default.contents(atPath: holidays) {
            do {
                market.calendar = try WorkingCalendar(parsing: String(decoding: data, as: UTF8.self), path: holidays)
            } catch { throw ProjectFiles.Failure(description: "\(error)") }
        } else if merged["CREDITWATCH_MARKET_HOLIDAYS"] != nil {
            throw ProjectFiles.Failure(description: "\(holidays): cannot read the holiday calendar (CREDITWATCH_MARKET_HOLIDAYS)")
        }
        var settings = Settings(
            kafka: kafka, postgres: PostgresStore.Configuration(environment: merged), api: api,
            redisHost: merged["CREDITWATCH_REDIS_HOST"] ?? "127.0.0.1",
            redisPort: merged["CREDITWATCH_REDIS_PORT"].flatMap(Int.init) ?? 16379,
            rulesPath: merged["CREDITWATCH_RULES"] ?? "rules", topicsPath: merged["CREDITWATCH_TOPICS"] ?? "topics",
            ruleOverrides: overrides, rulesWatchInterval: watch, maxEvaluationWait: maxWait, changesPartitions: changesPartitions)
        settings.market = market
        settings.evaluationLimit = evaluationLimit
        if let path = merged["CREDITWATCH_DASHBOARD_ECHARTS"] { settings.echartsPath = path }
        settings.dashboardDirectory = merged["CREDITWATCH_DASHBOARD_WEB_DIR"]
        if let text = merged["CREDITWATCH_DATA_HEALTH_SECONDS"] {
            guard let seconds = Double(text), (0...86_400).contains(seconds) else {
                throw ProjectFiles.Failure(description: "CREDITWATCH_DATA_HEALTH_SECONDS must be seconds from 0 to 86400, not '\(text)'")
            }
            settings.dataHealthInterval = .milliseconds(Int(seconds * 1000))
        }
        do {
            settings.redisSecurity = try RedisSecurity(environment: merged)
        } catch { throw ProjectFiles.Failure(description: error.message) }
        return settings
    }
}
