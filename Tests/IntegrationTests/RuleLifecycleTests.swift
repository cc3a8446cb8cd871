import Access
import CreditWatchCore
import Foundation
import HTTPAPI
import Hummingbird
import HummingbirdTesting
import Logging
import PostgresStore
import Prometheus
import RedisFeatures
import RuleLanguage
import Simulator
import Testing

@testable import creditwatch

/// The rule set's life on the real stack: retractions, absence rules and feed freshness, industry
/// rules with their minimum population, and hot reload.
extension EngineIntegrationTests {
    static let listing = Script.dishonest(
        e2, name: "邵阳恒通贸易有限公司", caseNo: "(2026)湘05执1234号", listed: Day(year: 2026, month: 7, day: 3)!, amount: 800_000)

    static let lifted = Script.dishonest(
        e2, name: "邵阳恒通贸易有限公司", caseNo: "(2026)湘05执1234号", listed: Day(year: 2026, month: 7, day: 3)!, amount: 800_000,
        removed: Day(year: 2026, month: 8, day: 5)!)

    @Test func aLiftedDishonestListingWithdrawsItsAlertAndRestoresTheGrade() async throws {
        var engine = try await Engine.start("retraction")
        try await engine.send([Self.registrations[1], Self.registrations[4]])
        for m in Script.months + [Self.july] {
            try await engine.send([Script.taxPayment(Self.e2, m, amount: 50_000), Script.taxPayment(Self.e5, m, amount: 100_000)])
        }
        let before = try #require(try await engine.store.score(of: Self.e2))
        try await engine.send([Self.listing])
        let listed = try #require(try await engine.store.score(of: Self.e2))
        // Listed: the rule's −200 and the lost clean-judicial +50: 772 − 250 = 522, within C.
        #expect(before.score == 772)
        #expect(before.grade == "A")
        #expect(listed.score == 522)
        #expect(listed.grade == "C")
        var alerts = try await engine.alerts().filter { $0.subjectID == Self.e2 }
        #expect(alerts.map(\.rule) == ["dishonest_debtor"])
        #expect(alerts.first?.status == "active")

        try await engine.send([Self.lifted])
        alerts = try await engine.alerts().filter { $0.subjectID == Self.e2 }
        #expect(alerts.count == 1)
        #expect(alerts.first?.status == "withdrawn")
        #expect(alerts.first?.withdrawal?.asOf == "2026-08-05")
        #expect(alerts.first?.withdrawal?.reason == "截至 2026-08-05 预警条件不再成立：court.dishonest/(2026)湘05执1234号 已于 2026-08-05 移出")
        let events = try await engine.store.alertEvents(after: nil, limit: 10, subjectIDs: [Self.e2])
        #expect(events.events.map(\.kind) == ["raised", "withdrawn"])

        // The grade is restored; the history keeps the listing's score between.
        let restored = try #require(try await engine.store.score(of: Self.e2))
        #expect(restored.grade == before.grade)
        #expect(restored.score == before.score)
        #expect(Array(restored.history.prefix(3).map(\.grade)) == [before.grade, "C", before.grade])
        #expect(Array(restored.history.prefix(3).map(\.score)) == [before.score, listed.score, before.score])
        try await engine.stop()
    }

    /// E1 stops paying tax after March 2026 while its water keeps flowing. With the tax feed
    /// fresh (the others keep paying), the absence rule fires once July closes June; with the
    /// whole tax feed silent (stale by its cadence), it stays suspended.
    static func absenceScript(othersKeepPaying: Bool) -> [[SimulatedMessage]] {
        var batches: [[SimulatedMessage]] = [[Self.registrations[0], Self.registrations[4]]]
        let stop = Month(year: 2026, month: 3)
        for m in Script.months + [Self.july] {
            var batch = [Script.waterUsage(Self.e1, account: "W-0001", customer: "湘中精密机械有限公司", m, volume: 1000)]
            if m <= stop { batch.append(Script.taxPayment(Self.e1, m, amount: 150_000)) }
            if m <= stop || othersKeepPaying { batch.append(Script.taxPayment(Self.e5, m, amount: 100_000)) }
            batches.append(batch)
        }
        return batches
    }

