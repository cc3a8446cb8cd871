import CreditWatchCore
import Logging
import Metrics
import RuleLanguage
import Synchronization

/// The feature store on Redis: per-enterprise and per-division event-time windows.
///
/// Layout (hash tags keep each entity's keys in one Redis Cluster slot, so the apply script is
/// atomic per entity; industry keys are tagged by division and updated by the same script with
/// their own ledger, so concurrent daemon instances can update a division safely):
///
///     cw:{E}:rec:T        HASH pk → ledger entry (version, contribution or deleted, event day, the
///                         record's fields that the live program reads: `FeaturePlan`, named by
///                         their catalog position, less the numbers the contribution gives back)
///     cw:{E}:hist:T       HASH "pk|version" → every version of a record (topics whose history rules
///                         read), with the fields the program reads of them
///     cw:{E}:win:T        HASH "YYYY-MM|column" → the enterprise's own monthly sums of an industry
///                         series topic in hundredths, "YYYY-MM|#" → its record count
///     cw:ind:{D}:led:T:M  HASH E → "#=n,column=hundredths,…": what enterprise E adds to division D's
///                         month M, as last pushed (one entry per enterprise and month, not per record)
///     cw:ind:{D}:win:T    HASH "YYYY-MM|column" → sum in hundredths over the division, "YYYY-MM|#" →
///                         record count
///     (ledger entries, windows and division ledgers name a column by its catalog position, as
///     `Contribution.written` does: `5=145390`, `2025-03|5`)
///     cw:ind:{D}:members  SET of the division's registered enterprises
///     cw:ind:{D}:alerted  SET of its enterprises with an active high or critical alert
///     cw:ind:{D}:lead     ZSET of its enterprises by the rule set's leader-ranking measure
///     cw:ind:{D}:peer:H   ZSET of its enterprises by their value of peer measure H (`PeerMeasure.id`)
///     cw:ind:{D}:peer:H:d:X  ZSET of its enterprises in district X by the same (`peer_rank(…, district)`)
///     cw:topic:{T}:entities  SET of the entities with records in monthly feed T (absence sweeps)
///     cw:feeds            HASH topic → latest event day delivered (the city's feed clock)
///     cw:meta             HASH store → PostgreSQL store id, sequence → last feature batch applied,
///                         keeps → what the ledgers hold (`FeaturePlan.description`), layout → the
///                         version of this layout (an older one is cleared and rebuilt)
///
/// The entity ledger is what makes every update idempotent: it records the version and the exact
/// contribution a record made, so a re-delivered change is skipped, an update replaces the old
/// entry (subtracting its contribution before adding the new one), and a delete marks it deleted.
/// A division's windows follow from its enterprises' own monthly sums: the apply script answers
/// the enterprise's sums of every month it touched, and those absolute values are pushed to the
/// division, which applies the difference to what that enterprise gave it before. A push repeated
/// after a crash changes nothing, enterprises of one division are pushed by whichever instance
/// owns them (increments commute), and a division keeps one entry per enterprise and month
/// instead of one per record. Raw records stay in PostgreSQL.
public final class FeatureWindows: FeatureStore {
    private let connection: any RedisClient
    /// Monthly feeds: their entities are tracked, so that absence rules can sweep them.
    private let monthlyTopics: Set<String>
    private let logger: Logger
    private let applySHA: String
    private let pushSHA: String
    private let forgetSHA: String
    /// How ledger entries name the catalog's fields.
    private let names: FieldNames
    /// The layout marker this process writes and reads: `layoutVersion/` the catalog's field
    /// positions (`FieldNames.fingerprint`).
    let layout: String
    private let cache: Mutex<LedgerCache>

    /// Registration statuses that take an enterprise out of its division's population.
    static let deregistered: Set<String> = ["注销", "吊销", "迁出"]

    /// `cachedRecords`: how many decoded ledger records to keep between batches (`LedgerCache`):
    /// only for the one process writing the ledgers (a daemon not sharing its city), else 0.
    public init(connection: any RedisClient, catalog: TopicCatalog, logger: Logger, cachedRecords: Int = 0) async throws {
        self.connection = connection
        self.cache = Mutex(LedgerCache(capacity: cachedRecords))
        self.logger = logger
        self.monthlyTopics = Set(catalog.topics.values.filter { $0.cadence.expected == .monthly }.map(\.name))
        self.names = FieldNames(catalog: catalog)
        self.layout = Self.layoutVersion + "/" + names.fingerprint
        (applySHA, pushSHA, forgetSHA) = try await Self.loadScripts(connection)
        try await Self.clearOlderLayout(connection, layout: layout, logger: logger)
        // Ledger entries are ~70 bytes: below 128 Redis keeps each ledger as a hashtable, about a
        // quarter more memory (README). CONFIG may be refused (managed Redis): then say nothing.
        for reply in try await connection.everyNode(["CONFIG", "GET", "hash-max-listpack-value"]) {
            guard case .array(let pair) = reply, pair.count == 2, let value = pair[1].integer, value < 128 else { continue }
            logger.notice("Redis hash-max-listpack-value is \(value): 128 keeps the feature ledgers about a quarter smaller")
        }
    }

    /// Ledgers read for evaluation, by where they came from: how well `cachedRecords` fits the city.
    static let ledgersFromCache = Counter(label: "creditwatch.features.ledgers_read", dimensions: [("source", "cache")])
    static let ledgersFromRedis = Counter(label: "creditwatch.features.ledgers_read", dimensions: [("source", "redis")])

    /// A daemon's. Measured: a drain of 10 000 enterprises that kept its end-of-backfill reads
    /// (250 000 records held) peaked 85–200 MiB above one that kept none, ~0.35–0.8 KiB a record;
    /// a live city of 1 000 enterprises holds ~120 000.
    public static let defaultCachedRecords = 250_000

    /// The version of the layout above. A store written in another, or under a catalog that
    /// declares other fields, is cleared at start, so that it is rebuilt from PostgreSQL rather
    /// than read wrongly (with several instances, start one first after such an upgrade).
    /// 3: versions in base 36, fields named by position, numbers the contribution holds not repeated.
    /// 4: bucket months, event days, dates and timestamps in base 36; `YYYY-MM` strings as months.
    /// 5: ledger entries without the deleted flag (a deleted record's contribution is `-`) and the
    ///    bucket (the event day's month); window columns written by catalog position.
    static let layoutVersion = "5"

    /// Clears every `cw:` key when a marker (the one of layout 1 included) names another layout.
    static func clearOlderLayout(_ connection: any RedisClient, layout: String, logger: Logger) async throws {
        let markers = Set(connection.keyOnEveryNode(metaKey) + [metaKey]).sorted()
        let replies = try await connection.pipeline(markers.map { ["HMGET", $0, "store", "layout"] })
        let older = replies.compactMap { reply -> String? in
            guard case .array(let items) = reply, items.count == 2, items[0].text != nil, items[1].text != layout else { return nil }
            return items[1].text ?? "1"
        }
        guard let found = older.first else { return }
        logger.notice("Redis holds features in layout \(found), this process writes layout \(layout) (version/catalog fields): clearing them to rebuild from PostgreSQL")
        try await clearAll(connection)
    }

    /// Deletes every `cw:` key on every node.
    static func clearAll(_ connection: any RedisClient) async throws {
        for node in connection.nodeConnections {
            var cursor = "0"
            repeat {
                let reply = try await node.command("SCAN", cursor, "MATCH", "cw:*", "COUNT", "1000")
                guard case .array(let page) = reply, page.count == 2, let next = page[0].text, case .array(let keys) = page[1] else {
                    throw RedisError(code: .reply, message: "SCAN answered \(reply)")
                }
                if !keys.isEmpty { _ = try await node.pipeline(keys.compactMap(\.text).map { ["UNLINK", $0] }) }
                cursor = next
            } while cursor != "0"
        }
    }

