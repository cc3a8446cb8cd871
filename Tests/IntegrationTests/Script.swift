import CreditWatchCore
import RuleLanguage
import Simulator

/// Scripted department messages for a handful of enterprises, exactly as EVENTS.md writes them.
enum Script {
    /// A valid USCC from its first 17 characters.
    static func uscc(_ first17: String) -> String { first17 + String(USCC.checkCharacter(forFirst17: first17)!) }

    static func ms(_ day: Day) -> Int64 { Int64(day.value) * 86_400_000 + 8 * 3_600_000 }

    static func message(_ topic: String, key: [String: FeedValue], op: String = "c", before: [String: FeedValue]? = nil, after: [String: FeedValue]?, ts: Int64) -> SimulatedMessage {
        SimulatedMessage(
            topic: topic, key: Envelope.key(key),
            value: Envelope.debezium(topic: topic, op: op, before: before, after: after, tsMs: ts))
    }

    static func registration(
        _ uscc: String, name: String, industry: String, district: String = "430602", established: Day = Day(year: 2015, month: 3, day: 1)!,
        legalRep: String = "张伟", legalRepID: String? = nil
    ) -> SimulatedMessage {
        message("market.enterprise", key: ["uscc": .string(uscc)], after: [
            "uscc": .string(uscc), "name": .string(name), "legal_rep_name": .string(legalRep), "legal_rep_id": legalRepID.map(FeedValue.string) ?? .null,
            "industry_code": .string(industry), "registered_capital": .number(5_000_000), "established_date": .date(established),
            "status": .string("存续"), "district_code": .string(district), "address": .null,
            "updated_at": .isoTimestamp(epochMilliseconds: ms(established)),
        ], ts: ms(established))
    }

    static func taxRow(_ uscc: String, _ month: Month, amount: Double, name: String = "企业") -> [String: FeedValue] {
        ["id": .string("TP-\(uscc.suffix(6))-\(month)"), "uscc": .string(uscc), "name": .string(name), "tax_type": .string("增值税"),
         "period": .period(month), "amount": .number(amount), "paid_date": .date(month.firstDay + 14)]
    }

    static func taxPayment(_ uscc: String, _ month: Month, amount: Double) -> SimulatedMessage {
        let row = taxRow(uscc, month, amount: amount)
        return message("tax.payment", key: ["id": row["id"]!], after: row, ts: ms(month.firstDay + 15))
    }

    static func waterUsage(_ uscc: String?, account: String, customer: String, _ month: Month, volume: Double) -> SimulatedMessage {
        let id = "WU-\(account)-\(month)"
        return message("water.usage", key: ["id": .string(id)], after: [
            "id": .string(id), "account_no": .string(account), "customer_name": .string(customer),
            "uscc": uscc.map(FeedValue.string) ?? .null, "period": .period(month), "volume_m3": .number(volume),
            "amount": .number(volume * 4.5),
        ], ts: ms(month.lastDay))
    }

    static func waterArrears(_ uscc: String?, account: String, customer: String, months: Int, asOf: Day) -> SimulatedMessage {
        let id = "WA-\(account)-\(asOf)"
        return message("water.arrears", key: ["id": .string(id)], after: [
            "id": .string(id), "account_no": .string(account), "customer_name": .string(customer),
            "uscc": uscc.map(FeedValue.string) ?? .null, "amount_due": .number(Double(months) * 4000),
            "months_overdue": .int(Int64(months)), "as_of_date": .date(asOf),
        ], ts: ms(asOf))
    }

    /// A dishonest-debtor listing; with `removed`, the update that lifts it.
    static func dishonest(_ uscc: String, name: String, caseNo: String, listed: Day, amount: Double, removed: Day? = nil) -> SimulatedMessage {
        message("court.dishonest", key: ["case_no": .string(caseNo)], op: removed == nil ? "c" : "u", after: [
            "case_no": .string(caseNo), "party_type": .string("enterprise"), "uscc": .string(uscc), "id_number": .null,
            "name": .string(name), "court": .string("邵阳市中级人民法院"), "listed_date": .date(listed),
            "amount": .number(amount), "removed_date": removed.map(FeedValue.date) ?? .null,
        ], ts: ms(removed ?? listed))
    }

    /// A person's dishonest-debtor listing (by ID number); with `removed`, the update that lifts it.
    static func personDishonest(_ id: String, name: String, caseNo: String, listed: Day, removed: Day? = nil) -> SimulatedMessage {
        message("court.dishonest", key: ["case_no": .string(caseNo)], op: removed == nil ? "c" : "u", after: [
            "case_no": .string(caseNo), "party_type": .string("person"), "uscc": .null, "id_number": .string(id),
            "name": .string(name), "court": .string("邵阳市中级人民法院"), "listed_date": .date(listed),
            "amount": .number(300_000), "removed_date": removed.map(FeedValue.date) ?? .null,
        ], ts: ms(removed ?? listed))
    }

    /// A shareholder of `uscc` (market.shareholder): a person by ID number or an enterprise by USCC.
    static func shareholder(_ id: String, of uscc: String, holder: String, name: String, ratio: Double, day: Day, op: String = "c") -> SimulatedMessage {
        let person = holder.count == 18 && holder.first!.isNumber && (try? ResidentID(validating: holder)) != nil
        let row: [String: FeedValue] = [
            "id": .string(id), "uscc": .string(uscc), "enterprise_name": .string("企业"), "shareholder_type": .string(person ? "person" : "enterprise"),
            "shareholder_uscc": person ? .null : .string(holder), "shareholder_id": person ? .string(holder) : .null,
            "shareholder_name": .string(name), "subscribed_capital": .number(1_000_000), "paid_in_capital": .number(ratio * 1_000_000),
            "share_ratio": .number(ratio), "changed_date": .date(day), "updated_at": .isoTimestamp(epochMilliseconds: ms(day)),
        ]
        return message("market.shareholder", key: ["id": .string(id)], op: op, before: op == "d" ? row : nil, after: op == "d" ? nil : row, ts: ms(day))
    }

    /// A court's freeze of the equity a person holds (court.equity_freeze); with `lifted`, its end.
    static func equityFreeze(_ no: String, holder: String, name: String, in uscc: String, frozen: Day, lifted: Day? = nil) -> SimulatedMessage {
        message("court.equity_freeze", key: ["freeze_no": .string(no)], op: lifted == nil ? "c" : "u", after: [
            "freeze_no": .string(no), "party_type": .string("person"), "uscc": .null, "id_number": .string(holder), "name": .string(name),
            "target_uscc": .string(uscc), "target_name": .string("企业"), "court": .string("邵阳市北塔区人民法院"),
            "frozen_amount": .number(350_000), "frozen_date": .date(frozen), "unfrozen_date": lifted.map(FeedValue.date) ?? .null,
        ], ts: ms(lifted ?? frozen))
    }

    /// The months of the scripted history.
    static let months: [Month] = (0..<18).map { Month(year: 2025, month: 1) + $0 }
}
