import CreditWatchCore
import Foundation
import Logging
import RuleLanguage
import Testing

@testable import RedisFeatures
@testable import creditwatch

/// The ledger cache's bookkeeping (no servers: it is a value).
@Suite struct LedgerCacheTests {
    static func ledgers(_ count: Int, _ tag: String) -> LedgerCache.Ledgers {
        ["tax.payment": (0..<count).map { FactRecord(topic: "tax.payment", key: "\(tag)\($0)", eventDay: Day(20_000), fields: [:]) }]
    }

    static func entity(_ id: String) -> EntityKey { EntityKey(.enterprise, id) }

    @Test func theOldestEntitiesLeaveFirstWhenTheRecordsExceedTheCapacity() {
        let (a, b, c, d) = (Self.entity("a"), Self.entity("b"), Self.entity("c"), Self.entity("d"))
        var cache = LedgerCache(capacity: 10)
        cache.store(Self.ledgers(1, "a"), for: a)
        #expect(cache[a] == nil)  // not keeping reads (a backlog's evaluation)
        cache.keepsReads = true
        cache.store(Self.ledgers(4, "a"), for: a)
        cache.store(Self.ledgers(4, "b"), for: b)
        #expect(cache.records == 8)
        cache.store(Self.ledgers(4, "c"), for: c)
        #expect(cache[a] == nil)
        #expect(cache[b]?["tax.payment"]?.count == 4)
        #expect(cache[c]?["tax.payment"]?.count == 4)
        #expect(cache.records == 8)
        // Stored again: replaced, counted once.
        cache.store(Self.ledgers(2, "b"), for: b)
        #expect(cache.records == 6)
        // Larger than the whole cache: not kept; nor anything at capacity 0.
        cache.store(Self.ledgers(11, "d"), for: d)
        #expect(cache[d] == nil)
        var none = LedgerCache(capacity: 0)
        none.keepsReads = true
        none.store([:], for: a)
        #expect(none[a] == nil)
    }

    @Test func droppedEntitiesAreGoneAndTheirPlacesDoNotPileUp() {
        var cache = LedgerCache(capacity: 1_000_000)
        cache.keepsReads = true
        for round in 0..<20_000 {
            cache.store(Self.ledgers(1, "x"), for: Self.entity("k\(round % 50)"))
            cache.drop([Self.entity("k\((round + 25) % 50)")])
        }
        #expect(cache.records == 25)
        #expect(cache.places <= 2 * 25 + 1_024)
        #expect(cache[Self.entity("k49")]?["tax.payment"]?.map(\.key) == ["x0"])
        #expect(cache[Self.entity("k0")] == nil)
        cache.dropAll()
        #expect(cache.records == 0)
        #expect(cache[Self.entity("k49")] == nil)
    }

    /// A write takes what it updates out and puts it back, even while reads are not kept; entries
    /// read for another program's ledgers are not served.
    @Test func takenEntitiesComeBackAndAnotherProgramStartsEmpty() {
        let (a, b) = (Self.entity("a"), Self.entity("b"))
        var cache = LedgerCache(capacity: 100)
        cache.use(["tax.payment"])
        cache.keepsReads = true
        cache.store(Self.ledgers(3, "a"), for: a)
        cache.store(Self.ledgers(2, "b"), for: b)
        cache.keepsReads = false
        var taken = cache.take([a, Self.entity("z")])
        #expect(Array(taken.keys) == [a])
        #expect(cache[a] == nil)
        #expect(cache.records == 2)
        taken[a]?["tax.payment"]?.removeFirst()
        cache.putBack(taken)
        #expect(cache[a]?["tax.payment"]?.map(\.key) == ["a1", "a2"])
        #expect(cache.records == 4)
        #expect(!cache.keepsReads)
        cache.use(["tax.payment"])
        #expect(cache[b]?["tax.payment"]?.map(\.key) == ["b0", "b1"])
        cache.use(["tax.payment", "water.usage"])
        #expect(cache[a] == nil && cache[b] == nil)
        #expect(cache.records == 0)
    }
}

