import CRdKafka
import CreditWatchCore
import Dispatch
import Foundation
import Logging
import Metrics
import Synchronization

/// A consumer-group member that hands the engine batches of messages and commits offsets only
/// when told to (after the batch's effects are durable).
///
/// A dedicated thread polls librdkafka (polls block, so they never run on the cooperative pool)
/// and keeps serving group heartbeats and rebalances while the engine works. Fetched messages
/// wait in a bounded buffer; when it passes `maxBufferedMessages` or `maxBufferedBytes` the
/// consumer pauses its partitions, and resumes them once the engine has drained half of it —
/// pull-based back-pressure, so memory stays bounded whatever the input rate and message size.
public final class KafkaConsumer: @unchecked Sendable {
    // Safety: `handle` is thread-safe per librdkafka; the buffer and flags are guarded by `lock`.
    private let handle: OpaquePointer
    private let configuration: KafkaConfiguration
    private let logger: Logger
    private let lock = NSCondition()
    private var buffer: [InboundMessage] = []
    private var bufferStart = 0
    /// The bytes of `buffer[bufferStart...]`.
    private var bufferedBytes = 0
    /// When the oldest message still buffered arrived: a batch's fill time counts from there, so
    /// messages that waited while the engine processed the previous batch go at once.
    private var oldestArrival = ContinuousClock.now
    private var paused = false
    private var stopping = false
    private var pollerDone = false
    /// What librdkafka last said about reaching the cluster (its error callback), until a message
    /// arrives or the cluster answers again.
    private let brokers: BrokerWatch
    private var lastProbe = ContinuousClock.now
    private var closed = false
    /// Partitions (`topic/partition`, prefixed) whose end librdkafka reported after the last message
    /// it delivered from them: nothing more was there when it last fetched.
    private var atEnd: Set<Partition> = []
    /// End-of-partition reports so far: a waiting batch looks at `atEnd` again when this moved.
    private var endReports = 0
    /// Reading live (see `isCaughtUp`).
    private var live = false
    private let pauses = Counter(label: "creditwatch.ingest.pauses")

    /// The changes topic this consumer reads (`routed`): its messages are the departments' as a
    /// router forwarded them (`RoutedMessage`).
    private let routedTopic: String?
    /// The router whose consumer group fills the changes topic: this consumer is caught up only
    /// once that group has forwarded everything there is (see `isCaughtUp`).
    private let upstream: KafkaConsumer?
    /// The subscribed topics, prefixed.
    private let subscribedTopics: [String]
    /// Group lags are asked of the brokers at most this often (each is a request per partition).
    private var lastGroupCheck: (at: ContinuousClock.Instant, lag: Int64)?

