import RuleLanguage

/// A product's eligibility condition is a rule-language condition over the enterprise's
/// features, score and grade — exactly what a tag's `when` may say — so it is checked and
/// evaluated as a tag of the live rule set: the same names, types and diagnostics as any rule file,
/// over the same feature windows.
public enum Eligibility {
    /// The tag a condition is compiled as.
    static let tagName = "market_product_eligibility"
    static let path = "eligibility"

    /// The live rule set with the condition as one more tag, or the condition's problems as
    /// `eligibility:LINE:COL: message` (lines and columns of the condition's own text). An empty
    /// condition admits every enterprise (nil program).
    public static func compile(
        _ condition: String, ruleSources: [SourceFile], schema: Schema, overrides: [String: Double] = [:]
    ) -> Result<RuleProgram?, EligibilityProblems> {
        guard !condition.allSatisfy(\.isWhitespace) else { return .success(nil) }
        // The condition starts on line 2 at column 1, so its diagnostics' lines are one too many.
        let file = SourceFile(path: path, text: "tag \(tagName) \"产品准入条件\" when\n" + condition)
        switch RuleCompiler.compile(ruleSources + [file], schema: schema, overrides: overrides) {
        case .failure(let diagnostics):
            let own = diagnostics.items.filter { $0.path == path && $0.severity == .error }
            if own.isEmpty { return .failure(EligibilityProblems(messages: ["the live rule set does not compile, so no condition can be checked against it"])) }
            return .failure(EligibilityProblems(messages: own.map { "\(path):\(max($0.line - 1, 1)):\($0.column): \($0.message)" }))
        case .success(let program):
            // A condition that smuggles in declarations of its own is refused: it is one expression.
            guard case .success(let base) = RuleCompiler.compile(ruleSources, schema: schema, overrides: overrides),
                program.tags.count == base.tags.count + 1, program.rules.count == base.rules.count,
                program.featureNames.count == base.featureNames.count,
                program.industryFeatureNames.count == base.industryFeatureNames.count,
                program.scorecards.count == base.scorecards.count, program.lists.count == base.lists.count
            else { return .failure(EligibilityProblems(messages: ["\(path):1:1: the condition must be one expression, not declarations"])) }
            return .success(program)
        }
    }

    /// The condition's problems; empty when it checks.
    public static func check(_ condition: String, ruleSources: [SourceFile], schema: Schema) -> [String] {
        if case .failure(let problems) = compile(condition, ruleSources: ruleSources, schema: schema) { return problems.messages }
        return []
    }

    /// Whether the entity meets the condition compiled into `program`, with the values of the
    /// features (and score, grade) the condition names.
    public static func verdict(_ program: RuleProgram?, condition: String, entity: EntityData) -> EligibilityVerdict {
        guard let program else { return EligibilityVerdict(holds: true, values: [:]) }
        let (evaluation, score) = program.evaluateAndScore(entity)
        var known = evaluation.features.mapValues(\.text)
        if let score {
            known["score"] = String(score.score)
            known["grade"] = score.grade
        }
        let named = Set(identifiers(in: condition))
        return EligibilityVerdict(
            holds: evaluation.tags.contains { $0.tag == tagName }, values: known.filter { named.contains($0.key) })
    }

    /// The words of a condition that could name a feature.
    static func identifiers(in text: String) -> [String] {
        text.split(whereSeparator: { !($0.isLetter || $0.isNumber || $0 == "_") }).map(String.init)
    }
}

/// Why a condition does not compile, one `eligibility:LINE:COL: message` each.
public struct EligibilityProblems: Error, Sendable, Hashable {
    public var messages: [String]
}

/// Whether an enterprise meets a product's condition now, and the values it was judged on.
public struct EligibilityVerdict: Sendable, Hashable {
    public var holds: Bool
    public var values: [String: String]

    public init(holds: Bool, values: [String: String]) {
        self.holds = holds
        self.values = values
    }
}

/// The engine as the marketplace needs it (the daemon implements it over the live rule set and
/// the feature windows).
public protocol EligibilityEngine: Sendable {
    /// The condition's problems against the live rule set; empty when it checks.
    func check(_ condition: String) async -> [String]
    /// Whether the enterprise meets the condition now.
    func verdict(_ condition: String, for uscc: String) async throws -> EligibilityVerdict
}

extension Value {
    /// The value as the API shows it.
    var text: String {
        switch self {
        case .null: "null"
        case .number(let n): n == n.rounded() && abs(n) < 1e15 ? String(Int64(n)) : String(n)
        case .string(let s): s
        case .bool(let b): String(b)
        case .date(let day): day.description
        case .timestamp(let ms): String(ms)
        }
    }
}
