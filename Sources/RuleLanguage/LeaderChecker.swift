/// The leader ranking (`industry leaders top N by FEATURE`): which enterprises are a division's
/// leading ones, and the industry builtins over them (`leaders`, `leaders_alerted`,
/// `leaders_alerted_share`). The engine ranks the enterprises by the feature; the language only
/// declares the ranking and reads its result (`IndustryData.leaders`).
extension Checker {
    static let maxLeaders = 1000

    /// Checks the set's leader declarations: at most one, `top` within 1…maxLeaders, ranked by an
    /// enterprise feature that is a number. Sets `leaderRanking` when valid.
    func checkLeaders(_ decls: [LeadersDecl]) {
        guard let first = decls.first else { return }
        leaders = first
        for d in decls.dropFirst() {
            diagnostics.error(d.location, "duplicate 'industry leaders' declaration (first declared at \(first.location))")
        }
        var ok = true
        let top = first.top
        if !(1...Checker.maxLeaders).contains(top.value) {
            diagnostics.error(top.location, "the number of leaders must be between 1 and \(Checker.maxLeaders), found \(top.value)")
            ok = false
        }
        let n = first.feature.name
        guard let i = featureIndex[n] else {
            let candidates = features.filter { $0.kind == .enterprise }.map(\.name.name)
            diagnostics.error(first.feature.location, Suggest.message("unknown feature '\(n)'", n, among: candidates))
            return
        }
        guard features[i].kind == .enterprise else {
            diagnostics.error(first.feature.location, "'\(n)' is an industry feature; leaders are ranked by an enterprise feature")
            return
        }
        guard let c = checkFeature(i) else { return }
        guard c.type.isNumber else {
            diagnostics.error(first.feature.location, "leaders are ranked by a number; '\(n)' is \(c.type.phrase)")
            return
        }
        if ok { leaderRanking = LeaderRanking(feature: n, top: top.value) }
    }

    /// Whether an industry builtin can be read: the leader builtins need a ranking declaration.
    /// Records a leader read in `usage` (for versions).
    func leadersAvailable(_ b: IndustryBuiltin, at: SourceLocation) -> Bool {
        guard b.needsLeaderRanking else { return true }
        guard leaders != nil else {
            diagnostics.error(at, "'\(b.rawValue)' needs a declaration 'industry leaders top N by FEATURE'")
            return false
        }
        usage.readsLeaders = true
        return true
    }
}
