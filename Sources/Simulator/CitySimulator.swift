import RuleLanguage

/// A deterministic synthetic city: its enterprises and persons, and every message its
/// departments' feeds send, month by month, with planted risk stories and a sprinkle of bad input.
///
/// Pure: no I/O, no clock, no global state. The same configuration gives the same bytes, and
/// ``month(_:)`` can be called for any month on its own. ``all()`` is ``registrations()``
/// followed by every month of the window in order.
///
/// What each batch holds:
/// - ``registrations()``: the departments' tables as they stood before the window (enterprise
///   registrations, taxpayers, real-estate rights, vehicles, driving licences, earlier court
///   cases and dishonest listings), as `c` changes, market first.
/// - ``month(_:)``: tax payments of the previous month (and quarter), water usage and insurance
///   enrolment of the month, water-arrears rows, and the month's events: registrations of new
///   enterprises, legal-representative and status changes, yearly credit ratings (April),
///   penalties, abnormal listings and removals, court cases and closings, dishonest listings,
///   tax arrears, property and vehicle changes, payment corrections (`u`) and cancellations
///   (`d` + tombstone), every sixth month a re-sent snapshot slice (`r`), a few exact duplicates
///   (at-least-once delivery), messages without keys, and deliberately bad messages (their
///   ``SimulatedMessage/defect`` set). Messages are in event-time order.
public struct CitySimulator: Sendable {
    public let configuration: CityConfiguration
    let model: CityModel
    let registrationChanges: [Change]
    let changesByMonth: [Int: [Change]]

    public init(configuration: CityConfiguration = CityConfiguration()) {
        self.configuration = configuration
        let model = CityBuilder.build(configuration)
        self.model = model
        var registrations: [Change] = []
        var byMonth: [Int: [Change]] = model.extraChanges
        let startMs = model.startMs
        let endMs = model.endMs
        func add(_ change: Change) {
            let m = dayOf(change.ts).month.index
            byMonth[m, default: []].append(change)
        }
        for record in model.records {
            if let deleted = record.deletedAt, deleted < startMs { continue }
            var preStart: JSONObject? = nil
            var preStartTs: Int64 = 0
            var previous: JSONObject? = nil
            for version in record.versions {
                defer { previous = version.row }
                if let deleted = record.deletedAt, version.ts >= deleted { break }
                if version.ts < startMs {
                    preStart = version.row
                    preStartTs = version.ts
                    continue
                }
                guard version.ts < endMs else { break }
                add(
                    Change(
                        ts: version.ts, feed: record.feed, op: previous == nil ? .create : .update, before: previous,
                        after: version.row))
            }
            if let preStart {
                registrations.append(
                    Change(ts: preStartTs, feed: record.feed, op: .create, before: nil, after: preStart))
            }
            if let deleted = record.deletedAt, deleted < endMs, let last = record.row(at: deleted - 1) {
                add(Change(ts: deleted, feed: record.feed, op: .delete, before: last, after: nil))
            }
        }
        let feedOrder = Dictionary(uniqueKeysWithValues: Feed.allCases.enumerated().map { ($1, $0) })
        registrations.sort { a, b in
            let fa = feedOrder[a.feed]!
            let fb = feedOrder[b.feed]!
            return fa != fb ? fa < fb : a.ts < b.ts
        }
        self.registrationChanges = registrations
        self.changesByMonth = byMonth
    }

    /// The simulated months, `configuration.start` through `configuration.end`.
    public var months: [Month] { configuration.months }

    /// What was planted, in the order planted (for the demo printout and tests).
    public var plantedStories: [PlantedStory] { model.stories }

    /// Every enterprise of the city (also those deregistered or established during the window).
    public var enterprises: [SimulatedEnterprise] {
        model.enterprises.map {
            SimulatedEnterprise(
                uscc: $0.uscc, name: $0.name, industryCode: $0.classCode,
                districtCode: Gazetteer.districts[$0.district].code, established: $0.established,
                waterAccount: $0.waterAccount)
        }
    }

    /// The departments' tables as they stood before the window; send these first.
    public func registrations() -> [SimulatedMessage] {
        var rng = Rng(configuration.seed, .keys, -1)
        var messages: [SimulatedMessage] = []
        messages.reserveCapacity(registrationChanges.count + 16)
        for change in registrationChanges { render(change, &rng, into: &messages) }
        return sprinkle(messages, month: model.startIndex - 1, salt: -1)
    }