    static let feedsKey = "cw:feeds"
    /// What this Redis holds: the store of record's identity and the feature sequence (`FeatureSync`).
    static let metaKey = "cw:meta"
    static func topicEntitiesKey(_ topic: String) -> String { "cw:topic:{\(topic)}:entities" }

    /// Loads the scripts on every node (a cluster's masters each keep their own script cache).
    private static func loadScripts(_ connection: any RedisClient) async throws -> (apply: String, push: String, forget: String) {
        var shas: [String] = []
        for script in [applyScript, pushScript, forgetScript] {
            let replies = try await connection.everyNode(["SCRIPT", "LOAD", script])
            guard let sha = replies.first?.text, replies.allSatisfy({ $0.text == sha }) else {
                throw RedisError(code: .reply, message: "SCRIPT LOAD: \(replies)")
            }
            shas.append(sha)
        }
        return (shas[0], shas[1], shas[2])
    }

    static func entityKey(_ entity: String, _ kind: String, _ topic: String) -> String { "cw:{\(entity)}:\(kind):\(topic)" }
    static func industryKey(_ division: String, _ kind: String) -> String { "cw:ind:{\(division)}:\(kind)" }
    /// A peer measure's values in a division.
    static func peerKey(_ division: String, _ measure: PeerMeasure) -> String { industryKey(division, "peer:\(measure.id)") }
    /// The values an enterprise is ranked among: its division's (the peer measure's key), or its
    /// division's in its district (nil without a district).
    static func rankKey(_ measure: RankedMeasure, division: String, district: String?) -> String? {
        switch measure.group {
        case .division: return peerKey(division, measure.measure)
        case .district: return district.map { industryKey(division, "peer:\(measure.measure.id):d:\($0)") }
        }
    }

    // MARK: Apply

    /// A monthly feed's entity as an apply call tracks it (a pair, not a string made of both).
    private struct TopicEntity: Hashable { let topic: String, entity: String }

    /// An update of a held entity: what it wrote to its ledger and its history.
    private struct HeldWrite {
        let entry: [UInt8]
        var history: (member: String, payload: [UInt8])?
    }

    /// Where a ledger write's answer says whether it applied: its apply script's call and place
    /// in the run, or its `HSETNX` (1: written; 0: the member was there, and the script decides in
    /// a second round trip: `retried`).
    private enum LedgerWrite {
        case script(command: Int, place: Int)
        case setIfNew(command: Int)
        case retried(command: Int, place: Int)
    }

    /// The updates as runs of one ledger each (an entity's records of one topic, in the batch's
    /// order), each applied by one script call: a backfill's batch holds ~2.6 records of each
    /// ledger it writes, and a call costs Redis more than the records it applies. A record whose
    /// division differs from its ledger's run before it starts a new run (its sums go to the other
    /// division), so runs of one ledger stay in the batch's order.
    static func ledgerRuns(_ updates: [FeatureUpdate]) -> [[Int]] { ledgerRuns(updates, among: Array(updates.indices)) }

    /// The runs of the updates at `indices` (in order) only.
    static func ledgerRuns(_ updates: [FeatureUpdate], among indices: [Int]) -> [[Int]] {
        struct Ledger: Hashable { let entity: EntityKey, topic: String }
        var runs: [[Int]] = []
        var open: [Ledger: (run: Int, division: String?)] = [:]
        open.reserveCapacity(indices.count)
        // By index: an update is ~300 bytes, copied whole by a `for … in`.
        for n in indices {
            let division = updates[n].division
            let ledger = Ledger(entity: updates[n].entity, topic: updates[n].change.topic)
            if let run = open[ledger], run.division == division {
                runs[run.run].append(n)
            } else {
                open[ledger] = (runs.count, division)
                runs.append([n])
            }
        }
        return runs
    }

