import CreditWatchCore
import Foundation
import KafkaIngest
import Logging
import PostgresStore
import RedisFeatures
import RuleLanguage
import Simulator
import Testing

@testable import creditwatch

/// A `creditwatch run` subprocess against an isolated run of the real stack.
final class DaemonProcess {
    let process = Process()
    /// Where its output goes (shown when a test waiting on it fails).
    let log: String

    /// `environment`: settings beyond the run's (`CREDITWATCH_…`).
    init(settings: Settings, httpPort: Int, log: String, environment: [String: String] = [:]) throws {
        process.executableURL = URL(fileURLWithPath: Stack.executable)
        process.arguments = ["run", "--log-level", "info"]
        process.environment = Stack.processEnvironment(settings, httpPort: httpPort).merging(environment) { $1 }
        self.log = log
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        handle.seekToEndOfFile()
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
    }

    func signal(_ signal: Int32) { kill(process.processIdentifier, signal) }

    /// The last `lines` lines of its output, for a failure's message (the log file is gone with
    /// the CI machine).
    func logTail(_ lines: Int = 60) -> String {
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }

    func exit() async -> Int32 {
        while process.isRunning { try? await Task.sleep(for: .milliseconds(50)) }
        return process.terminationStatus
    }

    /// The exit status, or nil (and the process killed) when it is still running after `timeout`.
    func exit(within timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        guard !process.isRunning else {
            signal(SIGKILL)
            _ = await exit()
            return nil
        }
        return process.terminationStatus
    }
}

extension EngineIntegrationTests {
    /// The records the stream leaves current: per (topic, key) the change with the highest version,
    /// unless that change is a delete. Computed from the messages alone, by the pure decoder.
    static func expectedRecords(_ messages: [SimulatedMessage], catalog: TopicCatalog) -> (records: Int, enterprises: Set<String>) {
        let decoder = ChangeDecoder(catalog: catalog)
        var latest: [String: Change] = [:]
        var enterprises: Set<String> = []
        for m in messages {
            guard case .change(let change) = decoder.decode(topic: m.topic, key: m.key, value: m.value) else { continue }
            let id = "\(change.topic)/\(change.key)"
            if let known = latest[id], known.version > change.version { continue }
            latest[id] = change
            if case .enterprise(let uscc) = change.entity { enterprises.insert(uscc.value) }
        }
        return (latest.values.count { $0.operation != .delete }, enterprises)
    }

