import CreditWatchCore
import Foundation
import PostgresStore
import RuleLanguage
import Simulator
import Testing

@testable import creditwatch

extension EngineIntegrationTests {
    /// Departments' histories arrive in any order: water records named only by a variant of an
    /// enterprise's name, or by an account no USCC has yet, sent before any registration, are linked
    /// when the registrations arrive, and raise the same alerts as in the usual order.
    @Test func recordsThatArriveBeforeTheirRegistrationAreLinkedWhenItArrives() async throws {
        var engine = try await Engine.start("order")
        let asOf = Day(year: 2026, month: 7, day: 20)!
        // By name only (a variant: full-width brackets, 有限责任公司), and by account only.
        let byName = Script.waterArrears(nil, account: "W-7001", customer: "邵阳市（测试）建工有限责任公司", months: 3, asOf: asOf)
        let byAccount = Script.waterArrears(nil, account: "W-0003", customer: "云帆", months: 4, asOf: asOf)
        try await engine.send([byName, byAccount])
        #expect(try await engine.store.recordCounts() == [TopicRecordCount(topic: "water.arrears", records: 2, unlinked: 2, deleted: 0)])

        // Then the registrations, and a usage record that ties account W-0003 to E3.
        try await engine.send(Self.registrations)
        try await engine.send([
            Script.waterUsage(Self.e3, account: "W-0003", customer: "邵阳云帆软件", Month(year: 2026, month: 6), volume: 300)
        ])
        #expect(
            try await engine.store.recordCounts().first { $0.topic == "water.arrears" }
                == TopicRecordCount(topic: "water.arrears", records: 2, unlinked: 0, deleted: 0))
        let arrears = try await engine.alerts().filter { $0.rule == "water_arrears" }.sorted { $0.subjectID < $1.subjectID }
        #expect(arrears.map(\.subjectID) == [Self.e3, Self.e4])
        #expect(arrears.map(\.explanation) == ["水费已欠费 4 个月，欠费金额 16000 元", "水费已欠费 3 个月，欠费金额 12000 元"])
        try await engine.stop()
    }
}

extension EngineIntegrationTests {
    /// A billing period is complete once the enterprise's record for it arrives: a water collapse
    /// whose third month is the newest alerts with that month's record, not a month later.
    @Test func aWaterCollapseInTheNewestMonthAlertsWhenThatMonthArrives() async throws {
        var engine = try await Engine.start("newest")
        try await engine.send([Self.registrations[0]])
        let normal = (0..<12).map { Month(year: 2025, month: 1) + $0 }
        for m in normal {
            try await engine.send([Script.waterUsage(Self.e1, account: "W-0001", customer: "湘中精密机械有限公司", m, volume: 1000)])
        }
        let collapsed = (0..<3).map { Month(year: 2026, month: 1) + $0 }
        for m in collapsed.prefix(2) {
            try await engine.send([Script.waterUsage(Self.e1, account: "W-0001", customer: "湘中精密机械有限公司", m, volume: 100)])
        }
        #expect(try await engine.alerts().isEmpty)
        try await engine.send([
            Script.waterUsage(Self.e1, account: "W-0001", customer: "湘中精密机械有限公司", collapsed[2], volume: 100)
        ])
        let alerts = try await engine.alerts()
        #expect(alerts.map(\.rule) == ["water_usage_collapse"])
        #expect(alerts.first?.window == "2026-03")
        #expect(alerts.first?.explanation == "近3个月用水 300 立方米，仅为近12个月月均用水 775 立方米×3 的 12.9%（阈值 30%）")
        try await engine.stop()
    }
}

