import RuleLanguage

/// The engine's alert decisions (`AlertLifecycle`) for one enterprise under one rule set, replayed
/// month after month in memory: the same raise, stand, withdraw, reactivate and cool-down rules.
struct ReplayAlerts {
    let entity: String
    let ruleSetVersion: String
    /// Every alert raised so far, in the order raised (an alert's id is its index).
    private(set) var alerts: [ReplayAlert] = []
    /// rule → its latest alert, as the store would answer `alertStates`.
    private var states: [String: AlertState] = [:]
    private let liveRules: Set<String>
    /// rule → the feeds it declares `absence` of (its alerts' as-of follows them).
    private let absenceTopics: [String: [String]]

    init(entity: String, program: RuleProgram) {
        self.init(
            entity: entity, liveRules: Set(program.rules.filter { $0.kind == .enterprise }.map(\.name)),
            ruleSetVersion: program.version,
            absenceTopics: Dictionary(uniqueKeysWithValues: program.rules.map { ($0.name, $0.absenceTopics) }))
    }

    init(entity: String, liveRules: Set<String>, ruleSetVersion: String, absenceTopics: [String: [String]] = [:]) {
        self.entity = entity
        self.liveRules = liveRules
        self.ruleSetVersion = ruleSetVersion
        self.absenceTopics = absenceTopics
    }

    /// `data`: what the evaluation read (nil in unit tests of the lifecycle alone).
    mutating func apply(_ evaluation: EntityEvaluation, window: Month, data: EntityData? = nil) {
        let subject = AlertRecord.Subject.entity(EntityKey(.enterprise, entity))
        let firings = evaluation.firings.map { firing in
            let topics = absenceTopics[firing.rule] ?? []
            return AlertRecord(
                firing: firing, subject: subject, ruleSetVersion: ruleSetVersion,
                asOf: topics.isEmpty || data == nil ? evaluation.asOf : CompiledRule.absenceAsOf(topics, data!),
                registration: Registration(division: nil, district: nil))
        }
        let decisions = AlertLifecycle.decide(
            firings: firings, suspended: Set(evaluation.suspended), liveRules: liveRules, states: states, changes: [],
            asOf: evaluation.asOf, ruleSetVersion: ruleSetVersion)
        for withdrawal in decisions.withdrawn {
            let index = Int(withdrawal.alertID)
            alerts[index].withdrawnWindow = window.description
            states[alerts[index].key.rule] = state(index, states[alerts[index].key.rule]!, status: .withdrawn)
        }
        for reactivation in decisions.reactivated {
            let index = Int(reactivation.alertID)
            alerts[index].withdrawnWindow = nil
            states[alerts[index].key.rule] = state(index, states[alerts[index].key.rule]!, status: .active)
        }
        for raised in decisions.raised {
            let firing = raised.firing
            states[firing.rule] = AlertState(
                id: Int64(alerts.count), rule: firing.rule, subjectID: entity, window: firing.window, asOf: raised.asOf,
                status: .active, sources: firing.sources)
            alerts.append(ReplayAlert(firing: firing, entity: entity, window: window, asOf: raised.asOf))
        }
    }

    private func state(_ index: Int, _ old: AlertState, status: AlertState.Status) -> AlertState {
        AlertState(id: Int64(index), rule: old.rule, subjectID: entity, window: old.window, asOf: old.asOf, status: status, sources: old.sources)
    }
}
