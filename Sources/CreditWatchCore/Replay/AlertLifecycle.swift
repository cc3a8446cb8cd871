import RuleLanguage

/// The engine's alert decisions for one enterprise under one rule set, month after month: a rule
/// that fires raises an alert unless one is active for it or the last one it raised is within its
/// cool-down; an active alert is withdrawn in the first month its rule no longer fires. Rules the
/// evaluation lists as suspended (their absence feed is stale) keep their state: neither raised
/// nor withdrawn, as in the engine.
struct AlertLifecycle {
    let entity: String
    /// Every alert raised so far, in the order raised.
    private(set) var alerts: [ReplayAlert] = []
    /// rule → index in `alerts` of its active alert.
    private var active: [String: Int] = [:]
    /// rule → as-of of the last alert it raised (cool-downs count from it).
    private var lastRaised: [String: Day] = [:]

    init(entity: String) { self.entity = entity }

    mutating func apply(_ evaluation: EntityEvaluation, window: Month) {
        let suspended = Set(evaluation.suspended)
        var firing: Set<String> = []
        for fired in evaluation.firings where !suspended.contains(fired.rule) {
            firing.insert(fired.rule)
            guard active[fired.rule] == nil else { continue }
            if let previous = lastRaised[fired.rule], evaluation.asOf.value - previous.value < fired.cooldownDays { continue }
            active[fired.rule] = alerts.count
            lastRaised[fired.rule] = evaluation.asOf
            alerts.append(ReplayAlert(firing: fired, entity: entity, window: window, asOf: evaluation.asOf))
        }
        for (rule, index) in active where !firing.contains(rule) && !suspended.contains(rule) {
            alerts[index].withdrawnWindow = window.description
            active[rule] = nil
        }
    }
}
