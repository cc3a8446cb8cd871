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
public struct Change: Sendable, Hashable {
    public let topic: String
    /// The primary-key value(s) joined by `|`: the record's stable id within the topic.
    public let key: String
    public let operation: ChangeOperation
    /// Orders the versions of a row: the topic's `version_field` (epoch ms of a timestamp, or an
    /// int), else the envelope's `ts_ms`, else `source.ts_ms`, else 0.
    public let version: Int64
    /// Every declared field, typed and validated; absent optional fields are `.null`; columns not
    /// in the catalog are dropped. For a delete, the `before` row.
    public let fields: [String: Value]
    /// The business date of the record (`event_time`; a period's first day).
    public let eventDay: Day
    public let entity: EntityRef

    public init(
        topic: String, key: String, operation: ChangeOperation, version: Int64, fields: [String: Value], eventDay: Day,
        entity: EntityRef
    ) {
        self.topic = topic
        self.key = key
        self.operation = operation
        self.version = version
        self.fields = fields
        self.eventDay = eventDay
        self.entity = entity
    }
}

/// What became of one Kafka message.
public enum DecodeOutcome: Sendable, Hashable {
    case change(Change)
    /// An empty or null value (Debezium's tombstone after a delete): nothing to do.
    case tombstone
    /// Bad input, to be quarantined with this precise reason.
    case rejected(reason: String)
}
