import CreditWatchCore
import Foundation
import Logging
import RedisFeatures
import RuleLanguage
import Testing

@testable import creditwatch

/// A division's windows are pushed from its enterprises' own monthly sums: exact under updates,
/// deletes, zero amounts, re-deliveries, a push lost in a crash and moves between divisions, with
/// one ledger entry per enterprise and month, on one Redis and on the cluster.
extension EngineIntegrationTests {
    static let windowsA = Script.uscc("91430602MA4W00001"), windowsB = Script.uscc("91430602MA4W00002")

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

    /// A store written in the layout before this one (its marker has no layout) is cleared at
    /// start, so that it is rebuilt rather than read wrongly.
    @Test func aStoreInAnOlderLayoutIsClearedAtStart() async throws {
        let settings = try Stack.settings("older_layout")
        try await Stack.flushRedis(settings)
        let redis = try await connectRedis(host: settings.redisHost, port: settings.redisPort)
        _ = try await redis.pipeline([
            ["HSET", "cw:meta", "store", "s", "sequence", "4"], ["HSET", "cw:ind:{C30}:rec:tax.payment", "E|P", "1\t0\t2026-05\tamount=1\t"],
            ["SET", "other:key", "kept"],
        ])
        let catalog = try ProjectFiles.catalog(at: settings.topicsPath)
        let features = try await FeatureWindows(connection: redis, catalog: catalog, logger: Logger(label: "test"))
        #expect(try await features.featureSync() == nil)
        #expect(try await redis.command("DBSIZE").integer == 1)
        #expect(try await redis.command("GET", "other:key").text == "kept")
    }
}