    public func apply(_ updates: [FeatureUpdate], plan: FeaturePlan, marking sync: FeatureSync?) async throws {
        // The cached entities this call writes are taken out while it runs (a read meanwhile goes to
        // Redis) and put back with what Redis applied, decoded from the very entries it now holds:
        // a live batch then reads from Redis only the entities it did not hold (it read and decoded
        // every ledger its changes wrote again, ~100 records each).
        // Nothing held (a backfill keeps no reads): no set of the written entities is made (10 000
        // hashes a drain batch) unless a read kept some meanwhile.
        var (entities, held) = cache.withLock { cache -> (Set<EntityKey>, [EntityKey: LedgerCache.Ledgers]) in
            guard !cache.isEmpty else { return ([], [:]) }
            let entities = Set(updates.map(\.entity))
            return (entities, cache.take(entities))
        }
        // The commands are written in the protocol as they are made (~200 bytes a record).
        var commands = RESP(capacity: updates.count * 256)
        let industryColumns = Self.writtenColumns(plan.industrySeries, names: names)
        let columnLists = industryColumns.mapValues { $0.map(\.written).joined(separator: ",") }
        var tracked: Set<TopicEntity> = []  // added to a feed's entities in this call
        /// Command index → where the sums it answers go (an enterprise's run of a series topic).
        var pushes: [Int: (division: String?, entity: String, topic: String)] = [:]
        /// For the updates of held entities: the entry written and the history version beside it.
        var heldWrites: [Int: HeldWrite] = [:]
        /// Update index → where its answer is (every ledger write).
        var ledgerWrites: [LedgerWrite?] = Array(repeating: nil, count: updates.count)
        var (records, versions) = (Layouts(plan.fields, names: names), Layouts(plan.historyFields, names: names))
        // One buffer each for the record's payload, its ledger entry and its version's payload,
        // reused record after record.
        var (payload, entry, versionPayload): ([UInt8], [UInt8], [UInt8]) = ([], [], [])
        payload.reserveCapacity(256)
        entry.reserveCapacity(256)
        versionPayload.reserveCapacity(256)
        /// The ledger entry of update `n`: version, contribution and payload joined by tabs, as the
        /// apply script writes it.
        func makeEntry(_ n: Int, contribution: String) {
            entry.removeAll(keepingCapacity: true)
            entry.append(contentsOf: String(updates[n].change.version, radix: 36).utf8)
            entry.append(0x09)
            entry.append(contentsOf: contribution.utf8)
            entry.append(0x09)
            entry.append(contentsOf: payload)
        }
        /// The apply script's call for a run of one ledger (`columns`: its window's, nil without);
        /// `retrying`: the records an HSETNX found there (in the second round trip).
        func appendScript(_ run: [Int], columns: [(name: String, written: String)]?, retrying: Bool = false, into commands: inout RESP) {
            let first = updates[run[0]]
            let (entity, topic) = (first.entity.id, first.change.topic)
            let runIndex = commands.commands
            if columns != nil { pushes[runIndex] = (first.division, entity, topic) }
            // EVALSHA sha numkeys ledger [window] columns, then per record: member version
            // contribution payload month
            commands.command(5 + (columns == nil ? 0 : 1) + 5 * run.count)
            commands.argument("EVALSHA")
            commands.argument(applySHA)
            commands.argument(columns == nil ? "1" : "2")
            commands.entityKey(entity, "rec", topic)
            if columns != nil { commands.entityKey(entity, "win", topic) }
            commands.argument(columns == nil ? "" : columnLists[topic]!)
            for (place, n) in run.enumerated() {
                let change = updates[n].change
                // A record with a window: its contribution to its month (a delete gives nothing).
                var contribution = Self.noContribution(change)
                payload.removeAll(keepingCapacity: true)
                if let columns, change.operation != .delete {
                    let made = Contribution.encode(change.fields, columns: columns)
                    contribution = made.text
                    Self.payload(change.eventDay, change.fields, records.of(topic), omitting: made.exact, into: &payload)
                } else {
                    Self.payload(change.eventDay, change.fields, records.of(topic), into: &payload)
                }
                commands.argument(change.key)
                commands.argument(String(change.version, radix: 36))
                commands.argument(contribution)
                commands.argument(payload)
                commands.argument(columns == nil ? "" : Self.monthName(change.eventDay.month))
                if retrying {
                    ledgerWrites[n] = .retried(command: runIndex, place: place)
                    continue
                }
                ledgerWrites[n] = .script(command: runIndex, place: place)
                if held[updates[n].entity] != nil {
                    makeEntry(n, contribution: contribution)
                    heldWrites[n] = HeldWrite(entry: entry)
                }
            }
        }
        for run in Self.ledgerRuns(updates) {
            let first = updates[run[0]]
            let topic = first.change.topic
            if let columns = first.entity.kind == .enterprise ? industryColumns[topic] : nil {
                appendScript(run, columns: columns, into: &commands)
                continue
            }
            // A ledger without a window: a record new to it (most of a backfill's) is written by
            // HSETNX alone, as the script would write it; one whose member is there is left to the
            // script, after (a script call cost Redis ~4 times an HSETNX).
            for n in run {
                let change = updates[n].change
                payload.removeAll(keepingCapacity: true)
                Self.payload(change.eventDay, change.fields, records.of(topic), into: &payload)
                makeEntry(n, contribution: Self.noContribution(change))
                ledgerWrites[n] = .setIfNew(command: commands.commands)
                commands.command(4)
                commands.argument("HSETNX")
                commands.entityKey(first.entity.id, "rec", topic)
                commands.argument(change.key)
                commands.argument(entry)
                if held[updates[n].entity] != nil { heldWrites[n] = HeldWrite(entry: entry) }
            }
        }
        // What else a record writes, in the batch's order (keys no run writes).
        for (n, update) in updates.enumerated() {
            let change = update.change
            let entity = update.entity.id
            let deleted = change.operation == .delete
            if monthlyTopics.contains(change.topic), !deleted, update.entity.kind == .enterprise,
                tracked.insert(TopicEntity(topic: change.topic, entity: entity)).inserted
            {
                commands.command(["SADD", Self.topicEntitiesKey(change.topic), entity])
            }
            if plan.historyFields[change.topic] != nil, !deleted {
                // HSET, not HSETNX: a rebuild for a program that reads more of the versions rewrites them.
                let member = "\(change.key)|\(change.version)"
                versionPayload.removeAll(keepingCapacity: true)
                Self.payload(change.eventDay, change.fields, versions.of(change.topic), into: &versionPayload)
                commands.command(4)
                commands.argument("HSET")
                commands.entityKey(entity, "hist", change.topic)
                commands.argument(member)
                commands.argument(versionPayload)
                heldWrites[n]?.history = (member, versionPayload)
            }
            if let division = update.division, update.entity.kind == .enterprise, change.topic == Registration.topic {
                membershipCommands(update, division: division, into: &commands)
            }
        }
        let replies = try await run(commands)
        // The records whose member was there already, through the script, in the batch's order.
        var existing: [Int] = []
        for n in updates.indices {
            if case .setIfNew(let command) = ledgerWrites[n], replies[command] == .integer(0) { existing.append(n) }
        }
        var retriedReplies: [RedisReply] = []
        if !existing.isEmpty {
            var scripts = RESP(capacity: existing.count * 256)
            for run in Self.ledgerRuns(updates, among: existing) { appendScript(run, columns: nil, retrying: true, into: &scripts) }
            retriedReplies = try await run(scripts)
        }
        func applied(_ n: Int) -> Bool {
            switch ledgerWrites[n] {
            case .setIfNew(let command): replies[command] == .integer(1)
            case .script(let command, let place): Self.applied(replies[command], at: place)
            case .retried(let command, let place): Self.applied(retriedReplies[command], at: place)
            case nil: false
            }
        }
        for (n, update) in updates.enumerated() {
            guard var ledgers = held.removeValue(forKey: update.entity) else { continue }
            defer { held[update.entity] = ledgers }
            guard let write = heldWrites[n] else { continue }
            let change = update.change
            if ledgers[change.topic] != nil, applied(n) {
                Self.replace(
                    change.key, with: Self.ledgerRecord(Array(change.key.utf8), write.entry, topic: change.topic, names: names[change.topic]),
                    in: &ledgers[change.topic]!) { $0.key < $1.key }
            }
            let historyLedger = change.topic + RuleProgram.historySuffix
            if let history = write.history, ledgers[historyLedger] != nil {
                Self.replace(
                    history.member,
                    with: Self.historyRecord(Array(history.member.utf8), history.payload, topic: change.topic, names: names[change.topic]),
                    in: &ledgers[historyLedger]!) { ($0.eventDay, $0.key) < ($1.eventDay, $1.key) }
            }
        }
        cache.withLock {
            // What a read kept meanwhile may be older than what this call wrote.
            if !$0.isEmpty {
                if entities.isEmpty { entities = Set(updates.map(\.entity)) }
                $0.drop(entities)
            }
            $0.putBack(held)
            if let sync { $0.marker = sync }
        }
        // The enterprises' sums of the months they touched, the last answer for each month winning.
        var sums = DivisionSums()
        for (index, push) in pushes {
            guard let division = push.division, case .array(let items) = replies[index] else { continue }
            var j = 1  // after the applied flags
            while j + 1 < items.count {
                if let month = items[j].text, let value = items[j + 1].text {
                    sums.set(division: division, topic: push.topic, entity: push.entity, month: month, value: value, order: index)
                }
                j += 2
            }
        }
        // The marker after the ledgers (their replies are in) and with the division push: a push
        // lost with it is made again when the batch is, since the apply script answers the sums of
        // a change it already holds.
        try await push(sums, marking: sync)
    }

    /// Takes enterprises' contributions from the division they leave (nil: none, as when their
    /// records came before their registration) to the one they join: their own monthly sums, read
    /// back, are pushed whole to the new division and as nothing to the old.
    public func move(_ moves: [DivisionMove], plan: FeaturePlan) async throws {
        let topics = Self.columnsByTopic(plan.industrySeries).keys.sorted()
        let moves = moves.filter { $0.from != $0.to }
        guard !moves.isEmpty, !topics.isEmpty else { return }
        var commands: [[String]] = []
        for move in moves {
            for topic in topics { commands.append(["HGETALL", Self.entityKey(move.uscc, "win", topic)]) }
        }
        let replies = try await run(commands.map { $0.map { Array($0.utf8) } })
        var sums = DivisionSums()
        var i = 0
        for move in moves {
            for topic in topics {
                for (month, value) in Self.ownSums(replies[i]) {
                    if let from = move.from { sums.set(division: from, topic: topic, entity: move.uscc, month: month, value: "#=0", order: i) }
                    sums.set(division: move.to, topic: topic, entity: move.uscc, month: month, value: value, order: i)
                }
                i += 1
            }
        }
        try await push(sums)
    }

    /// An enterprise's window hash as month → "#=n,column=hundredths,…" (what it gives its division).
    static func ownSums(_ reply: RedisReply) -> [String: String] {
        guard case .array(let items) = reply else { return [:] }
        var parts: [String: [String: String]] = [:]
        var j = 0
        while j + 1 < items.count {
            defer { j += 2 }
            guard let field = items[j].text, let value = items[j + 1].text, let bar = field.firstIndex(of: "|") else { continue }
            parts[String(field[..<bar]), default: [:]][String(field[field.index(after: bar)...])] = value
        }
        return parts.mapValues { columns in
            "#=\(columns["#"] ?? "0")" + columns.filter { $0.key != "#" }.sorted { $0.key < $1.key }.map { ",\($0.key)=\($0.value)" }.joined()
        }
    }

