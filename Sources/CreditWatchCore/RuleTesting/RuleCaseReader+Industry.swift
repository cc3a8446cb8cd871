import RuleLanguage
import Yams

/// Reading `industry_cases:`: a division's aggregates written out as the engine would read them.
extension RuleCaseReader {
    static let industryCaseKeys = ["name", "division", "as_of", "population", "alerted", "monthly", "leaders", "peers", "expect"]
    static let peerKeys = ["known", "holding", "members", "values"]
    static let leaderKeys = ["uscc", "measure", "alerted"]

    mutating func readIndustryCase(_ node: Node) -> IndustryCase? {
        guard let map = node.mapping else {
            problem(at: node.mark, "an industry case must be a mapping with 'name', 'division', 'as_of', … and 'expect'")
            return nil
        }
        checkKeys(map, allowed: Self.industryCaseKeys)
        let before = problems.count
        guard let name = map["name"]?.scalar?.string, !name.isEmpty else {
            problem(at: node.mark, "an industry case needs a 'name'")
            return nil
        }
        let division = required(map, "division", at: node.mark).flatMap { scalarText($0, "division") }
        let asOf = required(map, "as_of", at: node.mark).flatMap { node -> Day? in
            guard let day = node.scalar.flatMap({ Day(iso: $0.string) }) else {
                problem(at: node.mark, "as_of must be a date (YYYY-MM-DD): where the division's windows end")
                return nil
            }
            return day
        }
        let population = required(map, "population", at: node.mark).flatMap { count($0, "population") }
        let alerted = map["alerted"].map { count($0, "alerted") } ?? 0
        let monthly = map["monthly"].map { readMonthlySums($0) } ?? [:]
        let leaders = list(map["leaders"], "leaders").compactMap { readLeader($0) }
        let peers = map["peers"].map { readPeers($0) } ?? [:]
        var fires: [Expected<String>] = []
        var silent: [Expected<String>] = []
        if let expect = map["expect"], let expectMap = expect.mapping {
            checkKeys(expectMap, allowed: ["fires", "silent"])
            let named = problems.count
            fires = industryRuleNames(expectMap["fires"], "fires")
            silent = industryRuleNames(expectMap["silent"], "silent")
            if fires.isEmpty && silent.isEmpty && problems.count == named {
                problem(at: expect.mark, "'expect' states nothing to check")
            }
        } else {
            problem(at: map["expect"]?.mark ?? node.mark, "an industry case needs 'expect' with 'fires' and/or 'silent'")
        }
        guard problems.count == before, let division, let asOf, let population, let alerted else { return nil }
        return IndustryCase(
            name: name, location: location(node.mark),
            data: IndustryData(
                division: division, asOf: asOf, population: population, alerted: alerted, monthlySums: monthly,
                leaders: leaders.sorted { $0.measure != $1.measure ? $0.measure > $1.measure : $0.uscc > $1.uscc }, peers: peers),
            fires: fires, silent: silent)
    }

    private mutating func required(_ map: Node.Mapping, _ key: String, at mark: Mark?) -> Node? {
        guard let node = map[key] else {
            problem(at: mark, "an industry case needs '\(key)'")
            return nil
        }
        return node
    }

    private mutating func count(_ node: Node, _ what: String) -> Int? {
        guard let n = node.int, n >= 0 else {
            problem(at: node.mark, "\(what) must be a whole number ≥ 0")
            return nil
        }
        return n
    }

