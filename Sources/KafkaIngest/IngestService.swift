import CreditWatchCore
import Dispatch
import Logging
import Metrics
import ServiceLifecycle

/// The daemon's main loop: take a batch from the consumer group, let the engine process it, and
/// commit the batch's offsets only once its effects are durable. A failing store stops progress
/// (the batch is retried with back-off and never skipped); graceful shutdown finishes the batch in
/// flight, commits it and leaves the group.
public struct IngestService: Service {
    private let consumer: KafkaConsumer
    private let processor: BatchProcessor
    private let logger: Logger
    private let onBatch: @Sendable (BatchReport) -> Void

    public init(consumer: KafkaConsumer, processor: BatchProcessor, logger: Logger, onBatch: @escaping @Sendable (BatchReport) -> Void = { _ in }) {
        self.consumer = consumer
        self.processor = processor
        self.logger = logger
        self.onBatch = onBatch
    }

    public func run() async throws {
        defer { consumer.close() }
        let batchTimer = Metrics.Timer(label: "creditwatch.ingest.batch_duration")
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            let batch = await consumer.nextBatch(idleTimeout: .milliseconds(500))
            // An idle stream still lets the processor finish what a rule-set reload started.
            if batch.isEmpty, await !processor.hasPendingWork { continue }
            let started = DispatchTime.now()
            guard let report = await processWithRetry(batch) else { return }
            do {
                if !batch.isEmpty { try await consumer.commit(batch) }
            } catch {
                // The effects are durable and idempotent: a failed commit only means re-delivery.
                logger.warning("offset commit failed; the batch will be re-delivered", metadata: ["error": "\(error)"])
            }
            batchTimer.recordInterval(since: started)
            record(report)
            onBatch(report)
        }
        logger.info("ingest stopped")
    }

    /// Processes the batch, retrying with back-off while the stores fail; nil when shutting down first.
    private func processWithRetry(_ batch: [InboundMessage]) async -> BatchReport? {
        var delay = Duration.milliseconds(250)
        while true {
            do {
                return try await processor.process(batch)
            } catch {
                logger.error("batch failed; retrying", metadata: ["error": "\(error)", "messages": "\(batch.count)", "retry_in": "\(delay)"])
                Counter(label: "creditwatch.ingest.batch_failures").increment()
                if Task.isShuttingDownGracefully || Task.isCancelled { return nil }
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(30))
            }
        }
    }

    private func record(_ report: BatchReport) {
        for (topic, count) in report.byTopic {
            Counter(label: "creditwatch.ingest.messages", dimensions: [("topic", topic)]).increment(by: count)
        }
        Counter(label: "creditwatch.ingest.quarantined").increment(by: report.quarantined)
        Counter(label: "creditwatch.ingest.unlinked").increment(by: report.unlinked)
        Counter(label: "creditwatch.rules.firings").increment(by: report.firings)
        Counter(label: "creditwatch.rules.entities_evaluated").increment(by: report.entitiesEvaluated)
        for (stage, duration) in report.stages {
            Metrics.Timer(label: "creditwatch.ingest.stage_duration", dimensions: [("stage", stage)]).record(duration: duration)
        }
    }
}