    /// Enterprises' monthly sums to push, by division and topic.
    struct DivisionSums {
        struct Window: Hashable, Comparable {
            let division: String, topic: String
            static func < (a: Window, b: Window) -> Bool { (a.division, a.topic) < (b.division, b.topic) }
        }
        struct Member: Hashable, Comparable {
            let entity: String, month: String
            static func < (a: Member, b: Member) -> Bool { (a.entity, a.month) < (b.entity, b.month) }
        }

        /// Window → member → (value, the order of the answer it came from: the latest wins).
        private(set) var byWindow: [Window: [Member: (value: String, order: Int)]] = [:]

        mutating func set(division: String, topic: String, entity: String, month: String, value: String, order: Int) {
            let window = Window(division: division, topic: topic), member = Member(entity: entity, month: month)
            if let known = byWindow[window]?[member], known.order > order { return }
            byWindow[window, default: [:]][member] = (value, order)
        }
    }

    /// One script per division window (and at most `pushChunk` enterprise-months), and with
    /// `marking` the marker's update, all in one round trip.
    private func push(_ sums: DivisionSums, marking sync: FeatureSync? = nil) async throws {
        var commands: [[[UInt8]]] = []
        for (window, members) in sums.byWindow.sorted(by: { $0.key < $1.key }) {
            let entries = members.sorted { $0.key < $1.key }
            for start in stride(from: 0, to: entries.count, by: Self.pushChunk) {
                var keys = [Self.industryKey(window.division, "win:\(window.topic)")]
                var args: [String] = []
                for (member, sum) in entries[start..<min(start + Self.pushChunk, entries.count)] {
                    keys.append(Self.industryKey(window.division, "led:\(window.topic):\(member.month)"))
                    args += [member.entity, member.month, sum.value]
                }
                commands.append((["EVALSHA", pushSHA, String(keys.count)] + keys + args).map { Array($0.utf8) })
            }
        }
        if let sync { commands += markCommands(sync) }
        guard !commands.isEmpty else { return }
        try await run(commands)
    }

    static let pushChunk = 500

    private func membershipCommands(_ update: FeatureUpdate, division: String, into commands: inout RESP) {
        var status: String?
        if case .string(let s)? = update.change.fields["status"] { status = s }
        let leaves = update.change.operation == .delete || status.map(Self.deregistered.contains) == true
        if let previous = update.previousDivision, previous != division {
            commands.command(["SREM", Self.industryKey(previous, "members"), update.entity.id])
        }
        commands.command([leaves ? "SREM" : "SADD", Self.industryKey(division, "members"), update.entity.id])
    }

    /// `eventDay \t fields`: what the ledger and the history keep of a record — the fields of
    /// `layout` it has, less the numbers its contribution gives back exactly (`omitting`). The day
    /// is in base 36.
    private static func payload(
        _ eventDay: Day, _ fields: [String: Value], _ layout: RecordCodec.Layout, omitting: Set<String> = [], into payload: inout [UInt8]
    ) {
        payload.append(contentsOf: String(eventDay.value, radix: 36).utf8)
        payload.append(0x09)
        RecordCodec.encode(fields, layout: layout, omitting: omitting, into: &payload)
    }

    /// The contribution field of a ledger entry that gives no window anything: `-` marks a deleted
    /// record, empty a current one of a topic without a window.
    static func noContribution(_ change: Change) -> String { change.operation == .delete ? "-" : "" }

    /// The industry series' columns by topic (`columnsByTopic`), each with the name ledger entries
    /// and window fields give it (`Contribution.written`).
    static func writtenColumns(_ series: Set<String>, names: FieldNames) -> [String: [(name: String, written: String)]] {
        Dictionary(uniqueKeysWithValues: columnsByTopic(series).map { topic, columns in
            (topic, columns.map { ($0, Contribution.written($0, in: names[topic])) })
        })
    }

    /// What the plan keeps of each topic an apply call writes (`FeaturePlan.fields`, or
    /// `historyFields` for versions), laid out once a call, not projected per record.
    private struct Layouts {
        let kept: [String: Set<String>], names: FieldNames
        private var made: [String: RecordCodec.Layout] = [:]

        init(_ kept: [String: Set<String>], names: FieldNames) {
            self.kept = kept
            self.names = names
        }

        mutating func of(_ topic: String) -> RecordCodec.Layout {
            if let layout = made[topic] { return layout }
            let layout = RecordCodec.layout(of: kept[topic] ?? [], names: names[topic])
            made[topic] = layout
            return layout
        }
    }

    /// A month as the apply script names it in window fields (`%04d-%02d` of its index): given for
    /// the years 0–9999, where `Month.description` is the same text; empty (the script makes it)
    /// for any other.
    static func monthName(_ month: Month) -> String {
        (0..<120_000).contains(month.index) ? month.description : ""
    }

    /// Replaces the record `key` of a ledger kept in `order` with `record` (nil: removes it).
    private static func replace(
        _ key: String, with record: FactRecord?, in ledger: inout [FactRecord], order: (FactRecord, FactRecord) -> Bool
    ) {
        ledger.removeAll { $0.key == key }
        guard let record else { return }
        ledger.insert(record, at: ledger.firstIndex { order(record, $0) } ?? ledger.count)
    }

    /// Runs a pipeline; when Redis lost its script cache (a restart), reloads the scripts and runs
    /// again, in order, the script calls from the first it refused on (one that ran may follow a
    /// refused one on the same ledger: another process can load the scripts meanwhile). The other
    /// commands' answers stand: an HSETNX that wrote its entry would answer 0 the second time, as
    /// if it had found it there; a script that ran is idempotent, and its first answer stands.
    @discardableResult
    private func run(_ commands: [[[UInt8]]]) async throws -> [RedisReply] {
        try await run(RESP(commands))
    }

    @discardableResult
    private func run(_ commands: RESP) async throws -> [RedisReply] {
        var replies = try await connection.pipeline(commands)
        let refused = replies.indices.filter { if case .error(let e) = replies[$0] { e.hasPrefix("NOSCRIPT") } else { false } }
        if !refused.isEmpty {
            _ = try await Self.loadScripts(connection)
            let all = commands.decoded()
            let scripts = all.indices[refused[0]...].filter { all[$0].first.map { $0 == Array("EVALSHA".utf8) } ?? false }
            let again = try await connection.pipeline(RESP(scripts.map { all[$0] }))
            let refusedSet = Set(refused)
            for (place, index) in scripts.enumerated() where refusedSet.contains(index) { replies[index] = again[place] }
        }
        for reply in replies {
            if case .error(let message) = reply { throw RedisError(code: .reply, message: message) }
        }
        return replies
    }

    static func columnsByTopic(_ series: Set<String>) -> [String: [String]] {
        var columns: [String: [String]] = [:]
        for item in series {
            guard let dot = item.lastIndex(of: ".") else { continue }
            columns[String(item[..<dot]), default: []].append(String(item[item.index(after: dot)...]))
        }
        return columns.mapValues { $0.sorted() }
    }

    public func forget(_ expired: [ExpiredRecords]) async throws {
        let commands = expired.filter { !$0.keys.isEmpty }.map { item in
            let ledger = Self.entityKey(item.entity.id, "rec", item.topic)
            let keys = item.sumsBefore == nil ? ["1", ledger] : ["2", ledger, Self.entityKey(item.entity.id, "win", item.topic)]
            return (["EVALSHA", forgetSHA] + keys + [String(item.before.value, radix: 36), item.sumsBefore?.description ?? ""] + item.keys)
                .map { Array($0.utf8) }
        }
        let forgotten = expired.map(\.entity)
        cache.withLock { $0.drop(forgotten) }
        try await run(commands)
        cache.withLock { $0.drop(forgotten) }
    }

    // MARK: Read

