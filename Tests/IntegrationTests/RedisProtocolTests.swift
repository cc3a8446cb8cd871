import CreditWatchCore
import Foundation
@testable import RedisFeatures
import Testing

@testable import creditwatch

extension EngineIntegrationTests {
    /// A pipeline's arguments reach the real Redis byte for byte, from strings and from bytes alike:
    /// empty, multi-byte UTF-8, binary with CR LF and NUL, 100 KB long, and commands of 1, 10 and
    /// 121 arguments (counts of one to three digits), the replies in order.
    @Test func pipelinedArgumentsReachRedisByteForByte() async throws {
        let settings = try Stack.settings("resp")
        try await Stack.flushRedis(settings)
        let redis = try RedisConnection(host: settings.redisHost, port: settings.redisPort)
        let long = String(repeating: "税", count: 100_000 / 3)
        let binary: [UInt8] = [0, 13, 10, 36, 42, 255, 13, 10, 0]
        let items = (0..<119).map { "item\($0)" }
        let replies = try await redis.pipeline([
            ["SET", "cw:test:empty", ""], ["SET", "cw:test:utf8", "邵阳市·欠税\r\n"], ["SET", "cw:test:long", long],
            ["RPUSH", "cw:test:list"] + items, ["PING"],
            ["GET", "cw:test:empty"], ["GET", "cw:test:utf8"], ["GET", "cw:test:long"], ["LRANGE", "cw:test:list", "0", "-1"],
        ])
        #expect(replies.count == 9)
        #expect(replies[3] == .integer(119))
        #expect(replies[4] == .status("PONG"))
        #expect(replies[5] == .string([]))
        #expect(replies[6].text == "邵阳市·欠税\r\n")
        #expect(replies[7].text == long)
        #expect(replies[8].array?.compactMap(\.text) == items)

        let fields: [[UInt8]] = (1...4).map { Array("f\($0)".utf8) }
        let hash: [[UInt8]] = [Array("HSET".utf8), Array("cw:test:hash".utf8)] + fields.flatMap { [$0, $0] }
        let bytes = try await redis.pipeline([
            [Array("SET".utf8), Array("cw:test:binary".utf8), binary], [Array("GET".utf8), Array("cw:test:binary".utf8)],
            hash, [Array("HMGET".utf8), Array("cw:test:hash".utf8)] + fields,
        ])
        #expect(bytes[1] == .string(binary))
        #expect(bytes[2] == .integer(4))
        #expect(bytes[3].array == ["f1", "f2", "f3", "f4"].map { .string(Array($0.utf8)) })
        #expect(try await redis.pipeline([[String]]()).isEmpty)
    }

    /// Commands written argument by argument (as the apply call writes its pipeline) reach Redis as
    /// the same commands from arrays do, and give back their arguments (how a cluster splits them).
    @Test func commandsWrittenInPlaceReachRedisAsWritten() async throws {
        let settings = try Stack.settings("resp")
        try await Stack.flushRedis(settings)
        let redis = try RedisConnection(host: settings.redisHost, port: settings.redisPort)
        let binary: [UInt8] = [0, 13, 10, 36, 42, 255]
        let long = String(repeating: "欠", count: 12_345)
        var commands = RESP()
        commands.command(4)
        commands.argument("HSET")
        commands.entityKey("91430500MA4L0XXX1X", "rec", "tax.payment")
        commands.argument(long)
        commands.argument(binary)
        commands.command(["HGET", FeatureWindows.entityKey("91430500MA4L0XXX1X", "rec", "tax.payment"), long])
        commands.command(3)
        commands.argument("SET")
        commands.argument(length: 6) {
            $0.append(contentsOf: "cw:".utf8)
            $0.append(contentsOf: "k12".utf8)
        }
        commands.argument("")
        commands.command(["GET", "cw:k12"])
        #expect(commands.commands == 4)
        let replies = try await redis.pipeline(commands)
        #expect(replies == [.integer(1), .string(binary), .status("OK"), .string([])])
        let key = Array("cw:{91430500MA4L0XXX1X}:rec:tax.payment".utf8)
        let written: [[[UInt8]]] = [
            [Array("HSET".utf8), key, Array(long.utf8), binary], [Array("HGET".utf8), key, Array(long.utf8)],
            [Array("SET".utf8), Array("cw:k12".utf8), []], [Array("GET".utf8), Array("cw:k12".utf8)],
        ]
        #expect(commands.decoded() == written)
        #expect(try await redis.pipeline(RESP()).isEmpty)
    }
}
