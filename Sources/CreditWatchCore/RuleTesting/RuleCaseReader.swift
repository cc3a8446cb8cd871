import RuleLanguage
import Yams

/// Reads one case file against a compiled rule set and the topic catalog, collecting every problem
/// (with its line and column) instead of stopping at the first, like `rules check` does for rules.
///
/// Events are decoded by the engine's own `ChangeDecoder`, so a case gives exactly the records the
/// engine would store: a field the catalog does not declare, or a value of the wrong type, is an
/// error here rather than a silently different record.
struct RuleCaseReader {
    let path: String
    let program: RuleProgram
    let catalog: TopicCatalog
    let decoder: ChangeDecoder
    var problems: [RuleCaseError.Problem] = []

    init(path: String, program: RuleProgram, catalog: TopicCatalog, decoder: ChangeDecoder) {
        self.path = path
        self.program = program
        self.catalog = catalog
        self.decoder = decoder
    }

    static let fileKeys = ["enterprise", "defaults", "cases", "industry_cases"]
    static let caseKeys = ["name", "enterprise", "given", "delete", "feeds", "peers", "expect", "then"]
    static let stepKeys = ["given", "delete", "feeds", "peers", "expect"]
    static let eventKeys = ["topic", "key", "fields", "entity"]
    static let deletionKeys = ["topic", "key"]
    static let expectKeys = ["fires", "silent", "alerts", "suspended", "features", "grade", "score", "tags"]

    func location(_ mark: Mark?) -> SourceLocation {
        SourceLocation(path: path, line: mark?.line ?? 0, column: mark?.column ?? 0)
    }

    mutating func problem(at mark: Mark?, _ message: String) {
        problems.append(RuleCaseError.Problem(location: location(mark), message: message))
    }

