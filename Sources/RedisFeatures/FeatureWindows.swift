import CreditWatchCore
import Logging
import RuleLanguage

/// The feature store on Redis: per-enterprise and per-division event-time windows.
///
/// Layout (hash tags keep each entity's keys in one Redis Cluster slot, so the apply script is
/// atomic per entity; industry keys are tagged by division and updated by the same script with
/// their own ledger, so concurrent daemon instances can update a division safely):
///
///     cw:{E}:rec:T        HASH pk → ledger entry (version, deleted, event day, the record's fields
///                         that the live program reads: `FeaturePlan`)
///     cw:{E}:hist:T       HASH "pk|version" → every version of a record (topics whose history rules
///                         read), with the fields the program reads of them
///     cw:ind:{D}:rec:T    HASH "E|pk" → ledger entry (version, deleted, bucket, contribution)
///     cw:ind:{D}:win:T    HASH "YYYY-MM|column" → sum in hundredths over the division, "YYYY-MM|#" →
///                         record count
///     cw:ind:{D}:members  SET of the division's registered enterprises
///     cw:ind:{D}:alerted  SET of its enterprises with an active high or critical alert
///     cw:ind:{D}:lead     ZSET of its enterprises by the rule set's leader-ranking measure
///     cw:topic:{T}:entities  SET of the entities with records in monthly feed T (absence sweeps)
///     cw:feeds            HASH topic → latest event day delivered (the city's feed clock)
///     cw:meta             HASH store → PostgreSQL store id, sequence → last feature batch applied,
///                         keeps → what the ledgers hold (`FeaturePlan.description`)
///
/// The ledger is what makes every update idempotent: it records the version (and, for a
/// division, the exact contribution a record made), so a re-delivered change is skipped, an
/// update replaces the old entry (subtracting its contribution before adding the new one), and a
/// delete marks it deleted. Raw records stay in PostgreSQL.
public final class FeatureWindows: FeatureStore {
    private let connection: any RedisClient
    /// Monthly feeds: their entities are tracked, so that absence rules can sweep them.
    private let monthlyTopics: Set<String>
    private let logger: Logger
    private let applySHA: String

    /// Registration statuses that take an enterprise out of its division's population.
    static let deregistered: Set<String> = ["注销", "吊销", "迁出"]

    public init(connection: any RedisClient, catalog: TopicCatalog, logger: Logger) async throws {
        self.connection = connection
        self.logger = logger
        self.monthlyTopics = Set(catalog.topics.values.filter { $0.cadence.expected == .monthly }.map(\.name))
        self.applySHA = try await Self.loadScript(connection)
        // Ledger entries are ~70 bytes: below 128 Redis keeps each ledger as a hashtable, about a
        // quarter more memory (README). CONFIG may be refused (managed Redis): then say nothing.
        for reply in try await connection.everyNode(["CONFIG", "GET", "hash-max-listpack-value"]) {
            guard case .array(let pair) = reply, pair.count == 2, let value = pair[1].integer, value < 128 else { continue }
            logger.notice("Redis hash-max-listpack-value is \(value): 128 keeps the feature ledgers about a quarter smaller")
        }
    }

    static let feedsKey = "cw:feeds"
    /// What this Redis holds: the store of record's identity and the feature sequence (`FeatureSync`).
    static let metaKey = "cw:meta"
    static func topicEntitiesKey(_ topic: String) -> String { "cw:topic:{\(topic)}:entities" }

    /// Loads the apply script on every node (a cluster's masters each keep their own script cache).
    private static func loadScript(_ connection: any RedisClient) async throws -> String {
        let replies = try await connection.everyNode(["SCRIPT", "LOAD", applyScript])
        guard let sha = replies.first?.text, replies.allSatisfy({ $0.text == sha }) else {
            throw RedisError(code: .reply, message: "SCRIPT LOAD: \(replies)")
        }
        return sha
    }

    static func entityKey(_ entity: String, _ kind: String, _ topic: String) -> String { "cw:{\(entity)}:\(kind):\(topic)" }
    static func industryKey(_ division: String, _ kind: String) -> String { "cw:ind:{\(division)}:\(kind)" }

    // MARK: Apply

