import RuleLanguage
import Yams

/// The topic catalog: every department feed the daemon accepts, read from `topics/*.yaml`.
/// Adding a feed is adding a file; no code changes.
public struct TopicCatalog: Sendable, Hashable {
    public let topics: [String: TopicDefinition]

    /// Topic → field → the personal data it holds (see `FieldDefinition.personal`).
    public var personalFields: [String: [String: PersonalData]] {
        topics.compactMapValues { definition in
            let fields = Dictionary(uniqueKeysWithValues: definition.fields.compactMap { field in field.personal.map { (field.name, $0) } })
            return fields.isEmpty ? nil : fields
        }
    }

    public init(topics: [TopicDefinition]) {
        self.topics = Dictionary(topics.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    }

    /// Parses catalog files (one topic per file). All problems of all files are collected and
    /// thrown together; nothing is returned unless every file is valid.
    public static func parse(_ files: [(path: String, text: String)]) throws(CatalogError) -> TopicCatalog {
        var problems: [CatalogError.Problem] = []
        var definitions: [TopicDefinition] = []
        var firstPath: [String: String] = [:]
        for file in files.sorted(by: { $0.path < $1.path }) {
            var reader = TopicFileReader(path: file.path)
            let definition = reader.read(file.text)
            if let definition {
                if let earlier = firstPath[definition.name] {
                    reader.problem(
                        at: reader.nameMark, "duplicate topic '\(definition.name)' (first defined in \(earlier))")
                } else {
                    firstPath[definition.name] = file.path
                    definitions.append(definition)
                }
            }
            // Document order: by position, problems without a position (whole-file ones) first.
            problems += reader.problems.enumerated().sorted { a, b in
                let ka = (a.element.line ?? 0, a.element.column ?? 0, a.offset)
                let kb = (b.element.line ?? 0, b.element.column ?? 0, b.offset)
                return ka < kb
            }.map(\.element)
        }
        // A relation path names its steps without their topic: a relation or inverse name means one
        // thing in the whole catalog, and is not also a topic's first word.
        var stepTopic: [String: String] = [:]
        for definition in definitions {
            for relation in definition.relations {
                for step in [relation.name, relation.inverse] {
                    if let other = stepTopic[step] {
                        problems.append(CatalogError.Problem(
                            path: firstPath[definition.name] ?? definition.name, line: nil, column: nil,
                            message: "relation '\(step)' is also declared by topic \(other)"))
                    }
                    stepTopic[step] = definition.name
                }
            }
        }
        guard problems.isEmpty else { throw CatalogError(problems: problems) }
        return TopicCatalog(topics: definitions)
    }

    /// The catalog as the rule checker sees it.
    public var schema: Schema {
        let sorted = topics.values.sorted { $0.name < $1.name }
        return Schema(topics: sorted.map(\.schema), relations: sorted.flatMap(\.relationSchemas))
    }

    /// Every relation of the catalog by name, with its topic.
    public var relations: [String: (topic: TopicDefinition, relation: RelationDefinition)] {
        var all: [String: (topic: TopicDefinition, relation: RelationDefinition)] = [:]
        for topic in topics.values {
            for relation in topic.relations { all[relation.name] = (topic, relation) }
        }
        return all
    }
}

/// Reads one catalog file, collecting problems instead of stopping at the first.
struct TopicFileReader {
    let path: String
    var problems: [CatalogError.Problem] = []
    var nameMark: Mark?

    init(path: String) { self.path = path }

    static let topicKeys = [
        "name", "department", "description", "envelope", "fields", "primary_key", "version_field", "event_time",
        "end_time", "entity", "relations", "cadence", "limits",
    ]
    static let fieldKeys = ["name", "type", "optional", "format", "values", "description", "max_bytes", "personal"]

    mutating func problem(at mark: Mark?, _ message: String) {
        problems.append(CatalogError.Problem(path: path, line: mark?.line, column: mark?.column, message: message))
    }

    mutating func read(_ text: String) -> TopicDefinition? {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            let (mark, message) = Self.describe(error)
            problem(at: mark, "not valid YAML: \(message)")
            return nil
        } catch {
            problem(at: nil, "not valid YAML: \(error)")
            return nil
        }
        guard let root else {
            problem(at: nil, "empty file: expected a topic definition")
            return nil
        }
        guard let top = root.mapping else {
            problem(at: root.mark, "expected a mapping of topic settings")
            return nil
        }
        let problemsBefore = problems.count
        checkKeys(top, allowed: Self.topicKeys, context: "")

