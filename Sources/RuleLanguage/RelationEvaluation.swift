/// Evaluating relation aggregates: each related entity (`EntityData.related`) is evaluated in a run
/// of its own, at most once per evaluation however many aggregates and paths reach it. Its data has
/// no related entities of its own, and the checker lets no expression read relations there, so the
/// evaluation goes one level deep and cycles of relations end.

/// The runs of the entities related to an evaluated one, by kind and id.
final class RelatedRuns {
    /// A related entity (no `kind:id` string made for each lookup).
    struct Key: Hashable {
        let kind: SubjectKind
        let id: String

        init(_ data: EntityData) {
            (kind, id) = (data.kind, data.entity)
        }
    }

    var runs: [Key: EvaluationRun] = [:]
}

extension CompiledRule.Kind {
    /// The rules evaluated for an entity of this kind.
    init(_ subject: SubjectKind) {
        switch subject {
        case .enterprise: self = .enterprise
        case .person: self = .person
        }
    }
}

extension EvaluationRun {
    /// One related entity as a relation aggregate sees it: reached by one or more paths, through
    /// every edge that passed the aggregate's `where`.
    private struct Reached {
        let entity: RelatedEntity
        var via: [String]
        var name: String?
    }

    /// The firings of the entity's base rules (rules of its kind that read no relations): what
    /// `alerted(…)` asks about. Computed once per run.
    func baseFirings() -> [Firing] {
        if let cached = baseFiringsCache { return cached }
        var firings: [Firing] = []
        if let entity {
            let kind = CompiledRule.Kind(entity.kind)
            for rule in program.rules where rule.kind == kind && !rule.readsRelations {
                if case .fired(let f) = outcome(rule) { firings.append(f) }
            }
        }
        baseFiringsCache = firings
        return firings
    }

    /// The run of a related entity, over its own data (shared by every aggregate of the evaluation).
    private func run(of related: RelatedEntity) -> EvaluationRun {
        let key = RelatedRuns.Key(related.data)
        if let run = relatedRuns.runs[key] { return run }
        let run = EvaluationRun(related.data, program: program)
        relatedRuns.runs[key] = run
        return run
    }

    /// `any|count|max|min|sum|avg(REL [where …] [, EXPR])` over the entities `relation` reaches, each
    /// once (a union may reach one by several paths). Edges whose `where` is not true are left out.
    /// `any` is yes if EXPR is yes for some entity, no if for none (or there are none), else
    /// unknown; `count` counts the yes; max/min/avg are over the known numbers (unknown when none),
    /// `sum` too (0 when none).
    func related(_ spec: AggregateSpec, _ relation: RelationAggregate) -> AggregateResult {
        guard let entity else { return AggregateResult(value: .unknown) }
        var reached: [RelatedRuns.Key: Reached] = [:]
        for path in relation.paths {
            for r in entity.related[RuleProgram.pathText(path)] ?? [] where r.data.entity != entity.entity {
                if let filter = spec.filter, eval(filter, r.edge.fields) != .bool(true) { continue }
                let key = RelatedRuns.Key(r.data)
                if reached[key] == nil {
                    reached[key] = Reached(entity: r, via: r.via, name: r.name)
                } else {
                    reached[key]!.via += r.via
                    reached[key]!.name = reached[key]!.name ?? r.name
                }
            }
        }
        let candidates = reached.values.sorted { a, b in
            a.entity.data.entity != b.entity.data.entity
                ? a.entity.data.entity < b.entity.data.entity : a.entity.data.kind.rawValue < b.entity.data.kind.rawValue
        }

        // Each candidate's value, in its own run.
        let values = candidates.map { c in relation.value.map { run(of: c.entity).eval($0, nil) } ?? .bool(true) }
        var matched: [Int] = []
        let value: RuntimeValue
        switch spec.function {
        case .any, .count:
            let truths = values.map(Truth.init)
            matched = truths.indices.filter { truths[$0] == .yes }
            if spec.function == .count {
                value = .number(Double(matched.count))
            } else {
                value = !matched.isEmpty ? .bool(true) : truths.contains(.unknown) ? .unknown : .bool(false)
            }
        case .sum, .avg:
            var total = 0.0
            for (k, v) in values.enumerated() {
                guard case .number(let x) = v else { continue }
                total += x
                matched.append(k)
            }
            let result = spec.function == .sum ? total : total / Double(matched.count)
            value = (spec.function == .sum || !matched.isEmpty) && result.isFinite ? .number(result) : .unknown
        case .max, .min:
            var best: Int?
            for (k, v) in values.enumerated() {
                guard case .number(let x) = v else { continue }
                guard let b = best, case .number(let y) = values[b] else {
                    best = k
                    continue
                }
                if spec.function == .max ? x > y : x < y { best = k }
            }
            matched = best.map { [$0] } ?? []
            value = best.map { values[$0] } ?? .unknown
        default:
            value = .unknown
        }

        var result = AggregateResult(value: value)
        var cited: Set<String> = []
        for k in matched {
            let c = candidates[k]
            let nested = run(of: c.entity)
            cited.formUnion(c.via)
            cited.formUnion(nested.sources(relation.valueAggregates))
            if !relation.alerted.isEmpty {
                for f in nested.baseFirings() where relation.alerted.contains(where: { $0.holds(for: f) }) { cited.formUnion(f.sources) }
            }
            result.who.append(Self.who(c.entity, name: c.name))
        }
        result.cited = cited.sorted()
        return result
    }

    /// How an explanation names a related entity: `NAME（ID）`, a person's name and ID number masked
    /// (an enterprise's name and USCC are public); only the id when no name is known.
    static func who(_ related: RelatedEntity, name: String?) -> String {
        let person = related.data.kind == .person
        let id = person ? PersonalData.idNumber.mask(related.data.entity) : related.data.entity
        guard let name, !name.isEmpty else { return id }
        return "\(person ? PersonalData.name.mask(name) : name)（\(id)）"
    }
}