    public func records(of entities: [EntityKey], plan: FeaturePlan) async throws -> [EntityKey: [String: [FactRecord]]] {
        let (readTopics, historyTopics) = (plan.readTopics.sorted(), plan.historyTopics.sorted())
        let ledgerNames = readTopics + historyTopics.map { $0 + RuleProgram.historySuffix }
        var result = [EntityKey: [String: [FactRecord]]](minimumCapacity: entities.count)
        var missing: [EntityKey] = []
        cache.withLock { cache in
            cache.use(ledgerNames)
            for entity in entities {
                if let held = cache[entity] { result[entity] = held } else { missing.append(entity) }
            }
        }
        Self.ledgersFromCache.increment(by: Int64((entities.count - missing.count) * ledgerNames.count))
        Self.ledgersFromRedis.increment(by: Int64(missing.count * ledgerNames.count))
        guard !missing.isEmpty else { return result }
        var commands: [[String]] = []
        commands.reserveCapacity(missing.count * ledgerNames.count)
        for entity in missing {
            for topic in readTopics { commands.append(["HGETALL", Self.entityKey(entity.id, "rec", topic)]) }
            for topic in historyTopics { commands.append(["HGETALL", Self.entityKey(entity.id, "hist", topic)]) }
        }
        let replies = try await connection.pipeline(commands)
        var reply = 0
        for entity in missing {
            var ledgers = LedgerCache.Ledgers(minimumCapacity: ledgerNames.count)
            for topic in readTopics {
                ledgers[topic] = Self.ledgerRecords(replies[reply], topic: topic, names: names[topic])
                reply += 1
            }
            for topic in historyTopics {
                ledgers[topic + RuleProgram.historySuffix] = Self.historyRecords(replies[reply], topic: topic, names: names[topic])
                reply += 1
            }
            result[entity] = ledgers
        }
        cache.withLock { cache in for entity in missing { cache.store(result[entity]!, for: entity) } }
        return result
    }

    /// Current (not deleted) records of a ledger hash, in key order.
    static func ledgerRecords(_ reply: RedisReply, topic: String, names: FieldNames.Topic?) -> [FactRecord] {
        guard case .array(let items) = reply else { return [] }
        var records: [FactRecord] = []
        records.reserveCapacity(items.count / 2)
        var i = 0
        while i + 1 < items.count {
            defer { i += 2 }
            guard case .string(let key) = items[i], case .string(let value) = items[i + 1],
                let record = ledgerRecord(key, value, topic: topic, names: names)
            else { continue }
            records.append(record)
        }
        return records.sorted { $0.key < $1.key }
    }

    /// One ledger entry's record; nil when it is deleted (or damaged).
    static func ledgerRecord(_ key: [UInt8], _ value: [UInt8], topic: String, names: FieldNames.Topic?) -> FactRecord? {
        // version \t contribution \t eventDay \t record; the contribution of a deleted record is `-`
        func tab(after start: Int) -> Int? { value[start...].firstIndex(of: 0x09) }
        guard let t0 = tab(after: 0), let t1 = tab(after: t0 + 1), let t2 = tab(after: t1 + 1),
            !(t1 == t0 + 2 && value[t0 + 1] == UInt8(ascii: "-")),
            let day = RecordCodec.integer(value[(t1 + 1)..<t2], radix: 36), let eventDay = Int(exactly: day)
        else { return nil }
        let contribution = value[(t0 + 1)..<t1]
        guard var fields = RecordCodec.decode(value[(t2 + 1)...], names: names, extra: Contribution.columns(contribution)) else { return nil }
        Contribution.restore(contribution, names: names, into: &fields)
        return FactRecord(topic: topic, key: String(decoding: key, as: UTF8.self), eventDay: Day(eventDay), fields: fields)
    }

    static func historyRecords(_ reply: RedisReply, topic: String, names: FieldNames.Topic?) -> [FactRecord] {
        guard case .array(let items) = reply else { return [] }
        var records: [FactRecord] = []
        records.reserveCapacity(items.count / 2)
        var i = 0
        while i + 1 < items.count {
            defer { i += 2 }
            guard case .string(let key) = items[i], case .string(let value) = items[i + 1],
                let record = historyRecord(key, value, topic: topic, names: names)
            else { continue }
            records.append(record)
        }
        return records.sorted { ($0.eventDay, $0.key) < ($1.eventDay, $1.key) }
    }

    /// One version of a history hash (`key|version` → eventDay \t record) as `topic#history` reads it.
    static func historyRecord(_ key: [UInt8], _ value: [UInt8], topic: String, names: FieldNames.Topic?) -> FactRecord? {
        guard let tab = value.firstIndex(of: 0x09), let day = RecordCodec.integer(value[..<tab], radix: 36),
            let eventDay = Int(exactly: day), let fields = RecordCodec.decode(value[(tab + 1)...], names: names)
        else { return nil }
        return FactRecord(topic: topic + RuleProgram.historySuffix, key: String(decoding: key, as: UTF8.self), eventDay: Day(eventDay), fields: fields)
    }

    /// Whether an apply script's answer says it applied its change.
    /// Whether the apply script applied the record at `place` of its run (its flags: `1` applied,
    /// `0` skipped, one character a record).
    static func applied(_ reply: RedisReply, at place: Int) -> Bool {
        guard case .array(let items) = reply, case .string(let flags)? = items.first, place < flags.count else { return false }
        return flags[place] == UInt8(ascii: "1")
    }