extension EngineIntegrationTests {
    /// A daemon's cached ledgers read as Redis holds them: after its own updates, deletes and
    /// forgetting, and after another process wrote and marked the store (its cache is dropped).
    @Test func cachedLedgersReadAsRedisHoldsThem() async throws {
        let (plan, redis, daemon, other) = try await Self.cachingAndNot("ledger_cache")
        let a = Self.windowsA
        let entity = EntityKey(.enterprise, a)
        let (may, june) = (Month(year: 2026, month: 5), Month(year: 2026, month: 6))
        func amounts() async throws -> [String: Value] {
            let records = try await daemon.records(of: [entity], plan: plan)[entity]?["tax.payment"] ?? []
            return Dictionary(uniqueKeysWithValues: records.map { ($0.key, $0.fields["amount"] ?? .null) })
        }
        let mine = FeatureSync(storeID: "store", sequence: 1, keeps: plan.description)

        try await daemon.apply([Self.update(Self.payment(a, "P1", may, amount: 10, version: 1), uscc: a, division: "C30")], plan: plan, marking: mine)
        #expect(try await daemon.featureSync() == mine)
        #expect(try await amounts() == ["P1": .number(10)])
        // Its own writes: an update, a new record, a delete.
        try await daemon.apply([
            Self.update(Self.payment(a, "P1", may, amount: 12.5, version: 2), uscc: a, division: "C30"),
            Self.update(Self.payment(a, "P2", june, amount: 3, version: 1), uscc: a, division: "C30"),
        ], plan: plan)
        #expect(try await amounts() == ["P1": .number(12.5), "P2": .number(3)])
        try await daemon.apply([Self.update(Self.payment(a, "P2", june, amount: 3, version: 2, delete: true), uscc: a, division: "C30")], plan: plan)
        #expect(try await amounts() == ["P1": .number(12.5)])
        // Forgotten by retention.
        try await daemon.forget([ExpiredRecords(entity: entity, topic: "tax.payment", keys: ["P1"], before: june.firstDay)])
        #expect(try await amounts() == [:])

        // Another process writes and marks: the daemon's next look at the marker drops what it read.
        try await daemon.apply([Self.update(Self.payment(a, "P3", june, amount: 1, version: 1), uscc: a, division: "C30")], plan: plan)
        #expect(try await amounts() == ["P3": .number(1)])
        try await other.apply(
            [Self.update(Self.payment(a, "P3", june, amount: 4, version: 2), uscc: a, division: "C30")], plan: plan,
            marking: FeatureSync(storeID: "store", sequence: 2, keeps: plan.description))
        #expect(try await amounts() == ["P3": .number(1)])  // not looked at the marker yet: what a cache is
        #expect(try await daemon.featureSync()?.sequence == 2)
        #expect(try await amounts() == ["P3": .number(4)])
        // A flush: no marker, nothing cached.
        #expect(try await redis.everyNode(["FLUSHDB"]).allSatisfy { $0 == .status("OK") })
        #expect(try await daemon.featureSync() == nil)
        #expect(try await amounts() == [:])
    }

    /// On an emptied Redis: the shipped plan, a daemon's feature windows keeping what they read
    /// (1 000 records), and another process's, without a cache.
    static func cachingAndNot(_ name: String) async throws -> (FeaturePlan, any RedisClient, FeatureWindows, FeatureWindows) {
        let settings = try Stack.settings(name)
        try await Stack.flushRedis(settings)
        let catalog = try ProjectFiles.catalog(at: settings.topicsPath)
        let plan = FeaturePlan(program: try ProjectFiles.program(at: settings.rulesPath, catalog: catalog), catalog: catalog)
        let redis = try await connectRedis(host: settings.redisHost, port: settings.redisPort)
        let daemon = try await FeatureWindows(connection: redis, catalog: catalog, logger: Logger(label: "test"), cachedRecords: 1_000)
        let other = try await FeatureWindows(connection: redis, catalog: catalog, logger: Logger(label: "test"))
        daemon.keepLedgersRead(true)
        return (plan, redis, daemon, other)
    }

