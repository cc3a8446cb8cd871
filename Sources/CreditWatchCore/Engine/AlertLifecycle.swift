import RuleLanguage

/// The latest stored alert of one rule for one subject: what the lifecycle decides against.
public struct AlertState: Sendable, Hashable {
    public enum Status: String, Sendable, Hashable { case active, withdrawn }

    public let id: Int64
    public let rule: String
    public let subjectID: String
    public let window: String
    public let asOf: Day
    public let status: Status
    /// `topic/key` of the records the alert cites.
    public let sources: [String]

    public init(id: Int64, rule: String, subjectID: String, window: String, asOf: Day, status: Status, sources: [String]) {
        self.id = id
        self.rule = rule
        self.subjectID = subjectID
        self.window = window
        self.asOf = asOf
        self.status = status
        self.sources = sources
    }
}

/// An active alert whose condition no longer holds.
public struct AlertWithdrawal: Sendable, Hashable {
    public let alertID: Int64
    public let asOf: Day
    public let reason: String
    public let ruleSetVersion: String

    public init(alertID: Int64, asOf: Day, reason: String, ruleSetVersion: String) {
        self.alertID = alertID
        self.asOf = asOf
        self.reason = reason
        self.ruleSetVersion = ruleSetVersion
    }
}

/// A withdrawn alert of the same window firing again: the same alert, active again.
public struct AlertReactivation: Sendable, Hashable {
    public let alertID: Int64
    public let alert: AlertRecord

    public init(alertID: Int64, alert: AlertRecord) {
        self.alertID = alertID
        self.alert = alert
    }
}

/// What one subject's evaluation does to its alerts.
public struct AlertDecisions: Sendable {
    public var raised: [AlertRecord] = []
    public var reactivated: [AlertReactivation] = []
    public var withdrawn: [AlertWithdrawal] = []

    public init() {}
}

/// An alert is a state, not a message: it is raised when its rule starts to hold for a subject,
/// stays active (once, however many batches re-evaluate it) while the rule holds, and is withdrawn
/// with the reason when the rule stops holding — a listing removed, a record deleted or corrected,
/// the window moved past the evidence, or the rule taken out of the rule set. Pure.
public enum AlertLifecycle {
    /// Decides for one evaluated subject.
    /// - Parameters:
    ///   - firings: the alerts the subject's evaluation produced (one per firing rule).
    ///   - suspended: rules not evaluated (a stale feed): their alerts stand as they are.
    ///   - liveRules: the rule set's rules of the subject's kind.
    ///   - states: the latest stored alert per rule of this subject.
    ///   - changes: the changes of the subject its evaluation followed (live: the batch's; none
    ///     when evaluation waited for a backlog), to say why an alert is withdrawn.
    ///   - records: the subject's current records of `readTopics`: what a reason no change gives is
    ///     read from (a cited record gone, or its removal date passed).
    public static func decide(
        firings: [AlertRecord], suspended: Set<String>, liveRules: Set<String>, states: [String: AlertState],
        changes: [Change], asOf: Day, ruleSetVersion: String, endTimes: [String: String] = [:],
        records: [String: [FactRecord]] = [:], readTopics: Set<String> = []
    ) -> AlertDecisions {
        var decisions = AlertDecisions()
        var firing: Set<String> = []
        for alert in firings {
            let rule = alert.firing.rule
            firing.insert(rule)
            guard let latest = states[rule] else {
                decisions.raised.append(alert)
                continue
            }
            if latest.status == .active { continue }
            if latest.window == alert.firing.window {
                decisions.reactivated.append(AlertReactivation(alertID: latest.id, alert: alert))
            } else if latest.asOf.value > alert.asOf.value - alert.firing.cooldownDays {
                continue  // within the cool-down of the previous alert
            } else {
                decisions.raised.append(alert)
            }
        }
        for (rule, state) in states.sorted(by: { $0.key < $1.key })
        where state.status == .active && !firing.contains(rule) && !suspended.contains(rule) {
            let reason = liveRules.contains(rule)
                ? withdrawalReason(state, changes: changes, asOf: asOf, endTimes: endTimes, records: records, readTopics: readTopics)
                : RetiredRules(rules: [rule], ruleSetVersion: ruleSetVersion, asOf: asOf).reason(rule)
            decisions.withdrawn.append(AlertWithdrawal(
                alertID: state.id, asOf: asOf, reason: reason, ruleSetVersion: ruleSetVersion))
        }
        return decisions
    }

    /// Why a rule stopped holding: the batch's changes to the records the alert cites (deleted,
    /// corrected, a removal date set), else what the current records say of them (gone, removed
    /// by `asOf`), else the evidence left the rule's window.
    static func withdrawalReason(
        _ state: AlertState, changes: [Change], asOf: Day, endTimes: [String: String],
        records: [String: [FactRecord]] = [:], readTopics: Set<String> = []
    ) -> String {
        let cited = Set(state.sources)
        var notes: [String] = []
        var seen: Set<String> = []
        for change in changes {
            let reference = "\(change.topic)/\(change.key)"
            guard cited.contains(reference), seen.insert(reference).inserted else { continue }
            if change.operation == .delete {
                notes.append("\(reference) 已删除")
            } else if let field = endTimes[change.topic], case .date(let removed)? = change.fields[field] {
                notes.append("\(reference) 已于 \(removed) 移出")
            } else {
                notes.append("\(reference) 已更正")
            }
        }
        for reference in state.sources.sorted() where !seen.contains(reference) {
            guard let slash = reference.firstIndex(of: "/") else { continue }
            let topic = String(reference[..<slash])
            let key = reference[reference.index(after: slash)...]
            guard readTopics.contains(topic) else { continue }
            guard let record = records[topic]?.first(where: { $0.key == key }) else {
                notes.append("\(reference) 已删除")
                continue
            }
            if let field = endTimes[topic], case .date(let removed)? = record.fields[field], removed <= asOf {
                notes.append("\(reference) 已于 \(removed) 移出")
            }
        }
        if notes.isEmpty {
            return "截至 \(asOf) 预警条件不再成立（依据的记录已超出规则的时间窗口，或新数据改变了统计结果）"
        }
        return "截至 \(asOf) 预警条件不再成立：" + notes.joined(separator: "；")
    }
}
