import RuleLanguage

/// The result of a replay: the candidate rule set's alerts compared with the live set's, per rule
/// and alert by alert, and the enterprises whose final score or grade would differ. Codable for
/// `--json`; every list is in a fixed order (by rule, enterprise, window; by enterprise), so the
/// same history and rule sets always give the same report.
public struct ReplayReport: Sendable, Hashable, Codable {
    /// A candidate alert whose key the live set also raised, with what differs.
    public struct ChangedAlert: Sendable, Hashable, Codable {
        public let live: ReplayAlert
        public let candidate: ReplayAlert
        /// `severity`, `score`, `rule_version`.
        public let fields: [String]
    }

    /// Per rule (of either set): how many alerts each set raised and how they differ.
    public struct RuleCounts: Sendable, Hashable, Codable {
        public let rule: String
        public var live = 0
        public var candidate = 0
        public var added = 0
        public var removed = 0
        public var changed = 0

        public init(rule: String, live: Int = 0, candidate: Int = 0, added: Int = 0, removed: Int = 0, changed: Int = 0) {
            self.rule = rule
            self.live = live
            self.candidate = candidate
            self.added = added
            self.removed = removed
            self.changed = changed
        }
    }

    /// An enterprise whose final score or grade differs between the sets (nil: no scorecard).
    public struct ScoreChange: Sendable, Hashable, Codable {
        public let entity: String
        public let liveScore: Int?
        public let candidateScore: Int?
        public let liveGrade: String?
        public let candidateGrade: String?
        /// candidate − live, when both scored.
        public let delta: Int?
        /// `B→C` (`-` for no grade).
        public let transition: String

        init(entity: String, live: ScoreResult?, candidate: ScoreResult?) {
            self.entity = entity
            liveScore = live?.score
            candidateScore = candidate?.score
            liveGrade = live?.grade
            candidateGrade = candidate?.grade
            delta = live.flatMap { l in candidate.map { $0.score - l.score } }
            transition = "\(live?.grade ?? "-")→\(candidate?.grade ?? "-")"
        }

        public var gradeChanged: Bool { liveGrade != candidateGrade }
    }

    public let liveVersion: String
    public let candidateVersion: String
    /// The first month reported (nil: from the beginning of the history).
    public let from: String?
    /// The last month of the history (nil: the history is empty).
    public let through: String?
    /// Enterprises with records in the history.
    public let enterprises: Int
    /// Entity-month evaluations, per set.
    public let liveEvaluations: Int
    public let candidateEvaluations: Int
    public let liveAlerts: Int
    public let candidateAlerts: Int
    /// Every enterprise rule of either set, by name.
    public let rules: [RuleCounts]
    public let added: [ReplayAlert]
    public let removed: [ReplayAlert]
    public let changed: [ChangedAlert]
    /// Enterprises whose final score or grade differs, by enterprise.
    public let scoreChanges: [ScoreChange]
    /// `B→C` → number of enterprises whose final grade moved so.
    public let gradeTransitions: [String: Int]
    /// Industry rules of either set: not replayed (see `Replay`).
    public let skippedIndustryRules: [String]

    public var gradeChanges: [ScoreChange] { scoreChanges.filter(\.gradeChanged) }

    init(live: RuleSetRun, candidate: RuleSetRun, enterprises: Int, from: Month?, through: Month?) {
        let reported = { (alerts: [ReplayAlert]) -> [ReplayAlert.Key: ReplayAlert] in
            Dictionary(
                alerts.filter { from == nil || $0.key.window >= from!.description }.map { ($0.key, $0) },
                uniquingKeysWith: { first, _ in first })
        }
        let liveAlerts = reported(live.alerts)
        let candidateAlerts = reported(candidate.alerts)

        var added: [ReplayAlert] = []
        var removed: [ReplayAlert] = []
        var changed: [ChangedAlert] = []
        var counts: [String: RuleCounts] = [:]
        for program in [live.program, candidate.program] {
            for rule in program.rules where rule.kind == .enterprise { counts[rule.name] = RuleCounts(rule: rule.name) }
        }
        for (key, alert) in liveAlerts {
            counts[key.rule, default: RuleCounts(rule: key.rule)].live += 1
            if candidateAlerts[key] == nil {
                removed.append(alert)
                counts[key.rule]!.removed += 1
            }
        }
        for (key, alert) in candidateAlerts {
            counts[key.rule, default: RuleCounts(rule: key.rule)].candidate += 1
            guard let before = liveAlerts[key] else {
                added.append(alert)
                counts[key.rule]!.added += 1
                continue
            }
            let fields = alert.differences(from: before)
            if !fields.isEmpty {
                changed.append(ChangedAlert(live: before, candidate: alert, fields: fields))
                counts[key.rule]!.changed += 1
            }
        }

        var scoreChanges: [ScoreChange] = []
        for entity in Set(live.finalScores.keys).union(candidate.finalScores.keys).sorted() {
            let a = live.finalScores[entity]
            let b = candidate.finalScores[entity]
            guard a?.score != b?.score || a?.grade != b?.grade else { continue }
            scoreChanges.append(ScoreChange(entity: entity, live: a, candidate: b))
        }

        liveVersion = live.program.version
        candidateVersion = candidate.program.version
        self.from = from?.description
        self.through = through?.description
        self.enterprises = enterprises
        liveEvaluations = live.evaluations
        candidateEvaluations = candidate.evaluations
        self.liveAlerts = liveAlerts.count
        self.candidateAlerts = candidateAlerts.count
        rules = counts.values.sorted { $0.rule < $1.rule }
        self.added = added.sorted { $0.key < $1.key }
        self.removed = removed.sorted { $0.key < $1.key }
        self.changed = changed.sorted { $0.live.key < $1.live.key }
        self.scoreChanges = scoreChanges
        gradeTransitions = scoreChanges.filter(\.gradeChanged).reduce(into: [:]) { $0[$1.transition, default: 0] += 1 }
        skippedIndustryRules = Set([live.program, candidate.program].flatMap { $0.rules.filter { $0.kind == .industry }.map(\.name) })
            .sorted()
    }
}
