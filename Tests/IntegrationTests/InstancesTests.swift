import CreditWatchCore
import Foundation
import KafkaIngest
import Logging
import PostgresStore
import RedisFeatures
import RuleLanguage
import Simulator
import Synchronization
import Testing

@testable import creditwatch

extension EngineIntegrationTests {
    /// Several instances share a city through the changes topic (each decides for the enterprises
    /// of its partitions): one routed instance, and two of which one is killed mid-stream (the other
    /// takes its partitions over in the rebalance), end with the alerts, alert events, scores and
    /// score histories of one instance reading the departments' topics itself.
    ///
    /// The city arrives in two parts, so that the kill is certain to come before the second part
    /// whatever the machine's speed (on a slow machine it also lands in the middle of the first):
    /// the survivor must then read every partition itself. Each part is a backlog evaluated once
    /// caught up: the second is produced while the engine is stopped, then it is started again.
    /// (Sent to a live engine, a part would be evaluated batch by batch as it arrives, and how the
    /// router's forwarding splits it into batches would show in the score histories.)
    @Test func instancesSharingTheCityEndAsOneWhateverHappensToThem() async throws {
        var city = CityConfiguration()
        city.enterprises = 120
        city.persons = 40
        city.seed = 23
        let messages = CitySimulator(configuration: city).all()
        let cut = messages.count * 3 / 5
        let (first, second) = (Array(messages[..<cut]), Array(messages[cut...]))
        let catalog = try ProjectFiles.catalog(at: "topics")
        let expected = Self.expectedRecords(messages, catalog: catalog)
        let firstRecords = Self.expectedRecords(first, catalog: catalog).records
        let enterprises = expected.enterprises.sorted()

        var alone = try await Engine.start("alone", partitions: 4, backlog: first)
        try await alone.caughtUp(timeout: .seconds(300))
        alone = try await alone.restarted(backlog: second)
        try await alone.caughtUp(timeout: .seconds(300))
        let reference = try await Self.outcome(alone.store, scoresOf: enterprises)
        try await alone.stop()
        #expect(reference.count { $0.hasPrefix("event raised ") } > 20)

        var routed = try await Engine.start("routed", partitions: 4, backlog: first) { $0.changesPartitions = 4 }
        try await routed.caughtUp(timeout: .seconds(300))
        routed = try await routed.restarted(backlog: second)
        try await routed.caughtUp(timeout: .seconds(300))
        Self.compare(try await Self.outcome(routed.store, scoresOf: enterprises), with: reference, "one routed instance")
        try await routed.stop()

        // Two `creditwatch run` processes in one group; the second is killed once a fifth of the
        // records are stored.
        var settings = try Stack.settings("pair")
        settings.changesPartitions = 6
        try await Stack.flushRedis(settings)
        try KafkaAdmin.createTopics(catalog.topics.keys.sorted(), partitions: 4, configuration: settings.kafka)
        let producer = try KafkaProducer(configuration: settings.kafka)
        func produce(_ part: [SimulatedMessage]) throws {
            for m in part { try producer.send(topic: m.topic, key: m.key, value: m.value) }
            try producer.flush()
        }
        try produce(first)
        let store = try PostgresStore(configuration: settings.postgres, catalog: catalog, logger: Logger(label: "test"))
        let pool = Task { await store.run() }
        defer { pool.cancel() }
        let log = "\(NSTemporaryDirectory())creditwatch-\(settings.kafka.groupID)"
        let survivor = try DaemonProcess(settings: settings, httpPort: Socket.freePort(), log: "\(log)-1.log")
        let victim = try DaemonProcess(settings: settings, httpPort: Socket.freePort(), log: "\(log)-2.log")
        try await Self.waitFor("a fifth of the records", daemons: [survivor, victim]) {
            (try? await store.recordCount()).map { $0 > expected.records / 5 } ?? false
        }
        victim.signal(SIGKILL)
        #expect(await victim.exit() == SIGKILL)
        var outcome: [String] = []
        func settle(records: Int, _ daemon: DaemonProcess) async throws {
            try await Self.waitFor("every record", timeout: .seconds(300), daemons: [daemon]) { try await store.recordCount() == records }
            // The batch that stored the last records commits what waits for evaluation just after.
            try await Task.sleep(for: .seconds(2))
            try await Self.waitFor("every enterprise and industry evaluated", timeout: .seconds(300), daemons: [daemon]) {
                guard try await !store.hasPendingEvaluations(besides: []) else { return false }
                return try await store.pendingIndustries().isEmpty
            }
            try await Self.waitFor("the outcome to settle", daemons: [daemon]) {
                let before = try await Self.outcome(store, scoresOf: enterprises)
                try await Task.sleep(for: .seconds(3))
                outcome = try await Self.outcome(store, scoresOf: enterprises)
                return outcome == before
            }
        }
        try await settle(records: firstRecords, survivor)
        survivor.signal(SIGTERM)
        #expect(await survivor.exit() == 0, "graceful shutdown")
        try produce(second)
        let restarted = try DaemonProcess(settings: settings, httpPort: Socket.freePort(), log: "\(log)-3.log")
        try await settle(records: expected.records, restarted)
        restarted.signal(SIGTERM)
        #expect(await restarted.exit() == 0, "graceful shutdown")
        Self.compare(outcome, with: reference, "two instances, one killed")
    }

