import CRdKafka
import Foundation

/// A producer for the simulator and the tests: keyed messages, batched by librdkafka, waiting
/// when its queue is full, and `flush` to wait for every delivery.
public final class KafkaProducer: @unchecked Sendable {
    // Safety: librdkafka producer handles are thread-safe.
    private let handle: OpaquePointer
    private let topicPrefix: String

    public init(configuration: KafkaConfiguration) throws {
        try LibrdkafkaVersion.check()
        var properties: [(String, String)] = [
            ("bootstrap.servers", configuration.brokers),
            ("client.id", "creditwatch-producer"),
            ("linger.ms", "20"),
            ("batch.num.messages", "10000"),
            ("queue.buffering.max.messages", "200000"),
            ("acks", "all"),
            ("enable.idempotence", "false"),
        ]
        properties += configuration.properties.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        handle = try newClient(RD_KAFKA_PRODUCER, properties)
        topicPrefix = configuration.topicPrefix
    }

    deinit { rd_kafka_destroy(handle) }

    /// Queues one message for the catalog topic `topic` (the configured prefix is added); blocks (serving delivery reports) while librdkafka's queue is full.
    public func send(topic: String, key: [UInt8]?, value: [UInt8]?) throws {
        while true {
            let err: rd_kafka_resp_err_t = (key ?? []).withUnsafeBytes { k in
                (value ?? []).withUnsafeBytes { v in
                    cw_produce(
                        handle, topicPrefix + topic, RD_KAFKA_PARTITION_UA,
                        key == nil ? nil : k.baseAddress, key?.count ?? 0,
                        value == nil ? nil : v.baseAddress, value?.count ?? 0)
                }
            }
            if err == RD_KAFKA_RESP_ERR_NO_ERROR { break }
            if err == RD_KAFKA_RESP_ERR__QUEUE_FULL {
                rd_kafka_poll(handle, 50)
                continue
            }
            throw KafkaError(.produce, err)
        }
        rd_kafka_poll(handle, 0)
    }

    /// Waits until every queued message is delivered (or `timeout` passes).
    public func flush(timeout: Duration = .seconds(60)) throws {
        let err = rd_kafka_flush(handle, Int32(timeout.components.seconds * 1000))
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(.produce, err) }
    }
}
