import CreditWatchCore
import DataHealth
import DataHealthStore
import Logging
import RuleLanguage
import Simulator
import Synchronization
import Testing

@testable import creditwatch

extension EngineIntegrationTests {
    /// A city whose counts are known by construction: three enterprises paying taxes each month,
    /// water records carrying their USCC, known only by account or only by name, or by nothing;
    /// a malformed water record; and a court feed that stopped in March.
    @Test func dataHealthCountsAreExactOnAStaleFeedAndOnRecordsWithoutKeys() async throws {
        let e1 = Script.uscc("91430602MA4DH0001"), e2 = Script.uscc("91430602MA4DH0002"), e3 = Script.uscc("91430602MA4DH0003")
        let months = (0..<7).map { Month(year: 2025, month: 1) + $0 }
        var messages = [
            Script.registration(e1, name: "邵阳市甲机械有限公司", industry: "C3411"),
            Script.registration(e2, name: "邵阳市乙纺织有限公司", industry: "C1711"),
            Script.registration(e3, name: "邵阳市丙食品有限公司", industry: "C1311"),
        ]
        // Tax: nobody paid for May (a month the feed never delivered is no one's gap); e2 missed
        // June, e3 February and March.
        let unpaid = [e1: [5], e2: [5, 6], e3: [2, 3, 5]]
        for uscc in [e1, e2, e3] {
            messages += months.filter { !unpaid[uscc]!.contains($0.month) }.map { Script.taxPayment(uscc, $0, amount: 10_000) }
        }
        // e1 carries its USCC except in July, under a name no registration bears (so it is linked
        // by its account, whichever arrives first), and sent nothing for April.
        for month in months where month != Month(year: 2025, month: 4) {
            let july = month == months.last
            messages.append(Script.waterUsage(july ? nil : e1, account: "W-1", customer: july ? "甲机械厂" : "邵阳市甲机械有限公司", month, volume: 100))
        }
        // e2's account never carried a USCC: linked by its registered name.
        messages += months.map { Script.waterUsage(nil, account: "W-2", customer: "邵阳市乙纺织有限公司", $0, volume: 80) }
        // Nobody of that name: stays unlinked.
        messages.append(Script.waterUsage(nil, account: "W-9", customer: "无此企业", months.last!, volume: 5))
        // A volume the water company could not read.
        messages.append(Script.message(
            "water.usage", key: ["id": .string("WU-BAD")],
            after: ["id": .string("WU-BAD"), "account_no": .string("W-1"), "customer_name": .string("邵阳市甲机械有限公司"),
                    "uscc": .string(e1), "period": .period(months[2]), "volume_m3": .string("n/a"), "amount": .number(1)],
            ts: Script.ms(months[2].lastDay)))
        // The court's feed: one case in March, then silence.
        let filed = Day(year: 2025, month: 3, day: 1)!
        messages.append(Script.message(
            "court.enforcement", key: ["case_no": .string("(2025)湘05执1号")],
            after: ["case_no": .string("(2025)湘05执1号"), "party_type": .string("enterprise"), "uscc": .string(e3), "id_number": .null,
                    "name": .string("邵阳市丙食品有限公司"), "court": .string("邵阳市中级人民法院"), "filed_date": .date(filed),
                    "amount": .number(50_000), "closed_date": .null],
            ts: Script.ms(filed)))

        var engine = try await Engine.start("datahealth")
        try await engine.send(messages)
        let catalog = try ProjectFiles.catalog(at: engine.settings.topicsPath)
        let figures = try PostgresFeedFigures(configuration: engine.settings.postgres, catalog: catalog, logger: Logger(label: "test"))
        let pool = Task { await figures.run() }
        defer { pool.cancel() }
        let monitor = DataHealthMonitor(source: figures, catalog: catalog, interval: .zero, logger: Logger(label: "test"))
        let health = try await monitor.current()

        // The city's clock: the latest tax payment, 15 July.
        #expect(health.asOf == Day(year: 2025, month: 7, day: 15))
        let water = try #require(health.feed("water.usage"))
        #expect(water.fresh && water.silentDays == 0)
        #expect(water.figures.records == 14)
        #expect([water.figures.byKey, water.figures.byAccount, water.figures.byName, water.figures.unrecorded, water.figures.unlinked] == [5, 1, 7, 0, 1])
        #expect(water.keyCoverage == 5.0 / 14.0)
        #expect(water.figures.quarantined == 1)
        #expect(water.figures.quarantineReasons == [ReasonCount(reason: "field 'volume_m3': '…' is not a decimal", count: 1)])
        #expect(water.figures.continuity == Continuity(enterprises: 2, enterprisesWithGaps: 1, missingMonths: 1))
        #expect(water.months.suffix(7).map(\.records) == [2, 2, 2, 1, 2, 2, 3])
        #expect(water.figures.unlinkedOldestSince != nil)

        let court = try #require(health.feed("court.enforcement"))
        #expect(court.figures.records == 1 && court.figures.latestDay == filed)
        #expect(!court.fresh)
        #expect(court.silentDays == 136)  // 1 March to 15 July
        #expect(court.staleDays == 129)  // beyond its 7 days
        #expect(court.figures.continuity == nil)  // not a monthly feed

        let tax = try #require(health.feed("tax.payment"))
        #expect(tax.fresh && tax.figures.records == 15 && tax.keyCoverage == 1)
        #expect(tax.figures.continuity == Continuity(enterprises: 3, enterprisesWithGaps: 2, missingMonths: 3))
        #expect(health.feed("court.dishonest")?.figures.records == 0)

        // The registrations are dated 2015 (their update timestamps): that feed is stale too.
        #expect(health.feeds.filter(\.fresh).map(\.topic) == ["tax.payment", "water.usage"])
        #expect(health.freshShare == 2.0 / Double(catalog.topics.count))
        #expect(health.records == 3 + 15 + 14 + 1)
        #expect(health.enterprises == 3)
        #expect(health.quarantined == 1)
        try await engine.stop()
    }
}

