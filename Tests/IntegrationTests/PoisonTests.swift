import CreditWatchCore
import Foundation
import PostgresStore
import RuleLanguage
import Simulator
import Testing

@testable import creditwatch

extension EngineIntegrationTests {
    /// A tax payment of `e5` as raw JSON text, with `amount` and `name` as given (raw JSON).
    static func rawPayment(id: String, amount: String = "88000", name: String = #""企业""#) -> [UInt8] {
        Array(
            #"{"before":null,"after":{"id":"\#(id)","uscc":"\#(e5)","name":\#(name),"tax_type":"增值税","period":"2026-03","amount":\#(amount),"paid_date":"2026-03-15"},"source":{"ts_ms":1767225600000},"op":"c","ts_ms":1767225600000}"#
                .utf8)
    }

    @Test func eachPoisonClassIsQuarantinedWithItsReasonAndTheNextGoodMessageIsProcessed() async throws {
        var engine = try await Engine.start("poison")
        var invalidUTF8 = Self.rawPayment(id: "BAD-UTF8", name: #""福州""#)
        invalidUTF8[invalidUTF8.firstIndex(of: "福".utf8.first!)!] = 0xFF
        let nan = Self.rawPayment(id: "BAD-NAN", amount: "NaN")
        // The broker refuses a whole MiB (its message.max.bytes): 900 KiB is what can reach us.
        let huge = Self.rawPayment(id: "BAD-KIB", name: "\"" + String(repeating: "x", count: 900 << 10) + "\"")
        let deep = Self.rawPayment(
            id: "BAD-DEEP", name: String(repeating: "[", count: 5000) + "1" + String(repeating: "]", count: 5000))
        func offset(of text: String, in bytes: [UInt8]) -> Int {
            String(decoding: bytes, as: UTF8.self).split(separator: text, maxSplits: 1)[0].utf8.count
        }
        let poison: [(String, [UInt8]?, [UInt8], String)] = [
            ("overflow", nil, Self.rawPayment(id: "BAD-1E17", amount: "1e17"),
             "field 'amount': number 1e+17 is outside ±90000000000000, the range kept exact to 0.01"),
            ("NaN", nil, nan, "not JSON: Invalid value around character \(offset(of: "NaN", in: nan))"),
            ("900 KiB field", nil, huge, "message is \(huge.count) bytes, over the limit of 262144 (limits.max_message_bytes)"),
            ("10 KiB key", Array(repeating: UInt8(ascii: "k"), count: 10_240), Self.rawPayment(id: "BAD-KEY"),
             "message key is 10240 bytes, over the limit of 512 (limits.max_key_bytes)"),
            ("deep JSON", nil, deep, "JSON nested deeper than 16 levels (limits.max_depth)"),
            ("invalid UTF-8", nil, invalidUTF8,
             "not UTF-8: byte 0xFF at offset \(invalidUTF8.firstIndex(of: 0xFF)!) cannot start a character"),
        ]
        // Each poison message, then a good one.
        var messages: [SimulatedMessage] = []
        for (index, (_, key, value, _)) in poison.enumerated() {
            messages.append(SimulatedMessage(topic: "tax.payment", key: key, value: value))
            messages.append(SimulatedMessage(topic: "tax.payment", key: nil, value: Self.rawPayment(id: "GOOD-\(index)")))
        }
        try await engine.send(messages)

        let quarantine = try await engine.store.quarantine(after: nil, limit: 100).messages
        #expect(quarantine.map(\.reason).sorted() == poison.map(\.3).sorted())
        #expect(try await engine.store.recordCount() == poison.count)
        let profile = try #require(try await engine.store.enterprise(Self.e5))
        #expect(profile.facts.flatMap(\.topics).map(\.topic) == ["tax.payment"])
        #expect(engine.daemon.health.snapshot.outage == nil)
        #expect(engine.daemon.health.snapshot.bisectedQuarantined == 0)
        try await engine.stop()
    }

    @Test func aBatchThatFailsOnOneMessageIsBisectedAndStoresAllTheOthers() async throws {
        var engine = try await Engine.start("bisect", storeSeam: { base in
            // A message whose processing fails for a reason of its own that the decoder cannot see.
            SeamedStore(base: base, refuse: { records in
                if records.contains(where: { $0.change.key == "TP-POISON" }) { throw SeamedStore.Refused(key: "TP-POISON") }
            })
        })
        var messages = (0..<40).map { i in
            SimulatedMessage(topic: "tax.payment", key: nil, value: Self.rawPayment(id: "TP-\(i)", amount: "\(1000 + i)"))
        }
        messages.insert(SimulatedMessage(topic: "tax.payment", key: nil, value: Self.rawPayment(id: "TP-POISON")), at: 23)
        try await engine.send(messages)

        let quarantine = try await engine.store.quarantine(after: nil, limit: 100).messages
        #expect(quarantine.map(\.reason) == ["processing failed: the store refuses record TP-POISON"])
        #expect(quarantine.first?.value?.contains(#""id":"TP-POISON""#) == true)
        #expect(try await engine.store.recordCount() == 40)
        #expect(engine.daemon.health.snapshot.bisectedQuarantined == 1)
        #expect(engine.daemon.health.snapshot.outage == nil)
        try await engine.stop()
    }
}

/// The store of record with seams: what a test makes a lookup answer, or a write refuse.
struct SeamedStore: CreditStore {
    struct Refused: Error, CustomStringConvertible {
        let key: String
        var description: String { "the store refuses record \(key)" }
    }

