import RuleLanguage
import Synchronization

/// The city's feeds in event time: the latest business date each department feed has delivered,
/// and from them the city's clock and each feed's freshness by its catalog cadence. The engine
/// keeps one (persisted in the feature store); `rules test` and `replay` build their own from the
/// records they evaluate, so that all three assemble an entity's data the same way.
public struct FeedClock: Sendable, Hashable {
    /// topic → the latest event day seen on it, city-wide.
    public private(set) var latest: [String: Day]

    public init(latest: [String: Day] = [:]) {
        self.latest = latest
    }

    /// Notes a record's event day; true when the topic's latest day moved.
    @discardableResult
    public mutating func observe(topic: String, day: Day) -> Bool {
        guard latest[topic].map({ day > $0 }) ?? true else { return false }
        latest[topic] = day
        return true
    }

    public mutating func merge(_ other: FeedClock) {
        for (topic, day) in other.latest { observe(topic: topic, day: day) }
    }
}

/// Builds what the rule program evaluates for one entity from its current records: the entity's
/// event-time clock (`asOf`), where each feed's windows end, and the feeds' city-wide state.
public struct EntitySnapshot: Sendable {
    /// Topics whose event time is a business date (not a row-update timestamp): the entity's clock
    /// is the latest business date among its records in these topics.
    let clockTopics: Set<String>
    /// Monthly feeds: their windows end with the last complete month of the entity's own records.
    let monthlyTopics: Set<String>
    /// Monthly feeds dated by a billing period (`water.usage`, `hrss.insurance`): an enterprise's
    /// record for a period is its whole month, so that month counts as soon as it arrives.
    let periodTopics: Set<String>
    /// topic → cadence, for freshness.
    let cadences: [String: Cadence]
    /// topic → its `end_time` field (a listing's removal date).
    public let endTimes: [String: String]
    /// The feeds' states for the last clock asked: every entity of a batch is evaluated against
    /// the same clock (rebuilding them per entity was 3 % of the daemon's CPU under live load).
    private let lastFeedStates = LastFeedStates()

    public init(catalog: TopicCatalog) {
        // A person-only feed never moves the city's clock: its event time may be a date in the
        // future (a driving licence's `valid_until`), which would make every enterprise feed look
        // years stale and suspend every absence rule.
        clockTopics = Set(catalog.topics.values.filter { topic in
            topic.fields.first { $0.name == topic.eventTime }?.type != .timestamp && topic.entity.kind != .person
        }.map(\.name))
        monthlyTopics = Set(catalog.topics.values.filter { $0.cadence.expected == .monthly }.map(\.name))
        periodTopics = Set(catalog.topics.values.filter { $0.field($0.eventTime)?.format == .period }.map(\.name))
        cadences = catalog.topics.mapValues(\.cadence)
        endTimes = catalog.topics.compactMapValues(\.endTime)
    }

    /// The latest business date a record states: its event day, or its end date (a removal) when
    /// that is later. A listing lifted on 1 May moves its enterprise's clock to 1 May.
    public func businessDay(topic: String, eventDay: Day, fields: [String: Value]) -> Day {
        Self.businessDay(eventDay: eventDay, fields: fields, endTime: endTimes[topic])
    }

    private static func businessDay(eventDay: Day, fields: [String: Value], endTime: String?) -> Day {
        if let endTime, case .date(let end)? = fields[endTime], end > eventDay { return end }
        return eventDay
    }

    public func data(
        entity: String, kind: SubjectKind = .enterprise, records: [String: [FactRecord]], feeds: FeedClock,
        related: [String: [RelatedEntity]] = [:]
    ) -> EntityData {
        var asOf = eventClock(records)
        // What is known of an enterprise includes what is known of its relations: a legal
        // representative listed today makes today the day its alert is about. Never past the city's
        // clock, so that a related record dated in the future cannot move its windows.
        let relatedDays = related.values.joined().flatMap { [$0.data.asOf, $0.edge.eventDay] }
        if let latest = relatedDays.max(), latest > asOf, let city = cityClock(feeds) { asOf = max(asOf, min(latest, city)) }
        return EntityData(
            entity: entity, kind: kind, asOf: asOf, records: records, windowEnds: windowEnds(records, asOf: asOf),
            feeds: feedStates(feeds), related: related)
    }

