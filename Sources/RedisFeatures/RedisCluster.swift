import Synchronization

/// What the feature store needs of Redis: pipelines of single-key commands, and a command run on
/// every node (loading a script). A single server (`RedisConnection`) or a cluster (`RedisCluster`).
public protocol RedisClient: Sendable {
    /// Sends the commands and returns their replies in order: one round trip per node.
    func pipeline(_ commands: [[[UInt8]]]) async throws -> [RedisReply]
    /// The same, from strings.
    func pipeline(_ commands: [[String]]) async throws -> [RedisReply]
    /// The same, written in the protocol already (`RESP`).
    func pipeline(_ commands: RESP) async throws -> [RedisReply]
    /// Runs one command on every node (a cluster's masters): the replies, one per node.
    func everyNode(_ args: [String]) async throws -> [RedisReply]
    /// The nodes themselves (a cluster's masters), for what must visit each: a scan.
    var nodeConnections: [RedisConnection] { get }
    /// One key per node named after `base`, each in a slot that node serves now: what must be
    /// on every node (a marker that a flush of any one of them loses).
    func keyOnEveryNode(_ base: String) -> [String]
}

extension RedisClient {
    public func pipeline(_ commands: [[String]]) async throws -> [RedisReply] {
        try await pipeline(commands.map { $0.map { Array($0.utf8) } })
    }

    public func command(_ args: String...) async throws -> RedisReply {
        try await pipeline([args])[0]
    }
}

extension RedisConnection: RedisClient {
    public func everyNode(_ args: [String]) async throws -> [RedisReply] { try await pipeline([args]) }
    public var nodeConnections: [RedisConnection] { [self] }
    public func keyOnEveryNode(_ base: String) -> [String] { [base] }
}

/// Connects to `host:port`: a cluster client when that server runs in cluster mode, else the
/// server itself.
public func connectRedis(host: String, port: Int, security: RedisSecurity = RedisSecurity()) async throws -> any RedisClient {
    let seed = try RedisConnection(host: host, port: port, security: security)
    let info = try await seed.command("INFO", "cluster")
    if info.text?.contains("cluster_enabled:1") == true {
        return try await RedisCluster(seed: seed)
    }
    return seed
}

/// A Redis Cluster: every command goes to the master of its key's hash slot. A pipeline is split
/// by master and the parts run side by side (one round trip each), the replies put back in order.
/// The feature store's keys carry hash tags (`cw:{USCC}:…`, `cw:ind:{C30}:…`), so the keys one
/// script touches share a slot. A `MOVED` or `ASK` reply (slots moving, a failover) refreshes the
/// slot map from `CLUSTER SLOTS` and re-sends the commands that got it.
public final class RedisCluster: RedisClient, Sendable {
    struct Topology: Sendable {
        /// Slot → index in `nodes`.
        var slots: [Int]
        var nodes: [RedisConnection]
    }

    private let topology: Mutex<Topology>

    init(seed: RedisConnection) async throws {
        topology = Mutex(try await Self.discover(from: [seed], known: [seed]))
    }

    public var nodes: [RedisConnection] { topology.withLock { $0.nodes } }
    public var nodeConnections: [RedisConnection] { nodes }

    /// `base:{n<k>}` with the least k whose slot each master serves.
    public func keyOnEveryNode(_ base: String) -> [String] {
        let current = topology.withLock { $0 }
        var keys: [String?] = Array(repeating: nil, count: current.nodes.count)
        var k = 0
        while keys.contains(nil), k < 1_000_000 {
            let key = "\(base):{n\(k)}"
            let node = current.slots[Self.slot(ofKey: Array(key.utf8))]
            if keys[node] == nil { keys[node] = key }
            k += 1
        }
        return keys.compactMap { $0 }
    }