    public func industries(
        _ divisions: Set<String>, standings: [IndustryStanding], series: Set<String>, leaders: Int,
        peers: [PeerMeasure] = [], asOf: [String: Day], forgetting: [String: [String: Month]] = [:]
    ) async throws -> [IndustryData] {
        var commands: [[String]] = []
        for standing in standings {
            for measure in peers {
                let key = Self.peerKey(standing.division, measure)
                if let value = standing.peers[measure.key], value.isFinite {
                    commands.append(["ZADD", key, String(value), standing.uscc])
                } else {
                    commands.append(["ZREM", key, standing.uscc])
                }
            }
            commands.append([standing.alerted ? "SADD" : "SREM", Self.industryKey(standing.division, "alerted"), standing.uscc])
            if leaders > 0 {
                let lead = Self.industryKey(standing.division, "lead")
                if let measure = standing.measure, measure.isFinite {
                    commands.append(["ZADD", lead, String(measure), standing.uscc])
                } else {
                    commands.append(["ZREM", lead, standing.uscc])
                }
            }
        }
        let prefix = commands.count
        let columns = Self.writtenColumns(series, names: names)
        let seriesTopics = columns.keys.sorted()
        let divisionList = divisions.sorted()
        for division in divisionList {
            commands.append(["SCARD", Self.industryKey(division, "members")])
            commands.append(["SCARD", Self.industryKey(division, "alerted")])
            for topic in seriesTopics { commands.append(["HGETALL", Self.industryKey(division, "win:\(topic)")]) }
            if leaders > 0 {
                // Ties broken by USCC (ZREVRANGE orders equal scores by member, descending).
                commands.append(["ZREVRANGE", Self.industryKey(division, "lead"), "0", String(leaders - 1), "WITHSCORES"])
            }
            for measure in peers {
                let key = Self.peerKey(division, measure)
                commands.append(["ZCARD", key])
                switch measure.kind {
                case .condition:
                    // Members where it holds, by USCC (equal scores order by member).
                    commands.append(["ZCOUNT", key, "1", "1"])
                    commands.append(["ZRANGEBYSCORE", key, "1", "1", "LIMIT", "0", String(PeerFigures.memberLimit)])
                case .value:
                    commands.append(["ZRANGE", key, "0", "-1", "WITHSCORES"])
                }
            }
        }
        let replies = try await connection.pipeline(commands)
        for reply in replies[..<prefix] {
            if case .error(let message) = reply { throw RedisError(code: .reply, message: message) }
        }
        var i = prefix
        var trims: [[String]] = []
        var partial: [
            (division: String, population: Int, alerted: Int, sums: [String: [Month: Double]], top: [(String, Double)], peers: [String: PeerFigures])
        ] = []
        for division in divisionList {
            let population = Int(replies[i].integer ?? 0)
            let alertedCount = Int(replies[i + 1].integer ?? 0)
            i += 2
            var sums: [String: [Month: Double]] = [:]
            for topic in seriesTopics {
                // Window fields name columns as ledger entries do (`Contribution.written`).
                let wanted = Dictionary(columns[topic]!.map { ($0.written, $0.name) }, uniquingKeysWith: { a, _ in a })
                let window = Self.windowSums(replies[i])
                for (column, months) in window {
                    if let name = wanted[column] { sums["\(topic).\(name)"] = months }
                }
                if let kept = forgetting[division]?[topic] {
                    trims += Self.trimCommands(window, before: kept, window: Self.industryKey(division, "win:\(topic)")) {
                        Self.industryKey(division, "led:\(topic):\($0)")
                    }
                }
                i += 1
            }
            var top: [(String, Double)] = []
            if leaders > 0 {
                if case .array(let items) = replies[i] {
                    var j = 0
                    while j + 1 < items.count {
                        if let member = items[j].text, let score = items[j + 1].text.flatMap(Double.init) { top.append((member, score)) }
                        j += 2
                    }
                }
                i += 1
            }
            var figures: [String: PeerFigures] = [:]
            for measure in peers {
                let known = Int(replies[i].integer ?? 0)
                switch measure.kind {
                case .condition:
                    let members = (replies[i + 2].array ?? []).compactMap(\.text)
                    figures[measure.key] = PeerFigures(known: known, holding: Int(replies[i + 1].integer ?? 0), members: members)
                    i += 3
                case .value:
                    let items = replies[i + 1].array ?? []
                    let values = stride(from: 1, to: items.count, by: 2).compactMap { items[$0].text.flatMap(Double.init) }
                    figures[measure.key] = PeerFigures(known: known, values: values)
                    i += 2
                }
            }
            partial.append((division, population, alertedCount, sums, top, figures))
        }
        // Which leaders have an active high alert: a second round trip, only when ranking (or
        // when months expired).
        var alertedLeaders: [String: Set<String>] = [:]
        let asks = partial.filter { !$0.top.isEmpty }
        if !asks.isEmpty || !trims.isEmpty {
            let replies = try await run((asks.map { ["SMISMEMBER", Self.industryKey($0.division, "alerted")] + $0.top.map(\.0) } + trims)
                .map { $0.map { Array($0.utf8) } })
            for (ask, reply) in zip(asks, replies) {
                guard case .array(let flags) = reply else { continue }
                alertedLeaders[ask.division] = Set(zip(ask.top, flags).filter { $0.1.integer == 1 }.map(\.0.0))
            }
        }
        return partial.map { p in
            IndustryData(
                division: p.division, asOf: asOf[p.division] ?? Day(0), population: p.population, alerted: p.alerted,
                monthlySums: p.sums,
                leaders: p.top.map { IndustryLeader(uscc: $0.0, measure: $0.1, alerted: alertedLeaders[p.division]?.contains($0.0) == true) },
                peers: p.peers)
        }
    }

    // MARK: Peer ranks

    public func recordRanked(_ values: [RankedValues], measures: [RankedMeasure], wake: Bool) async throws -> Set<String> {
        var commands: [[String]] = []
        /// Each recorded value with the command index of its old value (when waking).
        var recorded: [(key: String, value: Double?, old: Int)] = []
        for enterprise in values {
            for measure in measures {
                guard let key = Self.rankKey(measure, division: enterprise.division, district: enterprise.district) else { continue }
                let value = enterprise.values[measure.measure.key].flatMap { $0.isFinite ? $0 : nil }
                if wake {
                    recorded.append((key, value, commands.count))
                    commands.append(["ZSCORE", key, enterprise.uscc])
                }
                if let value {
                    commands.append(["ZADD", key, String(value), enterprise.uscc])
                } else {
                    commands.append(["ZREM", key, enterprise.uscc])
                }
            }
        }
        guard !commands.isEmpty else { return [] }
        let replies = try await connection.pipeline(commands)
        for reply in replies {
            if case .error(let message) = reply { throw RedisError(code: .reply, message: message) }
        }
        // A value that moved from `old` to `value` passed every peer whose value lies between them.
        // (An enterprise that joins or leaves a group moves the others' ranks by at most one place
        // in n; they are ranked again at their own next evaluation.)
        var ranges: [[String]] = []
        for r in recorded {
            guard let value = r.value, let old = replies[r.old].text.flatMap(Double.init), old != value else { continue }
            ranges.append(["ZRANGEBYSCORE", r.key, String(min(old, value)), String(max(old, value))])
        }
        guard !ranges.isEmpty else { return [] }
        var woken: Set<String> = []
        for reply in try await connection.pipeline(ranges) {
            if case .error(let message) = reply { throw RedisError(code: .reply, message: message) }
            woken.formUnion((reply.array ?? []).compactMap(\.text))
        }
        return woken.subtracting(values.map(\.uscc))
    }

    public func ranks(_ values: [RankedValues], measures: [RankedMeasure]) async throws -> [String: [RankedMeasure: PeerRank]] {
        // Below, equal, all, and the enterprise's own entry (taken out: the counts are of its peers).
        var commands: [[String]] = []
        var asked: [(uscc: String, measure: RankedMeasure, value: Double)] = []
        for enterprise in values {
            for measure in measures {
                guard let key = Self.rankKey(measure, division: enterprise.division, district: enterprise.district),
                    let value = enterprise.values[measure.measure.key], value.isFinite
                else { continue }
                let v = String(value)
                commands += [["ZCOUNT", key, "-inf", "(" + v], ["ZCOUNT", key, v, v], ["ZCARD", key], ["ZSCORE", key, enterprise.uscc]]
                asked.append((enterprise.uscc, measure, value))
            }
        }
        guard !commands.isEmpty else { return [:] }
        let replies = try await connection.pipeline(commands)
        for reply in replies {
            if case .error(let message) = reply { throw RedisError(code: .reply, message: message) }
        }
        var ranks: [String: [RankedMeasure: PeerRank]] = [:]
        for (n, ask) in asked.enumerated() {
            let i = 4 * n
            var (below, equal, all) = (Int(replies[i].integer ?? 0), Int(replies[i + 1].integer ?? 0), Int(replies[i + 2].integer ?? 0))
            if let own = replies[i + 3].text.flatMap(Double.init) {
                all -= 1
                if own < ask.value { below -= 1 } else if own == ask.value { equal -= 1 }
            }
            ranks[ask.uscc, default: [:]][ask.measure] = PeerRank(below: below, equal: equal, peers: all)
        }
        return ranks
    }

    // MARK: Feed clock and absence sweeps

    public func feedClock() async throws -> FeedClock {
        let reply = try await connection.command("HGETALL", Self.feedsKey)
        var clock = FeedClock()
        guard case .array(let items) = reply else { return clock }
        var j = 0
        while j + 1 < items.count {
            if let topic = items[j].text, let day = items[j + 1].text.flatMap(Int.init) { clock.observe(topic: topic, day: Day(day)) }
            j += 2
        }
        return clock
    }

    /// Each topic's latest day only grows, whichever instance writes it and in whatever order.
    public func saveFeedClock(_ clock: FeedClock) async throws {
        guard !clock.latest.isEmpty else { return }
        var command = ["EVAL", Self.feedClockScript, "1", Self.feedsKey]
        for (topic, day) in clock.latest.sorted(by: { $0.key < $1.key }) { command += [topic, String(day.value)] }
        try await run([command.map { Array($0.utf8) }])
    }