extension EngineIntegrationTests {
    /// The simulated city's data health against what its messages say, decoded independently: per
    /// feed the current records, those that carried their key, the quarantined messages and the
    /// latest business date; and a department that stopped sending six months before the end.
    @Test func dataHealthOfTheSimulatedCityMatchesItsMessages() async throws {
        var city = CityConfiguration()
        city.enterprises = 80
        city.persons = 30
        city.seed = 5
        let stop = city.end - 6
        city.stoppedFeeds = [.trafficVehicle: stop]
        let messages = CitySimulator(configuration: city).all()
        let catalog = try ProjectFiles.catalog(at: "topics")

        struct Expected { var records = 0, keyed = 0, quarantined = 0, latest: Day? }
        let decoder = ChangeDecoder(catalog: catalog)
        var current: [String: Change] = [:]
        var expected: [String: Expected] = [:]
        for m in messages {
            switch decoder.decode(topic: m.topic, key: m.key, value: m.value) {
            case .rejected: expected[m.topic, default: Expected()].quarantined += 1
            case .tombstone: break
            case .change(let change):
                let id = "\(change.topic)/\(change.key)"
                if let known = current[id], known.version > change.version || (known.version == change.version && known.operation == .delete) { continue }
                current[id] = change
            }
        }
        for change in current.values {
            var e = expected[change.topic, default: Expected()]
            if e.latest.map({ change.eventDay > $0 }) ?? true { e.latest = change.eventDay }
            if change.operation != .delete {
                e.records += 1
                switch change.entity {
                case .enterprise, .person: e.keyed += 1
                case .unlinked: break
                }
            }
            expected[change.topic] = e
        }
        #expect((expected["water.usage"]?.records ?? 0) > (expected["water.usage"]?.keyed ?? 0), "the city has water records without a USCC")

        let engine = try await Engine.start("datahealth_city", backlog: messages)
        try await engine.caughtUp(timeout: .seconds(300))
        let figures = try PostgresFeedFigures(configuration: engine.settings.postgres, catalog: catalog, logger: Logger(label: "test"))
        let pool = Task { await figures.run() }
        defer { pool.cancel() }
        let health = try await DataHealthMonitor(source: figures, catalog: catalog, interval: .zero, logger: Logger(label: "test")).current()

        for feed in health.feeds {
            let e = expected[feed.topic] ?? Expected()
            #expect(feed.figures.records == e.records, "\(feed.topic): records")
            #expect(feed.figures.byKey == e.keyed, "\(feed.topic): records that carried their key")
            #expect(feed.figures.byAccount + feed.figures.byName + feed.figures.unlinked == e.records - e.keyed, "\(feed.topic): the others")
            #expect(feed.figures.unrecorded == 0, "\(feed.topic)")
            #expect(feed.figures.quarantined == e.quarantined, "\(feed.topic): quarantined")
            #expect(feed.figures.latestDay == e.latest, "\(feed.topic): latest business date")
        }
        let vehicles = try #require(health.feed("traffic.vehicle"))
        let lastDelivery = try #require(expected["traffic.vehicle"]?.latest)
        #expect(lastDelivery <= stop.lastDay)
        let asOf = try #require(health.asOf)
        #expect(!vehicles.fresh)
        #expect(vehicles.silentDays == asOf.value - lastDelivery.value)
        #expect(vehicles.staleDays == asOf.value - lastDelivery.value - 30)  // traffic.vehicle: max_silence_days 30
        #expect(health.feed("water.usage")?.fresh == true)
        try await engine.stop()
    }
}

/// Figures that take `delay` to count, and how often they were counted.
private final class SlowFigures: FeedFiguresSource {
    let delay: Duration
    private let counted = Mutex(0)
    init(delay: Duration) { self.delay = delay }
    var calls: Int { counted.withLock { $0 } }
    func figures() async throws -> CityFigures {
        try await Task.sleep(for: delay)
        counted.withLock { $0 += 1 }
        return CityFigures(feeds: [], enterprises: 0, persons: 0, computedAt: "")
    }
}

/// A count that takes long spaces the next ones out: within twenty times its duration a read gets
/// the count there is, however long ago the interval passed.
@Test func aSlowDataHealthCountSpacesOutTheNextOnes() async throws {
    #expect(DataHealthMonitor.spacing(interval: .seconds(60), lastCountTook: nil) == .seconds(60))
    #expect(DataHealthMonitor.spacing(interval: .seconds(60), lastCountTook: .milliseconds(500)) == .seconds(60))
    #expect(DataHealthMonitor.spacing(interval: .seconds(60), lastCountTook: .seconds(5)) == .seconds(100))
    #expect(DataHealthMonitor.spacing(interval: .zero, lastCountTook: .seconds(5)) == .zero, "tests: every read counts")

    let source = SlowFigures(delay: .milliseconds(200))
    let monitor = DataHealthMonitor(
        source: source, catalog: try ProjectFiles.catalog(at: "topics"), interval: .milliseconds(50), logger: Logger(label: "test"))
    _ = try await monitor.current()
    let counted = ContinuousClock.now
    let spacing = await monitor.spacing
    #expect(spacing >= .seconds(4), "\(spacing)")
    try await Task.sleep(for: .milliseconds(300))
    _ = try await monitor.current()
    // Past the interval; within the spacing unless the machine stalled for seconds.
    if ContinuousClock.now - counted < spacing {
        #expect(source.calls == 1, "counted again 300 ms later: the interval is 50 ms, the count took 200 ms")
    }
}
