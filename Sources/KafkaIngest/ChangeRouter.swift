import CreditWatchCore
import Dispatch
import Logging
import Metrics
import ServiceLifecycle

/// Re-keys the departments' messages by enterprise, as Kafka Streams repartitions: reads the
/// department topics in the router group, picks each message's partition of the changes topic
/// (`ChangeRouting`), forwards it there unchanged (`RoutedMessage`), and commits the department
/// offsets once every forwarded message is delivered. Each instance runs one router and one
/// engine (`IngestService` on the changes topic), so an enterprise's records reach its owner
/// whichever instance read them.
///
/// Forwarding is at least once: a batch re-delivered after a crash is forwarded again, and the
/// engine's processing is idempotent. A failed delivery retries the whole batch with back-off.
public struct ChangeRouter: Service {
    private let consumer: KafkaConsumer
    private let producer: KafkaProducer
    private let routing: ChangeRouting
    private let topic: String
    private let partitions: Int32
    private let logger: Logger

    /// `topic`: the changes topic (catalog name; the prefix is added), of `partitions` partitions.
    public init(
        consumer: KafkaConsumer, producer: KafkaProducer, routing: ChangeRouting, topic: String, partitions: Int32, logger: Logger
    ) {
        self.consumer = consumer
        self.producer = producer
        self.routing = routing
        self.topic = topic
        self.partitions = partitions
        self.logger = logger
    }

    public func run() async throws {
        defer { consumer.close() }
        let forwarded = Counter(label: "creditwatch.router.forwarded")
        let byKey = Counter(label: "creditwatch.router.lookup_failures")
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            let batch = await consumer.nextBatch(idleTimeout: .milliseconds(500))
            if batch.isEmpty { continue }
            let (targets, linked) = await routing.partitions(of: batch, among: partitions)
            if !linked { byKey.increment() }
            var backoff = IngestService.Backoff()
            while true {
                do {
                    try await forward(batch, to: targets)
                    break
                } catch {
                    if Task.isShuttingDownGracefully || Task.isCancelled { return }
                    let delay = backoff.next()
                    logger.error("forwarding to the changes topic failed; retrying", metadata: ["error": "\(error)", "retry_in": "\(delay)"])
                    try? await cancelWhenGracefulShutdown { try await Task.sleep(for: delay) }
                }
            }
            forwarded.increment(by: batch.count)
            do {
                try await consumer.commit(batch)
            } catch {
                logger.warning("router offset commit failed; the batch will be forwarded again", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Produces the batch to the chosen partitions and waits for every delivery.
    private func forward(_ batch: [InboundMessage], to targets: [Int32]) async throws {
        try await producer.deliver(
            zip(batch, targets).map { OutboundMessage(topic: topic, partition: $1, key: nil, value: RoutedMessage.encode($0)) })
    }
}
