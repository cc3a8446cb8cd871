import CreditWatchCore
import RuleLanguage
import Testing

/// The relation graph: the catalog's `relations:`, the edges records make, the graph with a
/// batch's changes laid over what is stored, and the walks forward (what an evaluation reads) and
/// back (whom a change wakes).
@Suite("Relation graph")
struct RelationGraphTests {
    static let a = EntityKey(.enterprise, "91430602MA4L00011")
    static let b = EntityKey(.enterprise, "91430602MA4L00022")
    static let c = EntityKey(.enterprise, "91430602MA4L00033")
    static let d = EntityKey(.enterprise, "91430602MA4L00044")
    static let person = EntityKey(.person, "430602199001011234")
    static let other = EntityKey(.person, "43060219850505123X")

    /// The stored graph, answering like PostgreSQL: edges whose subject or target is asked for.
    struct StoredGraph: RelationReading {
        let edges: [RelationEdge]
        let reads: Counter

        final class Counter: @unchecked Sendable { var value = 0 }

        init(_ edges: [RelationEdge]) {
            self.edges = edges
            self.reads = Counter()
        }

        func relationEdges(touching entities: Set<EntityKey>, relations: Set<String>) async throws -> [RelationEdge] {
            reads.value += 1
            return edges.filter { relations.contains($0.relation) && (entities.contains($0.subject) || entities.contains($0.target)) }
        }
    }

    static func representative(_ enterprise: EntityKey, _ person: EntityKey, name: String = "张伟", version: Int64 = 1) -> RelationEdge {
        let record = FactRecord(
            topic: "market.enterprise", key: enterprise.id, eventDay: Day(year: 2026, month: 1, day: 1)!,
            fields: ["uscc": .string(enterprise.id), "name": .string("企业\(enterprise.id.suffix(2))"), "legal_rep_name": .string(name),
                     "legal_rep_id": .string(person.id)])
        return RelationEdge(relation: "legal_representative", subject: enterprise, target: person, record: record, version: version)
    }

    static func holding(_ id: String, of enterprise: EntityKey, by holder: EntityKey, ratio: Double) -> RelationEdge {
        let record = FactRecord(
            topic: "market.shareholder", key: id, eventDay: Day(year: 2026, month: 1, day: 1)!,
            fields: ["uscc": .string(enterprise.id), "share_ratio": .number(ratio), "shareholder_name": .string("股东\(id)"),
                     "enterprise_name": .string("企业\(enterprise.id.suffix(2))")])
        return RelationEdge(relation: "shareholder", subject: enterprise, target: holder, record: record, version: 1)
    }

