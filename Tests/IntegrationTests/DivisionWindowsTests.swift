import CreditWatchCore
import Foundation
import Logging
import RuleLanguage
import Testing

@testable import RedisFeatures
@testable import creditwatch

/// A division's windows are pushed from its enterprises' own monthly sums: exact under updates,
/// deletes, zero amounts, re-deliveries, a push lost in a crash and moves between divisions, with
/// one ledger entry per enterprise and month, on one Redis and on the cluster.
extension EngineIntegrationTests {
    static let windowsA = Script.uscc("91430602MA4W00001"), windowsB = Script.uscc("91430602MA4W00002")
    /// `tax.payment.amount` as ledger entries and window fields name it: its catalog position.
    static let amount = "5"

    static func payment(_ uscc: String, _ id: String, _ month: Month, amount: Double, version: Int64, delete: Bool = false) -> Change {
        Change(
            topic: "tax.payment", key: id, operation: delete ? .delete : .create, version: version,
            fields: ["amount": .number(amount), "period": .string(month.description)], eventDay: month.firstDay,
            entity: .enterprise(try! USCC(validating: uscc)))
    }

    static func update(_ change: Change, uscc: String, division: String?) -> FeatureUpdate {
        FeatureUpdate(change: change, entity: EntityKey(.enterprise, uscc), division: division)
    }

    /// The division's monthly sums of `tax.payment.amount` and counts, and its ledger entries.
    static func division(_ features: FeatureWindows, _ redis: any RedisClient, _ division: String, months: [Month]) async throws
        -> (sums: [String: [Month: Double]], ledger: Int)
    {
        let data = try await features.industries([division], standings: [], series: ["tax.payment.amount"], leaders: 0, asOf: [:])
        var sums = data.first?.monthlySums ?? [:]
        var ledger = 0
        for month in months {
            if let count = try await redis.command("HGET", "cw:ind:{\(division)}:win:tax.payment", "\(month)|#").text.flatMap(Double.init), count != 0 {
                sums["tax.payment.#", default: [:]][month] = count
            }
            ledger += Int(try await redis.command("HLEN", "cw:ind:{\(division)}:led:tax.payment:\(month)").integer ?? -1)
        }
        return (sums, ledger)
    }

