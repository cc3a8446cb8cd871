import CreditWatchCore
import Foundation
import RuleLanguage
import Testing

/// The repository's rule set (`rules/*.cwr`) compiled against the shipped catalog, and its case
/// files (`rules/tests/*.yaml`), read once for all tests.
enum ShippedRules {
    static let rulesDirectory = Shipped.topicsDirectory.deletingLastPathComponent().appending(path: "rules")

    static func files(in directory: URL, extension suffix: String, prefix: String) -> [(path: String, text: String)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(suffix) }.sorted().map { name in
            (
                path: prefix + name,
                text: (try? String(contentsOf: directory.appending(path: name), encoding: .utf8)) ?? ""
            )
        }
    }

    static let program: RuleProgram = {
        let sources = files(in: rulesDirectory, extension: ".cwr", prefix: "rules/").map {
            SourceFile(path: $0.path, text: $0.text)
        }
        switch RuleCompiler.compile(sources, schema: Shipped.catalog.schema) {
        case .success(let program): return program
        case .failure(let diagnostics): fatalError("shipped rules do not compile:\n\(diagnostics)")
        }
    }()

    static let cases = files(in: rulesDirectory.appending(path: "tests"), extension: ".yaml", prefix: "rules/tests/")

    static let tester = RuleTester(program: program, catalog: Shipped.catalog)
}

@Suite struct ShippedRuleCaseTests {
    @Test func everyCaseFilePasses() {
        let report = ShippedRules.tester.run(ShippedRules.cases)
        #expect(report.lines == [report.summary], "\(report.lines.joined(separator: "\n"))")
        #expect(report.passed)
    }

    /// Every shipped rule (enterprise and industry) has a case where it fires and one where it
    /// stays silent.
    @Test func everyRuleIsCoveredBothWays() throws {
        var fired: Set<String> = []
        var silent: Set<String> = []
        for file in ShippedRules.cases {
            let read = try ShippedRules.tester.read(path: file.path, text: file.text)
            for step in read.cases.flatMap(\.steps) {
                fired.formUnion(step.expectation.fires.map(\.value) + (step.expectation.alerts?.value ?? []))
                silent.formUnion(step.expectation.silent.map(\.value))
            }
            for industryCase in read.industryCases {
                fired.formUnion(industryCase.fires.map(\.value))
                silent.formUnion(industryCase.silent.map(\.value))
            }
        }
        // Case files are about enterprises (and the records of entities related to them): person
        // rules are covered by `thePersonRuleFiresForAListedPersonOnly`.
        let rules = Set(ShippedRules.program.rules.filter { $0.kind != .person }.map(\.name))
        #expect(ShippedRules.program.rules.count { $0.kind == .enterprise } == 22)
        #expect(ShippedRules.program.rules.count { $0.kind == .industry } == 5)
        #expect(ShippedRules.program.rules.filter { $0.kind == .person }.map(\.name) == ["person_dishonest"])
        #expect(rules.subtracting(fired).sorted() == [])
        #expect(rules.subtracting(silent).sorted() == [])
        #expect(ShippedRules.program.scorecards.count == 1)
    }

    @Test func thePersonRuleFiresForAListedPersonOnly() throws {
        let listing = FactRecord(
            topic: "court.dishonest", key: "(2026)湘05执9号", eventDay: Day(year: 2026, month: 3, day: 1)!,
            fields: ["party_type": .string("person"), "id_number": .string("430602198001011230"), "name": .string("李建国"),
                     "listed_date": .date(Day(year: 2026, month: 3, day: 1)!), "removed_date": .null])
        let asOf = Day(year: 2026, month: 3, day: 31)!
        func fired(_ kind: SubjectKind, removed: Day? = nil) -> [String] {
            var fields = listing.fields
            fields["removed_date"] = removed.map(Value.date) ?? .null
            let record = FactRecord(topic: listing.topic, key: listing.key, eventDay: listing.eventDay, fields: fields)
            let data = EntityData(entity: "430602198001011230", kind: kind, asOf: asOf, records: ["court.dishonest": [record]])
            return ShippedRules.program.evaluate(data).firings.map { "\($0.rule): \($0.explanation)" }
        }
        #expect(fired(.person) == ["person_dishonest: 被列为失信被执行人 1 起（未移出），最早列入日期 2026-03-01"])
        #expect(fired(.person, removed: Day(year: 2026, month: 3, day: 20)!) == [])
        // The same records evaluated as an enterprise's raise the enterprise rule, not the person rule.
        #expect(fired(.enterprise).map { $0.prefix(16) } == ["dishonest_debtor"])
    }
}
