import CRdKafka
import Foundation

/// Topic administration through librdkafka's Admin API: the project's scripts and tests create
/// the catalog's topics with it, so nothing depends on a broker auto-creating topics.
public enum KafkaAdmin {
    /// Creates the topics (with the configured prefix) that do not exist yet.
    public static func createTopics(_ names: [String], partitions: Int32, configuration: KafkaConfiguration) throws {
        if names.isEmpty { return }
        let handle = try newClient(
            RD_KAFKA_PRODUCER, [("bootstrap.servers", configuration.brokers)] + configuration.properties.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        defer { rd_kafka_destroy(handle) }
        var errbuf = [CChar](repeating: 0, count: 512)
        var newTopics: [OpaquePointer?] = []
        defer { newTopics.forEach { rd_kafka_NewTopic_destroy($0) } }
        for name in names {
            guard let topic = rd_kafka_NewTopic_new(configuration.topicPrefix + name, partitions, 1, &errbuf, errbuf.count) else {
                throw KafkaError(.client, errorText(errbuf))
            }
            newTopics.append(topic)
        }
        let queue = rd_kafka_queue_new(handle)
        defer { rd_kafka_queue_destroy(queue) }
        newTopics.withUnsafeMutableBufferPointer { buffer in
            rd_kafka_CreateTopics(handle, buffer.baseAddress, buffer.count, nil, queue)
        }
        guard let event = rd_kafka_queue_poll(queue, 30_000) else {
            throw KafkaError(.client, "no answer to CreateTopics within 30 s")
        }
        defer { rd_kafka_event_destroy(event) }
        if rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(.client, rd_kafka_event_error(event))
        }
        guard let result = rd_kafka_event_CreateTopics_result(event) else { return }
        var count = 0
        guard let results = rd_kafka_CreateTopics_result_topics(result, &count) else { return }
        for i in 0..<count {
            let err = rd_kafka_topic_result_error(results[i])
            if err != RD_KAFKA_RESP_ERR_NO_ERROR, err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS {
                let name = String(cString: rd_kafka_topic_result_name(results[i]))
                throw KafkaError(.client, "create topic \(name): \(String(cString: rd_kafka_err2str(err)))")
            }
        }
    }
}
