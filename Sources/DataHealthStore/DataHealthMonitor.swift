import CreditWatchCore
import DataHealth
import Logging
import Metrics
import ServiceLifecycle

/// Keeps the city's data health current: recounts the figures every `interval` (a `Service`) and
/// on a read older than that, one count at a time however many readers wait, and publishes the
/// per-feed gauges (`creditwatch_feed_*`) for Prometheus. The counts scan the credit information
/// base, so the API never triggers more than one per interval, and a count that takes long
/// spaces the next ones out (`spacing`).
public actor DataHealthMonitor: DataHealthReading, Service {
    let source: any FeedFiguresSource
    let catalog: TopicCatalog
    let interval: Duration
    let logger: Logger
    private var latest: (health: CityDataHealth, at: ContinuousClock.Instant, took: Duration)?
    private var counting: Task<CityDataHealth, any Error>?

    /// `interval` zero: every read recounts (tests).
    public init(source: any FeedFiguresSource, catalog: TopicCatalog, interval: Duration, logger: Logger) {
        self.source = source
        self.catalog = catalog
        self.interval = interval
        self.logger = logger
    }

    public func current() async throws -> CityDataHealth {
        if let latest, ContinuousClock.now - latest.at < spacing { return latest.health }
        return try await recount()
    }

    /// How far apart counts are: `interval`, or `slowness` times as long as the last count took,
    /// whichever is longer, so that the scans take at most a twentieth of one PostgreSQL backend's
    /// time. Measured (2026-12-06, `benchmarks/live-latency.sh 2000 60 1000`): the count of the
    /// 1 000-enterprise city's 240 000 records takes ~0.5 s, each minute, and the live batches
    /// beside it took up to 230 ms instead of ~50; the seed city's 26 M records would keep a core
    /// scanning without end at a count a minute.
    public var spacing: Duration { Self.spacing(interval: interval, lastCountTook: latest?.took) }
    static let slowness = 20

    public static func spacing(interval: Duration, lastCountTook took: Duration?) -> Duration {
        guard interval > .zero, let took else { return interval }
        return max(interval, took * slowness)
    }

    /// Recounts every interval. The first count waits an interval too (or the first read): a
    /// daemon starting on a backlog spends its first seconds ingesting, not scanning.
    public func run() async {
        let period = max(interval, .seconds(5))
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            // A stop does not wait out the interval.
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: max(period, self.spacing)) }
            guard !Task.isCancelled && !Task.isShuttingDownGracefully else { return }
            do {
                // A read may have counted meanwhile.
                _ = try await current()
            } catch {
                logger.warning("data health not counted", metadata: ["error": "\(String(reflecting: error))"])
            }
        }
    }

    private func recount() async throws -> CityDataHealth {
        if let counting { return try await counting.value }
        let source = self.source, catalog = self.catalog
        let task = Task { DataHealthAssessment.assess(try await source.figures(), catalog: catalog) }
        counting = task
        defer { counting = nil }
        let started = ContinuousClock.now
        let health = try await task.value
        latest = (health, ContinuousClock.now, ContinuousClock.now - started)
        Self.publish(health)
        return health
    }

    /// The gauges of every feed and the city's share of fresh feeds.
    static func publish(_ health: CityDataHealth) {
        for feed in health.feeds {
            let topic = [("topic", feed.topic)]
            Gauge(label: "creditwatch_feed_fresh", dimensions: topic).record(feed.fresh ? 1 : 0)
            Gauge(label: "creditwatch_feed_silent_days", dimensions: topic).record(feed.silentDays ?? -1)
            Gauge(label: "creditwatch_feed_records", dimensions: topic).record(feed.figures.records)
            Gauge(label: "creditwatch_feed_key_coverage", dimensions: topic).record(feed.keyCoverage ?? 0)
            Gauge(label: "creditwatch_feed_unlinked", dimensions: topic).record(feed.figures.unlinked)
            Gauge(label: "creditwatch_feed_quarantined", dimensions: topic).record(feed.figures.quarantined)
            Gauge(label: "creditwatch_feed_continuity_gaps", dimensions: topic).record(feed.figures.continuity?.missingMonths ?? 0)
        }
        Gauge(label: "creditwatch_feeds_fresh_share").record(health.freshShare ?? 0)
    }
}
