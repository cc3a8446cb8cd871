import CreditWatchCore
import Foundation
import PostgresNIO
import RuleLanguage
import Testing

@testable import PostgresStore

@Suite("PostgresStore against PostgreSQL", .enabled(if: postgresConfigured))
struct PostgresStoreTests {
    @Test func migrationsAreIdempotent() async throws {
        try await withTestStore { store in
            // withTestStore applied them once already.
            let applied = try await store.migrate()
            #expect(applied == [])
            #expect(try await store.rows("SELECT version::text, name FROM schema_migrations ORDER BY version::int") == [
                ["1", "quarantine"], ["2", "credit_record"], ["3", "enterprise_and_account_link"], ["4", "alert"],
                ["5", "alert_lifecycle_scores_tags_rule_sets"], ["6", "feature_sync"], ["7", "evaluation_pending"],
                ["8", "several_instances"], ["9", "partition_claim"], ["10", "link_method"], ["11", "relation_edge"],
                ["12", "unlinked_sweep"], ["13", "history_of_superseded_versions"], ["14", "score_explanation_lz4"],
                ["15", "unlinked_deletes_swept"],
            ])
            // This server has lz4: scores' explanations are compressed with it.
            #expect(try await store.rows("""
                SELECT attrelid::regclass::text, attcompression::text FROM pg_attribute
                WHERE attname = 'explanation' AND attrelid IN ('enterprise_score'::regclass, 'score_history'::regclass) ORDER BY 1
                """) == [["enterprise_score", "l"], ["score_history", "l"]])
        }
    }

    /// The records' JSON texts, written as a binary `text[]` straight from their bytes, reach
    /// PostgreSQL as `JSONValue.jsonbText` writes them (multi-byte, escapes, U+0000 replaced,
    /// empty objects), each as its own element, picked in any order, and none at all.
    @Test func jsonTextArraysReachPostgreSQLAsTheirTexts() async throws {
        try await withTestStore { store in
            let rows: [[String: Value]] = [
                ["name": .string("泰州市海陵区某某有限公司"), "amount": .number(1200)],
                [:],
                ["note": .string("a\"b\\c\u{0}d\n"), "paid": .bool(true), "day": .null],
                ["x": .number(-0.5)],
            ]
            var array = JSONTextArray(capacity: 2)
            for fields in rows { array.append(jsonbOf: fields) }
            #expect(array.count == 4)
            func texts(_ array: JSONTextArray) async throws -> [String] {
                var result: [String] = []
                // Each is jsonb as the upsert casts it.
                let query: PostgresQuery = "SELECT t, t::jsonb IS NOT NULL FROM unnest(\(array)::text[]) WITH ORDINALITY AS a(t, n) ORDER BY n"
                for try await (text, json) in try await store.client.query(query, logger: store.logger).decode((String, Bool).self) {
                    #expect(json)
                    result.append(text)
                }
                return result
            }
            let written = rows.map { JSONValue.jsonbText(of: $0) }
            let (all, picked) = (try await texts(array), try await texts(array.picking([3, 0, 0])))
            let (nonePicked, none) = (try await texts(array.picking([])), try await texts(JSONTextArray()))
            #expect(all == written)
            #expect(picked == [written[3], written[0], written[0]])
            #expect(nonePicked == [] && none == [])
        }
    }

    @Test func instancesMigratingAFreshSchemaTogetherEachApplyItOnce() async throws {
        try await withTestStore(migrate: false) { store in
            async let first = store.migrate()
            async let second = store.migrate()
            let applied = try await [first, second]
            #expect(applied.flatMap { $0 }.sorted() == Array(1...15))
        }
    }

    @Test func freshSchemaAppliesEveryMigration() async throws {
        try await withTestStore(migrate: false) { store in
            let first = try await store.migrate()
            let second = try await store.migrate()
            #expect(first == Array(1...15))
            #expect(second == [])
        }
    }

    @Test func migrationFiveKeepsTheLatestOfSeveralActiveAlertsAndRecordsTheirEvents() async throws {
        try await withTestStore(migrate: false) { store in
            #expect(try await store.migrate(through: 4) == [1, 2, 3, 4])
            // As the cool-down of version 4 stored a standing condition: once per window.
            for (rule, window) in [("tax_credit_low", "2024-01"), ("tax_credit_low", "2024-03"), ("water_arrears", "2024-01")] {
                try await store.client.query(
                    """
                    INSERT INTO alert (rule, rule_version, rule_set_version, subject_kind, subject_id, "window", title,
                        severity, category, explanation, "values", sources, as_of)
                    VALUES (\(rule), 'rv', 'rs-old', 'enterprise', \(TestUSCC.a), \(window), 't', 'high', 'tax', 'e', '[]', '{}',
                        \(window + "-15")::date)
                    """, logger: store.logger)
            }
            #expect(try await store.migrate(through: 5) == [5])
            #expect(try await store.rows(#"SELECT id::text, rule, status, coalesce(withdrawn_reason, '-') FROM alert ORDER BY id"#) == [
                ["1", "tax_credit_low", "withdrawn", "已由同一规则的后续预警取代（迁移 5）"],
                ["2", "tax_credit_low", "active", "-"],
                ["3", "water_arrears", "active", "-"],
            ])
            #expect(try await store.rows("SELECT alert_id::text, kind FROM alert_event ORDER BY id") == [
                ["1", "raised"], ["2", "raised"], ["3", "raised"], ["1", "withdrawn"],
            ])
        }
    }

    @Test func migrationThirteenKeepsOnlyVersionsThatAreNotCurrentInTheHistory() async throws {
        try await withTestStore(migrate: false) { store in
            #expect(try await store.migrate(through: 12) == Array(1...12))
            // As versions up to 12 stored them: every change in the history, the newest also current.
            for (version, op, amount, received) in [(1, "c", 100, "2024-05-11"), (2, "u", 200, "2024-06-11")] {
                try await store.client.query(
                    """
                    INSERT INTO credit_record_history (topic, pk, version, op, entity_kind, entity_id, event_day, fields, recorded_at)
                    VALUES ('tax.payment', 'SK1', \(Int64(version)), \(op), 'enterprise', \(TestUSCC.a), DATE '2024-05-10',
                        jsonb_build_object('amount', \(amount)), \(received)::timestamptz)
                    """, logger: store.logger)
            }
            // Written again later (a re-link moves `updated_at`, not when the version was received).
            try await store.client.query(
                """
                INSERT INTO credit_record (topic, pk, entity_kind, entity_id, op, version, event_day, fields, updated_at)
                VALUES ('tax.payment', 'SK1', 'enterprise', \(TestUSCC.a), 'u', 2, DATE '2024-05-10', '{"amount": 200}',
                    '2024-07-01')
                """, logger: store.logger)
            #expect(try await store.migrate(through: 13) == [13])
            let log = "SELECT version::text, op, fields->>'amount', recorded_at::date::text FROM credit_record_change ORDER BY version"
            #expect(try await store.rows("SELECT version::text, op FROM credit_record_history") == [["1", "c"]])
            #expect(try await store.rows(log) == [["1", "c", "100", "2024-05-11"], ["2", "u", "200", "2024-06-11"]])
            // A version replaced by any statement moves to the history; a re-link moves nothing.
            try await store.client.query(
                "UPDATE credit_record SET entity_id = entity_id, linked_by = 'key'", logger: store.logger)
            #expect(try await store.count("credit_record_history") == 1)
            try await store.write(Make.effects(changes: [
                Make.payment("SK1", uscc: TestUSCC.a, amount: 300, paid: "2024-05-10", version: 3, operation: .update)
            ]))
            #expect(try await store.rows("SELECT version::text FROM credit_record_history ORDER BY version") == [["1"], ["2"]])
            #expect(try await store.rows(
                "SELECT version::text, op, fields->>'amount', recorded_at::date::text FROM credit_record_change WHERE version < 3 ORDER BY version"
            ) == [["1", "c", "100", "2024-05-11"], ["2", "u", "200", "2024-06-11"]])
            #expect(try await store.count("credit_record_change") == 3)
        }
    }

    /// A snapshot read stored first, then the create of the same version, unlinked both: the create
    /// goes to the history. Linked later, it becomes current and leaves the history (the read
    /// takes its place there): each change once.
    @Test func aChangeThatBecomesCurrentFromTheHistoryLeavesIt() async throws {
        try await withTestStore { store in
            func payment(_ operation: ChangeOperation) -> Change {
                Make.payment("SK1", uscc: TestUSCC.a, amount: 500, paid: "2024-05-10", version: 5, operation: operation).change
            }
            try await store.write(Make.effects(changes: [LinkedChange(change: payment(.snapshot), entity: nil, unlinkedReason: "no USCC")]))
            try await store.write(Make.effects(changes: [LinkedChange(change: payment(.create), entity: nil, unlinkedReason: "no USCC")]))
            let query = "SELECT op, coalesce(entity_id, '∅') FROM %@ ORDER BY op"
            #expect(try await store.rows(query.replacingOccurrences(of: "%@", with: "credit_record")) == [["r", "∅"]])
            #expect(try await store.rows(query.replacingOccurrences(of: "%@", with: "credit_record_history")) == [["c", "∅"]])
            try await store.write(Make.effects(changes: [LinkedChange(change: payment(.create), entity: EntityKey(.enterprise, TestUSCC.a))]))
            #expect(try await store.rows(query.replacingOccurrences(of: "%@", with: "credit_record")) == [["c", TestUSCC.a]])
            #expect(try await store.rows(query.replacingOccurrences(of: "%@", with: "credit_record_history")) == [["r", "∅"]])
            #expect(try await store.count("credit_record_change") == 2)
        }
    }

    @Test func featureSyncStartsAtZeroAndOnlyGrowsWithCommits() async throws {
        try await withTestStore { store in
            let start = try await store.featureSync()
            #expect(start.sequence == 0)
            #expect(UUID(uuidString: start.storeID) != nil)
            var effects = BatchEffects()
            effects.featureSequence = 7
            try await store.write(effects)
            #expect(try await store.featureSync() == FeatureSync(storeID: start.storeID, sequence: 7))
            effects.featureSequence = 5  // a late commit of an older batch never moves it back
            try await store.write(effects)
            #expect(try await store.featureSync().sequence == 7)
        }
    }

    @Test func storedRecordsAndVersionsWalkTheWholeStoreInPages() async throws {
        try await withTestStore { store in
            let first = Make.waterChange("WU-1", account: "W-001", name: "湘江机械（长沙）有限公司", uscc: TestUSCC.a, volume: 10)
            let second = Make.waterChange("WU-2", account: "W-002", name: "株洲电力设备有限公司", uscc: nil, volume: 20)
            try await store.write(Make.effects(changes: [
                LinkedChange(change: first, entity: EntityKey(.enterprise, TestUSCC.a)),
                LinkedChange(change: second, entity: nil, unlinkedReason: "no USCC"),
            ]))
            let page1 = try await store.storedRecords(after: nil, limit: 1)
            #expect(page1.map(\.change) == [first])
            #expect(page1.map(\.entity) == [EntityKey(.enterprise, TestUSCC.a)])
            let page2 = try await store.storedRecords(after: page1.last?.cursor, limit: 1)
            #expect(page2.map(\.change.key) == ["WU-2"])
            #expect(page2.map(\.entity) == [nil])
            #expect(try await store.storedRecords(after: page2.last?.cursor, limit: 1).isEmpty)
            // Versions: only linked records of the topics asked for.
            #expect(try await store.storedVersions(of: ["water.usage"], after: nil, limit: 10).map(\.change.key) == ["WU-1"])
            #expect(try await store.storedVersions(of: ["tax.payment"], after: nil, limit: 10).isEmpty)
        }
    }

    @Test func pendingEvaluationsAreKeptUntilABatchEvaluatesThem() async throws {
        try await withTestStore { store in
            func pending(_ limit: Int, _ ownership: Ownership = .whole) async throws -> [String] {
                try await store.pendingEvaluations(after: nil, limit: limit, ownership: ownership).map(\.uscc)
            }
            var deferring = BatchEffects()
            deferring.deferred = [TestUSCC.c, TestUSCC.a, TestUSCC.b]
            try await store.write(deferring)
            try await store.write(deferring)  // a re-delivered batch adds nothing
            #expect(try await pending(10) == [TestUSCC.a, TestUSCC.b, TestUSCC.c])
            #expect(try await pending(2) == [TestUSCC.a, TestUSCC.b])
            #expect(try await store.pendingEvaluations(after: TestUSCC.a, limit: 10, ownership: .whole).map(\.uscc) == [TestUSCC.b, TestUSCC.c])
            #expect(try await store.pendingEvaluations(after: TestUSCC.c, limit: 10, ownership: .whole).isEmpty)
            // Each instance reads the enterprises of its partitions only.
            for partitions in [2, 3, 8] as [Int32] {
                var seen: [String] = []
                for p in 0..<partitions {
                    let mine = try await pending(10, Ownership(partitions: partitions, owned: [p]))
                    #expect(mine.allSatisfy { Ownership.partition(of: $0, among: partitions) == p })
                    seen += mine
                }
                #expect(seen.sorted() == [TestUSCC.a, TestUSCC.b, TestUSCC.c])
            }
            #expect(try await store.hasPendingEvaluations(besides: [TestUSCC.a, TestUSCC.b]))
            #expect(try await !store.hasPendingEvaluations(besides: [TestUSCC.a, TestUSCC.b, TestUSCC.c]))

            // B is deferred again (by another instance) after it was read for evaluation: it stays.
            let read = try await store.pendingEvaluations(after: nil, limit: 2, ownership: .whole)
            var again = BatchEffects()
            again.deferred = [TestUSCC.b]
            again.restampDeferred = true
            try await store.write(again)
            var evaluating = BatchEffects()
            evaluating.evaluatedPending = read
            evaluating.deferred = [TestUSCC.d]
            try await store.write(evaluating)
            #expect(try await pending(10) == [TestUSCC.b, TestUSCC.c, TestUSCC.d])
        }
    }

    @Test func divisionsWaitForTheInstanceThatJudgesIndustriesWithTheirNewestMonth() async throws {
        try await withTestStore { store in
            var first = BatchEffects()
            first.industriesPending = ["C30": Day(20_000), "F51": Day(20_100)]
            try await store.write(first)
            var second = BatchEffects()
            second.industriesPending = ["C30": Day(19_990), "C13": Day(20_050)]
            try await store.write(second)
            let read = try await store.pendingIndustries()
            #expect(read.map(\.division) == ["C13", "C30", "F51"])
            #expect(read.map(\.asOf) == [Day(20_050), Day(20_000), Day(20_100)])
            // F51 is evaluated again by another instance before the judge commits: it stays.
            var later = BatchEffects()
            later.industriesPending = ["F51": Day(20_130)]
            try await store.write(later)
            var judged = BatchEffects()
            judged.judgedIndustries = read
            try await store.write(judged)
            #expect(try await store.pendingIndustries().map { [$0.division, "\($0.asOf)"] } == [["F51", "\(Day(20_130))"]])
        }
    }

    @Test func commitTwiceWritesTheSameRows() async throws {
        try await withTestStore { store in
            let effects = Make.effects(
                quarantine: [Make.quarantined(offset: 7, reason: "value is not JSON")],
                changes: [
                    Make.registration(TestUSCC.a, name: "长沙湘江机械有限公司"),
                    Make.payment("SK1", uscc: TestUSCC.a, amount: 1200, paid: "2024-05-10"),
                    Make.payment("SK2", uscc: TestUSCC.a, amount: 98765.43, paid: "2024-04-10"),
                ],
                links: [AccountOwnership(topicFamily: "water", accountNo: "W-001", uscc: TestUSCC.a)],
                alerts: [Make.alert(subject: TestUSCC.a, window: "2024-05", asOf: "2024-05-10")])
            try await store.write(effects)
            try await store.write(effects)
            #expect(try await store.count("quarantine") == 1)
            #expect(try await store.count("credit_record") == 3)
            // Each change is current: none in the history, all three in the change log.
            #expect(try await store.count("credit_record_history") == 0)
            #expect(try await store.count("credit_record_change") == 3)
            #expect(try await store.count("enterprise") == 1)
            #expect(try await store.count("account_link") == 1)
            #expect(try await store.count("alert") == 1)
            #expect(try await store.recordCount() == 3)
            #expect(try await store.rows(
                "SELECT topic, pk, entity_kind, entity_id, op, version::text, event_day::text, fields::text, deleted::text FROM credit_record WHERE pk = 'SK2'"
            ) == [[
                "tax.payment", "SK2", "enterprise", TestUSCC.a, "c", "1", "2024-04-10",
                #"{"id": "SK2", "uscc": "\#(TestUSCC.a)", "amount": 98765.43, "paid_date": "2024-04-10"}"#, "false",
            ]])
            #expect(try await store.rows(
                "SELECT uscc, name, normalised_name, industry_code, division, district, status FROM enterprise"
            ) == [[TestUSCC.a, "长沙湘江机械有限公司", "长沙湘江机械", "C3011", "C30", "430602", "存续"]])
        }
    }

    @Test func onlyANewerVersionReplacesTheCurrentRow() async throws {
        try await withTestStore { store in
            let v2 = Make.payment("SK1", uscc: TestUSCC.a, amount: 2000, paid: "2024-05-10", version: 2, operation: .update)
            let v1 = Make.payment("SK1", uscc: TestUSCC.a, amount: 1000, paid: "2024-05-10", version: 1)
            let v3 = Make.payment("SK1", uscc: TestUSCC.a, amount: 3000, paid: "2024-05-11", version: 3, operation: .update)
            let query = "SELECT op, version::text, fields->>'amount', event_day::text, deleted::text FROM credit_record"
            try await store.write(Make.effects(changes: [v2]))
            try await store.write(Make.effects(changes: [v1]))
            #expect(try await store.rows(query) == [["u", "2", "2000", "2024-05-10", "false"]])
            try await store.write(Make.effects(changes: [v3]))
            #expect(try await store.rows(query) == [["u", "3", "3000", "2024-05-11", "false"]])
            // A Debezium delete carries the deleted row's own version: it wins the tie…
            let delete = Make.payment("SK1", uscc: TestUSCC.a, amount: 3000, paid: "2024-05-11", version: 3, operation: .delete)
            try await store.write(Make.effects(changes: [delete]))
            #expect(try await store.rows(query) == [["d", "3", "3000", "2024-05-11", "true"]])
            // …and the same version re-delivered as an update cannot resurrect the row.
            try await store.write(Make.effects(changes: [v3]))
            #expect(try await store.rows(query) == [["d", "3", "3000", "2024-05-11", "true"]])
            #expect(try await store.recordCount() == 0)
            #expect(try await store.rows(
                "SELECT version::text, op, fields->>'amount' FROM credit_record_change ORDER BY version, op"
            ) == [["1", "c", "1000"], ["2", "u", "2000"], ["3", "d", "3000"], ["3", "u", "3000"]])
            // The late v1 went to the history as it came; v2 and v3's update moved there when replaced.
            #expect(try await store.rows(
                "SELECT version::text, op, fields->>'amount' FROM credit_record_history ORDER BY version, op"
            ) == [["1", "c", "1000"], ["2", "u", "2000"], ["3", "u", "3000"]])
        }
    }

    @Test func inOneBatchTheNewestVersionWins() async throws {
        try await withTestStore { store in
            try await store.write(Make.effects(changes: [
                Make.payment("SK1", uscc: TestUSCC.a, amount: 3000, paid: "2024-05-10", version: 3, operation: .update),
                Make.payment("SK1", uscc: TestUSCC.a, amount: 1000, paid: "2024-05-10", version: 1),
                Make.payment("SK1", uscc: TestUSCC.a, amount: 1000, paid: "2024-05-10", version: 1),
            ]))
            #expect(try await store.rows("SELECT version::text, fields->>'amount' FROM credit_record") == [["3", "3000"]])
            #expect(try await store.rows("SELECT version::text, fields->>'amount' FROM credit_record_history") == [["1", "1000"]])
            #expect(try await store.count("credit_record_change") == 2)
        }
    }

    @Test func quarantineKeepsTheFirstDeliveryOfAMessage() async throws {
        try await withTestStore { store in
            try await store.write(Make.effects(quarantine: [
                Make.quarantined(offset: 7, reason: "value is not JSON"),
                Make.quarantined(offset: 8, reason: "field 'amount' is missing", value: [0xFF, 0xFE, 0x00]),
            ]))
            try await store.write(Make.effects(quarantine: [Make.quarantined(offset: 7, reason: "another reason")]))
            let page = try await store.quarantine(after: nil, limit: 1)
            #expect(page.messages.map(\.id) == [1])
            #expect(page.nextCursor == 1)
            #expect(page.hasMore)
            let first = page.messages[0]
            #expect(first.topic == "tax.payment")
            #expect(first.partition == 0)
            #expect(first.offset == 7)
            #expect(first.key == #"{"id":"X"}"#)
            #expect(first.value == "not json")
            #expect(first.valueBase64 == nil)
            #expect(first.reason == "value is not JSON")
            #expect(first.reprocessedAt == nil)
            let second = try await store.quarantine(after: 1, limit: 10)
            #expect(second.messages.map(\.id) == [2])
            #expect(second.messages[0].value == nil)
            #expect(second.messages[0].valueBase64 == "//4A")
            #expect(second.hasMore == false)
            #expect(try await store.quarantine(after: 2, limit: 10) == QuarantinePage(messages: [], nextCursor: 2, hasMore: false))
            let pending = try await store.pendingQuarantine(after: nil, limit: 10)
            #expect(pending.map(\.id) == [1, 2])
            #expect(pending[1].message == InboundMessage(
                topic: "tax.payment", partition: 0, offset: 8, key: Array(#"{"id":"X"}"#.utf8), value: [0xFF, 0xFE, 0x00]))
            #expect(try await store.markReprocessed([1, 3]) == 1)
            #expect(try await store.markReprocessed([1]) == 0)
            #expect(try await store.pendingQuarantine(after: nil, limit: 10).map(\.id) == [2])
            #expect(try await store.quarantine(after: nil, limit: 1).messages[0].reprocessedAt != nil)
        }
    }

    @Test func alertsHaveANaturalKey() async throws {
        try await withTestStore { store in
            let alert = Make.alert(subject: TestUSCC.a, window: "2024-05", asOf: "2024-05-10")
            try await store.write(Make.effects(alerts: [alert, alert]))
            // The same firing evaluated again later (new as-of, same window) is the same alert.
            try await store.write(Make.effects(alerts: [Make.alert(subject: TestUSCC.a, window: "2024-05", asOf: "2024-05-20")]))
            #expect(try await store.rows(#"SELECT id::text, rule, subject_id, "window", as_of::text FROM alert"#) == [
                ["1", "tax_drop_yoy", TestUSCC.a, "2024-05", "2024-05-10"]
            ])
        }
    }

    @Test func alertsAreRaisedWithdrawnAndReactivatedWithTheirEvents() async throws {
        try await withTestStore { store in
            try await store.write(Make.effects(alerts: [
                Make.alert(subject: TestUSCC.a, window: "2024-01", asOf: "2024-01-31"),
                Make.alert(rule: "water_collapse", subject: TestUSCC.a, window: "2024-01", asOf: "2024-01-31"),
            ]))
            var states = try await store.alertStates(subjects: [TestUSCC.a, TestUSCC.b])
            #expect(states.keys.sorted() == [TestUSCC.a])
            #expect(states[TestUSCC.a]?["tax_drop_yoy"] == AlertState(
                id: 1, rule: "tax_drop_yoy", subjectID: TestUSCC.a, window: "2024-01", asOf: Make.day("2024-01-31"),
                status: .active, sources: ["tax.payment/SK1", "tax.payment/SK2"]))

            // Withdrawn twice (a re-delivered batch): one event.
            var withdraw = BatchEffects()
            withdraw.withdrawals = [AlertWithdrawal(alertID: 1, asOf: Make.day("2024-03-05"), reason: "截至 2024-03-05 预警条件不再成立", ruleSetVersion: "rs-2")]
            try await store.write(withdraw)
            try await store.write(withdraw)
            states = try await store.alertStates(subjects: [TestUSCC.a])
            #expect(states[TestUSCC.a]?["tax_drop_yoy"]?.status == .withdrawn)
            #expect(states[TestUSCC.a]?["water_collapse"]?.status == .active)

            // The same window holding again: the same alert, active again.
            var reactivate = BatchEffects()
            reactivate.reactivations = [AlertReactivation(alertID: 1, alert: Make.alert(subject: TestUSCC.a, window: "2024-01", asOf: "2024-03-20"))]
            try await store.write(reactivate)
            try await store.write(reactivate)
            #expect(try await store.rows(#"SELECT id::text, status, coalesce(withdrawn_reason, '-') FROM alert ORDER BY id"#) == [
                ["1", "active", "-"], ["2", "active", "-"],
            ])
            #expect(try await store.rows("SELECT alert_id::text, kind, as_of::text, coalesce(reason, '-'), rule_set_version FROM alert_event ORDER BY id") == [
                ["1", "raised", "2024-01-31", "-", "rs-1"],
                ["2", "raised", "2024-01-31", "-", "rs-1"],
                ["1", "withdrawn", "2024-03-05", "截至 2024-03-05 预警条件不再成立", "rs-2"],
                ["1", "reactivated", "2024-03-20", "-", "rs-1"],
            ])
            // A rule with an active alert gets no second active one (a re-delivered raise).
            try await store.write(Make.effects(alerts: [Make.alert(subject: TestUSCC.a, window: "2024-04", asOf: "2024-04-30")]))
            #expect(try await store.rows("SELECT count(*)::text FROM alert") == [["2"]])
        }
    }

    @Test func scoresKeepTheirHistoryAndTagsTheirMembership() async throws {
        try await withTestStore { store in
            var effects = BatchEffects()
            effects.scores = [Make.score(630, "B", asOf: "2024-01-31")]
            effects.tags = [Make.tags(["leading", "trustworthy"], asOf: "2024-01-31")]
            try await store.write(effects)
            try await store.write(effects)  // re-delivered: no new history
            effects.scores = [Make.score(630, "B", asOf: "2024-02-29")]  // same score, later: current row only
            effects.tags = [Make.tags(["leading"], asOf: "2024-02-29")]
            try await store.write(effects)
            effects.scores = [Make.score(480, "D", asOf: "2024-03-31")]
            effects.tags = [Make.tags([], asOf: "2024-03-31")]
            try await store.write(effects)
            #expect(try await store.rows("SELECT score::text, grade, as_of::text, explanation->'lines'->0->>'points' FROM enterprise_score") == [
                ["480", "D", "2024-03-31", "-120"]
            ])
            #expect(try await store.rows("SELECT score::text, grade, as_of::text FROM score_history ORDER BY id") == [
                ["630", "B", "2024-01-31"], ["480", "D", "2024-03-31"],
            ])
            #expect(try await store.rows("SELECT count(*)::text FROM enterprise_tag") == [["0"]])
            #expect(try await store.rows("SELECT tag, change, as_of::text FROM tag_history ORDER BY id") == [
                ["leading", "added", "2024-01-31"], ["trustworthy", "added", "2024-01-31"],
                ["trustworthy", "removed", "2024-02-29"], ["leading", "removed", "2024-03-31"],
            ])
        }
    }

    @Test func alertPagesFollowTheCursorAndFilters() async throws {
        try await withTestStore { store in
            try await store.write(Make.effects(alerts: [
                Make.alert(subject: TestUSCC.a, window: "2024-01", asOf: "2024-01-01", severity: .high),
                Make.alert(rule: "r2", subject: TestUSCC.b, window: "2024-01", asOf: "2024-01-02", severity: .critical, category: .judicial),
                Make.alert(rule: "r3", subject: TestUSCC.c, window: "2024-01", asOf: "2024-01-03", severity: .low, division: "F51"),
                Make.alert(rule: "r4", subject: TestUSCC.a, window: "2024-01", asOf: "2024-01-04", severity: .medium, category: .utility),
                Make.alert(rule: "r5", subject: TestUSCC.d, window: "2024-01", asOf: "2024-01-05", severity: .critical, division: nil, district: nil),
            ]))
            let first = try await store.alerts(after: nil, limit: 2)
            #expect(first.alerts.map(\.id) == [1, 2])
            #expect(first.nextCursor == 2)
            #expect(first.hasMore)
            let second = try await store.alerts(after: 2, limit: 2)
            #expect(second.alerts.map(\.id) == [3, 4])
            #expect(second.hasMore)
            let third = try await store.alerts(after: 4, limit: 2)
            #expect(third.alerts.map(\.id) == [5])
            #expect(third.nextCursor == 5)
            #expect(third.hasMore == false)
            let empty = try await store.alerts(after: 5, limit: 2)
            #expect(empty.alerts.isEmpty && empty.nextCursor == 5 && !empty.hasMore)

            #expect(try await store.alerts(after: nil, limit: 50, severities: [.high, .critical]).alerts.map(\.id) == [1, 2, 5])
            #expect(try await store.alerts(after: 1, limit: 50, severities: [.high, .critical]).alerts.map(\.id) == [2, 5])
            #expect(try await store.alerts(after: nil, limit: 50, categories: [.utility, .judicial]).alerts.map(\.id) == [2, 4])
            #expect(try await store.alerts(after: nil, limit: 50, division: "C30").alerts.map(\.id) == [1, 2, 4])
            #expect(try await store.alerts(after: nil, limit: 50, subjectIDs: [TestUSCC.a, TestUSCC.d]).alerts.map(\.id) == [1, 4, 5])
            #expect(try await store.alerts(after: nil, limit: 50, subjectIDs: []).alerts.map(\.id) == [])
            #expect(try await store.alerts(
                after: nil, limit: 50, severities: [.critical], categories: [.tax], subjectIDs: [TestUSCC.d]
            ).alerts.map(\.id) == [5])

            let alert = first.alerts[0]
            #expect(alert.values == [
                NamedJSONValue(name: "tax_paid_3mo", value: .number(1200)),
                NamedJSONValue(name: "tax_paid_3mo_ly", value: .number(98765.43)),
            ])
            #expect(alert.sources == ["tax.payment/SK1", "tax.payment/SK2"])
            #expect(alert.asOf == "2024-01-01")
            #expect(alert.score == Alert.ScoreEffect(points: -40, dimension: "finance_tax"))
            #expect(alert.status == "active")

            #expect(try await store.alertCounts() == AlertCounts(
                total: 5, bySeverity: ["high": 1, "critical": 2, "low": 1, "medium": 1],
                byCategory: ["tax": 3, "judicial": 1, "utility": 1], byDivision: ["C30": 3, "F51": 1, "unknown": 1],
                byDistrict: ["430602": 4, "unknown": 1]))
        }
    }

    @Test func lookupReturnsRegistrationsAccountsAndNames() async throws {
        try await withTestStore { store in
            try await store.write(Make.effects(
                changes: [
                    Make.registration(TestUSCC.a, name: "长沙湘江机械有限公司", industry: "C3011", district: "430602"),
                    Make.registration(TestUSCC.b, name: "长沙（湘江）机械 有限责任公司", industry: "F5123", district: "430603"),
                    Make.registration(TestUSCC.c, name: "株洲电力设备有限公司", industry: "X999", district: "430211"),
                ],
                links: [
                    AccountOwnership(topicFamily: "water", accountNo: "W-001", uscc: TestUSCC.c),
                    AccountOwnership(topicFamily: "water", accountNo: "W-002", uscc: TestUSCC.a),
                ]))
            let facts = try await store.lookup(
                enterprises: [TestUSCC.a, TestUSCC.c, TestUSCC.d], accounts: ["W-001", "W-009"],
                names: ["长沙湘江机械", "长沙(湘江)机械", "株洲电力设备", "无此企业"])
            #expect(facts.registrations == [
                TestUSCC.a: Registration(division: "C30", district: "430602"),
                TestUSCC.c: Registration(division: nil, district: "430211"),
            ])
            #expect(facts.accounts == ["W-001": TestUSCC.c])
            #expect(facts.names == [
                "长沙湘江机械": [TestUSCC.a], "长沙(湘江)机械": [TestUSCC.b], "株洲电力设备": [TestUSCC.c],
            ])
            let empty = try await store.lookup(enterprises: [], accounts: [], names: [])
            #expect(empty.registrations.isEmpty && empty.accounts.isEmpty && empty.names.isEmpty)
        }
    }

    @Test func sharedNamesMapToEveryEnterprise() async throws {
        try await withTestStore { store in
            try await store.write(Make.effects(changes: [
                Make.registration(TestUSCC.b, name: "长沙湘江机械有限公司"),
                Make.registration(TestUSCC.a, name: "长沙湘江机械有限责任公司"),
            ]))
            let facts = try await store.lookup(enterprises: [], accounts: [], names: ["长沙湘江机械"])
            #expect(facts.names == ["长沙湘江机械": [TestUSCC.a, TestUSCC.b]])
        }
    }

    @Test func unlinkedRecordsAreRebuiltAndRelinked() async throws {
        try await withTestStore { store in
            let unlinked = Make.waterChange("WU-1", account: "W-001", name: "湘江机械（长沙）有限公司", uscc: nil, volume: 1234.5)
            let linked = Make.waterChange("WU-2", account: "W-002", name: "株洲电力设备有限公司", uscc: TestUSCC.c, volume: 10)
            try await store.write(Make.effects(changes: [
                LinkedChange(change: unlinked, entity: nil, unlinkedReason: "no USCC: account 'W-001' is not linked to an enterprise yet"),
                LinkedChange(change: linked, entity: EntityKey(.enterprise, TestUSCC.c)),
            ]))
            // An unlinked record keeps what it waits by (account, normalised name); a linked one waits for nothing.
            #expect(try await store.rows(
                "SELECT pk, coalesce(entity_id, '∅'), coalesce(unlinked_reason, '∅'), coalesce(account_no, '∅'), coalesce(normalised_name, '∅') FROM credit_record ORDER BY pk"
            ) == [
                ["WU-1", "∅", "no USCC: account 'W-001' is not linked to an enterprise yet", "W-001", "湘江机械(长沙)"],
                ["WU-2", TestUSCC.c, "∅", "∅", "∅"],
            ])
            #expect(try await store.recordCounts() == [TopicRecordCount(topic: "water.usage", records: 2, unlinked: 1, deleted: 0)])

            // Nothing links it yet: not swept up.
            #expect(try await store.resolvableUnlinked(limit: 10) == [])

            let waiting = try await store.unlinkedChanges(accounts: ["W-001", "W-002", "W-404"], names: [])
            #expect(waiting == [unlinked])
            // By the normalised name too (a registration arriving after the record).
            #expect(try await store.unlinkedChanges(accounts: [], names: ["湘江机械(长沙)", "株洲电力设备"]) == [unlinked])
            #expect(try await store.unlinkedChanges(accounts: [], names: ["湘江机械"]) == [])

            // Its account learned (by another instance, say): swept up, whoever stored it.
            try await store.write(Make.effects(changes: [], links: [AccountOwnership(topicFamily: "water", accountNo: "W-001", uscc: TestUSCC.a)]))
            #expect(try await store.resolvableUnlinked(limit: 10) == [unlinked])
            try await store.write(Make.effects(
                changes: [LinkedChange(change: waiting[0], entity: EntityKey(.enterprise, TestUSCC.a), linkedBy: .account)],
                links: [AccountOwnership(topicFamily: "water", accountNo: "W-001", uscc: TestUSCC.a)]))
            #expect(try await store.resolvableUnlinked(limit: 10) == [])
            #expect(try await store.unlinkedChanges(accounts: ["W-001"], names: []) == [])
            #expect(try await store.rows(
                "SELECT pk, entity_kind, entity_id, coalesce(unlinked_reason, '∅') FROM credit_record WHERE pk = 'WU-1'"
            ) == [["WU-1", "enterprise", TestUSCC.a, "∅"]])
            #expect(try await store.rows(
                "SELECT pk, entity_id FROM credit_record_change WHERE pk = 'WU-1'"
            ) == [["WU-1", TestUSCC.a]])
            #expect(try await store.recordCounts() == [TopicRecordCount(topic: "water.usage", records: 2, unlinked: 0, deleted: 0)])

            // A delete kept unlinked (its account unknown when it came) is linked once its account is:
            // an earlier version of the record may be linked, and its entity's ledger must learn that
            // it was deleted.
            let created = Make.waterChange("WU-3", account: "W-003", name: "岳阳汴河电子有限公司", uscc: nil, volume: 5)
            let delete = Change(
                topic: created.topic, key: created.key, operation: .delete, version: created.version + 1, fields: created.fields,
                eventDay: created.eventDay, entity: created.entity)
            try await store.write(Make.effects(changes: [
                LinkedChange(change: delete, entity: nil, unlinkedReason: "no USCC: account 'W-003' is not linked to an enterprise yet")
            ]))
            #expect(try await store.unlinkedChanges(accounts: ["W-003"], names: []) == [delete])
            #expect(try await store.resolvableUnlinked(limit: 10) == [])
            try await store.write(Make.effects(changes: [], links: [AccountOwnership(topicFamily: "water", accountNo: "W-003", uscc: TestUSCC.b)]))
            #expect(try await store.resolvableUnlinked(limit: 10) == [delete])
            try await store.write(Make.effects(changes: [LinkedChange(change: delete, entity: EntityKey(.enterprise, TestUSCC.b), linkedBy: .account)]))
            #expect(try await store.resolvableUnlinked(limit: 10) == [])
            #expect(try await store.unlinkedChanges(accounts: ["W-003"], names: []) == [])
            #expect(try await store.rows(
                "SELECT pk, op, deleted::text, entity_id, coalesce(unlinked_reason, '∅') FROM credit_record WHERE pk = 'WU-3'"
            ) == [["WU-3", "d", "true", TestUSCC.b, "∅"]])
        }
    }

    @Test func enterpriseProfileGroupsFactsByDepartment() async throws {
        try await withTestStore { store in
            #expect(try await store.enterprise(TestUSCC.a) == nil)
            try await store.write(Make.effects(
                changes: [
                    Make.registration(TestUSCC.a, name: "长沙湘江机械有限公司"),
                    Make.payment("SK2", uscc: TestUSCC.a, amount: 500, paid: "2024-05-10"),
                    Make.payment("SK1", uscc: TestUSCC.a, amount: 1200, paid: "2024-04-10"),
                    Make.payment("SK9", uscc: TestUSCC.b, amount: 1, paid: "2024-04-10"),
                ],
                alerts: [Make.alert(subject: TestUSCC.a, window: "2024-05", asOf: "2024-05-10")]))
            let profile = try #require(try await store.enterprise(TestUSCC.a))
            #expect(profile.registration == EnterpriseRegistration(
                name: "长沙湘江机械有限公司", industryCode: "C3011", division: "C30", district: "430602", status: "存续",
                deleted: false))
            #expect(profile.facts.map(\.department) == ["市场监管局", "税务局"])
            #expect(profile.facts[1].topics.map(\.topic) == ["tax.payment"])
            #expect(profile.facts[1].topics[0].records == [
                FactEntry(key: "SK1", version: 1, eventDay: "2024-04-10", fields: [
                    "id": .string("SK1"), "uscc": .string(TestUSCC.a), "amount": .number(1200), "paid_date": .string("2024-04-10"),
                ]),
                FactEntry(key: "SK2", version: 1, eventDay: "2024-05-10", fields: [
                    "id": .string("SK2"), "uscc": .string(TestUSCC.a), "amount": .number(500), "paid_date": .string("2024-05-10"),
                ]),
            ])
            #expect(profile.alerts.map(\.id) == [1])
        }
    }

    @Test func textWithNULBytesIsStored() async throws {
        try await withTestStore { store in
            let change = Change(
                topic: "tax.payment", key: "SK\u{0}1", operation: .create, version: 1,
                fields: ["id": .string("SK\u{0}1"), "amount": .number(1), "paid_date": .date(Make.day("2024-01-01"))],
                eventDay: Make.day("2024-01-01"), entity: .enterprise(try USCC(validating: TestUSCC.a)))
            try await store.write(Make.effects(
                quarantine: [Make.quarantined(offset: 1, reason: "bad \u{0} byte")],
                changes: [LinkedChange(change: change, entity: EntityKey(.enterprise, TestUSCC.a))]))
            #expect(try await store.rows("SELECT pk, fields->>'id' FROM credit_record") == [["SK\u{FFFD}1", "SK\u{FFFD}1"]])
            #expect(try await store.rows("SELECT reason FROM quarantine") == [["bad \u{FFFD} byte"]])
        }
    }
}

extension PostgresStoreTests {
    /// An instance whose partition was claimed by another since it claimed it writes none of its
    /// batch's decisions; what it still holds, and the new owner, commit as usual.
    @Test func aCommitForAPartitionAnotherInstanceClaimedSinceIsFenced() async throws {
        try await withTestStore { store in
            let a = try await store.claim([0, 1], instance: "a")
            #expect(a == [0: 1, 1: 1])
            let b = try await store.claim([1], instance: "b")
            #expect(b == [1: 2])

            var effects = Make.effects(alerts: [Make.alert(subject: TestUSCC.a, window: "2024-05", asOf: "2024-05-10")])
            // Scores and tags commit beside the rest, only once it has.
            effects.scores = [Make.score(630, "B", asOf: "2024-05-31")]
            effects.tags = [Make.tags(["leading"], asOf: "2024-05-31")]
            let written = "SELECT (SELECT count(*) FROM enterprise_score)::text, (SELECT count(*) FROM enterprise_tag)::text"
            effects.fence = PartitionFence(instance: "a", claims: a)
            do {
                try await store.commit(effects)
                Issue.record("a fenced commit went through")
            } catch let fenced as Fenced {
                #expect(fenced.description == "partition 1 of the changes topic was claimed by instance b (epoch 2): its decisions are that instance's now")
            }
            #expect(try await store.alertStates(subjects: [TestUSCC.a]).isEmpty, "nothing of the fenced batch is written")
            #expect(try await store.rows(written) == [["0", "0"]], "nor its scores and tags")
            #expect(PostgresStore.failureKind(of: Fenced(partition: 1, claimedBy: "b", epoch: 2)) == .fenced)
            // Only scores, fenced: refused too.
            var scoresOnly = BatchEffects()
            scoresOnly.scores = effects.scores
            scoresOnly.fence = effects.fence
            await #expect(throws: Fenced.self) { try await store.commit(scoresOnly) }
            #expect(try await store.rows(written) == [["0", "0"]])

            effects.fence = PartitionFence(instance: "a", claims: [0: 1])
            try await store.commit(effects)
            #expect(try await store.alertStates(subjects: [TestUSCC.a])[TestUSCC.a]?.count == 1)
            #expect(try await store.rows(written) == [["1", "1"]])
            effects.fence = PartitionFence(instance: "b", claims: b)
            effects.alerts = []
            effects.scores = []
            effects.tags = []
            effects.deferred = [TestUSCC.b]
            try await store.commit(effects)
            // Claimed again (lost and regained): the earlier claim's epoch no longer holds.
            #expect(try await store.claim([0], instance: "a") == [0: 2])
            effects.fence = PartitionFence(instance: "a", claims: [0: 1])
            await #expect(throws: Fenced.self) { try await store.commit(effects) }
        }
    }
}

/// The relation graph as PostgreSQL keeps it: one edge per record and relation, the newest version
/// winning, a removal (a delete, a representative no longer named) hiding the edge.
@Suite("Relation edges against PostgreSQL", .enabled(if: postgresConfigured))
struct RelationEdgeStoreTests {
    static let shippedCatalog: TopicCatalog = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        let topics = url.appendingPathComponent("topics")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: topics.path)) ?? []
        let files = names.filter { $0.hasSuffix(".yaml") }.map { name in
            (path: "topics/\(name)", text: (try? String(contentsOf: topics.appendingPathComponent(name), encoding: .utf8)) ?? "")
        }
        return try! TopicCatalog.parse(files)
    }()

    static let person = "43060219800101123X"
    static let otherPerson = "430602199001011234"

    static func registration(_ uscc: String, representative: String?, version: Int64, operation: ChangeOperation = .create) -> LinkedChange {
        let fields: [String: Value] = [
            "uscc": .string(uscc), "name": .string("企业\(uscc.suffix(3))"), "legal_rep_name": .string("欧阳明"),
            "legal_rep_id": representative.map(Value.string) ?? .null, "industry_code": .string("C3011"),
            "district_code": .string("430602"), "status": .string("存续"), "established_date": .date(Make.day("2015-03-02")),
            "updated_at": .timestamp(1_590_969_600_000 + version),
        ]
        return LinkedChange(
            change: Change(
                topic: "market.enterprise", key: uscc, operation: operation, version: version, fields: fields,
                eventDay: Make.day("2015-03-02"), entity: .enterprise(try! USCC(validating: uscc))),
            entity: EntityKey(.enterprise, uscc))
    }

    static func effects(_ changes: [LinkedChange]) -> BatchEffects {
        var effects = BatchEffects()
        effects.changes = changes
        return effects
    }

    static func edges(_ store: PostgresStore, _ entities: [EntityKey]) async throws -> [String] {
        try await store.relationEdges(touching: Set(entities), relations: ["legal_representative", "shareholder"])
            .map { "\($0.subject.id) \($0.relation) \($0.target.kind.rawValue) \($0.target.id) v\($0.version) \($0.record.fields["name"].map { "\($0)" } ?? "")" }
            .sorted()
    }

    @Test func edgesFollowTheirRecordsNewestVersionFirst() async throws {
        try await withTestStore(catalog: Self.shippedCatalog) { store in
            let person = EntityKey(.person, Self.person)
            try await store.write(Self.effects([
                Self.registration(TestUSCC.a, representative: Self.person, version: 2),
                Self.registration(TestUSCC.b, representative: Self.person, version: 1),
                Self.registration(TestUSCC.c, representative: nil, version: 1),
            ]))
            #expect(try await Self.edges(store, [person]) == [
                "\(TestUSCC.a) legal_representative person \(Self.person) v2 string(\"企业\(TestUSCC.a.suffix(3))\")",
                "\(TestUSCC.b) legal_representative person \(Self.person) v1 string(\"企业\(TestUSCC.b.suffix(3))\")",
            ])
            // An older re-delivery changes nothing; a newer version moves B's representative; a
            // delete removes A's edge.
            try await store.write(Self.effects([
                Self.registration(TestUSCC.a, representative: Self.otherPerson, version: 1),
                Self.registration(TestUSCC.b, representative: Self.otherPerson, version: 3),
            ]))
            try await store.write(Self.effects([Self.registration(TestUSCC.a, representative: Self.person, version: 2, operation: .delete)]))
            #expect(try await Self.edges(store, [person]) == [])
            #expect(try await Self.edges(store, [EntityKey(.person, Self.otherPerson), EntityKey(.enterprise, TestUSCC.c)]) == [
                "\(TestUSCC.b) legal_representative person \(Self.otherPerson) v3 string(\"企业\(TestUSCC.b.suffix(3))\")"
            ])
            #expect(try await store.rows("SELECT count(*)::text FROM relation_edge") == [["3"]])
            // The neighbourhood of B from the store: B, its representative.
            let graph = try await RelationNeighbourhood.read(around: EntityKey(.enterprise, TestUSCC.b), catalog: Self.shippedCatalog, store: store)
            #expect(graph.nodes.map(\.entity.id) == [TestUSCC.b, Self.otherPerson])
            #expect(graph.nodes.map(\.name) == ["企业\(TestUSCC.b.suffix(3))", "欧阳明"])
        }
    }

    @Test func recordsStoredBeforeTheGraphGetTheirEdgesAtStart() async throws {
        try await withTestStore(catalog: Self.shippedCatalog) { store in
            // Records only (as a store written before migration 11 holds them): no edges.
            try await store.store(records: [
                Self.registration(TestUSCC.a, representative: Self.person, version: 1),
                Self.registration(TestUSCC.b, representative: nil, version: 1),
            ])
            let person = EntityKey(.person, Self.person)
            #expect(try await Self.edges(store, [person]) == [])
            // A: one edge; B: a row saying it names no representative.
            #expect(try await store.fillRelationEdges() == 2)
            #expect(try await Self.edges(store, [person]) == [
                "\(TestUSCC.a) legal_representative person \(Self.person) v1 string(\"企业\(TestUSCC.a.suffix(3))\")"
            ])
            #expect(try await store.fillRelationEdges() == 0)
        }
    }
}
