import RuleLanguage

/// The months a replay walks through and the city's feed clock at the end of each: what the
/// engine's persisted `FeedClock` would have said had it been running then, so that absence rules
/// see a feed as fresh or stale exactly as they would have.
struct ReplayTimeline {
    /// The last month of the whole data set (the month of the latest event day of any record).
    let last: Month
    /// month → the clock of all current records whose event day is at most the month's last day.
    private let clocks: [Month: FeedClock]

    /// Nil when the history holds no records. The clock is built from current records only: a
    /// `#history` version is an earlier state of a current record, not another delivery. Each
    /// record counts at its business day, as the engine observes it (a removal date included).
    init?(_ history: ReplayHistory, snapshot: EntitySnapshot) {
        var byMonth: [Month: FeedClock] = [:]
        for topics in history.enterprises.values {
            for (topic, records) in topics where !ReplayHistory.isHistory(topic) {
                for record in records {
                    let day = snapshot.businessDay(topic: topic, eventDay: record.eventDay, fields: record.fields)
                    byMonth[day.month, default: FeedClock()].observe(topic: topic, day: day)
                }
            }
        }
        guard let first = byMonth.keys.min(), let last = byMonth.keys.max() else { return nil }
        var clocks: [Month: FeedClock] = [:]
        var running = FeedClock()
        var month = first
        while month <= last {
            if let delivered = byMonth[month] { running.merge(delivered) }
            clocks[month] = running
            month = month + 1
        }
        self.last = last
        self.clocks = clocks
    }

    /// The city's clock at the end of `month` (empty before the first record; replays never go
    /// past `last`).
    func clock(at month: Month) -> FeedClock { clocks[month] ?? FeedClock() }
}