    /// `topics` are catalog topics (the prefix is added). With `routed`, the consumer reads that
    /// topic, which a `ChangeRouter` fills from `upstream`'s group, instead.
    public init(
        configuration: KafkaConfiguration, topics: [String], logger: Logger, routed: String? = nil, upstream: KafkaConsumer? = nil
    ) throws {
        try LibrdkafkaVersion.check()
        self.configuration = configuration
        self.routedTopic = routed.map { configuration.topicPrefix + $0 }
        self.upstream = upstream
        self.subscribedTopics = (routed.map { [$0] } ?? topics).map { configuration.topicPrefix + $0 }
        self.logger = logger
        self.brokers = BrokerWatch(logger: logger)
        var properties: [(String, String)] = [
            ("bootstrap.servers", configuration.brokers),
            ("group.id", configuration.groupID),
            ("client.id", "creditwatch"),
            ("enable.auto.commit", "false"),
            ("enable.auto.offset.store", "false"),
            ("auto.offset.reset", "earliest"),
            // The end of each partition is reported, so the engine knows when it has read all there
            // is (`isCaughtUp`): evaluation waits for that while a backlog drains.
            ("enable.partition.eof", "true"),
            ("session.timeout.ms", String(configuration.sessionTimeoutMilliseconds)),
            ("heartbeat.interval.ms", String(max(configuration.sessionTimeoutMilliseconds / 6, 100))),
            // Prefetch per partition. Measured with `creditwatch topics drain` on one partition per
            // topic: 32 MiB reads 193–298 k messages/s, 4 MiB only 34 k, for the same peak RSS
            // (the engine's buffer pauses the partitions when it is full, which bounds memory).
            ("queued.max.messages.kbytes", "32768"),
            // Small fetches per partition keep the partitions of a topic close together in event
            // time while a backlog drains (evaluation waits for all of them anyway: see
            // `isCaughtUp`), and each fetch small next to the engine's buffer.
            ("max.partition.fetch.bytes", String(configuration.maxPartitionFetchBytes)),
            ("fetch.wait.max.ms", String(configuration.fetchWaitMilliseconds)),
            ("log_level", "4"),
        ]
        properties += configuration.properties.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        let brokers = self.brokers
        handle = try newClient(RD_KAFKA_CONSUMER, properties) { conf in
            rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(brokers).toOpaque())
            rd_kafka_conf_set_error_cb(conf) { _, code, reason, opaque in
                guard let opaque else { return }
                let watch = Unmanaged<BrokerWatch>.fromOpaque(opaque).takeUnretainedValue()
                watch.failed(code: code, reason: reason.map { String(cString: $0) } ?? "")
            }
        }
        rd_kafka_poll_set_consumer(handle)
        let list = rd_kafka_topic_partition_list_new(Int32(subscribedTopics.count))!
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for topic in subscribedTopics { rd_kafka_topic_partition_list_add(list, topic, RD_KAFKA_PARTITION_UA) }
        let err = rd_kafka_subscribe(handle, list)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            closed = true  // deinit destroys the handle; there is no group to leave
            throw KafkaError(.client, err)
        }
        let thread = Thread { [weak self] in self?.pollLoop() }
        thread.name = "creditwatch.kafka.poll"
        thread.start()
    }

    deinit {
        if !closed { rd_kafka_consumer_close(handle) }
        rd_kafka_destroy(handle)
    }

    private func pollLoop() {
        while true {
            lock.lock()
            if stopping { pollerDone = true; lock.broadcast(); lock.unlock(); return }
            let buffered = buffer.count - bufferStart
            if !paused, buffered >= configuration.maxBufferedMessages || bufferedBytes >= configuration.maxBufferedBytes {
                paused = true
                setPaused(true)
                pauses.increment()
            } else if paused, buffered <= configuration.maxBufferedMessages / 2, bufferedBytes <= configuration.maxBufferedBytes / 2 {
                paused = false
                setPaused(false)
            }
            lock.unlock()

            guard let message = rd_kafka_consumer_poll(handle, 100) else {
                probeBrokers()
                continue
            }
            defer { rd_kafka_message_destroy(message) }
            let m = message.pointee
            if m.err == RD_KAFKA_RESP_ERR__PARTITION_EOF {
                let partition = Partition(topic: String(cString: rd_kafka_topic_name(m.rkt)), partition: m.partition)
                lock.lock()
                atEnd.insert(partition)
                endReports += 1
                lock.broadcast()
                lock.unlock()
                continue
            }
            if m.err != RD_KAFKA_RESP_ERR_NO_ERROR {
                logger.warning("kafka consumer error", metadata: ["error": "\(String(cString: rd_kafka_err2str(m.err)))"])
                continue
            }
            brokers.reached()
            let topic = String(cString: rd_kafka_topic_name(m.rkt))
            var inbound = InboundMessage(
                topic: String(topic.dropFirst(configuration.topicPrefix.count)), partition: m.partition, offset: m.offset,
                key: m.key.map { Array(UnsafeRawBufferPointer(start: $0, count: m.key_len)) },
                value: m.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: m.len)) })
            // A frame that is not one goes on as it is: the engine quarantines it (unknown topic).
            if topic == routedTopic, let value = inbound.value,
                let forwarded = RoutedMessage.decode(value, delivery: inbound.deliveredAt)
            {
                inbound = forwarded
            }
            lock.lock()
            if !atEnd.isEmpty { atEnd.remove(Partition(topic: topic, partition: m.partition)) }
            if buffer.count == bufferStart { oldestArrival = .now }
            buffer.append(inbound)
            bufferedBytes += inbound.bytes
            lock.broadcast()
            lock.unlock()
        }
    }

    /// A partition of a (prefixed) topic.
    struct Partition: Hashable {
        let topic: String
        let partition: Int32

        init(topic: String, partition: Int32) {
            self.topic = topic
            self.partition = partition
        }

        /// The partition an element of a librdkafka partition list names.
        init(_ element: rd_kafka_topic_partition_t) {
            self.init(topic: String(cString: element.topic), partition: element.partition)
        }
    }

    /// Whether ingest reads live rather than draining a backlog (a department's history sent at
    /// once, a restart after an outage, partitions taken over in a rebalance). It starts draining;
    /// it is live once the engine has been handed everything there is (nothing buffered, and
    /// librdkafka reported the end of every assigned partition after its last message), and
    /// drains again when more than `backlogMessages` wait (buffered, or fetchable by the cached
    /// high watermarks). The hysteresis keeps a live stream live, though its partitions are
    /// rarely all at their end at once.
    ///
    /// Reading a changes topic, everything there is means the whole city's: the router group has
    /// forwarded every department message (its committed offsets are at the high watermarks), the
    /// other instances have processed (and committed) every message of their partitions, and this
    /// one has been handed every message of its own. Work deferred while any of them drained is
    /// then in the store of record.
    public var isCaughtUp: Bool {
        get async {
            await withCheckedContinuation { continuation in
                DispatchQueue.global().async { continuation.resume(returning: self.checkCaughtUp()) }
            }
        }
    }

    private func checkCaughtUp() -> Bool {
        let assigned = assigned()
        let fetchable = lag(assigned)
        lock.lock()
        let buffered = buffer.count - bufferStart
        let (wasLive, ownAtEnd) = (live, buffered == 0 && allAtEnd(assigned))
        lock.unlock()
        var nowLive = wasLive
        if wasLive {
            let waiting = Int64(buffered) + fetchable + (routedTopic == nil ? 0 : groupLag(assigned: assigned, cached: true))
            if waiting > Int64(configuration.backlogMessages) { nowLive = false }
        } else if ownAtEnd {
            // Reading a changes topic, the end of a partition may have been reported before the
            // router forwarded its last messages and committed: its own partitions are then asked
            // again, after the router's lag, for what was forwarded meanwhile (and polled since).
            nowLive = routedTopic == nil || (groupLag(assigned: assigned, cached: false) == 0 && lag(assigned, asking: true) == 0)
        }
        lock.lock()
        if nowLive, !wasLive, buffer.count > bufferStart { nowLive = false }
        live = nowLive
        lock.unlock()
        return nowLive
    }

    /// What the city's other readers have not finished: the router group's lag on the departments'
    /// topics, then this group's on the changes topic's partitions of the other instances (in that
    /// order, so that a message forwarded meanwhile is counted). `cached`: a figure up to a second
    /// old will do (else up to 0.1 s: an idle instance waiting for the others asks no more often).
    private func groupLag(assigned: [Partition], cached: Bool) -> Int64 {
        if let last = lastGroupCheck, ContinuousClock.now - last.at < (cached ? .seconds(1) : .milliseconds(100)) { return last.lag }
        var lag = upstream?.committedLag(excluding: []) ?? 0
        if lag == 0 { lag += committedLag(excluding: Set(assigned)) }
        lastGroupCheck = (.now, lag)
        return lag
    }

    /// Messages between this group's committed offsets and the high watermarks, over every
    /// partition of the subscribed topics but `excluding` (a partition without a committed offset
    /// counts from its low watermark). Asks the brokers; a failed request counts as one message
    /// (not caught up).
    func committedLag(excluding: Set<Partition>) -> Int64 {
        var metadata: UnsafePointer<rd_kafka_metadata>?
        guard rd_kafka_metadata(handle, 1, nil, &metadata, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else { return 1 }
        defer { rd_kafka_metadata_destroy(metadata) }
        let topics = Set(subscribedTopics)
        var partitions: [Partition] = []
        for t in 0..<Int(metadata.pointee.topic_cnt) {
            let topic = metadata.pointee.topics[t]
            let name = String(cString: topic.topic)
            guard topics.contains(name) else { continue }
            for p in 0..<Int(topic.partition_cnt) {
                let partition = Partition(topic: name, partition: topic.partitions[p].id)
                if !excluding.contains(partition) { partitions.append(partition) }
            }
        }
        guard !partitions.isEmpty, let list = rd_kafka_topic_partition_list_new(Int32(partitions.count)) else { return 0 }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for p in partitions { rd_kafka_topic_partition_list_add(list, p.topic, p.partition) }
        guard rd_kafka_committed(handle, list, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR else { return 1 }
        var committed: [Partition: Int64] = [:]
        for i in 0..<Int(list.pointee.cnt) {
            let element = list.pointee.elems[i]
            committed[Partition(element)] = element.offset
        }
        let uncommitted = partitions.filter { (committed[$0] ?? -1) < 0 }
        guard let high = offsets(partitions, at: .latest),
            let low = uncommitted.isEmpty ? [:] : offsets(uncommitted, at: .earliest)
        else { return 1 }
        return partitions.reduce(0) { total, p in
            let from = committed[p].flatMap { $0 >= 0 ? $0 : nil } ?? low[p] ?? 0
            return total + max(0, (high[p] ?? 0) - from)
        }
    }

    enum LogEnd: Int64 {
        // ListOffsets' special timestamps.
        case latest = -1, earliest = -2
    }

    /// The partitions' first or next offsets as the brokers say now, in one ListOffsets request
    /// per broker (asking partition by partition took ~0.1 s each from Tansu: seconds for the
    /// department topics' partitions whenever an instance checked whether the city had caught
    /// up); nil when any is not known.
    private func offsets(_ partitions: [Partition], at end: LogEnd) -> [Partition: Int64]? {
        guard !partitions.isEmpty else { return [:] }
        guard let list = rd_kafka_topic_partition_list_new(Int32(partitions.count)) else { return nil }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for p in partitions { rd_kafka_topic_partition_list_add(list, p.topic, p.partition).pointee.offset = end.rawValue }
        guard rd_kafka_offsets_for_times(handle, list, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR else { return nil }
        var result: [Partition: Int64] = [:]
        for i in 0..<Int(list.pointee.cnt) {
            let element = list.pointee.elems[i]
            guard element.err == RD_KAFKA_RESP_ERR_NO_ERROR, element.offset >= 0 else { return nil }
            result[Partition(element)] = element.offset
        }
        return result
    }

    /// The partitions of the changes topic assigned to this instance (see `Ownership`).
    public func ownership(partitions: Int32) -> Ownership {
        guard let routedTopic else { return .whole }
        return Ownership(partitions: partitions, owned: Set(assigned().filter { $0.topic == routedTopic }.map(\.partition)))
    }

    /// Messages after the consumer's position up to each assigned partition's high watermark, as
    /// librdkafka last learned them from a fetch (no request), or as the brokers say now when
    /// `asking`; a partition not read yet counts 0.
    private func lag(_ assigned: [Partition], asking: Bool = false) -> Int64 {
        guard !assigned.isEmpty, let list = rd_kafka_topic_partition_list_new(Int32(assigned.count)) else { return 0 }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for p in assigned { rd_kafka_topic_partition_list_add(list, p.topic, p.partition) }
        guard rd_kafka_position(handle, list) == RD_KAFKA_RESP_ERR_NO_ERROR else { return 0 }
        let asked = asking ? offsets(assigned, at: .latest) : nil
        if asking, asked == nil { return 1 }  // not known to be read to the end
        var total: Int64 = 0
        for i in 0..<Int(list.pointee.cnt) {
            let element = list.pointee.elems[i]
            guard element.offset >= 0 else { continue }
            var low: Int64 = 0
            var high: Int64 = 0
            if let asked {
                high = asked[Partition(element)] ?? 0
            } else if rd_kafka_get_watermark_offsets(handle, element.topic, element.partition, &low, &high) != RD_KAFKA_RESP_ERR_NO_ERROR {
                continue
            }
            total += max(0, high - element.offset)
        }
        return total
    }

    /// Why the cluster cannot be reached now (nil: it can, as far as librdkafka knows): ingest
    /// reports it as an outage of `kafka` in `/health`.
    public var brokerProblem: String? { brokers.problem }

    /// While the cluster is unreachable and nothing arrives, asks it for metadata once a second:
    /// an answer means it is back (an idle stream sends no message that would say so).
    private func probeBrokers() {
        guard brokers.problem != nil, ContinuousClock.now - lastProbe >= .seconds(1) else { return }
        lastProbe = .now
        var metadata: UnsafePointer<rd_kafka_metadata>?
        if rd_kafka_metadata(handle, 0, nil, &metadata, 1000) == RD_KAFKA_RESP_ERR_NO_ERROR {
            brokers.reached()
        }
        if let metadata { rd_kafka_metadata_destroy(metadata) }
    }

    /// Must be called with `lock` held.
    private func setPaused(_ pause: Bool) {
        var assignment: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
        guard rd_kafka_assignment(handle, &assignment) == RD_KAFKA_RESP_ERR_NO_ERROR, let assignment else { return }
        defer { rd_kafka_topic_partition_list_destroy(assignment) }
        _ = pause ? rd_kafka_pause_partitions(handle, assignment) : rd_kafka_resume_partitions(handle, assignment)
        logger.info(pause ? "ingest paused: engine is behind" : "ingest resumed", metadata: ["partitions": "\(assignment.pointee.cnt)"])
    }

    /// The next batch: waits until `batchSize` messages are buffered or `batchTimeout` passed since
    /// the oldest of them arrived (a linger, as a producer's); returns an empty batch after `idleTimeout` with nothing, or as soon
    /// as ingest has caught up when `orWhenCaughtUp` (work that waited for the backlog can go on).
    public func nextBatch(idleTimeout: Duration = .seconds(1), orWhenCaughtUp: Bool = false) async -> [InboundMessage] {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: self.takeBatch(idleTimeout: idleTimeout, orWhenCaughtUp: orWhenCaughtUp))
            }
        }
    }

    private func takeBatch(idleTimeout: Duration, orWhenCaughtUp: Bool) -> [InboundMessage] {
        let assigned = assigned()
        lock.lock()
        defer { lock.unlock() }
        let idleDeadline = Date(timeIntervalSinceNow: Self.seconds(idleTimeout))
        var seenEnds = -1
        while buffer.count == bufferStart, !stopping {
            if orWhenCaughtUp, seenEnds != endReports {
                seenEnds = endReports
                if allAtEnd(assigned) { return [] }
            }
            if !lock.wait(until: idleDeadline) { return [] }
        }
        let fillDeadline = oldestArrival + .milliseconds(configuration.batchTimeoutMilliseconds)
        while !batchBuffered, !stopping {
            let left = fillDeadline - .now
            if left <= .zero || !lock.wait(until: Date(timeIntervalSinceNow: Self.seconds(left))) { break }
        }
        return takeBuffered()
    }

    /// A full batch when one is buffered already (a backlog), else nil; never waits.
    public func fullBatchIfBuffered() -> [InboundMessage]? {
        lock.lock()
        defer { lock.unlock() }
        guard batchBuffered, !stopping else { return nil }
        return takeBuffered()
    }

    /// Whether a whole batch is buffered: `batchSize` messages or `batchBytes` bytes (`lock` held).
    private var batchBuffered: Bool {
        buffer.count - bufferStart >= configuration.batchSize || bufferedBytes >= configuration.batchBytes
    }

    /// Up to a batch's worth of the buffered messages (`batchSize`, `batchBytes`; at least one),
    /// oldest first (`lock` held).
    private func takeBuffered() -> [InboundMessage] {
        var end = bufferStart
        var bytes = 0
        while end < buffer.count, end - bufferStart < configuration.batchSize,
            end == bufferStart || bytes + buffer[end].bytes <= configuration.batchBytes
        {
            bytes += buffer[end].bytes
            end += 1
        }
        let batch = Array(buffer[bufferStart..<end])
        bufferedBytes -= bytes
        bufferStart = end
        if bufferStart > 65_536 || bufferStart == buffer.count {
            buffer.removeFirst(bufferStart)
            bufferStart = 0
        }
        return batch
    }

    private static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    /// Commits the offsets after the last message of each partition in `batch`: synchronously, or
    /// with `waiting` false only handed to librdkafka, which sends them in order in the background
    /// (a commit lost with a crash or a rebalance means re-delivery, which the engine's idempotent
    /// effects absorb; the broker's answer is one round trip less between live batches).
    public func commit(_ batch: [InboundMessage], waiting: Bool = true) async throws {
        var offsets: [String: [Int32: Int64]] = [:]
        for m in batch.map(\.deliveredAt) {
            offsets[m.topic, default: [:]][m.partition] = max(offsets[m.topic]?[m.partition] ?? 0, m.offset + 1)
        }
        if offsets.isEmpty { return }
        let next = offsets
        @Sendable func commitNow(async: Bool) -> rd_kafka_resp_err_t {
            let list = rd_kafka_topic_partition_list_new(Int32(next.count))!
            defer { rd_kafka_topic_partition_list_destroy(list) }
            for (topic, partitions) in next {
                for (partition, offset) in partitions {
                    rd_kafka_topic_partition_list_add(list, configuration.topicPrefix + topic, partition)!.pointee.offset = offset
                }
            }
            return rd_kafka_commit(handle, list, async ? 1 : 0)
        }
        @Sendable func check(_ err: rd_kafka_resp_err_t) throws {
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR__NO_OFFSET else { throw KafkaError(.commit, err) }
        }
        guard waiting else { return try check(commitNow(async: true)) }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try check(commitNow(async: false)) })
            }
        }
    }

    /// Must be called with `lock` held.
    private func allAtEnd(_ assigned: [Partition]) -> Bool {
        !assigned.isEmpty && assigned.allSatisfy(atEnd.contains)
    }

    /// The assigned partitions as `topic/partition`, topics prefixed.
    private func assigned() -> [Partition] {
        var list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
        guard rd_kafka_assignment(handle, &list) == RD_KAFKA_RESP_ERR_NO_ERROR, let list else { return [] }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        return (0..<Int(list.pointee.cnt)).map {
            Partition(list.pointee.elems[$0])
        }
    }

    /// Stops polling and leaves the group (after the caller committed its last batch).
    public func close() {
        lock.lock()
        stopping = true
        lock.broadcast()
        while !pollerDone { lock.wait() }
        lock.unlock()
        if !closed {
            rd_kafka_consumer_close(handle)
            closed = true
        }
    }
}

/// librdkafka's word on reaching the cluster, from its error callback (any thread).
final class BrokerWatch: Sendable {
    private let state = Mutex<String?>(nil)
    private let logger: Logger

    init(logger: Logger) { self.logger = logger }

    var problem: String? { state.withLock { $0 } }

    /// Every error is logged (with a callback set, librdkafka no longer logs them itself);
    /// transport errors (a broker down, unreachable or resetting connections) make the cluster
    /// unreachable until it answers again.
    func failed(code: Int32, reason: String) {
        let code = rd_kafka_resp_err_t(rawValue: code)
        let fatal = code == RD_KAFKA_RESP_ERR__FATAL
        logger.log(
            level: fatal ? .critical : .warning, "kafka client error",
            metadata: ["error": "\(String(cString: rd_kafka_err2str(code)))", "reason": "\(reason)"])
        guard code == RD_KAFKA_RESP_ERR__TRANSPORT || code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN
            || code == RD_KAFKA_RESP_ERR__RESOLVE
        else { return }
        state.withLock { $0 = reason }
    }

    func reached() {
        state.withLock { if $0 != nil { $0 = nil } }
    }
}