    /// The slot map, asked of the first of `candidates` that answers; connections to masters
    /// already known are kept.
    static func discover(from candidates: [RedisConnection], known: [RedisConnection]) async throws -> Topology {
        var failure: (any Error)?
        for candidate in candidates {
            do {
                let reply = try await candidate.command("CLUSTER", "SLOTS")
                guard case .array(let ranges) = reply, !ranges.isEmpty else {
                    throw RedisError(code: .reply, message: "CLUSTER SLOTS answered \(reply)")
                }
                var slots = Array(repeating: -1, count: 16384)
                var nodes: [RedisConnection] = []
                for case .array(let range) in ranges {
                    guard range.count >= 3, let start = range[0].integer, let end = range[1].integer,
                        case .array(let master) = range[2], master.count >= 2, let host = master[0].text,
                        let port = master[1].integer.map(Int.init)
                    else { continue }
                    let address = host.isEmpty ? candidate.host : host
                    let index: Int
                    if let i = nodes.firstIndex(where: { $0.host == address && $0.port == port }) {
                        index = i
                    } else {
                        nodes.append(try known.first { $0.host == address && $0.port == port } ?? RedisConnection(host: address, port: port, security: candidate.security))
                        index = nodes.count - 1
                    }
                    for slot in Int(start)...Int(end) where slot < slots.count { slots[slot] = index }
                }
                guard !slots.contains(-1) else { throw RedisError(code: .reply, message: "the cluster does not cover every hash slot") }
                return Topology(slots: slots, nodes: nodes)
            } catch {
                failure = error
            }
        }
        throw failure ?? RedisError(code: .connect, message: "no cluster node answers")
    }

    private func refresh() async throws {
        let current = topology.withLock { $0 }
        let fresh = try await Self.discover(from: current.nodes, known: current.nodes)
        topology.withLock { $0 = fresh }
    }

    public func pipeline(_ commands: [[[UInt8]]]) async throws -> [RedisReply] {
        var replies = Array(repeating: RedisReply.null, count: commands.count)
        var pending = Array(commands.indices)
        for attempt in 0..<3 {
            let current = topology.withLock { $0 }
            var byNode: [Int: [Int]] = [:]
            for index in pending {
                byNode[Self.slot(of: commands[index]).map { current.slots[$0] } ?? 0, default: []].append(index)
            }
            try await withThrowingTaskGroup(of: ([Int], [RedisReply]).self) { group in
                for (node, indices) in byNode {
                    group.addTask { (indices, try await current.nodes[node].pipeline(indices.map { commands[$0] })) }
                }
                for try await (indices, part) in group {
                    for (index, reply) in zip(indices, part) { replies[index] = reply }
                }
            }
            pending = pending.filter { Self.redirected(replies[$0]) }
            if pending.isEmpty || attempt == 2 { break }
            try await refresh()
        }
        return replies
    }

    /// Split by the slot of each command's key, as the commands' arguments.
    public func pipeline(_ commands: RESP) async throws -> [RedisReply] {
        try await pipeline(commands.decoded())
    }

    public func everyNode(_ args: [String]) async throws -> [RedisReply] {
        let nodes = self.nodes
        return try await withThrowingTaskGroup(of: RedisReply.self) { group in
            for node in nodes { group.addTask { try await node.pipeline([args])[0] } }
            var replies: [RedisReply] = []
            for try await reply in group { replies.append(reply) }
            return replies
        }
    }

    static func redirected(_ reply: RedisReply) -> Bool {
        guard case .error(let message) = reply else { return false }
        return message.hasPrefix("MOVED ") || message.hasPrefix("ASK ")
    }

    /// The hash slot of a command's key (nil: the command has none). Scripts name their keys
    /// after the key count; every other command the feature store sends has its key first.
    static func slot(of command: [[UInt8]]) -> Int? {
        guard let name = command.first else { return nil }
        let upper = String(decoding: name, as: UTF8.self).uppercased()
        if upper == "EVAL" || upper == "EVALSHA" {
            guard command.count > 3, String(decoding: command[2], as: UTF8.self) != "0" else { return nil }
            return slot(ofKey: command[3])
        }
        guard command.count > 1, !keyless.contains(upper) else { return nil }
        return slot(ofKey: command[1])
    }

    static let keyless: Set<String> = ["PING", "INFO", "SCRIPT", "FLUSHDB", "FLUSHALL", "DBSIZE", "CLUSTER", "CONFIG"]

    /// CRC16 (XMODEM) of the key — of its hash tag, the part between the first `{` and the next
    /// `}` when that is not empty — modulo 16384, as Redis Cluster assigns slots.
    public static func slot(ofKey key: [UInt8]) -> Int {
        var hashed = key[...]
        if let open = key.firstIndex(of: UInt8(ascii: "{")),
            let close = key[(open + 1)...].firstIndex(of: UInt8(ascii: "}")), close > open + 1
        {
            hashed = key[(open + 1)..<close]
        }
        var crc: UInt16 = 0
        for byte in hashed {
            crc ^= UInt16(byte) << 8
            for _ in 0..<8 { crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1 }
        }
        return Int(crc) % 16384
    }
}