    /// The daemon's own writes update the ledgers its cache holds in place: after every kind of
    /// write (an update, an older version and a re-delivery skipped, a new record, a delete, a new
    /// version of a history topic) it reads exactly what a reader without a cache reads from Redis.
    @Test func ownWritesUpdateHeldLedgersAsRedisHoldsThem() async throws {
        let (plan, _, daemon, reader) = try await Self.cachingAndNot("ledger_in_place")
        let a = Self.windowsA
        let entity = EntityKey(.enterprise, a)
        let (may, june) = (Month(year: 2026, month: 5), Month(year: 2026, month: 6))
        func arrears(_ id: String, amount: Double, version: Int64, delete: Bool = false) -> FeatureUpdate {
            Self.update(
                Change(
                    topic: "tax.arrears", key: id, operation: delete ? .delete : .create, version: version,
                    fields: ["amount": .number(amount), "announced_date": .date(may.firstDay), "tax_type": .string("增值税")],
                    eventDay: may.firstDay, entity: .enterprise(try! USCC(validating: a))),
                uscc: a, division: nil)
        }
        func registration(_ representative: String, version: Int64) -> FeatureUpdate {
            Self.update(
                Change(
                    topic: "market.enterprise", key: a, operation: .update, version: version,
                    fields: ["legal_rep_name": .string(representative), "status": .string("存续"), "registered_capital": .number(5_000_000.5)],
                    eventDay: Day(may.firstDay.value + Int(version)), entity: .enterprise(try! USCC(validating: a))),
                uscc: a, division: nil)
        }
        func same() async throws -> Bool {
            let (cached, fresh) = (try await daemon.records(of: [entity], plan: plan), try await reader.records(of: [entity], plan: plan))
            return cached == fresh
        }

        try await daemon.apply([
            Self.update(Self.payment(a, "P1", may, amount: 10, version: 1), uscc: a, division: "C30"),
            Self.update(Self.payment(a, "P2", june, amount: 12.345, version: 1), uscc: a, division: "C30"),
            arrears("A1", amount: 300, version: 1), registration("张三", version: 1),
        ], plan: plan)
        #expect(try await same())  // read once: held from now on
        try await daemon.apply([
            Self.update(Self.payment(a, "P1", may, amount: 11, version: 2), uscc: a, division: "C30"),
            Self.update(Self.payment(a, "P1", may, amount: 99, version: 1), uscc: a, division: "C30"),  // older: skipped
            Self.update(Self.payment(a, "P2", june, amount: 12.345, version: 1), uscc: a, division: "C30"),  // re-delivered
            Self.update(Self.payment(a, "P3", june, amount: 0.1, version: 1), uscc: a, division: "C30"),
            arrears("A1", amount: 300, version: 2, delete: true), arrears("A2", amount: 7.77, version: 1),
            registration("李四", version: 2),
        ], plan: plan)
        #expect(try await same())
        let read = try await daemon.records(of: [entity], plan: plan)[entity] ?? [:]
        #expect(read["tax.payment"]?.map(\.key) == ["P1", "P2", "P3"])
        #expect(read["tax.payment"]?.first?.fields["amount"] == .number(11))
        #expect(read["tax.arrears"]?.map(\.key) == ["A2"])
        #expect(read["market.enterprise#history"]?.map { $0.fields["legal_rep_name"] } == [.string("张三"), .string("李四")])

        // In place, not read again: a write of another process that did not mark the store stays
        // unseen beside the daemon's own (what a cache is) until the daemon looks at the marker.
        try await reader.apply([Self.update(Self.payment(a, "P4", june, amount: 4, version: 1), uscc: a, division: "C30")], plan: plan)
        try await daemon.apply([Self.update(Self.payment(a, "P1", may, amount: 13, version: 3), uscc: a, division: "C30")], plan: plan)
        let held = try await daemon.records(of: [entity], plan: plan)[entity]?["tax.payment"] ?? []
        #expect(held.map(\.key) == ["P1", "P2", "P3"])
        #expect(held.first?.fields["amount"] == .number(13))
        #expect(try await daemon.featureSync() == nil)
        #expect(try await same())
    }

    /// A Redis that lost its scripts (restarted) refuses the script calls of a batch but takes its
    /// HSETNXs: only the refused calls run again, so the records new to a ledger count as written
    /// and the held ledgers take them (run whole again, the HSETNXs answered "there already").
    @Test func heldLedgersTakeTheWritesOfABatchWhoseScriptsRedisForgot() async throws {
        let (plan, redis, daemon, reader) = try await Self.cachingAndNot("ledger_noscript")
        let a = Self.windowsA
        let entity = EntityKey(.enterprise, a)
        let may = Month(year: 2026, month: 5)
        func arrears(_ id: String, amount: Double, version: Int64) -> FeatureUpdate {
            Self.update(
                Change(
                    topic: "tax.arrears", key: id, operation: .create, version: version,
                    fields: ["amount": .number(amount), "announced_date": .date(may.firstDay), "tax_type": .string("增值税")],
                    eventDay: may.firstDay, entity: .enterprise(try! USCC(validating: a))),
                uscc: a, division: nil)
        }
        try await daemon.apply([
            Self.update(Self.payment(a, "P1", may, amount: 10, version: 1), uscc: a, division: "C30"), arrears("A1", amount: 300, version: 1),
        ], plan: plan)
        _ = try await daemon.records(of: [entity], plan: plan)  // held from now on
        #expect(try await redis.everyNode(["SCRIPT", "FLUSH"]).allSatisfy { $0 == .status("OK") })
        try await daemon.apply([
            Self.update(Self.payment(a, "P2", may, amount: 12, version: 1), uscc: a, division: "C30"),
            arrears("A1", amount: 400, version: 2), arrears("A2", amount: 7.77, version: 1),
        ], plan: plan)
        let (cached, fresh) = (try await daemon.records(of: [entity], plan: plan), try await reader.records(of: [entity], plan: plan))
        #expect(cached == fresh)
        #expect(cached[entity]?["tax.arrears"]?.map(\.key) == ["A1", "A2"])
        #expect(cached[entity]?["tax.arrears"]?.first?.fields["amount"] == .number(400))
        #expect(cached[entity]?["tax.payment"]?.map(\.key) == ["P1", "P2"])
    }
}