    mutating func read(_ text: String) -> RuleCaseFile? {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            let (mark, message) = TopicFileReader.describe(error)
            problem(at: mark, "not valid YAML: \(message)")
            return nil
        } catch {
            problem(at: nil, "not valid YAML: \(error)")
            return nil
        }
        guard let root, let top = root.mapping else {
            problem(at: root?.mark, "expected a mapping with 'enterprise' and 'cases'")
            return nil
        }
        checkKeys(top, allowed: Self.fileKeys)
        let enterprise = top["enterprise"].flatMap { readEnterprise($0) }
        let defaults = top["defaults"].map { readDefaults($0) } ?? [:]
        let list = top["cases"]?.sequence.map(Array.init) ?? []
        let industryList = top["industry_cases"]?.sequence.map(Array.init) ?? []
        guard !list.isEmpty || !industryList.isEmpty else {
            problem(at: top["cases"]?.mark ?? root.mark, "'cases' (or 'industry_cases') must be a non-empty list")
            return nil
        }
        var cases: [RuleCase] = []
        var names: Set<String> = []
        for node in list {
            guard let ruleCase = readCase(node, enterprise: enterprise, defaults: defaults) else { continue }
            if !names.insert(ruleCase.name).inserted {
                problem(at: node.mapping?["name"]?.mark, "duplicate case name '\(ruleCase.name)'")
            }
            cases.append(ruleCase)
        }
        var industryCases: [IndustryCase] = []
        for node in industryList {
            guard let industryCase = readIndustryCase(node) else { continue }
            if !names.insert(industryCase.name).inserted {
                problem(at: node.mapping?["name"]?.mark, "duplicate case name '\(industryCase.name)'")
            }
            industryCases.append(industryCase)
        }
        return problems.isEmpty ? RuleCaseFile(path: path, cases: cases, industryCases: industryCases) : nil
    }

    // MARK: Cases and steps

    /// Records of a case so far, to check deletions and to version replacements.
    struct Given {
        var live: Set<String> = []
        var sequence: Int64 = 0
    }

    mutating func readCase(_ node: Node, enterprise fileEnterprise: String?, defaults: [String: [String: JSONValue]]) -> RuleCase? {
        guard let map = node.mapping else {
            problem(at: node.mark, "a case must be a mapping with 'name', 'given' and 'expect'")
            return nil
        }
        checkKeys(map, allowed: Self.caseKeys)
        guard let name = map["name"]?.scalar?.string, !name.isEmpty else {
            problem(at: node.mark, "a case needs a 'name'")
            return nil
        }
        let before = problems.count
        let enterprise = map["enterprise"].flatMap { readEnterprise($0) } ?? fileEnterprise
        guard let enterprise else {
            problem(at: node.mark, "case '\(name)': no 'enterprise' (give one for the file or the case)")
            return nil
        }
        var records = Given()
        var steps = [readStep(map, at: node.mark, enterprise: enterprise, defaults: defaults, records: &records)]
        if let then = map["then"] {
            if let list = then.sequence {
                for item in list {
                    guard let stepMap = item.mapping else {
                        problem(at: item.mark, "a 'then' step must be a mapping with 'given'/'delete' and 'expect'")
                        continue
                    }
                    checkKeys(stepMap, allowed: Self.stepKeys)
                    steps.append(readStep(stepMap, at: item.mark, enterprise: enterprise, defaults: defaults, records: &records))
                }
            } else {
                problem(at: then.mark, "'then' must be a list of steps")
            }
        }
        guard problems.count == before else { return nil }
        return RuleCase(name: name, location: location(node.mark), enterprise: enterprise, steps: steps)
    }

    mutating func readStep(
        _ map: Node.Mapping, at mark: Mark?, enterprise: String, defaults: [String: [String: JSONValue]], records: inout Given
    ) -> CaseStep {
        var given: [CaseEvent] = []
        for item in list(map["given"], "given") {
            guard let event = readEvent(item, enterprise: enterprise, defaults: defaults, records: &records) else { continue }
            given.append(event)
            records.live.insert(Self.recordID(event.change.topic, event.change.key))
        }
        var deletions: [CaseDeletion] = []
        for item in list(map["delete"], "delete") {
            guard let deletion = readDeletion(item) else { continue }
            if records.live.remove(Self.recordID(deletion.topic, deletion.key)) == nil {
                problem(at: item.mark, "nothing to delete: no record \(deletion.topic)/\(deletion.key) was given before")
            }
            deletions.append(deletion)
        }
        var feeds: [String: Day] = [:]
        if let node = map["feeds"] {
            if let entries = node.mapping {
                for (key, value) in entries {
                    guard let topic = key.string, catalog.topics[topic] != nil else {
                        problem(at: key.mark, "feeds: '\(key.string ?? "")' is not a topic of the catalog")
                        continue
                    }
                    guard let text = value.string, let day = Day(iso: text) else {
                        problem(at: value.mark, "feeds: \(topic) must be a date (YYYY-MM-DD): the latest business date the city's feed delivered")
                        continue
                    }
                    feeds[topic] = day
                }
            } else {
                problem(at: node.mark, "feeds must map topics to dates, e.g. { tax.payment: 2026-07-15 }")
            }
        }
        let peers = map["peers"].map { readRankPeers($0) } ?? [:]
        if given.isEmpty, deletions.isEmpty, feeds.isEmpty, peers.isEmpty, map["given"] == nil, map["delete"] == nil {
            problem(at: mark, "a step needs 'given', 'delete', 'feeds' or 'peers'")
        }
        var expectation = CaseExpectation()
        if let node = map["expect"] {
            let before = problems.count
            expectation = readExpectation(node)
            if expectation.isEmpty, problems.count == before { problem(at: node.mark, "'expect' states nothing to check") }
        } else {
            problem(at: mark, "a step needs 'expect'")
        }
        return CaseStep(location: location(mark), given: given, deletions: deletions, feeds: feeds, peers: peers, expectation: expectation)
    }

    static func recordID(_ topic: String, _ key: String) -> String { "\(topic)/\(key)" }

    // MARK: Events

    mutating func readEvent(
        _ node: Node, enterprise: String, defaults: [String: [String: JSONValue]], records: inout Given
    ) -> CaseEvent? {
        guard let map = node.mapping else {
            problem(at: node.mark, "an event must be a mapping with 'topic' and 'fields'")
            return nil
        }
        checkKeys(map, allowed: Self.eventKeys)
        guard let topic = readTopic(map, at: node.mark) else { return nil }
        let key = map["key"].flatMap { scalarText($0, "key") }
        // A record of another entity (a related person or enterprise): `entity: ID`.
        var subject = EntityKey(.enterprise, enterprise)
        if let node = map["entity"] {
            guard let other = readEntity(node) else { return nil }
            subject = other
        }
        var row = defaults[topic.name] ?? [:]
        if let fields = map["fields"] {
            if let fields = fields.mapping {
                for (name, value) in fields {
                    if let (field, json) = readField(name, value, topic: topic) { row[field] = json }
                }
            } else {
                problem(at: fields.mark, "'fields' must be a mapping of field names to values")
            }
        }
        guard fillSubject(&row, topic: topic, subject: subject, at: node.mark),
            fillKey(&row, key: key, topic: topic, at: map["key"]?.mark ?? node.mark)
        else { return nil }

        records.sequence += 1
        switch decoder.decode(topic: topic.name, row: row, version: records.sequence) {
        case .rejected(let reason):
            problem(at: map["fields"]?.mark ?? node.mark, "\(topic.name): \(reason)")
            return nil
        case .tombstone:
            return nil
        case .change(let change):
            let about: EntityKey? =
                switch change.entity {
                case .enterprise(let uscc): EntityKey(.enterprise, uscc.value)
                case .person(let id): EntityKey(.person, id.value)
                case .unlinked: subject.kind == .enterprise && subject.id == enterprise ? subject : nil
                }
            guard about == subject else {
                problem(at: node.mark, "\(topic.name): the record is not about \(subject.id == enterprise ? "the case's enterprise " : "")\(subject.id)")
                return nil
            }
            if let key, key != change.key {
                problem(at: map["key"]?.mark, "key '\(key)' is not the record's primary key '\(change.key)'")
                return nil
            }
            return CaseEvent(change: change, entity: subject, location: location(node.mark))
        }
    }

    /// A field of an event (or of the file's `defaults`), as the JSON a department would send.
    mutating func readField(_ name: Node, _ value: Node, topic: TopicDefinition) -> (String, JSONValue)? {
        guard let field = name.string else {
            problem(at: name.mark, "field names must be plain strings")
            return nil
        }
        guard topic.field(field) != nil else {
            problem(
                at: name.mark,
                Spelling.didYouMean(
                    "topic '\(topic.name)' declares no field '\(field)'", field, among: topic.fields.map(\.name)))
            return nil
        }
        guard let json = Self.json(value) else {
            problem(at: value.mark, "field '\(field)': expected a single value, not a list or mapping")
            return nil
        }
        return (field, json)
    }

    /// Every event is a record of the case's enterprise, or of the entity it names: its entity
    /// fields are filled in unless given (the USCC or ID number field, and the party type where the
    /// topic has one).
    mutating func fillSubject(_ row: inout [String: JSONValue], topic: TopicDefinition, subject: EntityKey, at mark: Mark?)
        -> Bool
    {
        func fill(_ field: String, _ text: String) { if row[field] == nil { row[field] = .string(text) } }
        let person = subject.kind == .person
        switch topic.entity {
        case .enterprise(let field, _) where !person:
            fill(field, subject.id)
        case .person(let field) where person:
            fill(field, subject.id)
        case .party(let type, let enterpriseField, let personField):
            fill(type.field, person ? type.personValue : type.enterpriseValue)
            fill(person ? personField : enterpriseField, subject.id)
        case .either(let field, let type):
            fill(field, subject.id)
            if let type { fill(type.field, person ? type.personValue : type.enterpriseValue) }
        case .enterprise, .person:
            problem(at: mark, "topic '\(topic.name)' holds records of \(person ? "enterprises" : "persons"), not of \(subject.id)")
            return false
        }
        return true
    }

    /// `entity:` of an event: a USCC or a resident ID number.
    mutating func readEntity(_ node: Node) -> EntityKey? {
        guard let text = scalarText(node, "entity") else { return nil }
        do {
            switch try PartyIdentifier.classify(text) {
            case .enterprise(let uscc): return EntityKey(.enterprise, uscc.value)
            case .person(let id): return EntityKey(.person, id.value)
            }
        } catch {
            problem(at: node.mark, "entity '\(text)': \(error.reason)")
            return nil
        }
    }

    /// `key:` stands for a one-field text primary key not written in `fields`.
    mutating func fillKey(_ row: inout [String: JSONValue], key: String?, topic: TopicDefinition, at mark: Mark?) -> Bool {
        guard let key, topic.primaryKey.count == 1, row[topic.primaryKey[0]] == nil else { return true }
        guard topic.field(topic.primaryKey[0])?.type == .string else {
            problem(at: mark, "'key' fills only text primary keys: write '\(topic.primaryKey[0])' in 'fields'")
            return false
        }
        row[topic.primaryKey[0]] = .string(key)
        return true
    }

    mutating func readDeletion(_ node: Node) -> CaseDeletion? {
        guard let map = node.mapping else {
            problem(at: node.mark, "a deletion must be a mapping with 'topic' and 'key'")
            return nil
        }
        checkKeys(map, allowed: Self.deletionKeys)
        guard let topic = readTopic(map, at: node.mark) else { return nil }
        guard let keyNode = map["key"], let key = scalarText(keyNode, "key") else {
            problem(at: node.mark, "a deletion needs the record's 'key'")
            return nil
        }
        return CaseDeletion(topic: topic.name, key: key, location: location(node.mark))
    }

    mutating func readTopic(_ map: Node.Mapping, at mark: Mark?) -> TopicDefinition? {
        guard let node = map["topic"], let name = scalarText(node, "topic") else {
            problem(at: mark, "missing 'topic'")
            return nil
        }
        guard let topic = catalog.topics[name] else {
            problem(at: node.mark, Spelling.didYouMean("unknown topic '\(name)'", name, among: catalog.topics.keys))
            return nil
        }
        return topic
    }

    // MARK: File settings

    mutating func readEnterprise(_ node: Node) -> String? {
        guard let text = scalarText(node, "enterprise") else { return nil }
        do {
            return try USCC(validating: text).value
        } catch {
            problem(at: node.mark, "enterprise '\(text)': \(error.reason)")
            return nil
        }
    }

    /// `defaults:` maps a topic to fields every event of that topic gets unless it gives them itself
    /// (names, courts, tax types: what the catalog requires but a case does not care about).
    mutating func readDefaults(_ node: Node) -> [String: [String: JSONValue]] {
        guard let map = node.mapping else {
            problem(at: node.mark, "'defaults' must map topics to fields")
            return [:]
        }
        var defaults: [String: [String: JSONValue]] = [:]
        for (key, value) in map {
            guard let name = key.string else { continue }
            guard let topic = catalog.topics[name] else {
                problem(at: key.mark, Spelling.didYouMean("unknown topic '\(name)'", name, among: catalog.topics.keys))
                continue
            }
            guard let fields = value.mapping else {
                problem(at: value.mark, "defaults of '\(name)' must be a mapping of fields")
                continue
            }
            for (field, value) in fields {
                if let (field, json) = readField(field, value, topic: topic) { defaults[name, default: [:]][field] = json }
            }
        }
        return defaults
    }

    // MARK: Scalars

    mutating func checkKeys(_ map: Node.Mapping, allowed: [String]) {
        for (key, _) in map {
            guard let text = key.string, allowed.contains(text) else {
                let text = key.string ?? "?"
                problem(
                    at: key.mark,
                    Spelling.didYouMean("unknown key '\(text)' (one of \(allowed.joined(separator: ", ")))", text, among: allowed))
                continue
            }
        }
    }

    mutating func scalarText(_ node: Node, _ what: String) -> String? {
        guard let text = node.scalar?.string, !text.isEmpty else {
            problem(at: node.mark, "'\(what)' must be a non-empty text")
            return nil
        }
        return text
    }

    /// The items of an optional list (`given`, `delete`, `fires`, …).
    mutating func list(_ node: Node?, _ what: String) -> [Node] {
        guard let node else { return [] }
        guard let items = node.sequence else {
            problem(at: node.mark, "'\(what)' must be a list")
            return []
        }
        return Array(items)
    }

    /// A YAML scalar as the JSON value a department would send: YAML's own types stand for JSON's
    /// (`500000` a number, `"500000"` a text, `true`, `null`); a date written unquoted is text.
    static func json(_ node: Node) -> JSONValue? {
        guard let scalar = node.scalar else { return nil }
        let text = scalar.string
        switch node.tag.rawValue {
        case Tag.Name.null.rawValue: return .null
        case Tag.Name.bool.rawValue: return node.bool.map(JSONValue.bool) ?? .string(text)
        case Tag.Name.int.rawValue:
            if let i = Int64(text.filter { $0 != "_" }) { return .integer(i) }
            return node.float.map(JSONValue.number) ?? .string(text)
        case Tag.Name.float.rawValue: return node.float.map(JSONValue.number) ?? .string(text)
        default: return .string(text)
        }
    }
}