    /// The city's event-time clock: the latest business date any business-dated feed delivered.
    public func cityClock(_ feeds: FeedClock) -> Day? {
        feeds.latest.filter { clockTopics.contains($0.key) }.values.max()
    }

    /// Each feed's state: a monthly feed covers up to the end of the latest month it delivered and
    /// its absence windows end with the last complete month before it; other feeds cover up to their
    /// latest day. A feed is fresh while the city clock is at most its `max_silence_days` past its
    /// coverage.
    public func feedStates(_ feeds: FeedClock) -> [String: FeedState] {
        if let last = lastFeedStates.value.withLock({ $0 }), last.clock == feeds { return last.states }
        let states = computedFeedStates(feeds)
        lastFeedStates.value.withLock { $0 = (feeds, states) }
        return states
    }

    private func computedFeedStates(_ feeds: FeedClock) -> [String: FeedState] {
        guard let clock = cityClock(feeds) else { return [:] }
        var states: [String: FeedState] = [:]
        for (topic, latest) in feeds.latest {
            states[topic] = FeedState(
                windowEnd: monthlyTopics.contains(topic) ? Self.lastCompleteMonthEnd(latest) : latest,
                fresh: silentDays(topic: topic, latest: latest, clock: clock) <= (cadences[topic]?.maxSilenceDays ?? 0))
        }
        return states
    }

    /// The last day a feed's latest delivery covers: the end of its month for a monthly feed.
    public func coveredUntil(topic: String, latest: Day) -> Day {
        monthlyTopics.contains(topic) ? latest.month.lastDay : latest
    }

    /// Days from what a feed covers to the city clock: stale beyond its `max_silence_days`.
    public func silentDays(topic: String, latest: Day, clock: Day) -> Int {
        max(0, clock.value - coveredUntil(topic: topic, latest: latest).value)
    }

    /// A monthly feed's windows end with the enterprise's last complete month in that feed,
    /// whatever the other feeds or partitions have reached: for a period feed the month of its
    /// latest record (the record is the month), for others the month before it (payments of a
    /// month still arriving never look like a collapse).
    func windowEnds(_ records: [String: [FactRecord]], asOf: Day) -> [String: Day] {
        var ends: [String: Day] = [:]
        for topic in monthlyTopics {
            let latest = records[topic]?.lazy.map(\.eventDay).max()
            if periodTopics.contains(topic), let latest {
                ends[topic] = latest.month.lastDay
            } else {
                ends[topic] = Self.lastCompleteMonthEnd(latest ?? asOf)
            }
        }
        return ends
    }

    /// The last day of the month before `day`'s: the end of the last complete month.
    public static func lastCompleteMonthEnd(_ day: Day) -> Day { (day.month - 1).lastDay }

    /// The entity's event-time clock: its latest business date, so windows end where its data ends.
    public func eventClock(_ byTopic: [String: [FactRecord]]) -> Day {
        // A topic's end-time field is looked up once, not per record: this runs for every entity
        // evaluated, over all of its records.
        // By index: a record copied out of its array would retain and release its strings and fields.
        var latest: Day?
        for (topic, records) in byTopic where clockTopics.contains(topic) {
            let endTime = endTimes[topic]
            for i in records.indices {
                let day = Self.businessDay(eventDay: records[i].eventDay, fields: records[i].fields, endTime: endTime)
                if latest.map({ day > $0 }) ?? true { latest = day }
            }
        }
        if let latest { return latest }
        return byTopic.values.lazy.joined().map(\.eventDay).max() ?? Day(0)
    }
}

/// `EntitySnapshot`'s memo of the last feed states (a class: the snapshot is copied around).
private final class LastFeedStates: Sendable {
    let value = Mutex<(clock: FeedClock, states: [String: FeedState])?>(nil)
}
