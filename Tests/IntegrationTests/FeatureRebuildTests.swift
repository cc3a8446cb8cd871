import CreditWatchCore
import Foundation
import Logging
import PostgresStore
import RedisFeatures
import RuleLanguage
import Simulator
import Testing

@testable import creditwatch

extension EngineIntegrationTests {
    /// What a run of the scripted history leaves, without ids and processing times: every alert,
    /// every alert event, and each enterprise's score with its history. Sorted: ids drawn within
    /// one batch's insert follow no order that the data decides.
    static func outcome(_ store: PostgresStore, scoresOf enterprises: [String] = [e1, e2, e3, e4, e5]) async throws -> [String] {
        var lines = try await allAlerts(store).map {
            "alert \($0.rule) \($0.subjectID) \($0.window) \($0.status) \($0.asOf) \($0.explanation) \($0.withdrawal?.reason ?? "")"
        }
        var cursor: Int64?
        repeat {
            let page = try await store.alertEvents(after: cursor, limit: 500)
            lines += page.events.map { "event \($0.kind) \($0.rule) \($0.subjectID) \($0.asOf) \($0.reason ?? "")" }
            cursor = page.hasMore ? page.nextCursor : nil
        } while cursor != nil
        for uscc in enterprises {
            guard let score = try await store.score(of: uscc) else {
                lines.append("score \(uscc) none")
                continue
            }
            lines.append("score \(uscc) \(score.score) \(score.grade) \(score.asOf) \(score.history.map { "\($0.score)\($0.grade)" })")
        }
        return lines.sorted()
    }

    /// Sends the scripted history with Redis (every master) flushed after the first `cut` months,
    /// and compares the outcome with an undisturbed run's, line by line.
    static func sendHistoryFlushingRedis(_ engine: inout Engine, after cut: Int, expecting expected: [String]) async throws {
        try await engine.send(Self.registrations)
        for m in Script.months[..<cut] { try await engine.send(Self.month(m)) }
        try await Stack.flushRedis(engine.settings)
        for m in Script.months[cut...] { try await engine.send(Self.month(m)) }
        try await engine.send(Self.month(Self.july) + Self.events)
        let actual = try await Self.outcome(engine.store)
        #expect(actual == expected)
        for line in expected where !actual.contains(line) { Issue.record("missing: \(line)") }
        for line in actual where !expected.contains(line) { Issue.record("extra: \(line)") }
    }

    @Test func redisFlushedMidStreamIsRebuiltFromPostgreSQLAndEndsAsAnUndisturbedRun() async throws {
        var undisturbed = try await Engine.start("undisturbed")
        try await Self.sendHistory(&undisturbed)
        let expected = try await Self.outcome(undisturbed.store)
        try await undisturbed.stop()
        #expect(expected.count { $0.hasPrefix("alert ") } == Self.expectedAlerts.count)

        var engine = try await Engine.start("flushed")
        let cut = Script.months.count * 2 / 5
        try await Self.sendHistoryFlushingRedis(&engine, after: cut, expecting: expected)
        // Once at the first batch (Engine.start empties Redis) and once after the flush.
        let health = engine.daemon.health.snapshot
        #expect(health.rebuilds == 2)
        #expect(health.lastRebuild?.reason == "the feature store has no marker (empty, flushed or new)")
        #expect(health.lastRebuild?.records == 5 + cut * 8)
        #expect(health.lastRebuild?.enterprises == 5)
        try await engine.stop()
    }

    @Test func aRedisBehindPostgreSQLIsRebuilt() async throws {
        var engine = try await Engine.start("behind")
        try await engine.send(Self.registrations)
        for m in Script.months.prefix(3) { try await engine.send(Self.month(m)) }
        // As if Redis had lost its last writes (restarted from an older append-only file).
        let redis = try RedisConnection(host: engine.settings.redisHost, port: engine.settings.redisPort)
        let catalog = try ProjectFiles.catalog(at: engine.settings.topicsPath)
        let features = try await FeatureWindows(connection: redis, catalog: catalog, logger: Logger(label: "test"))
        let held = try #require(try await features.featureSync())
        _ = try await redis.command("HSET", "cw:meta", "sequence", String(held.sequence - 2))
        _ = try await redis.command("DEL", "cw:{\(Self.e1)}:rec:tax.payment", "cw:{\(Self.e1)}:win:tax.payment")
        try await engine.send(Self.month(Script.months[3]))
        let health = engine.daemon.health.snapshot
        #expect(health.rebuilds == 2)
        #expect(
            health.lastRebuild?.reason
                == "the feature store is at sequence \(held.sequence - 2), PostgreSQL at \(held.sequence) (lost writes)")
        let profile = try await EngineFeatures(processor: engine.daemon.processor).features(of: Self.e1)
        #expect(profile.first { $0.name == "tax_paid_3mo" }?.value == .number(450_000))
        try await engine.stop()
    }
}

