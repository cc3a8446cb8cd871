import RuleLanguage

/// One department feed of the catalog (`topics/<name>.yaml`): its Kafka topic, how its messages
/// are wrapped, the fields of its rows and how a row is linked to an enterprise or a person.
///
/// Invariants (checked by `TopicCatalog.parse`): field names are unique; the primary key,
/// `versionField` and `eventTime` name required fields of suitable types; the entity rule names
/// fields of suitable types.
public struct TopicDefinition: Sendable, Hashable {
    /// The Kafka topic, e.g. `tax.payment`: lowercase words separated by dots.
    public let name: String
    /// The department that owns the table, in Chinese (e.g. `税务局`).
    public let department: String
    public let description: String
    public let envelope: Envelope
    /// The declared fields in declaration order. Columns a message carries beyond these are ignored.
    public let fields: [FieldDefinition]
    /// Fields whose values identify a row within the topic (joined by `|` into `Change.key`).
    public let primaryKey: [String]
    /// A `timestamp` or `int` field that orders the versions of a row (e.g. `updated_at`); when
    /// nil, the envelope's `ts_ms` orders them.
    public let versionField: String?
    /// The field giving the record's business date: a `date`, a `timestamp` (its day in the
    /// business time zone) or a `period` string (the month's first day).
    public let eventTime: String
    /// A date field that ends the record's effect (`removed_date` of a listing): once set, that
    /// date is a business date of the entity too, so its clock reaches the end it announces.
    public let endTime: String?
    public let entity: EntityLinkRule
    public let cadence: Cadence
    /// Bounds on the topic's messages (`limits:`); the defaults when the file sets none.
    public let limits: MessageLimits
    /// Relations each current record makes from its entity to another (`relations:`).
    public let relations: [RelationDefinition]

    let fieldIndex: [String: Int]

    public init(
        name: String, department: String, description: String, envelope: Envelope, fields: [FieldDefinition],
        primaryKey: [String], versionField: String?, eventTime: String, entity: EntityLinkRule, cadence: Cadence,
        endTime: String? = nil, limits: MessageLimits = MessageLimits(), relations: [RelationDefinition] = []
    ) {
        self.relations = relations
        self.endTime = endTime
        self.limits = limits
        self.name = name
        self.department = department
        self.description = description
        self.envelope = envelope
        self.fields = fields
        self.primaryKey = primaryKey
        self.versionField = versionField
        self.eventTime = eventTime
        self.entity = entity
        self.cadence = cadence
        self.fieldIndex = Dictionary(fields.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { a, _ in a })
    }

    /// The declared field named `name`.
    public func field(_ name: String) -> FieldDefinition? { fieldIndex[name].map { fields[$0] } }

    /// What the rule checker knows of this topic.
    public var schema: TopicSchema {
        TopicSchema(
            name: name, fields: Dictionary(fields.map { ($0.name, $0.type) }, uniquingKeysWith: { a, _ in a }),
            eventTimeField: eventTime, entityKind: entity.kind,
            personal: Dictionary(uniqueKeysWithValues: fields.compactMap { field in field.personal.map { (field.name, $0) } }))
    }

    /// What the rule checker knows of this topic's relations.
    public var relationSchemas: [RelationSchema] {
        relations.map { relation in
            RelationSchema(
                name: relation.name, inverse: relation.inverse, topic: name, subjectKind: entity.kind,
                targetKind: relation.target.kind, targetNameField: relation.targetNameField, subjectNameField: relation.subjectNameField)
        }
    }
}

/// A relation a topic's records make (`relations:` of a catalog file): each current record links
/// the entity it is about (its subject) to the entity `target` names, e.g. an enterprise to its
/// legal representative. A record whose target fields are null makes no edge.
public struct RelationDefinition: Sendable, Hashable {
    public let name: String
    /// The name of the relation walked from the target back to the subject (`represents`).
    public let inverse: String
    public let target: EntityLinkRule
    public let targetNameField: String?
    public let subjectNameField: String?

    public init(name: String, inverse: String, target: EntityLinkRule, targetNameField: String? = nil, subjectNameField: String? = nil) {
        self.name = name
        self.inverse = inverse
        self.target = target
        self.targetNameField = targetNameField
        self.subjectNameField = subjectNameField
    }

    /// The entity a record's validated fields name as the target (nil: none).
    public func target(of fields: [String: Value]) -> EntityKey? {
        func text(_ field: String) -> String? {
            guard case .string(let text)? = fields[field], !text.isEmpty else { return nil }
            return text
        }
        switch target {
        case .enterprise(let field, _): return text(field).map { EntityKey(.enterprise, $0) }
        case .person(let field): return text(field).map { EntityKey(.person, $0) }
        case .party(let type, let enterpriseField, let personField):
            switch text(type.field) {
            case type.enterpriseValue?: return text(enterpriseField).map { EntityKey(.enterprise, $0) }
            case type.personValue?: return text(personField).map { EntityKey(.person, $0) }
            default: return nil
            }
        case .either(let field, let type):
            guard let value = text(field) else { return nil }
            let hint: PartyKind? = type.flatMap { t in
                text(t.field).flatMap { $0 == t.enterpriseValue ? .enterprise : $0 == t.personValue ? .person : nil }
            }
            switch try? PartyIdentifier.classify(value, hint: hint) {
            case .enterprise(let uscc)?: return EntityKey(.enterprise, uscc.value)
            case .person(let id)?: return EntityKey(.person, id.value)
            case nil: return nil
            }
        }
    }
}

