import RuleLanguage

/// What the feature store may forget of an evaluated entity: its records of the topics the program
/// reads only through windows (`FeaturePlan.lookback`) that are dated before every window
/// they could still fall in. Windows end where the entity's own data ends (its clock, its last
/// complete month of a monthly feed, the city's for an absence rule), and those ends only move
/// forward as data arrives, so such a record is never read again; Redis then holds about the
/// program's longest look-back per enterprise, however long the history. Pure.
///
/// `margin` keeps three more months, for the one way an end moves back (the latest records of a
/// feed deleted). Records cited by an active alert are kept, so that its withdrawal can still tell
/// a deleted record from one that left the window. A record that arrives after its month was
/// forgotten is applied as new: its window sums of that month (no window reads) are then not exact.
public struct Retention: Sendable {
    public static let margin = 92

    let program: RuleProgram
    let topics: [String]
    /// Topics whose enterprises' monthly sums feed their divisions' windows.
    let seriesTopics: Set<String>

    public init(program: RuleProgram, plan: FeaturePlan) {
        self.program = program
        self.topics = plan.lookback.keys.sorted()
        self.seriesTopics = plan.seriesTopics
    }

    public var isEmpty: Bool { topics.isEmpty }

    /// The records of `entity`'s `data` that no window reads any more, by topic; `cited`:
    /// `topic/key` of the records its active alerts cite.
    public func expired(_ entity: EntityKey, _ data: EntityData, snapshot: EntitySnapshot, cited: Set<String>) -> [ExpiredRecords] {
        // The entity's own clock: as a related entity its windows end there, not at a relation's day.
        let clock = snapshot.eventClock(data.records)
        var expired: [ExpiredRecords] = []
        for topic in topics {
            guard let records = data.records[topic], !records.isEmpty else { continue }
            let end = [clock, data.windowEnds[topic], data.feeds[topic]?.windowEnd].compactMap { $0 }.min()!
            guard let first = program.firstDayRead(topic: topic, end: end) else { continue }
            let before = first - Self.margin
            let keys = records.filter { $0.eventDay < before && !cited.contains("\(topic)/\($0.key)") }.map(\.key)
            guard !keys.isEmpty else { continue }
            // The enterprise's monthly sums of those months only serve pushes to its division,
            // whose windows read no earlier (its end is no earlier than the enterprise's).
            let sums = entity.kind == .enterprise && seriesTopics.contains(topic) ? before.month : nil
            expired.append(ExpiredRecords(entity: entity, topic: topic, keys: keys, before: before, sumsBefore: sums))
        }
        return expired
    }

    /// The first month of each industry series topic that a division's windows still read when
    /// they end on `asOf` (less the margin); earlier months of its sums and ledgers can go.
    public func industryMonthsKept(asOf: Day) -> [String: Month] {
        var kept: [String: Month] = [:]
        for topic in seriesTopics {
            if let first = program.firstDayRead(topic: topic, end: asOf) { kept[topic] = (first - Self.margin).month }
        }
        return kept
    }
}
