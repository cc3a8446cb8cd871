import CreditWatchCore
import Foundation
import PostgresStore
import RedisFeatures
import RuleLanguage
import Simulator
import Testing

@testable import creditwatch

extension EngineIntegrationTests {
    static let paymentMonths = [Month(year: 2025, month: 4), Month(year: 2025, month: 5), Month(year: 2025, month: 6),
                                Month(year: 2026, month: 4), Month(year: 2026, month: 5), Month(year: 2026, month: 6),
                                Month(year: 2026, month: 7)]

    static func payments(op: String = "c", tsShift: Int64 = 0) -> [SimulatedMessage] {
        paymentMonths.map { m in
            let row = Script.taxRow(e1, m, amount: m.year == 2025 ? 150_000 : 40_000)
            return Script.message("tax.payment", key: ["id": row["id"]!], op: op, after: row, ts: Script.ms(m.firstDay + 15) + tsShift)
        }
    }

    /// What effectively-once promises stays the same: the feature store's records (and the monthly
    /// sums they make), stored records and alerts.
    struct Observed: Equatable {
        let windows: [String: [Month: Double]]
        let records: [FactRecord]
        let recordCount: Int
        let alerts: Set<String>
    }

    static func observe(_ engine: Engine) async throws -> Observed {
        let redis = try RedisConnection(host: engine.settings.redisHost, port: engine.settings.redisPort)
        let windows = try await FeatureWindows(connection: redis, catalog: engine.daemon.catalog, logger: .init(label: "test"))
        let plan = await engine.daemon.processor.featurePlan
        let ledger = try await windows.records(of: [EntityKey(.enterprise, e1)], plan: plan)[EntityKey(.enterprise, e1)]?["tax.payment"] ?? []
        var sums: [String: [Month: Double]] = [:]
        for record in ledger {
            if case .number(let amount)? = record.fields["amount"] { sums["amount", default: [:]][record.eventDay.month, default: 0] += amount }
            sums["#", default: [:]][record.eventDay.month, default: 0] += 1
        }
        return Observed(
            windows: sums,
            records: ledger,
            recordCount: try await engine.store.recordCount(),
            alerts: keys(try await engine.alerts()))
    }

    @Test func redeliveryAndResentSnapshotsChangeNothingWhileUpdatesReplaceAndDeletesRemove() async throws {
        var engine = try await Engine.start("idempotence")
        try await engine.send([Self.registrations[0]] + Self.payments())
        let first = try await Self.observe(engine)
        #expect(first.alerts == ["\(Self.e1) tax_drop_yoy 2026-07"])
        #expect(first.windows["amount"]?[Month(year: 2026, month: 5)] == 40_000)
        #expect(first.windows["#"]?[Month(year: 2026, month: 5)] == 1)
        #expect(first.records.count == 7)
        #expect(first.recordCount == 8)

        // The same changes delivered again.
        try await engine.send([Self.registrations[0]] + Self.payments())
        #expect(try await Self.observe(engine) == first)

        // The whole table re-sent as a snapshot (op r, later ts_ms): same features, records, alerts.
        try await engine.send(Self.payments(op: "r", tsShift: 86_400_000))
        #expect(try await Self.observe(engine) == first)

        // An update of an amount replaces the old contribution.
        let may = Month(year: 2026, month: 5)
        let before = Script.taxRow(Self.e1, may, amount: 40_000)
        let after = Script.taxRow(Self.e1, may, amount: 90_000)
        try await engine.send([Script.message(
            "tax.payment", key: ["id": after["id"]!], op: "u", before: before, after: after, ts: Script.ms(may.lastDay) + 172_800_000)])
        let updated = try await Self.observe(engine)
        #expect(updated.windows["amount"]?[may] == 90_000)
        #expect(updated.windows["#"]?[may] == 1)
        #expect(updated.windows["amount"]?[Month(year: 2026, month: 6)] == 40_000)
        #expect(updated.records.first { $0.key == after["id"]!.stringValue }?.fields["amount"] == .number(90_000))
        #expect(updated.recordCount == 8)

        // A delete (and its tombstone) removes it.
        let june = Month(year: 2026, month: 6)
        let juneRow = Script.taxRow(Self.e1, june, amount: 40_000)
        try await engine.send([
            Script.message("tax.payment", key: ["id": juneRow["id"]!], op: "d", before: juneRow, after: nil, ts: Script.ms(june.lastDay) + 172_800_000),
            SimulatedMessage(topic: "tax.payment", key: Envelope.key(["id": juneRow["id"]!]), value: nil),
        ])
        let deleted = try await Self.observe(engine)
        #expect(deleted.windows["amount"]?[june] == nil)
        #expect(deleted.windows["#"]?[june] == nil)
        #expect(deleted.records.count == 6)
        #expect(!deleted.records.contains { $0.key == juneRow["id"]!.stringValue })
        #expect(deleted.recordCount == 7)
        // The alert raised before stays in the history (withdrawal is the retraction issue's work).
        #expect(deleted.alerts == first.alerts)

        // The delete re-delivered changes nothing either.
        try await engine.send([
            Script.message("tax.payment", key: ["id": juneRow["id"]!], op: "d", before: juneRow, after: nil, ts: Script.ms(june.lastDay) + 172_800_000)
        ])
        #expect(try await Self.observe(engine) == deleted)
        try await engine.stop()
    }
}
