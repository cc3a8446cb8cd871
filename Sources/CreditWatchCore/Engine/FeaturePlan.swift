import RuleLanguage

/// What the feature store keeps for the live rule program, compiled from it and the catalog.
///
/// Raw records live in PostgreSQL, the store of record. Redis keeps, per enterprise, a ledger of
/// its current records reduced to the fields the program reads (so that an update or delete
/// replaces exactly what was there, and evaluation reads a few bytes per record), the versions of
/// the topics whose history rules read, and per division the monthly sums of the industry series.
/// A reloaded program that reads a field the store does not keep makes the engine rebuild the
/// store from PostgreSQL (`missing(from:)`).
public struct FeaturePlan: Sendable, Hashable {
    /// topic → the fields kept of its records. Every catalog topic is here: one the program does
    /// not read keeps only what moves an entity's clock (a listing's removal date).
    public let fields: [String: Set<String>]
    /// topic → the fields kept of its versions (`topic#history`), for the topics whose history the
    /// program reads.
    public let historyFields: [String: Set<String>]
    /// `topic.field` series summed per division and month (industry rules).
    public let industrySeries: Set<String>
    /// The topics of those series (`tax.payment` of `tax.payment.amount`).
    public let seriesTopics: Set<String>
    /// The topics whose current records evaluation reads.
    public let readTopics: Set<String>
    /// topic → how many days its windows reach back before their end (at a reference end), for the
    /// read topics that the program reads only through windows: their older records are forgotten
    /// (`Retention`), so a program that reaches further back needs the store rebuilt.
    public let lookback: [String: Int]

    public var historyTopics: Set<String> { Set(historyFields.keys) }

    public init(program: RuleProgram, catalog: TopicCatalog) {
        let needs = program.recordFields
        var fields: [String: Set<String>] = [:]
        for topic in catalog.topics.values {
            var kept = needs[topic.name] ?? []
            if let end = topic.endTime { kept.insert(end) }
            fields[topic.name] = kept
        }
        var historyFields: [String: Set<String>] = [:]
        for topic in program.historyTopics {
            historyFields[topic] = needs[topic + RuleProgram.historySuffix] ?? []
        }
        self.fields = fields
        self.historyFields = historyFields
        self.industrySeries = program.industrySeries
        self.seriesTopics = program.industrySeriesTopics
        self.readTopics = program.currentTopics
        let end = Self.referenceEnd
        // Series topics too: their divisions' months before every window are deleted.
        self.lookback = Dictionary(uniqueKeysWithValues: program.windowedTopics.intersection(readTopics.union(seriesTopics)).compactMap { topic in
            program.firstDayRead(topic: topic, end: end).map { (topic, end.value - $0.value) }
        })
    }

    /// The end at which look-backs are compared: months vary in length, so the days of a look-back
    /// in months depend on where it ends.
    static let referenceEnd = Day(year: 2001, month: 1, day: 31)!

    /// A record's fields as the store keeps them.
    public func kept(_ fields: [String: Value], topic: String) -> [String: Value] {
        Self.project(fields, self.fields[topic] ?? [])
    }

    private static func project(_ fields: [String: Value], _ names: Set<String>) -> [String: Value] {
        var kept = [String: Value](minimumCapacity: names.count)
        for name in names { if let value = fields[name] { kept[name] = value } }
        return kept
    }

    /// Every kept field by topic, `topic#history` for versions, and the columns summed into the
    /// windows of each industry series topic as `topic@series` (a new series needs the windows
    /// rebuilt from every record, not only from those that arrive after the reload).
    private var kept: [String: Set<String>] {
        var kept = fields.merging(historyFields.map { ($0.key + RuleProgram.historySuffix, $0.value) }) { a, _ in a }
        for series in industrySeries {
            guard let dot = series.lastIndex(of: ".") else { continue }
            kept[String(series[..<dot]) + Self.seriesSuffix, default: []].insert(String(series[series.index(after: dot)...]))
        }
        for (topic, days) in lookback { kept[topic + Self.lookbackSuffix] = [String(days)] }
        return kept
    }

    static let seriesSuffix = "@series"
    static let lookbackSuffix = "@lookback"

    /// What the store holds under this plan, as the store records it: `topic:field,field` per
    /// topic (`topic#history:…` for versions, `topic@series:…` for summed columns,
    /// `topic@lookback:days` for the records kept), sorted, separated by `;`.
    public var description: String { Self.describe(kept) }

    /// `topic.field` (or `topic#history.field`, or a whole `topic#history`) this plan keeps that a
    /// store holding `held` (its `description`) does not, sorted. A store written before plans
    /// existed (nil) kept every field.
    public func missing(from held: String?) -> [String] {
        guard let held else { return [] }
        let heldFields = Self.parse(held)
        var missing: [String] = []
        for (topic, names) in kept where !topic.hasSuffix(Self.lookbackSuffix) {
            guard let have = heldFields[topic] else {
                missing.append(topic)  // not kept at all (a history newly read)
                continue
            }
            missing += names.subtracting(have).map { "\(topic).\($0)" }
        }
        // Records the store forgot that this plan reads: further back, or without a window.
        for (topic, days) in Self.lookbacks(heldFields) where readTopics.contains(topic) || seriesTopics.contains(topic) {
            if lookback[topic].map({ $0 > days }) ?? true { missing.append(topic + Self.lookbackSuffix) }
        }
        return missing.sorted()
    }

    /// What a store that held `held` holds once it keeps this plan: this plan's description, with
    /// the shorter look-backs of `held` (records forgotten stay forgotten until a rebuild).
    public func description(after held: String?) -> String {
        guard let held else { return description }
        var kept = self.kept
        for (topic, days) in Self.lookbacks(Self.parse(held)) where lookback[topic].map({ $0 > days }) ?? true {
            kept[topic + Self.lookbackSuffix] = [String(days)]
        }
        return Self.describe(kept)
    }

    private static func parse(_ held: String) -> [String: Set<String>] {
        var fields: [String: Set<String>] = [:]
        for part in held.split(separator: ";") {
            guard let colon = part.firstIndex(of: ":") else { continue }
            fields[String(part[..<colon])] = Set(part[part.index(after: colon)...].split(separator: ",").map(String.init))
        }
        return fields
    }

    private static func lookbacks(_ fields: [String: Set<String>]) -> [String: Int] {
        var days: [String: Int] = [:]
        for (key, values) in fields where key.hasSuffix(lookbackSuffix) {
            if let value = values.first.flatMap({ Int($0) }) { days[String(key.dropLast(lookbackSuffix.count))] = value }
        }
        return days
    }

    private static func describe(_ kept: [String: Set<String>]) -> String {
        kept.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value.sorted().joined(separator: ","))" }.joined(separator: ";")
    }
}
