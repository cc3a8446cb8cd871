import Synchronization

/// The stored relation graph's endpoints around the entities the walk back has read, kept between
/// batches by an instance that is the only writer of the city's edges (one instance; a shared city
/// reads the store every time). A backfill's batches touch most of the city's entities, so reading
/// their edges again in every batch made the walk cost the city's size per batch: measured at
/// 10,000 enterprises, the `clock` stage took 41.6 s of a 170 s drain, 8× more per message than
/// at 1,000.
///
/// What a batch changes is forgotten once it commits (`forget`): the entities at both ends of
/// every slot it set, before and after, are read again when next needed. So the cache answers as
/// the store would, as of the last commit. Above `limit` edges it starts over, so its memory is
/// bounded whatever the city's size.
public final class RelationEndpointCache: RelationReading, Sendable {
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
    }

    private let base: any RelationReading
    private let limit: Int
    private let state = Mutex(State())

    public init(base: any RelationReading, limit: Int = 200_000) {
        self.base = base
        self.limit = limit
    }

    public func relationEndpoints(touching entities: Set<EntityKey>, relations: Set<String>) async throws -> [RelationEdge] {
        let (known, missing) = state.withLock { state -> ([RelationEdge], Set<EntityKey>) in
            if state.relations != relations { state = State(relations: relations) }
            var known: [RelationEdge] = []
            var missing: Set<EntityKey> = []
            for entity in entities {
                if let edges = state.around[entity] { known += edges } else { missing.insert(entity) }
            }
            return (known, missing)
        }
        guard !missing.isEmpty else { return known }
        let read = try await base.relationEndpoints(touching: missing, relations: relations)
        state.withLock { state in
            guard state.relations == relations else { return }
            if state.bySlot.count + read.count > limit { state = State(relations: relations) }
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

    /// Edges with their records' fields are read from the store every time (they are not kept).
    public func relationEdges(touching entities: Set<EntityKey>, relations: Set<String>) async throws -> [RelationEdge] {
        try await base.relationEdges(touching: entities, relations: relations)
    }

    /// Forgets the entities whose edges `changes` set, committed just now: each slot's subject, its
    /// old edge's ends and its new edge's target.
    public func forget(_ changes: [RelationChange]) {
        guard !changes.isEmpty else { return }
        state.withLock { state in
            for change in changes {
                if let old = state.bySlot[change.slot] {
                    state.evict(old.subject)
                    state.evict(old.target)
                }
                state.evict(change.subject)
                if let target = change.edge?.target { state.evict(target) }
            }
        }
    }

    /// Forgets everything: the store may have changed behind the cache (another instance's batch,
    /// a batch that failed after writing).
    public func clear() {
        state.withLock { $0 = State(relations: $0.relations) }
    }

    /// Edges held now (a gauge of its memory).
    public var count: Int { state.withLock { $0.bySlot.count } }
}
