// Removed when branch `lang` (absence rules) merges.
extension CompiledRule {
    public var absenceTopics: [String] { [] }
}