/// How a topic's messages are wrapped.
public enum Envelope: String, Sendable, Hashable, CaseIterable {
    /// A Debezium change event with schemas disabled: `op`, `before`, `after`, `source`, `ts_ms`.
    case debezium
    /// The value is the row itself (batch feeds, file backfills); every message is a create.
    case plain
}

/// One declared column of a topic.
public struct FieldDefinition: Sendable, Hashable {
    public let name: String
    public let type: FieldType
    /// Whether the field may be null or absent.
    public let optional: Bool
    /// A further check (and normalisation) of a `string` field's text.
    public let format: FieldFormat?
    /// The allowed texts of a `string` field, when the department documents a closed list.
    public let values: [String]?
    /// What the field holds, e.g. its unit (`CNY yuan`); documentation only.
    public let description: String?
    /// The longest text (UTF-8 bytes) a `string` field may hold, overriding the topic's
    /// `limits.max_field_bytes` (`max_bytes:`).
    public let maxBytes: Int?
    /// Personal data, masked for whoever has no right to see it (`personal:`); an `id_number`
    /// field is one whatever it says.
    public let personal: PersonalData?

    public init(
        name: String, type: FieldType, optional: Bool = false, format: FieldFormat? = nil, values: [String]? = nil,
        description: String? = nil, maxBytes: Int? = nil, personal: PersonalData? = nil
    ) {
        self.maxBytes = maxBytes
        self.personal = type == .idNumber ? .idNumber : personal
        self.name = name
        self.type = type
        self.optional = optional
        self.format = format
        self.values = values
        self.description = description
    }
}

/// Checks of a `string` field's text beyond its JSON type.
public enum FieldFormat: String, Sendable, Hashable, CaseIterable {
    /// `YYYY-MM`, a month such as a tax or billing period.
    case period
    /// A GB/T 4754-2017 industry code such as `C3011` (see `IndustryCode`); normalised to uppercase.
    case industryCode = "industry_code"
    /// A 6-digit GB/T 2260 administrative division code such as `430602`.
    case districtCode = "district_code"
}

/// The field of a topic that says whether a row's party is an enterprise or a person, and the
/// texts that mean each.
public struct PartyTypeField: Sendable, Hashable {
    public let field: String
    public let enterpriseValue: String
    public let personValue: String

    public init(field: String, enterpriseValue: String = "enterprise", personValue: String = "person") {
        self.field = field
        self.enterpriseValue = enterpriseValue
        self.personValue = personValue
    }
}

/// Fields by which a row without a USCC can be linked to an enterprise later (utility accounts).
public struct AccountLink: Sendable, Hashable {
    /// The customer account number, linked once any record of the account carried a USCC.
    public let accountField: String?
    /// The customer name, matched in `EnterpriseName.normalized` form against registered names.
    public let nameField: String?

    public init(accountField: String?, nameField: String?) {
        self.accountField = accountField
        self.nameField = nameField
    }
}

/// How a row of a topic is linked to the enterprise or person it is about.
public enum EntityLinkRule: Sendable, Hashable {
    /// A `uscc` field; when it is null and `link` is set, the row is kept unlinked with its link fields.
    case enterprise(field: String, link: AccountLink?)
    /// An `id_number` field.
    case person(field: String)
    /// A type field chooses between a `uscc` field and an `id_number` field (court records).
    case party(type: PartyTypeField, enterpriseField: String, personField: String)
    /// A `string` field holding a USCC or an ID number, told apart by shape and check character;
    /// the optional type field only settles the rare text that is valid as both.
    case either(field: String, type: PartyTypeField?)

    public var kind: TopicSchema.EntityKind {
        switch self {
        case .enterprise: .enterprise
        case .person: .person
        case .party, .either: .mixed
        }
    }
}

/// How often a feed is expected to deliver, so that silence can be told from absence of events.
public struct Cadence: Sendable, Hashable {
    public enum Expected: String, Sendable, Hashable, CaseIterable {
        /// A batch per month (payments, usage, enrolment).
        case monthly
        /// Changes every working day.
        case daily
        /// Changes when something happens (listings, penalties); silence is normal for a while.
        case event
    }

    public let expected: Expected
    /// Days without any message after which the feed counts as stale.
    public let maxSilenceDays: Int

    public init(expected: Expected, maxSilenceDays: Int) {
        self.expected = expected
        self.maxSilenceDays = maxSilenceDays
    }
}

/// Bounds on one topic's messages. A message beyond any of them is quarantined with the bound it
/// broke, so that no department row can exhaust the daemon's memory or stack, or carry a value
/// the stores cannot hold. The defaults are far above what a department row needs (a few hundred
/// bytes) and far below what would hurt.
public struct MessageLimits: Sendable, Hashable {
    /// The message value in bytes (`max_message_bytes`, default 256 KiB).
    public var messageBytes: Int
    /// The Kafka message key and the record's primary key, in bytes (`max_key_bytes`, default 512).
    public var keyBytes: Int
    /// One string field's text in UTF-8 bytes (`max_field_bytes`, default 8 KiB; a field's
    /// `max_bytes` overrides it).
    public var fieldBytes: Int
    /// Nesting of JSON objects and arrays (`max_depth`, default 16; a Debezium envelope needs 3).
    public var depth: Int

    public init(messageBytes: Int = 262_144, keyBytes: Int = 512, fieldBytes: Int = 8192, depth: Int = 16) {
        self.messageBytes = messageBytes
        self.keyBytes = keyBytes
        self.fieldBytes = fieldBytes
        self.depth = depth
    }

    /// The catalog keys, in the order the documentation lists them.
    static let keys = ["max_message_bytes", "max_key_bytes", "max_field_bytes", "max_depth"]
}