    @Test(arguments: [false, true]) func divisionWindowsFollowTheirEnterprisesExactly(cluster: Bool) async throws {
        let settings = try Stack.settings("division_windows")
        let port = cluster ? try #require(Stack.redisClusterPort, "the cluster of ops/servers.sh") : settings.redisPort
        let redis = try await connectRedis(host: settings.redisHost, port: port)
        #expect(try await redis.everyNode(["FLUSHDB"]).allSatisfy { $0 == .status("OK") })
        let catalog = try ProjectFiles.catalog(at: settings.topicsPath)
        let plan = FeaturePlan(program: try ProjectFiles.program(at: settings.rulesPath, catalog: catalog), catalog: catalog)
        let features = try await FeatureWindows(connection: redis, catalog: catalog, logger: Logger(label: "test"))
        let (a, b) = (Self.windowsA, Self.windowsB)
        let (may, june) = (Month(year: 2026, month: 5), Month(year: 2026, month: 6))

        // Three payments of A in May (one of them zero), one of B; one of A in June.
        try await features.apply([
            Self.update(Self.payment(a, "P1", may, amount: 100.25, version: 1), uscc: a, division: "C30"),
            Self.update(Self.payment(a, "P2", may, amount: 0, version: 1), uscc: a, division: "C30"),
            Self.update(Self.payment(a, "P3", may, amount: 50, version: 1), uscc: a, division: "C30"),
            Self.update(Self.payment(b, "Q1", may, amount: 7, version: 1), uscc: b, division: "C30"),
            Self.update(Self.payment(a, "P4", june, amount: 1, version: 1), uscc: a, division: "C30"),
        ], plan: plan)
        var c30 = try await Self.division(features, redis, "C30", months: [may, june])
        #expect(c30.sums["tax.payment.amount"] == [may: 157.25, june: 1])
        #expect(c30.sums["tax.payment.#"] == [may: 4, june: 1])
        #expect(c30.ledger == 3)  // A's May, B's May, A's June: one entry per enterprise and month

        // The zero payment updated and deleted (Redis refuses HINCRBY by "-0"), P1 corrected, a
        // re-delivery of P3 and an older version of P1: exact.
        try await features.apply([
            Self.update(Self.payment(a, "P2", may, amount: 0, version: 2), uscc: a, division: "C30"),
            Self.update(Self.payment(a, "P1", may, amount: 200, version: 3), uscc: a, division: "C30"),
            Self.update(Self.payment(a, "P3", may, amount: 50, version: 1), uscc: a, division: "C30"),
            Self.update(Self.payment(a, "P1", may, amount: 999, version: 2), uscc: a, division: "C30"),
            Self.update(Self.payment(a, "P2", may, amount: 0, version: 4, delete: true), uscc: a, division: "C30"),
        ], plan: plan)
        c30 = try await Self.division(features, redis, "C30", months: [may, june])
        #expect(c30.sums["tax.payment.amount"] == [may: 257, june: 1])
        #expect(c30.sums["tax.payment.#"] == [may: 3, june: 1])

        // A payment whose push was lost (applied before the enterprise had a division, as after
        // a crash between the two steps) reaches the division when it is delivered again.
        try await features.apply([Self.update(Self.payment(b, "Q2", june, amount: 3, version: 1), uscc: b, division: nil)], plan: plan)
        #expect(try await Self.division(features, redis, "C30", months: [may, june]).sums["tax.payment.amount"] == [may: 257, june: 1])
        try await features.apply([Self.update(Self.payment(b, "Q2", june, amount: 3, version: 1), uscc: b, division: "C30")], plan: plan)
        #expect(try await Self.division(features, redis, "C30", months: [may, june]).sums["tax.payment.amount"] == [may: 257, june: 4])

        // A moves to C31: it takes all of its months along, twice over changes nothing more; B stays.
        for _ in 0..<2 { try await features.move([DivisionMove(uscc: a, from: "C30", to: "C31")], plan: plan) }
        c30 = try await Self.division(features, redis, "C30", months: [may, june])
        #expect(c30.sums["tax.payment.amount"] == [may: 7, june: 3])
        #expect(c30.sums["tax.payment.#"] == [may: 1, june: 1])
        #expect(c30.ledger == 2)
        let c31 = try await Self.division(features, redis, "C31", months: [may, june])
        #expect(c31.sums["tax.payment.amount"] == [may: 250, june: 1])
        #expect(c31.sums["tax.payment.#"] == [may: 2, june: 1])
        #expect(c31.ledger == 2)
    }

