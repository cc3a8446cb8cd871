import CreditWatchCore
import Foundation
import RuleLanguage
import Testing

@testable import Simulator

/// A small city: 150 enterprises, 100 persons, the default 25-month window (2024-10 … 2026-10).
let smallConfiguration = CityConfiguration(enterprises: 150, persons: 100, seed: 7)
let smallCity = CitySimulator(configuration: smallConfiguration)
let smallMessages = smallCity.all()

@Suite struct CitySimulatorTests {
    /// Parsed once per test (Foundation's parsed JSON is not `Sendable`, so it cannot be shared).
    let smallParsed = smallMessages.compactMap(FeedValidation.parse)

    @Test func sameSeedSameBytes() {
        let again = CitySimulator(configuration: smallConfiguration).all()
        #expect(again == smallMessages)
        #expect(smallMessages.count == 18147)
        #expect(fingerprint(smallMessages) == 17_233_650_578_020_951_854)
        var other = smallConfiguration
        other.seed = 8
        #expect(fingerprint(CitySimulator(configuration: other).all()) != fingerprint(smallMessages))
    }

    @Test func allIsRegistrationsThenEveryMonth() {
        var expected = smallCity.registrations()
        for month in smallCity.months { expected.append(contentsOf: smallCity.month(month)) }
        #expect(expected == smallMessages)
        #expect(smallCity.months.count == 25)
        #expect(smallCity.months.first == Month(year: 2024, month: 10))
        #expect(smallCity.month(Month(year: 2024, month: 9)).isEmpty)
        #expect(smallCity.month(Month(year: 2026, month: 11)).isEmpty)
    }

    @Test func everyMessageMatchesTheContractOrIsDeliberatelyBad() {
        var lastByKey: [String: SimulatedMessage] = [:]
        var problems: [String] = []
        for message in smallMessages {
            let id = message.topic + "|" + String(decoding: message.key ?? [], as: UTF8.self)
            defer { if message.key != nil { lastByKey[id] = message } }
            if message.value == nil {
                // A tombstone follows the delete of the same key.
                let previous = lastByKey[id].flatMap(FeedValidation.parse)
                if previous?.op != "d" { problems.append("tombstone without delete: \(id)") }
                continue
            }
            let problem = FeedValidation.problem(message)
            switch message.defect {
            case nil:
                if let problem { problems.append("\(message.topic): \(problem)") }
            case .unlinkable:
                let row = FeedValidation.parse(SimulatedMessage(topic: message.topic, key: nil, value: message.value))!
                    .row
                if problem != nil || !(row["uscc"] is NSNull) || row["account_no"] as? String != ""
                    || row["customer_name"] as? String != ""
                {
                    problems.append("unlinkable is not well-formed: \(problem ?? "")")
                }
            case .some(let defect):
                if problem == nil { problems.append("\(defect) was accepted") }
            }
        }
        #expect(problems.isEmpty, "\(problems.prefix(10))")
    }

