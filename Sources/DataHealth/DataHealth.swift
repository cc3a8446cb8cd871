import CreditWatchCore
import RuleLanguage

/// What the store of record counts of one feed: the raw figures, before they are judged against
/// the catalog (`DataHealthAssessment`).
public struct FeedFigures: Sendable, Hashable {
    public var topic: String
    /// The latest event day of any of its records (deleted ones too: a delete is a delivery).
    public var latestDay: Day?
    /// When its latest record was stored (ISO-8601 UTC).
    public var lastReceivedAt: String?
    /// Current records, deleted ones excluded.
    public var records: Int
    /// Changes stored in the last 30 days of wall-clock time.
    public var receivedLast30Days: Int
    /// Current records by the month of their event day.
    public var monthly: [Month: Int]
    /// Current records by how they were linked; `unrecorded`: linked before the method was kept.
    public var byKey: Int, byAccount: Int, byName: Int, unrecorded: Int, unlinked: Int
    /// When the longest-waiting unlinked record was stored.
    public var unlinkedOldestSince: String?
    public var quarantined: Int
    /// Quarantined messages by the kind of their reason (values masked), most frequent first.
    public var quarantineReasons: [ReasonCount]
    /// For monthly feeds: enterprises with records, and holes in their monthly series.
    public var continuity: Continuity?

    public init(
        topic: String, latestDay: Day? = nil, lastReceivedAt: String? = nil, records: Int = 0, receivedLast30Days: Int = 0,
        monthly: [Month: Int] = [:], byKey: Int = 0, byAccount: Int = 0, byName: Int = 0, unrecorded: Int = 0, unlinked: Int = 0,
        unlinkedOldestSince: String? = nil, quarantined: Int = 0, quarantineReasons: [ReasonCount] = [], continuity: Continuity? = nil
    ) {
        self.topic = topic
        self.latestDay = latestDay
        self.lastReceivedAt = lastReceivedAt
        self.records = records
        self.receivedLast30Days = receivedLast30Days
        self.monthly = monthly
        self.byKey = byKey
        self.byAccount = byAccount
        self.byName = byName
        self.unrecorded = unrecorded
        self.unlinked = unlinked
        self.unlinkedOldestSince = unlinkedOldestSince
        self.quarantined = quarantined
        self.quarantineReasons = quarantineReasons
        self.continuity = continuity
    }
}

public struct ReasonCount: Sendable, Hashable {
    public let reason: String
    public let count: Int
    public init(reason: String, count: Int) {
        self.reason = reason
        self.count = count
    }
}

/// Holes in a monthly feed: months an enterprise has no record in, between its first and its last
/// record, while the feed delivered that month for others. Silence after an enterprise's last
/// record is not a hole: it may be the enterprise, and the absence rules judge it.
public struct Continuity: Sendable, Hashable {
    /// Enterprises with records in the feed.
    public let enterprises: Int
    public let enterprisesWithGaps: Int
    public let missingMonths: Int
    public init(enterprises: Int, enterprisesWithGaps: Int, missingMonths: Int) {
        self.enterprises = enterprises
        self.enterprisesWithGaps = enterprisesWithGaps
        self.missingMonths = missingMonths
    }
}

/// The city's figures across feeds.
public struct CityFigures: Sendable, Hashable {
    public var feeds: [FeedFigures]
    /// Distinct linked entities with current records.
    public var enterprises: Int
    public var persons: Int
    public var computedAt: String

    public init(feeds: [FeedFigures], enterprises: Int, persons: Int, computedAt: String) {
        self.feeds = feeds
        self.enterprises = enterprises
        self.persons = persons
        self.computedAt = computedAt
    }
}

/// One feed judged against its catalog entry.
public struct FeedHealth: Sendable, Hashable {
    public let topic: String
    public let department: String
    public let description: String
    public let cadence: Cadence
    public let figures: FeedFigures
    /// The last day its latest delivery covers (a monthly feed: the end of that month).
    public let coveredUntil: Day?
    /// Days from `coveredUntil` to the city clock; nil when it never delivered.
    public let silentDays: Int?
    /// Delivered within `max_silence_days` of the city clock (what the absence rules require too).
    public let fresh: Bool
    /// Days beyond `max_silence_days`: how long it has been stale.
    public let staleDays: Int?
    /// The 24 months ending at the city clock's month, with the feed's records in each.
    public let months: [MonthCount]

