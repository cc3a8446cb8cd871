import RuleLanguage

/// The catalog's personal fields and how a record's are masked: every personal field, except the
/// non-ID fields of a row that its topic's party-type field says is an enterprise's (a court
/// listing's `name` is a person's name only when the party is a person; an enterprise's name is
/// public). ID numbers are masked on every row.
public struct PersonalFields: Sendable, Hashable, ExpressibleByDictionaryLiteral {
    /// Topic → field → the personal data it holds.
    public var byTopic: [String: [String: PersonalData]]
    /// Topic → its party-type field, for topics whose rows are an enterprise's or a person's.
    public var partyTypes: [String: PartyTypeField]

    public init(byTopic: [String: [String: PersonalData]], partyTypes: [String: PartyTypeField] = [:]) {
        self.byTopic = byTopic
        self.partyTypes = partyTypes
    }

    public init(_ catalog: TopicCatalog) {
        self.init(
            byTopic: catalog.personalFields,
            partyTypes: catalog.topics.compactMapValues { topic in
                switch topic.entity {
                case .party(let type, _, _): type
                case .either(_, let type): type
                default: nil
                }
            })
    }

    public init(dictionaryLiteral elements: (String, [String: PersonalData])...) {
        self.init(byTopic: Dictionary(elements, uniquingKeysWith: { a, _ in a }))
    }

    /// A record's fields with its personal data masked.
    public func mask(_ fields: [String: JSONValue], topic: String) -> [String: JSONValue] {
        guard let personal = byTopic[topic] else { return fields }
        let enterpriseRow = partyTypes[topic].map { fields[$0.field] == .string($0.enterpriseValue) } ?? false
        var fields = fields
        for (field, kind) in personal where kind == .idNumber || !enterpriseRow {
            if case .string(let text)? = fields[field] { fields[field] = .string(kind.mask(text)) }
        }
        return fields
    }
}
