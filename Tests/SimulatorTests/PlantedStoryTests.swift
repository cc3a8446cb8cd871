import Foundation
import RuleLanguage
import Testing

@testable import Simulator

/// The planted stories are in the data, at the months they claim, and the rest of the city is
/// mostly healthy.
@Suite struct PlantedStoryTests {
    let end = smallConfiguration.end.index
    let smallParsed = smallMessages.compactMap(FeedValidation.parse)

    /// Tax paid per (USCC, period), after corrections and cancellations.
    static let taxByPeriod: [String: [Int: Double]] = {
        var rows: [String: [String: Any]] = [:]
        for change in smallMessages.compactMap(FeedValidation.parse) where change.topic == "tax.payment" {
            let id = change.row["id"] as! String
            if change.op == "d" { rows[id] = nil } else { rows[id] = change.after }
        }
        var result: [String: [Int: Double]] = [:]
        for row in rows.values {
            let period = Month(iso: row["period"] as! String)!.index
            result[row["uscc"] as! String, default: [:]][period, default: 0] += FeedValidation.decimal(row["amount"])
        }
        return result
    }()

    /// Water volume per (account, period).
    static let waterByPeriod: [String: [Int: Double]] = {
        var result: [String: [Int: Double]] = [:]
        for change in smallMessages.compactMap(FeedValidation.parse)
        where change.topic == "water.usage" && change.op == "c" {
            let row = change.row
            result[row["account_no"] as! String, default: [:]][Month(iso: row["period"] as! String)!.index] =
                FeedValidation.decimal(row["volume_m3"])
        }
        return result
    }()

    func tax(_ uscc: String, _ periods: ClosedRange<Int>) -> Double {
        periods.reduce(0) { $0 + (Self.taxByPeriod[uscc]?[$1] ?? 0) }
    }

    func stories(_ kind: PlantedStory.Kind) -> [PlantedStory] { smallCity.plantedStories.filter { $0.kind == kind } }

    func rows(_ topic: String, op: String? = nil, where match: ([String: Any]) -> Bool) -> [FeedValidation.Parsed] {
        smallParsed.filter { $0.topic == topic && (op == nil || $0.op == op) && match($0.row) }
    }

