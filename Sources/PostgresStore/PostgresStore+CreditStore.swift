import CreditWatchCore
import Foundation
import PostgresNIO
import RuleLanguage

extension PostgresStore: CreditStore {
    /// One query: registrations of `enterprises`, owners of `accounts`, and the (non-deleted)
    /// enterprises registered under each normalised name of `names`.
    public func lookup(enterprises: Set<String>, accounts: Set<String>, names: Set<String>) async throws -> LinkingFacts {
        try await answered { [self] in
            var facts = LinkingFacts()
            guard !(enterprises.isEmpty && accounts.isEmpty && names.isEmpty) else { return facts }
            let rows = try await client.query(
                """
                SELECT 'r', uscc, division, district FROM enterprise WHERE uscc = ANY(\(enterprises.sorted())::text[])
                UNION ALL
                SELECT 'a', account_no, uscc, NULL FROM account_link WHERE account_no = ANY(\(accounts.sorted())::text[])
                UNION ALL
                SELECT 'n', normalised_name, uscc, NULL FROM enterprise
                    WHERE normalised_name = ANY(\(names.sorted())::text[]) AND NOT deleted
                ORDER BY 1, 2, 3
                """, logger: logger)
            for try await (kind, key, first, second) in rows.decode((String, String, String?, String?).self) {
                switch kind {
                case "r": facts.registrations[key] = Registration(division: first, district: second)
                case "a": if let uscc = first { facts.accounts[key] = uscc }
                default: if let uscc = first { facts.names[key, default: []].append(uscc) }
                }
            }
            return facts
        }
    }

    /// Current records without an entity whose account number is one of `accounts` or whose
    /// normalised name is one of `names`, rebuilt as the changes that stored them (same operation
    /// and version), ordered by topic and key. Deletes too: an earlier version of the record may
    /// have been linked (by another name or account), and its entity's ledger still holds it live
    /// until the delete is linked (two instances sharing a city left a few such deletes unlinked for
    /// good when one learned the account while the other stored the delete).
    public func unlinkedChanges(accounts: Set<String>, names: Set<String>) async throws -> [Change] {
        try await answered { [self] in
            guard !accounts.isEmpty || !names.isEmpty else { return [] }
            let query: PostgresQuery = """
                SELECT topic, pk, op, version, (event_day - DATE '1970-01-01')::int8, fields::text,
                    NULL::text, NULL::text, NULL::text
                FROM credit_record
                WHERE entity_id IS NULL
                    AND (account_no = ANY(\(accounts.sorted())::text[]) OR normalised_name = ANY(\(names.sorted())::text[]))
                ORDER BY topic, pk
                """
            return try await storedRecords(query).map(\.change)
        }
    }

    public func resolvableUnlinked(limit: Int) async throws -> [Change] {
        try await answered { [self] in
            let query: PostgresQuery = """
                SELECT topic, pk, op, version, (event_day - DATE '1970-01-01')::int8, fields::text,
                    NULL::text, NULL::text, NULL::text
                FROM credit_record r
                WHERE entity_id IS NULL AND (
                    EXISTS (SELECT 1 FROM account_link a WHERE a.account_no = r.account_no)
                    OR (SELECT count(*) FROM enterprise e WHERE e.normalised_name = r.normalised_name AND NOT e.deleted) = 1)
                ORDER BY topic, pk
                LIMIT \(limit)
                """
            return try await storedRecords(query).map(\.change)
        }
    }

    public func enterprises(after: String?, limit: Int) async throws -> [String] {
        try await answered { [self] in
            let rows = try await client.query(
                "SELECT uscc FROM enterprise WHERE NOT deleted AND uscc > \(after ?? "") ORDER BY uscc LIMIT \(limit)",
                logger: logger)
            var result: [String] = []
            for try await uscc in rows.decode(String.self) { result.append(uscc) }
            return result
        }
    }

    public func pendingEvaluations(after: String?, limit: Int, ownership: Ownership) async throws -> [PendingEvaluation] {
        try await answered { [self] in
            // Rows deferred before owner hashes were kept (NULL) are anyone's.
            let owned = ownership.owned.sorted().map(Int64.init)
            let rows = try await client.query(
                """
                SELECT uscc, stamp FROM evaluation_pending
                WHERE uscc > \(after ?? "")
                    AND (\(ownership.isWhole) OR owner_hash IS NULL OR owner_hash % \(Int64(ownership.partitions)) = ANY(\(owned)::bigint[]))
                ORDER BY uscc LIMIT \(limit)
                """,
                logger: logger)
            var result: [PendingEvaluation] = []
            for try await (uscc, stamp) in rows.decode((String, Int64).self) { result.append(PendingEvaluation(uscc: uscc, stamp: stamp)) }
            return result
        }
    }

    public func hasPendingEvaluations(besides: [String]) async throws -> Bool {
        try await answered { [self] in
            let rows = try await client.query(
                "SELECT EXISTS (SELECT 1 FROM evaluation_pending WHERE uscc <> ALL(\(besides)::text[]))", logger: logger)
            for try await any in rows.decode(Bool.self) { return any }
            return false
        }
    }

    public func pendingIndustries() async throws -> [PendingIndustry] {
        try await answered { [self] in
            let rows = try await client.query("SELECT division, as_of, stamp FROM industry_pending ORDER BY division", logger: logger)
            var result: [PendingIndustry] = []
            for try await (division, day, stamp) in rows.decode((String, Int, Int64).self) {
                result.append(PendingIndustry(division: division, asOf: Day(day), stamp: stamp))
            }
            return result
        }
    }

    /// One query: the latest alert of every rule for each subject.
    public func alertStates(subjects: Set<String>) async throws -> [String: [String: AlertState]] {
        try await answered { [self] in
            guard !subjects.isEmpty else { return [:] }
            let rows = try await client.query(
                """
                SELECT DISTINCT ON (subject_id, rule) id, rule, subject_id, "window",
                    (as_of - DATE '1970-01-01')::int8, status, sources
                FROM alert WHERE subject_id = ANY(\(subjects.sorted())::text[])
                ORDER BY subject_id, rule, id DESC
                """, logger: logger)
            var states: [String: [String: AlertState]] = [:]
            for try await (id, rule, subject, window, day, status, sources) in rows.decode(
                (Int64, String, String, String, Int, String, [String]).self)
            {
                states[subject, default: [:]][rule] = AlertState(
                    id: id, rule: rule, subjectID: subject, window: window, asOf: Day(day),
                    status: status == "active" ? .active : .withdrawn, sources: sources)
            }
            return states
        }
    }