    @Test("the catalog declares legal_representative and shareholder, with their inverses")
    func catalogRelations() throws {
        let schema = Shipped.catalog.schema
        #expect(schema.stepNames == ["invests_in", "legal_representative", "represents", "shareholder"])
        let representative = try #require(schema.relations["legal_representative"])
        #expect(representative == RelationSchema(
            name: "legal_representative", inverse: "represents", topic: "market.enterprise", subjectKind: .enterprise, targetKind: .person,
            targetNameField: "legal_rep_name", subjectNameField: "name"))
        #expect(schema.relations["shareholder"] == RelationSchema(
            name: "shareholder", inverse: "invests_in", topic: "market.shareholder", subjectKind: .enterprise, targetKind: .mixed,
            targetNameField: "shareholder_name", subjectNameField: "enterprise_name"))
        #expect(schema.step("represents") == RelationStep(relation: representative, inverse: true))
        #expect(schema.step("represents")?.arrivesAt == .enterprise)
        #expect(schema.step("nothing") == nil)
        #expect(Shipped.catalog.topics["market.shareholder"]?.relations == [
            RelationDefinition(
                name: "shareholder", inverse: "invests_in",
                target: .party(type: PartyTypeField(field: "shareholder_type"), enterpriseField: "shareholder_uscc", personField: "shareholder_id"),
                targetNameField: "shareholder_name", subjectNameField: "enterprise_name")
        ])
    }

    static let minimal = """
        name: shop.owner
        department: 测试
        description: owners
        fields:
          - { name: id, type: string }
          - { name: uscc, type: uscc }
          - { name: owner_id, type: id_number, optional: true }
          - { name: day, type: date }
        primary_key: [id]
        event_time: day
        entity: { kind: enterprise, field: uscc }
        cadence: { expected: event, max_silence_days: 30 }

        """

    @Test("bad relations are reported with file, line and column")
    func badRelations() {
        func problems(_ relations: String, also: [(path: String, text: String)] = []) -> [String] {
            do {
                _ = try TopicCatalog.parse([(path: "topics/shop.owner.yaml", text: Self.minimal + relations)] + also)
                return []
            } catch {
                return error.problems.map(\.description)
            }
        }
        #expect(problems("""
            relations:
              - { name: owner, inverse: Owns, target: { kind: person, field: owner_name } }
            """) == [
                "topics/shop.owner.yaml:14:29: relations[0]: inverse 'Owns' must be a lowercase identifier (e.g. legal_representative)",
                "topics/shop.owner.yaml:14:66: relations[0]: target: field 'owner_name' is not a field",
            ])
        #expect(problems("""
            relations:
              - { name: owner, inverse: owns, target: { kind: enterprise, field: owner_id }, colour: red }
              - { name: owner, inverse: owned }
            """) == [
                "topics/shop.owner.yaml:14:70: relations[0]: target: field 'owner_id' must have type uscc, not id_number",
                "topics/shop.owner.yaml:14:82: relations[0]: unknown key 'colour'",
                "topics/shop.owner.yaml:15:5: relations[1]: missing 'target'",
                "topics/shop.owner.yaml:15:13: relations[1]: name 'owner' is used twice in this topic",
            ])
        #expect(problems("""
            relations:
              - { name: legal_representative, inverse: owns, target: { kind: person, field: owner_id } }
            """, also: Shipped.files.filter { $0.path == "topics/market.enterprise.yaml" }) == [
                "topics/shop.owner.yaml: relation 'legal_representative' is also declared by topic market.enterprise"
            ])
        #expect(problems("""
            relations:
              - { name: owner, inverse: owns, target: { kind: person, field: owner_id } }
            """) == [])
    }

    @Test("a record's relation slots: an edge, or none when the target is null, the entity itself or the record deleted")
    func relationChanges() throws {
        let catalog = Shipped.catalog
        func change(_ rep: Value, op: ChangeOperation = .create, version: Int64 = 5) -> LinkedChange {
            let fields: [String: Value] = ["uscc": .string(Self.a.id), "name": .string("甲公司"), "legal_rep_name": .string("张伟"), "legal_rep_id": rep]
            return LinkedChange(
                change: Change(
                    topic: "market.enterprise", key: Self.a.id, operation: op, version: version, fields: fields,
                    eventDay: Day(year: 2026, month: 1, day: 1)!, entity: .unlinked(accountNo: nil, name: nil)),
                entity: Self.a)
        }
        let slot = RelationSlot(topic: "market.enterprise", key: Self.a.id, relation: "legal_representative")
        let edge = try #require(catalog.relationChanges(change(.string(Self.person.id))).first?.edge)
        #expect(edge.subject == Self.a && edge.target == Self.person && edge.version == 5 && edge.slot == slot)
        #expect(catalog.relationChanges(change(.null)) == [RelationChange(slot: slot, subject: Self.a, version: 5, edge: nil)])
        #expect(catalog.relationChanges(change(.string(Self.person.id), op: .delete)).map(\.edge) == [nil])
        // Unlinked records make no edge yet.
        var unlinked = change(.string(Self.person.id))
        unlinked = LinkedChange(change: unlinked.change, entity: nil, unlinkedReason: "no key")
        #expect(catalog.relationChanges(unlinked).isEmpty)
        // A topic without relations.
        let payment = LinkedChange(
            change: Change(topic: "tax.payment", key: "T1", operation: .create, version: 1, fields: [:], eventDay: Day(0), entity: .unlinked(accountNo: nil, name: nil)),
            entity: Self.a)
        #expect(catalog.relationChanges(payment).isEmpty)
    }

    @Test("the batch's changes override stored edges of the same slot unless older")
    func overlay() {
        let stored = Self.representative(Self.a, Self.person, version: 3)
        let step = Shipped.catalog.schema.step("legal_representative")!
        // A newer batch edge moves the representative to another person.
        let moved = Self.representative(Self.a, Self.other, version: 4)
        var graph = RelationGraph(changes: [RelationChange(slot: moved.slot, subject: Self.a, version: 4, edge: moved)])
        graph.add(stored: [stored], around: [Self.a])
        #expect(graph.neighbours(of: Self.a, by: step).map(\.entity) == [Self.other])
        // A removal hides the stored edge.
        graph = RelationGraph(changes: [RelationChange(slot: stored.slot, subject: Self.a, version: 3, edge: nil)])
        graph.add(stored: [stored], around: [Self.a])
        #expect(graph.neighbours(of: Self.a, by: step).isEmpty)
        // An older re-delivery does not.
        graph = RelationGraph(changes: [RelationChange(slot: stored.slot, subject: Self.a, version: 2, edge: nil)])
        graph.add(stored: [stored], around: [Self.a])
        #expect(graph.neighbours(of: Self.a, by: step).map(\.entity) == [Self.person])
        #expect(graph.explored == [Self.a])
    }

    @Test("walks: sisters by a shared representative or shareholder, never the origin, each once; back from a change")
    func walks() async throws {
        let stored = StoredGraph([
            Self.representative(Self.a, Self.person), Self.representative(Self.b, Self.person), Self.representative(Self.c, Self.other),
            // The person also holds 40 % of C, and B holds D; C and A hold each other (a cycle).
            Self.holding("S1", of: Self.c, by: Self.person, ratio: 0.4), Self.holding("S2", of: Self.d, by: Self.b, ratio: 0.3),
            Self.holding("S3", of: Self.a, by: Self.c, ratio: 0.5), Self.holding("S4", of: Self.c, by: Self.a, ratio: 0.5),
        ])
        let walker = RelationWalker(
            paths: [["legal_representative"], ["legal_representative", "represents"], ["legal_representative", "invests_in"],
                    ["shareholder", "shareholder", "shareholder"]],
            schema: Shipped.catalog.schema)
        var graph = RelationGraph()
        let related = try await walker.related(to: [Self.a, Self.d], graph: &graph, store: stored)
        // One round trip per step while any walk goes on: the third step has nowhere left to start.
        #expect(stored.reads.value == 2)
        func ids(_ frontier: RelationGraph.Frontier?) -> [String] { (frontier ?? [:]).keys.map(\.id).sorted() }
        #expect(ids(related[Self.a]?["legal_representative"]) == [Self.person.id])
        #expect(ids(related[Self.a]?["legal_representative.represents"]) == [Self.b.id])
        #expect(ids(related[Self.a]?["legal_representative.invests_in"]) == [Self.c.id])
        #expect(related[Self.a]?["legal_representative.invests_in"]?[Self.c]?.map(\.record.reference) == [
            "market.enterprise/\(Self.a.id)", "market.shareholder/S1",
        ])
        // A → C → A (the origin, left out) → …: the cycle ends with the path.
        #expect(ids(related[Self.a]?["shareholder.shareholder.shareholder"]) == [])
        #expect(ids(related[Self.d]?["shareholder.shareholder.shareholder"]) == [])
        #expect(ids(related[Self.d]?["legal_representative"]) == [])

        // The evaluator's view: sorted by id, names from the last edge's record, own data without relations.
        let data = walker.relatedData(related[Self.a]!, records: [:], feeds: FeedClock(), snapshot: EntitySnapshot(catalog: Shipped.catalog))
        #expect(data["legal_representative"]?.map(\.name) == ["张伟"])
        #expect(data["legal_representative"]?.first?.data.kind == .person)
        #expect(data["legal_representative.represents"]?.map(\.name) == ["企业22"])
        #expect(data["legal_representative.invests_in"]?.first?.edge.fields["share_ratio"] == .number(0.4))
        #expect(data["legal_representative.represents"]?.first?.data.related.isEmpty == true)

        // Back from a change of the person: the enterprises they represent (A, B: their representative
        // and sisters) and the one they hold (C: its shareholder).
        var back = RelationGraph()
        let affected = try await walker.affected(by: [Self.person], graph: &back, store: stored)
        #expect(affected.map(\.id).sorted() == [Self.a.id, Self.b.id, Self.c.id])
        // A change of C: its holders' paths (A holds C) and A, B through the person who holds C.
        back = RelationGraph()
        let ofC = try await walker.affected(by: [Self.c], graph: &back, store: stored)
        #expect(ofC.map(\.id).sorted() == [Self.a.id, Self.b.id, Self.c.id])
    }

    /// A store whose edges change, counting the entities it is asked about.
    final class ChangingGraph: RelationReading, @unchecked Sendable {
        var edges: [RelationEdge]
        var asked: [EntityKey] = []

        init(_ edges: [RelationEdge]) { self.edges = edges }

        func relationEdges(touching entities: Set<EntityKey>, relations: Set<String>) async throws -> [RelationEdge] {
            asked += entities.sorted { $0.id < $1.id }
            return edges.filter { relations.contains($0.relation) && (entities.contains($0.subject) || entities.contains($0.target)) }
        }
    }

    @Test("the endpoint cache answers as the store as of the last commit, reading each entity once until a change touches it")
    func endpointCache() async throws {
        let store = ChangingGraph([
            Self.representative(Self.a, Self.person), Self.representative(Self.b, Self.person), Self.representative(Self.c, Self.other),
        ])
        let cache = RelationCache(base: store)
        let walker = RelationWalker(paths: [["legal_representative", "represents"]], schema: Shipped.catalog.schema)
        func sisters(of changed: EntityKey) async throws -> [String] {
            var graph = RelationGraph()
            return try await walker.affected(by: [changed], graph: &graph, store: cache).filter { $0 != changed }.map(\.id).sorted()
        }
        #expect(try await sisters(of: Self.a) == [Self.b.id])
        #expect(store.asked == [Self.a, Self.person])
        #expect(cache.count == 2)
        // The person's edges come from the cache.
        #expect(try await sisters(of: Self.b) == [Self.a.id])
        #expect(store.asked == [Self.a, Self.person, Self.b])

        // A batch moves A's representative to the other person: A and both persons are read again.
        let moved = Self.representative(Self.a, Self.other, version: 2)
        store.edges[0] = moved
        cache.forget([RelationChange(slot: moved.slot, subject: Self.a, version: 2, edge: moved)])
        store.asked = []
        #expect(try await sisters(of: Self.a) == [Self.c.id])
        #expect(try await sisters(of: Self.b) == [])
        #expect(Set(store.asked) == [Self.a, Self.other, Self.person])
        // A removal: B's edge is gone; so are the entities at its ends.
        store.edges.remove(at: 1)
        cache.forget([RelationChange(slot: Self.representative(Self.b, Self.person).slot, subject: Self.b, version: 2, edge: nil)])
        store.asked = []
        #expect(try await sisters(of: Self.a) == [Self.c.id])
        #expect(store.asked.isEmpty, "A, the other person and C were not touched")
        #expect(try await sisters(of: Self.b) == [])
        #expect(store.asked == [Self.b])

        // Cleared (a failed batch, another instance's writes), it reads everything again; above
        // its limit it starts over.
        cache.clear()
        #expect(cache.count == 0)
        let small = RelationCache(base: store, limit: 1)
        var graph = RelationGraph()
        _ = try await walker.affected(by: [Self.a, Self.c], graph: &graph, store: small)
        #expect(small.count == 2)
    }

    @Test("edges with their records are kept apart from endpoints, and forgotten when a batch changes them")
    func edgeCache() async throws {
        let store = ChangingGraph([Self.representative(Self.a, Self.person), Self.representative(Self.b, Self.person)])
        let cache = RelationCache(base: store)
        func names(around entity: EntityKey) async throws -> [String] {
            try await cache.relationEdges(touching: [entity], relations: ["legal_representative"])
                .map { "\($0.subject.id.suffix(2))→\($0.record.fields["legal_rep_name"]?.displayText ?? "-")" }.sorted()
        }
        #expect(try await names(around: Self.person) == ["11→张伟", "22→张伟"])
        #expect(try await names(around: Self.person) == ["11→张伟", "22→张伟"])
        #expect(store.asked == [Self.person])
        // Endpoints carry no records' fields (PostgreSQL reads none for them): read on their own.
        _ = try await cache.relationEndpoints(touching: [Self.person], relations: ["legal_representative"])
        #expect(store.asked == [Self.person, Self.person])

        // The same edge, its record changed (the representative's name as A's registration gives it).
        let renamed = Self.representative(Self.a, Self.person, name: "张薇", version: 2)
        store.edges[0] = renamed
        cache.forget([RelationChange(slot: renamed.slot, subject: Self.a, version: 2, edge: renamed)])
        #expect(try await names(around: Self.person) == ["11→张薇", "22→张伟"])
        #expect(store.asked == [Self.person, Self.person, Self.person])
        // Both of the person's edges read again; its endpoints were forgotten as well.
        #expect(cache.count == 2)
        cache.clear()
        #expect(cache.count == 0)
    }

    @Test("the neighbourhood around an enterprise: entities within two steps, names, figures")
    func neighbourhood() async throws {
        let stored = StoredGraph([
            Self.representative(Self.a, Self.person), Self.representative(Self.b, Self.person),
            Self.holding("S1", of: Self.c, by: Self.person, ratio: 0.4), Self.holding("S2", of: Self.d, by: Self.b, ratio: 0.3),
        ])
        let graph = try await RelationNeighbourhood.read(around: Self.a, catalog: Shipped.catalog, store: stored)
        #expect(graph.nodes.map { "\($0.entity.id) \($0.name ?? "-") \($0.depth)" } == [
            "\(Self.a.id) 企业11 0", "\(Self.person.id) 张伟 1", "\(Self.b.id) 企业22 2", "\(Self.c.id) 企业33 2",
        ])
        #expect(graph.links.map { "\($0.relation) \($0.from)→\($0.to) \($0.source)" } == [
            "legal_representative 0→1 market.enterprise/\(Self.a.id)", "legal_representative 2→1 market.enterprise/\(Self.b.id)",
            "shareholder 3→1 market.shareholder/S1",
        ])
        #expect(graph.links[2].figures == ["share_ratio": 0.4])
        #expect(!graph.truncated)
        let small = try await RelationNeighbourhood.read(around: Self.a, limit: 2, catalog: Shipped.catalog, store: stored)
        #expect(small.nodes.count == 2 && small.truncated)
    }
}
