import CRdKafka
import Dispatch
import Foundation
import Synchronization

/// A producer for the router, the simulator and the tests: keyed messages, batched by
/// librdkafka, waiting when its queue is full, and `flush` to wait for every delivery.
public final class KafkaProducer: @unchecked Sendable {
    // Safety: librdkafka producer handles are thread-safe.
    private let handle: OpaquePointer
    private let topicPrefix: String
    private let failures: DeliveryFailures

    /// Messages librdkafka gave up delivering so far (its delivery reports): a caller that must
    /// not lose one compares the count before and after its `flush`.
    public var deliveryFailures: Int { failures.count.load(ordering: .relaxed) }

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
        let failures = DeliveryFailures()
        self.failures = failures
        handle = try newClient(RD_KAFKA_PRODUCER, properties) { conf in
            rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(failures).toOpaque())
            rd_kafka_conf_set_dr_msg_cb(conf) { _, message, opaque in
                guard let opaque, let message, message.pointee.err != RD_KAFKA_RESP_ERR_NO_ERROR else { return }
                Unmanaged<DeliveryFailures>.fromOpaque(opaque).takeUnretainedValue().count.add(1, ordering: .relaxed)
            }
        }
        topicPrefix = configuration.topicPrefix
    }

    deinit { rd_kafka_destroy(handle) }

    /// Queues one message for the catalog topic `topic` (the configured prefix is added), to
    /// `partition` or where librdkafka's partitioner puts its key; blocks (serving delivery reports)
    /// while librdkafka's queue is full.
    public func send(topic: String, partition: Int32 = RD_KAFKA_PARTITION_UA, key: [UInt8]?, value: [UInt8]?) throws {
        while true {
            let err: rd_kafka_resp_err_t = (key ?? []).withUnsafeBytes { k in
                (value ?? []).withUnsafeBytes { v in
                    cw_produce(
                        handle, topicPrefix + topic, partition,
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

/// A message to produce: to a catalog topic (the configured prefix is added), to `partition` or
/// where the partitioner puts its key.
public struct OutboundMessage: Sendable {
    public var topic: String
    public var partition: Int32
    public var key: [UInt8]?
    public var value: [UInt8]?

    public init(topic: String, partition: Int32 = RD_KAFKA_PARTITION_UA, key: [UInt8]?, value: [UInt8]?) {
        self.topic = topic
        self.partition = partition
        self.key = key
        self.value = value
    }
}

extension KafkaProducer {
    /// Produces the messages and waits until every one is delivered; throws when any is not.
    /// librdkafka's calls block, so they run off the cooperative pool.
    public func deliver(_ messages: [OutboundMessage]) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            DispatchQueue.global().async {
                do {
                    let failedBefore = self.deliveryFailures
                    for message in messages {
                        try self.send(topic: message.topic, partition: message.partition, key: message.key, value: message.value)
                    }
                    try self.flush()
                    let failed = self.deliveryFailures - failedBefore
                    if failed > 0 { throw KafkaError(.produce, "\(failed) of \(messages.count) messages were not delivered") }
                    continuation.resume()
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }
}

final class DeliveryFailures: Sendable {
    let count = Atomic<Int>(0)
}
