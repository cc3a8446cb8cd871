import CreditWatchCore

/// Builders of the exact message bytes of `design/EVENTS.md`: Debezium change events (schemas
/// disabled), plain rows, and primary-key message keys.
///
/// A `[String: FeedValue]` row renders with its keys sorted byte-wise (a dictionary has no order);
/// a ``JSONObject`` row keeps its declared order. Output is compact JSON, UTF-8, no whitespace.
public enum Envelope {
    /// The Debezium change event
    /// `{"before":…,"after":…,"source":{"connector":…,"db":…,"table":…,"ts_ms":…},"op":…,"ts_ms":…}`.
    ///
    /// - Parameters:
    ///   - op: `c` create, `u` update, `d` delete (then `after` is nil), `r` snapshot read.
    ///   - tsMs: the envelope's `ts_ms` (when the connector processed the change).
    ///   - db, table: default to the topic's first segment and the topic with `.` → `_`
    ///     (`tax.payment` → `tax`, `tax_payment`).
    ///   - sourceTsMs: the source's `ts_ms` (the commit time); defaults to `tsMs`.
    public static func debezium(
        topic: String, op: String, before: [String: FeedValue]? = nil, after: [String: FeedValue]?, tsMs: Int64,
        db: String? = nil, table: String? = nil, connector: String = "postgresql", sourceTsMs: Int64? = nil
    ) -> [UInt8] {
        debezium(
            topic: topic, op: op, before: before.map(JSONObject.init(sorting:)),
            after: after.map(JSONObject.init(sorting:)), tsMs: tsMs, db: db, table: table, connector: connector,
            sourceTsMs: sourceTsMs)
    }

    /// The Debezium change event for rows with a declared key order.
    public static func debezium(
        topic: String, op: String, before: JSONObject? = nil, after: JSONObject?, tsMs: Int64,
        db: String? = nil, table: String? = nil, connector: String = "postgresql", sourceTsMs: Int64? = nil
    ) -> [UInt8] {
        var writer = JSONWriter(capacity: 512)
        writer.raw("{\"before\":")
        if let before { writer.object(before) } else { writer.raw("null") }
        writer.raw(",\"after\":")
        if let after { writer.object(after) } else { writer.raw("null") }
        writer.raw(",\"source\":{\"connector\":")
        writer.string(connector)
        writer.raw(",\"db\":")
        writer.string(db ?? Feed.database(ofTopic: topic))
        writer.raw(",\"table\":")
        writer.string(table ?? Feed.table(ofTopic: topic))
        writer.raw(",\"ts_ms\":")
        writer.integer(sourceTsMs ?? tsMs)
        writer.raw("},\"op\":")
        writer.string(op)
        writer.raw(",\"ts_ms\":")
        writer.integer(tsMs)
        writer.raw("}")
        return writer.bytes
    }

    /// A plain-envelope value: the row itself as one JSON object (keys sorted).
    public static func plain(_ row: [String: FeedValue]) -> [UInt8] { JSONObject(sorting: row).jsonBytes }

    /// A plain-envelope value with the row's declared key order.
    public static func plain(_ row: JSONObject) -> [UInt8] { row.jsonBytes }

    /// A message key: the primary key as a JSON object, e.g. `{"id":"SK2020050112"}` (keys sorted).
    public static func key(_ pk: [String: FeedValue]) -> [UInt8] { JSONObject(sorting: pk).jsonBytes }

    /// A message key with the declared key order.
    public static func key(_ pk: JSONObject) -> [UInt8] { pk.jsonBytes }
}

/// ``Envelope`` under a name that does not clash with `CreditWatchCore.Envelope` (the catalog's
/// envelope kind), for code that imports both modules.
public typealias SimulatedEnvelope = Envelope

