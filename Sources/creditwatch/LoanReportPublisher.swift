import KafkaIngest
import Logging
import Marketplace
import ServiceLifecycle

/// Publishes the marketplace's loan reports from its outbox to the `finance.loan` feed, which the
/// engine consumes like any department's: at least once, in outbox order, keyed by loan (the
/// feed's version makes a repeat harmless). An unreachable broker is retried at the next tick.
struct LoanReportPublisher: Service {
    static let topic = "finance.loan"

    let market: any MarketplacePort
    let producer: KafkaProducer
    let interval: Duration
    let logger: Logger

    func run() async throws {
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            do {
                while try await publishBatch() == 500 {}
            } catch {
                logger.warning("loan reports not published; retrying", metadata: ["error": "\(error)"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }

    /// Publishes up to 500 pending reports; how many.
    func publishBatch() async throws -> Int {
        let pending = try await market.pendingLoanReports(limit: 500)
        guard !pending.isEmpty else { return 0 }
        try await producer.deliver(pending.map { OutboundMessage(topic: Self.topic, key: Array($0.loanNo.utf8), value: Array($0.payload.utf8)) })
        try await market.markPublished(pending.map(\.id))
        return pending.count
    }
}