    @Test func storiesArePlantedAtTheirMonths() {
        let summary = smallCity.plantedStories.map { "\($0.kind.rawValue) \($0.month)" }
        #expect(
            summary == [
                "production_collapse 2026-02", "production_collapse 2026-04", "production_collapse 2026-05",
                "production_collapse 2026-06", "production_collapse 2026-07", "production_collapse 2026-08",
                "production_collapse 2026-09", "industry_wave 2026-05", "industry_wave 2026-07",
                "industry_wave 2026-08",
                "industry_wave 2026-08", "industry_wave 2026-09", "legal_representative_churn 2025-11",
                "legal_representative_churn 2026-03", "legal_representative_churn 2026-07",
                "legal_representative_churn 2026-08", "serious_penalty 2026-06", "property_seizure 2026-06",
                "property_seizure 2026-07",
            ])
        let collapse = stories(.productionCollapse)[0]
        #expect(collapse.industryCode == "C3311")
        #expect(stories(.propertySeizure)[0].industryCode == "K7010")
        #expect(stories(.seriousPenalty)[0].industryCode.hasPrefix("C14"))
    }

    @Test func productionCollapse() throws {
        let story = stories(.productionCollapse)
        let uscc = story[0].uscc
        let c = story[0].month.index
        let account = try #require(smallCity.enterprises.first { $0.uscc == uscc }).waterAccount
        let water = try #require(Self.waterByPeriod[account])
        let trailing = ((c - 6)...(c - 1)).reduce(0) { $0 + water[$1]! } / 6
        #expect(water[c]! < 0.2 * trailing, "\(water[c]!) vs \(trailing)")
        let recent = tax(uscc, c...(c + 2))
        let yearBefore = tax(uscc, (c - 12)...(c - 10))
        #expect(recent < 0.5 * yearBefore, "\(recent) vs \(yearBefore)")

        let arrears = rows("water.arrears") { $0["account_no"] as? String == account }
        let overdue3 = arrears.filter { ($0.row["months_overdue"] as! NSNumber).intValue == 3 }
        #expect(overdue3.count == 1)
        #expect(FeedValidation.day(overdue3.first?.row["as_of_date"]).month.index == c + 3)

        let enforcement = rows("court.enforcement", op: "c") { $0["uscc"] as? String == uscc }
        #expect(enforcement.count == 1)
        #expect(FeedValidation.day(enforcement.first?.row["filed_date"]).month.index == c + 5)
        let dishonest = rows("court.dishonest", op: "c") { $0["uscc"] as? String == uscc }
        #expect(dishonest.count == 1)
        #expect(FeedValidation.day(dishonest.first?.row["listed_date"]).month.index == c + 7)
        #expect(dishonest.first?.row["case_no"] as? String == enforcement.first?.row["case_no"] as? String)
        let status = rows("tax.taxpayer", op: "u") {
            $0["uscc"] as? String == uscc && $0["taxpayer_status"] as? String == "非正常"
        }
        #expect(status.count == 1)
    }

    @Test func industryWave() throws {
        let summary = stories(.industryWave)[0]
        let w = summary.month.index
        #expect(w == end - 5)
        let members = smallCity.enterprises.filter { $0.industryCode.hasPrefix("C17") }
        #expect(members.count >= 30)
        #expect(Double(summary.affected.count) >= 0.6 * Double(members.count))
        // Last three complete tax periods against the same months a year earlier.
        var drops: [Double] = []
        for uscc in summary.affected {
            let before = tax(uscc, (end - 15)...(end - 13))
            guard before > 0 else { continue }
            drops.append(1 - tax(uscc, (end - 3)...(end - 1)) / before)
        }
        drops.sort()
        let median = drops[drops.count / 2]
        #expect(median > 0.4 && median < 0.6, "\(median)")
        #expect(drops.filter { $0 > 0.3 }.count >= drops.count * 9 / 10, "\(drops)")
        let falling = members.filter { m in
            let before = tax(m.uscc, (end - 15)...(end - 13))
            return before > 0 && tax(m.uscc, (end - 3)...(end - 1)) < 0.65 * before
        }
        #expect(Double(falling.count) >= 0.6 * Double(members.count), "\(falling.count) of \(members.count)")

        let inArrears = stories(.industryWave)[1].affected
        #expect(inArrears.count >= 3)
        for uscc in inArrears {
            let arrears = rows("hrss.insurance") { $0["uscc"] as? String == uscc && !($0["arrears_amount"] is NSNull) }
            #expect(arrears.map { Month(iso: $0.row["period"] as! String)!.index }.min() == w + 2)
        }
        let listed = stories(.industryWave).dropFirst(2).map(\.uscc)
        #expect(listed.count == 3)
        for uscc in listed {
            #expect(rows("market.abnormal", op: "c") { $0["uscc"] as? String == uscc }.count >= 1)
        }
    }

    @Test func legalRepresentativeChurn() {
        let uscc = stories(.legalRepresentativeChurn)[0].uscc
        let changes = smallParsed.filter {
            $0.topic == "market.enterprise" && $0.op == "u" && $0.row["uscc"] as? String == uscc
                && $0.before?["legal_rep_name"] as? String != $0.after?["legal_rep_name"] as? String
        }
        let months = changes.map { dayOf($0.tsMs).month.index }
        #expect(months == [end - 11, end - 7, end - 3])
        let listing = rows("market.abnormal", op: "c") { $0["uscc"] as? String == uscc }
        #expect(listing.map { FeedValidation.day($0.row["listed_date"]).month.index } == [end - 2])
    }

    @Test func seriousPenaltyAndPropertySeizure() {
        let penalized = stories(.seriousPenalty)[0].uscc
        let penalty = rows("market.penalty", op: "c") {
            $0["uscc"] as? String == penalized && $0["severity"] as? String == "严重"
        }
        #expect(penalty.count == 1)
        #expect(FeedValidation.decimal(penalty.first?.row["fine_amount"]) == 1_250_000)
        #expect(FeedValidation.day(penalty.first?.row["decision_date"]).month.index == end - 4)

        let owner = stories(.propertySeizure)[0].uscc
        let seizures = rows("realestate.rights", op: "u") { $0["owner_id"] as? String == owner }
        #expect(seizures.count == 1)
        #expect((seizures.first?.after?["seized"] as? NSNumber)?.intValue == 1)
        #expect((seizures.first?.before?["seized"] as? NSNumber)?.intValue == 0)
        #expect(dayOf(seizures.first!.tsMs).month.index == end - 3)
        let enforcement = rows("court.enforcement", op: "c") { $0["uscc"] as? String == owner }
        #expect(enforcement.map { FeedValidation.decimal($0.row["amount"]) } == [18_600_000])
    }

    @Test func theRestOfTheCityIsMostlyHealthy() {
        let planted = Set(smallCity.plantedStories.flatMap(\.affected) + smallCity.plantedStories.map(\.uscc))
        var compared = 0
        var collapsed = 0
        for e in smallCity.enterprises where !planted.contains(e.uscc) {
            let before = tax(e.uscc, (end - 15)...(end - 13))
            guard before > 10_000 else { continue }
            compared += 1
            if tax(e.uscc, (end - 3)...(end - 1)) < 0.5 * before { collapsed += 1 }
        }
        #expect(compared > 40)
        #expect(Double(collapsed) < 0.08 * Double(compared), "\(collapsed) of \(compared)")
        let serious = rows("market.penalty", op: "c") { $0["severity"] as? String == "严重" }
        #expect(serious.count <= 2)
        let dishonest = rows("court.dishonest", op: "c") { $0["party_type"] as? String == "enterprise" }
        #expect(dishonest.count <= 4)
    }
}