extension EngineIntegrationTests {
    /// A simulated city's whole history sent at once gives the same alerts, alert events, scores and
    /// score histories on 1, 4 and 8 partitions, and with each department's history sent in turn
    /// (in reverse topic order: registrations last) instead of month by month: evaluation waits
    /// until ingest has read every partition, so the outcome is a function of the data alone. Also
    /// with at most 7 enterprises evaluated a batch (what the batch that ends the wait touched
    /// beyond them waits with the pending ones) and batches of at most 16 KiB of messages.
    @Test func aHistorySentAtOnceEndsTheSameWhateverThePartitionsAndTopicOrder() async throws {
        var city = CityConfiguration()
        city.enterprises = 120
        city.persons = 40
        city.seed = 11
        let messages = CitySimulator(configuration: city).all()
        let topics = Array(Set(messages.map(\.topic))).sorted(by: >)
        let byTopic = topics.flatMap { topic in messages.filter { $0.topic == topic } }
        let enterprises = Self.expectedRecords(messages, catalog: try ProjectFiles.catalog(at: "topics")).enterprises.sorted()

        var outcomes: [String: [String]] = [:]
        for (name, partitions, backlog, limit) in [
            ("p1", 1, messages, BatchProcessor.defaultEvaluationLimit), ("p4", 4, messages, BatchProcessor.defaultEvaluationLimit),
            ("p8_by_topic", 8, byTopic, BatchProcessor.defaultEvaluationLimit), ("p4_limit7", 4, messages, 7),
        ] {
            let small = limit < enterprises.count
            let engine = try await Engine.start("backfill_\(name)", partitions: partitions, backlog: backlog) {
                // Several batches, so that evaluation waits for the backlog (one batch holding all of
                // it, caught up at once, would not).
                $0.kafka.batchSize = 500
                $0.evaluationLimit = limit
                if small { $0.kafka.batchBytes = 16_384 }
            }
            try await engine.caughtUp(timeout: .seconds(300))
            outcomes[name] = try await Self.outcome(engine.store, scoresOf: enterprises)
            #expect(engine.progress.deferred > 0, "\(name): evaluation never waited for the backlog")
            #expect(engine.progress.mostEvaluated == min(limit, enterprises.count), "\(name): at most \(limit) a batch")
            if small {
                let largest = messages.map { ($0.key?.count ?? 0) + ($0.value?.count ?? 0) }.max()!
                #expect((16_384 - largest + 1...16_384).contains(engine.progress.mostBytes), "\(name): batches of at most 16 KiB")
            }
            try await engine.stop()
        }
        let expected = outcomes["p1"]!
        #expect(expected.count { $0.hasPrefix("alert ") } > 20)
        #expect(expected.count { $0.hasPrefix("event raised ") } > 20)
        for (name, actual) in outcomes.sorted(by: { $0.key < $1.key }) where name != "p1" {
            #expect(actual == expected, "\(name) differs from one partition")
            for line in expected where !actual.contains(line) { Issue.record("\(name) misses: \(line)") }
            for line in actual where !expected.contains(line) { Issue.record("\(name) adds: \(line)") }
        }
    }
}

extension EngineIntegrationTests {
    /// A reloaded rule set that ranks on a new measure is re-evaluated through the city in several
    /// batches (at most 7 enterprises a batch here), yet every rank is read from whole groups: the
    /// alerts, alert events and scores equal those of one batch re-evaluating the whole city.
    @Test func aReloadedRuleSetRanksEveryEnterpriseOnItsNewMeasureBeforeAnyIsRanked() async throws {
        var city = CityConfiguration()
        city.enterprises = 120
        city.persons = 40
        city.seed = 12  // one where ranks read from part of a group raise alerts that cite them
        let messages = CitySimulator(configuration: city).all()
        let enterprises = Self.expectedRecords(messages, catalog: try ProjectFiles.catalog(at: "topics")).enterprises.sorted()
        // The rule set before the reload has neither the ranks nor the rule that reads them.
        let folder = try Self.copiedRules()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let tax = try String(contentsOfFile: "\(folder)/tax.cwr", encoding: .utf8)
        let ranks = try #require(tax.range(of: "feature tax_drop_rank "))
        let rule = try #require(tax.range(of: "rule tax_drop_industry_worst"))
        let end = try #require(tax.range(of: "\n}\n", range: rule.upperBound..<tax.endIndex))
        try tax.replacingCharacters(in: ranks.lowerBound..<end.upperBound, with: "")
            .write(toFile: "\(folder)/tax.cwr", atomically: true, encoding: .utf8)

        var outcomes: [Int: [String]] = [:]
        for limit in [BatchProcessor.defaultEvaluationLimit, 7] {
            let (catalog, reloaded, store, features, pool) = try await Stack.stores("reload_ranks_\(limit)")
            defer { pool.cancel() }
            let before = try ProjectFiles.program(at: folder, catalog: catalog)
            #expect(before.rankedMeasures.isEmpty && !reloaded.rankedMeasures.isEmpty)
            let processor = BatchProcessor(catalog: catalog, program: before, features: features, store: store, evaluationLimit: limit)
            _ = try await Self.feed(messages, to: processor, by: 500, waiting: .throughout)
            _ = try await Self.settle(processor)
            await processor.replace(program: reloaded)
            #expect(try await Self.settle(processor).most == min(limit, enterprises.count), "at most \(limit) a batch")
            outcomes[limit] = try await Self.outcome(store, scoresOf: enterprises)
        }
        let expected = try #require(outcomes[BatchProcessor.defaultEvaluationLimit])
        // The rule the reload adds raises exactly three alerts on this city (the ones ranks decide).
        #expect(expected.count { $0.hasPrefix("alert tax_drop_industry_worst ") && $0.contains(" active ") } == 3)
        #expect(expected.count { $0.hasPrefix("event raised tax_drop_industry_worst ") } == 3)
        let actual = try #require(outcomes[7])
        #expect(actual == expected, "seven a batch differs from the whole city at once")
        for line in expected where !actual.contains(line) { Issue.record("misses: \(line)") }
        for line in actual where !expected.contains(line) { Issue.record("adds: \(line)") }
    }

