import CreditWatchCore
import CHiredis
import Dispatch
import Foundation

/// A reply of the Redis protocol, copied out of hiredis' buffers.
public enum RedisReply: Sendable, Hashable {
    case string([UInt8])
    case status(String)
    case integer(Int64)
    case array([RedisReply])
    case null
    case error(String)

    public var text: String? {
        switch self {
        case .string(let bytes): String(decoding: bytes, as: UTF8.self)
        case .status(let s): s
        case .integer(let n): String(n)
        default: nil
        }
    }

    public var integer: Int64? {
        switch self {
        case .integer(let n): n
        case .string: text.flatMap { Int64($0) }
        default: nil
        }
    }

    public var array: [RedisReply]? {
        if case .array(let items) = self { return items }
        return nil
    }
}

/// Errors of the feature store. `description` never carries data values.
public struct RedisError: Error, CustomStringConvertible, Sendable {
    public enum Code: String, Sendable { case connect, io, protocolError, reply }
    public let code: Code
    public let message: String
    public var description: String { "redis \(code.rawValue): \(message)" }

    /// How the ingest loop treats this failure. Connection and protocol failures, and the replies
    /// of a server that refuses work for now (loading, busy, out of memory, a read-only replica,
    /// a cluster reconfiguring, failed persistence), are outages; any other error reply is about
    /// the command's data.
    public var failureKind: FailureKind {
        guard code == .reply else { return .outage(component: "redis") }
        let prefix = message.prefix { $0 != " " }
        if Self.outageReplies.contains(String(prefix)) { return .outage(component: "redis") }
        return .input(reason: "Redis: \(message.prefix(200))")
    }

    static let outageReplies: Set<String> = [
        "LOADING", "BUSY", "OOM", "READONLY", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN", "MOVED", "ASK", "MISCONF",
        "NOREPLICAS", "NOSCRIPT", "NOAUTH", "WRONGPASS",
    ]
}

/// How to reach Redis safely: TLS (verifying the server's certificate and name) and the
/// credentials of `AUTH`. From `CREDITWATCH_REDIS_TLS` (`disable`, the default, or `require`),
/// `CREDITWATCH_REDIS_TLS_CA_FILE` (else the system's CAs), `CREDITWATCH_REDIS_TLS_CERT_FILE` and
/// `CREDITWATCH_REDIS_TLS_KEY_FILE` (a client certificate, for servers that ask for one),
/// `CREDITWATCH_REDIS_USERNAME` (an ACL user) and `CREDITWATCH_REDIS_PASSWORD`.
public struct RedisSecurity: Sendable, Hashable {
    public struct TLS: Sendable, Hashable {
        public var caFile: String?
        public var certFile: String?
        public var keyFile: String?

        public init(caFile: String? = nil, certFile: String? = nil, keyFile: String? = nil) {
            self.caFile = caFile
            self.certFile = certFile
            self.keyFile = keyFile
        }
    }

    public var tls: TLS?
    public var username: String?
    public var password: String?

    public init(tls: TLS? = nil, username: String? = nil, password: String? = nil) {
        self.tls = tls
        self.username = username
        self.password = password
    }

    /// Throws a message naming the variable to fix.
    public init(environment: [String: String]) throws(RedisError) {
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        switch value("CREDITWATCH_REDIS_TLS") ?? "disable" {
        case "disable":
            for name in ["CREDITWATCH_REDIS_TLS_CA_FILE", "CREDITWATCH_REDIS_TLS_CERT_FILE", "CREDITWATCH_REDIS_TLS_KEY_FILE"] where value(name) != nil {
                throw RedisError(code: .connect, message: "\(name) is set but CREDITWATCH_REDIS_TLS is not 'require'")
            }
        case "require":
            tls = TLS(
                caFile: value("CREDITWATCH_REDIS_TLS_CA_FILE"), certFile: value("CREDITWATCH_REDIS_TLS_CERT_FILE"),
                keyFile: value("CREDITWATCH_REDIS_TLS_KEY_FILE"))
            if (tls?.certFile == nil) != (tls?.keyFile == nil) {
                throw RedisError(code: .connect, message: "a client certificate needs both CREDITWATCH_REDIS_TLS_CERT_FILE and CREDITWATCH_REDIS_TLS_KEY_FILE")
            }
        case let other:
            throw RedisError(code: .connect, message: "CREDITWATCH_REDIS_TLS must be 'disable' or 'require', not '\(other)'")
        }
        username = value("CREDITWATCH_REDIS_USERNAME")
        password = value("CREDITWATCH_REDIS_PASSWORD")
        if username != nil, password == nil {
            throw RedisError(code: .connect, message: "CREDITWATCH_REDIS_USERNAME needs CREDITWATCH_REDIS_PASSWORD")
        }
    }
}

/// One hiredis connection. hiredis is blocking, so every call runs on the connection's own
/// serial dispatch queue, never on the cooperative pool; commands are always sent as pipelines
/// (one write of all commands, encoded by `RESP`, then one read of all replies).
public final class RedisConnection: @unchecked Sendable {
    // Safety: `context` is only touched on `queue`; `tlsContext` is set once, before any use.
    private var context: UnsafeMutablePointer<redisContext>?
    private let queue: DispatchQueue
    private var tlsContext: OpaquePointer?
    public let host: String
    public let port: Int
    public let security: RedisSecurity

