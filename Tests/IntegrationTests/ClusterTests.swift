import CreditWatchCore
import Foundation
import RedisFeatures
import Testing

@testable import creditwatch

extension EngineIntegrationTests {
    /// The engine on the local 3-master Redis Cluster (ops/servers.sh) ends the scripted history
    /// exactly as on one Redis — also when the whole cluster is flushed halfway and rebuilt from
    /// PostgreSQL — with its keys spread over every master.
    @Test func onARedisClusterTheEngineEndsAsOnOneServerAndRebuildsAFlushedCluster() async throws {
        let port = try #require(Stack.redisClusterPort, "CREDITWATCH_TEST_REDIS_CLUSTER_PORT is not set (ops/servers.sh starts the cluster)")
        var single = try await Engine.start("cluster_reference")
        try await Self.sendHistory(&single)
        let expected = try await Self.outcome(single.store)
        try await single.stop()

        var engine = try await Engine.start("cluster") { $0.redisPort = port }
        try await Self.sendHistoryFlushingRedis(&engine, after: Script.months.count / 2, expecting: expected)
        #expect(engine.daemon.health.snapshot.rebuilds == 2)

        let cluster = try #require(try await connectRedis(host: "127.0.0.1", port: port) as? RedisCluster)
        #expect(cluster.nodes.count == 3)
        let sizes = try await cluster.everyNode(["DBSIZE"]).compactMap(\.integer)
        #expect(sizes.count == 3 && sizes.allSatisfy { $0 > 0 }, "keys per master: \(sizes)")
        try await engine.stop()
    }

    /// Slots as Redis Cluster computes them (`CLUSTER KEYSLOT`), hash tags included.
    @Test func hashSlotsFollowRedisCluster() async throws {
        let port = try #require(Stack.redisClusterPort)
        let redis = try RedisConnection(host: "127.0.0.1", port: port)
        for key in ["foo", "123456789", "cw:{91430602MA4L000019}:rec:tax.payment", "cw:ind:{C30}:win:tax.payment", "{}x", "a{b"] {
            let slot = try await redis.command("CLUSTER", "KEYSLOT", key).integer
            #expect(RedisCluster.slot(ofKey: Array(key.utf8)) == slot.map(Int.init), "\(key)")
        }
        #expect(RedisCluster.slot(ofKey: Array("cw:{E1}:rec:x".utf8)) == RedisCluster.slot(ofKey: Array("cw:{E1}:hist:y".utf8)))
    }
}
