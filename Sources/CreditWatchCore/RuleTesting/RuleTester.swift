import RuleLanguage

/// Runs case files (`rules/tests/*.yaml`) against a compiled rule set: the `rules test` command
/// and the CI test of the shipped rules. Pure: the caller reads the files.
///
/// Each step gives or deletes records of the case's enterprise, then evaluates and scores the
/// enterprise exactly as the engine does (`EntitySnapshot` builds its data, with a feed clock of
/// every event the case has given so far) and checks the step's expectations.
public struct RuleTester: Sendable {
    public let program: RuleProgram
    public let catalog: TopicCatalog
    let decoder: ChangeDecoder
    let snapshot: EntitySnapshot
    let walker: RelationWalker

    public init(program: RuleProgram, catalog: TopicCatalog) {
        self.program = program
        self.catalog = catalog
        self.walker = RelationWalker(paths: program.relationPaths, schema: catalog.schema)
        self.decoder = ChangeDecoder(catalog: catalog)
        self.snapshot = EntitySnapshot(catalog: catalog)
    }

    /// Reads and checks one case file; all its problems are thrown together.
    public func read(path: String, text: String) throws(RuleCaseError) -> RuleCaseFile {
        var reader = RuleCaseReader(path: path, program: program, catalog: catalog, decoder: decoder)
        guard let file = reader.read(text), reader.problems.isEmpty else {
            throw RuleCaseError(problems: reader.problems)
        }
        return file
    }

    /// Reads and runs case files (sorted by path); a file with problems is reported, not run.
    public func run(_ files: [(path: String, text: String)]) -> RuleTestReport {
        var report = RuleTestReport()
        for file in files.sorted(by: { $0.path < $1.path }) {
            do {
                report.merge(run(try read(path: file.path, text: file.text)))
            } catch {
                report.problems += error.problems
            }
        }
        return report
    }

    /// Runs every case of a checked file.
    public func run(_ file: RuleCaseFile) -> RuleTestReport {
        var report = RuleTestReport()
        for ruleCase in file.cases {
            report.cases += 1
            var ledger = CaseLedger()
            var peers: [RankedMeasure: [Double]] = [:]
            for (index, step) in ruleCase.steps.enumerated() {
                step.given.forEach { ledger.give($0, catalog: catalog, snapshot: snapshot) }
                ledger.observe(step.feeds)
                step.deletions.forEach { ledger.delete(topic: $0.topic, key: $0.key, catalog: catalog) }
                peers.merge(step.peers) { $1 }
                var data = ledger.data(enterprise: ruleCase.enterprise, program: program, walker: walker, snapshot: snapshot)
                // The two phases of a ranking evaluation, as the engine runs them: the enterprise's
                // own values first, then its standing among the peers' values.
                let values = program.rankedValues(data)
                for measure in program.rankedMeasures {
                    if let own = values[measure.measure.key], let others = peers[measure] { data.ranks[measure] = PeerRank(own, among: others) }
                }
                let (evaluation, score) = program.evaluateAndScore(data)
                let failures = ExpectationCheck(program: program, evaluation: evaluation, score: score)
                    .failures(step.expectation)
                report.steps += 1
                if !failures.isEmpty { report.failedSteps += 1 }
                report.failures += failures.map {
                    RuleTestFailure(location: $0.location, caseName: ruleCase.name, step: index + 1, message: $0.message)
                }
            }
        }
        for industryCase in file.industryCases {
            report.cases += 1
            report.steps += 1
            let fired = Set(program.evaluate(industryCase.data).map(\.rule))
            let values = program.industryFeatures(industryCase.data)
            var failures: [RuleTestFailure] = []
            func fail(_ expected: Expected<String>, _ message: String) {
                failures.append(RuleTestFailure(location: expected.location, caseName: industryCase.name, step: 1, message: message))
            }
            for rule in industryCase.fires where !fired.contains(rule.value) {
                fail(rule, "rule \(rule.value): expected to fire, did not (\(Self.industryValues(values)))")
            }
            for rule in industryCase.silent where fired.contains(rule.value) {
                fail(rule, "rule \(rule.value): expected to stay silent, fired (\(Self.industryValues(values)))")
            }
            if !failures.isEmpty { report.failedSteps += 1 }
            report.failures += failures
        }
        return report
    }

    /// A division's feature values, for failure messages.
    static func industryValues(_ values: [String: Value]) -> String {
        values.keys.sorted().map { "\($0) = \(ExpectationCheck.text(values[$0]!))" }.joined(separator: ", ")
    }
}