    /// The batch that ends a wait carries messages of enterprises that already wait in the store of
    /// record; they are evaluated from there, each once, however small the evaluation limit: as many
    /// evaluations as one batch evaluating the whole city, and the same alerts, events and scores.
    @Test func theBatchEndingAWaitEvaluatesEachWaitingEnterpriseOnce() async throws {
        var city = CityConfiguration()
        city.enterprises = 60
        city.persons = 20
        city.seed = 31
        let messages = CitySimulator(configuration: city).all()
        let enterprises = Self.expectedRecords(messages, catalog: try ProjectFiles.catalog(at: "topics")).enterprises.sorted()
        var evaluations: [Int: Int] = [:]
        var outcomes: [Int: [String]] = [:]
        for limit in [BatchProcessor.defaultEvaluationLimit, 7] {
            let (catalog, program, store, features, pool) = try await Stack.stores("wait_end_once_\(limit)")
            defer { pool.cancel() }
            let processor = BatchProcessor(catalog: catalog, program: program, features: features, store: store, evaluationLimit: limit)
            // The wait ends with the last batch, which carries messages of its own.
            let fed = try await Self.feed(messages, to: processor, waiting: .untilTheLastBatch)
            #expect(fed.last.entitiesEvaluated > 0 && fed.last.entitiesEvaluated <= limit)
            evaluations[limit] = try await fed.evaluated + Self.settle(processor).evaluated
            outcomes[limit] = try await Self.outcome(store, scoresOf: enterprises)
        }
        // Every enterprise of the city once (the registered ones, and none twice).
        #expect(evaluations[BatchProcessor.defaultEvaluationLimit] == enterprises.count)
        #expect(evaluations[7] == enterprises.count, "seven a batch evaluated \(evaluations[7] ?? 0) times")
        let expected = try #require(outcomes[BatchProcessor.defaultEvaluationLimit])
        #expect(expected.count { $0.hasPrefix("event raised ") } > 5)
        #expect(outcomes[7] == expected, "seven a batch differs from the whole city at once")
    }

    /// When evaluation waits while `feed` sends a backlog.
    enum Waiting { case never, untilTheLastBatch, throughout }

    /// Sends `messages` to `processor` on one partition, `size` a batch; answers how many entities
    /// the batches evaluated and the last batch's report.
    static func feed(
        _ messages: [SimulatedMessage], to processor: BatchProcessor, by size: Int = 400, waiting: Waiting
    ) async throws -> (evaluated: Int, last: BatchReport) {
        var offset: Int64 = 0
        var evaluated = 0
        var last = BatchReport()
        let starts = Array(stride(from: 0, to: messages.count, by: size))
        for start in starts {
            let batch = messages[start..<min(start + size, messages.count)].map { m in
                offset += 1
                return InboundMessage(topic: m.topic, partition: 0, offset: offset, key: m.key, value: m.value)
            }
            let caughtUp = switch waiting {
            case .never: true
            case .untilTheLastBatch: start == starts.last
            case .throughout: false
            }
            last = try await processor.process(batch, caughtUp: caughtUp)
            evaluated += last.entitiesEvaluated
        }
        return (evaluated, last)
    }

    /// Empty batches until nothing waits (industries judged too): how many entities they evaluated,
    /// and the most one did.
    static func settle(_ processor: BatchProcessor) async throws -> (evaluated: Int, most: Int) {
        var (evaluated, most) = (0, 0)
        repeat {
            while await processor.hasPendingWork(caughtUp: true) {
                let report = try await processor.process([], caughtUp: true)
                evaluated += report.entitiesEvaluated
                most = max(most, report.entitiesEvaluated)
            }
            try await Task.sleep(for: BatchProcessor.industryInterval + .milliseconds(100))
        } while await processor.hasPendingWork(caughtUp: true)
        return (evaluated, most)
    }
}