    static func compare(_ actual: [String], with expected: [String], _ name: String) {
        #expect(actual == expected, "\(name) differs from one instance alone")
        for line in expected where !actual.contains(line) { Issue.record("\(name) misses: \(line)") }
        for line in actual where !expected.contains(line) { Issue.record("\(name) adds: \(line)") }
    }
}

extension EngineIntegrationTests {
    /// Two instances, one storing an enterprise's registration while the other stores a water
    /// record named only by that enterprise's name, its lookup made before the registration was
    /// committed: the record is stored unlinked, the next batch of the instance that stored it
    /// links it (each instance looks again after its commit), and the owner evaluates the
    /// enterprise from the pending list: the arrears alert is raised as on one instance.
    @Test func aRecordStoredUnlinkedWhileItsRegistrationIsStoredElsewhereIsLinkedByTheNextBatch() async throws {
        let (catalog, program, store, features, pool) = try await Stack.stores("race")
        defer { pool.cancel() }
        let owner = BatchProcessor(catalog: catalog, program: program, features: features, store: store)
        // The other instance's first lookup does not see the registration yet.
        let early = Lookups()
        let blind = SeamedStore(base: store, answerLookup: { facts in
            early.count.wrappingAdd(1, ordering: .relaxed).oldValue == 0
                ? LinkingFacts(registrations: facts.registrations, accounts: facts.accounts) : facts
        })
        let other = BatchProcessor(catalog: catalog, program: program, features: features, store: blind)
        let e4 = Self.e4
        let mine = Ownership.partition(of: e4, among: 2)
        let (owns, otherOwns) = (Ownership(partitions: 2, owned: [mine]), Ownership(partitions: 2, owned: [1 - mine]))
        func inbound(_ messages: [SimulatedMessage]) -> [InboundMessage] {
            messages.enumerated().map { InboundMessage(topic: $1.topic, partition: 0, offset: Int64($0), key: $1.key, value: $1.value) }
        }

        _ = try await owner.process(inbound([Self.registrations[3]]), caughtUp: true, ownership: owns)
        let asOf = Day(year: 2026, month: 7, day: 20)!
        let arrears = Script.waterArrears(nil, account: "W-7001", customer: "邵阳市（测试）建工有限责任公司", months: 3, asOf: asOf)
        _ = try await other.process(inbound([arrears]), caughtUp: true, ownership: otherOwns)
        #expect(try await store.recordCounts().first { $0.topic == "water.arrears" }?.unlinked == 1)
        #expect(await other.hasPendingWork(caughtUp: true), "the unlinked record is looked at again")

        let relinking = try await other.process([], caughtUp: true, ownership: otherOwns)
        #expect(relinking.relinked == 1)
        #expect(relinking.deferred == 1, "the enterprise is left to its owner")
        #expect(try await store.recordCounts().first { $0.topic == "water.arrears" }?.unlinked == 0)
        #expect(try await store.pendingEvaluations(after: nil, limit: 10, ownership: owns).map(\.uscc) == [e4])
        #expect(try await store.alertStates(subjects: [e4]).isEmpty, "only the owner decides")

        let evaluating = try await owner.process([], caughtUp: true, ownership: owns)
        #expect(evaluating.entitiesEvaluated == 1)
        let alerts = try await Self.allAlerts(store)
        #expect(alerts.map { [$0.rule, $0.subjectID, $0.explanation] } == [["water_arrears", e4, "水费已欠费 3 个月，欠费金额 12000 元"]])
        #expect(try await !store.hasPendingEvaluations(besides: []))
    }
}

final class Lookups: Sendable {
    let count = Atomic<Int>(0)
}