    public func apply(_ updates: [FeatureUpdate], plan: FeaturePlan) async throws {
        var commands: [[[UInt8]]] = []
        commands.reserveCapacity(updates.count * 2)
        let industryColumns = Self.columnsByTopic(plan.industrySeries)
        var tracked: Set<String> = []  // "topic entity" added to a feed's entities in this call
        for update in updates {
            let change = update.change
            let entity = update.entity.id
            let deleted = change.operation == .delete
            let bucket = change.eventDay.month.description
            commands.append(applyCommand(
                ledger: Self.entityKey(entity, "rec", change.topic), window: nil,
                member: change.key, version: change.version, deleted: deleted, bucket: bucket, contribution: "",
                payload: Self.payload(change.eventDay, plan.kept(change.fields, topic: change.topic))))
            if monthlyTopics.contains(change.topic), !deleted, tracked.insert("\(change.topic) \(entity)").inserted {
                commands.append(["SADD", Self.topicEntitiesKey(change.topic), entity].map { Array($0.utf8) })
            }
            if plan.historyFields[change.topic] != nil, !deleted {
                // HSET, not HSETNX: a rebuild for a program that reads more of the versions rewrites them.
                commands.append(
                    ["HSET", Self.entityKey(entity, "hist", change.topic), "\(change.key)|\(change.version)"].map { Array($0.utf8) }
                        + [Self.payload(change.eventDay, plan.keptVersion(change.fields, topic: change.topic))])
            }
            if let division = update.division, update.entity.kind == .enterprise {
                if let columns = industryColumns[change.topic] {
                    commands.append(applyCommand(
                        ledger: Self.industryKey(division, "rec:\(change.topic)"),
                        window: Self.industryKey(division, "win:\(change.topic)"),
                        member: "\(entity)|\(change.key)", version: change.version, deleted: deleted, bucket: bucket,
                        contribution: deleted ? "" : Contribution.encode(change.fields, columns: columns), payload: []))
                }
                if change.topic == "market.enterprise" {
                    commands.append(contentsOf: membershipCommands(update, division: division))
                }
            }
        }
        try await run(commands)
    }

    public func move(_ moves: [DivisionMove], plan: FeaturePlan) async throws {
        let industryColumns = Self.columnsByTopic(plan.industrySeries)
        var commands: [[[UInt8]]] = []
        for move in moves {
            let change = move.change
            guard let columns = industryColumns[change.topic] else { continue }
            let member = "\(move.uscc)|\(change.key)"
            let bucket = change.eventDay.month.description
            if let from = move.from, from != move.to {
                // A delete of the same version replaces the entry, so its contribution is subtracted.
                commands.append(applyCommand(
                    ledger: Self.industryKey(from, "rec:\(change.topic)"), window: Self.industryKey(from, "win:\(change.topic)"),
                    member: member, version: change.version, deleted: true, bucket: bucket, contribution: "", payload: []))
            }
            commands.append(applyCommand(
                ledger: Self.industryKey(move.to, "rec:\(change.topic)"), window: Self.industryKey(move.to, "win:\(change.topic)"),
                member: member, version: change.version, deleted: false, bucket: bucket,
                contribution: Contribution.encode(change.fields, columns: columns), payload: []))
        }
        try await run(commands)
    }

    private func membershipCommands(_ update: FeatureUpdate, division: String) -> [[[UInt8]]] {
        var status: String?
        if case .string(let s)? = update.change.fields["status"] { status = s }
        let leaves = update.change.operation == .delete || status.map(Self.deregistered.contains) == true
        var commands: [[String]] = []
        if let previous = update.previousDivision, previous != division {
            commands.append(["SREM", Self.industryKey(previous, "members"), update.entity.id])
        }
        commands.append([leaves ? "SREM" : "SADD", Self.industryKey(division, "members"), update.entity.id])
        return commands.map { $0.map { Array($0.utf8) } }
    }

    /// `eventDay \t fields`: what the ledger and the history keep of a record.
    static func payload(_ eventDay: Day, _ fields: [String: Value]) -> [UInt8] {
        var payload = Array("\(eventDay.value)\t".utf8)
        RecordCodec.encode(fields, into: &payload)
        return payload
    }

    private func applyCommand(
        ledger: String, window: String?, member: String, version: Int64, deleted: Bool, bucket: String,
        contribution: String, payload: [UInt8]
    ) -> [[UInt8]] {
        let keys = window.map { ["2", ledger, $0] } ?? ["1", ledger]
        return (["EVALSHA", applySHA] + keys + [member, String(version), deleted ? "1" : "0", bucket, contribution])
            .map { Array($0.utf8) } + [payload]
    }

    /// Runs a pipeline; reloads the script and retries once when Redis lost its script cache
    /// (a restart), which is safe because every command is idempotent.
    private func run(_ commands: [[[UInt8]]]) async throws {
        var replies = try await connection.pipeline(commands)
        if replies.contains(where: { if case .error(let e) = $0 { e.hasPrefix("NOSCRIPT") } else { false } }) {
            _ = try await Self.loadScript(connection)
            replies = try await connection.pipeline(commands)
        }
        for reply in replies {
            if case .error(let message) = reply { throw RedisError(code: .reply, message: message) }
        }
    }

