import RuleLanguage

/// An alert a rule set would have raised, as a replay reports it. Its key is the alert's natural
/// key in the store: (rule, enterprise, window).
public struct ReplayAlert: Sendable, Hashable, Codable {
    public struct Key: Sendable, Hashable, Comparable, Codable {
        public let rule: String
        public let entity: String
        /// The month (`YYYY-MM`) in which the alert was raised.
        public let window: String

        public static func < (a: Key, b: Key) -> Bool { (a.rule, a.entity, a.window) < (b.rule, b.entity, b.window) }
    }

    public let key: Key
    public let ruleVersion: String
    public let severity: String
    public let scorePoints: Int?
    public let scoreDimension: String?
    /// The event-time day of the evaluation that raised it (what cool-downs count from).
    public let asOf: String
    /// The month in which the rule stopped firing and the alert was withdrawn; nil while active.
    public internal(set) var withdrawnWindow: String?

    init(firing: Firing, entity: String, window: Month, asOf: Day) {
        key = Key(rule: firing.rule, entity: entity, window: window.description)
        ruleVersion = firing.ruleVersion
        severity = firing.severity.rawValue
        scorePoints = firing.score?.points
        scoreDimension = firing.score?.dimension
        self.asOf = asOf.description
        withdrawnWindow = nil
    }

    /// What differs between two alerts of the same key, by the names the report uses:
    /// `severity`, `score`, `rule_version`. Empty when the alert is the same.
    func differences(from other: ReplayAlert) -> [String] {
        var fields: [String] = []
        if severity != other.severity { fields.append("severity") }
        if scorePoints != other.scorePoints || scoreDimension != other.scoreDimension { fields.append("score") }
        if ruleVersion != other.ruleVersion { fields.append("rule_version") }
        return fields
    }
}
