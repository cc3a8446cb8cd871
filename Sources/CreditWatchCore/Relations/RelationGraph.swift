import RuleLanguage

/// One edge of the relation graph: a current record of a topic that declares `relation` links the
/// entity it is about (`subject`) to the entity it names (`target`).
public struct RelationEdge: Sendable, Hashable {
    public let relation: String
    public let subject: EntityKey
    public let target: EntityKey
    /// The record behind the edge (its fields are what a relation feature's `where` reads).
    public let record: FactRecord
    public let version: Int64

    public init(relation: String, subject: EntityKey, target: EntityKey, record: FactRecord, version: Int64) {
        self.relation = relation
        self.subject = subject
        self.target = target
        self.record = record
        self.version = version
    }

    /// The edge's identity: one per record and relation.
    public var slot: RelationSlot { RelationSlot(topic: record.topic, key: record.key, relation: relation) }
}

/// Where an edge lives: a record of a topic and one of the topic's relations.
public struct RelationSlot: Sendable, Hashable, Comparable {
    public let topic: String
    public let key: String
    public let relation: String

    public init(topic: String, key: String, relation: String) {
        self.topic = topic
        self.key = key
        self.relation = relation
    }

    public static func < (a: RelationSlot, b: RelationSlot) -> Bool { (a.topic, a.key, a.relation) < (b.topic, b.key, b.relation) }

    /// By the record's key and the relation only (a key is rarely another topic's too; equality still
    /// compares all three): the graph hashes slots several times an edge.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(key)
        hasher.combine(relation)
    }
}

/// What a linked change makes of its relation slots: the edge, or none (a delete, a record whose
/// target fields are null or name its own entity). Applied like the record: a newer version wins.
public struct RelationChange: Sendable, Hashable {
    public let slot: RelationSlot
    /// The record's entity (the edge's subject when there is one).
    public let subject: EntityKey
    public let version: Int64
    public let edge: RelationEdge?

    public init(slot: RelationSlot, subject: EntityKey, version: Int64, edge: RelationEdge?) {
        self.slot = slot
        self.subject = subject
        self.version = version
        self.edge = edge
    }
}

extension TopicCatalog {
    /// The relation slots `linked` sets: one per relation its topic declares (none while unlinked).
    public func relationChanges(_ linked: LinkedChange) -> [RelationChange] {
        guard let entity = linked.entity, let topic = topics[linked.change.topic], !topic.relations.isEmpty else { return [] }
        let change = linked.change
        let record = FactRecord(topic: change.topic, key: change.key, eventDay: change.eventDay, fields: change.fields)
        return topic.relations.map { relation in
            let slot = RelationSlot(topic: change.topic, key: change.key, relation: relation.name)
            guard change.operation != .delete, let target = relation.target(of: change.fields), target != entity else {
                return RelationChange(slot: slot, subject: entity, version: change.version, edge: nil)
            }
            return RelationChange(
                slot: slot, subject: entity, version: change.version,
                edge: RelationEdge(relation: relation.name, subject: entity, target: target, record: record, version: change.version))
        }
    }
}

/// The part of the relation graph an evaluation needs: the stored edges read around some entities,
/// with the batch's own relation changes laid over them (the batch is not committed yet when it is
/// evaluated). Pure: the engine reads edges through `RelationReading` and walks them here.
public struct RelationGraph: Sendable {
    private var edges: [RelationSlot: RelationEdge] = [:]
    /// Slots the batch set (they override what the store holds, removals included).
    private var overridden: [RelationSlot: Int64] = [:]
    private var bySubject: [EntityKey: Set<RelationSlot>] = [:]
    private var byTarget: [EntityKey: Set<RelationSlot>] = [:]
    /// Entities whose edges (both ways, of every relation read) have been read from the store.
    public private(set) var explored: Set<EntityKey> = []

    public init(changes: [RelationChange] = []) {
        for change in changes.sorted(by: { ($0.slot, $0.version) < ($1.slot, $1.version) }) {
            overridden[change.slot] = change.version
            remove(change.slot)
            if let edge = change.edge { insert(edge, at: change.slot) }
        }
    }

    /// Adds stored edges read around `entities` (the batch's own changes of a slot win when newer).
    public mutating func add(stored: [RelationEdge], around entities: Set<EntityKey>) {
        explored.formUnion(entities)
        for edge in stored {
            let slot = edge.slot
            if !overridden.isEmpty, let version = overridden[slot], version >= edge.version { continue }
            if let held = edges[slot] {
                // An edge between two entities read together comes twice.
                if held.version == edge.version, held.subject == edge.subject, held.target == edge.target { continue }
                unindex(held, at: slot)  // `insert` replaces it in `edges`
            }
            insert(edge, at: slot)
        }
    }

