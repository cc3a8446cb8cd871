import CRdKafka
import CreditWatchCore
import Dispatch
import Foundation
import Logging

/// An error of librdkafka or of this module. `description` carries no message payloads.
public struct KafkaError: Error, CustomStringConvertible, Sendable {
    public enum Code: String, Sendable { case configuration, version, client, commit, produce }
    public let code: Code
    public let message: String
    /// librdkafka's error code, when the error came from it.
    public let librdkafkaCode: Int32?

    init(_ code: Code, _ message: String, librdkafkaCode: Int32? = nil) {
        self.code = code
        self.message = message
        self.librdkafkaCode = librdkafkaCode
    }

    init(_ code: Code, _ err: rd_kafka_resp_err_t) {
        self.init(code, String(cString: rd_kafka_err2str(err)), librdkafkaCode: err.rawValue)
    }

    public var description: String { "kafka \(code.rawValue): \(message)" }
}

/// Connection settings shared by the consumer and the producer.
public struct KafkaConfiguration: Sendable {
    /// `host:port,host:port`. Default `127.0.0.1:19092` (the local Tansu broker of ops/).
    public var brokers: String = "127.0.0.1:19092"
    /// Consumer group; instances of one group split the partitions. Default `creditwatch`.
    public var groupID: String = "creditwatch"
    /// Most messages handed to the engine at once. Default 20 000: an enterprise touched several
    /// times in one batch is evaluated once (measured: 2000 → 10 000 took a 3000-enterprise
    /// backlog from 2 047 to 3 488 events/s), and its records of one topic are one Redis script
    /// call (2026-12-06, 10 000 enterprises: 10 000 → 20 000 → 40 000 took the drain from
    /// 21 911–22 805 to 24 305 to 27 467 events/s, Redis from 24–25 to 21.6 to 18.2 s of CPU, and the
    /// daemon's RSS while draining from ~200 to ~260 to ~400 MiB; at 3 000 enterprises 20 000 is
    /// no slower). A live stream's batches are far smaller (see `batchTimeoutMilliseconds`).
    public var batchSize: Int = 20_000
    /// How long a batch waits to fill up, from the arrival of its oldest message, before it is
    /// handed over anyway (a linger, as a producer's). Default 0: a batch is what is buffered when
    /// the engine asks — while it works on one batch the next fills (natural batching, as a group
    /// commit), so batches grow with the load and an idle engine takes a change at once. A backlog
    /// fills batches regardless. Measured with `benchmarks/live-latency.sh 2000 60 1000`
    /// (2026-12-07, build dcbaf38, alternated, produce → alert readable, p50/p99 ms): 0 gave 60/129,
    /// 80/196, 66/158, 54/109 (1 700–2 260 batches a minute); 10 gave 70/152, 71/178, 81/190, 79/199,
    /// 68/414; 50 gave 111/191, 122/207, 113/183 (740–770 batches), at 2–3 s more of the daemon's
    /// and ~3 s more of PostgreSQL's CPU a minute for 0 than for 50. (On 2026-12-05, when a batch
    /// cost three times what it does now, 50 ms had beaten 0, 100 and 200.)
    public var batchTimeoutMilliseconds: Int = 0
    /// How long the broker may hold a fetch that finds no new message (librdkafka
    /// `fetch.wait.max.ms`): a change produced meanwhile waits for it unless the broker answers
    /// early, as Tansu does not. Default 20 ms. Measured with `benchmarks/live-latency.sh 2000 60
    /// 1000` (2026-12-05, run alternately, produce → alert readable, ms): 100 gave p50/p90/p99
    /// 153/192/244 and 153/188/234 (a change took 40–44 ms on average from its produce time to the
    /// consumer's buffer, up to 124); 20 gave 113/146/196 and 108/143/273, with the broker at 15–16 s
    /// of CPU a minute instead of 9–10 (more, emptier fetches; against a Kafka cluster, which
    /// answers a waiting fetch when data arrives, neither costs anything).
    public var fetchWaitMilliseconds: Int = 20
    /// Fetched-but-unprocessed messages above which the consumer pauses its partitions
    /// (and below half of which it resumes them). Default 40 000.
    public var maxBufferedMessages: Int = 40_000
    /// Most bytes (keys and values) in one batch, whatever `batchSize` says: a batch of the largest
    /// messages a topic accepts (256 KiB by default, more where its catalog says) stays bounded.
    /// Default 32 MiB (20 000 of the simulated city's messages are ~8 MiB).
    public var batchBytes: Int = 32 << 20
    /// Fetched-but-unprocessed bytes above which the consumer pauses its partitions, as
    /// `maxBufferedMessages` (resumed once both are below half). Default 128 MiB.
    public var maxBufferedBytes: Int = 128 << 20
    /// Messages waiting (buffered or fetchable) beyond which a live consumer counts as draining a
    /// backlog again, and evaluation waits until it has caught up (see `KafkaConsumer.isCaughtUp`).
    public var backlogMessages: Int = 50_000
    /// Most bytes fetched from one partition per request (librdkafka `max.partition.fetch.bytes`).
    /// Default 64 KiB: keeps partitions even while a backlog drains (see `KafkaConsumer`).
    public var maxPartitionFetchBytes: Int = 65_536
    /// Group session timeout; ~6 s gives a ~3 s group join on the local broker. Default 6000.
    public var sessionTimeoutMilliseconds: Int = 6000
    /// Prepended to every catalog topic name on the broker (e.g. `test42.` to isolate a test run
    /// or a staging city on a shared cluster). Default empty.
    public var topicPrefix: String = ""
    /// Extra librdkafka properties, applied last.
    public var properties: [String: String] = [:]