    @Test func everyDefectKindIsRejectedForItsReason() {
        var dirty = smallConfiguration
        dirty.badInputRate = 0.05
        let messages = CitySimulator(configuration: dirty).month(Month(year: 2025, month: 6))
        let census = FeedCensus(messages)
        #expect(Set(census.badByDefect.keys) == Set(InputDefect.allCases))
        for message in messages {
            guard let defect = message.defect, defect != .unlinkable else { continue }
            let problem = FeedValidation.problem(message) ?? "accepted"
            switch defect {
            case .notJSON: #expect(problem == "not a JSON object")
            case .wrongEnvelope: #expect(problem.hasPrefix("envelope keys"))
            case .wrongFieldType:
                #expect(
                    ["amount: bad decimal", "insured_count: not an integer", "volume_m3: bad decimal"].contains(problem)
                )
            case .missingRequiredField: #expect(problem == "missing uscc" || problem == "missing decision_date")
            case .invalidUSCC: #expect(problem.hasPrefix("uscc: USCC check character is"))
            case .impossibleBirthDate:
                #expect(problem.hasPrefix("license_no") || problem.hasPrefix("id_number: ID number birth date"))
            case .unlinkable: break
            }
        }
    }

    @Test func badInputIsCounted() {
        let census = FeedCensus(smallMessages)
        #expect(census.messages == smallMessages.count)
        #expect(census.bad == 38)
        #expect(
            census.badByDefect == [
                .notJSON: 4, .wrongEnvelope: 3, .wrongFieldType: 4, .missingRequiredField: 7, .invalidUSCC: 7,
                .impossibleBirthDate: 8, .unlinkable: 5,
            ])
        #expect(census.tombstones == 11)
        #expect(census.keyless == 176)
        let rate = Double(census.bad) / Double(census.messages)
        #expect(rate > 0.001 && rate < 0.004)
    }

    @Test func identifiersAreValidAndUnique() throws {
        let enterprises = smallCity.enterprises
        #expect(enterprises.count == 150)
        for e in enterprises {
            let uscc = try USCC(validating: e.uscc)
            #expect(uscc.value == e.uscc)
            #expect(try IndustryCode(validating: e.industryCode).value == e.industryCode)
            #expect(e.districtCode.hasPrefix("4306"))
        }
        #expect(Set(enterprises.map(\.uscc)).count == enterprises.count)
        #expect(Set(enterprises.map { EnterpriseName.normalized($0.name) }).count == enterprises.count)
        var ids = Set<String>()
        for change in smallParsed where change.topic == "market.enterprise" || change.topic == "traffic.driver" {
            if let id = change.row["legal_rep_id"] as? String ?? change.row["id_number"] as? String {
                _ = try ResidentID(validating: id)
                ids.insert(id)
            }
        }
        #expect(ids.count > 200)
    }

    @Test func waterRecordsLinkByAccountOrByName() {
        let byName = Dictionary(
            smallCity.enterprises.map { (EnterpriseName.normalized($0.name), $0.uscc) }, uniquingKeysWith: { a, _ in a }
        )
        let byAccount = Dictionary(uniqueKeysWithValues: smallCity.enterprises.map { ($0.waterAccount, $0.uscc) })
        var withUSCC = Set<String>()
        var total = 0
        var missing = 0
        var variants = 0
        for change in smallParsed where change.topic == "water.usage" && change.op == "c" {
            let row = change.row
            let account = row["account_no"] as! String
            let name = row["customer_name"] as! String
            total += 1
            if let uscc = row["uscc"] as? String {
                #expect(byAccount[account] == uscc)
                withUSCC.insert(account)
                continue
            }
            missing += 1
            if withUSCC.contains(account) { continue }
            // Never carried a USCC: the name must identify the enterprise.
            #expect(byName[EnterpriseName.normalized(name)] == byAccount[account], "\(name)")
            if byName[name] == nil && !smallCity.enterprises.contains(where: { $0.name == name }) { variants += 1 }
        }
        let share = Double(missing) / Double(total)
        #expect(share > 0.25 && share < 0.36, "\(share)")
        #expect(variants > 10)
    }

    @Test(arguments: [(0, 0, 0), (10, 0, 3), (60, 5, 0), (80, 20, 30)])
    func tinyAndShortCitiesStillWork(enterprises: Int, persons: Int, monthsBack: Int) {
        let end = Month(year: 2026, month: 10)
        let city = CitySimulator(
            configuration: CityConfiguration(
                enterprises: enterprises, persons: persons, start: end - monthsBack, end: end))
        let messages = city.all()
        #expect(city.months.count == monthsBack + 1)
        #expect(city.enterprises.count == enterprises)
        #expect(messages.allSatisfy { $0.defect != nil || FeedValidation.problem($0) == nil })
        #expect(city.plantedStories.isEmpty == (enterprises < 60))
        #expect(city.plantedStories.allSatisfy { $0.month >= end - monthsBack && $0.month <= end })
    }

    @Test func operationsCoverCreateUpdateDeleteAndSnapshot() {
        let ops = Dictionary(grouping: smallParsed, by: \.op).mapValues(\.count)
        #expect(ops["c", default: 0] > 10_000)
        #expect(ops["u", default: 0] > 100)
        #expect(ops["d", default: 0] > 3)
        #expect(ops["r", default: 0] > 10)
        #expect(Set(smallMessages.map(\.topic)) == Set(Feed.allCases.map(\.topic)))
        // At-least-once delivery: a few exact duplicates.
        var seen = Set<SimulatedMessage>()
        let duplicates = smallMessages.filter { $0.value != nil && !seen.insert($0).inserted }.count
        #expect(duplicates > 3)
    }
}
