/// The report as the terminal shows it: one row per rule, the totals, then the grade changes.
/// Alert-by-alert detail is in `--json`.
extension ReplayReport {
    /// At most this many enterprises are listed under grade changes (all of them are in the JSON).
    static let listedGradeChanges = 20

    public var table: String {
        var lines: [String] = []
        let months = from.map { "alerts raised \($0)…\(through ?? "-")" } ?? "history through \(through ?? "-")"
        lines.append("replay (\(months)): candidate \(candidateVersion) against live \(liveVersion)")
        lines.append("\(enterprises) enterprises, \(candidateEvaluations) candidate and \(liveEvaluations) live monthly evaluations")
        lines.append("")
        let header = ["rule", "live", "candidate", "added", "removed", "changed"]
        var rows = rules.map { [$0.rule, "\($0.live)", "\($0.candidate)", "\($0.added)", "\($0.removed)", "\($0.changed)"] }
        rows.append(["total", "\(liveAlerts)", "\(candidateAlerts)", "\(added.count)", "\(removed.count)", "\(changed.count)"])
        lines += Self.columns([header] + rows)
        lines.append("")
        let scored = scoreChanges.count - gradeChanges.count
        lines.append("grade changes: \(gradeChanges.count) enterprises (score changed within the grade: \(scored))")
        for (transition, count) in gradeTransitions.sorted(by: { $0.key < $1.key }) {
            lines.append("  \(transition)  \(count)")
        }
        for change in gradeChanges.prefix(Self.listedGradeChanges) {
            let delta = change.delta.map { $0 > 0 ? "+\($0)" : "\($0)" } ?? "-"
            lines.append(
                "  \(change.entity)  \(change.transition)  \(change.liveScore.map(String.init) ?? "-") → \(change.candidateScore.map(String.init) ?? "-") (\(delta))")
        }
        if gradeChanges.count > Self.listedGradeChanges {
            lines.append("  … and \(gradeChanges.count - Self.listedGradeChanges) more (see --json)")
        }
        if !skippedIndustryRules.isEmpty {
            lines.append("")
            lines.append("industry rules not replayed: \(skippedIndustryRules.joined(separator: ", "))")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Left-aligned first column, right-aligned numbers, two spaces between columns.
    static func columns(_ rows: [[String]]) -> [String] {
        let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { column, cell in
                let pad = String(repeating: " ", count: widths[column] - cell.count)
                return column == 0 ? cell + pad : pad + cell
            }.joined(separator: "  ")
        }
    }
}