    public init() {}

    static let securityVariables = [
        "CREDITWATCH_KAFKA_SECURITY_PROTOCOL": "security.protocol", "CREDITWATCH_KAFKA_SSL_CA_LOCATION": "ssl.ca.location",
        "CREDITWATCH_KAFKA_SASL_MECHANISM": "sasl.mechanisms", "CREDITWATCH_KAFKA_SASL_USERNAME": "sasl.username",
        "CREDITWATCH_KAFKA_SASL_PASSWORD": "sasl.password",
    ]

    /// Also the broker's security: `CREDITWATCH_KAFKA_SECURITY_PROTOCOL` (`SSL`, `SASL_SSL`, …),
    /// `CREDITWATCH_KAFKA_SSL_CA_LOCATION`, `CREDITWATCH_KAFKA_SASL_MECHANISM` (`SCRAM-SHA-512`, …),
    /// `CREDITWATCH_KAFKA_SASL_USERNAME`, `CREDITWATCH_KAFKA_SASL_PASSWORD`: librdkafka's
    /// `security.protocol`, `ssl.ca.location`, `sasl.mechanisms`, `sasl.username`, `sasl.password`.
    public init(environment: [String: String]) {
        for (variable, property) in Self.securityVariables {
            if let value = environment[variable], !value.isEmpty { properties[property] = value }
        }
        if let b = environment["CREDITWATCH_KAFKA_BROKERS"] { brokers = b }
        if let g = environment["CREDITWATCH_KAFKA_GROUP"] { groupID = g }
        if let p = environment["CREDITWATCH_KAFKA_TOPIC_PREFIX"] { topicPrefix = p }
    }
}

/// The librdkafka version linked in, and the check that it can talk to current brokers
/// (2.0.x fails to parse their ApiVersions responses).
public enum LibrdkafkaVersion {
    public static var string: String { String(cString: rd_kafka_version_str()) }
    public static var number: Int32 { rd_kafka_version() }
    public static let minimum: Int32 = 0x0201_00FF

    public static func check() throws {
        guard number >= minimum else {
            throw KafkaError(.version, "librdkafka \(string) is loaded; CreditWatch needs 2.1 or newer (run ops/install.sh)")
        }
    }
}

/// Owns an `rd_kafka_conf_t` until it is handed to `rd_kafka_new`.
func makeConfiguration(_ properties: [(String, String)]) throws -> OpaquePointer {
    let conf = rd_kafka_conf_new()!
    var errbuf = [CChar](repeating: 0, count: 512)
    for (key, value) in properties {
        if rd_kafka_conf_set(conf, key, value, &errbuf, errbuf.count) != RD_KAFKA_CONF_OK {
            rd_kafka_conf_destroy(conf)
            throw KafkaError(.configuration, "\(key): \(errorText(errbuf))")
        }
    }
    return conf
}

func newClient(
    _ type: rd_kafka_type_t, _ properties: [(String, String)], configure: (OpaquePointer) -> Void = { _ in }
) throws -> OpaquePointer {
    let conf = try makeConfiguration(properties)
    configure(conf)
    var errbuf = [CChar](repeating: 0, count: 512)
    guard let handle = rd_kafka_new(type, conf, &errbuf, errbuf.count) else {
        rd_kafka_conf_destroy(conf)
        throw KafkaError(.client, errorText(errbuf))
    }
    return handle
}

/// The NUL-terminated text librdkafka wrote into an error buffer.
func errorText(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