    static let feedClockScript = """
        for i = 1, #ARGV, 2 do
          local day = tonumber(ARGV[i + 1])
          if tonumber(redis.call('HGET', KEYS[1], ARGV[i]) or '-1000000') < day then redis.call('HSET', KEYS[1], ARGV[i], day) end
        end
        return 1
        """

    /// The marker, kept on every node of a cluster: a flush of any one master (its ledgers gone)
    /// leaves no marker there, which reads as none.
    public func featureSync() async throws -> FeatureSync? {
        let replies = try await connection.pipeline(connection.keyOnEveryNode(Self.metaKey).map { ["HMGET", $0, "store", "sequence", "keeps", "layout"] })
        var markers: [FeatureSync] = []
        for reply in replies {
            if case .error(let message) = reply { throw RedisError(code: .reply, message: message) }
            guard case .array(let items) = reply, items.count == 4, let store = items[0].text,
                let sequence = items[1].text.flatMap(Int64.init), items[3].text == layout
            else { return heldOnly(nil) }
            markers.append(FeatureSync(storeID: store, sequence: sequence, keeps: items[2].text))
        }
        guard let first = markers.first, markers.allSatisfy({ $0.storeID == first.storeID }) else { return heldOnly(markers.first) }
        return heldOnly(markers.min { $0.sequence < $1.sequence })
    }

    public func keepLedgersRead(_ keep: Bool) {
        cache.withLock { $0.keepsReads = keep }
    }

    public func clear() async throws {
        try await Self.clearAll(connection)
        cache.withLock { cache in
            cache.dropAll()
            cache.marker = nil
        }
    }

    /// The marker as found: a ledger read before it changed under another hand is not kept.
    private func heldOnly(_ marker: FeatureSync?) -> FeatureSync? {
        cache.withLock { cache in
            if cache.marker != marker || marker == nil {
                cache.dropAll()
                cache.marker = marker
            }
        }
        return marker
    }

    /// The sequence only grows (several instances mark batches in any order), unless the marker
    /// names another store; what the ledgers keep is recorded as given.
    public func markSynced(_ sync: FeatureSync) async throws {
        try await run(markCommands(sync))
        cache.withLock { $0.marker = sync }
    }

    private func markCommands(_ sync: FeatureSync) -> [[[UInt8]]] {
        connection.keyOnEveryNode(Self.metaKey).map { key in
            ["EVAL", Self.markScript, "1", key, sync.storeID, String(sync.sequence), sync.keeps ?? "", layout].map { Array($0.utf8) }
        }
    }

    static let markScript = """
        local store = redis.call('HGET', KEYS[1], 'store')
        local sequence = tonumber(redis.call('HGET', KEYS[1], 'sequence') or '-1')
        if store ~= ARGV[1] or sequence < tonumber(ARGV[2]) then
          redis.call('HSET', KEYS[1], 'store', ARGV[1], 'sequence', ARGV[2])
        end
        redis.call('HSET', KEYS[1], 'layout', ARGV[4])
        if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'keeps', ARGV[3]) end
        return 1
        """

    public func entities(in topic: String) async throws -> [EntityKey] {
        let reply = try await connection.command("SMEMBERS", Self.topicEntitiesKey(topic))
        guard case .array(let items) = reply else { return [] }
        return items.compactMap(\.text).sorted().map { EntityKey(.enterprise, $0) }
    }

    /// Deletes a division's months before `before`: their fields of the window hash (`window`, as
    /// `windowSums` read it) and their ledgers (`ledger(month)`). Nothing when there are none.
    static func trimCommands(_ sums: [String: [Month: Double]], before: Month, window: String, ledger: (Month) -> String) -> [[String]] {
        var fields: [String] = [], months: Set<Month> = []
        for (column, byMonth) in sums {
            for month in byMonth.keys where month < before {
                fields.append("\(month)|\(column)")
                months.insert(month)
            }
        }
        guard !fields.isEmpty else { return [] }
        return [["HDEL", window] + fields.sorted()] + months.sorted().map { ["DEL", ledger($0)] }
    }

    /// A window hash (`YYYY-MM|column` → hundredths, `YYYY-MM|#` → count) as column → month → value.
    static func windowSums(_ reply: RedisReply) -> [String: [Month: Double]] {
        guard case .array(let items) = reply else { return [:] }
        var sums: [String: [Month: Double]] = [:]
        var j = 0
        while j + 1 < items.count {
            defer { j += 2 }
            guard let field = items[j].text, let raw = items[j + 1].integer else { continue }
            let parts = field.split(separator: "|")
            guard parts.count == 2, let month = Month(iso: parts[0]) else { continue }
            sums[String(parts[1]), default: [:]][month] = parts[1] == "#" ? Double(raw) : Double(raw) / 100
        }
        return sums
    }
}

/// HINCRBY by minus a decimal string, in Lua (Redis refuses an increment of "-0"); a number
/// written in base 36 (Lua's tonumber reads no sign in base 36); a day's month as the `YYYY-MM` of
/// window fields (`Month.description`).
private let luaSubtract = #"""
local function negated(v)
  return string.sub(v, 1, 1) == '-' and string.sub(v, 2) or ('-' .. v)
end
local function subtract(key, field, v)
  if v == '0' then return end
  redis.call('HINCRBY', key, field, negated(v))
end
local function base36(v)
  if string.sub(v, 1, 1) == '-' then return -tonumber(string.sub(v, 2), 36) end
  return tonumber(v, 36)
end
-- The month of a day (days since 1970-01-01 in base 36) as `YYYY-MM`: Day.civil, in Lua.
local function month(day)
  local z = base36(day) + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524) - math.floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local m = mp < 10 and mp + 3 or mp - 9
  return string.format('%04d-%02d', yoe + era * 400 + (m <= 2 and 1 or 0), m)
end