    let base: PostgresStore
    /// Answers lookups instead of the base (given the base's answer).
    var answerLookup: @Sendable (LinkingFacts) -> LinkingFacts = { $0 }
    /// Throws to refuse a write of records.
    var refuse: @Sendable ([LinkedChange]) throws -> Void = { _ in }

    func lookup(enterprises: Set<String>, accounts: Set<String>, names: Set<String>) async throws -> LinkingFacts {
        answerLookup(try await base.lookup(enterprises: enterprises, accounts: accounts, names: names))
    }
    func unlinkedChanges(accounts: Set<String>, names: Set<String>) async throws -> [Change] {
        try await base.unlinkedChanges(accounts: accounts, names: names)
    }
    func resolvableUnlinked(limit: Int) async throws -> [Change] { try await base.resolvableUnlinked(limit: limit) }
    func relationEdges(touching entities: Set<EntityKey>, relations: Set<String>) async throws -> [RelationEdge] {
        try await base.relationEdges(touching: entities, relations: relations)
    }
    func relationEndpoints(touching entities: Set<EntityKey>, relations: Set<String>) async throws -> [RelationEdge] {
        try await base.relationEndpoints(touching: entities, relations: relations)
    }
    func enterprises(after: String?, limit: Int) async throws -> [String] { try await base.enterprises(after: after, limit: limit) }
    func pendingEvaluations(after: String?, limit: Int, ownership: Ownership) async throws -> [PendingEvaluation] {
        try await base.pendingEvaluations(after: after, limit: limit, ownership: ownership)
    }
    func hasPendingEvaluations(besides: [String]) async throws -> Bool { try await base.hasPendingEvaluations(besides: besides) }
    func pendingIndustries() async throws -> [PendingIndustry] { try await base.pendingIndustries() }
    func alertStates(subjects: Set<String>) async throws -> [String: [String: AlertState]] {
        try await base.alertStates(subjects: subjects)
    }
    func featureSync() async throws -> FeatureSync { try await base.featureSync() }
    func claim(_ partitions: Set<Int32>, instance: String) async throws -> [Int32: Int64] {
        try await base.claim(partitions, instance: instance)
    }
    func storedRecords(after: RecordCursor?, limit: Int) async throws -> [StoredRecord] {
        try await base.storedRecords(after: after, limit: limit)
    }
    func storedVersions(of topics: Set<String>, after: RecordCursor?, limit: Int) async throws -> [StoredRecord] {
        try await base.storedVersions(of: topics, after: after, limit: limit)
    }
    func store(records: [LinkedChange]) async throws {
        try refuse(records)
        try await base.store(records: records)
    }
    func commit(_ effects: BatchEffects) async throws { try await base.commit(effects) }
}