    /// Records, and the versions that are not current in their history (replaced ones move there
    /// by trigger: migration 13), in `recordLanes` transactions side by side (disjoint keys: the
    /// largest write of a batch uses more than one PostgreSQL backend). Idempotent, like `commit`,
    /// so a batch that fails between them is re-delivered and heals what one left undone.
    public func store(records changes: [LinkedChange]) async throws {
        try await answered { [self] in
            let lanes = RecordRows.lanes(changes, catalog: catalog, count: Self.recordLanes)
            let logger = self.logger
            let client = self.client
            try await withThrowingTaskGroup(of: Void.self) { group in
                for records in lanes {
                    group.addTask {
                        try await client.withTransaction(logger: logger) { connection in
                            var notStored: [Int] = []
                            for try await position in try await connection.query(records.upsert, logger: logger).decode(Int64.self) {
                                notStored.append(Int(position))
                            }
                            // Every change that is not current now goes to the history: an older
                            // version, one the batch replaces, or one offered that lost.
                            if let history = records.history(notStored: notStored) {
                                _ = try await connection.query(history, logger: logger)
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
    }

    /// One transaction: quarantine rows, registrations, account links, pending evaluations, the
    /// feature sync, then alerts (see below for why those go last); scores and tags in a second
    /// transaction beside it (see `besideCommit`).
    public func commit(_ effects: BatchEffects) async throws {
        try await answered { [self] in
            let registrations = RegistrationRows(effects.changes)
            let relations = RelationRows(effects.changes.flatMap(catalog.relationChanges))
            let links = AccountLinkRows(effects.accountLinks)
            let alerts = AlertRows(effects.alerts)
            let withdrawals = WithdrawalRows(effects.withdrawals)
            let reactivations = ReactivationRows(effects.reactivations)
            let scores = ScoreRows(effects.scores)
            let tags = TagRows(effects.tags)
            let quarantine = QuarantineRows(effects.quarantine)
            let retirement = effects.retiredRules.map(RetirementQuery.init)
            let alertsChange = !(alerts.isEmpty && withdrawals.isEmpty && reactivations.isEmpty) || retirement != nil
            let pending = !(effects.deferred.isEmpty && effects.evaluatedPending.isEmpty)
                || !(effects.industriesPending.isEmpty && effects.judgedIndustries.isEmpty)
            let beside = (scores.isEmpty ? [] : [scores.upsert]) + (tags.isEmpty ? [] : [tags.upsert])
            // Several instances: a fence is checked whenever anything is written.
            let main = !(registrations.isEmpty && relations.isEmpty && links.isEmpty && quarantine.isEmpty)
                || alertsChange || effects.featureSequence != nil || pending || (effects.fence != nil && !beside.isEmpty)
            guard main || !beside.isEmpty else { return }
            let logger = self.logger
            let fence = effects.fence
            let client = self.client
            @Sendable func commitMain() async throws {
                guard main else { return }
                do {
                    try await client.withTransaction(logger: logger) { connection in
                        if let fence { try await Self.check(fence, on: connection, logger: logger) }
                        if !quarantine.isEmpty { try await connection.query(quarantine.insert, logger: logger) }
                        if !registrations.isEmpty { try await connection.query(registrations.upsert, logger: logger) }
                        if !relations.isEmpty { try await connection.query(relations.upsert, logger: logger) }
                        if !links.isEmpty { try await connection.query(links.upsert, logger: logger) }
                        if !effects.evaluatedPending.isEmpty {
                            // Only as read: an enterprise deferred again since (by another instance) stays.
                            let (usccs, stamps) = (effects.evaluatedPending.map(\.uscc), effects.evaluatedPending.map(\.stamp))
                            try await connection.query(
                                """
                                DELETE FROM evaluation_pending p USING unnest(\(usccs)::text[], \(stamps)::bigint[]) AS e(uscc, stamp)
                                WHERE p.uscc = e.uscc AND p.stamp = e.stamp
                                """, logger: logger)
                        }
                        if !effects.deferred.isEmpty {
                            let hashes = effects.deferred.map { Int64(Ownership.hash($0)) }
                            try await connection.query(
                                """
                                INSERT INTO evaluation_pending (uscc, owner_hash) SELECT * FROM unnest(\(effects.deferred)::text[], \(hashes)::bigint[])
                                ON CONFLICT (uscc) DO \(unescaped: effects.restampDeferred ? "UPDATE SET stamp = nextval('evaluation_pending_stamp')" : "NOTHING")
                                """, logger: logger)
                        }
                        if !effects.judgedIndustries.isEmpty {
                            let (divisions, stamps) = (effects.judgedIndustries.map(\.division), effects.judgedIndustries.map(\.stamp))
                            try await connection.query(
                                """
                                DELETE FROM industry_pending p USING unnest(\(divisions)::text[], \(stamps)::bigint[]) AS j(division, stamp)
                                WHERE p.division = j.division AND p.stamp = j.stamp
                                """, logger: logger)
                        }
                        if !effects.industriesPending.isEmpty {
                            let divisions = effects.industriesPending.keys.sorted()
                            let days = divisions.map { Int64(effects.industriesPending[$0]!.value) }
                            try await connection.query(
                                """
                                INSERT INTO industry_pending (division, as_of) SELECT * FROM unnest(\(divisions)::text[], \(days)::bigint[])
                                ON CONFLICT (division) DO UPDATE
                                SET as_of = GREATEST(industry_pending.as_of, EXCLUDED.as_of), stamp = nextval('industry_pending_stamp')
                                """, logger: logger)
                        }
                        if let sequence = effects.featureSequence {
                            try await connection.query(
                                "UPDATE feature_sync SET sequence = GREATEST(sequence, \(sequence))", logger: logger)
                        }
                        if alertsChange {
                            // Serialise alert changes until commit, so that alert and alert-event ids become
                            // visible in the order they were drawn: a feed poller that saw id n never later
                            // finds an id < n. Taken last, so that the lock is held as briefly as possible.
                            try await connection.query(Self.lockQuery("alert_feed"), logger: logger)
                            // Withdraw first: a reactivated or new alert may take the one active slot.
                            if let retirement { try await connection.query(retirement.update, logger: logger) }
                            if !withdrawals.isEmpty { try await connection.query(withdrawals.update, logger: logger) }
                            if !reactivations.isEmpty { try await connection.query(reactivations.update, logger: logger) }
                            if !alerts.isEmpty { try await connection.query(alerts.insert, logger: logger) }
                        }
                    }
                } catch let error as PostgresTransactionError {
                    if let fenced = error.closureError as? Fenced { throw fenced }
                    throw error
                }
            }
            try await besideCommit(beside, commitMain)
        }
    }

    /// Runs `statements` in a transaction on a connection of their own while `commitMain` runs, and
    /// commits them only once it has: a live batch's scores (~50 µs a row: the lz4 of a 2–5 KB
    /// explanation) and tags were a third of its commit's time, on its path. Whichever fails, the
    /// side is rolled back; when only the side fails (after the main commit), the batch is made
    /// again, and both are idempotent (the main's decisions read what it committed, the side's
    /// upserts write the same rows). Nothing else writes these rows while a batch commits (an
    /// enterprise has one owner), and the side waits for no lock the main holds: no deadlock.
    private func besideCommit(_ statements: [PostgresQuery], _ commitMain: @escaping @Sendable () async throws -> Void) async throws {
        guard !statements.isEmpty else { return try await commitMain() }
        let logger = self.logger
        try await client.withConnection { side in
            try await side.query("BEGIN", logger: logger)
            do {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { for statement in statements { try await side.query(statement, logger: logger) } }
                    try await commitMain()
                    try await group.waitForAll()
                }
            } catch {
                _ = try? await side.query("ROLLBACK", logger: logger)
                throw error
            }
            try await side.query("COMMIT", logger: logger)
        }
    }

    /// Refuses the commit (`Fenced`) when a partition the batch decided for was claimed by another
    /// instance since this one claimed it; holds a share lock on the claims until the commit ends,
    /// so a new claim waits for it.
    static func check(_ fence: PartitionFence, on connection: PostgresConnection, logger: Logger) async throws {
        guard !fence.claims.isEmpty else { return }
        let rows = try await connection.query(
            "SELECT partition, instance, epoch FROM partition_claim WHERE partition = ANY(\(fence.claims.keys.sorted())::int4[]) FOR SHARE",
            logger: logger)
        var held: [Int32: (String, Int64)] = [:]
        for try await (partition, instance, epoch) in rows.decode((Int32, String, Int64).self) { held[partition] = (instance, epoch) }
        for (partition, epoch) in fence.claims.sorted(by: { $0.key < $1.key }) {
            guard let (instance, current) = held[partition] else { throw Fenced(partition: partition, claimedBy: "nobody", epoch: 0) }
            if instance != fence.instance || current != epoch { throw Fenced(partition: partition, claimedBy: instance, epoch: current) }
        }
    }

    public func claim(_ partitions: Set<Int32>, instance: String) async throws -> [Int32: Int64] {
        try await answered { [self] in
            guard !partitions.isEmpty else { return [:] }
            let rows = try await client.query(
                """
                INSERT INTO partition_claim (partition, instance, epoch) SELECT p, \(instance), 1 FROM unnest(\(partitions.sorted())::int4[]) AS p
                ON CONFLICT (partition) DO UPDATE SET instance = excluded.instance, epoch = partition_claim.epoch + 1, claimed_at = now()
                RETURNING partition, epoch
                """, logger: logger)
            var claims: [Int32: Int64] = [:]
            for try await (partition, epoch) in rows.decode((Int32, Int64).self) { claims[partition] = epoch }
            return claims
        }
    }

    /// Records written side by side in `store(records:)`.
    static let recordLanes = 2

    // MARK: Feature store sync and rebuild

    public func featureSync() async throws -> FeatureSync {
        try await answered { [self] in
            let rows = try await client.query("SELECT store_id::text, sequence FROM feature_sync", logger: logger)
            for try await (store, sequence) in rows.decode((String, Int64).self) {
                return FeatureSync(storeID: store, sequence: sequence)
            }
            throw PostgresStoreError(.malformedStoredValue, "feature_sync has no row (migration 6 not applied?)")
        }
    }

    public func storedRecords(after: RecordCursor?, limit: Int) async throws -> [StoredRecord] {
        try await answered { [self] in
            let query: PostgresQuery = """
                SELECT r.topic, r.pk, r.op, r.version, (r.event_day - DATE '1970-01-01')::int8, r.fields::text,
                    r.entity_kind, r.entity_id, e.division
                FROM credit_record r LEFT JOIN enterprise e ON r.entity_kind = 'enterprise' AND e.uscc = r.entity_id
                WHERE (r.topic, r.pk) > (\(after?.topic ?? ""), \(after?.key ?? ""))
                ORDER BY r.topic, r.pk
                LIMIT \(limit)
                """
            return try await storedRecords(query)
        }
    }

    public func relationEdges(touching entities: Set<EntityKey>, relations: Set<String>) async throws -> [RelationEdge] {
        try await answered { [self] in
            guard !entities.isEmpty, !relations.isEmpty else { return [] }
            let ids = Set(entities.map(\.id)).sorted()
            let names = relations.sorted()
            // Two index scans (by subject, by target); an edge matching both comes twice.
            let query: PostgresQuery = """
                SELECT e.relation, e.subject_kind, e.subject_id, e.target_kind, e.target_id, e.version,
                    r.topic, r.pk, (r.event_day - DATE '1970-01-01')::int8, r.fields::text
                FROM relation_edge e JOIN credit_record r ON r.topic = e.topic AND r.pk = e.pk
                WHERE e.subject_id = ANY(\(ids)::text[]) AND e.relation = ANY(\(names)::text[]) AND e.target_id IS NOT NULL
                UNION
                SELECT e.relation, e.subject_kind, e.subject_id, e.target_kind, e.target_id, e.version,
                    r.topic, r.pk, (r.event_day - DATE '1970-01-01')::int8, r.fields::text
                FROM relation_edge e JOIN credit_record r ON r.topic = e.topic AND r.pk = e.pk
                WHERE e.target_id = ANY(\(ids)::text[]) AND e.relation = ANY(\(names)::text[]) AND e.target_id IS NOT NULL
                """
            var edges: [RelationEdge] = []
            for try await (relation, subjectKind, subjectID, targetKind, targetID, version, topic, key, day, fieldsText) in try await client.query(
                query, logger: logger
            ).decode((String, String, String, String, String, Int64, String, String, Int, String).self) {
                let record = FactRecord(topic: topic, key: key, eventDay: Day(day), fields: try decodeFields(fieldsText, topic: topic, key: key))
                edges.append(try Self.edge(relation, (subjectKind, subjectID), (targetKind, targetID), record: record, version: version))
            }
            return edges
        }
    }

    public func relationEndpoints(touching entities: Set<EntityKey>, relations: Set<String>) async throws -> [RelationEdge] {
        try await answered { [self] in
            guard !entities.isEmpty, !relations.isEmpty else { return [] }
            let ids = Set(entities.map(\.id)).sorted()
            let names = relations.sorted()
            let query: PostgresQuery = """
                SELECT relation, subject_kind, subject_id, target_kind, target_id, version, topic, pk FROM relation_edge
                WHERE subject_id = ANY(\(ids)::text[]) AND relation = ANY(\(names)::text[]) AND target_id IS NOT NULL
                UNION
                SELECT relation, subject_kind, subject_id, target_kind, target_id, version, topic, pk FROM relation_edge
                WHERE target_id = ANY(\(ids)::text[]) AND relation = ANY(\(names)::text[]) AND target_id IS NOT NULL
                """
            var edges: [RelationEdge] = []
            for try await (relation, subjectKind, subjectID, targetKind, targetID, version, topic, key) in try await client.query(
                query, logger: logger
            ).decode((String, String, String, String, String, Int64, String, String).self) {
                let record = FactRecord(topic: topic, key: key, eventDay: Day(0), fields: [:])
                edges.append(try Self.edge(relation, (subjectKind, subjectID), (targetKind, targetID), record: record, version: version))
            }
            return edges
        }
    }

    /// A `relation_edge` row as an edge; kinds other than enterprise and person are a corrupt store.
    private static func edge(
        _ relation: String, _ subject: (kind: String, id: String), _ target: (kind: String, id: String), record: FactRecord, version: Int64
    ) throws -> RelationEdge {
        guard let subjectKind = EntityKey.Kind(rawValue: subject.kind), let targetKind = EntityKey.Kind(rawValue: target.kind) else {
            throw PostgresStoreError(
                .malformedStoredValue, "relation edge \(record.reference) has kinds '\(subject.kind)', '\(target.kind)'")
        }
        return RelationEdge(
            relation: relation, subject: EntityKey(subjectKind, subject.id), target: EntityKey(targetKind, target.id), record: record,
            version: version)
    }

    /// Writes the edges of current records stored without them — records stored before the
    /// relation graph existed, or before their topic's catalog file declared the relation — so an
    /// upgraded city has its graph at once. Run at start; pages of 5,000; returns the records read.
    public func fillRelationEdges() async throws -> Int {
        var filled = 0
        for topic in catalog.topics.values.filter({ !$0.relations.isEmpty }).sorted(by: { $0.name < $1.name }) {
            let relations = topic.relations.map(\.name)
            var after = ""
            while true {
                let page = try await answered { [self, after] in
                    try await storedRecords("""
                        SELECT r.topic, r.pk, r.op, r.version, (r.event_day - DATE '1970-01-01')::int8, r.fields::text,
                            r.entity_kind, r.entity_id, NULL::text
                        FROM credit_record r
                        WHERE r.topic = \(topic.name) AND r.pk > \(after) AND r.entity_id IS NOT NULL
                            AND EXISTS (
                                SELECT 1 FROM unnest(\(relations)::text[]) AS x(relation)
                                WHERE NOT EXISTS (SELECT 1 FROM relation_edge e WHERE e.topic = r.topic AND e.pk = r.pk AND e.relation = x.relation))
                        ORDER BY r.pk
                        LIMIT 5000
                        """)
                }
                let rows = RelationRows(page.flatMap { record in
                    catalog.relationChanges(LinkedChange(change: record.change, entity: record.entity))
                })
                if !rows.isEmpty {
                    try await answered { [self] in
                        try await client.withTransaction(logger: logger) { _ = try await $0.query(rows.upsert, logger: logger) }
                    }
                }
                filled += page.count
                guard page.count == 5000, let last = page.last else { break }
                after = last.change.key
            }
        }
        return filled
    }

    public func storedVersions(of topics: Set<String>, after: RecordCursor?, limit: Int) async throws -> [StoredRecord] {
        try await answered { [self] in
            guard !topics.isEmpty else { return [] }
            let query: PostgresQuery = """
                SELECT h.topic, h.pk, h.op, h.version, (h.event_day - DATE '1970-01-01')::int8, h.fields::text,
                    h.entity_kind, h.entity_id, e.division
                FROM credit_record_change h LEFT JOIN enterprise e ON h.entity_kind = 'enterprise' AND e.uscc = h.entity_id
                WHERE h.topic = ANY(\(topics.sorted())::text[]) AND h.entity_id IS NOT NULL
                    AND (h.topic, h.pk, h.version, h.op) > (\(after?.topic ?? ""), \(after?.key ?? ""), \(after?.version ?? .min), '')
                ORDER BY h.topic, h.pk, h.version, h.op
                LIMIT \(limit)
                """
            return try await storedRecords(query)
        }
    }

    /// Rows of (topic, pk, op, version, day, fields, entity kind, entity id, division) as records:
    /// the changes that stored them (same operation and version).
    private func storedRecords(_ query: PostgresQuery) async throws -> [StoredRecord] {
        let rows = try await client.query(query, logger: logger)
        var records: [StoredRecord] = []
        for try await (topic, key, op, version, day, fieldsText, kind, id, division) in rows.decode(
            (String, String, String, Int64, Int, String, String?, String?, String?).self)
        {
            let fields = try decodeFields(fieldsText, topic: topic, key: key)
            guard let operation = ChangeOperation(rawValue: op) else {
                throw PostgresStoreError(.malformedStoredValue, "record \(topic)/\(key) has operation '\(op)'")
            }
            // The entity as the change named it: the linked one, else the keys to link it by.
            var entity: EntityKey?
            var reference: EntityRef?
            switch (kind, id) {
            case ("enterprise"?, let id?):
                entity = EntityKey(.enterprise, id)
                reference = (try? USCC(validating: id)).map(EntityRef.enterprise)
            case ("person"?, let id?):
                entity = EntityKey(.person, id)
                reference = (try? ResidentID(validating: id)).map(EntityRef.person)
            default: break
            }
            records.append(StoredRecord(
                change: Change(
                    topic: topic, key: key, operation: operation, version: version, fields: fields, eventDay: Day(day),
                    entity: reference ?? unlinkedEntity(topic: topic, fields: fields)),
                entity: entity, division: division))
        }
        return records
    }

    // MARK: Reading fields back

    /// Typed field values from a stored `fields` object, by the catalog's field types.
    func decodeFields(_ text: String, topic: String, key: String) throws -> [String: Value] {
        guard case .object(let members)? = JSONValue(storedJSON: text) else {
            throw PostgresStoreError(.malformedStoredValue, "fields of \(topic)/\(key) are not a JSON object")
        }
        let definition = catalog.topics[topic]
        var fields: [String: Value] = [:]
        for (name, json) in members {
            guard let value = Value(json: json, type: definition?.field(name)?.type) else {
                throw PostgresStoreError(.malformedStoredValue, "field \(name) of \(topic)/\(key) does not fit its type")
            }
            fields[name] = value
        }
        return fields
    }

    /// How an unlinked record can be linked: its account number and customer name, by the topic's
    /// link fields.
    func unlinkedEntity(topic: String, fields: [String: Value]) -> EntityRef {
        let (account, name) = PostgresStore.linkFields(topic: topic, fields: fields, catalog: catalog)
        return .unlinked(accountNo: account, name: name)
    }

    /// The account number and customer name of a record whose topic declares link fields.
    static func linkFields(topic: String, fields: [String: Value], catalog: TopicCatalog) -> (account: String?, name: String?) {
        guard case .enterprise(_, let link?)? = catalog.topics[topic]?.entity else { return (nil, nil) }
        func text(_ field: String?) -> String? {
            guard let field, case .string(let s)? = fields[field], !s.isEmpty else { return nil }
            return s
        }
        return (text(link.accountField), text(link.nameField))
    }
}

// MARK: - Batch rows: one multi-row statement per table, all values as array parameters

/// PostgreSQL text cannot hold NUL; department data occasionally does. Replaced, never dropped.
func storable(_ text: String) -> String {
    text.utf8.contains(0) ? text.replacingOccurrences(of: "\u{0}", with: "\u{FFFD}") : text
}

/// JSON text for a `jsonb` column (jsonb rejects `\u0000` too: `text` writes it as U+FFFD).
func storableJSON(_ value: JSONValue) -> String {
    value.text
}

let epochDay = "DATE '1970-01-01'"

struct RecordRows {
    var topic: [String] = [], pk: [String] = [], kind: [String?] = [], entity: [String?] = []
    var reason: [String?] = [], account: [String?] = [], name: [String?] = [], op: [String] = [], linkedBy: [String?] = []
    var version: [Int64] = [], day: [Int] = [], fields = JSONTextArray(), current: [Bool] = []

    var isEmpty: Bool { topic.isEmpty }

    /// The batch's changes as rows for `count` transactions side by side, every change of one
    /// record in the same one (chosen by its key). Every distinct change
    /// once; per (topic, pk) only the one that wins (the same order the upsert's WHERE applies
    /// against the stored row) is offered as the current row, the others go to the history:
    /// PostgreSQL refuses to upsert one row twice in a statement. One hash per change and no copy
    /// of one: this ran for every record of a backfill (~11 % of the daemon's CPU in a drain).
    static func lanes(_ changes: [LinkedChange], catalog: TopicCatalog, count: Int) -> [RecordRows] {
        // The distinct changes of each record, chained in arrival order from the record's first.
        var first = [RecordIdentity: Int](minimumCapacity: changes.count)
        var slots: [(change: Int, next: Int)] = []
        slots.reserveCapacity(changes.count)
        var heads: [Int] = []
        for index in changes.indices {
            let change = changes[index].change
            let added = slots.count
            var head = -1
            Self.resolve(&first[RecordIdentity(topic: change.topic, key: change.key), default: added], into: &head)
            guard head != added else {
                slots.append((index, -1))
                heads.append(added)
                continue
            }
            var slot = head
            while true {
                let held = changes[slots[slot].change]
                if held.change.version == change.version, held.change.operation == change.operation {
                    // Same change twice (re-linked in this batch, or delivered twice): keep the linked one.
                    if held.entity == nil, changes[index].entity != nil { slots[slot].change = index }
                    break
                }
                guard slots[slot].next >= 0 else {
                    slots[slot].next = added
                    slots.append((index, -1))
                    break
                }
                slot = slots[slot].next
            }
        }
        var lanes = Array(repeating: RecordRows(), count: count)
        for head in heads {
            var winner = head
            var slot = slots[head].next
            while slot >= 0 {
                if supersedes(changes[slots[slot].change], changes[slots[winner].change]) { winner = slot }
                slot = slots[slot].next
            }
            let lane = count == 1 ? 0 : Self.lane(of: changes[slots[head].change].change.key, among: count)
            slot = head
            while slot >= 0 {
                lanes[lane].append(changes[slots[slot].change], current: slot == winner, catalog: catalog)
                slot = slots[slot].next
            }
        }
        return lanes.filter { !$0.isEmpty }
    }

    /// Reads an entry through one inout access: `&first[key, default: new]` inserts `new` when the
    /// key is absent, so a new record's key is hashed once, not for a lookup and again to insert.
    private static func resolve(_ stored: inout Int, into value: inout Int) { value = stored }

    /// A record's lane: FNV-1a of its key (`Ownership.hash`), the same in every batch and process.
    static func lane(of key: String, among count: Int) -> Int {
        Int(Ownership.hash(key) % UInt32(count))
    }

    private mutating func append(_ item: LinkedChange, current isCurrent: Bool, catalog: TopicCatalog) {
        let change = item.change
        topic.append(storable(change.topic))
        pk.append(storable(change.key))
        kind.append(item.entity?.kind.rawValue)
        entity.append(item.entity.map { storable($0.id) })
        linkedBy.append(item.linkedBy?.rawValue)
        if item.entity == nil {
            // What the record waits for its enterprise by (the only reader of these columns).
            reason.append(storable(item.unlinkedReason ?? "not linked"))
            var (acct, customer) = PostgresStore.linkFields(topic: change.topic, fields: change.fields, catalog: catalog)
            if case .unlinked(let a, let n) = change.entity {
                acct = acct ?? a
                customer = customer ?? n
            }
            account.append(acct.map(storable))
            name.append(customer.map { storable(EnterpriseName.normalized($0)) })
        } else {
            reason.append(nil)
            account.append(nil)
            name.append(nil)
        }
        op.append(change.operation.rawValue)
        version.append(change.version)
        day.append(change.eventDay.value)
        fields.append(jsonbOf: change.fields)
        current.append(isCurrent)
    }

    /// Whether `a` replaces `b` as the current row: a newer version; at the same version a delete
    /// (a Debezium delete carries the deleted row's own version) or a newly linked record.
    static func supersedes(_ a: LinkedChange, _ b: LinkedChange) -> Bool {
        if a.change.version != b.change.version { return a.change.version > b.change.version }
        if (a.change.operation == .delete) != (b.change.operation == .delete) { return a.change.operation == .delete }
        return b.entity == nil && a.entity != nil
    }

    /// The changes offered as current rows, upserted; answers the positions (1-based) of those
    /// that did not become current (a stored newer version, or the same one re-delivered).
    var upsert: PostgresQuery {
        """
        WITH given AS (
            SELECT * FROM unnest(
                \(topic)::text[], \(pk)::text[], \(NullableArray(kind))::text[], \(NullableArray(entity))::text[],
                \(NullableArray(reason))::text[], \(NullableArray(account))::text[], \(NullableArray(name))::text[],
                \(op)::text[], \(version)::int8[], \(day)::int8[], \(fields)::text[], \(current)::bool[],
                \(NullableArray(linkedBy))::text[]
            ) WITH ORDINALITY AS c(topic, pk, kind, entity, reason, account, name, op, version, day, fields, current, linked_by, n)
            WHERE current
        ), stored AS (
            INSERT INTO credit_record AS r
                (topic, pk, entity_kind, entity_id, unlinked_reason, account_no, normalised_name, op, version, event_day,
                 fields, deleted, linked_by)
            SELECT topic, pk, kind, entity, reason, account, name, op, version, \(unescaped: epochDay) + day::int,
                fields::jsonb, op = 'd', linked_by
            FROM given
            ON CONFLICT (topic, pk) DO UPDATE SET
                entity_kind = EXCLUDED.entity_kind, entity_id = EXCLUDED.entity_id, linked_by = EXCLUDED.linked_by,
                unlinked_reason = EXCLUDED.unlinked_reason, account_no = EXCLUDED.account_no,
                normalised_name = EXCLUDED.normalised_name, op = EXCLUDED.op, version = EXCLUDED.version,
                event_day = EXCLUDED.event_day, fields = EXCLUDED.fields, deleted = EXCLUDED.deleted, updated_at = now()
            WHERE r.version < EXCLUDED.version
                OR (r.version = EXCLUDED.version AND EXCLUDED.deleted AND NOT r.deleted)
                OR (r.version = EXCLUDED.version AND r.entity_id IS NULL AND EXCLUDED.entity_id IS NOT NULL
                    AND (EXCLUDED.deleted OR NOT r.deleted))
            RETURNING topic, pk
        )
        SELECT n FROM given g WHERE NOT EXISTS (SELECT FROM stored s WHERE s.topic = g.topic AND s.pk = g.pk)
        """
    }

    /// Into the history: the changes at `positions` (1-based) that did not become current and the
    /// ones never offered as current, unless they are the current row (a re-delivery adds nothing;
    /// a re-delivered older version links its history row when it is linked now). Nil when none.
    func history(notStored positions: [Int]) -> PostgresQuery? {
        var rows = positions.map { $0 - 1 }
        rows += current.indices.filter { !current[$0] }
        guard !rows.isEmpty else { return nil }
        func pick<T>(_ column: [T]) -> [T] { rows.map { column[$0] } }
        return """
            INSERT INTO credit_record_history AS h (topic, pk, version, op, entity_kind, entity_id, event_day, fields)
            SELECT c.topic, c.pk, c.version, c.op, c.kind, c.entity, \(unescaped: epochDay) + c.day::int, c.fields::jsonb
            FROM unnest(
                \(pick(topic))::text[], \(pick(pk))::text[], \(NullableArray(pick(kind)))::text[],
                \(NullableArray(pick(entity)))::text[], \(pick(op))::text[], \(pick(version))::int8[], \(pick(day))::int8[],
                \(fields.picking(rows))::text[]
            ) AS c(topic, pk, kind, entity, op, version, day, fields)
            WHERE NOT EXISTS (
                SELECT FROM credit_record r
                WHERE r.topic = c.topic AND r.pk = c.pk AND r.version = c.version AND r.op = c.op)
            ON CONFLICT (topic, pk, version, op) DO UPDATE
                SET entity_kind = EXCLUDED.entity_kind, entity_id = EXCLUDED.entity_id
                WHERE h.entity_id IS NULL AND EXCLUDED.entity_id IS NOT NULL
            """
    }
}

struct RecordIdentity: Hashable {
    let topic: String, key: String
}

/// `enterprise` rows from the batch's registration records (`market.enterprise`).
/// A batch's relation slots (`TopicCatalog.relationChanges`), one row per slot: the newest version,
/// a removal winning a tie (PostgreSQL refuses to upsert one row twice in a statement).
struct RelationRows {
    var topic: [String] = [], pk: [String] = [], relation: [String] = [], subjectKind: [String] = [], subjectID: [String] = []
    var targetKind: [String?] = [], targetID: [String?] = [], version: [Int64] = []

    var isEmpty: Bool { topic.isEmpty }

    init(_ changes: [RelationChange]) {
        var winner: [RelationSlot: RelationChange] = [:]
        for change in changes {
            if let best = winner[change.slot],
                best.version > change.version || (best.version == change.version && best.edge == nil)
            {
                continue
            }
            winner[change.slot] = change
        }
        for (slot, change) in winner.sorted(by: { $0.key < $1.key }) {
            let subject = change.subject
            topic.append(storable(slot.topic))
            pk.append(storable(slot.key))
            relation.append(slot.relation)
            subjectKind.append(subject.kind.rawValue)
            subjectID.append(storable(subject.id))
            targetKind.append(change.edge?.target.kind.rawValue)
            targetID.append(change.edge.map { storable($0.target.id) })
            version.append(change.version)
        }
    }

    var upsert: PostgresQuery {
        """
        INSERT INTO relation_edge AS e (topic, pk, relation, subject_kind, subject_id, target_kind, target_id, version)
        SELECT * FROM unnest(
            \(topic)::text[], \(pk)::text[], \(relation)::text[], \(subjectKind)::text[], \(subjectID)::text[],
            \(NullableArray(targetKind))::text[], \(NullableArray(targetID))::text[], \(version)::int8[])
        ON CONFLICT (topic, pk, relation) DO UPDATE
        SET subject_kind = EXCLUDED.subject_kind, subject_id = EXCLUDED.subject_id, target_kind = EXCLUDED.target_kind,
            target_id = EXCLUDED.target_id, version = EXCLUDED.version
        WHERE e.version < EXCLUDED.version OR (e.version = EXCLUDED.version AND EXCLUDED.target_id IS NULL)
        """
    }
}

struct RegistrationRows {
    var uscc: [String] = [], name: [String] = [], normalised: [String] = [], industry: [String?] = []
    var division: [String?] = [], district: [String?] = [], status: [String?] = [], version: [Int64] = []
    var deleted: [Bool] = []

    var isEmpty: Bool { uscc.isEmpty }

    init(_ changes: [LinkedChange]) {
        var winner: [String: LinkedChange] = [:]
        for item in changes where item.change.topic == Registration.topic {
            guard let entity = item.entity, entity.kind == .enterprise else { continue }
            if let best = winner[entity.id], !RecordRows.supersedes(item, best) { continue }
            winner[entity.id] = item
        }
        for (id, item) in winner.sorted(by: { $0.key < $1.key }) {
            let fields = item.change.fields
            func text(_ field: String) -> String? {
                if case .string(let s)? = fields[field], !s.isEmpty { return storable(s) }
                return nil
            }
            let registeredName = text("name") ?? ""
            let registration = Registration(registrationFields: fields)
            uscc.append(storable(id))
            name.append(registeredName)
            normalised.append(storable(EnterpriseName.normalized(registeredName)))
            industry.append(text("industry_code"))
            division.append(registration.division)
            district.append(registration.district.map(storable))
            status.append(text("status"))
            version.append(item.change.version)
            deleted.append(item.change.operation == .delete)
        }
    }

    var upsert: PostgresQuery {
        """
        INSERT INTO enterprise AS e
            (uscc, name, normalised_name, industry_code, division, district, status, version, deleted)
        SELECT * FROM unnest(
            \(uscc)::text[], \(name)::text[], \(normalised)::text[], \(NullableArray(industry))::text[],
            \(NullableArray(division))::text[], \(NullableArray(district))::text[], \(NullableArray(status))::text[],
            \(version)::int8[], \(deleted)::bool[])
        ON CONFLICT (uscc) DO UPDATE SET
            name = EXCLUDED.name, normalised_name = EXCLUDED.normalised_name, industry_code = EXCLUDED.industry_code,
            division = EXCLUDED.division, district = EXCLUDED.district, status = EXCLUDED.status,
            version = EXCLUDED.version, deleted = EXCLUDED.deleted, updated_at = now()
        WHERE e.version < EXCLUDED.version OR (e.version = EXCLUDED.version AND EXCLUDED.deleted AND NOT e.deleted)
        """
    }
}

struct AccountLinkRows {
    var family: [String] = [], account: [String] = [], uscc: [String] = []

    var isEmpty: Bool { family.isEmpty }

    /// The last link of each (family, account) in the batch wins.
    init(_ links: [AccountOwnership]) {
        var latest: [RecordIdentity: AccountOwnership] = [:]
        for link in links { latest[RecordIdentity(topic: link.topicFamily, key: link.accountNo)] = link }
        for link in latest.values.sorted(by: { ($0.topicFamily, $0.accountNo) < ($1.topicFamily, $1.accountNo) }) {
            family.append(storable(link.topicFamily))
            account.append(storable(link.accountNo))
            uscc.append(storable(link.uscc))
        }
    }

    var upsert: PostgresQuery {
        """
        INSERT INTO account_link AS l (family, account_no, uscc)
        SELECT * FROM unnest(\(family)::text[], \(account)::text[], \(uscc)::text[])
        ON CONFLICT (family, account_no) DO UPDATE SET uscc = EXCLUDED.uscc, learned_at = now()
        WHERE l.uscc <> EXCLUDED.uscc
        """
    }
}

struct QuarantineRows {
    var topic: [String] = [], partition: [Int32] = [], offset: [Int64] = []
    var key: [ByteBuffer?] = [], value: [ByteBuffer?] = [], reason: [String] = []

    var isEmpty: Bool { topic.isEmpty }

    init(_ messages: [QuarantinedMessage]) {
        for item in messages {
            topic.append(storable(item.message.topic))
            partition.append(item.message.partition)
            offset.append(item.message.offset)
            key.append(item.message.key.map { ByteBuffer(bytes: $0) })
            value.append(item.message.value.map { ByteBuffer(bytes: $0) })
            reason.append(storable(item.reason))
        }
    }

    /// A message quarantined before (re-delivery) inserts nothing and keeps its first reason.
    var insert: PostgresQuery {
        """
        INSERT INTO quarantine (topic, partition, "offset", key, value, reason)
        SELECT * FROM unnest(
            \(topic)::text[], \(partition)::int4[], \(offset)::int8[], \(NullableArray(key))::bytea[],
            \(NullableArray(value))::bytea[], \(reason)::text[])
        ON CONFLICT (topic, partition, "offset") DO NOTHING
        """
    }
}

struct AlertRows {
    var rule: [String] = [], ruleVersion: [String] = [], ruleSetVersion: [String] = [], subjectKind: [String] = []
    var subjectID: [String] = [], window: [String] = [], title: [String] = [], severity: [String] = []
    var category: [String] = [], explanation: [String] = [], values: [String] = [], sources: [String] = []
    var asOf: [Int] = [], division: [String?] = [], district: [String?] = []
    var points: [Int?] = [], dimension: [String?] = []

    var isEmpty: Bool { rule.isEmpty }

    /// The lifecycle raises at most one alert per rule and subject in a batch; if a subject came
    /// twice, the earliest as-of wins.
    init(_ alerts: [AlertRecord]) {
        var seen: Set<String> = []
        for alert in alerts.sorted(by: { ($0.asOf, $0.firing.window) < ($1.asOf, $1.firing.window) }) {
            guard seen.insert(alert.firing.rule + "\u{0}" + alert.subject.id).inserted else { continue }
            let firing = alert.firing
            rule.append(storable(firing.rule))
            ruleVersion.append(storable(firing.ruleVersion))
            ruleSetVersion.append(storable(alert.ruleSetVersion))
            subjectKind.append(alert.subject.kind)
            subjectID.append(storable(alert.subject.id))
            window.append(storable(firing.window))
            title.append(storable(firing.title))
            severity.append(firing.severity.rawValue)
            category.append(firing.category.rawValue)
            explanation.append(storable(firing.explanation))
            values.append(JSONValue.text(of: firing.values))
            sources.append(storableJSON(.array(firing.sources.map { .string($0) })))
            asOf.append(alert.asOf.value)
            division.append(alert.registration.division.map(storable))
            district.append(alert.registration.district.map(storable))
            points.append(firing.score?.points)
            dimension.append(firing.score.map { storable($0.dimension) })
        }
    }

    /// Inserted active with a `raised` event, unless the same (rule, subject, window) exists or the
    /// rule already has an active alert for the subject (a re-delivered batch).
    var insert: PostgresQuery {
        """
        WITH inserted AS (
            INSERT INTO alert (rule, rule_version, rule_set_version, subject_kind, subject_id, "window", title, severity,
                category, explanation, "values", sources, as_of, division, district, score_points, score_dimension)
            SELECT a.rule, a.rule_version, a.rule_set_version, a.subject_kind, a.subject_id, a.win, a.title, a.severity,
                a.category, a.explanation, a.vals::jsonb, ARRAY(SELECT jsonb_array_elements_text(a.sources::jsonb)),
                \(unescaped: epochDay) + a.as_of::int, a.division, a.district, a.points::int, a.dimension
            FROM unnest(
                \(rule)::text[], \(ruleVersion)::text[], \(ruleSetVersion)::text[], \(subjectKind)::text[],
                \(subjectID)::text[], \(window)::text[], \(title)::text[], \(severity)::text[], \(category)::text[],
                \(explanation)::text[], \(values)::text[], \(sources)::text[], \(asOf)::int8[],
                \(NullableArray(division))::text[], \(NullableArray(district))::text[], \(NullableArray(points))::int8[],
                \(NullableArray(dimension))::text[]
            ) AS a(rule, rule_version, rule_set_version, subject_kind, subject_id, win, title, severity, category,
                explanation, vals, sources, as_of, division, district, points, dimension)
            ORDER BY a.as_of, a.rule, a.subject_id, a.win
            ON CONFLICT DO NOTHING
            RETURNING id, as_of, rule_set_version
        )
        INSERT INTO alert_event (alert_id, kind, as_of, rule_set_version)
        SELECT id, 'raised', as_of, rule_set_version FROM inserted ORDER BY id
        """
    }
}

/// Active alerts whose condition stopped holding: marked withdrawn with the reason.
struct WithdrawalRows {
    var id: [Int64] = [], asOf: [Int] = [], reason: [String] = [], ruleSetVersion: [String] = []

    var isEmpty: Bool { id.isEmpty }

    init(_ withdrawals: [AlertWithdrawal]) {
        for w in withdrawals {
            id.append(w.alertID)
            asOf.append(w.asOf.value)
            reason.append(storable(w.reason))
            ruleSetVersion.append(storable(w.ruleSetVersion))
        }
    }

    /// Only an alert still active changes (a re-delivered batch withdraws nothing twice).
    var update: PostgresQuery {
        """
        WITH w AS (
            SELECT * FROM unnest(\(id)::int8[], \(asOf)::int8[], \(reason)::text[], \(ruleSetVersion)::text[])
                AS w(id, as_of, reason, rule_set_version)
        ), changed AS (
            UPDATE alert a SET status = 'withdrawn', withdrawn_as_of = \(unescaped: epochDay) + w.as_of::int,
                withdrawn_reason = w.reason, withdrawn_rule_set_version = w.rule_set_version, updated_at = now()
            FROM w WHERE a.id = w.id AND a.status = 'active'
            RETURNING a.id, a.withdrawn_as_of, a.withdrawn_reason, a.withdrawn_rule_set_version
        )
        INSERT INTO alert_event (alert_id, kind, as_of, reason, rule_set_version)
        SELECT id, 'withdrawn', withdrawn_as_of, withdrawn_reason, withdrawn_rule_set_version FROM changed ORDER BY id
        """
    }
}

/// Every active alert of the retired rules: withdrawn, with their events.
struct RetirementQuery {
    let retired: RetiredRules

    init(_ retired: RetiredRules) { self.retired = retired }

    var update: PostgresQuery {
        let rules = retired.rules.sorted()
        let reasons = rules.map { storable(retired.reason($0)) }
        return """
            WITH r AS (SELECT * FROM unnest(\(rules)::text[], \(reasons)::text[]) AS r(rule, reason)),
            changed AS (
                UPDATE alert a SET status = 'withdrawn', withdrawn_as_of = \(unescaped: epochDay) + \(retired.asOf.value)::int,
                    withdrawn_reason = r.reason, withdrawn_rule_set_version = \(retired.ruleSetVersion), updated_at = now()
                FROM r WHERE a.rule = r.rule AND a.status = 'active'
                RETURNING a.id, a.withdrawn_as_of, a.withdrawn_reason, a.withdrawn_rule_set_version
            )
            INSERT INTO alert_event (alert_id, kind, as_of, reason, rule_set_version)
            SELECT id, 'withdrawn', withdrawn_as_of, withdrawn_reason, withdrawn_rule_set_version FROM changed ORDER BY id
            """
    }
}

/// Withdrawn alerts whose rule holds again in the same window: active again, with the new values.
struct ReactivationRows {
    var id: [Int64] = [], asOf: [Int] = [], ruleSetVersion: [String] = [], ruleVersion: [String] = []
    var explanation: [String] = [], values: [String] = [], sources: [String] = []

    var isEmpty: Bool { id.isEmpty }

    init(_ reactivations: [AlertReactivation]) {
        for r in reactivations {
            id.append(r.alertID)
            asOf.append(r.alert.asOf.value)
            ruleSetVersion.append(storable(r.alert.ruleSetVersion))
            ruleVersion.append(storable(r.alert.firing.ruleVersion))
            explanation.append(storable(r.alert.firing.explanation))
            values.append(JSONValue.text(of: r.alert.firing.values))
            sources.append(storableJSON(.array(r.alert.firing.sources.map { .string($0) })))
        }
    }

    var update: PostgresQuery {
        """
        WITH r AS (
            SELECT * FROM unnest(\(id)::int8[], \(asOf)::int8[], \(ruleSetVersion)::text[], \(ruleVersion)::text[],
                \(explanation)::text[], \(values)::text[], \(sources)::text[])
                AS r(id, as_of, rule_set_version, rule_version, explanation, vals, sources)
        ), changed AS (
            UPDATE alert a SET status = 'active', withdrawn_as_of = NULL, withdrawn_reason = NULL,
                withdrawn_rule_set_version = NULL, rule_set_version = r.rule_set_version, rule_version = r.rule_version,
                explanation = r.explanation, "values" = r.vals::jsonb,
                sources = ARRAY(SELECT jsonb_array_elements_text(r.sources::jsonb)), updated_at = now()
            FROM r WHERE a.id = r.id AND a.status = 'withdrawn'
                AND NOT EXISTS (SELECT 1 FROM alert o WHERE o.rule = a.rule AND o.subject_id = a.subject_id AND o.status = 'active')
            RETURNING a.id, r.as_of, r.rule_set_version
        )
        INSERT INTO alert_event (alert_id, kind, as_of, rule_set_version)
        SELECT id, 'reactivated', \(unescaped: epochDay) + as_of::int, rule_set_version FROM changed ORDER BY id
        """
    }
}

/// The evaluated enterprises' scores: the current row (the engine sends a score only when its
/// content changed; its `as_of` is the day of the evaluation that produced it), and a history row
/// when the score, the grade or the rule set changed.
struct ScoreRows {
    var uscc: [String] = [], scorecard: [String] = [], scorecardVersion: [String] = [], ruleSetVersion: [String] = []
    var score: [Int] = [], grade: [String] = [], asOf: [Int] = [], explanation: [String] = []

    var isEmpty: Bool { uscc.isEmpty }

    init(_ scores: [ScoreResult]) {
        var seen: Set<String> = []
        for s in scores where seen.insert(s.entity).inserted {
            uscc.append(storable(s.entity))
            scorecard.append(storable(s.scorecard))
            scorecardVersion.append(storable(s.scorecardVersion))
            ruleSetVersion.append(storable(s.ruleSetVersion))
            score.append(s.score)
            grade.append(storable(s.grade))
            asOf.append(s.asOf.value)
            explanation.append(JSONValue.text(of: s))
        }
    }

    var upsert: PostgresQuery {
        """
        WITH s AS (
            SELECT * FROM unnest(\(uscc)::text[], \(scorecard)::text[], \(scorecardVersion)::text[],
                \(ruleSetVersion)::text[], \(score)::int8[], \(grade)::text[], \(asOf)::int8[], \(explanation)::text[])
                AS s(uscc, scorecard, scorecard_version, rule_set_version, score, grade, as_of, explanation)
        ), history AS (
            INSERT INTO score_history (uscc, scorecard, scorecard_version, rule_set_version, score, grade, as_of, explanation)
            SELECT s.uscc, s.scorecard, s.scorecard_version, s.rule_set_version, s.score, s.grade,
                \(unescaped: epochDay) + s.as_of::int, s.explanation::json
            FROM s LEFT JOIN enterprise_score p ON p.uscc = s.uscc
            WHERE p.uscc IS NULL
                OR (p.score, p.grade, p.rule_set_version) IS DISTINCT FROM (s.score::int, s.grade, s.rule_set_version)
            ORDER BY s.uscc
        )
        INSERT INTO enterprise_score AS e (uscc, scorecard, scorecard_version, rule_set_version, score, grade, as_of, explanation)
        SELECT uscc, scorecard, scorecard_version, rule_set_version, score, grade, \(unescaped: epochDay) + as_of::int,
            explanation::json
        FROM s
        ON CONFLICT (uscc) DO UPDATE SET scorecard = EXCLUDED.scorecard, scorecard_version = EXCLUDED.scorecard_version,
            rule_set_version = EXCLUDED.rule_set_version, score = EXCLUDED.score, grade = EXCLUDED.grade,
            as_of = EXCLUDED.as_of, explanation = EXCLUDED.explanation, updated_at = now()
        """
    }
}

/// The evaluated enterprises' tag memberships: the ones they have now are upserted, the ones they
/// lost are removed, and every entry and exit goes to the history.
struct TagRows {
    var evaluated: [String] = [], evaluatedAsOf: [Int] = [], evaluatedVersion: [String] = []
    var uscc: [String] = [], tag: [String] = [], title: [String] = [], tagVersion: [String] = []
    var ruleSetVersion: [String] = [], asOf: [Int] = [], explanation: [String] = [], values: [String] = []
    var sources: [String] = []

    var isEmpty: Bool { evaluated.isEmpty }

    init(_ tags: [EnterpriseTags]) {
        var seen: Set<String> = []
        for entry in tags where seen.insert(entry.uscc).inserted {
            evaluated.append(storable(entry.uscc))
            evaluatedAsOf.append(entry.asOf.value)
            evaluatedVersion.append(storable(entry.ruleSetVersion))
            for m in entry.memberships {
                uscc.append(storable(entry.uscc))
                tag.append(storable(m.tag))
                title.append(storable(m.title))
                tagVersion.append(storable(m.tagVersion))
                ruleSetVersion.append(storable(entry.ruleSetVersion))
                asOf.append(entry.asOf.value)
                explanation.append(storable(m.explanation))
                values.append(JSONValue.text(of: m.values))
                sources.append(storableJSON(.array(m.sources.map { .string($0) })))
            }
        }
    }

    var upsert: PostgresQuery {
        """
        WITH v AS (
            SELECT * FROM unnest(\(evaluated)::text[], \(evaluatedAsOf)::int8[], \(evaluatedVersion)::text[])
                AS v(uscc, as_of, rule_set_version)
        ), t AS (
            SELECT * FROM unnest(\(uscc)::text[], \(tag)::text[], \(title)::text[], \(tagVersion)::text[],
                \(ruleSetVersion)::text[], \(asOf)::int8[], \(explanation)::text[], \(values)::text[], \(sources)::text[])
                AS t(uscc, tag, title, tag_version, rule_set_version, as_of, explanation, vals, sources)
        ), removed AS (
            DELETE FROM enterprise_tag e USING v
            WHERE e.uscc = v.uscc AND NOT EXISTS (SELECT 1 FROM t WHERE t.uscc = e.uscc AND t.tag = e.tag)
            RETURNING e.uscc, e.tag, v.as_of, v.rule_set_version
        ), added AS (
            INSERT INTO enterprise_tag AS e (uscc, tag, title, tag_version, rule_set_version, since_as_of, explanation,
                "values", sources)
            SELECT uscc, tag, title, tag_version, rule_set_version, \(unescaped: epochDay) + as_of::int, explanation,
                vals::jsonb, ARRAY(SELECT jsonb_array_elements_text(sources::jsonb))
            FROM t
            ON CONFLICT (uscc, tag) DO UPDATE SET title = EXCLUDED.title, tag_version = EXCLUDED.tag_version,
                rule_set_version = EXCLUDED.rule_set_version, explanation = EXCLUDED.explanation,
                "values" = EXCLUDED."values", sources = EXCLUDED.sources, updated_at = now()
            WHERE (e.explanation, e.tag_version, e.rule_set_version) IS DISTINCT FROM
                (EXCLUDED.explanation, EXCLUDED.tag_version, EXCLUDED.rule_set_version)
            RETURNING e.uscc, e.tag, e.since_as_of, e.rule_set_version, e.explanation, (xmax = 0) AS inserted
        )
        INSERT INTO tag_history (uscc, tag, change, as_of, rule_set_version, explanation)
        SELECT uscc, tag, 'removed', \(unescaped: epochDay) + as_of::int, rule_set_version, NULL FROM removed
        UNION ALL
        SELECT uscc, tag, 'added', since_as_of, rule_set_version, explanation FROM added WHERE inserted
        """
    }
}
