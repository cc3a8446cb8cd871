import RuleLanguage

/// Every problem of a case file that cannot be run (bad YAML, an unknown topic, field, rule or
/// feature, a value of the wrong type), each with its position. Rendered one per line as
/// `rules/tests/tax.yaml:12:9: topic 'tax.payment' declares no field 'amout'; did you mean 'amount'?`.
public struct RuleCaseError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Problem: Hashable, Sendable, CustomStringConvertible {
        /// Line and column 0 when the problem concerns the whole file.
        public let location: SourceLocation
        public let message: String

        public init(location: SourceLocation, message: String) {
            self.location = location
            self.message = message
        }

        public var description: String {
            location.line > 0 ? "\(location): \(message)" : "\(location.path): \(message)"
        }
    }

    public let problems: [Problem]

    public init(problems: [Problem]) { self.problems = problems }

    public var description: String { problems.map(\.description).joined(separator: "\n") }
}

/// An expectation of a case that did not hold, pointing at where the case file states it:
/// `rules/tests/judicial.yaml:14:7: case '列入失信被执行人' step 2: rule dishonest_debtor: expected to fire, did not (dishonest_active_count = 0)`.
public struct RuleTestFailure: Hashable, Sendable, CustomStringConvertible {
    public let location: SourceLocation
    public let caseName: String
    /// 1-based: the case's own `given`/`expect` is step 1, its `then` entries follow.
    public let step: Int
    public let message: String

    public init(location: SourceLocation, caseName: String, step: Int, message: String) {
        self.location = location
        self.caseName = caseName
        self.step = step
        self.message = message
    }

    public var description: String { "\(location): case '\(caseName)' step \(step): \(message)" }
}

/// The outcome of running case files: counts, and every failure and file problem.
public struct RuleTestReport: Hashable, Sendable {
    /// Cases run (cases of files with problems are not run).
    public var cases = 0
    /// Steps run.
    public var steps = 0
    /// Steps with at least one failed expectation.
    public var failedSteps = 0
    public var failures: [RuleTestFailure] = []
    /// Problems of case files that could not be run.
    public var problems: [RuleCaseError.Problem] = []

    public init() {}

    public var passed: Bool { failedSteps == 0 && problems.isEmpty }
    public var passedSteps: Int { steps - failedSteps }

    /// `12 cases, 30 steps: all passed`, or `…: 2 failed` (failed steps), with the number of
    /// problems in case files when there are any.
    public var summary: String {
        func count(_ n: Int, _ noun: String) -> String { n == 1 ? "1 \(noun)" : "\(n) \(noun)s" }
        var text = "\(count(cases, "case")), \(count(steps, "step")): "
            + (failedSteps == 0 ? "all passed" : "\(failedSteps) failed")
        if !problems.isEmpty { text += "; \(count(problems.count, "problem")) in case files" }
        return text
    }

    /// One line per file problem and per failure, in file order, then the summary.
    public var lines: [String] { problems.map(\.description) + failures.map(\.description) + [summary] }

    public mutating func merge(_ other: RuleTestReport) {
        cases += other.cases
        steps += other.steps
        failedSteps += other.failedSteps
        failures += other.failures
        problems += other.problems
    }
}
