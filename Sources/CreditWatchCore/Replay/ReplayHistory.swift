import RuleLanguage

/// The stored history of the credit information base as a replay reads it: every enterprise's
/// current records by topic, and the versions of `topic#history` topics (keyed `topic#history`,
/// as the feature store hands them to the engine). Built record by record while the store streams
/// its rows, so that the store decides nothing about how a replay evaluates.
public struct ReplayHistory: Sendable {
    /// enterprise (USCC) → topic → records, in the order `add` received them.
    public private(set) var enterprises: [String: [String: [FactRecord]]] = [:]

    public init() {}

    /// Adds one record of an enterprise (its `topic` says whether it is a current record or a
    /// `#history` version).
    public mutating func add(_ record: FactRecord, enterprise: String) {
        enterprises[enterprise, default: [:]][record.topic, default: []].append(record)
    }

    public var recordCount: Int { enterprises.values.reduce(0) { $0 + $1.values.reduce(0) { $0 + $1.count } } }

    /// The catalog topics whose `#history` versions `programs` read: what a store must load besides
    /// the current records.
    public static func historyTopics(of programs: [RuleProgram]) -> Set<String> {
        Set(programs.flatMap(\.historyTopics))
    }

    static func isHistory(_ topic: String) -> Bool { topic.hasSuffix(RuleProgram.historySuffix) }
}