    static func columnsByTopic(_ series: Set<String>) -> [String: [String]] {
        var columns: [String: [String]] = [:]
        for item in series {
            guard let dot = item.lastIndex(of: ".") else { continue }
            columns[String(item[..<dot]), default: []].append(String(item[item.index(after: dot)...]))
        }
        return columns.mapValues { $0.sorted() }
    }

    // MARK: Read

    public func records(of entities: [EntityKey], plan: FeaturePlan) async throws -> [EntityKey: [String: [FactRecord]]] {
        let topicList = plan.readTopics.sorted()
        let historyList = plan.historyTopics.sorted()
        var commands: [[String]] = []
        for entity in entities {
            for topic in topicList { commands.append(["HGETALL", Self.entityKey(entity.id, "rec", topic)]) }
            for topic in historyList { commands.append(["HGETALL", Self.entityKey(entity.id, "hist", topic)]) }
        }
        let replies = try await connection.pipeline(commands)
        var result: [EntityKey: [String: [FactRecord]]] = [:]
        var i = 0
        for entity in entities {
            var byTopic: [String: [FactRecord]] = [:]
            for topic in topicList {
                byTopic[topic] = Self.ledgerRecords(replies[i], topic: topic)
                i += 1
            }
            for topic in historyList {
                byTopic[topic + RuleProgram.historySuffix] = Self.historyRecords(replies[i], topic: topic)
                i += 1
            }
            result[entity] = byTopic
        }
        return result
    }

    /// Current (not deleted) records of a ledger hash, in key order.
    static func ledgerRecords(_ reply: RedisReply, topic: String) -> [FactRecord] {
        guard case .array(let items) = reply else { return [] }
        var records: [FactRecord] = []
        records.reserveCapacity(items.count / 2)
        var i = 0
        while i + 1 < items.count {
            defer { i += 2 }
            guard case .string(let keyBytes) = items[i], case .string(let value) = items[i + 1] else { continue }
            // version \t deleted \t bucket \t contribution \t eventDay \t record
            let parts = value.split(separator: 0x09, maxSplits: 5, omittingEmptySubsequences: false)
            guard parts.count == 6, parts[1].first == UInt8(ascii: "0"),
                let day = Int(String(decoding: parts[4], as: UTF8.self)),
                let fields = RecordCodec.decode(parts[5])
            else { continue }
            records.append(FactRecord(topic: topic, key: String(decoding: keyBytes, as: UTF8.self), eventDay: Day(day), fields: fields))
        }
        return records.sorted { $0.key < $1.key }
    }