    /// A ledger's records applied by one script call each end exactly as a batch's runs applied
    /// together (one call per ledger): the same ledgers, windows, division windows and their
    /// ledgers, byte for byte, over random batches of updates, moves between months, deletes,
    /// re-deliveries, older versions, zero and missing amounts, sums past 2^53 hundredths (Lua's
    /// doubles are not exact there) and divisions changing within a batch. Checked independently
    /// too: each window holds the counts and sums of its ledger's live entries, and (one division
    /// throughout) the division's ledger holds each enterprise's months as its window does.
    @Test(arguments: [false, true]) func runsOfALedgerEndAsOneCallPerRecord(cluster: Bool) async throws {
        let settings = try Stack.settings("ledger_runs")
        let port = cluster ? try #require(Stack.redisClusterPort, "the cluster of ops/servers.sh") : settings.redisPort
        let redis = try await connectRedis(host: settings.redisHost, port: port)
        let catalog = try ProjectFiles.catalog(at: settings.topicsPath)
        let plan = FeaturePlan(program: try ProjectFiles.program(at: settings.rulesPath, catalog: catalog), catalog: catalog)
        let enterprises = [Self.windowsA, Self.windowsB]
        let months = [Month(year: 2026, month: 3), Month(year: 2026, month: 4), Month(year: 2026, month: 5)]
        let amounts: [Value] = [.number(0), .number(12.5), .number(-3), .number(0.07), .number(90_000_000_000_000), .number(85_000_000_000_000), .null]
        // Knuth's MMIX linear congruence: the same batches on every run.
        var state: UInt64 = 7
        func pick(_ n: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(n))
        }
        // A third of the records are arrears: a ledger without a window, whose new members an HSETNX
        // writes and the rest the script, after (the same member new, then newer, older, or the
        // same version with other content, in one batch).
        func batch() -> [FeatureUpdate] {
            (0..<40).map { _ in
                let uscc = enterprises[pick(2)]
                let month = months[pick(months.count)]
                let arrears = pick(3) == 0
                let fields: [String: Value] =
                    arrears
                    ? ["amount": amounts[pick(amounts.count)], "announced_date": .date(month.firstDay), "tax_type": .string("增值税")]
                    : ["amount": amounts[pick(amounts.count)], "period": .string(month.description)]
                let change = Change(
                    topic: arrears ? "tax.arrears" : "tax.payment", key: "P\(pick(5))", operation: pick(6) == 0 ? .delete : .update,
                    version: Int64(pick(8)), fields: fields, eventDay: month.firstDay, entity: .enterprise(try! USCC(validating: uscc)))
                return Self.update(change, uscc: uscc, division: [nil, "C30", "C30", "C30", "C31"][pick(5)])
            }
        }
        /// Every key the stores hold, as text.
        func contents() async throws -> [String: [String]] {
            var all: [String: [String]] = [:]
            for node in redis.nodeConnections {
                let keys = try await node.command("KEYS", "cw:*").array?.compactMap(\.text) ?? []
                for key in keys {
                    let type = try await node.command("TYPE", key).text ?? ""
                    let items = try await node.command(type == "hash" ? "HGETALL" : "SMEMBERS", key).array?.compactMap(\.text) ?? []
                    guard type == "hash" else {
                        all[key] = items.sorted()
                        continue
                    }
                    // A hash as its fields in order, each followed by its value.
                    let pairs: [(field: String, value: String)] = stride(from: 0, to: items.count, by: 2).map { (items[$0], items[$0 + 1]) }
                    all[key] = pairs.sorted { $0.field < $1.field }.flatMap { [$0.field, $0.value] }
                }
            }
            return all
        }
        func text(_ fields: [String], _ key: String) -> String? { fields.firstIndex(of: key).map { fields[$0 + 1] } }
        /// Month → (count, sum of amount hundredths) of a ledger's live entries, read from the entries.
        func live(_ entries: [String]) -> [Int: (count: Int, sum: Int)] {
            var months: [Int: (count: Int, sum: Int)] = [:]
            for entry in entries.enumerated().filter({ $0.offset % 2 == 1 }).map(\.element) {
                // version, contribution ("-": deleted), event day, fields
                let parts = entry.split(separator: "\t", omittingEmptySubsequences: false)
                guard parts[1] != "-", let day = Int(parts[2], radix: 36) else { continue }
                let bucket = Day(day).month.index
                let sum = parts[1].split(separator: ",").compactMap { $0.hasPrefix("\(Self.amount)=") ? Int($0.dropFirst(Self.amount.count + 1)) : nil }.reduce(0, +)
                months[bucket, default: (0, 0)].count += 1
                months[bucket, default: (0, 0)].sum += sum
            }
            return months
        }
        for round in 0..<6 {
            let oneDivision = round < 3
            // Sums past 2^53 hundredths in A's first month, odd: a double would round them.
            let large = [90_000_000_000_000, 85_000_000_000_000, 0.07].enumerated().map { n, amount in
                Self.update(Self.payment(Self.windowsA, "L\(n)", months[0], amount: amount, version: 100), uscc: Self.windowsA, division: "C30")
            }
            let batches = [large + batch(), batch()].map { updates in
                oneDivision ? updates.map { Self.update($0.change, uscc: $0.entity.id, division: "C30") } : updates
            }
            var ends: [[String: [String]]] = []
            for oneCallPerRecord in [false, true] {
                #expect(try await redis.everyNode(["FLUSHDB"]).allSatisfy { $0 == .status("OK") })
                let features = try await FeatureWindows(connection: redis, catalog: catalog, logger: Logger(label: "test"))
                for updates in batches {
                    if oneCallPerRecord {
                        for update in updates { try await features.apply([update], plan: plan) }
                    } else {
                        #expect(FeatureWindows.ledgerRuns(updates).count < updates.count)
                        try await features.apply(updates, plan: plan)
                    }
                }
                ends.append(try await contents())
            }
            #expect(ends[0] == ends[1])
            for uscc in enterprises {
                let ledger = ends[0]["cw:{\(uscc)}:rec:tax.payment"] ?? []
                let window = ends[0]["cw:{\(uscc)}:win:tax.payment"].map { pairs in
                    Dictionary(uniqueKeysWithValues: stride(from: 0, to: pairs.count, by: 2).map { (pairs[$0], pairs[$0 + 1]) })
                } ?? [:]
                let expected = live(ledger)
                for month in months {
                    let (count, sum) = expected[month.index] ?? (0, 0)
                    let held = window.filter { $0.key.hasPrefix("\(month)|") }
                    if count == 0 {
                        #expect(held.isEmpty)
                    } else {
                        #expect(held["\(month)|#"] == "\(count)")
                        #expect(Int(held["\(month)|\(Self.amount)"] ?? "0") == sum)
                    }
                    guard oneDivision else { continue }
                    let pushed = text(ends[0]["cw:ind:{C30}:led:tax.payment:\(month)"] ?? [], uscc)
                    #expect(pushed == (count == 0 ? nil : "#=\(count)" + (held["\(month)|\(Self.amount)"].map { ",\(Self.amount)=\($0)" } ?? "")))
                }
            }
        }
    }

    /// The marker is on every master: a flush of any one of them (its ledgers gone) is seen.
    @Test func aFlushOfOneClusterMasterLosesTheMarker() async throws {
        let settings = try Stack.settings("cluster_marker")
        let port = try #require(Stack.redisClusterPort, "the cluster of ops/servers.sh")
        let cluster = try #require(try await connectRedis(host: settings.redisHost, port: port) as? RedisCluster)
        #expect(try await cluster.everyNode(["FLUSHDB"]).allSatisfy { $0 == .status("OK") })
        let catalog = try ProjectFiles.catalog(at: settings.topicsPath)
        let features = try await FeatureWindows(connection: cluster, catalog: catalog, logger: Logger(label: "test"))
        try await features.markSynced(FeatureSync(storeID: "s", sequence: 9, keeps: "k"))
        #expect(try await features.featureSync() == FeatureSync(storeID: "s", sequence: 9, keeps: "k"))
        for node in cluster.nodes {
            #expect(try await node.command("DBSIZE").integer == 1)
        }
        _ = try await cluster.nodes[1].command("FLUSHDB")
        #expect(try await features.featureSync() == nil)
    }

    /// A store written in a layout before this one (layout 1's marker has none; `4/`: the last
    /// layout under this very catalog), or under a catalog that declares other fields (entries name
    /// fields by position), is cleared at start, so that it is rebuilt rather than read wrongly.
    @Test(arguments: [nil, "2", "3/0123456789abcdef", "4/"]) func aStoreInAnotherLayoutIsClearedAtStart(layout: String?) async throws {
        let settings = try Stack.settings("older_layout")
        try await Stack.flushRedis(settings)
        let redis = try await connectRedis(host: settings.redisHost, port: settings.redisPort)
        let catalog = try ProjectFiles.catalog(at: settings.topicsPath)
        let layout = layout.map { $0.hasSuffix("/") ? $0 + FieldNames(catalog: catalog).fingerprint : $0 }
        _ = try await redis.pipeline([
            ["HSET", "cw:meta", "store", "s", "sequence", "4"] + (layout.map { ["layout", $0] } ?? []),
            ["HSET", "cw:ind:{C30}:rec:tax.payment", "E|P", "1\t0\t2026-05\tamount=1\t"],
            ["SET", "other:key", "kept"],
        ])
        let features = try await FeatureWindows(connection: redis, catalog: catalog, logger: Logger(label: "test"))
        #expect(try await features.featureSync() == nil)
        #expect(try await redis.command("DBSIZE").integer == 1)
        #expect(try await redis.command("GET", "other:key").text == "kept")
        // Marked by this process, it stays at the next start.
        try await features.markSynced(FeatureSync(storeID: "s", sequence: 5, keeps: "k"))
        let again = try await FeatureWindows(connection: redis, catalog: catalog, logger: Logger(label: "test"))
        #expect(try await again.featureSync() == FeatureSync(storeID: "s", sequence: 5, keeps: "k"))
    }

    /// A ledger entry keeps a version and its event day in base 36, its contribution and fields by
    /// catalog position, integers without a fraction, `YYYY-MM` strings as months, and not the
    /// amounts its contribution gives back exactly; what is read back is what was written,
    /// whatever the version's sign and the values' shape.
    @Test func ledgerEntriesAreCompactAndReadBackExactly() async throws {
        let (redis, plan, features) = try await Self.emptyStore("compact_ledger")
        let a = Self.windowsA
        let entity = EntityKey(.enterprise, a)
        func change(_ topic: String, _ key: String, version: Int64, day: Day, _ fields: [String: Value]) -> FeatureUpdate {
            Self.update(
                Change(topic: topic, key: key, operation: .create, version: version, fields: fields, eventDay: day, entity: .enterprise(try! USCC(validating: a))),
                uscc: a, division: "C30")
        }
        let november8 = Month(year: 2024, month: 11).firstDay + 7
        let period = Value.string("2024-10")
        try await features.apply([
            change("tax.payment", "P1", version: 1_730_715_711_955, day: november8, ["amount": .number(1664.48), "period": period, "name": .string("甲")]),
            change("tax.payment", "P2", version: 2, day: november8, ["amount": .number(0.125), "period": .string("a\tb\u{1E}c")]),
            change("tax.payment", "P3", version: -5, day: november8, ["amount": .number(-26), "period": period]),
            change("tax.payment", "P4", version: 3, day: november8, ["amount": .null, "period": .null]),
            change("hrss.insurance", "S1", version: 7, day: november8, ["arrears_amount": .null, "insured_count": .number(26)]),
        ], plan: plan)
        // Older versions change nothing (P3: -7 < -5, P2: 1 < 2); a newer one replaces (S1).
        try await features.apply([change("tax.payment", "P3", version: -7, day: november8, ["amount": .number(99), "period": period])], plan: plan)
        try await features.apply([change("tax.payment", "P2", version: 1, day: november8, ["amount": .number(98), "period": period])], plan: plan)
        try await features.apply([change("hrss.insurance", "S1", version: 8, day: november8, ["arrears_amount": .number(-0.0), "insured_count": .number(2.5)])], plan: plan)

        #expect(try await redis.command("HGET", "cw:{\(a)}:rec:tax.payment", "P1").text == "m32vg637\t5=166448\tfgj\t4\u{1F}miqx\u{1E}")
        #expect(try await redis.command("HGET", "cw:{\(a)}:rec:tax.payment", "P3").text == "-5\t5=-2600\tfgj\t4\u{1F}miqx\u{1E}")
        // Fields in the catalog's order: insured_count at position 4, arrears_amount at 5.
        #expect(try await redis.command("HGET", "cw:{\(a)}:rec:hrss.insurance", "S1").text == "8\t\tfgj\t4\u{1F}n2.5\u{1E}5\u{1F}n-0.0\u{1E}")

        let read = try #require(try await features.records(of: [entity], plan: plan)[entity])
        func fields(_ topic: String) -> [String: [String: Value]] {
            Dictionary(uniqueKeysWithValues: (read[topic] ?? []).map { ($0.key, $0.fields) })
        }
        #expect(fields("tax.payment") == [
            "P1": ["amount": .number(1664.48), "period": period],
            "P2": ["amount": .number(0.125), "period": .string("a\tb\u{1E}c")],
            "P3": ["amount": .number(-26), "period": period],
            "P4": ["amount": .null, "period": .null],
        ])
        #expect(fields("hrss.insurance") == ["S1": ["arrears_amount": .number(-0.0), "insured_count": .number(2.5)]])
        #expect(read["tax.payment"]?.allSatisfy { $0.eventDay == november8 } == true)
        // The window holds the hundredths: 166448 + 13 (0.125 rounded) − 2600, of four records.
        #expect(try await redis.command("HGET", "cw:{\(a)}:win:tax.payment", "2024-11|5").text == "163861")
        #expect(try await redis.command("HGET", "cw:{\(a)}:win:tax.payment", "2024-11|#").text == "4")
    }

    /// Forgetting deletes the listed ledger entries still dated before the day, not one written
    /// again since with a later day, and leaves the window sums as they were.
    @Test func forgottenRecordsLeaveTheLedgerButNotTheWindows() async throws {
        let (redis, plan, features) = try await Self.emptyStore("forget_ledger")
        let a = Self.windowsA
        let (january, february, december) = (Month(year: 2023, month: 1), Month(year: 2023, month: 2), Month(year: 2024, month: 12))
        try await features.apply([
            Self.update(Self.payment(a, "P1", december, amount: 5, version: 1), uscc: a, division: "C30"),
            Self.update(Self.payment(a, "P2", january, amount: 7, version: 1), uscc: a, division: "C30"),
            Self.update(Self.payment(a, "P3", february, amount: 11, version: 1), uscc: a, division: "C30"),
        ], plan: plan)
        let ledger = "cw:{\(a)}:rec:tax.payment"
        let expired = ExpiredRecords(entity: EntityKey(.enterprise, a), topic: "tax.payment", keys: ["P1", "P2", "P9"], before: Month(year: 2024, month: 1).firstDay)
        try await features.forget([expired])
        #expect(Set(try await redis.command("HKEYS", ledger).array?.compactMap(\.text) ?? []) == ["P1", "P3"])
        // P3 moves to December: a later forget that still lists it keeps it.
        try await features.apply([Self.update(Self.payment(a, "P3", december, amount: 11, version: 2), uscc: a, division: "C30")], plan: plan)
        try await features.forget([ExpiredRecords(entity: expired.entity, topic: "tax.payment", keys: ["P3"], before: expired.before)])
        #expect(Set(try await redis.command("HKEYS", ledger).array?.compactMap(\.text) ?? []) == ["P1", "P3"])
        let window = "cw:{\(a)}:win:tax.payment"
        #expect(try await redis.command("HGET", window, "2023-01|5").text == "700")
        #expect(try await redis.command("HGET", window, "2024-12|5").text == "1600")
        #expect(try await redis.command("HGET", window, "2023-02|#").text == nil)
    }

    /// Months no window reads any more are deleted: an enterprise's own sums with its forgotten
    /// records, a division's sums and ledgers when it is judged; later months stay exact.
    @Test func monthsNoWindowReadsAreDeleted() async throws {
        let (redis, plan, features) = try await Self.emptyStore("forget_months")
        let (a, b) = (Self.windowsA, Self.windowsB)
        let months = (0..<4).map { Month(year: 2024, month: 1) + $0 }
        try await features.apply(months.indices.flatMap { i in [
            Self.update(Self.payment(a, "A\(i)", months[i], amount: 10, version: 1), uscc: a, division: "C30"),
            Self.update(Self.payment(b, "B\(i)", months[i], amount: 1.5, version: 1), uscc: b, division: "C30"),
        ] }, plan: plan)
        func fields(_ key: String) async throws -> Set<String> { Set(try await redis.command("HKEYS", key).array?.compactMap(\.text) ?? []) }

        try await features.forget([ExpiredRecords(
            entity: EntityKey(.enterprise, a), topic: "tax.payment", keys: ["A0", "A1"], before: months[2].firstDay, sumsBefore: months[2])])
        #expect(try await fields("cw:{\(a)}:rec:tax.payment") == ["A2", "A3"])
        #expect(try await fields("cw:{\(a)}:win:tax.payment") == ["2024-03|#", "2024-03|5", "2024-04|#", "2024-04|5"])
        #expect(try await fields("cw:{\(b)}:win:tax.payment").count == 8)

        // Judged with February as its first month kept, the division reads its four months once more
        // and deletes January's.
        let judged = try await features.industries(
            ["C30"], standings: [], series: ["tax.payment.amount"], leaders: 0, asOf: ["C30": months[3].firstDay],
            forgetting: ["C30": ["tax.payment": months[1]]])
        #expect(judged.first?.monthlySums["tax.payment.amount"] == [months[0]: 11.5, months[1]: 11.5, months[2]: 11.5, months[3]: 11.5])
        #expect(try await fields("cw:ind:{C30}:win:tax.payment") == Set(months[1...].flatMap { ["\($0)|#", "\($0)|5"] }))
        #expect(try await redis.command("EXISTS", "cw:ind:{C30}:led:tax.payment:2024-01").integer == 0)
        #expect(try await redis.command("HLEN", "cw:ind:{C30}:led:tax.payment:2024-02").integer == 2)

        // A's March payment updated: the division's March follows exactly.
        try await features.apply([Self.update(Self.payment(a, "A2", months[2], amount: 4, version: 2), uscc: a, division: "C30")], plan: plan)
        let after = try await features.industries(["C30"], standings: [], series: ["tax.payment.amount"], leaders: 0, asOf: [:])
        #expect(after.first?.monthlySums["tax.payment.amount"] == [months[1]: 11.5, months[2]: 5.5, months[3]: 11.5])
    }

    /// A flushed Redis and the feature store over it, for the shipped catalog and rules.
    static func emptyStore(_ name: String) async throws -> (redis: any RedisClient, plan: FeaturePlan, features: FeatureWindows) {
        let settings = try Stack.settings(name)
        try await Stack.flushRedis(settings)
        let redis = try await connectRedis(host: settings.redisHost, port: settings.redisPort)
        let catalog = try ProjectFiles.catalog(at: settings.topicsPath)
        let plan = FeaturePlan(program: try ProjectFiles.program(at: settings.rulesPath, catalog: catalog), catalog: catalog)
        let features = try await FeatureWindows(connection: redis, catalog: catalog, logger: Logger(label: "test"))
        return (redis, plan, features)
    }

    /// Days, milliseconds and months take base 36; a string is a month only when it is exactly a
    /// month's `YYYY-MM`, so every value reads back as it was.
    @Test func recordValuesReadBackAsWritten() throws {
        let values: [Value] = [
            .date(Day(20035)), .date(Day(-1)), .timestamp(1_730_715_711_955), .timestamp(-86_400_000),
            .string("2024-10"), .string("0999-01"), .string("2024-13"), .string("2024-1"), .string("2024-10 "), .string("２０２４-10"),
            .string(""), .number(26), .bool(true), .null,
        ]
        for value in values {
            var bytes: [UInt8] = []
            RecordCodec.encode(["f": value], names: nil, into: &bytes)
            #expect(RecordCodec.decode(bytes[...], names: nil) == ["f": value], "\(value)")
        }
        var encoded: [UInt8] = []
        RecordCodec.encode(["a": .date(Day(20035)), "b": .timestamp(1_730_715_711_955), "c": .string("2024-10"), "d": .string("2024-13")], names: nil, into: &encoded)
        #expect(String(decoding: encoded, as: UTF8.self) == "a\u{1F}dfgj\u{1E}b\u{1F}tm32vg637\u{1E}c\u{1F}miqx\u{1E}d\u{1F}s7:2024-13\u{1E}")
    }
}