    /// `monthly: { tax.payment.amount: { 2025-03: 2000000, … } }`: the series the industry rules sum.
    private mutating func readMonthlySums(_ node: Node) -> [String: [Month: Double]] {
        guard let map = node.mapping else {
            problem(at: node.mark, "'monthly' must map series (topic.field) to months and sums")
            return [:]
        }
        var sums: [String: [Month: Double]] = [:]
        for (key, value) in map {
            guard let series = scalarText(key, "monthly") else { continue }
            guard program.industrySeries.contains(series) else {
                problem(at: key.mark, Spelling.didYouMean(
                    "series '\(series)' is not summed by any industry rule", series, among: program.industrySeries))
                continue
            }
            guard let months = value.mapping else {
                problem(at: value.mark, "the months of '\(series)' must map YYYY-MM to a sum")
                continue
            }
            for (monthNode, sumNode) in months {
                guard let month = monthNode.scalar.flatMap({ Month(iso: $0.string) }) else {
                    problem(at: monthNode.mark, "'\(monthNode.string ?? "")' is not a month (YYYY-MM)")
                    continue
                }
                guard let sum = sumNode.float else {
                    problem(at: sumNode.mark, "the sum of \(series) in \(month) must be a number")
                    continue
                }
                sums[series, default: [:]][month] = sum
            }
        }
        return sums
    }

    /// `peers: { "water_months_overdue >= 3": { known: 20, members: [USCC, …] }, "tax_drop_ratio": { values: [0.1, …] } }`:
    /// a division's figures of the peer measures the industry rules read (`holding` defaults to the
    /// members listed; `known` to the members, or to the values listed).
    private mutating func readPeers(_ node: Node) -> [String: PeerFigures] {
        guard let map = node.mapping else {
            problem(at: node.mark, "'peers' must map peer measures (as written in the rules) to their figures")
            return [:]
        }
        let measures = Dictionary(program.peerMeasures.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        var figures: [String: PeerFigures] = [:]
        for (key, value) in map {
            guard let text = scalarText(key, "peers") else { continue }
            guard let measure = measures[text] else {
                problem(at: key.mark, Spelling.didYouMean(
                    "'\(text)' is not a peer measure of the industry rules (measures: \(measures.keys.sorted().joined(separator: "; ")))",
                    text, among: Array(measures.keys)))
                continue
            }
            guard let figure = value.mapping else {
                problem(at: value.mark, "the figures of '\(text)' must be a mapping with \(measure.kind == .condition ? "'known' and 'members'" : "'values'")")
                continue
            }
            checkKeys(figure, allowed: Self.peerKeys)
            switch measure.kind {
            case .condition:
                let members = list(figure["members"], "members").compactMap { scalarText($0, "members") }.sorted()
                let holding = figure["holding"].flatMap { count($0, "holding") } ?? members.count
                let known = figure["known"].flatMap { count($0, "known") } ?? holding
                figures[text] = PeerFigures(
                    known: known, holding: holding, members: Array(members.prefix(PeerFigures.memberLimit)))
            case .value:
                let values = list(figure["values"], "values").compactMap { item -> Double? in
                    guard let v = item.float else {
                        problem(at: item.mark, "the values of '\(text)' must be numbers")
                        return nil
                    }
                    return v
                }.sorted()
                figures[text] = PeerFigures(known: values.count, values: values)
            }
        }
        return figures
    }

    private mutating func readLeader(_ node: Node) -> IndustryLeader? {
        guard let map = node.mapping else {
            problem(at: node.mark, "a leader must be a mapping with 'uscc', 'measure' and 'alerted'")
            return nil
        }
        checkKeys(map, allowed: Self.leaderKeys)
        guard let uscc = map["uscc"].flatMap({ scalarText($0, "uscc") }), let measure = map["measure"]?.float else {
            problem(at: node.mark, "a leader needs 'uscc' and a numeric 'measure'")
            return nil
        }
        return IndustryLeader(uscc: uscc, measure: measure, alerted: map["alerted"]?.bool ?? false)
    }

    private mutating func industryRuleNames(_ node: Node?, _ what: String) -> [Expected<String>] {
        let industryRules = program.rules.filter { $0.kind == .industry }.map(\.name)
        var names: [Expected<String>] = []
        for item in list(node, what) {
            guard let name = scalarText(item, what) else { continue }
            if industryRules.contains(name) {
                names.append(Expected(value: name, location: location(item.mark)))
            } else {
                problem(at: item.mark, Spelling.didYouMean("unknown industry rule '\(name)'", name, among: industryRules))
            }
        }
        return names
    }
}