    /// One month of every monthly feed and the events of the month; empty outside the window.
    public func month(_ month: Month) -> [SimulatedMessage] {
        let m = month.index
        guard m >= model.startIndex, m <= model.endIndex else { return [] }
        var changes = model.monthlyChanges(m)
        changes.append(contentsOf: changesByMonth[m] ?? [])
        changes.append(contentsOf: resnapshot(m))
        changes.removeAll { change in configuration.stoppedFeeds[change.feed].map { month > $0 } ?? false }
        // Event-time order; ties keep generation order (a delete before its tombstone).
        let times = changes.map(\.ts)
        let order = times.indices.sorted { times[$0] != times[$1] ? times[$0] < times[$1] : $0 < $1 }
        var rng = Rng(configuration.seed, .keys, m)
        var messages: [SimulatedMessage] = []
        messages.reserveCapacity(changes.count + changes.count / 100)
        for index in order { render(changes[index], &rng, into: &messages) }
        return sprinkle(messages, month: m, salt: m)
    }

    /// ``registrations()`` then every month in order.
    public func all() -> [SimulatedMessage] {
        var messages = registrations()
        for month in months { messages.append(contentsOf: self.month(month)) }
        return messages
    }

    // MARK: Rendering

    func render(_ change: Change, _ rng: inout Rng, into messages: inout [SimulatedMessage]) {
        let feed = change.feed
        let topic = feed.topic
        let keyed = change.op == .delete || !rng.chance(configuration.keylessRate)
        let row = change.after ?? change.before
        let key =
            keyed
            ? row?[feed.primaryKey].map { Envelope.key(JSONObject(distinctKeys: [feed.primaryKey], values: [$0])) }
            : nil
        if configuration.plainFeeds.contains(feed) {
            guard change.op != .delete, let after = change.after else { return }
            messages.append(SimulatedMessage(topic: topic, key: key, value: after.jsonBytes))
            return
        }
        let value = Envelope.debezium(
            topic: topic, op: change.op.rawValue, before: change.before, after: change.after, tsMs: change.ts,
            sourceTsMs: CityModel.sourceTs(change.ts))
        messages.append(SimulatedMessage(topic: topic, key: key, value: value))
        if change.op == .delete {
            messages.append(SimulatedMessage(topic: topic, key: key, value: nil))
        }
    }

    /// Every sixth month the registry, the tax bureau and the traffic police re-send a slice of
    /// their tables as a snapshot: the current rows, unchanged, as `r`.
    func resnapshot(_ m: Int) -> [Change] {
        guard (m - model.startIndex) % 6 == 5 else { return [] }
        var rng = Rng(configuration.seed, .resend, m)
        let at = epochMilliseconds(Month(index: m).lastDay, minute: 22 * 60)
        var changes: [Change] = []
        for (k, index) in model.resnapshotCandidates.enumerated() where rng.chance(configuration.resnapshotRate) {
            let record = model.records[index]
            guard let row = record.row(at: at) else { continue }
            changes.append(Change(ts: at + Int64(k), feed: record.feed, op: .read, before: nil, after: row))
        }
        return changes
    }

    /// Adds exact duplicates (at-least-once delivery) and deliberately bad messages.
    func sprinkle(_ messages: [SimulatedMessage], month m: Int, salt: Int) -> [SimulatedMessage] {
        var rng = Rng(configuration.seed, .defects, salt)
        var result: [SimulatedMessage] = []
        result.reserveCapacity(messages.count + messages.count / 200 + 8)
        var pending: [(due: Int, message: SimulatedMessage)] = []
        for (index, message) in messages.enumerated() {
            result.append(message)
            if message.value != nil, rng.chance(configuration.duplicateRate) {
                pending.append((index + rng.int(1...40), message))
            }
            while let first = pending.first, first.due <= index {
                result.append(first.message)
                pending.removeFirst()
            }
        }
        result.append(contentsOf: pending.map(\.message))

        let expected = Double(result.count) * configuration.badInputRate
        let count = Int(expected) + (rng.unit() < expected - expected.rounded(.down) ? 1 : 0)
        guard count > 0 else { return result }
        let kinds = InputDefect.allCases
        var positions: [(position: Int, serial: Int, message: SimulatedMessage)] = []
        let month = max(m, model.startIndex)
        for serial in 0..<count {
            let kind = kinds[(serial + rng.int(0..<kinds.count)) % kinds.count]
            let defect = model.defect(kind, month: month, serial: (salt + 10) * 10_000 + serial, &rng)
            positions.append((rng.int(0...result.count), serial, defect))
        }
        // Insert from the back so earlier positions stay valid.
        positions.sort { $0.position != $1.position ? $0.position > $1.position : $0.serial > $1.serial }
        for entry in positions { result.insert(entry.message, at: entry.position) }
        return result
    }
}
