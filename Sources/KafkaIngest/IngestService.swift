import CreditWatchCore
import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import Logging
import Metrics
import ServiceLifecycle

/// The daemon's main loop: take a batch from the consumer group, let the engine process it, and
/// commit the batch's offsets only once its effects are durable.
///
/// A failed batch is never skipped. An outage (a server unreachable or refusing work for now) is
/// waited out: the same batch is retried with back-off (0.25 s doubling to 30 s), shown in
/// `/health` and `creditwatch_ingest_outage{component}`, and nothing is quarantined. A failure
/// of the input (a value a store refuses) is bisected: the halves are processed in order, down
/// to the one message that fails alone, which is quarantined with the reason, so one bad message
/// never holds up the city. Graceful shutdown finishes the batch in flight, commits it and leaves
/// the group.
public struct IngestService: Service {
    private let consumer: KafkaConsumer
    private let partitions: Int32
    private let processor: BatchProcessor
    private let logger: Logger
    private let classify: @Sendable (any Error) -> FailureKind
    private let health: IngestHealth
    private let onBatch: @Sendable (BatchReport) -> Void

    /// `classify` tells an outage from a failure of the input; the daemon composes the adapters'
    /// classifications (an error none of them knows is the input's).
    /// `partitions`: of the changes topic, when `consumer` reads one (see `Ownership`).
    public init(
        consumer: KafkaConsumer, processor: BatchProcessor, logger: Logger, partitions: Int32 = 0,
        classify: @escaping @Sendable (any Error) -> FailureKind = { .input(reason: "\($0)") },
        health: IngestHealth = IngestHealth(), onBatch: @escaping @Sendable (BatchReport) -> Void = { _ in }
    ) {
        self.consumer = consumer
        self.partitions = partitions
        self.processor = processor
        self.logger = logger
        self.classify = classify
        self.health = health
        self.onBatch = onBatch
    }

