import CreditWatchCore
import RuleLanguage

/// Decoded ledgers (`cw:{E}:rec:T`, `cw:{E}:hist:T`) kept between batches, by entity: every
/// ledger the program reads of an entity (`names`), as evaluation takes them, so that a live batch
/// finds an entity it evaluated before in one lookup and reads from Redis only the entities it
/// does not hold (an enterprise evaluated because one of its feeds changed has a dozen others,
/// read and decoded again for every batch before: the read stage was the largest of a live batch).
///
/// It holds what Redis held when read, and stays right only while this process is the one writing:
/// the entities whose ledgers this process writes are taken out while the write runs and put back
/// updated with what Redis applied (`FeatureWindows.apply`); those it forgets records of are
/// dropped (before the write is sent and again once it is answered); and everything is dropped
/// when the store's marker is not the one this process last wrote (a flush, a rebuild by another
/// process, another instance marking batches). Instances sharing a city do not use it (`capacity`
/// 0): another one may write a ledger of an enterprise it takes over.
/// Bounded by the records it holds; the entities read longest ago go first.
struct LedgerCache {
    /// An entity's ledgers by name (`topic`, `topic#history`): every name of `names`.
    typealias Ledgers = [String: [FactRecord]]

    /// Records held at most (0: nothing is kept).
    let capacity: Int
    /// The ledger names each entry holds: the program's, as last asked for (another program's
    /// entries are dropped).
    private var names: [String] = []
    private var entries: [EntityKey: (ledgers: Ledgers, records: Int)] = [:]
    /// Entities in the order they were stored (one stored again appears twice until the order is
    /// rewritten; its first place may drop it early, which a cache may).
    private var order: [EntityKey] = []
    private var oldest = 0
    private(set) var records = 0
    /// The marker this process last wrote or found (what the entries were read under).
    var marker: FeatureSync?
    /// Whether what is read now is kept: live evaluations read the same enterprises again soon; the
    /// evaluation that ends a backlog's wait reads the whole city once (kept, it only raised the
    /// peak RSS of a 10 000-enterprise drain from 351 to 435–548 MiB).
    var keepsReads = false

    init(capacity: Int) { self.capacity = capacity }

    /// The entries hold `names` from now on.
    mutating func use(_ names: [String]) {
        guard names != self.names else { return }
        dropAll()
        self.names = names
    }

    subscript(entity: EntityKey) -> Ledgers? { entries[entity]?.ledgers }

    /// Places in the order, stale ones included.
    var places: Int { order.count - oldest }
    var isEmpty: Bool { entries.isEmpty }

    mutating func store(_ ledgers: Ledgers, for entity: EntityKey) {
        guard keepsReads else { return }
        insert(ledgers, for: entity)
    }

    private mutating func insert(_ ledgers: Ledgers, for entity: EntityKey) {
        guard capacity > 0 else { return }
        let count = ledgers.values.reduce(0) { $0 + $1.count }
        guard count <= capacity else { return }
        if let old = entries.updateValue((ledgers, count), forKey: entity) { records -= old.records }
        records += count
        order.append(entity)
        while records > capacity, oldest < order.count {
            if let gone = entries.removeValue(forKey: order[oldest]) { records -= gone.records }
            oldest += 1
        }
        // Entities dropped or stored again leave stale places behind: the order is rewritten once
        // they outnumber the entities held.
        if order.count - oldest > 2 * entries.count + 1_024 {
            var seen: Set<EntityKey> = []
            order = order[oldest...].reversed().filter { entries[$0] != nil && seen.insert($0).inserted }.reversed()
            oldest = 0
        }
    }

    /// Removes the entries of `entities` the cache holds and gives them to the caller (a write that
    /// updates them in place and puts them back).
    mutating func take(_ entities: some Sequence<EntityKey>) -> [EntityKey: Ledgers] {
        guard !entries.isEmpty else { return [:] }
        var taken: [EntityKey: Ledgers] = [:]
        for entity in entities {
            if let entry = entries.removeValue(forKey: entity) {
                records -= entry.records
                taken[entity] = entry.ledgers
            }
        }
        return taken
    }

    /// Stores entries taken and updated, whether or not reads are kept now: they were held.
    mutating func putBack(_ held: [EntityKey: Ledgers]) {
        for (entity, ledgers) in held { insert(ledgers, for: entity) }
    }

    mutating func drop(_ entities: some Sequence<EntityKey>) {
        guard !entries.isEmpty else { return }
        for entity in entities {
            if let gone = entries.removeValue(forKey: entity) { records -= gone.records }
        }
    }

    mutating func dropAll() {
        entries = [:]
        order = []
        oldest = 0
        records = 0
    }
}