    private mutating func insert(_ edge: RelationEdge, at slot: RelationSlot) {
        edges[slot] = edge
        bySubject[edge.subject, default: []].insert(slot)
        byTarget[edge.target, default: []].insert(slot)
    }

    private mutating func remove(_ slot: RelationSlot) {
        guard let old = edges.removeValue(forKey: slot) else { return }
        unindex(old, at: slot)
    }

    /// Takes `edge` out of the by-entity indexes (not out of `edges`).
    private mutating func unindex(_ edge: RelationEdge, at slot: RelationSlot) {
        bySubject[edge.subject]?.remove(slot)
        byTarget[edge.target]?.remove(slot)
    }

    /// The entities one step away from `entity`, with the edge that leads there, in slot order.
    public func neighbours(of entity: EntityKey, by step: RelationStep) -> [(edge: RelationEdge, entity: EntityKey)] {
        let slots = (step.inverse ? byTarget[entity] : bySubject[entity]) ?? []
        return slots.sorted().compactMap { slot in
            guard let edge = edges[slot], edge.relation == step.relation.name else { return nil }
            return (edge, step.inverse ? edge.subject : edge.target)
        }
    }

    /// The entities one step away from `entity`, into `reached` (in no order: the walk back).
    func reach(from entity: EntityKey, by step: RelationStep, into reached: inout Set<EntityKey>) {
        guard let slots = step.inverse ? byTarget[entity] : bySubject[entity] else { return }
        for slot in slots {
            guard let edge = edges[slot], edge.relation == step.relation.name else { continue }
            reached.insert(step.inverse ? edge.subject : edge.target)
        }
    }

    /// A walk's state: the entities reached, each with the edges that led there.
    public typealias Frontier = [EntityKey: [RelationEdge]]

    /// One step from every entity of `frontier`: each entity reached once (by the first edge in
    /// slot order of the first entity in id order), never `origin`.
    public func advance(_ frontier: Frontier, by step: RelationStep, origin: EntityKey) -> Frontier {
        var next: Frontier = [:]
        for (entity, via) in frontier.sorted(by: { $0.key < $1.key }) {
            for (edge, reached) in neighbours(of: entity, by: step) where reached != origin && next[reached] == nil {
                next[reached] = via + [edge]
            }
        }
        return next
    }
}

/// The relation graph as stored (PostgreSQL): what evaluation reads around the entities it needs.
public protocol RelationReading: Sendable {
    /// Current edges of `relations` whose subject or target is one of `entities`.
    func relationEdges(touching entities: Set<EntityKey>, relations: Set<String>) async throws -> [RelationEdge]

    /// The same edges without their records' fields and dates (`record` carries topic and key
    /// only): what a walk back from changed entities needs, at a fraction of the cost.
    func relationEndpoints(touching entities: Set<EntityKey>, relations: Set<String>) async throws -> [RelationEdge]
}

extension RelationReading {
    public func relationEndpoints(touching entities: Set<EntityKey>, relations: Set<String>) async throws -> [RelationEdge] {
        try await relationEdges(touching: entities, relations: relations)
    }
}

/// How the engine walks a program's relation paths over the graph: forward from the entities it
/// evaluates (what `EntityData.related` holds), and back from the entities a batch changed (the
/// reverse index: whose relation features may have changed with them).
public struct RelationWalker: Sendable {
    /// The program's paths as steps.
    public let paths: [[RelationStep]]
    /// Each path's text (`EntityData.related`'s keys), by position in `paths`.
    let pathTexts: [String]

    public init(paths: [[String]], schema: Schema) {
        self.paths = paths.map { $0.compactMap(schema.step) }.filter { !$0.isEmpty }
        pathTexts = self.paths.map { $0.map(\.name).joined(separator: ".") }
    }

    public var isEmpty: Bool { paths.isEmpty }
    var relationNames: Set<String> { Set(paths.flatMap { $0.map(\.relation.name) }) }
    var depth: Int { paths.map(\.count).max() ?? 0 }

