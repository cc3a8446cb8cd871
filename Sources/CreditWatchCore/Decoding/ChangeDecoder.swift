import RuleLanguage

/// Turns one Kafka message of a catalog topic into a validated `Change`, a tombstone, or a
/// rejection with a precise reason (see EVENTS.md, "Bad input").
///
/// Accepted encodings per declared field type:
/// - `string`: a JSON string (a number is rejected: declare the type the department sends).
/// - `uscc`, `id_number`: a JSON string with a correct check character, normalised to uppercase;
///   an empty string counts as null (department tables often hold `''` for "unknown").
/// - `date`: `"YYYY-MM-DD"` or an integer count of days since 1970-01-01 (years 0001–9999).
/// - `timestamp`: integer epoch milliseconds, or ISO-8601 text `YYYY-MM-DDTHH:MM:SS` (`T`, `t`
///   or a space between date and time) with optional fractional seconds (1–9 digits, truncated
///   to milliseconds) and optional offset `Z`, `±HH:MM`, `±HHMM` or `±HH`. Text without an offset
///   is local business time (`businessUTCOffsetSeconds`, China Standard Time by default).
/// - `decimal`: a JSON number, or a string matching `-?[0-9]+(\.[0-9]+)?`.
/// - `int`: a JSON number without fractional part (strings are rejected).
/// - `bool`: `true`/`false`, or the numbers 0/1.
/// - `null` or absent: allowed for optional fields only.
///
/// Business days of timestamps (for `event_time`) are taken in `businessUTCOffsetSeconds`.
public struct ChangeDecoder: Sendable {
    public let catalog: TopicCatalog
    /// The offset of local business time from UTC: 8 hours (China Standard Time, no DST).
    public let businessUTCOffsetSeconds: Int

    let plans: [String: TopicPlan]

    public init(catalog: TopicCatalog, businessUTCOffsetSeconds: Int = 8 * 3600) {
        self.catalog = catalog
        self.businessUTCOffsetSeconds = businessUTCOffsetSeconds
        self.plans = catalog.topics.mapValues(TopicPlan.init)
    }

    /// Decodes one message. `key` (the row's primary key as JSON) is not needed: the row carries
    /// its primary key, and a tombstone is skipped whatever its key.
    public func decode(topic: String, key: [UInt8]?, value: [UInt8]?) -> DecodeOutcome {
        decode(topic: topic, key: key, value: value, fast: true)
    }

    /// `fast: false`: the general path alone (tests hold the fast one to its outcomes).
    func decode(topic: String, key: [UInt8]?, value: [UInt8]?, fast: Bool) -> DecodeOutcome {
        guard let plan = plans[topic] else { return .rejected(reason: "unknown topic '\(topic)'") }
        let limits = plan.definition.limits
        if let key, key.count > limits.keyBytes {
            return .rejected(reason: "message key is \(key.count) bytes, over the limit of \(limits.keyBytes) (limits.max_key_bytes)")
        }
        if let value, value.count > limits.messageBytes {
            return .rejected(
                reason: "message is \(value.count) bytes, over the limit of \(limits.messageBytes) (limits.max_message_bytes)")
        }
        guard let value, !ChangeDecoder.isTombstone(value) else { return .tombstone }
        do {
            return .change(try decode(plan: plan, value: value, fast: fast))
        } catch {
            return .rejected(reason: error.reason)
        }
    }

    private func decode(plan: TopicPlan, value: [UInt8], fast: Bool) throws(Rejection) -> Change {
        if fast, let change = fastChange(plan: plan, value: value) { return change }
        let document: JSONValue
        do {
            document = try JSONReader.parse(value, maxDepth: plan.definition.limits.depth)
        } catch {
            switch error {
            case .syntax(let message): throw Rejection("not JSON: \(message)")
            case .encoding(let problem): throw Rejection("not UTF-8: \(problem)")
            case .tooDeep(let limit): throw Rejection("JSON nested deeper than \(limit) levels (limits.max_depth)")
            }
        }
        guard case .object(let top) = document else {
            throw Rejection("envelope: expected a JSON object, got \(document.summary)")
        }

        let operation: ChangeOperation
        let row: [String: JSONValue]
        var envelopeVersion: Int64?
        switch plan.definition.envelope {
        case .plain:
            operation = .create
            row = top
        case .debezium:
            (operation, row) = try ChangeDecoder.debeziumRow(top)
            if plan.definition.versionField == nil {
                envelopeVersion = try ChangeDecoder.envelopeVersion(tsMs: top["ts_ms"], source: top["source"])
            }
        }

        return try change(plan: plan, row: plan.slots(of: row), operation: operation, envelopeVersion: envelopeVersion)
    }

