/// A step taken on the desk, as recorded.
public struct DeskEvent: Sendable, Hashable, Codable {
    public var id: Int64
    public var at: String
    public var actor: String
    public var organisation: String
    public var action: String
    public var detail: [String: String]
    /// The state's version after the step.
    public var version: Int

    public init(id: Int64, at: String, actor: String, organisation: String, action: String, detail: [String: String], version: Int) {
        self.id = id
        self.at = at
        self.actor = actor
        self.organisation = organisation
        self.action = action
        self.detail = detail
        self.version = version
    }
}

/// A command the desk did not apply, with the state it met.
public struct DeskRefusal: Error, Sendable, Hashable {
    public var rejection: DeskRejection
    public var current: DeskState

    public init(rejection: DeskRejection, current: DeskState) {
        self.rejection = rejection
        self.current = current
    }
}

/// How the desk has worked one rule's alerts: precision from dispositions (confirmed risk among
/// those judged either way), the median time from an alert to its acknowledgement.
public struct RuleDeskStatistics: Sendable, Hashable, Codable {
    public var rule: String
    public var alerts: Int
    public var acknowledged: Int
    public var confirmedRisk: Int
    public var falsePositive: Int
    public var noActionNeeded: Int
    /// confirmed / (confirmed + false positive); nil before any such disposition.
    public var precision: Double?
    public var medianSecondsToAcknowledge: Double?

    public init(
        rule: String, alerts: Int, acknowledged: Int, confirmedRisk: Int, falsePositive: Int, noActionNeeded: Int,
        medianSecondsToAcknowledge: Double?
    ) {
        self.rule = rule
        self.alerts = alerts
        self.acknowledged = acknowledged
        self.confirmedRisk = confirmedRisk
        self.falsePositive = falsePositive
        self.noActionNeeded = noActionNeeded
        let judged = confirmedRisk + falsePositive
        self.precision = judged == 0 ? nil : Double(confirmedRisk) / Double(judged)
        self.medianSecondsToAcknowledge = medianSecondsToAcknowledge
    }
}

/// The desk's store port (`AlertDeskStore` on PostgreSQL).
public protocol AlertDeskPort: Sendable {
    func desk(of alertID: Int64) async throws -> (state: DeskState, events: [DeskEvent])
    /// Applies the command under a lock on the alert; a refusal carries the state it met.
    func apply(_ command: DeskCommand, to alertID: Int64, expectedVersion: Int?, actor: String, organisation: String) async throws
        -> Result<DeskState, DeskRefusal>
    /// Per rule, over the alerts in the scope (district, subjects; nil: any).
    func statistics(district: String?, subjects: Set<String>?) async throws -> [RuleDeskStatistics]
}

extension DeskCommand {
    /// What the desk event records besides the action.
    public var detail: [String: String] {
        switch self {
        case .acknowledge: [:]
        case .assign(let assignee): ["assignee": assignee]
        case .comment(let text): ["text": text]
        case .resolve(let disposition, let note): ["disposition": disposition.rawValue, "note": note]
        case .reopen(let reason): ["reason": reason]
        }
    }
}
