import RuleLanguage

/// What one rule set would have done over the history: the alerts it would have raised (with
/// their lifecycle) and every enterprise's final score.
struct RuleSetRun {
    let program: RuleProgram
    /// The program's topics (`topic#history` included): the engine loads only these, so an
    /// enterprise's event clock is taken from them alone.
    private let topics: Set<String>
    private(set) var alerts: [ReplayAlert] = []
    /// enterprise → its score after the last month (nil entries are not stored).
    private(set) var finalScores: [String: ScoreResult] = [:]
    private(set) var evaluations = 0

    init(program: RuleProgram) {
        self.program = program
        topics = program.topicsUsed
    }

    /// Replays one enterprise month by month, from the month of its first record in the program's
    /// topics to the last month of the data set, each month with the records whose event day is
    /// at most the month's last day and the city's clock at that day.
    mutating func replay(
        entity: String, records: [String: [FactRecord]], timeline: ReplayTimeline, snapshot: EntitySnapshot
    ) {
        let own = records.filter { topics.contains($0.key) }
        guard let first = own.values.joined().map(\.eventDay).min()?.month else { return }
        var lifecycle = ReplayAlerts(entity: entity, program: program)
        var score: ScoreResult?
        var month = first
        while month <= timeline.last {
            let end = month.lastDay
            let known = own.mapValues { $0.filter { $0.eventDay <= end } }
            let data = snapshot.data(entity: entity, records: known, feeds: timeline.clock(at: month))
            let result = program.evaluateAndScore(data, features: .only([]))
            evaluations += 1
            lifecycle.apply(result.evaluation, window: month, data: data)
            score = result.score
            month = month + 1
        }
        alerts += lifecycle.alerts
        if let score { finalScores[entity] = score }
    }
}
