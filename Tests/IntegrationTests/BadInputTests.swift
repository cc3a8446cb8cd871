import CreditWatchCore
import Foundation
import PostgresStore
import RuleLanguage
import Simulator
import Testing

@testable import creditwatch

extension EngineIntegrationTests {
    @Test func badInputIsQuarantinedWithItsReasonAndTheGoodMessagesAfterItAreProcessed() async throws {
        var engine = try await Engine.start("badinput")
        let good = Script.taxRow(Self.e5, Month(year: 2026, month: 3), amount: 88_000)
        func payment(_ row: [String: FeedValue]) -> SimulatedMessage {
            Script.message("tax.payment", key: ["id": .string("X")], after: row, ts: 1_767_225_600_000)
        }
        var wrongType = good
        wrongType["amount"] = .bool(true)
        var missing = good
        missing["paid_date"] = nil
        var badUSCC = good
        badUSCC["uscc"] = .string(String(Self.e5.dropLast()) + (Self.e5.last == "0" ? "1" : "0"))
        let messages: [SimulatedMessage] = [
            SimulatedMessage(topic: "tax.payment", key: nil, value: Array("not json at all".utf8)),
            SimulatedMessage(topic: "tax.payment", key: nil, value: Array(#"{"after":{"id":"1"}}"#.utf8)),
            payment(wrongType),
            payment(missing),
            payment(badUSCC),
            SimulatedMessage(topic: "tax.payment", key: Envelope.key(["id": .string("X")]), value: nil),
            payment(good),
        ]
        try await engine.send(messages)

        let quarantine = try await engine.store.quarantine(after: nil, limit: 100).messages
        // Partitions interleave, so the order of the quarantine rows is not the order sent.
        #expect(quarantine.map(\.reason).sorted() == [
            "not JSON: Invalid value around character 1",
            "envelope: missing 'op'",
            "field 'amount': expected decimal, got boolean true",
            "missing required field 'paid_date'",
            "field 'uscc': USCC check character is '\(badUSCC["uscc"]!.stringValue!.last!)', expected '\(Self.e5.last!)'",
        ].sorted())
        #expect(quarantine.allSatisfy { $0.topic == "tax.payment" })
        #expect(quarantine.first { $0.reason.hasPrefix("not JSON") }?.value == "not json at all")
        #expect(Set(quarantine.map { "\($0.partition)/\($0.offset)" }).count == 5)
        // The tombstone is skipped; the good message after the bad ones is stored.
        #expect(try await engine.store.recordCount() == 1)
        let profile = try #require(try await engine.store.enterprise(Self.e5))
        #expect(profile.facts.flatMap(\.topics).map(\.topic) == ["tax.payment"])
        try await engine.stop()
    }
}

extension FeedValue {
    var stringValue: String? { if case .string(let s) = self { s } else { nil } }
}