    /// Share of current records (unlinked included) that carried a valid key.
    public var keyCoverage: Double? { share(figures.byKey, of: linkable) }
    public var accountShare: Double? { share(figures.byAccount, of: linkable) }
    public var nameShare: Double? { share(figures.byName, of: linkable) }
    public var unlinkedShare: Double? { share(figures.unlinked, of: linkable) }
    private var linkable: Int { figures.byKey + figures.byAccount + figures.byName + figures.unrecorded + figures.unlinked }
}

public struct MonthCount: Sendable, Hashable {
    public let month: Month
    public let records: Int
    public init(month: Month, records: Int) {
        self.month = month
        self.records = records
    }
}

/// The city's data health: every catalog feed, and the summary the seed's failure was told in
/// ("28 % of catalogues fresh").
public struct CityDataHealth: Sendable {
    /// The city's event-time clock: the latest business date any business-dated feed delivered.
    public let asOf: Day?
    public let computedAt: String
    public let feeds: [FeedHealth]
    public let enterprises: Int
    public let persons: Int

    public var freshFeeds: Int { feeds.filter(\.fresh).count }
    public var freshShare: Double? { share(freshFeeds, of: feeds.count) }
    public var records: Int { feeds.reduce(0) { $0 + $1.figures.records } }
    public var unlinked: Int { feeds.reduce(0) { $0 + $1.figures.unlinked } }
    public var quarantined: Int { feeds.reduce(0) { $0 + $1.figures.quarantined } }
    /// Share of all current records that carried a valid key.
    public var keyCoverage: Double? {
        let linkable = feeds.reduce(0) { $0 + $1.figures.byKey + $1.figures.byAccount + $1.figures.byName + $1.figures.unrecorded + $1.figures.unlinked }
        return share(feeds.reduce(0) { $0 + $1.figures.byKey }, of: linkable)
    }

    public func feed(_ topic: String) -> FeedHealth? { feeds.first { $0.topic == topic } }
}

/// Judges the store's figures against the catalog: freshness exactly as the engine judges it for
/// absence rules (`EntitySnapshot`), so the dashboard never calls a feed fresh that rules treat
/// as stale.
public enum DataHealthAssessment {
    /// Months of history shown per feed.
    public static let months = 24

    public static func assess(_ figures: CityFigures, catalog: TopicCatalog) -> CityDataHealth {
        let snapshot = EntitySnapshot(catalog: catalog)
        var clock = FeedClock()
        for feed in figures.feeds { if let day = feed.latestDay { clock.observe(topic: feed.topic, day: day) } }
        let asOf = snapshot.cityClock(clock)
        let byTopic = Dictionary(figures.feeds.map { ($0.topic, $0) }) { a, _ in a }
        let window: [Month] = asOf.map { end in (0..<months).map { end.month - (months - 1) + $0 } } ?? []
        let feeds = catalog.topics.values.sorted { $0.name < $1.name }.map { topic -> FeedHealth in
            let counted = byTopic[topic.name] ?? FeedFigures(topic: topic.name)
            var covered: Day?, silent: Int?, stale: Int?, fresh = false
            if let latest = counted.latestDay, let asOf {
                covered = snapshot.coveredUntil(topic: topic.name, latest: latest)
                let days = snapshot.silentDays(topic: topic.name, latest: latest, clock: asOf)
                silent = days
                fresh = days <= topic.cadence.maxSilenceDays
                stale = max(0, days - topic.cadence.maxSilenceDays)
            }
            return FeedHealth(
                topic: topic.name, department: topic.department, description: topic.description, cadence: topic.cadence,
                figures: counted, coveredUntil: covered, silentDays: silent, fresh: fresh, staleDays: stale,
                months: window.map { MonthCount(month: $0, records: counted.monthly[$0] ?? 0) })
        }
        return CityDataHealth(asOf: asOf, computedAt: figures.computedAt, feeds: feeds, enterprises: figures.enterprises, persons: figures.persons)
    }
}

/// Where the figures come from (the store of record); `DataHealthStore` is the PostgreSQL one.
public protocol FeedFiguresSource: Sendable {
    func figures() async throws -> CityFigures
}

/// What the API reads: the current assessment (`DataHealthMonitor` keeps it fresh).
public protocol DataHealthReading: Sendable {
    func current() async throws -> CityDataHealth
}

func share(_ part: Int, of whole: Int) -> Double? {
    whole == 0 ? nil : Double(part) / Double(whole)
}
