import RuleLanguage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A tax payment of one enterprise: its row and amount.
struct Payment {
    let ts: Int64
    let amount: Double
    let row: JSONObject
}

/// The monthly feeds (tax payments, water usage, insurance enrolment, water arrears) as pure
/// functions of the enterprise and the month, so any month can be generated on its own.
extension CityModel {
    static let waterSeason: [Double] = [0.90, 0.85, 0.90, 0.95, 1.05, 1.15, 1.25, 1.25, 1.10, 1.00, 0.90, 0.90]

    /// Cheap symmetric noise: 1 ± spread (a sum of three uniforms, roughly bell-shaped).
    static func noise(_ rng: inout Rng, _ spread: Double) -> Double {
        1 + spread * (rng.unit() + rng.unit() + rng.unit() - 1.5) / 1.5
    }

    /// Revenue of a month (seasonality, the enterprise's trend, noise), before any story effect.
    func revenue(_ e: Enterprise, _ period: Int) -> Double {
        var rng = Rng(configuration.seed, .monthly, e.index, period, 1)
        let season = e.profile.season[Month(index: period).month - 1]
        let trend = pow(1 + e.growth, Double(period - startIndex) / 12)
        return e.revenue * season * trend * CityModel.noise(&rng, 0.12)
    }

    func insuredCount(_ e: Enterprise, _ period: Int) -> Int {
        var rng = Rng(configuration.seed, .monthly, e.index, period, 2)
        let trend = pow(1 + e.growth, Double(period - startIndex) / 24)
        let count = Double(e.employees) * e.coverage * trend * e.factors(period).insured * CityModel.noise(&rng, 0.03)
        return max(1, Int(count.rounded()))
    }

    /// Cubic metres of water used in a month (0 when inactive).
    func waterVolume(_ e: Enterprise, _ period: Int) -> Double {
        guard e.isActive(period) else { return 0 }
        var rng = Rng(configuration.seed, .monthly, e.index, period, 3)
        let production = revenue(e, period) / e.revenue
        let volume =
            e.waterBase * (0.3 + 0.7 * production) * CityModel.waterSeason[Month(index: period).month - 1]
            * e.factors(period).water * CityModel.noise(&rng, 0.08)
        return max(1, volume.rounded())
    }

    func waterBill(_ e: Enterprise, _ period: Int) -> Double {
        (waterVolume(e, period) * e.waterPrice * 100).rounded() / 100
    }

    static let taxCodes: [String: String] = ["增值税": "01", "企业所得税": "04", "个人所得税": "06", "城市维护建设税": "09"]

    /// The tax payments an enterprise makes in month `m`: monthly taxes of the previous month,
    /// and quarterly ones when the previous month closed a quarter.
    func taxPayments(_ e: Enterprise, paidIn m: Int) -> [Payment] {
        let period = m - 1
        guard e.paysTax(period) else { return [] }
        var rng = Rng(configuration.seed, .monthly, e.index, m, 4)
        let enc = encoding
        let paid = nearestWorkday(Month(index: m).firstDay + max(0, min(14, e.payDay + rng.int(-2...2)) - 1))
        var payments: [Payment] = []
        func pay(_ type: String, _ p: Int, _ amount: Double) {
            let cents = (amount * 100).rounded() / 100
            guard cents >= 1 else { return }
            let ts = officeHours(paid, &rng)
            var b = RowBuilder(capacity: 7)
            b.add("id", .string("SK" + compact(Month(index: p)) + padded(e.index, 6) + CityModel.taxCodes[type]!))
            b.add("uscc", .string(e.uscc))
            b.add("name", .string(e.name))
            b.add("tax_type", .string(type))
            b.add("period", .period(Month(index: p)))
            b.add("amount", enc.decimal(cents, .taxPayment))
            b.add("paid_date", enc.date(paid, .taxPayment))
            payments.append(Payment(ts: ts, amount: cents, row: b.row))
        }
        let profile = e.profile
        let factor = e.factors(period).tax
        let cityRate = e.urban ? 0.07 : 0.05
        if e.generalTaxpayer && profile.vatRate > 0 {
            let vat = revenue(e, period) * profile.vatRate * factor * CityModel.noise(&rng, 0.15)
            pay("增值税", period, vat)
            pay("城市维护建设税", period, vat * cityRate)
        }
        if e.employees >= 5 {
            pay(
                "个人所得税", period,
                Double(insuredCount(e, period)) * e.iitPerHead * (0.5 + 0.5 * factor) * CityModel.noise(&rng, 0.1))
        }
        if Month(index: period).month % 3 == 0 {
            var quarter = 0.0
            for p in (period - 2)...period where e.paysTax(p) {
                quarter += revenue(e, p) * e.factors(p).tax
            }
            if !e.generalTaxpayer && profile.vatRate > 0 && quarter > 300_000 {
                let vat = quarter * 0.01 * CityModel.noise(&rng, 0.05)
                pay("增值税", period, vat)
                pay("城市维护建设税", period, vat * cityRate)
            }
            if e.citRate > 0 {
                pay("企业所得税", period, quarter * e.margin * e.citRate * CityModel.noise(&rng, 0.2))
            }
        }
        return payments
    }