    @Test(arguments: [true, false])
    func anAbsenceRuleFiresWhileItsFeedIsFreshAndIsSuspendedWhileStale(feedFresh: Bool) async throws {
        var engine = try await Engine.start("absence")
        for batch in Self.absenceScript(othersKeepPaying: feedFresh) { try await engine.send(batch) }
        let alerts = try await engine.alerts()
        if feedFresh {
            #expect(alerts.map { "\($0.subjectID) \($0.rule)" } == ["\(Self.e1) tax_payments_stopped"])
            #expect(alerts.first?.explanation == "近3个月有 0 个月缴税，此前12个月中有 12 个月缴税（阈值 10 个月）")
            // As of E1's latest business date (its July water record), later than the tax feed's
            // window end (June 30); not its last tax payment in March.
            #expect(alerts.first?.asOf == "2026-07-01")
            #expect(alerts.first?.window == "2026-07")
        } else {
            #expect(alerts.isEmpty)
            let evaluation = try await engine.daemon.processor.evaluate(EntityKey(.enterprise, Self.e1))
            #expect(evaluation.suspended == ["tax_payments_stopped"])
        }
        try await engine.stop()
    }

    /// Two divisions whose every enterprise pays half its tax of a year before from April 2026 (the
    /// alert fires once, in May, and stays active while the wave lasts):
    /// C17 has 20 enterprises (the rule's minimum population), C18 has 19.
    @Test func anIndustryWaveFiresForAPopulatedDivisionOnly() async throws {
        var engine = try await Engine.start("industry")
        let c17 = (0..<20).map { Script.uscc("91430602MA4L17" + String(format: "%03d", $0)) }
        let c18 = (0..<19).map { Script.uscc("91430602MA4L18" + String(format: "%03d", $0)) }
        try await engine.send(
            c17.map { Script.registration($0, name: "纺织\($0.suffix(4))有限公司", industry: "C1711") }
                + c18.map { Script.registration($0, name: "服装\($0.suffix(4))有限公司", industry: "C1810") })
        for m in Script.months + [Self.july] {
            let amount: Double = m >= Month(year: 2026, month: 4) ? 50_000 : 100_000
            try await engine.send((c17 + c18).map { Script.taxPayment($0, m, amount: amount) })
        }
        let alerts = try await engine.alerts()
        #expect(alerts.map { "\($0.subjectID) \($0.rule) \($0.window)" } == ["industry:C17 industry_tax_drop_yoy 2026-05"])
        // March to May: 100 000 + 2 × 50 000 per enterprise against 3 × 100 000 a year before.
        #expect(alerts.first?.explanation == "行业 C17（20 家企业）近3个月纳税 4000000 元，去年同期 6000000 元，同比下降 33.33%（阈值 30%）")
        #expect(alerts.first?.status == "active")

        // The division's leaders by tax paid over 12 months (July 2025 – June 2026: 9 × 100 000 +
        // 3 × 50 000), none with a high alert; equal measures rank by USCC, descending.
        let redis = try RedisConnection(host: engine.settings.redisHost, port: engine.settings.redisPort)
        let catalog = try ProjectFiles.catalog(at: engine.settings.topicsPath)
        let features = try await FeatureWindows(connection: redis, catalog: catalog, logger: Logger(label: "test"))
        let c17Now = try await features.industries(
            ["C17"], standings: [], series: [], leaders: 10, asOf: ["C17": Day(year: 2026, month: 6, day: 30)!])
        #expect(c17Now.first?.population == 20)
        #expect(c17Now.first?.leaders == c17.sorted().reversed().prefix(10).map { IndustryLeader(uscc: $0, measure: 1_050_000, alerted: false) })
        try await engine.stop()
    }

    @Test func aChangedRuleSetIsSwappedInWithoutRestartAndABrokenOneIsRejected() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("rules-\(UInt32.random(in: 0...UInt32.max))").path
        try FileManager.default.copyItem(atPath: "\(Stack.root)/rules", toPath: folder)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var engine = try await Engine.start("reload", watchRules: true) {
            $0.rulesPath = folder
            $0.rulesWatchInterval = .milliseconds(200)
        }
        let manager = engine.daemon.rules
        let original = await manager.status().version

        // E1's tax falls by 40% from April 2026: below the shipped 50% threshold.
        try await engine.send([Self.registrations[0]])
        let history = (Script.months + [Self.july]).map { m in
            Script.taxPayment(Self.e1, m, amount: m >= Month(year: 2026, month: 4) ? 90_000 : 150_000)
        }
        for m in history { try await engine.send([m]) }
        #expect(try await engine.alerts().isEmpty)

