import RuleLanguage

/// A product's eligibility condition is a rule-language condition over the enterprise's
/// features, score and grade — exactly what a tag's `when` may say — so it is checked as a tag of
/// the live rule set: the same names, types and diagnostics as any rule file.
public enum Eligibility {
    /// The tag a condition is checked as.
    static let tagName = "market_product_eligibility"

    /// The condition's problems as `eligibility:LINE:COL: message` (lines and columns of the
    /// condition's own text); empty when it checks. An empty condition admits every enterprise.
    public static func check(_ condition: String, ruleSources: [SourceFile], schema: Schema) -> [String] {
        guard !condition.allSatisfy(\.isWhitespace) else { return [] }
        let path = "eligibility"
        // The condition starts on line 2 at column 1, so its diagnostics' lines are one too many.
        let file = SourceFile(path: path, text: "tag \(tagName) \"产品准入条件\" when\n" + condition)
        switch RuleCompiler.compile(ruleSources + [file], schema: schema) {
        case .failure(let diagnostics):
            let own = diagnostics.items.filter { $0.path == path && $0.severity == .error }
            if own.isEmpty { return ["the live rule set does not compile, so no condition can be checked against it"] }
            return own.map { "\(path):\(max($0.line - 1, 1)):\($0.column): \($0.message)" }
        case .success(let program):
            // A condition that smuggles in declarations of its own is refused: it is one expression.
            guard case .success(let base) = RuleCompiler.compile(ruleSources, schema: schema),
                program.tags.count == base.tags.count + 1, program.rules.count == base.rules.count,
                program.featureNames.count == base.featureNames.count,
                program.industryFeatureNames.count == base.industryFeatureNames.count,
                program.scorecards.count == base.scorecards.count, program.lists.count == base.lists.count
            else { return ["\(path):1:1: the condition must be one expression, not declarations"] }
            return []
        }
    }
}