extension EngineIntegrationTests {
    /// Redis holding another store of record's features (a new database pointed at an old Redis)
    /// is cleared before it is rebuilt: the city then ends as on an empty Redis, not with the
    /// other store's records and sums beside its own.
    @Test func aFeatureStoreOfAnotherStoreOfRecordIsClearedBeforeTheRebuild() async throws {
        var city = CityConfiguration()
        city.enterprises = 40
        city.persons = 12
        city.seed = 8
        let messages = CitySimulator(configuration: city).all()
        let enterprises = Self.expectedRecords(messages, catalog: try ProjectFiles.catalog(at: "topics")).enterprises.sorted()
        // The other stores have the city without its tax payments: the first store's stay in Redis.
        let withoutTax = messages.filter { !$0.topic.hasSuffix("tax.payment") }
        #expect(withoutTax.count < messages.count - 100)
        func run(_ messages: [SimulatedMessage], _ name: String, flushing: Bool) async throws -> [String] {
            let (catalog, program, store, features, pool) = try await Stack.stores(name, flushing: flushing)
            defer { pool.cancel() }
            let processor = BatchProcessor(catalog: catalog, program: program, features: features, store: store)
            _ = try await Self.feed(messages, to: processor, waiting: .never)
            _ = try await Self.settle(processor)
            return try await Self.outcome(store, scoresOf: enterprises)
        }
        let whole = try await run(messages, "foreign_whole", flushing: true)
        let overForeign = try await run(withoutTax, "foreign_after", flushing: false)
        let alone = try await run(withoutTax, "foreign_alone", flushing: true)
        #expect(alone != whole, "the tax payments change the outcome")
        #expect(overForeign == alone, "over another store's features")
        for line in alone where !overForeign.contains(line) { Issue.record("misses: \(line)") }
        for line in overForeign where !alone.contains(line) { Issue.record("adds: \(line)") }
    }

    @Test func theFeatureMarkerOnlyGrowsUnlessTheStoreChanges() async throws {
        let settings = try Stack.settings("marker")
        try await Stack.flushRedis(settings)
        let catalog = try ProjectFiles.catalog(at: settings.topicsPath)
        let redis = try RedisConnection(host: settings.redisHost, port: settings.redisPort)
        let features = try await FeatureWindows(connection: redis, catalog: catalog, logger: Logger(label: "test"))
        #expect(try await features.featureSync() == nil)
        try await features.markSynced(FeatureSync(storeID: "a", sequence: 5))
        try await features.markSynced(FeatureSync(storeID: "a", sequence: 3))  // another instance, marking later
        #expect(try await features.featureSync() == FeatureSync(storeID: "a", sequence: 5))
        try await features.markSynced(FeatureSync(storeID: "b", sequence: 1))  // rebuilt for another store
        #expect(try await features.featureSync() == FeatureSync(storeID: "b", sequence: 1))
    }
}