        // The analyst lowers the threshold to 30%: the watcher swaps the set in, and the set
        // re-evaluates every enterprise with no new message.
        let tax = "\(folder)/tax.cwr"
        let text = try String(contentsOfFile: tax, encoding: .utf8)
        try text.replacingOccurrences(of: "rule tax_drop_yoy (min_base = 100_000, drop = 50%)", with: "rule tax_drop_yoy (min_base = 100_000, drop = 30%)")
            .write(toFile: tax, atomically: true, encoding: .utf8)
        let store = engine.store
        let raised = try await Self.waitFor { (try? await Self.allAlerts(store).isEmpty) == false }
        #expect(raised)
        let lowered = await manager.status().version
        #expect(lowered != original)
        var alerts = try await engine.alerts()
        #expect(alerts.map(\.rule) == ["tax_drop_yoy"])
        #expect(alerts.first?.ruleSetVersion == lowered)
        #expect(alerts.first?.explanation == "近3个月纳税 270000 元，去年同期 450000 元，同比下降 40%（阈值 30%）")

        // A broken edit is rejected: the lowered set stays live and keeps working.
        try (text + "\nrule broken {\n").write(toFile: tax, atomically: true, encoding: .utf8)
        let rejected = try await Self.waitFor { await manager.status().lastFailure != nil }
        #expect(rejected)
        let status = await manager.status()
        #expect(status.version == lowered)
        #expect(status.lastFailure?.diagnostics.contains("tax.cwr:") == true)
        try await engine.send([Script.dishonest(Self.e1, name: "湘中精密机械有限公司", caseNo: "(2026)湘05执9号", listed: Day(year: 2026, month: 7, day: 20)!, amount: 10_000)])
        alerts = try await engine.alerts()
        #expect(alerts.map(\.rule) == ["tax_drop_yoy", "dishonest_debtor"])
        #expect(alerts.last?.ruleSetVersion == lowered)

        // Through the API: the reload answers 422 with the diagnostics; GET shows the live set.
        let app = buildApplication(
            configuration: APIConfiguration(allowAnonymous: true), keys: StaticKeyDirectory([:]),
            readModels: .postgres(engine.store, access: engine.daemon.access), personalFields: PersonalFields(engine.daemon.catalog),
            features: EngineFeatures(processor: engine.daemon.processor), metrics: PrometheusCollectorRegistry(),
            logger: Logger(label: "test.api"), rules: manager)
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/rules/reload", method: .post) { response in
                #expect(response.status == .unprocessableContent)
                #expect(String(buffer: response.body).contains("invalid_rule_set"))
            }
            try await client.execute(uri: "/v1/rules", method: .get) { response in
                #expect(response.status == .ok)
                let body = try JSONDecoder().decode(RuleSetStatus.self, from: Data(buffer: response.body))
                #expect(body.version == lowered)
                #expect(body.trigger == "file change")
            }
        }

        // The rule taken out of the set: its active alert is withdrawn.
        let lowered30 = text.replacingOccurrences(of: "drop = 50%)", with: "drop = 30%)")
        let start = try #require(lowered30.range(of: "rule tax_drop_yoy ("))
        let end = try #require(lowered30.range(of: "\n}\n", range: start.upperBound..<lowered30.endIndex))
        try lowered30.replacingCharacters(in: start.lowerBound..<end.upperBound, with: "")
            .write(toFile: tax, atomically: true, encoding: .utf8)
        let removed = try await Self.waitFor { await manager.status().version != lowered }
        #expect(removed)
        let withoutRule = await manager.status().version
        // No message is needed here either.
        let withdrawn = try await Self.waitFor {
            (try? await Self.allAlerts(store).first { $0.rule == "tax_drop_yoy" }?.status) == "withdrawn"
        }
        #expect(withdrawn)
        let dropped = try #require(try await engine.alerts().first { $0.rule == "tax_drop_yoy" })
        #expect(dropped.status == "withdrawn")
        #expect(dropped.withdrawal?.reason == "规则 tax_drop_yoy 已不在规则集 \(withoutRule) 中")

        try await engine.stop()
    }

    /// Polls `condition` for up to 10 seconds.
    static func waitFor(_ condition: @Sendable () async -> Bool) async throws -> Bool {
        for _ in 0..<100 {
            if await condition() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }
}

extension EngineIntegrationTests {
    static func taxpayer(_ uscc: String, rating: String, on day: Day) -> SimulatedMessage {
        Script.message("tax.taxpayer", key: ["uscc": .string(uscc)], op: rating == "C" ? "c" : "u", after: [
            "uscc": .string(uscc), "name": .string("企业"), "taxpayer_status": .string("正常"), "credit_rating": .string(rating),
            "rating_year": .int(2025), "updated_at": .isoTimestamp(epochMilliseconds: Script.ms(day)),
        ], ts: Script.ms(day))
    }

