import RuleLanguage

/// A checked case file (`rules/tests/*.yaml`): examples of what the rule set must do, each a
/// sequence of steps that give or delete an enterprise's records and state what must follow.
///
/// Invariants (checked by `RuleCaseReader`): every event is typed by the catalog and is a record
/// of its case's enterprise; every rule, feature and grade an expectation names exists in the
/// program; every step expects something.
public struct RuleCaseFile: Sendable {
    public let path: String
    public let cases: [RuleCase]
    /// Examples of industry rules (`industry_cases:`).
    public var industryCases: [IndustryCase] = []
}

/// An industry example: a division's aggregates as the engine reads them from the feature store
/// (population, enterprises with an active high alert, monthly sums, leaders), and which industry
/// rules must fire or stay silent.
public struct IndustryCase: Sendable {
    public let name: String
    public let location: SourceLocation
    public let data: IndustryData
    public let fires: [Expected<String>]
    public let silent: [Expected<String>]
}

/// One example: an enterprise and the steps it goes through. Events accumulate over the steps.
public struct RuleCase: Sendable {
    public let name: String
    public let location: SourceLocation
    /// The USCC whose records the events are.
    public let enterprise: String
    /// The case's own `given`/`expect` first, then each `then` entry.
    public let steps: [CaseStep]
}

/// What one step does to the enterprise's records, and what must hold afterwards.
public struct CaseStep: Sendable {
    /// Where the step starts (the case, or its `then` entry), for failures without a closer place.
    public let location: SourceLocation
    /// Records given in this step, in order; one with the topic and key of a current record
    /// replaces it (a newer version).
    public let given: [CaseEvent]
    /// Records removed in this step, as a department delete would.
    public let deletions: [CaseDeletion]
    /// What the rest of the city's feeds delivered by this step (topic → latest business date):
    /// a case holds one enterprise, but freshness and absence windows are city-wide.
    public let feeds: [String: Day]
    /// The values of the enterprise's peers (its group's other enterprises) in the measures that
    /// `peer_rank` ranks by, given in this step (they stand for later steps until given again): a
    /// case holds one enterprise, but ranks place it among many.
    public var peers: [RankedMeasure: [Double]] = [:]
    public let expectation: CaseExpectation
}

/// A record given by a case, decoded exactly as the engine decodes a department's row.
public struct CaseEvent: Sendable {
    public let change: Change
    /// The case's enterprise, or the related entity the event names (`entity:`).
    public let entity: EntityKey
    public let location: SourceLocation
}

/// A record a case deletes.
public struct CaseDeletion: Sendable {
    public let topic: String
    public let key: String
    public let location: SourceLocation
}

/// A value expected by a case, with where the case file states it (failures point there).
public struct Expected<Wrapped: Sendable>: Sendable {
    public let value: Wrapped
    public let location: SourceLocation
}

/// What must hold after a step. Each part is optional; a step states at least one.
public struct CaseExpectation: Sendable {
    /// Enterprise rules that must fire.
    public var fires: [Expected<String>] = []
    /// Enterprise rules that must not fire.
    public var silent: [Expected<String>] = []
    /// Exactly these enterprise rules fire (in any order).
    public var alerts: Expected<[String]>?
    /// Rules that must be suspended (an `absence` feed they read is stale).
    public var suspended: [Expected<String>] = []
    /// Exact feature values.
    public var features: [Expected<FeatureExpectation>] = []
    /// The grade on the rule set's first scorecard.
    public var grade: Expected<String>?
    /// The exact score on the rule set's first scorecard.
    public var score: Expected<Int>?
    /// Exactly these tags hold (in any order).
    public var tags: Expected<[String]>?

    public var isEmpty: Bool {
        fires.isEmpty && silent.isEmpty && alerts == nil && suspended.isEmpty && features.isEmpty && grade == nil
            && score == nil && tags == nil
    }
}

/// An expected feature value as the case file writes it; compared with the feature's typed value
/// (a text matches a string, or a date written `YYYY-MM-DD`).
public struct FeatureExpectation: Sendable, Hashable {
    public enum Written: Sendable, Hashable {
        /// `null` (or `unknown`): the feature is unknown.
        case unknown
        case bool(Bool)
        case number(Double)
        case text(String)
    }

    public let feature: String
    public let value: Written

    public init(feature: String, value: Written) {
        self.feature = feature
        self.value = value
    }
}