        let name = requiredString(top, "name", context: "", at: root.mark)
        nameMark = top["name"]?.mark
        if let name, !Self.isTopicName(name) {
            problem(at: nameMark, "topic name '\(name)' must be lowercase words separated by dots (e.g. tax.payment)")
        }
        let department = requiredString(top, "department", context: "", at: root.mark)
        let description = requiredString(top, "description", context: "", at: root.mark)

        var envelope = Envelope.debezium
        if let text = optionalString(top, "envelope", context: "") {
            if let e = Envelope(rawValue: text) {
                envelope = e
            } else {
                problem(at: top["envelope"]?.mark, "envelope '\(text)' is not one of debezium, plain")
            }
        }

        // Declared names include fields with errors, so that references to them do not cascade.
        var declared = Set<String>()
        let fields = readFields(top, root: root, declared: &declared)
        let byName = Dictionary(fields.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })

        let primaryKey = readPrimaryKey(top, root: root, fields: byName, declared: declared)
        let versionField = readVersionField(top, fields: byName, declared: declared)
        let eventTime = readEventTime(top, root: root, fields: byName, declared: declared)
        let endTime = readEndTime(top, fields: byName, declared: declared)
        let entity = readEntity(top, root: root, fields: byName, declared: declared)
        let relations = readRelations(top, fields: byName, declared: declared)
        let cadence = readCadence(top, root: root)
        let limits = readLimits(top)

