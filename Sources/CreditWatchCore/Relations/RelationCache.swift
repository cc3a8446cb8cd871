import Synchronization

/// The stored relation graph around the entities the walks have read, kept between batches by an
/// instance that is the only writer of the city's edges (one instance; a shared city reads the
/// store every time): endpoints for the walk back from what changed, and edges with their records'
/// fields for the relation features of the enterprises evaluated.
///
/// A backfill's batches touch most of the city's entities, so reading their edges again in every
/// batch made the walk back cost the city's size per batch: measured at 10,000 enterprises, the
/// `clock` stage took 41.6 s of a 170 s drain, 8× more per message than at 1,000. Live, reading the
/// edges with their records for the evaluated enterprises took a third of every batch (19 s of a
/// 61 s phase at 2,000 events/s), one PostgreSQL query per step of the paths per chunk.
///
/// What a batch changes is forgotten once it commits (`forget`): the entities at both ends of
/// every slot it set, before and after, are read again when next needed. So the cache answers as
/// the store would, as of the last commit. Above its limit of edges each side starts over, so its
/// memory is bounded whatever the city's size.
public final class RelationCache: RelationReading, Sendable {
    private struct State {
        var relations: Set<String> = []
        /// Entities whose edges (of `relations`, both ways) are all here.
        var around: [EntityKey: [RelationEdge]] = [:]
        /// Every edge held by some entity of `around`, by slot: where a change's old edge led.
        var bySlot: [RelationSlot: RelationEdge] = [:]

        mutating func evict(_ entity: EntityKey) {
            guard let edges = around.removeValue(forKey: entity) else { return }
            for edge in edges where around[edge.subject == entity ? edge.target : edge.subject] == nil {
                bySlot.removeValue(forKey: edge.slot)
            }
        }

        mutating func forget(_ changes: [RelationChange]) {
            for change in changes {
                if let old = bySlot[change.slot] {
                    evict(old.subject)
                    evict(old.target)
                }
                evict(change.subject)
                if let target = change.edge?.target { evict(target) }
            }
        }
    }

    /// The edges of one kind of answer, up to `limit` of them.
    private final class Side: Sendable {
        let state = Mutex(State())
        let limit: Int
        init(limit: Int) { self.limit = limit }
    }

    private let base: any RelationReading
    private let endpoints: Side
    private let edges: Side

    /// `limit`: the endpoints held; `recordLimit`: the edges held with their records (larger each).
    public init(base: any RelationReading, limit: Int = 200_000, recordLimit: Int = 50_000) {
        self.base = base
        self.endpoints = Side(limit: limit)
        self.edges = Side(limit: recordLimit)
    }

    public func relationEndpoints(touching entities: Set<EntityKey>, relations: Set<String>) async throws -> [RelationEdge] {
        try await read(entities, relations, endpoints) { [base] in try await base.relationEndpoints(touching: $0, relations: relations) }
    }

    public func relationEdges(touching entities: Set<EntityKey>, relations: Set<String>) async throws -> [RelationEdge] {
        try await read(entities, relations, edges) { [base] in try await base.relationEdges(touching: $0, relations: relations) }
    }

    private func read(
        _ entities: Set<EntityKey>, _ relations: Set<String>, _ side: Side,
        from store: (Set<EntityKey>) async throws -> [RelationEdge]
    ) async throws -> [RelationEdge] {
        let (known, missing) = side.state.withLock { state -> ([RelationEdge], Set<EntityKey>) in
            if state.relations != relations { state = State(relations: relations) }
            var known: [RelationEdge] = []
            var missing: Set<EntityKey> = []
            for entity in entities {
                if let edges = state.around[entity] { known += edges } else { missing.insert(entity) }
            }
            return (known, missing)
        }
        guard !missing.isEmpty else { return known }
        let read = try await store(missing)
        side.state.withLock { state in
            guard state.relations == relations else { return }
            if state.bySlot.count + read.count > side.limit { state = State(relations: relations) }
            var around: [EntityKey: [RelationEdge]] = [:]
            for entity in missing { around[entity] = [] }
            for edge in read {
                around[edge.subject]?.append(edge)
                if edge.target != edge.subject { around[edge.target]?.append(edge) }
                state.bySlot[edge.slot] = edge
            }
            state.around.merge(around) { _, new in new }
        }
        return known + read
    }

    /// Forgets the entities whose edges `changes` set, committed just now: each slot's subject, its
    /// old edge's ends and its new edge's target.
    public func forget(_ changes: [RelationChange]) {
        guard !changes.isEmpty else { return }
        endpoints.state.withLock { $0.forget(changes) }
        edges.state.withLock { $0.forget(changes) }
    }

    /// Forgets everything: the store may have changed behind the cache (another instance's batch,
    /// a batch that failed after writing).
    public func clear() {
        endpoints.state.withLock { $0 = State(relations: $0.relations) }
        edges.state.withLock { $0 = State(relations: $0.relations) }
    }

    /// Edges held now, both kinds (a gauge of its memory).
    public var count: Int { endpoints.state.withLock { $0.bySlot.count } + edges.state.withLock { $0.bySlot.count } }
}