    public init(host: String, port: Int, security: RedisSecurity = RedisSecurity()) throws {
        self.host = host
        self.port = port
        self.security = security
        self.queue = DispatchQueue(label: "creditwatch.redis.\(host):\(port)")
        if let tls = security.tls {
            guard let ctx = cw_tls_context(tls.caFile, tls.certFile, tls.keyFile) else {
                throw RedisError(
                    code: .connect,
                    message: "TLS for \(host):\(port): cannot use the CA file \(tls.caFile ?? "(system)") or the client certificate \(tls.certFile ?? "(none)")")
            }
            tlsContext = ctx
        }
        try queue.sync { try self.connectOnQueue() }
    }

    deinit {
        if let context { redisFree(context) }
        if let tlsContext { SSL_CTX_free(tlsContext) }
    }

    private func connectOnQueue() throws {
        if let context { redisFree(context) }
        context = nil
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        guard let c = redisConnectWithTimeout(host, Int32(port), timeout) else {
            throw RedisError(code: .connect, message: "cannot allocate a connection to \(host):\(port)")
        }
        if c.pointee.err != 0 {
            let message = Self.errorString(c)
            redisFree(c)
            throw RedisError(code: .connect, message: "\(host):\(port): \(message)")
        }
        timeout = timeval(tv_sec: 30, tv_usec: 0)
        redisSetTimeout(c, timeout)
        if let tlsContext, cw_redis_start_tls(c, tlsContext, host) != REDIS_OK {
            let message = Self.errorString(c)
            redisFree(c)
            throw RedisError(code: .connect, message: "\(host):\(port): TLS: \(message.isEmpty ? "handshake failed" : message)")
        }
        context = c
        if let password = security.password {
            let reply = try pipelineOnQueue(RESP([["AUTH"] + (security.username.map { [$0] } ?? []) + [password]]))
            if case .error(let message) = reply.first {
                redisFree(c)
                context = nil
                throw RedisError(code: .reply, message: message)  // NOAUTH/WRONGPASS: an outage to fix, never data
            }
        }
    }

    private static func errorString(_ c: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: c.pointee.errstr) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
    }

    /// Sends all commands in one write and reads all replies: one round trip.
    /// A connection error drops the connection (reconnected on the next call) and throws; the
    /// caller retries the whole batch, which is safe because every feature update is idempotent.
    public func pipeline(_ commands: [[[UInt8]]]) async throws -> [RedisReply] {
        try await send(RESP(commands))
    }

    /// The commands straight from their strings (no byte array per argument).
    public func pipeline(_ commands: [[String]]) async throws -> [RedisReply] {
        try await send(RESP(commands))
    }

    /// Commands already written in the protocol.
    public func pipeline(_ commands: RESP) async throws -> [RedisReply] {
        try await send(commands)
    }

    private func send(_ pipeline: RESP) async throws -> [RedisReply] {
        precondition(pipeline.isComplete, "a command lacks arguments it announced")
        if pipeline.commands == 0 { return [] }
        return try await withCheckedThrowingContinuation { continuation in
            queue.async {
                do {
                    continuation.resume(returning: try self.pipelineOnQueue(pipeline))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    private func pipelineOnQueue(_ pipeline: RESP) throws -> [RedisReply] {
        if context == nil { try connectOnQueue() }
        guard let c = context else { throw RedisError(code: .connect, message: "not connected") }
        let status = pipeline.bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { redisAppendFormattedCommand(c, $0.baseAddress, $0.count) }
        }
        if status != REDIS_OK { throw dropConnection(c) }
        var replies: [RedisReply] = []
        replies.reserveCapacity(pipeline.commands)
        for _ in 0..<pipeline.commands {
            var raw: UnsafeMutableRawPointer?
            if redisGetReply(c, &raw) != REDIS_OK || raw == nil { throw dropConnection(c) }
            let reply = raw!.assumingMemoryBound(to: redisReply.self)
            replies.append(Self.copy(reply))
            freeReplyObject(raw)
        }
        return replies
    }

    private func dropConnection(_ c: UnsafeMutablePointer<redisContext>) -> RedisError {
        let error = RedisError(code: .io, message: Self.errorString(c))
        redisFree(c)
        context = nil
        return error
    }

    private static func copy(_ r: UnsafeMutablePointer<redisReply>) -> RedisReply {
        let reply = r.pointee
        switch reply.type {
        case REDIS_REPLY_STRING:
            return .string(bytes(reply.str, reply.len))
        case REDIS_REPLY_STATUS:
            return .status(String(decoding: bytes(reply.str, reply.len), as: UTF8.self))
        case REDIS_REPLY_ERROR:
            return .error(String(decoding: bytes(reply.str, reply.len), as: UTF8.self))
        case REDIS_REPLY_INTEGER:
            return .integer(Int64(reply.integer))
        case REDIS_REPLY_ARRAY:
            var items: [RedisReply] = []
            items.reserveCapacity(reply.elements)
            for i in 0..<reply.elements {
                items.append(copy(reply.element[i]!))
            }
            return .array(items)
        default:
            return .null
        }
    }

    private static func bytes(_ pointer: UnsafeMutablePointer<CChar>?, _ count: Int) -> [UInt8] {
        guard let pointer, count > 0 else { return [] }
        return pointer.withMemoryRebound(to: UInt8.self, capacity: count) {
            Array(UnsafeBufferPointer(start: $0, count: count))
        }
    }
}