    /// Reads the edges of every entity of `entities` not read yet, into `graph` (one round trip);
    /// without their records' fields unless `records`.
    func explore(_ entities: Set<EntityKey>, _ graph: inout RelationGraph, from store: any RelationReading, records: Bool = true) async throws {
        let unread = entities.subtracting(graph.explored)
        guard !unread.isEmpty else { return }
        let edges =
            records
            ? try await store.relationEdges(touching: unread, relations: relationNames)
            : try await store.relationEndpoints(touching: unread, relations: relationNames)
        graph.add(stored: edges, around: unread)
    }

    /// The entities related to each of `subjects` by each path (its text → entity → edges along the
    /// path). One round trip per step of the longest path.
    public func related(
        to subjects: [EntityKey], graph: inout RelationGraph, store: any RelationReading
    ) async throws -> [EntityKey: [String: RelationGraph.Frontier]] {
        // frontiers[subject][path] after each step.
        var frontiers: [EntityKey: [RelationGraph.Frontier]] = [:]
        for subject in subjects { frontiers[subject] = paths.map { _ in [subject: []] } }
        for level in 0..<depth {
            var needed: Set<EntityKey> = []
            for (_, perPath) in frontiers {
                for (p, frontier) in perPath.enumerated() where level < paths[p].count { needed.formUnion(frontier.keys) }
            }
            try await explore(needed, &graph, from: store)
            for subject in subjects {
                for p in paths.indices where level < paths[p].count {
                    frontiers[subject]![p] = graph.advance(frontiers[subject]![p], by: paths[p][level], origin: subject)
                }
            }
        }
        var result: [EntityKey: [String: RelationGraph.Frontier]] = [:]
        for subject in subjects {
            var byPath: [String: RelationGraph.Frontier] = [:]
            for p in paths.indices { byPath[pathTexts[p]] = frontiers[subject]![p] }
            result[subject] = byPath
        }
        return result
    }

    /// The entities related to `subject` by each path over a graph that holds every edge (a rule
    /// case's): path text → entity → edges along the path.
    public func related(to subject: EntityKey, in graph: RelationGraph) -> [String: RelationGraph.Frontier] {
        var byPath: [String: RelationGraph.Frontier] = [:]
        for (p, path) in paths.enumerated() {
            byPath[pathTexts[p]] = path.reduce([subject: []]) { graph.advance($0, by: $1, origin: subject) }
        }
        return byPath
    }

    /// The entities whose relation paths pass through any of `changed` (as an end or a step on the
    /// way): each path walked backwards from every position. Includes persons. `graph` holds
    /// endpoints only afterwards (no records' fields): not for `related(to:graph:store:)`.
    public func affected(by changed: Set<EntityKey>, graph: inout RelationGraph, store: any RelationReading) async throws -> Set<EntityKey> {
        guard !changed.isEmpty else { return [] }
        var found: Set<EntityKey> = []
        // Walks still going: the steps left to walk back (last first) and where they stand.
        var walks: [(steps: ArraySlice<RelationStep>, at: Set<EntityKey>)] = []
        for path in paths {
            for end in 1...path.count { walks.append((path[..<end], changed)) }
        }
        while !walks.isEmpty {
            try await explore(Set(walks.flatMap(\.at)), &graph, from: store, records: false)
            var next: [(steps: ArraySlice<RelationStep>, at: Set<EntityKey>)] = []
            for walk in walks {
                let back = RelationStep(relation: walk.steps.last!.relation, inverse: !walk.steps.last!.inverse)
                var reached: Set<EntityKey> = []
                for entity in walk.at { graph.reach(from: entity, by: back, into: &reached) }
                let rest = walk.steps.dropLast()
                if rest.isEmpty { found.formUnion(reached) } else if !reached.isEmpty { next.append((rest, reached)) }
            }
            walks = next
        }
        return found
    }
}

extension RelationWalker {
    /// The entities each path reaches (see `related(to:graph:store:)`) as the evaluator sees them:
    /// each with the last edge's record, the records along the path, its name as that record gives
    /// it, and its own data (without relations of its own: relation features do not nest).
    public func relatedData(
        _ byPath: [String: RelationGraph.Frontier], records: [EntityKey: [String: [FactRecord]]], feeds: FeedClock,
        snapshot: EntitySnapshot
    ) -> [String: [RelatedEntity]] {
        relatedData(byPath, data: data(of: Set(byPath.values.flatMap(\.keys)), records: records, feeds: feeds, snapshot: snapshot))
    }

