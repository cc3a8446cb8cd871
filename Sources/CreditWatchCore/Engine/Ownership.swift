/// Which enterprises this instance decides for when several instances share the city.
///
/// Accepted changes are re-keyed by enterprise onto the changes topic (see `RoutedMessage`): the
/// partition of an enterprise is `partition(of: uscc)`, and the instance assigned that partition
/// in the consumer group owns the enterprise. Any instance may store a record and update the
/// feature windows of any enterprise (both are idempotent and per-record atomic), but only the
/// owner evaluates it and decides its alerts, so alert decisions have one writer; a record that
/// reaches another instance (linked late, by name or account) leaves its enterprise pending for
/// the owner. City-level decisions (industry rules) belong to the owner of partition 0.
public struct Ownership: Sendable, Hashable, CustomStringConvertible {
    /// Partitions of the changes topic (0: no changes topic, one instance decides for all).
    public let partitions: Int32
    /// The partitions assigned to this instance.
    public let owned: Set<Int32>

    /// One instance reading the departments' topics itself: it owns the whole city.
    public static let whole = Ownership(partitions: 0, owned: [])

    public init(partitions: Int32, owned: Set<Int32>) {
        self.partitions = partitions
        self.owned = owned
    }

    public var isWhole: Bool { partitions == 0 }

    public func owns(_ uscc: String) -> Bool {
        isWhole || owned.contains(Self.partition(of: uscc, among: partitions))
    }

    /// Whether this instance judges the industries (the owner of partition 0).
    public var ownsCity: Bool { isWhole || owned.contains(0) }

    /// FNV-1a (32 bits) of the key's UTF-8: stable across processes, releases and platforms,
    /// unlike `Hasher`, and cheap to compute in the store of record's queries (`hash % partitions`).
    public static func hash(_ key: String) -> UInt32 {
        var hash: UInt32 = 2_166_136_261
        for byte in key.utf8 {
            hash ^= UInt32(byte)
            hash = hash &* 16_777_619
        }
        return hash
    }

    public static func partition(of key: String, among partitions: Int32) -> Int32 {
        Int32(hash(key) % UInt32(max(partitions, 1)))
    }

    public var description: String {
        isWhole ? "whole city" : "partitions \(owned.sorted()) of \(partitions)"
    }
}

/// Fencing of decisions across a rebalance. When several instances share the city, an instance
/// claims each partition of the changes topic it is newly assigned in the store of record, which
/// gives the partition a new epoch; the transaction that commits a batch's decisions first checks,
/// under a share lock, that every partition it decided for still has the epoch this instance
/// claimed. So an instance that lost a partition while its batch was in flight (a rebalance, a
/// pause longer than the session timeout) cannot write decisions over the new owner's: its commit
/// is refused as `Fenced`, and the new owner's claim waits for a commit under way to end.
public struct PartitionFence: Sendable, Hashable {
    /// This process, for the claims' record (a random id drawn at start).
    public let instance: String
    /// Partition → the epoch of this instance's claim.
    public let claims: [Int32: Int64]

    public init(instance: String, claims: [Int32: Int64]) {
        self.instance = instance
        self.claims = claims
    }
}

/// A commit refused because another instance claimed one of the partitions it decided for.
public struct Fenced: Error, CustomStringConvertible, Sendable {
    public let partition: Int32
    public let claimedBy: String
    public let epoch: Int64

    public init(partition: Int32, claimedBy: String, epoch: Int64) {
        self.partition = partition
        self.claimedBy = claimedBy
        self.epoch = epoch
    }

    public var description: String {
        "partition \(partition) of the changes topic was claimed by instance \(claimedBy) (epoch \(epoch)): its decisions are that instance's now"
    }
}

/// A department message as the router forwards it on the changes topic: the original topic,
/// partition, offset, key and value, framed so that the engine sees exactly what the department
/// sent (and quarantines it with its original coordinates).
///
/// Frame: `CW1`, topic length (UInt16 BE) and UTF-8, partition (Int32 BE), offset (Int64 BE),
/// key length (Int32 BE, -1 for none) and key, then the value to the end (a `0` flag byte first;
/// `1` and nothing else for a tombstone).
public enum RoutedMessage {
    static let magic: [UInt8] = Array("CW1".utf8)

    public static func encode(_ message: InboundMessage) -> [UInt8] {
        var bytes = magic
        let topic = Array(message.topic.utf8)
        bytes.reserveCapacity(32 + topic.count + (message.key?.count ?? 0) + (message.value?.count ?? 0))
        append(UInt16(truncatingIfNeeded: topic.count), to: &bytes)
        bytes += topic
        append(UInt32(bitPattern: message.partition), to: &bytes)
        append(UInt64(bitPattern: message.offset), to: &bytes)
        if let key = message.key {
            append(UInt32(truncatingIfNeeded: key.count), to: &bytes)
            bytes += key
        } else {
            append(UInt32.max, to: &bytes)
        }
        if let value = message.value {
            bytes.append(0)
            bytes += value
        } else {
            bytes.append(1)
        }
        return bytes
    }

    /// The department's message inside `frame`, delivered at `delivery` on the changes topic; nil
    /// when the frame is not one (the caller passes it on as it is, to be quarantined).
    public static func decode(_ frame: [UInt8], delivery: Delivery) -> InboundMessage? {
        var reader = FrameReader(bytes: frame)
        guard reader.take(magic.count) == magic[...],
            let topicLength = reader.integer(UInt16.self),
            let topic = reader.take(Int(topicLength)).flatMap({ String(validating: $0, as: UTF8.self) }),
            let partition = reader.integer(UInt32.self),
            let offset = reader.integer(UInt64.self),
            let keyLength = reader.integer(UInt32.self)
        else { return nil }
        var key: [UInt8]?
        if keyLength != UInt32.max {
            guard let bytes = reader.take(Int(keyLength)) else { return nil }
            key = Array(bytes)
        }
        guard let flag = reader.take(1)?.first else { return nil }
        let value: [UInt8]?
        switch flag {
        case 0: value = Array(reader.rest)
        case 1 where reader.rest.isEmpty: value = nil
        default: return nil
        }
        return InboundMessage(
            topic: topic, partition: Int32(bitPattern: partition), offset: Int64(bitPattern: offset), key: key, value: value,
            delivery: delivery)
    }

    private static func append<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { bytes += $0 }
    }

    private struct FrameReader {
        let bytes: [UInt8]
        var position = 0

        mutating func take(_ count: Int) -> ArraySlice<UInt8>? {
            guard count >= 0, bytes.count - position >= count else { return nil }
            defer { position += count }
            return bytes[position..<position + count]
        }

        mutating func integer<T: FixedWidthInteger>(_: T.Type) -> T? {
            take(MemoryLayout<T>.size).map { $0.reduce(T.zero) { $0 << 8 | T($1) } }
        }

        var rest: ArraySlice<UInt8> { bytes[position...] }
    }
}

/// Where a routed message was delivered on the changes topic: the offsets the engine commits.
public struct Delivery: Sendable, Hashable {
    public let topic: String
    public let partition: Int32
    public let offset: Int64

    public init(topic: String, partition: Int32, offset: Int64) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
    }
}