extension RuleCaseReader {
    /// An enterprise step's `peers: { division: { tax_drop_ratio_yoy: [0.1, …] }, district: { … } }`:
    /// the values of the enterprise's peers (the group's other enterprises) in the measures that
    /// `peer_rank` ranks by.
    mutating func readRankPeers(_ node: Node) -> [RankedMeasure: [Double]] {
        let ranked = Set(program.rankedMeasures)
        guard let groups = node.mapping else {
            problem(at: node.mark, "'peers' must map a group (division, district) to the peers' values of the ranked features")
            return [:]
        }
        var peers: [RankedMeasure: [Double]] = [:]
        for (key, value) in groups {
            guard let text = scalarText(key, "peers") else { continue }
            guard let group = PeerGroup(rawValue: text) else {
                problem(at: key.mark, Spelling.didYouMean("'\(text)' is not a group to rank in", text, among: PeerGroup.allCases.map(\.rawValue)))
                continue
            }
            guard let measures = value.mapping else {
                problem(at: value.mark, "the peers in '\(text)' must map ranked features to their values, e.g. { tax_drop_ratio_yoy: [0.1, 0.5] }")
                continue
            }
            for (featureNode, valuesNode) in measures {
                guard let feature = scalarText(featureNode, "peers") else { continue }
                let measure = RankedMeasure(measure: PeerMeasure(key: feature, kind: .value), group: group)
                guard ranked.contains(measure) else {
                    let names = ranked.filter { $0.group == group }.map(\.measure.key).sorted()
                    problem(at: featureNode.mark, Spelling.didYouMean(
                        "no rule or feature ranks by '\(feature)' in its \(text) (ranked: \(names.isEmpty ? "none" : names.joined(separator: ", ")))",
                        feature, among: names))
                    continue
                }
                peers[measure] = list(valuesNode, feature).compactMap { item -> Double? in
                    guard let v = item.float, v.isFinite else {
                        problem(at: item.mark, "the peers' values of '\(feature)' must be numbers")
                        return nil
                    }
                    return v
                }
            }
        }
        return peers
    }
}
