import CreditWatchCore
import RuleLanguage

/// Decoded ledgers (`cw:{E}:rec:T`, `cw:{E}:hist:T`) kept between batches, so that a live batch
/// reads from Redis only the ledgers its changes wrote: an enterprise evaluated because one of its
/// feeds changed has a dozen others, read and decoded again for every batch before (the read stage
/// was the largest of a live batch).
///
/// It holds what Redis held when read, and stays right only while this process is the one writing:
/// every ledger this process writes or forgets is dropped (before its write is sent and again
/// once it is answered), and everything is dropped when the store's marker is not the one this
/// process last wrote (a flush, a rebuild by another process, another instance marking batches).
/// Instances sharing a city do not use it (`capacity` 0): another one may write a ledger of an
/// enterprise it takes over.
/// Bounded by the records it holds; the oldest ledgers read go first.
struct LedgerCache {
    /// Records held at most (0: nothing is kept).
    let capacity: Int
    private var entries: [String: [FactRecord]] = [:]
    /// Keys in the order they were stored (a key stored again appears twice until the order is
    /// rewritten; its first place may drop it early, which a cache may).
    private var order: [String] = []
    private var oldest = 0
    private(set) var records = 0
    /// The marker this process last wrote or found (what the entries were read under).
    var marker: FeatureSync?
    /// Whether what is read now is kept: live evaluations read the same enterprises again soon; the
    /// evaluation that ends a backlog's wait reads the whole city once (kept, it only raised the
    /// peak RSS of a 10 000-enterprise drain from 351 to 435–548 MiB).
    var keepsReads = false

    init(capacity: Int) { self.capacity = capacity }

    subscript(key: String) -> [FactRecord]? { entries[key] }

    /// Places in the order, stale ones included.
    var places: Int { order.count - oldest }

    mutating func store(_ ledger: [FactRecord], at key: String) {
        guard capacity > 0, keepsReads, ledger.count <= capacity else { return }
        if let old = entries.updateValue(ledger, forKey: key) { records -= old.count }
        records += ledger.count
        order.append(key)
        while records > capacity, oldest < order.count {
            if let gone = entries.removeValue(forKey: order[oldest]) { records -= gone.count }
            oldest += 1
        }
        // Keys dropped or stored again leave stale places behind: the order is rewritten once
        // they outnumber the ledgers held.
        if order.count - oldest > 2 * entries.count + 1_024 {
            var seen: Set<String> = []
            order = order[oldest...].reversed().filter { entries[$0] != nil && seen.insert($0).inserted }.reversed()
            oldest = 0
        }
    }

    /// Removes the ledgers of `keys` the cache holds and gives them to the caller (a write that
    /// updates them in place and puts them back).
    mutating func take(_ keys: [String]) -> [String: [FactRecord]] {
        guard !entries.isEmpty else { return [:] }
        var taken: [String: [FactRecord]] = [:]
        for key in keys {
            if let ledger = entries.removeValue(forKey: key) {
                records -= ledger.count
                taken[key] = ledger
            }
        }
        return taken
    }

    /// Stores ledgers taken and updated, whether or not reads are kept now: they were held.
    mutating func putBack(_ ledgers: [String: [FactRecord]]) {
        let keeping = keepsReads
        keepsReads = true
        for (key, ledger) in ledgers { store(ledger, at: key) }
        keepsReads = keeping
    }

    mutating func drop<S: Sequence>(_ keys: S) where S.Element == String {
        guard !entries.isEmpty else { return }
        for key in keys {
            if let gone = entries.removeValue(forKey: key) { records -= gone.count }
        }
    }

    mutating func dropAll() {
        entries = [:]
        order = []
        oldest = 0
        records = 0
    }
}
