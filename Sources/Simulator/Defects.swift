import CreditWatchCore
import RuleLanguage

/// Deliberately bad messages, each a plausible accident of a real department feed.
extension CityModel {
    /// A bad message of the given kind dated in month `m`. `serial` makes its identifiers unique
    /// (they never collide with a good row's primary key).
    func defect(_ kind: InputDefect, month m: Int, serial: Int, _ rng: inout Rng) -> SimulatedMessage {
        let mo = Month(index: m)
        let ts = officeHours(nearestWorkday(mo.firstDay + rng.int(0..<28)), &rng)
        let enterprise = enterprises.isEmpty ? nil : enterprises[rng.int(0..<enterprises.count)]
        let uscc = enterprise?.uscc ?? "91430600MA4L000008"
        let name = enterprise?.name ?? "岳阳市示例有限公司"
        let badID = String(serial)

        func payment(_ edit: (inout JSONObject) -> Void) -> SimulatedMessage {
            var b = RowBuilder(capacity: 7)
            b.add("id", .string("SK" + compact(mo - 1) + "9" + padded(serial, 7) + "01"))
            b.add("uscc", .string(uscc))
            b.add("name", .string(name))
            b.add("tax_type", "增值税")
            b.add("period", .period(mo - 1))
            b.add("amount", encoding.decimal(Double(rng.int(1_000...90_000)), .taxPayment))
            b.add("paid_date", encoding.date(nearestWorkday(mo.firstDay + 9), .taxPayment))
            var row = b.row
            edit(&row)
            return message(.taxPayment, row, ts, defect: kind)
        }

        switch kind {
        case .notJSON:
            if rng.chance(0.5) {
                var bytes: [UInt8] = [0x00, 0x9F, 0x92, 0x96, 0xFF, 0xFE]
                bytes.append(contentsOf: Array("#EXPORT 用水信息 批次\(badID)\r\n".utf8))
                for _ in 0..<rng.int(4...24) { bytes.append(UInt8(truncatingIfNeeded: rng.next())) }
                return SimulatedMessage(topic: Feed.waterUsage.topic, key: nil, value: bytes, defect: kind)
            }
            let whole = payment { _ in }
            let value = whole.value!
            return SimulatedMessage(
                topic: whole.topic, key: whole.key, value: Array(value.prefix(value.count / 2)), defect: kind)

        case .wrongEnvelope:
            // A Debezium event whose `op` was lost in an export script.
            var b = RowBuilder(capacity: 6)
            b.add("id", .string("SB" + compact(mo) + "9" + padded(serial, 7)))
            b.add("uscc", .string(uscc))
            b.add("name", .string(name))
            b.add("period", .period(mo))
            b.add("insured_count", .int(Int64(rng.int(3...80))))
            b.add("arrears_amount", .null)
            let full = Envelope.debezium(
                topic: Feed.hrssInsurance.topic, op: "c", after: b.row, tsMs: ts, sourceTsMs: ts - 800)
            let text = String(decoding: full, as: UTF8.self).replacingAll(",\"op\":\"c\"", "")
            return SimulatedMessage(
                topic: Feed.hrssInsurance.topic, key: Envelope.key(["id": b.row["id"]!]), value: Array(text.utf8),
                defect: kind)

        case .wrongFieldType:
            switch rng.int(0...2) {
            case 0:
                return payment { $0["amount"] = .bool(true) }
            case 1:
                var b = RowBuilder(capacity: 6)
                b.add("id", .string("SB" + compact(mo) + "9" + padded(serial, 7)))
                b.add("uscc", .string(uscc))
                b.add("name", .string(name))
                b.add("period", .period(mo))
                b.add("insured_count", "十二")
                b.add("arrears_amount", .null)
                return message(.hrssInsurance, b.row, ts, defect: kind)
            default:
                var b = RowBuilder(capacity: 7)
                b.add("id", .string("YS" + compact(mo) + "X" + padded(serial, 7)))
                b.add("account_no", .string(enterprise?.waterAccount ?? "073010000000"))
                b.add("customer_name", .string(name))
                b.add("uscc", .string(uscc))
                b.add("period", .period(mo))
                b.add("volume_m3", "n/a")
                b.add("amount", .number(Double(rng.int(10...5_000))))
                return message(.waterUsage, b.row, ts, defect: kind)
            }

        case .missingRequiredField:
            if rng.chance(0.5) {
                return payment { $0["uscc"] = nil }
            }
            var b = RowBuilder(capacity: 8)
            b.add("decision_no", .string("岳市监处罚〔\(mo.year)〕9\(padded(serial, 5))号"))
            b.add("uscc", .string(uscc))
            b.add("name", .string(name))
            b.add("authority", .string(Gazetteer.cityMarketAuthority))
            b.add("category", "价格违法")
            b.add("fine_amount", .number(5_000))
            b.add("severity", "一般")
            return message(.marketPenalty, b.row, ts, defect: kind)

        case .invalidUSCC:
            let last = uscc.last!
            var replacement = IdentifierMint.usccAlphabet[rng.int(0..<IdentifierMint.usccAlphabet.count)]
            while replacement == last {
                replacement = IdentifierMint.usccAlphabet[rng.int(0..<IdentifierMint.usccAlphabet.count)]
            }
            let wrong = String(uscc.dropLast()) + String(replacement)
            return payment { $0["uscc"] = .string(wrong) }

        case .impossibleBirthDate:
            let district = Gazetteer.districts[rng.int(0..<Gazetteer.districts.count)].code
            let date = ["19900231", "19870631", "20010229", "19751305", "19680400"][rng.int(0...4)]
            let body = district + date + padded(rng.int(0...999), 3)
            let id = body + String(ResidentID.checkCharacter(forFirst17: body)!)
            var b = RowBuilder(capacity: 6)
            b.add("license_no", .string(id))
            b.add("id_number", .string(id))
            b.add("name", .string(NameMint.personName(&rng, male: rng.chance(0.5))))
            b.add("license_class", "C1")
            b.add("status", "正常")
            b.add("valid_until", encoding.date(Day(year: mo.year + 6, month: mo.month, day: 1)!, .trafficDriver))
            return message(.trafficDriver, b.row, ts, defect: kind)

        case .unlinkable:
            var b = RowBuilder(capacity: 7)
            b.add("id", .string("YS" + compact(mo) + "U" + padded(serial, 7)))
            b.add("account_no", "")
            b.add("customer_name", "")
            b.add("uscc", .null)
            b.add("period", .period(mo))
            b.add("volume_m3", .number(Double(rng.int(5...400))))
            b.add("amount", .number(Double(rng.int(20...1_600))))
            return message(.waterUsage, b.row, ts, defect: kind)
        }
    }

    /// A `c` change of `row` rendered in the feed's envelope.
    func message(_ feed: Feed, _ row: JSONObject, _ ts: Int64, defect: InputDefect? = nil) -> SimulatedMessage {
        let value: [UInt8] =
            configuration.plainFeeds.contains(feed)
            ? row.jsonBytes
            : Envelope.debezium(topic: feed.topic, op: "c", after: row, tsMs: ts, sourceTsMs: CityModel.sourceTs(ts))
        let key = row[feed.primaryKey].map { Envelope.key(JSONObject(distinctKeys: [feed.primaryKey], values: [$0])) }
        return SimulatedMessage(topic: feed.topic, key: key, value: value, defect: defect)
    }

    /// The source database committed the change slightly before the connector read it.
    static func sourceTs(_ ts: Int64) -> Int64 { ts - 40 - ts % 900 }
}