"""#

/// Applies a run of records of one ledger hash, in order, and their contributions to the
/// enterprise's window (when given), atomically. KEYS[1] ledger, KEYS[2] window (optional). ARGV[1]
/// the window's columns as written ("3,5": `Contribution.written`; empty without a window), then
/// five per record: member, version (base 36: a millisecond timestamp takes 8 characters instead
/// of 13), contribution, payload (event day in base 36 \t fields), and with a window the month of
/// the event day as `YYYY-MM` (empty: the script makes it; given, it spares the script the
/// calendar).
/// Ledger entry: version\tcontribution\tpayload. The contribution is "column=hundredths,…" for a
/// record of a topic with a window ("=" when it has none of the columns: it still counts in its
/// month), empty for one without, and "-" for a deleted record; the month it went to is the event
/// day's.
/// A change older than the ledger's is skipped; one of the same version is skipped when it carries
/// the same content (a re-delivery or re-sent snapshot) and replaces it otherwise (feeds without a
/// version); sums are integers in hundredths, changed by HINCRBY on strings so they stay exact.
/// After each record, a month it subtracted from whose count is 0 is removed, as one call a record
/// did. What records only add to a month is summed in the script and written by one HINCRBY a field
/// at the end (a run's records mostly share their month, and the calls from Lua were most of the
/// script's cost), after which a month it touched whose count is 0 is removed likewise: the window
/// ends as with one call a record.
/// It answers whether it applied each record (a string of 1 and 0), then with a window the window's
/// sums of every month the records touch, as they stand at the end (even for a record it skipped:
/// a push lost in a crash is then made again): month, "#=n,column=v,…", ….
/// The sums come from what the increments answered where they can: a window's month is read back
/// only for columns no record of the run added to (a fifth of Redis's time went to reading back
/// what HINCRBY had just answered). Lua's numbers are doubles, so an answer beyond ±2^53 is read
/// back as the string Redis holds.
let applyScript = luaSubtract + #"""
local window = KEYS[2]
local columns = {}
for col in string.gmatch(ARGV[1], '[^,]+') do columns[#columns + 1] = col end
-- month → field → the value Redis holds (false: none; nil: not known here)
local known = {}
local function know(m, field, v)
  local k = known[m]
  if not k then k = {}; known[m] = k end
  if type(v) == 'number' then
    if v > -9007199254740992 and v < 9007199254740992 then v = string.format('%d', v) else v = nil end
  end
  k[field] = v
end
-- month → field → what the run adds to it, summed here and written once at the end: one HINCRBY a
-- field, not one a record. A month a record subtracts from is written record by record instead
-- (`direct`), since its count may pass 0 there, which removes its fields; and an amount a double
-- cannot hold exactly goes to Redis at once, as text.
local pending, order, direct = {}, {}, {}
local exact = 2251799813685248
local function write(m, field, by)
  know(m, field, redis.call('HINCRBY', window, m .. '|' .. field, by))
end
local function add(m, field, by)
  if direct[m] then return write(m, field, by) end
  local p = pending[m]
  if not p then p = {}; pending[m] = p; order[#order + 1] = m end
  local n = tonumber(by)
  local sum = n and (p[field] or 0) + n
  if sum and sum > -exact and sum < exact and n > -exact and n < exact then
    p[field] = sum
  else
    write(m, field, by)
  end
end
-- Every field added to is written, by 0 too: an increment by 0 makes the field, as it did alone.
local function flush(m)
  for field, sum in pairs(pending[m] or {}) do write(m, field, string.format('%d', sum)) end
  pending[m] = nil
end
local function count(m)
  local n = known[m] and known[m]['#']
  if n == nil then
    n = redis.call('HGET', window, m .. '|#') or false
    know(m, '#', n)
  end
  return n or '0'
end
local flags, months, touched = {}, {}, {}
-- A month whose count is 0 loses its fields.
local function clear(m)
  if count(m) == '0' then
    local fields = {m .. '|#'}
    for _, col in ipairs(columns) do fields[#fields + 1] = m .. '|' .. col end
    redis.call('HDEL', window, unpack(fields))
    known[m] = {['#'] = false}
    for _, col in ipairs(columns) do known[m][col] = false end
  end
end
local function touch(m)
  if not touched[m] then touched[m] = true; months[#months + 1] = m end
  if direct[m] then clear(m) end
end
-- Whether a contribution gave a window its count and sums: an entry written while the topic had
-- no window (empty) gave nothing, nor does a deleted record.
local function counted(contribution) return contribution ~= '' and contribution ~= '-' end
for i = 2, #ARGV, 5 do
  local member, version, contribution, payload = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local entry = version .. '\t' .. contribution .. '\t' .. payload
  -- A member new to the ledger (most of a backfill's) is written by the call that finds it new.
  local old = redis.call('HSETNX', KEYS[1], member, entry) == 0 and redis.call('HGET', KEYS[1], member)
  local oldMonth
  local apply = true
  if old then
    local ov, oc, oday = string.match(old, '^([^\t]*)\t([^\t]*)\t([^\t]*)\t')
    if window then oldMonth = month(oday) end
    if old == entry or base36(ov) > base36(version) then
      apply = false
    elseif window and counted(oc) then
      if not direct[oldMonth] then direct[oldMonth] = true; flush(oldMonth) end
      add(oldMonth, '#', -1)
      for col, v in string.gmatch(oc, '([^,=]+)=(-?%d+)') do
        if v ~= '0' then add(oldMonth, col, negated(v)) end
      end
    end
  end
  local newMonth = window and (ARGV[i + 4] ~= '' and ARGV[i + 4] or month(string.match(payload, '^[^\t]*')))
  if apply then
    if window and counted(contribution) then
      add(newMonth, '#', 1)
      for col, v in string.gmatch(contribution, '([^,=]+)=(-?%d+)') do add(newMonth, col, v) end
    end
    if old then redis.call('HSET', KEYS[1], member, entry) end
  end
  flags[#flags + 1] = apply and '1' or '0'
  if window then
    if oldMonth then touch(oldMonth) end
    if newMonth ~= oldMonth then touch(newMonth) end
  end
end
for _, m in ipairs(order) do flush(m) end
local reply = {table.concat(flags)}
for _, m in ipairs(months) do
  if not direct[m] then clear(m) end
  local n = count(m)
  local text = '#=' .. n
  if n ~= '0' then
    local k, unknown = known[m], {}
    for _, col in ipairs(columns) do
      if k[col] == nil then unknown[#unknown + 1] = m .. '|' .. col end
    end
    if #unknown > 0 then
      local values = redis.call('HMGET', window, unpack(unknown))
      local j = 1
      for _, col in ipairs(columns) do
        if k[col] == nil then k[col] = values[j]; j = j + 1 end
      end
    end
    for _, col in ipairs(columns) do
      if k[col] then text = text .. ',' .. col .. '=' .. k[col] end
    end
  end
  reply[#reply + 1] = m
  reply[#reply + 1] = text
end
return reply
"""#

/// Deletes ledger entries dated before a day. KEYS[1] the ledger, KEYS[2] the enterprise's window
/// (optional); ARGV: the day (base 36), the window's first month kept (`YYYY-MM`, with a window),
/// then the members. An entry is deleted only while its event day is before the day: a member
/// written again since with a later day stays. Answers how many were deleted.
let forgetScript = luaSubtract + #"""
local before = base36(ARGV[1])
if KEYS[2] then
  for _, field in ipairs(redis.call('HKEYS', KEYS[2])) do
    if string.sub(field, 1, 7) < ARGV[2] then redis.call('HDEL', KEYS[2], field) end
  end
end
local n = 0
for i = 3, #ARGV do
  local entry = redis.call('HGET', KEYS[1], ARGV[i])
  local day = entry and string.match(entry, '^[^\t]*\t[^\t]*\t([^\t]*)\t')
  if day and base36(day) < before then
    redis.call('HDEL', KEYS[1], ARGV[i])
    n = n + 1
  end
end
return n
"""#

/// Sets what enterprises give a division's months, applying the difference to the division's
/// window. KEYS[1] the window, KEYS[1 + i] the ledger of item i's month; ARGV: per item the
/// enterprise, the month and its sums ("#=n,column=hundredths,…"; "#=0": nothing). Values are
/// added and subtracted as strings by HINCRBY, so sums stay exact beyond Lua's doubles.
let pushScript = luaSubtract + #"""
for i = 1, #KEYS - 1 do
  local member, month, new = ARGV[3 * i - 2], ARGV[3 * i - 1], ARGV[3 * i]
  local old = redis.call('HGET', KEYS[1 + i], member)
  if old ~= new and not (old == nil and new == '#=0') then
    local before, after = {}, {}
    if old then for col, v in string.gmatch(old, '([^,=]+)=(-?%d+)') do before[col] = v end end
    for col, v in string.gmatch(new, '([^,=]+)=(-?%d+)') do after[col] = v end
    for col, v in pairs(before) do
      if after[col] ~= v then subtract(KEYS[1], month .. '|' .. col, v) end
    end
    for col, v in pairs(after) do
      if before[col] ~= v then redis.call('HINCRBY', KEYS[1], month .. '|' .. col, v) end
    end
    if new == '#=0' then redis.call('HDEL', KEYS[1 + i], member) else redis.call('HSET', KEYS[1 + i], member, new) end
  end
end
return 1
"""#

extension RESP {
    /// `FeatureWindows.entityKey(entity, kind, topic)` as an argument, written in place.
    mutating func entityKey(_ entity: String, _ kind: String, _ topic: String) {
        argument(length: 7 + entity.utf8.count + kind.utf8.count + topic.utf8.count) { out in
            out.append(contentsOf: "cw:{".utf8)
            out.append(contentsOf: entity.utf8)
            out.append(contentsOf: "}:".utf8)
            out.append(contentsOf: kind.utf8)
            out.append(UInt8(ascii: ":"))
            out.append(contentsOf: topic.utf8)
        }
    }
}