    /// A well-formed change decoded without a tree of the message: the row straight into the
    /// topic's fields (`FastJSON.row`/`envelope`), ~half of decoding's time. Nil for anything
    /// else — not JSON to the fast parser, a bad envelope, a field rejected — which then takes the
    /// general path above, whose outcome and reason stand: the same values go through the same
    /// checks, so a change is the same either way.
    func fastChange(plan: TopicPlan, value: [UInt8]) -> Change? {
        let depth = plan.definition.limits.depth
        switch plan.definition.envelope {
        case .plain:
            guard let row = try? FastJSON.row(value, maxDepth: depth, names: plan.fieldNames) else { return nil }
            return try? change(plan: plan, row: row, operation: .create, envelopeVersion: nil)
        case .debezium:
            guard let envelope = try? FastJSON.envelope(value, maxDepth: depth, names: plan.fieldNames),
                case .string(let op)? = envelope.op, let operation = ChangeOperation(rawValue: op),
                let row = operation == .delete ? envelope.before : envelope.after
            else { return nil }
            var version: Int64?
            if plan.definition.versionField == nil {
                // Not `try?`: an envelope without a version (nil) is not a bad one.
                do { version = try ChangeDecoder.envelopeVersion(tsMs: envelope.tsMs, source: envelope.source) } catch { return nil }
            }
            return try? change(plan: plan, row: row, operation: operation, envelopeVersion: version)
        }
    }

    /// Decodes one row given without an envelope, as a change of the given kind: how `rules test`
    /// turns a case file's event into exactly the record the engine would store. `version` stands
    /// in for the envelope's `ts_ms` (the topic's `version_field` wins when it has one). Never
    /// returns `.tombstone`.
    public func decode(
        topic: String, row: [String: JSONValue], operation: ChangeOperation = .create, version: Int64
    ) -> DecodeOutcome {
        guard let plan = plans[topic] else { return .rejected(reason: "unknown topic '\(topic)'") }
        do {
            return .change(try change(plan: plan, row: plan.slots(of: row), operation: operation, envelopeVersion: version))
        } catch {
            return .rejected(reason: error.reason)
        }
    }

    /// Types and validates a row's fields (`row`: each declared field's member, in the order of
    /// the declaration), links it to its entity, and derives its key, version and event day.
    private func change(
        plan: TopicPlan, row: [JSONValue?], operation: ChangeOperation, envelopeVersion: Int64?
    ) throws(Rejection) -> Change {
        var fields = [String: Value](minimumCapacity: plan.definition.fields.count)
        var identifiers = Identifiers()
        // By index: iterating copied each field's definition (its strings retained and released).
        let definitions = plan.definition.fields
        for index in definitions.indices {
            fields[definitions[index].name] = try decodeField(definitions[index], row[index], plan: plan, identifiers: &identifiers)
        }

        let entity = try ChangeDecoder.entity(plan.definition.entity, fields: &fields, identifiers: identifiers)
        let key = plan.definition.primaryKey.map { ChangeDecoder.keyText(fields[$0] ?? .null) }.joined(separator: "|")
        guard key.utf8.count <= plan.definition.limits.keyBytes else {
            throw Rejection(
                "primary key is \(key.utf8.count) bytes, over the limit of \(plan.definition.limits.keyBytes) (limits.max_key_bytes)")
        }
        let version: Int64
        switch plan.definition.versionField.flatMap({ fields[$0] }) {
        case .timestamp(let ms)?: version = ms
        case .number(let n)?: version = Int64(exactly: n) ?? (n > 0 ? .max : .min)
        default: version = envelopeVersion ?? 0
        }
        let eventDay: Day
        switch fields[plan.definition.eventTime] {
        case .date(let day)?: eventDay = day
        case .timestamp(let ms)?: eventDay = Day(epochMilliseconds: ms, utcOffsetSeconds: businessUTCOffsetSeconds)
        case .string(let text)?: eventDay = Month(iso: text)!.firstDay
        default: throw Rejection("field '\(plan.definition.eventTime)' has no event time")  // prevented by the catalog
        }
        return Change(
            topic: plan.definition.name, key: key, operation: operation, version: version, fields: fields,
            eventDay: eventDay, entity: entity)
    }