    public func run() async throws {
        defer { consumer.close() }
        let batchTimer = Metrics.Timer(label: "creditwatch.ingest.batch_duration")
        var owned = Ownership.whole
        // The last batch processed: its offsets were committed without waiting for the broker,
        // so a stop commits them again, waiting (everything processed is committed on a stop).
        var lastProcessed: [InboundMessage] = []
        // In a backlog, the next batch, taken and being decoded while this one is processed (it
        // is not committed before it is processed, so a stop meanwhile only re-delivers it).
        var ahead: Task<BatchProcessor.DecodedBatch, Never>?
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            // Work that waits for ingest to catch up goes on as soon as it has.
            let waiting = await processor.hasPendingWork(caughtUp: true)
            let decoding = ahead ?? Task { [consumer, processor] in
                await processor.decoded(await consumer.nextBatch(idleTimeout: .milliseconds(500), orWhenCaughtUp: waiting))
            }
            let decoded = await decoding.value
            let batch = decoded.messages
            // Asked before the next batch leaves the buffer: this one is not the backlog's last.
            let caughtUp = await consumer.isCaughtUp
            ahead = batch.isEmpty ? nil : consumer.fullBatchIfBuffered().map { next in Task { [processor] in await processor.decoded(next, ahead: true) } }
            watchBrokers()
            // An idle stream still lets the processor finish what waited for the backlog or what a
            // rule-set reload started.
            if batch.isEmpty, await !processor.hasPendingWork(caughtUp: caughtUp) {
                // Its own partitions read, an instance may still wait for the others' (shared city).
                if waiting { try? await Task.sleep(for: .milliseconds(100)) }
                continue
            }
            let started = DispatchTime.now()
            let ownership = consumer.ownership(partitions: partitions)
            if ownership != owned {
                logger.notice("this instance decides for \(ownership)")
                owned = ownership
            }
            guard let report = await process(batch[...], decoded: decoded, caughtUp: caughtUp, ownership: ownership) else { break }
            do {
                if !batch.isEmpty {
                    try await consumer.commit(batch, waiting: false)
                    lastProcessed = batch
                }
            } catch {
                // The effects are durable and idempotent: a failed commit only means re-delivery.
                logger.warning("offset commit failed; the batch will be re-delivered", metadata: ["error": "\(error)"])
            }
            // An outage waited out while processing this batch is over now.
            if let over = health.snapshot.outage?.component {
                Gauge(label: "creditwatch.ingest.outage", dimensions: [("component", over)]).record(0)
                logger.info("outage over; ingest goes on", metadata: ["component": "\(over)"])
            }
            health.committed(at: Self.now(), catchingUp: report.evaluationPending)
            batchTimer.recordInterval(since: started)
            record(report)
            onBatch(report)
        }
        do {
            try await consumer.commit(lastProcessed)
        } catch {
            logger.warning("offset commit failed at the stop; the last batch will be re-delivered", metadata: ["error": "\(error)"])
        }
        logger.info("ingest stopped")
    }

    /// A cluster that librdkafka cannot reach is an outage of `kafka` (it reconnects by itself;
    /// nothing here retries), over once it answers again.
    private func watchBrokers() {
        let outage = health.snapshot.outage
        if let problem = consumer.brokerProblem {
            // Reported when it starts and when librdkafka says something new (not on every idle poll).
            guard outage == nil || (outage?.component == "kafka" && outage?.error != problem) else { return }
            if outage == nil {
                logger.warning("the Kafka cluster is unreachable", metadata: ["error": "\(problem)"])
                Gauge(label: "creditwatch.ingest.outage", dimensions: [("component", "kafka")]).record(1)
            }
            health.failed(component: "kafka", error: problem, at: Self.now())
        } else if outage?.component == "kafka" {
            health.recovered(component: "kafka")
            Gauge(label: "creditwatch.ingest.outage", dimensions: [("component", "kafka")]).record(0)
            logger.info("outage over; ingest goes on", metadata: ["component": "kafka"])
        }
    }

    /// Processes `batch`: retried while an outage lasts, bisected when its input fails. Nil when
    /// shutting down first.
    /// `decoded`: the whole batch decoded already (not for its halves).
    func process(
        _ batch: ArraySlice<InboundMessage>, decoded: BatchProcessor.DecodedBatch? = nil, caughtUp: Bool, ownership: Ownership
    ) async -> BatchReport? {
        var backoff = Backoff()
        var ownership = ownership
        while true {
            let failure: any Error
            do {
                if let decoded { return try await processor.process(decoded, caughtUp: caughtUp, ownership: ownership) }
                return try await processor.process(Array(batch), caughtUp: caughtUp, ownership: ownership)
            } catch {
                failure = error
            }
            if Task.isShuttingDownGracefully || Task.isCancelled { return nil }
            switch classify(failure) {
            case .outage(let component):
                await waitOut(component: component, error: failure, messages: batch.count, &backoff)
            case .fenced:
                // A rebalance moved a partition away while this batch was in flight: once librdkafka
                // has applied it here, the batch goes again as this instance's assignment is now
                // (its records stored and windows updated again, idempotently; decisions only for
                // what it still owns).
                logger.notice("batch fenced: another instance claimed a partition it decided for", metadata: ["reason": "\(failure)"])
                Counter(label: "creditwatch.ingest.fenced").increment()
                let delay = backoff.next()
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: delay) }
                ownership = consumer.ownership(partitions: partitions)
            case .input(let reason) where batch.isEmpty:
                // Only pending work (a re-evaluation after a reload) failed: there is no message
                // to blame, so it is retried like an outage.
                await waitOut(component: "engine", error: reason, messages: 0, &backoff)
            case .input(let reason) where batch.count == 1:
                return await quarantine(batch.first!, reason: reason)
            case .input(let reason):
                logger.warning(
                    "batch failed on its input; bisecting to the message that causes it",
                    metadata: ["reason": "\(reason)", "messages": "\(batch.count)"])
                Counter(label: "creditwatch.ingest.bisections").increment()
                let middle = batch.startIndex + batch.count / 2
                guard var report = await process(batch[..<middle], caughtUp: false, ownership: ownership),
                    let second = await process(batch[middle...], caughtUp: caughtUp, ownership: ownership)
                else { return nil }
                report.add(second)
                return report
            }
        }
    }

    /// Quarantines one message whose processing fails alone (retrying the write during an outage).
    private func quarantine(_ message: InboundMessage, reason: String) async -> BatchReport? {
        let full = "processing failed: \(reason)"
        logger.error(
            "message quarantined: its processing fails",
            metadata: [
                "topic": "\(message.topic)", "partition": "\(message.partition)", "offset": "\(message.offset)",
                "reason": "\(reason)",
            ])
        var backoff = Backoff()
        while true {
            do {
                let report = try await processor.quarantine(message, reason: full)
                health.quarantinedAfterBisection(1)
                Counter(label: "creditwatch.ingest.poison_quarantined").increment()
                return report
            } catch {
                if Task.isShuttingDownGracefully || Task.isCancelled { return nil }
                let component: String
                switch classify(error) {
                case .outage(let c): component = c
                case .input, .fenced: component = "postgresql"  // a quarantine row fails on neither its input nor a fence
                }
                await waitOut(component: component, error: error, messages: 1, &backoff)
            }
        }
    }

    /// Reports an outage of `component` and sleeps the next back-off step before the retry.
    private func waitOut(component: String, error: Any, messages: Int, _ backoff: inout Backoff) async {
        let delay = backoff.next()
        health.failed(component: component, error: "\(error)", at: Self.now())
        Gauge(label: "creditwatch.ingest.outage", dimensions: [("component", component)]).record(1)
        Counter(label: "creditwatch.ingest.retries", dimensions: [("component", component)]).increment()
        Counter(label: "creditwatch.ingest.batch_failures").increment()
        logger.error(
            "batch waits for \(component); retrying",
            metadata: ["error": "\(error)", "messages": "\(messages)", "retry_in": "\(delay)"])
        try? await cancelWhenGracefulShutdown { try await Task.sleep(for: delay) }
    }

    /// Waits between retries: 0.25 s, doubling up to 30 s.
    struct Backoff {
        private var delay = Duration.milliseconds(250)

        mutating func next() -> Duration {
            defer { delay = min(delay * 2, .seconds(30)) }
            return delay
        }
    }

    static func now() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }

    private func record(_ report: BatchReport) {
        for (topic, count) in report.byTopic {
            Counter(label: "creditwatch.ingest.messages", dimensions: [("topic", topic)]).increment(by: count)
        }
        Counter(label: "creditwatch.ingest.quarantined").increment(by: report.quarantined)
        Counter(label: "creditwatch.ingest.unlinked").increment(by: report.unlinked)
        Counter(label: "creditwatch.rules.firings").increment(by: report.firings)
        Counter(label: "creditwatch.rules.entities_evaluated").increment(by: report.entitiesEvaluated)
        Counter(label: "creditwatch.rules.evaluations_deferred").increment(by: report.deferred)
        Counter(label: "creditwatch.features.records_forgotten").increment(by: report.forgotten)
        for (stage, duration) in report.stages {
            Metrics.Timer(label: "creditwatch.ingest.stage_duration", dimensions: [("stage", stage)]).record(duration: duration)
        }
        logger.debug(
            "batch processed",
            metadata: [
                "messages": "\(report.messages)", "evaluated": "\(report.entitiesEvaluated)", "swept": "\(report.swept)",
                "deferred": "\(report.deferred)", "industries": "\(report.industriesEvaluated)", "pending": "\(report.evaluationPending)",
                "ms": "\(report.stages.sorted { $0.key < $1.key }.map { "\($0.key)=\(Int($0.value / .milliseconds(1)))" }.joined(separator: ","))",
            ])
    }
}