    /// A withdrawal names the correction that ended the alert when the evaluation followed it
    /// (live); after a wait for a backlog it says the same whichever batch of the backlog carried
    /// the correction — one in the middle of the wait, or the one that ended it — since which
    /// batch that is is an accident of arrival: alert events are a function of the data.
    @Test func aWithdrawalSaysTheSameWhicheverBatchOfABacklogCarriedTheCorrection() async throws {
        let (catalog, program, store, features, pool) = try await Stack.stores("corrected")
        defer { pool.cancel() }
        let processor = BatchProcessor(catalog: catalog, program: program, features: features, store: store)
        var offset: Int64 = 0
        func process(_ messages: [SimulatedMessage], caughtUp: Bool) async throws {
            let batch = messages.map { m in
                offset += 1
                return InboundMessage(topic: m.topic, partition: 0, offset: offset, key: m.key, value: m.value)
            }
            _ = try await processor.process(batch, caughtUp: caughtUp)
        }
        let (live, midWait, endingWait) = (Self.e1, Self.e2, Self.e3)
        let (rated, corrected) = (Day(year: 2026, month: 6, day: 10)!, Day(year: 2026, month: 7, day: 15)!)
        try await process(Array(Self.registrations[0..<3]), caughtUp: true)
        try await process([live, midWait, endingWait].map { Self.taxpayer($0, rating: "C", on: rated) }, caughtUp: true)
        #expect(try await Self.allAlerts(store).map { "\($0.rule) \($0.subjectID) \($0.status)" }.sorted() == [
            "tax_credit_low \(live) active", "tax_credit_low \(midWait) active", "tax_credit_low \(endingWait) active",
        ].sorted())

        try await process([Self.taxpayer(live, rating: "B", on: corrected)], caughtUp: true)
        try await process([Self.taxpayer(midWait, rating: "B", on: corrected)], caughtUp: false)
        #expect(try await Self.allAlerts(store).filter { $0.status == "withdrawn" }.map(\.subjectID) == [live], "evaluation waits")
        try await process([Self.taxpayer(endingWait, rating: "B", on: corrected)], caughtUp: true)

        let reasons = try await Self.allAlerts(store).map { "\($0.subjectID) \($0.status) \($0.withdrawal?.reason ?? "")" }.sorted()
        #expect(reasons == [
            "\(live) withdrawn 截至 2026-07-15 预警条件不再成立：tax.taxpayer/\(live) 已更正",
            "\(midWait) withdrawn 截至 2026-07-15 预警条件不再成立（依据的记录已超出规则的时间窗口，或新数据改变了统计结果）",
            "\(endingWait) withdrawn 截至 2026-07-15 预警条件不再成立（依据的记录已超出规则的时间窗口，或新数据改变了统计结果）",
        ].sorted())
    }
}

extension EngineIntegrationTests {
    /// While changes flow, the industries are judged at most every `industryInterval`: a batch
    /// right after a judgement records its enterprises' standings only, and their divisions are
    /// judged once the interval has passed — by an idle stream's empty batch (`hasPendingWork`).
    @Test func industriesAreJudgedAtMostEverySecondWhileChangesFlow() async throws {
        let (catalog, program, store, features, pool) = try await Stack.stores("industrypace")
        defer { pool.cancel() }
        let processor = BatchProcessor(catalog: catalog, program: program, features: features, store: store)
        var offset: Int64 = 0
        func process(_ messages: [SimulatedMessage]) async throws -> BatchReport {
            let batch = messages.map { m in
                offset += 1
                return InboundMessage(topic: m.topic, partition: 0, offset: offset, key: m.key, value: m.value)
            }
            return try await processor.process(batch, caughtUp: true)
        }
        let june = Month(year: 2026, month: 6)
        // The first batch ends the start's wait: judged at once (C33 and F51).
        let first = try await process(Array(Self.registrations[0..<2]) + [Self.e1, Self.e2].map { Script.taxPayment($0, june, amount: 900) })
        #expect(first.industriesEvaluated == 2)
        // Live right after it: I65's standing is recorded, its judgement waits.
        let second = try await process([Self.registrations[2], Script.taxPayment(Self.e3, june, amount: 700)])
        #expect(second.entitiesEvaluated == 1)
        #expect(second.industriesEvaluated == 0)
        #expect(second.industriesWaiting)
        #expect(await processor.hasPendingWork(caughtUp: true) == false)
        try await Task.sleep(for: BatchProcessor.industryInterval + .milliseconds(100))
        #expect(await processor.hasPendingWork(caughtUp: true))
        let idle = try await process([])
        #expect(idle.industriesEvaluated == 1)
        #expect(!idle.industriesWaiting)
        #expect(await processor.hasPendingWork(caughtUp: true) == false)
    }
}
