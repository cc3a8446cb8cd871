import RuleLanguage

/// The kind of a change, as Debezium's `op` names it.
public enum ChangeOperation: String, Sendable, Hashable, CaseIterable {
    case create = "c"
    case update = "u"
    case delete = "d"
    /// A snapshot read: an initial or re-sent full load; it means the same as `create`.
    case snapshot = "r"
}

/// The enterprise or person a record is about, or the keys by which it can be linked later.
public enum EntityRef: Hashable, Sendable {
    case enterprise(USCC)
    case person(ResidentID)
    /// No USCC yet (utility customers): the account number and the customer name as sent (not
    /// normalised), at least one of them non-nil.
    case unlinked(accountNo: String?, name: String?)
}

/// One accepted, validated change of one department row.
///
/// Immutable, and kept in one shared object: a batch copies its changes into linked changes,
/// feature updates, effects and lanes, and a copy of the fields one by one retained each string
/// and the fields' dictionary (~6 % of the daemon's time in a backfill went to those retains).
public struct Change: Sendable, Hashable {
    private struct Values: Sendable, Hashable {
        let topic: String
        let key: String
        let operation: ChangeOperation
        let version: Int64
        let fields: [String: Value]
        let eventDay: Day
        let entity: EntityRef
    }

    private final class Storage: Sendable {
        let values: Values
        init(_ values: Values) { self.values = values }
    }

    private let storage: Storage

    public var topic: String { storage.values.topic }
    /// The primary-key value(s) joined by `|`: the record's stable id within the topic.
    public var key: String { storage.values.key }
    public var operation: ChangeOperation { storage.values.operation }
    /// Orders the versions of a row: the topic's `version_field` (epoch ms of a timestamp, or an
    /// int), else the envelope's `ts_ms`, else `source.ts_ms`, else 0.
    public var version: Int64 { storage.values.version }
    /// Every declared field, typed and validated; absent optional fields are `.null`; columns not
    /// in the catalog are dropped. For a delete, the `before` row.
    public var fields: [String: Value] { storage.values.fields }
    /// The business date of the record (`event_time`; a period's first day).
    public var eventDay: Day { storage.values.eventDay }
    public var entity: EntityRef { storage.values.entity }

    public init(
        topic: String, key: String, operation: ChangeOperation, version: Int64, fields: [String: Value], eventDay: Day,
        entity: EntityRef
    ) {
        storage = Storage(
            Values(topic: topic, key: key, operation: operation, version: version, fields: fields, eventDay: eventDay, entity: entity))
    }

    public static func == (a: Change, b: Change) -> Bool { a.storage === b.storage || a.storage.values == b.storage.values }

    public func hash(into hasher: inout Hasher) { hasher.combine(storage.values) }
}

/// What became of one Kafka message.
public enum DecodeOutcome: Sendable, Hashable {
    case change(Change)
    /// An empty or null value (Debezium's tombstone after a delete): nothing to do.
    case tombstone
    /// Bad input, to be quarantined with this precise reason.
    case rejected(reason: String)
}