    static func historyRecords(_ reply: RedisReply, topic: String) -> [FactRecord] {
        guard case .array(let items) = reply else { return [] }
        var records: [FactRecord] = []
        var i = 0
        while i + 1 < items.count {
            defer { i += 2 }
            guard case .string(let keyBytes) = items[i], case .string(let value) = items[i + 1] else { continue }
            let parts = value.split(separator: 0x09, maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, let day = Int(String(decoding: parts[0], as: UTF8.self)),
                let fields = RecordCodec.decode(parts[1])
            else { continue }
            records.append(FactRecord(topic: topic + RuleProgram.historySuffix, key: String(decoding: keyBytes, as: UTF8.self), eventDay: Day(day), fields: fields))
        }
        return records.sorted { ($0.eventDay, $0.key) < ($1.eventDay, $1.key) }
    }

    public func industries(
        _ divisions: Set<String>, standings: [IndustryStanding], series: Set<String>, leaders: Int,
        asOf: [String: Day]
    ) async throws -> [IndustryData] {
        var commands: [[String]] = []
        for standing in standings {
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
        let columns = Self.columnsByTopic(series)
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
        }
        let replies = try await connection.pipeline(commands)
        for reply in replies[..<prefix] {
            if case .error(let message) = reply { throw RedisError(code: .reply, message: message) }
        }
        var i = prefix
        var partial: [(division: String, population: Int, alerted: Int, sums: [String: [Month: Double]], top: [(String, Double)])] = []
        for division in divisionList {
            let population = Int(replies[i].integer ?? 0)
            let alertedCount = Int(replies[i + 1].integer ?? 0)
            i += 2
            var sums: [String: [Month: Double]] = [:]
            for topic in seriesTopics {
                let wanted = Set(columns[topic]!)
                for (column, months) in Self.windowSums(replies[i]) where wanted.contains(column) {
                    sums["\(topic).\(column)"] = months
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
            partial.append((division, population, alertedCount, sums, top))
        }
        // Which leaders have an active high alert: a second round trip, only when ranking.
        var alertedLeaders: [String: Set<String>] = [:]
        let asks = partial.filter { !$0.top.isEmpty }
        if !asks.isEmpty {
            let replies = try await connection.pipeline(asks.map { ["SMISMEMBER", Self.industryKey($0.division, "alerted")] + $0.top.map(\.0) })
            for (ask, reply) in zip(asks, replies) {
                guard case .array(let flags) = reply else { continue }
                alertedLeaders[ask.division] = Set(zip(ask.top, flags).filter { $0.1.integer == 1 }.map(\.0.0))
            }
        }
        return partial.map { p in
            IndustryData(
                division: p.division, asOf: asOf[p.division] ?? Day(0), population: p.population, alerted: p.alerted,
                monthlySums: p.sums,
                leaders: p.top.map { IndustryLeader(uscc: $0.0, measure: $0.1, alerted: alertedLeaders[p.division]?.contains($0.0) == true) })
        }
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

    public func featureSync() async throws -> FeatureSync? {
        let reply = try await connection.command("HMGET", Self.metaKey, "store", "sequence", "keeps")
        if case .error(let message) = reply { throw RedisError(code: .reply, message: message) }
        guard case .array(let items) = reply, items.count == 3, let store = items[0].text,
            let sequence = items[1].text.flatMap(Int64.init)
        else { return nil }
        return FeatureSync(storeID: store, sequence: sequence, keeps: items[2].text)
    }

    /// The sequence only grows (several instances mark batches in any order), unless the marker
    /// names another store; what the ledgers keep is recorded as given.
    public func markSynced(_ sync: FeatureSync) async throws {
        try await run([["EVAL", Self.markScript, "1", Self.metaKey, sync.storeID, String(sync.sequence), sync.keeps ?? ""].map { Array($0.utf8) }])
    }

    static let markScript = """
        local store = redis.call('HGET', KEYS[1], 'store')
        local sequence = tonumber(redis.call('HGET', KEYS[1], 'sequence') or '-1')
        if store ~= ARGV[1] or sequence < tonumber(ARGV[2]) then
          redis.call('HSET', KEYS[1], 'store', ARGV[1], 'sequence', ARGV[2])
        end
        if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'keeps', ARGV[3]) end
        return 1
        """

    public func entities(in topic: String) async throws -> [EntityKey] {
        let reply = try await connection.command("SMEMBERS", Self.topicEntitiesKey(topic))
        guard case .array(let items) = reply else { return [] }
        return items.compactMap(\.text).sorted().map { EntityKey(.enterprise, $0) }
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

/// Applies one record to a ledger hash and its contribution to a window hash (when given), atomically.
/// KEYS[1] ledger, KEYS[2] window (optional). ARGV: member, version, deleted (0/1), bucket,
/// contribution ("column=hundredths,..."), payload. Ledger entry: version\tdeleted\tbucket\tcontribution\tpayload.
/// A change older than the ledger's is skipped; one of the same version is skipped when it carries
/// the same content (a re-delivery or re-sent snapshot) and replaces it otherwise (feeds without a
/// version); sums are integers in hundredths so subtraction is exact.
let applyScript = #"""
local entry = ARGV[2] .. '\t' .. ARGV[3] .. '\t' .. ARGV[4] .. '\t' .. ARGV[5] .. '\t' .. ARGV[6]
local old = redis.call('HGET', KEYS[1], ARGV[1])
if old then
  if old == entry then return 0 end
  local ov, od, ob, oc = string.match(old, '^([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t')
  if tonumber(ov) > tonumber(ARGV[2]) then return 0 end
  if od == '0' and KEYS[2] then
    redis.call('HINCRBY', KEYS[2], ob .. '|#', -1)
    for col, v in string.gmatch(oc, '([^,=]+)=(-?%d+)') do
      local negated = string.sub(v, 1, 1) == '-' and string.sub(v, 2) or ('-' .. v)
      redis.call('HINCRBY', KEYS[2], ob .. '|' .. col, negated)
    end
  end
end
if ARGV[3] == '0' and KEYS[2] then
  redis.call('HINCRBY', KEYS[2], ARGV[4] .. '|#', 1)
  for col, v in string.gmatch(ARGV[5], '([^,=]+)=(-?%d+)') do
    redis.call('HINCRBY', KEYS[2], ARGV[4] .. '|' .. col, v)
  end
end
redis.call('HSET', KEYS[1], ARGV[1], entry)
return 1
"""#