    /// Polls `condition` every 0.1 s until it holds. Fails after `timeout`, or at once when one of
    /// `daemons` has exited, with the end of their logs (what happened is in them).
    static func waitFor(
        _ what: String, timeout: Duration = .seconds(180), daemons: [DaemonProcess] = [], _ condition: () async throws -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while try await !condition() {
            let exited = daemons.first { !$0.process.isRunning }
            if exited != nil || ContinuousClock.now > deadline {
                let why = exited.map { "a daemon exited (status \($0.process.terminationStatus))" } ?? "timed out"
                let logs = daemons.map { "\($0.log) ends:\n\($0.logTail())" }.joined(separator: "\n")
                Issue.record("\(why) waiting for \(what)\(logs.isEmpty ? "" : "\n" + logs)")
                throw CancellationError()
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// An isolated run for `creditwatch run` processes: an empty Redis, the catalog's topics with two
    /// partitions each.
    static func daemonRun(_ name: String) async throws -> (settings: Settings, catalog: TopicCatalog) {
        let settings = try Stack.settings(name)
        try await Stack.flushRedis(settings)
        let catalog = try ProjectFiles.catalog(at: settings.topicsPath)
        try KafkaAdmin.createTopics(catalog.topics.keys.sorted(), partitions: 2, configuration: settings.kafka)
        return (settings, catalog)
    }

    /// SIGTERM ends a daemon in seconds however long its periodic work sleeps (data health counts
    /// every hour, the rules folder polled every hour here): a service manager's stop timeout
    /// (Kubernetes: 30 s) must not kill it before it has committed its batch and left the group.
    @Test func sigtermStopsTheDaemonWithinSecondsWhateverItsIntervals() async throws {
        let (settings, catalog) = try await Self.daemonRun("stop")
        var city = CityConfiguration()
        city.enterprises = 20
        city.persons = 5
        city.seed = 11
        let producer = try KafkaProducer(configuration: settings.kafka)
        for m in CitySimulator(configuration: city).registrations() { try producer.send(topic: m.topic, key: m.key, value: m.value) }
        try producer.flush()
        let store = try PostgresStore(configuration: settings.postgres, catalog: catalog, logger: Logger(label: "test"))
        let pool = Task { await store.run() }
        defer { pool.cancel() }

        let daemon = try DaemonProcess(
            settings: settings, httpPort: Socket.freePort(), log: "\(NSTemporaryDirectory())creditwatch-\(settings.kafka.groupID).log",
            environment: ["CREDITWATCH_DATA_HEALTH_SECONDS": "3600", "CREDITWATCH_RULES_WATCH_SECONDS": "3600"])
        try await Self.waitFor("the daemon to store records", daemons: [daemon]) { (try? await store.recordCount()).map { $0 > 0 } ?? false }
        // Past the start: every service is in its loop.
        try await Task.sleep(for: .seconds(2))
        let asked = ContinuousClock.now
        daemon.signal(SIGTERM)
        let status = await daemon.exit(within: .seconds(20))
        #expect(status == 0, "graceful shutdown within 20 s (took \(ContinuousClock.now - asked))")
    }

    @Test func daemonKilledMidStreamAndRestartedLosesAndDuplicatesNoAlert() async throws {
        let (settings, catalog) = try await Self.daemonRun("restart")
        var city = CityConfiguration()
        city.enterprises = 120
        city.persons = 40
        city.seed = 7
        let messages = CitySimulator(configuration: city).all()
        let expected = Self.expectedRecords(messages, catalog: catalog)

        // The rest of the stream is produced after the kill, so the kill is mid-stream whatever the
        // machine's speed.
        let cut = messages.count * 3 / 5
        let producer = try KafkaProducer(configuration: settings.kafka)
        func produce(_ part: ArraySlice<SimulatedMessage>) throws {
            for m in part { try producer.send(topic: m.topic, key: m.key, value: m.value) }
            try producer.flush()
        }
        try produce(messages[..<cut])

        let log = "\(NSTemporaryDirectory())creditwatch-\(settings.kafka.groupID).log"
        let port = Socket.freePort()
        let store = try PostgresStore(configuration: settings.postgres, catalog: catalog, logger: Logger(label: "test"))
        let pool = Task { await store.run() }
        defer { pool.cancel() }

        // First run: killed without warning once part of the stream is stored.
        let first = try DaemonProcess(settings: settings, httpPort: port, log: log)
        try await Self.waitFor("the first records", daemons: [first]) {
            (try? await store.recordCount()).map { $0 > expected.records / 5 } ?? false
        }
        first.signal(SIGKILL)
        #expect(await first.exit() == SIGKILL)
        try produce(messages[cut...])

        // Second run: picks up from the committed offsets and finishes the stream.
        let second = try DaemonProcess(settings: settings, httpPort: port, log: log)
        try await Self.waitFor("every record", daemons: [second]) { try await store.recordCount() == expected.records }
        var alerts: [Alert] = []
        try await Self.waitFor("the alerts to settle", daemons: [second]) {
            let before = try await Self.allAlerts(store)
            try await Task.sleep(for: .seconds(2))
            alerts = try await Self.allAlerts(store)
            return alerts == before
        }
        second.signal(SIGTERM)
        #expect(await second.exit() == 0, "graceful shutdown")

        // No duplicates: one alert per natural key.
        #expect(Set(alerts.map { "\($0.rule) \($0.subjectID) \($0.window)" }).count == alerts.count)
        #expect(!alerts.isEmpty)

        // None lost, none stale: the final state's firings are exactly the active alerts, one
        // per rule and enterprise (rules suspended for a stale feed keep what they had).
        let program = try ProjectFiles.program(at: settings.rulesPath, catalog: catalog)
        let redis = try RedisConnection(host: settings.redisHost, port: settings.redisPort)
        let features = try await FeatureWindows(connection: redis, catalog: catalog, logger: Logger(label: "test"))
        let processor = BatchProcessor(catalog: catalog, program: program, features: features, store: store)
        var checked = 0
        for uscc in expected.enterprises.sorted() {
            let evaluation = try await processor.evaluate(EntityKey(.enterprise, uscc))
            let active = alerts.filter { $0.subjectID == uscc && $0.status == "active" }.map(\.rule)
            #expect(Set(active).count == active.count, "two active alerts of one rule for \(uscc)")
            let firing = Set(evaluation.firings.map(\.rule))
            #expect(Set(active).subtracting(evaluation.suspended) == firing, "alerts of \(uscc)")
            checked += firing.count
        }
        #expect(checked > 0)
    }

    static func allAlerts(_ store: PostgresStore) async throws -> [Alert] {
        var all: [Alert] = []
        var cursor: Int64?
        repeat {
            let page = try await store.alerts(after: cursor, limit: 500)
            all += page.alerts
            cursor = page.hasMore ? page.nextCursor : nil
        } while cursor != nil
        return all
    }
}