/// What was wrong, on purpose, with a deliberately bad message.
public enum InputDefect: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// The value is not JSON at all (binary garbage, or a JSON text cut short).
    case notJSON = "not_json"
    /// Valid JSON, but not the topic's envelope (a Debezium event without `op`).
    case wrongEnvelope = "wrong_envelope"
    /// A field has a value of the wrong JSON type (`"amount": true`).
    case wrongFieldType = "wrong_field_type"
    /// A required field is absent.
    case missingRequiredField = "missing_required_field"
    /// A USCC whose check character is wrong.
    case invalidUSCC = "invalid_uscc"
    /// An ID number whose birth date does not exist (check character correct).
    case impossibleBirthDate = "impossible_birth_date"
    /// A water record with a null USCC, an empty account number and an empty customer name:
    /// well-formed, but nothing can link it to an enterprise.
    case unlinkable

    public var description: String { rawValue }
}

/// One Kafka message to produce: topic, key bytes (nil = no key) and value bytes (nil = tombstone).
public struct SimulatedMessage: Sendable, Hashable {
    public let topic: String
    public let key: [UInt8]?
    /// nil is a tombstone (the message that follows a delete).
    public let value: [UInt8]?
    /// Set for the deliberately bad messages, saying what is wrong; nil for every good message.
    public let defect: InputDefect?

    public init(topic: String, key: [UInt8]?, value: [UInt8]?, defect: InputDefect? = nil) {
        self.topic = topic
        self.key = key
        self.value = value
        self.defect = defect
    }

    public var isTombstone: Bool { value == nil }

    /// A Debezium change of `feed`, keyed by the feed's primary key taken from `after` (or `before`
    /// for a delete). `withKey: false` leaves the key absent.
    public static func change(
        _ feed: Feed, op: String, before: JSONObject? = nil, after: JSONObject?, tsMs: Int64, withKey: Bool = true
    ) -> SimulatedMessage {
        let row = after ?? before
        let key = withKey ? row?[feed.primaryKey].map { Envelope.key([feed.primaryKey: $0]) } : nil
        return SimulatedMessage(
            topic: feed.topic, key: key,
            value: Envelope.debezium(topic: feed.topic, op: op, before: before, after: after, tsMs: tsMs))
    }

    /// A Debezium change of `feed` with unordered rows (keys sorted).
    public static func change(
        _ feed: Feed, op: String, before: [String: FeedValue]? = nil, after: [String: FeedValue]?, tsMs: Int64,
        withKey: Bool = true
    ) -> SimulatedMessage {
        change(
            feed, op: op, before: before.map(JSONObject.init(sorting:)), after: after.map(JSONObject.init(sorting:)),
            tsMs: tsMs, withKey: withKey)
    }

    /// A delete of `row` and the tombstone that follows it, as Debezium emits them.
    public static func deletion(_ feed: Feed, row: JSONObject, tsMs: Int64) -> [SimulatedMessage] {
        let delete = change(feed, op: "d", before: row, after: nil, tsMs: tsMs)
        return [delete, SimulatedMessage(topic: feed.topic, key: delete.key, value: nil)]
    }
}

/// Counts over a list of messages, for the demo's "sent N messages, M deliberately bad".
public struct FeedCensus: Sendable, Hashable {
    public private(set) var messages = 0
    /// Deliberately bad messages (``SimulatedMessage/defect`` set).
    public private(set) var bad = 0
    public private(set) var badByDefect: [InputDefect: Int] = [:]
    /// Tombstones (nil values after deletes); well-formed, to be skipped.
    public private(set) var tombstones = 0
    /// Messages without a key.
    public private(set) var keyless = 0
    public private(set) var byTopic: [String: Int] = [:]
    public private(set) var bytes = 0

    public init<S: Sequence>(_ messages: S) where S.Element == SimulatedMessage {
        for message in messages { add(message) }
    }

    public mutating func add(_ message: SimulatedMessage) {
        messages += 1
        byTopic[message.topic, default: 0] += 1
        bytes += (message.key?.count ?? 0) + (message.value?.count ?? 0)
        if message.value == nil { tombstones += 1 }
        if message.key == nil { keyless += 1 }
        if let defect = message.defect {
            bad += 1
            badByDefect[defect, default: 0] += 1
        }
    }
}
