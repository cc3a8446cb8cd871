import Access
import Foundation
import Logging
import Marketplace
import RuleLanguage
import ServiceLifecycle

/// The marketplace's own time: every `interval` it expires the applications no bank accepted by
/// their deadline and reports the loans whose row changed (days past due grow by themselves).
/// Idempotent, so several instances may run it; a failed tick is logged and retried at the next.
public struct MarketplaceClock: Service {
    let store: any MarketplacePort
    let interval: Duration
    let today: @Sendable () -> Day
    let logger: Logger

    public init(store: any MarketplacePort, interval: Duration = .seconds(600), today: @escaping @Sendable () -> Day = { Day.today() }, logger: Logger) {
        self.store = store
        self.interval = interval
        self.today = today
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            do {
                let day = today()
                let expired = try await store.expireApplications(today: day)
                if !expired.isEmpty { logger.notice("applications expired unaccepted", metadata: ["ids": "\(expired)"]) }
                let reported = try await store.reportLoans(today: day)
                if reported > 0 { logger.info("loan reports written", metadata: ["reports": "\(reported)", "as_of": "\(day)"]) }
            } catch {
                logger.warning("marketplace clock tick failed; retrying at the next", metadata: ["error": "\(error)"])
            }
            // Shutdown does not wait out the interval.
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }
}
