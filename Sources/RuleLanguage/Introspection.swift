/// What tools around the language (`rules test`, editors) may ask of a compiled program beyond
/// evaluating it.

extension RuleProgram {
    /// The enterprise features a rule's condition reads, in order of first use: what a tool shows
    /// to explain why a rule did not fire (a firing carries its values, a silence does not).
    public func featuresRead(by rule: CompiledRule) -> [String] {
        rule.reads.compactMap { read in
            guard case .feature(let i) = read else { return nil }
            return features[i].name
        }
    }
}

/// "Did you mean" for tools that check names against a program, with the same suggestions as the
/// compiler's diagnostics.
public enum Spelling {
    /// `message; did you mean 'x'?` when a candidate is a plausible typo of `name`, else `message`.
    public static func didYouMean<S: Sequence<String>>(_ message: String, _ name: String, among candidates: S) -> String {
        Suggest.message(message, name, among: candidates)
    }
}