    // MARK: Envelope

    static func debeziumRow(_ top: [String: JSONValue]) throws(Rejection) -> (ChangeOperation, [String: JSONValue]) {
        let operation: ChangeOperation
        switch top["op"] {
        case nil, .null?:
            throw Rejection("envelope: missing 'op'")
        case .string(let text)?:
            guard let op = ChangeOperation(rawValue: text) else {
                throw Rejection("envelope: op \(JSONValue.quoted(text)) is not one of c, u, d, r")
            }
            operation = op
        case let other?:
            throw Rejection("envelope: 'op' must be a string, got \(other.summary)")
        }
        let side = operation == .delete ? "before" : "after"
        guard case .object(let row)? = top[side] else {
            throw Rejection("envelope: op '\(operation.rawValue)' requires an object '\(side)'")
        }
        return (operation, row)
    }

    /// `ts_ms` of the envelope, else `source.ts_ms`, else nil.
    static func envelopeVersion(tsMs: JSONValue?, source: JSONValue?) throws(Rejection) -> Int64? {
        switch tsMs {
        case nil, .null?: break
        case let value?:
            guard let ms = value.exactInteger else {
                throw Rejection("envelope: 'ts_ms' must be an integer, got \(value.summary)")
            }
            return ms
        }
        guard case .object(let source)? = source else { return nil }
        switch source["ts_ms"] {
        case nil, .null?: return nil
        case let value?:
            guard let ms = value.exactInteger else {
                throw Rejection("envelope: 'source.ts_ms' must be an integer, got \(value.summary)")
            }
            return ms
        }
    }

    static func isTombstone(_ bytes: [UInt8]) -> Bool {
        var content = bytes[...]
        while let first = content.first, isSpace(first) { content = content.dropFirst() }
        while let last = content.last, isSpace(last) { content = content.dropLast() }
        return content.isEmpty || content.elementsEqual("null".utf8)
    }

