import CreditWatchCore
import Foundation
import PostgresStore
import RedisFeatures
import Simulator
import Synchronization
import Testing

@testable import creditwatch

/// A server outage drill: `ops/outage-proxy.py` in front of a real server, taken down and brought
/// back as a client sees a crash (connections reset, new ones refused).
final class OutageProxy {
    let port: Int
    private let process = Process()

    init(target: String, port: Int = Socket.freePort()) async throws {
        self.port = port
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "\(Stack.root)/ops/outage-proxy.py", String(port), target]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        // "ready" once it listens.
        _ = output.fileHandleForReading.availableData
    }

    func down() { kill(process.processIdentifier, SIGUSR1) }
    func up() { kill(process.processIdentifier, SIGUSR2) }

    deinit {
        process.terminate()
        process.waitUntilExit()
    }
}

/// A Redis server of the test's own (append-only file, fsync every second, as ops/servers.sh
/// runs it), so that it can be killed without disturbing the other tests.
final class PrivateRedis {
    let port = Socket.freePort()
    let directory = NSTemporaryDirectory() + "creditwatch-redis-\(UUID().uuidString)"
    private var process: Process?

    init() throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try start()
    }

    func start() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "redis-server", "--bind", "127.0.0.1", "--port", String(port), "--dir", directory, "--appendonly", "yes",
            "--appendfsync", "everysec", "--save", "",
        ]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        self.process = process
    }

    /// Waits until it answers PING (a restarted server first loads its append-only file).
    func ready() async throws {
        try await EngineIntegrationTests.waitFor("redis on \(port)", timeout: .seconds(20)) {
            guard let connection = try? RedisConnection(host: "127.0.0.1", port: port) else { return false }
            return (try? await connection.command("PING"))?.text == "PONG"
        }
    }

    func kill() {
        guard let process else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        self.process = nil
    }

    deinit {
        kill()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// The undisturbed run's outcome, computed once for the drills that compare with it.
actor UndisturbedRun {
    static let shared = UndisturbedRun()
    private var outcome: [String]?

    func get() async throws -> [String] {
        if let outcome { return outcome }
        var engine = try await Engine.start("undisturbed")
        try await EngineIntegrationTests.sendHistory(&engine)
        let result = try await EngineIntegrationTests.outcome(engine.store)
        try await engine.stop()
        outcome = result
        return result
    }
}

extension EngineIntegrationTests {
    static func expectSameOutcome(_ actual: [String], _ expected: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(actual == expected, sourceLocation: sourceLocation)
        for line in expected where !actual.contains(line) { Issue.record("missing: \(line)", sourceLocation: sourceLocation) }
        for line in actual where !expected.contains(line) { Issue.record("extra: \(line)", sourceLocation: sourceLocation) }
    }

    /// The scripted history with an outage at 40 % of the months: `down` takes a server down, the
    /// next month is produced while it is down, `up` brings it back (after waiting as it likes),
    /// and the rest follows month by month as in the undisturbed run.
    static func sendHistory(
        _ engine: inout Engine, down: () async throws -> Void, up: (Engine) async throws -> Void
    ) async throws {
        try await engine.send(registrations)
        let cut = Script.months.count * 2 / 5
        for m in Script.months[..<cut] { try await engine.send(month(m)) }
        try await down()
        try engine.produce(month(Script.months[cut]))
        try await up(engine)
        try await engine.caughtUp()
        for m in Script.months[(cut + 1)...] { try await engine.send(month(m)) }
        try await engine.send(month(july) + events)
    }

    @Test func postgreSQLDownFor30SecondsIsWaitedOutAndLosesNothing() async throws {
        let expected = try await UndisturbedRun.shared.get()
        let settings = try Stack.settings("pgproxy")
        let proxy = try await OutageProxy(target: "\(settings.postgres.host):\(settings.postgres.port)")
        var engine = try await Engine.start("pgoutage") {
            $0.postgres.port = proxy.port
            $0.postgres.answerTimeout = .seconds(2)
        }
        try await Self.sendHistory(&engine, down: { proxy.down() }) { engine in
            // Messages arrive while PostgreSQL is down: nothing is stored, nothing quarantined.
            try await Self.waitFor("ingest to report the outage", timeout: .seconds(30)) {
                engine.daemon.health.snapshot.outage?.component == "postgresql"
            }
            try await Task.sleep(for: .seconds(30))
            let outage = try #require(engine.daemon.health.snapshot.outage)
            // Back-off 0.25 s doubling, each attempt waiting 2 s for an answer: 5 or 6 in 30 s.
            #expect(outage.attempts >= 4)
            proxy.up()
        }
        Self.expectSameOutcome(try await Self.outcome(engine.store), expected)
        #expect(try await engine.store.quarantine(after: nil, limit: 10).messages.isEmpty)
        #expect(engine.daemon.health.snapshot.outage == nil)
        #expect(engine.daemon.health.snapshot.bisectedQuarantined == 0)
        try await engine.stop()
    }

    @Test func redisKilledAndRestartedLosesNothing() async throws {
        let expected = try await UndisturbedRun.shared.get()
        let redis = try PrivateRedis()
        try await redis.ready()
        var engine = try await Engine.start("rediskill") { $0.redisPort = redis.port }
        try await Self.sendHistory(&engine, down: { redis.kill() }) { engine in
            try await Self.waitFor("ingest to report the outage", timeout: .seconds(30)) {
                engine.daemon.health.snapshot.outage?.component == "redis"
            }
            try redis.start()
            try await redis.ready()
        }
        Self.expectSameOutcome(try await Self.outcome(engine.store), expected)
        #expect(try await engine.store.quarantine(after: nil, limit: 10).messages.isEmpty)
        #expect(engine.daemon.health.snapshot.outage == nil)
        try await engine.stop()
    }
}

/// A Kafka-compatible broker of the test's own (Tansu, as ops/servers.sh runs it) that tells its
/// clients to connect through `advertised` (an `OutageProxy`), so that the proxy can cut it off.
final class PrivateBroker {
    let port = Socket.freePort()
    private let process = Process()

    init(advertisedPort: Int) throws {
        process.executableURL = URL(fileURLWithPath: "\(Stack.root)/.deps/bin/tansu")
        process.arguments = [
            "broker", "--cluster-id", "creditwatch-test", "--listener-url", "tcp://127.0.0.1:\(port)",
            "--advertised-listener-url", "tcp://127.0.0.1:\(advertisedPort)", "--storage-engine", "memory://tansu/",
        ]
        var environment = ProcessInfo.processInfo.environment
        for name in ["CLUSTER_ID", "LISTENER_URL", "ADVERTISED_LISTENER_URL", "STORAGE_ENGINE", "SCHEMA_REGISTRY"] {
            environment[name] = nil
        }
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    func ready() async throws {
        try await EngineIntegrationTests.waitFor("tansu on \(port)", timeout: .seconds(20)) { Socket.connects(port: port) }
    }

    deinit {
        // SIGKILL: the broker keeps serving its connections after SIGTERM.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

enum Socket {
    /// Whether something accepts TCP connections on 127.0.0.1:`port`.
    static func connects(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    /// A port of 127.0.0.1 that nothing listens on now, as the kernel picks one (a random one may
    /// be taken: a daemon that cannot listen on its port stops).
    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        precondition(fd >= 0, "socket: \(errno)")
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        precondition(bound, "bind: \(errno)")
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

extension EngineIntegrationTests {
    @Test func theBrokerUnreachableFor20SecondsIsReportedAndLosesNothing() async throws {
        let expected = try await UndisturbedRun.shared.get()
        let proxyPort = Socket.freePort()
        let broker = try PrivateBroker(advertisedPort: proxyPort)
        try await broker.ready()
        let proxy = try await OutageProxy(target: "127.0.0.1:\(broker.port)", port: proxyPort)
        var engine = try await Engine.start("kafkaoutage") { $0.kafka.brokers = "127.0.0.1:\(proxyPort)" }
        // The next month is produced while the broker is up (a producer cut off would wait for it)
        // and processed; then the broker cannot be reached for 20 s. (Processed first: a batch whose
        // offset commit fails is delivered again, which the test's message count cannot tell from
        // the next month's.)
        try await Self.sendHistory(&engine, down: {}) { engine in
            try await engine.caughtUp()
            proxy.down()
            try await Self.waitFor("ingest to report the broker outage", timeout: .seconds(30)) {
                engine.daemon.health.snapshot.outage?.component == "kafka"
            }
            try await Task.sleep(for: .seconds(20))
            #expect(engine.daemon.health.snapshot.outage?.component == "kafka")
            proxy.up()
            try await Self.waitFor("the outage to be over", timeout: .seconds(30)) { engine.daemon.health.snapshot.outage == nil }
        }
        Self.expectSameOutcome(try await Self.outcome(engine.store), expected)
        #expect(try await engine.store.quarantine(after: nil, limit: 10).messages.isEmpty)
        try await engine.stop()
    }
}