extension EngineIntegrationTests {
    @Test func aReloadedRuleSetThatReadsAFieldTheStoreDoesNotKeepRebuildsIt() async throws {
        let folder = try Self.copiedRules()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var engine = try await Engine.start("plan") { $0.rulesPath = folder }
        try await engine.send([Self.registrations[0]])
        // Four months: the 3-month window ends with the last complete one.
        for m in Script.months.suffix(4) { try await engine.send([Script.taxPayment(Self.e1, m, amount: 150_000)]) }

        // Redis keeps of a payment only what the shipped rules read of it.
        let redis = try RedisConnection(host: engine.settings.redisHost, port: engine.settings.redisPort)
        let features = try await FeatureWindows(connection: redis, catalog: engine.daemon.catalog, logger: Logger(label: "test"))
        let e1 = EntityKey(.enterprise, Self.e1)
        let shipped = await engine.daemon.processor.featurePlan
        #expect(shipped.fields["tax.payment"] == ["amount", "period"])
        let kept = try await features.records(of: [e1], plan: shipped)[e1]?["tax.payment"] ?? []
        #expect(kept.count == 4)
        #expect(kept.allSatisfy { Set($0.fields.keys) == ["amount", "period"] })

        // An analyst adds a rule on the kind of tax: the store is rebuilt before it is evaluated.
        try await Self.addRule(
            "vat_paid", title: "近3个月缴纳增值税", feature: "vat_paid_3mo = sum(tax.payment.amount, 3mo, where tax_type == \"增值税\")",
            to: folder, engine: engine)
        let health = engine.daemon.health.snapshot
        #expect(health.lastRebuild?.reason == "the rule set reads what the feature store does not keep: tax.payment.tax_type")
        #expect(health.lastRebuild?.records == 5)
        #expect(try await engine.alerts().first { $0.rule == "vat_paid" }?.explanation == "近3个月缴纳增值税 450000 元")
        let plan = await engine.daemon.processor.featurePlan
        #expect(plan.fields["tax.payment"] == ["amount", "period", "tax_type"])
        #expect(try await features.featureSync()?.keeps == plan.description)
        try await engine.stop()
    }

    /// Redis forgets the payments no window reads any more; a rule set that reads further back
    /// finds them forgotten and rebuilds them from PostgreSQL before it is evaluated.
    @Test func oldRecordsAreForgottenUntilARuleSetReadsFurtherBack() async throws {
        let folder = try Self.copiedRules()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var engine = try await Engine.start("lookback") { $0.rulesPath = folder }
        try await engine.send([Self.registrations[0]])
        // Thirty months paid on the 15th, 2023-01 … 2025-06.
        let months = (0..<30).map { Month(year: 2023, month: 1) + $0 }
        try await engine.send(months.map { Script.taxPayment(Self.e1, $0, amount: 150_000) })
        let redis = try RedisConnection(host: engine.settings.redisHost, port: engine.settings.redisPort)
        let ledger = "cw:{\(Self.e1)}:rec:tax.payment"
        // The shipped windows end with 2025-05 and reach back to 2024-03-01 (3mo offset 12mo);
        // less 92 days, payments before 2023-11-30 are forgotten: 2023-01 … 2023-11.
        try await Self.waitFor("the old payments forgotten") { try await redis.command("HLEN", ledger).integer == 19 }
        #expect(try await FeatureWindows(connection: redis, catalog: engine.daemon.catalog, logger: Logger(label: "test")).featureSync()?.keeps?
            .contains("tax.payment@lookback:457") == true)

        try await Self.addRule("paid_long", title: "近36个月缴税", feature: "paid_36mo = sum(tax.payment.amount, 36mo)", to: folder, engine: engine)
        #expect(engine.daemon.health.snapshot.lastRebuild?.reason == "the rule set reads what the feature store does not keep: tax.payment@lookback")
        // 2023-01 … 2025-05: the 36 months ending with the last complete one.
        #expect(try await engine.alerts().first { $0.rule == "paid_long" }?.explanation == "近36个月缴税 4350000 元")
        #expect(try await redis.command("HLEN", ledger).integer == 30)
        try await engine.stop()
    }

    /// A copy of the shipped rule folder that a test may edit (the caller removes it).
    static func copiedRules() throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("rules-\(UInt32.random(in: 0...UInt32.max))").path
        try FileManager.default.copyItem(atPath: "\(Stack.root)/rules", toPath: folder)
        return folder
    }

    /// Adds a rule (severity info, firing when its feature is at least 1, explained as the title
    /// and the feature's value in yuan) to the rule folder, reloads and waits for its first alert.
    static func addRule(_ name: String, title: String, feature: String, to folder: String, engine: Engine) async throws {
        let featureName = String(feature.prefix { $0 != " " })
        try """
            feature \(feature)
            rule \(name) (min = 1) {
              title    "\(title)"
              category tax
              severity info
              when     \(featureName) >= min
              cooldown 0d
              explain  "\(title) {\(featureName)} 元"
            }
            """.write(toFile: "\(folder)/\(name).cwr", atomically: true, encoding: .utf8)
        let status = await engine.daemon.rules.reload(trigger: "test")
        #expect(status.lastFailure == nil)
        try await waitFor("the \(name) alert") { try await engine.alerts().contains { $0.rule == name } }
    }
}