    /// `relatedData` with each related entity's own data made already (`data(of:…)`): a batch makes
    /// it once per entity, however many of the entities it evaluates and paths reach it (its event
    /// clock and windows were ~1.5 % of the daemon's CPU live, made per path and evaluated entity).
    public func relatedData(_ byPath: [String: RelationGraph.Frontier], data: [EntityKey: EntityData]) -> [String: [RelatedEntity]] {
        var related: [String: [RelatedEntity]] = [:]
        for (p, path) in paths.enumerated() {
            let text = pathTexts[p]
            guard let reached = byPath[text], let last = path.last else { continue }
            let nameField = last.inverse ? last.relation.subjectNameField : last.relation.targetNameField
            related[text] = reached.sorted { $0.key < $1.key }.compactMap { entity, via in
                guard let edge = via.last, let data = data[entity] else { return nil }
                var name: String?
                if let nameField, case .string(let text)? = edge.record.fields[nameField] { name = text }
                return RelatedEntity(edge: edge.record, via: via.map(\.record.reference), name: name, data: data)
            }
        }
        return related
    }

    /// The own data (no relations of their own) of `entities`, for `relatedData(_:data:)`.
    public func data(
        of entities: Set<EntityKey>, records: [EntityKey: [String: [FactRecord]]], feeds: FeedClock, snapshot: EntitySnapshot
    ) -> [EntityKey: EntityData] {
        var data: [EntityKey: EntityData] = [:]
        data.reserveCapacity(entities.count)
        for entity in entities {
            data[entity] = snapshot.data(
                entity: entity.id, kind: entity.kind == .person ? .person : .enterprise, records: records[entity] ?? [:], feeds: feeds)
        }
        return data
    }
}

/// The relation graph around one entity, as profiles and the one-click query show it: the entities
/// within `depth` steps by any relation of the catalog, and the edges between them.
public struct RelationNeighbourhood: Sendable, Hashable {
    public struct Node: Sendable, Hashable {
        public let entity: EntityKey
        /// As the records of its edges name it (nil: none does).
        public var name: String?
        /// Steps from the centre (0: the centre).
        public let depth: Int
    }

    public struct Link: Sendable, Hashable {
        public let relation: String
        /// Indices into `nodes`: the record's entity and the entity it names.
        public let from: Int
        public let to: Int
        /// `topic/key` of the record behind the edge, and its business date.
        public let source: String
        public let day: Day
        /// The record's numeric fields (a share ratio, capital): never personal data.
        public let figures: [String: Double]
    }

    public private(set) var nodes: [Node] = []
    public private(set) var links: [Link] = []
    /// Whether entities were left out at `limit`.
    public private(set) var truncated = false

    /// Walks the stored graph from `centre`: one round trip per step.
    public static func read(
        around centre: EntityKey, depth: Int = 2, limit: Int = 100, catalog: TopicCatalog, store: any RelationReading
    ) async throws -> RelationNeighbourhood {
        var result = RelationNeighbourhood()
        var index: [EntityKey: Int] = [centre: 0]
        result.nodes.append(Node(entity: centre, name: nil, depth: 0))
        var seen: Set<RelationSlot> = []
        var frontier: Set<EntityKey> = [centre]
        let relations = catalog.relations
        for level in 1...max(1, depth) where !frontier.isEmpty {
            let edges = try await store.relationEdges(touching: frontier, relations: Set(relations.keys))
            var next: Set<EntityKey> = []
            for edge in edges.sorted(by: { $0.slot < $1.slot }) where seen.insert(edge.slot).inserted {
                let definition = relations[edge.relation]?.relation
                var ends: [Int] = []
                for (entity, nameField) in [(edge.subject, definition?.subjectNameField), (edge.target, definition?.targetNameField)] {
                    if index[entity] == nil {
                        guard result.nodes.count < limit else {
                            result.truncated = true
                            break
                        }
                        index[entity] = result.nodes.count
                        result.nodes.append(Node(entity: entity, name: nil, depth: level))
                        next.insert(entity)
                    }
                    let i = index[entity]!
                    if result.nodes[i].name == nil, let nameField, case .string(let name)? = edge.record.fields[nameField] {
                        result.nodes[i].name = name
                    }
                    ends.append(i)
                }
                guard ends.count == 2 else { continue }
                let figures = edge.record.fields.compactMapValues { value -> Double? in
                    if case .number(let n) = value { return n }
                    return nil
                }
                result.links.append(Link(
                    relation: edge.relation, from: ends[0], to: ends[1], source: edge.record.reference, day: edge.record.eventDay,
                    figures: figures))
            }
            frontier = next
        }
        return result
    }
}