    /// The `uscc` field of a water record: present on the account's first record, missing (null
    /// or absent) on some later ones, never for accounts the water company knows by name only.
    func waterUSCC(_ e: Enterprise, _ period: Int, _ rng: inout Rng) -> FeedValue? {
        if e.waterNameOnly { return rng.chance(0.5) ? nil : .null }
        if period <= max(e.firstPeriod, startIndex) { return .string(e.uscc) }
        if rng.chance(configuration.waterMissingUSCCRate) { return rng.chance(0.3) ? nil : .null }
        return .string(e.uscc)
    }

    func waterUsage(_ e: Enterprise, _ period: Int) -> Change? {
        guard e.isActive(period) else { return nil }
        var rng = Rng(configuration.seed, .monthly, e.index, period, 5)
        let enc = encoding
        let volume = waterVolume(e, period)
        var b = RowBuilder(capacity: 7)
        b.add("id", .string("YS" + compact(Month(index: period)) + e.waterAccount))
        b.add("account_no", .string(e.waterAccount))
        b.add("customer_name", .string(e.waterCustomerName))
        if let uscc = waterUSCC(e, period, &rng) { b.add("uscc", uscc) }
        b.add("period", .period(Month(index: period)))
        b.add("volume_m3", enc.decimal(volume, .waterUsage))
        b.add("amount", enc.decimal((volume * e.waterPrice * 100).rounded() / 100, .waterUsage))
        let ts = officeHours(Month(index: period).lastDay - rng.int(0...4), &rng)
        return Change(ts: ts, feed: .waterUsage, op: .create, before: nil, after: b.row)
    }

    func insurance(_ e: Enterprise, _ period: Int) -> Change? {
        guard e.isActive(period) else { return nil }
        var rng = Rng(configuration.seed, .monthly, e.index, period, 6)
        let insured = insuredCount(e, period)
        var arrears: Double? = nil
        if let episode = e.insuranceArrears.first(where: { $0.contains(period) }) {
            arrears = Double(insured) * 1_150 * Double(period - episode.lowerBound + 1)
        }
        var b = RowBuilder(capacity: 6)
        b.add("id", .string("SB" + compact(Month(index: period)) + padded(e.index, 6)))
        b.add("uscc", .string(e.uscc))
        b.add("name", .string(e.name))
        b.add("period", .period(Month(index: period)))
        b.add("insured_count", .int(Int64(insured)))
        b.add("arrears_amount", encoding.optionalDecimal(arrears, .hrssInsurance))
        let ts = officeHours(nearestWorkday(Month(index: period).firstDay + rng.int(14...24)), &rng)
        return Change(ts: ts, feed: .hrssInsurance, op: .create, before: nil, after: b.row)
    }

    /// The account's arrears row in month `m` of an arrears episode: unpaid bills of the months
    /// before, as of the 20th.
    func waterArrearsRow(_ e: Enterprise, episode: ClosedRange<Int>, month m: Int) -> JSONObject {
        var rng = Rng(configuration.seed, .monthly, e.index, episode.lowerBound, 8)
        let enc = encoding
        let overdue = m - episode.lowerBound + 1
        var due = 0.0
        for p in (episode.lowerBound - 1)..<m { due += waterBill(e, p) }
        var b = RowBuilder(capacity: 7)
        b.add("id", .string("QF" + compact(Month(index: episode.lowerBound)) + e.waterAccount))
        b.add("account_no", .string(e.waterAccount))
        b.add("customer_name", .string(e.waterCustomerName))
        b.add("uscc", e.waterNameOnly ? .null : rng.chance(0.5) ? .string(e.uscc) : .null)
        b.add("amount_due", enc.decimal((due * 100).rounded() / 100, .waterArrears))
        b.add("months_overdue", .int(Int64(overdue)))
        b.add("as_of_date", enc.date(Month(index: m).firstDay + 19, .waterArrears))
        return b.row
    }

    /// Arrears rows change monthly: created, updated while unpaid, deleted once paid.
    func waterArrears(_ e: Enterprise, month m: Int) -> [Change] {
        var changes: [Change] = []
        for episode in e.waterArrears where m <= e.lastPeriod {
            var rng = Rng(configuration.seed, .monthly, e.index, m, 9)
            let ts = officeHours(Month(index: m).firstDay + 19, &rng)
            if episode.contains(m) {
                let row = waterArrearsRow(e, episode: episode, month: m)
                if m == episode.lowerBound {
                    changes.append(Change(ts: ts, feed: .waterArrears, op: .create, before: nil, after: row))
                } else {
                    let before = waterArrearsRow(e, episode: episode, month: m - 1)
                    changes.append(Change(ts: ts, feed: .waterArrears, op: .update, before: before, after: row))
                }
            } else if m == episode.upperBound + 1 {
                let before = waterArrearsRow(e, episode: episode, month: episode.upperBound)
                changes.append(
                    Change(ts: ts - 3_600_000 * 8, feed: .waterArrears, op: .delete, before: before, after: nil))
            }
        }
        return changes
    }

    /// Every monthly-feed change of month `m`.
    func monthlyChanges(_ m: Int) -> [Change] {
        var changes: [Change] = []
        changes.reserveCapacity(enterprises.count * 5)
        for e in enterprises {
            guard e.firstPeriod <= m else { continue }
            for payment in taxPayments(e, paidIn: m) {
                changes.append(Change(ts: payment.ts, feed: .taxPayment, op: .create, before: nil, after: payment.row))
            }
            if let water = waterUsage(e, m) { changes.append(water) }
            if let insured = insurance(e, m) { changes.append(insured) }
            if !e.waterArrears.isEmpty { changes.append(contentsOf: waterArrears(e, month: m)) }
        }
        return changes
    }
}