        guard problems.count == problemsBefore, let name, let department, let description, let primaryKey,
            let eventTime, let entity, let cadence
        else { return nil }
        return TopicDefinition(
            name: name, department: department, description: description, envelope: envelope, fields: fields,
            primaryKey: primaryKey, versionField: versionField, eventTime: eventTime, entity: entity, cadence: cadence,
            endTime: endTime, limits: limits, relations: relations)
    }

    // MARK: Sections

    mutating func readFields(_ top: Node.Mapping, root: Node, declared: inout Set<String>) -> [FieldDefinition] {
        guard let node = top["fields"] else {
            problem(at: root.mark, "missing 'fields'")
            return []
        }
        guard let list = node.sequence else {
            problem(at: node.mark, "'fields' must be a list")
            return []
        }
        if list.isEmpty { problem(at: node.mark, "'fields' must not be empty") }
        var fields: [FieldDefinition] = []
        for (index, item) in list.enumerated() {
            guard let map = item.mapping else {
                problem(at: item.mark, "fields[\(index)]: expected a mapping with 'name' and 'type'")
                continue
            }
            guard let name = requiredString(map, "name", context: "fields[\(index)]: ", at: item.mark) else { continue }
            let context = "field '\(name)': "
            guard !declared.contains(name) else {
                problem(at: map["name"]?.mark, "field '\(name)' is declared twice")
                continue
            }
            declared.insert(name)
            var valid = true
            if !Self.isFieldName(name) {
                problem(
                    at: map["name"]?.mark,
                    "field name '\(name)' must be lowercase letters, digits and underscores, starting with a letter")
                valid = false
            }
            let before = problems.count
            checkKeys(map, allowed: Self.fieldKeys, context: context)
            var type: FieldType?
            if let text = requiredString(map, "type", context: context, at: item.mark) {
                type = FieldType(rawValue: text)
                if type == nil {
                    let known = FieldType.allCases.map(\.rawValue).joined(separator: ", ")
                    problem(at: map["type"]?.mark, "\(context)unknown type '\(text)' (one of \(known))")
                }
            }
            let optional = optionalBool(map, "optional", context: context) ?? false
            var format: FieldFormat?
            if let text = optionalString(map, "format", context: context) {
                format = FieldFormat(rawValue: text)
                if format == nil {
                    let known = FieldFormat.allCases.map(\.rawValue).joined(separator: ", ")
                    problem(at: map["format"]?.mark, "\(context)unknown format '\(text)' (one of \(known))")
                } else if let type, type != .string {
                    problem(
                        at: map["format"]?.mark, "\(context)format '\(text)' requires type string, not \(type.rawValue)"
                    )
                }
            }
            var values: [String]?
            if let node = map["values"] {
                values = stringList(node)
                if values == nil || values!.isEmpty {
                    problem(at: node.mark, "\(context)'values' must be a non-empty list of strings")
                } else if let type, type != .string {
                    problem(at: node.mark, "\(context)'values' requires type string, not \(type.rawValue)")
                }
            }
            let description = optionalString(map, "description", context: context)
            let maxBytes = map["max_bytes"].flatMap { positiveInteger($0, "\(context)max_bytes") }
            if maxBytes != nil, let type, type != .string {
                problem(at: map["max_bytes"]?.mark, "\(context)'max_bytes' requires type string, not \(type.rawValue)")
            }
            var personal: PersonalData?
            if let text = optionalString(map, "personal", context: context) {
                personal = PersonalData(rawValue: text)
                if personal == nil {
                    let known = PersonalData.allCases.map(\.rawValue).joined(separator: ", ")
                    problem(at: map["personal"]?.mark, "\(context)unknown personal data '\(text)' (one of \(known))")
                } else if let type, type != .string, type != .idNumber {
                    problem(at: map["personal"]?.mark, "\(context)'personal' requires type string, not \(type.rawValue)")
                }
            }
            if valid, problems.count == before, let type {
                fields.append(
                    FieldDefinition(
                        name: name, type: type, optional: optional, format: format, values: values,
                        description: description, maxBytes: maxBytes, personal: personal))
            }
        }
        return fields
    }

    mutating func readPrimaryKey(
        _ top: Node.Mapping, root: Node, fields: [String: FieldDefinition], declared: Set<String>
    ) -> [String]? {
        guard let node = top["primary_key"] else {
            problem(at: root.mark, "missing 'primary_key'")
            return nil
        }
        guard let names = stringList(node) else {
            problem(at: node.mark, "'primary_key' must be a list of field names")
            return nil
        }
        guard !names.isEmpty else {
            problem(at: node.mark, "'primary_key' must not be empty")
            return nil
        }
        var seen = Set<String>()
        let marks = node.sequence.map { $0.map(\.mark) } ?? []
        for (index, name) in names.enumerated() {
            let mark = index < marks.count ? marks[index] : node.mark
            if !seen.insert(name).inserted {
                problem(at: mark, "primary_key lists '\(name)' twice")
            } else if let field = fields[name] {
                if field.optional { problem(at: mark, "primary_key '\(name)' must not be optional") }
            } else if !declared.contains(name) {
                problem(at: mark, "primary_key '\(name)' is not a field")
            }
        }
        return names
    }

    mutating func readVersionField(_ top: Node.Mapping, fields: [String: FieldDefinition], declared: Set<String>)
        -> String?
    {
        guard let name = optionalString(top, "version_field", context: "") else { return nil }
        let mark = top["version_field"]?.mark
        if let field = fields[name] {
            if field.type != .timestamp && field.type != .int {
                problem(at: mark, "version_field '\(name)' must have type timestamp or int, not \(field.type.rawValue)")
            } else if field.optional {
                problem(at: mark, "version_field '\(name)' must not be optional")
            }
        } else if !declared.contains(name) {
            problem(at: mark, "version_field '\(name)' is not a field")
        }
        return name
    }

    mutating func readEventTime(
        _ top: Node.Mapping, root: Node, fields: [String: FieldDefinition], declared: Set<String>
    ) -> String? {
        guard let name = requiredString(top, "event_time", context: "", at: root.mark) else { return nil }
        let mark = top["event_time"]?.mark
        if let field = fields[name] {
            let dateLike = field.type == .date || field.type == .timestamp || field.format == .period
            if !dateLike {
                let kind =
                    field.format.map { "\(field.type.rawValue) with format \($0.rawValue)" } ?? field.type.rawValue
                problem(at: mark, "event_time '\(name)' is not a date, timestamp or period field (it is \(kind))")
            } else if field.optional {
                problem(at: mark, "event_time '\(name)' must not be optional")
            }
        } else if !declared.contains(name) {
            problem(at: mark, "event_time '\(name)' is not a field")
        }
        return name
    }

    /// `end_time`: an optional date field that ends the record's effect (a listing's removal date).
    mutating func readEndTime(_ top: Node.Mapping, fields: [String: FieldDefinition], declared: Set<String>) -> String? {
        guard let name = optionalString(top, "end_time", context: "") else { return nil }
        let mark = top["end_time"]?.mark
        if let field = fields[name] {
            if field.type != .date { problem(at: mark, "end_time '\(name)' is not a date field (it is \(field.type.rawValue))") }
        } else if !declared.contains(name) {
            problem(at: mark, "end_time '\(name)' is not a field")
        }
        return name
    }

    mutating func readEntity(
        _ top: Node.Mapping, root: Node, fields: [String: FieldDefinition], declared: Set<String>
    ) -> EntityLinkRule? {
        guard let node = top["entity"] else {
            problem(at: root.mark, "missing 'entity'")
            return nil
        }
        return linkRule(node, context: "entity: ", linkable: true, fields: fields, declared: declared)
    }

    /// How a record names an entity: the topic's own entity, or a relation's target (which cannot
    /// be linked later by account or name: `linkable` false).
    mutating func linkRule(
        _ node: Node, context: String, linkable: Bool, fields: [String: FieldDefinition], declared: Set<String>
    ) -> EntityLinkRule? {
        let label = String(context.dropLast(2))
        guard let map = node.mapping else {
            problem(at: node.mark, "'\(label)' must be a mapping with a 'kind'")
            return nil
        }
        guard let kind = requiredString(map, "kind", context: context, at: node.mark) else { return nil }
        let before = problems.count
        let rule: EntityLinkRule?
        switch kind {
        case "enterprise":
            checkKeys(map, allowed: linkable ? ["kind", "field", "link"] : ["kind", "field"], context: context)
            let field = entityField(map, "field", types: [.uscc], at: node.mark, fields: fields, declared: declared, context: context)
            var link: AccountLink?
            if linkable, let linkNode = map["link"] {
                let linkContext = context + "link: "
                if let linkMap = linkNode.mapping {
                    checkKeys(linkMap, allowed: ["account_field", "name_field"], context: linkContext)
                    let account =
                        linkMap["account_field"] == nil
                        ? nil
                        : entityField(
                            linkMap, "account_field", types: [.string], at: linkNode.mark, fields: fields,
                            declared: declared, context: linkContext)
                    let name =
                        linkMap["name_field"] == nil
                        ? nil
                        : entityField(
                            linkMap, "name_field", types: [.string], at: linkNode.mark, fields: fields,
                            declared: declared, context: linkContext)
                    if linkMap["account_field"] == nil && linkMap["name_field"] == nil {
                        problem(at: linkNode.mark, "\(context)link needs 'account_field' or 'name_field'")
                    }
                    link = AccountLink(accountField: account, nameField: name)
                } else {
                    problem(
                        at: linkNode.mark, "\(context)'link' must be a mapping with 'account_field' and/or 'name_field'")
                }
            }
            rule = field.map { .enterprise(field: $0, link: link) }
        case "person":
            checkKeys(map, allowed: ["kind", "field"], context: context)
            let field = entityField(map, "field", types: [.idNumber], at: node.mark, fields: fields, declared: declared, context: context)
            rule = field.map { .person(field: $0) }
        case "party":
            checkKeys(
                map,
                allowed: [
                    "kind", "type_field", "enterprise_value", "person_value", "enterprise_field", "person_field",
                ],
                context: context)
            let type = partyTypeField(map, required: true, at: node.mark, fields: fields, declared: declared, context: context)
            let enterprise = entityField(
                map, "enterprise_field", types: [.uscc], at: node.mark, fields: fields, declared: declared, context: context)
            let person = entityField(
                map, "person_field", types: [.idNumber], at: node.mark, fields: fields, declared: declared, context: context)
            if let type, let enterprise, let person {
                rule = .party(type: type, enterpriseField: enterprise, personField: person)
            } else {
                rule = nil
            }
        case "either":
            checkKeys(
                map, allowed: ["kind", "field", "type_field", "enterprise_value", "person_value"], context: context)
            let field = entityField(map, "field", types: [.string], at: node.mark, fields: fields, declared: declared, context: context)
            let type = partyTypeField(map, required: false, at: node.mark, fields: fields, declared: declared, context: context)
            rule = field.map { .either(field: $0, type: type) }
        default:
            problem(at: map["kind"]?.mark, "\(context)kind '\(kind)' is not one of enterprise, person, party, either")
            return nil
        }
        return problems.count == before ? rule : nil
    }

    mutating func partyTypeField(
        _ map: Node.Mapping, required: Bool, at mark: Mark?, fields: [String: FieldDefinition], declared: Set<String>,
        context: String
    ) -> PartyTypeField? {
        guard required || map["type_field"] != nil else {
            for key in ["enterprise_value", "person_value"] where map[key] != nil {
                problem(at: map[key]?.mark, "\(context)'\(key)' requires 'type_field'")
            }
            return nil
        }
        let field = entityField(map, "type_field", types: [.string], at: mark, fields: fields, declared: declared, context: context)
        let enterprise = optionalString(map, "enterprise_value", context: context) ?? "enterprise"
        let person = optionalString(map, "person_value", context: context) ?? "person"
        if enterprise == person {
            problem(
                at: map["person_value"]?.mark ?? mark,
                "\(context)'enterprise_value' and 'person_value' are both '\(person)'")
        }
        return field.map { PartyTypeField(field: $0, enterpriseValue: enterprise, personValue: person) }
    }

    /// The topic's relations (`relations:`): each names the relation and its inverse, the entity
    /// the record names as its target, and optionally the fields naming the target and the subject.
    mutating func readRelations(_ top: Node.Mapping, fields: [String: FieldDefinition], declared: Set<String>) -> [RelationDefinition] {
        guard let node = top["relations"] else { return [] }
        guard let items = node.sequence else {
            problem(at: node.mark, "'relations' must be a list of relations")
            return []
        }
        var relations: [RelationDefinition] = []
        var names: Set<String> = []
        for (index, item) in items.enumerated() {
            let context = "relations[\(index)]: "
            guard let map = item.mapping else {
                problem(at: item.mark, "\(context)expected a mapping with 'name', 'inverse' and 'target'")
                continue
            }
            let before = problems.count
            checkKeys(map, allowed: ["name", "inverse", "target", "target_name_field", "subject_name_field"], context: context)
            let name = requiredString(map, "name", context: context, at: item.mark)
            let inverse = requiredString(map, "inverse", context: context, at: item.mark)
            for (key, value) in [("name", name), ("inverse", inverse)] {
                guard let value else { continue }
                if !Self.isFieldName(value) {
                    problem(at: map[key]?.mark, "\(context)\(key) '\(value)' must be a lowercase identifier (e.g. legal_representative)")
                } else if !names.insert(value).inserted {
                    problem(at: map[key]?.mark, "\(context)\(key) '\(value)' is used twice in this topic")
                }
            }
            var target: EntityLinkRule?
            if let targetNode = map["target"] {
                target = linkRule(targetNode, context: context + "target: ", linkable: false, fields: fields, declared: declared)
            } else {
                problem(at: item.mark, "\(context)missing 'target'")
            }
            let nameFields = ["target_name_field", "subject_name_field"].map { key in
                map[key] == nil
                    ? nil : entityField(map, key, types: [.string], at: item.mark, fields: fields, declared: declared, context: context)
            }
            guard problems.count == before, let name, let inverse, let target else { continue }
            relations.append(RelationDefinition(
                name: name, inverse: inverse, target: target, targetNameField: nameFields[0], subjectNameField: nameFields[1]))
        }
        return relations
    }

    /// A field named by the entity rule, checked to exist with one of `types`.
    mutating func entityField(
        _ map: Node.Mapping, _ key: String, types: [FieldType], at mark: Mark?, fields: [String: FieldDefinition],
        declared: Set<String>, context: String = "entity: "
    ) -> String? {
        guard let name = requiredString(map, key, context: context, at: mark) else { return nil }
        let valueMark = map[key]?.mark
        if let field = fields[name] {
            if !types.contains(field.type) {
                let expected = types.map(\.rawValue).joined(separator: " or ")
                problem(
                    at: valueMark, "\(context)\(key) '\(name)' must have type \(expected), not \(field.type.rawValue)")
            }
        } else if !declared.contains(name) {
            problem(at: valueMark, "\(context)\(key) '\(name)' is not a field")
        }
        return name
    }

    mutating func readCadence(_ top: Node.Mapping, root: Node) -> Cadence? {
        guard let node = top["cadence"] else {
            problem(at: root.mark, "missing 'cadence'")
            return nil
        }
        guard let map = node.mapping else {
            problem(at: node.mark, "'cadence' must be a mapping with 'expected' and 'max_silence_days'")
            return nil
        }
        let context = "cadence: "
        let before = problems.count
        checkKeys(map, allowed: ["expected", "max_silence_days"], context: context)
        var expected: Cadence.Expected?
        if let text = requiredString(map, "expected", context: context, at: node.mark) {
            expected = Cadence.Expected(rawValue: text)
            if expected == nil {
                problem(at: map["expected"]?.mark, "cadence: expected '\(text)' is not one of monthly, daily, event")
            }
        }
        var days: Int?
        if let daysNode = map["max_silence_days"] {
            days = daysNode.scalar.flatMap { Int($0.string) }
            if days == nil || days! < 1 {
                problem(at: daysNode.mark, "cadence: max_silence_days must be a positive integer")
            }
        } else {
            problem(at: node.mark, "cadence: missing 'max_silence_days'")
        }
        guard problems.count == before, let expected, let days else { return nil }
        return Cadence(expected: expected, maxSilenceDays: days)
    }

    /// `limits: { max_message_bytes, max_key_bytes, max_field_bytes, max_depth }`, each optional.
    mutating func readLimits(_ top: Node.Mapping) -> MessageLimits {
        var limits = MessageLimits()
        guard let node = top["limits"] else { return limits }
        guard let map = node.mapping else {
            problem(at: node.mark, "'limits' must be a mapping of \(MessageLimits.keys.joined(separator: ", "))")
            return limits
        }
        checkKeys(map, allowed: MessageLimits.keys, context: "limits: ")
        func read(_ key: String, into value: inout Int) {
            if let node = map[key], let n = positiveInteger(node, "limits: \(key)") { value = n }
        }
        read("max_message_bytes", into: &limits.messageBytes)
        read("max_key_bytes", into: &limits.keyBytes)
        read("max_field_bytes", into: &limits.fieldBytes)
        read("max_depth", into: &limits.depth)
        return limits
    }

    // MARK: Scalars

    mutating func positiveInteger(_ node: Node, _ what: String) -> Int? {
        guard let n = node.scalar.flatMap({ Int($0.string) }), n >= 1 else {
            problem(at: node.mark, "\(what) must be a positive integer")
            return nil
        }
        return n
    }

    mutating func checkKeys(_ map: Node.Mapping, allowed: [String], context: String) {
        for (key, _) in map {
            guard let text = key.scalar?.string else {
                problem(at: key.mark, "\(context)keys must be plain strings")
                continue
            }
            if !allowed.contains(text) { problem(at: key.mark, "\(context)unknown key '\(text)'") }
        }
    }

    mutating func requiredString(_ map: Node.Mapping, _ key: String, context: String, at mark: Mark? = nil) -> String? {
        guard map[key] != nil else {
            problem(at: mark, "\(context)missing '\(key)'")
            return nil
        }
        return optionalString(map, key, context: context)
    }

    mutating func optionalString(_ map: Node.Mapping, _ key: String, context: String) -> String? {
        guard let node = map[key] else { return nil }
        guard let scalar = node.scalar, !scalar.string.isEmpty else {
            problem(at: node.mark, "\(context)'\(key)' must be a non-empty string")
            return nil
        }
        return scalar.string
    }

    mutating func optionalBool(_ map: Node.Mapping, _ key: String, context: String) -> Bool? {
        guard let node = map[key] else { return nil }
        switch node.scalar?.string {
        case "true": return true
        case "false": return false
        default:
            problem(at: node.mark, "\(context)'\(key)' must be true or false")
            return nil
        }
    }

    func stringList(_ node: Node) -> [String]? {
        guard let list = node.sequence else { return nil }
        var result: [String] = []
        for item in list {
            guard let scalar = item.scalar else { return nil }
            result.append(scalar.string)
        }
        return result
    }

    static func isTopicName(_ name: String) -> Bool {
        name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { isIdentifier($0) }
    }

    static func isFieldName(_ name: String) -> Bool { isIdentifier(Substring(name)) }

    /// `[a-z][a-z0-9_]*`.
    static func isIdentifier(_ text: Substring) -> Bool {
        guard let first = text.utf8.first, first >= UInt8(ascii: "a"), first <= UInt8(ascii: "z") else { return false }
        return text.utf8.allSatisfy {
            ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z")) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9"))
                || $0 == UInt8(ascii: "_")
        }
    }

    static func describe(_ error: YamlError) -> (Mark?, String) {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let prefix = context.map { "\($0.text) (line \($0.mark.line), column \($0.mark.column)): " } ?? ""
            return (mark, prefix + problem)
        case .duplicatedKeysInMapping(let duplicates, let context):
            return (context.mark, "duplicate key \(duplicates.sorted().map { "'\($0)'" }.joined(separator: ", "))")
        case .reader(let problem, _, _, _):
            return (nil, problem)
        default:
            return (nil, "\(error)")
        }
    }
}