    static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }

    // MARK: Fields

    /// Validated identifiers of the row, kept so that entity linking need not parse them again.
    struct Identifiers {
        var enterprises: [String: USCC] = [:]
        var persons: [String: ResidentID] = [:]
    }

    private func decodeField(
        _ field: FieldDefinition, _ json: JSONValue?, plan: TopicPlan, identifiers: inout Identifiers
    ) throws(Rejection) -> Value {
        let name = field.name
        guard let json else {
            if field.optional { return .null }
            throw Rejection("missing required field '\(name)'")
        }
        if case .null = json {
            if field.optional { return .null }
            throw Rejection("required field '\(name)' is null")
        }
        if field.type == .uscc || field.type == .idNumber, case .string(let text) = json,
            text.allSatisfy(\.isWhitespace)
        {
            if field.optional { return .null }
            throw Rejection("required field '\(name)' is empty")
        }
        func mismatch() -> Rejection {
            Rejection("field '\(name)': expected \(field.type.rawValue), got \(json.summary)")
        }

        switch field.type {
        case .string:
            guard case .string(let text) = json else { throw mismatch() }
            try ChangeDecoder.checkStorable(text, field: field, limit: field.maxBytes ?? plan.definition.limits.fieldBytes)
            return .string(try checkString(text, field: field, plan: plan))
        case .uscc:
            guard case .string(let text) = json else { throw mismatch() }
            do {
                let uscc = try USCC(validating: text)
                identifiers.enterprises[name] = uscc
                return .string(uscc.value)
            } catch {
                throw Rejection("field '\(name)': \(error.reason)")
            }
        case .idNumber:
            guard case .string(let text) = json else { throw mismatch() }
            do {
                let id = try ResidentID(validating: text)
                identifiers.persons[name] = id
                return .string(id.value)
            } catch {
                throw Rejection("field '\(name)': \(error.reason)")
            }
        case .date:
            switch json {
            case .string(let text):
                guard let day = Day(iso: text) else {
                    throw Rejection("field '\(name)': \(JSONValue.quoted(text)) is not a date")
                }
                return .date(day)
            default:
                guard let days = json.exactInteger else { throw mismatch() }
                guard ChangeDecoder.dayRange.contains(days) else {
                    throw Rejection("field '\(name)': \(days) days since 1970-01-01 is outside years 0001–9999")
                }
                return .date(Day(Int(days)))
            }
        case .timestamp:
            switch json {
            case .string(let text):
                guard let ms = Timestamp.milliseconds(iso8601: text, defaultUTCOffsetSeconds: businessUTCOffsetSeconds)
                else { throw Rejection("field '\(name)': \(JSONValue.quoted(text)) is not a timestamp") }
                return .timestamp(ms)
            default:
                guard let ms = json.exactInteger else { throw mismatch() }
                guard ChangeDecoder.millisecondRange.contains(ms) else {
                    throw Rejection("field '\(name)': \(ms) ms since 1970-01-01 is outside years 0001–9999")
                }
                return .timestamp(ms)
            }
        case .decimal:
            let d: Double
            switch json {
            case .integer(let i): d = Double(i)
            case .number(let n): d = n
            case .string(let text):
                guard ChangeDecoder.isDecimalText(text), let n = Double(text) else {
                    throw Rejection("field '\(name)': \(JSONValue.quoted(text)) is not a decimal")
                }
                d = n
            default: throw mismatch()
            }
            guard d.isFinite, abs(d) <= ChangeDecoder.decimalLimit else {
                throw Rejection(
                    "field '\(name)': \(json.summary) is outside ±\(Int64(ChangeDecoder.decimalLimit)), the range kept exact to 0.01")
            }
            return .number(d)
        case .int:
            guard let i = json.exactInteger else { throw mismatch() }
            guard i.magnitude <= ChangeDecoder.integerLimit else {
                throw Rejection(
                    "field '\(name)': \(json.summary) is outside ±\(ChangeDecoder.integerLimit), the integers kept exactly")
            }
            return .number(Double(i))
        case .bool:
            switch json {
            case .bool(let b): return .bool(b)
            case .integer(0): return .bool(false)
            case .integer(1): return .bool(true)
            default: throw mismatch()
            }
        }
    }

    /// Applies a string field's format and closed list of values; returns the normalised text.
    private func checkString(_ text: String, field: FieldDefinition, plan: TopicPlan) throws(Rejection) -> String {
        var text = text
        switch field.format {
        case nil: break
        case .period?:
            guard Month(iso: text) != nil else {
                throw Rejection("field '\(field.name)': \(JSONValue.quoted(text)) is not a period (YYYY-MM)")
            }
        case .industryCode?:
            do {
                text = try IndustryCode(validating: text).value
            } catch {
                throw Rejection("field '\(field.name)': \(error.reason)")
            }
        case .districtCode?:
            guard text.utf8.count == 6, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
                throw Rejection("field '\(field.name)': \(JSONValue.quoted(text)) is not a 6-digit district code")
            }
        }
        if let allowed = plan.allowedValues[field.name], !allowed.contains(text) {
            throw Rejection(
                "field '\(field.name)': \(JSONValue.quoted(text)) is not one of \(field.values!.joined(separator: ", "))"
            )
        }
        return text
    }

    /// A string the store can hold: within the byte limit, and without U+0000 (PostgreSQL's text
    /// and jsonb cannot hold it, so the batch carrying it could never be written).
    static func checkStorable(_ text: String, field: FieldDefinition, limit: Int) throws(Rejection) {
        let bytes = text.utf8.count
        guard bytes <= limit else {
            let key = field.maxBytes == nil ? "limits.max_field_bytes" : "max_bytes"
            throw Rejection("field '\(field.name)': \(bytes) bytes, over the limit of \(limit) (\(key))")
        }
        if let index = text.utf8.firstIndex(of: 0) {
            let offset = text.utf8.distance(from: text.utf8.startIndex, to: index)
            throw Rejection("field '\(field.name)': contains U+0000 at byte \(offset), which the store cannot hold")
        }
    }

    /// The largest decimal magnitude kept: its hundredths (how windows sum amounts, exactly, in
    /// integers) stay below 2^53, where every integer is a Double and an Int64.
    static let decimalLimit = 90_000_000_000_000.0

    /// The largest integer magnitude kept exactly (2^53): ints are numbers in the rule language.
    static let integerLimit: UInt64 = 9_007_199_254_740_992

    static let dayRange =
        Int64(Day(year: 1, month: 1, day: 1)!.value)...Int64(Day(year: 9999, month: 12, day: 31)!.value)

    static let millisecondRange = (dayRange.lowerBound * 86_400_000)...(dayRange.upperBound * 86_400_000 + 86_399_999)

    /// `-?[0-9]+(\.[0-9]+)?`.
    static func isDecimalText(_ text: String) -> Bool {
        var bytes = text.utf8[...]
        if bytes.first == UInt8(ascii: "-") { bytes = bytes.dropFirst() }
        let parts = bytes.split(separator: UInt8(ascii: "."), maxSplits: 1, omittingEmptySubsequences: false)
        guard bytes.last != UInt8(ascii: ".") else { return false }
        return parts.allSatisfy { !$0.isEmpty && $0.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }
    }

    // MARK: Entity and key

    static func entity(
        _ rule: EntityLinkRule, fields: inout [String: Value], identifiers: Identifiers
    ) throws(Rejection) -> EntityRef {
        switch rule {
        case .enterprise(let field, let link):
            if let uscc = identifiers.enterprises[field] { return .enterprise(uscc) }
            let account = link?.accountField.flatMap { nonEmptyText(fields[$0]) }
            let name = link?.nameField.flatMap { nonEmptyText(fields[$0]) }
            guard account != nil || name != nil else {
                throw Rejection("no entity key: '\(field)' is null and no link fields")
            }
            return .unlinked(accountNo: account, name: name)
        case .person(let field):
            guard let id = identifiers.persons[field] else {
                throw Rejection("no entity key: '\(field)' is null and no link fields")
            }
            return .person(id)
        case .party(let type, let enterpriseField, let personField):
            switch try partyKind(type, fields: fields) {
            case .enterprise?:
                guard let uscc = identifiers.enterprises[enterpriseField] else {
                    throw Rejection(
                        "no entity key: '\(type.field)' is '\(type.enterpriseValue)' but '\(enterpriseField)' is null")
                }
                return .enterprise(uscc)
            case .person?:
                guard let id = identifiers.persons[personField] else {
                    throw Rejection(
                        "no entity key: '\(type.field)' is '\(type.personValue)' but '\(personField)' is null")
                }
                return .person(id)
            case nil:
                throw Rejection("no entity key: '\(type.field)' is null")
            }
        case .either(let field, let type):
            guard case .string(let text)? = fields[field] else {
                throw Rejection("no entity key: '\(field)' is null")
            }
            let hint = try type.flatMap { t throws(Rejection) in try partyKind(t, fields: fields) }
            do {
                let party = try PartyIdentifier.classify(text, hint: hint)
                fields[field] = .string(party.value)
                switch party {
                case .enterprise(let uscc): return .enterprise(uscc)
                case .person(let id): return .person(id)
                }
            } catch {
                throw Rejection("field '\(field)': \(error.reason)")
            }
        }
    }

    static func partyKind(_ type: PartyTypeField, fields: [String: Value]) throws(Rejection) -> PartyKind? {
        guard case .string(let text)? = fields[type.field] else { return nil }
        if text == type.enterpriseValue { return .enterprise }
        if text == type.personValue { return .person }
        throw Rejection(
            "field '\(type.field)': \(JSONValue.quoted(text)) is not one of \(type.enterpriseValue), \(type.personValue)"
        )
    }

    static func nonEmptyText(_ value: Value?) -> String? {
        guard case .string(let text)? = value, !text.allSatisfy(\.isWhitespace) else { return nil }
        return text
    }

    /// A primary-key value as text: strings as they are, integral numbers without `.0`, dates as
    /// `YYYY-MM-DD`, timestamps as epoch milliseconds.
    static func keyText(_ value: Value) -> String {
        switch value {
        case .string(let s): s
        case .number(let n): n.rounded(.towardZero) == n && abs(n) < 1e18 ? String(Int64(n)) : String(n)
        case .date(let d): d.description
        case .timestamp(let ms): String(ms)
        case .bool(let b): String(b)
        case .null: ""
        }
    }
}

/// A topic definition prepared for decoding.
struct TopicPlan: Sendable {
    let definition: TopicDefinition
    let allowedValues: [String: Set<String>]
    /// The fields' names as bytes, in the order of the declaration (how the fast path matches them).
    let fieldNames: [[UInt8]]

    init(_ definition: TopicDefinition) {
        self.definition = definition
        self.fieldNames = definition.fields.map { Array($0.name.utf8) }
        var allowed: [String: Set<String>] = [:]
        for field in definition.fields { if let values = field.values { allowed[field.name] = Set(values) } }
        self.allowedValues = allowed
    }

    /// Each declared field's member of `row`, in the order of the declaration.
    func slots(of row: [String: JSONValue]) -> [JSONValue?] { definition.fields.map { row[$0.name] } }
}

/// Why a message is rejected (internal; surfaces as `DecodeOutcome.rejected(reason:)`).
struct Rejection: Error {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}
